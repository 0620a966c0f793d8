//! Templates bound to data: each construct, each filter, each error path, and the
//! property that a template renders exactly like the document it expands to.

use std::sync::OnceLock;

use ode_core::Limits;
use ode_core::frame::PagedDocument;
use ode_core::template::Template;
use ode_core::text::FontBook;
use serde_json::{Value, json};

fn fonts() -> &'static FontBook {
    static BOOK: OnceLock<FontBook> = OnceLock::new();
    BOOK.get_or_init(FontBook::with_defaults)
}

fn template(t: Value) -> Template {
    match Template::new(t) {
        Ok(t) => t,
        Err(d) => panic!("template errors:\n{d}"),
    }
}

fn expand(t: Value, data: Value) -> Value {
    match template(t).expand(&data) {
        Ok(v) => v,
        Err(d) => panic!("expansion errors:\n{d}"),
    }
}

/// The errors of expanding, one line each.
fn errors(t: Value, data: Value) -> String {
    let t = match Template::new(t) {
        Ok(t) => t,
        Err(d) => return d.to_string(),
    };
    match t.document(&data) {
        Ok(_) => panic!("expected errors"),
        Err(d) => d.to_string(),
    }
}

fn doc(content: Value) -> Value {
    json!({"ode": 1, "content": content})
}

/// One paragraph's text, through a template.
fn text_of(expr: &str, data: Value) -> String {
    let out = expand(doc(json!([{"type": "paragraph", "text": expr}])), data);
    out["content"][0]["text"].as_str().unwrap().to_string()
}

fn render(doc: &ode_core::model::Document) -> PagedDocument {
    ode_core::layout::layout(doc, fonts(), &Default::default())
        .unwrap()
        .output
}

#[test]
fn strings_interpolate_data_and_keep_plain_text_as_it_is() {
    assert_eq!(
        text_of(
            "Dear {{ customer.name }},",
            json!({"customer": {"name": "Ada"}})
        ),
        "Dear Ada,"
    );
    assert_eq!(
        text_of("Total: {{ a + b }}", json!({"a": 2, "b": 3})),
        "Total: 5"
    );
    assert_eq!(text_of("No markup\n", json!({})), "No markup\n");
    assert_eq!(
        text_of("{{ data | length }} keys", json!({"x": 1, "y": 2})),
        "2 keys"
    );
    assert_eq!(
        text_of(
            "{% if vip %}Gold{% else %}Standard{% endif %}",
            json!({"vip": true})
        ),
        "Gold"
    );
    // No HTML escaping: documents are not HTML.
    assert_eq!(text_of("{{ s }}", json!({"s": "<b>&</b>"})), "<b>&</b>");
}

#[test]
fn each_splices_rows_and_exposes_the_loop() {
    let t = doc(json!([{
        "type": "table", "columns": ["1fr", "auto"],
        "rows": [
            ["Item", "Price"],
            {"$each": "items", "as": "it", "do": [["{{ loop.index }}. {{ it.name }}", "{{ it.price }}"]]},
            {"$each": "items", "do": [["{{ item.name }}{% if not loop.last %},{% endif %}", "{{ loop.length }}"]]}
        ]
    }]));
    let out = expand(
        t,
        json!({"items": [{"name": "Pen", "price": 2}, {"name": "Ink", "price": 5}]}),
    );
    assert_eq!(
        out["content"][0]["rows"],
        json!([
            ["Item", "Price"],
            ["1. Pen", "2"],
            ["2. Ink", "5"],
            ["Pen,", "2"],
            ["Ink", "2"]
        ])
    );
}

#[test]
fn each_in_a_value_position_gives_an_array_and_else_covers_empty_data() {
    let t = doc(json!([
        {"type": "list", "items": {"$each": "tags", "do": "{{ item | upper }}"}},
        {"$each": "notes", "do": {"type": "paragraph", "text": "{{ item }}"},
         "else": [{"type": "paragraph", "text": "No notes."}]}
    ]));
    let out = expand(t, json!({"tags": ["a", "b"], "notes": []}));
    assert_eq!(out["content"][0]["items"], json!(["A", "B"]));
    assert_eq!(
        out["content"][1],
        json!({"type": "paragraph", "text": "No notes."})
    );
    assert_eq!(out["content"].as_array().unwrap().len(), 2);
}

#[test]
fn nested_loops_see_outer_variables() {
    let t = doc(json!([{"$each": "groups", "as": "g", "do": [
        {"type": "heading", "level": 2, "text": "{{ g.name }}"},
        {"$each": "g.members", "as": "m", "do": {"type": "paragraph", "text": "{{ g.name }}/{{ m }} of {{ company }}"}}
    ]}]));
    let out = expand(
        t,
        json!({"company": "ACME", "groups": [{"name": "A", "members": ["x", "y"]}, {"name": "B", "members": []}]}),
    );
    let texts: Vec<&str> = out["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["A", "A/x of ACME", "A/y of ACME", "B"]);
}

#[test]
fn if_picks_a_branch_in_arrays_and_in_fields() {
    let t = doc(json!([
        {"$if": "paid", "then": {"type": "paragraph", "text": "Paid, thank you."},
         "else": [{"type": "paragraph", "text": "Due."}, {"type": "paragraph", "text": "Pay now."}]},
        {"$if": "false", "then": {"type": "rule"}},
        {"type": "paragraph", "text": "x", "bold": {"$if": "paid", "then": true, "else": false}},
        {"type": "paragraph", "text": "y", "color": {"$if": "paid", "then": "#008000"}}
    ]));
    let unpaid = expand(t.clone(), json!({"paid": false}));
    assert_eq!(unpaid["content"].as_array().unwrap().len(), 4);
    assert_eq!(unpaid["content"][1]["text"], "Pay now.");
    assert_eq!(unpaid["content"][2]["bold"], false);
    assert!(
        unpaid["content"][3].get("color").is_none(),
        "a false $if without else removes the field"
    );
    let paid = expand(t, json!({"paid": true}));
    assert_eq!(paid["content"][0]["text"], "Paid, thank you.");
    assert_eq!(paid["content"][2]["color"], "#008000");
}

#[test]
fn partials_are_included_with_their_own_variables() {
    let t = json!({
        "ode": 1,
        "template": {"partials": {
            "address": [
                {"type": "paragraph", "text": "{{ who.name }}"},
                {"type": "paragraph", "text": "{{ who.city }}"}
            ],
            "letterhead": {"type": "paragraph", "align": "right", "text": "{{ company }}"}
        }},
        "content": [
            {"$include": "letterhead"},
            {"$include": "address", "with": {"who": {"$eval": "sender"}}},
            {"$include": "address", "with": {"who": {"$eval": "recipient"}}}
        ]
    });
    let out = expand(
        t,
        json!({
            "company": "ACME", "sender": {"name": "S", "city": "Berlin"}, "recipient": {"name": "R", "city": "Lyon"}
        }),
    );
    let texts: Vec<&str> = out["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["ACME", "S", "Berlin", "R", "Lyon"]);
    assert!(
        out.get("template").is_none(),
        "template options are not part of the document"
    );
}

#[test]
fn let_binds_variables_for_a_subtree() {
    let t = doc(json!([{"$let": {
            "subtotal": {"$eval": "items | sum(attribute='amount')"},
            "total": {"$eval": "subtotal * (1 + rate)"},
            "label": "Total ({{ rate | percent }})"
        }, "do": [
            {"type": "paragraph", "text": "{{ subtotal | number(2) }}"},
            {"type": "paragraph", "text": "{{ label }}: {{ total | number(2) }}"}
        ]},
        {"type": "paragraph", "text": "{{ subtotal is defined }}"}
    ]));
    let out = expand(
        t,
        json!({"rate": 0.2, "items": [{"amount": 10}, {"amount": 5.5}]}),
    );
    let texts: Vec<&str> = out["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["15.50", "Total (20%): 18.60", "False"]);
}

#[test]
fn eval_keeps_json_types() {
    let t = doc(
        json!([{"type": "table", "columns": {"$eval": "widths"}, "rows": {"$eval": "rows"}},
                       {"type": "spacer", "height": {"$eval": "gap * 2"}}]),
    );
    let out = expand(
        t,
        json!({"widths": ["1fr", "2fr"], "rows": [["a", "b"]], "gap": 6}),
    );
    assert_eq!(out["content"][0]["columns"], json!(["1fr", "2fr"]));
    assert_eq!(out["content"][0]["rows"], json!([["a", "b"]]));
    assert_eq!(out["content"][1]["height"], json!(12));
}

#[test]
fn filters_format_numbers_money_percentages_and_dates_by_locale() {
    let d = json!({"n": 1234567.891, "p": 0.256, "day": "2024-03-05", "s": "The quick brown fox jumps", "csv": "1234.5"});
    let cases = [
        ("{{ n | number(2) }}", "1,234,567.89"),
        ("{{ n | number(2, locale='de') }}", "1.234.567,89"),
        (
            "{{ n | number(decimals=0, locale='fr') }}",
            "1\u{202f}234\u{202f}568",
        ),
        ("{{ csv | number(2) }}", "1,234.50"),
        (
            "{{ n | currency('EUR', locale='de') }}",
            "1.234.567,89\u{a0}€",
        ),
        ("{{ 19.5 | currency('USD') }}", "$19.50"),
        ("{{ 1200 | currency('JPY', locale='ja') }}", "￥1,200"),
        ("{{ p | percent }}", "26%"),
        ("{{ p | percent(1, locale='de') }}", "25,6\u{a0}%"),
        ("{{ day | date }}", "Mar 5, 2024"),
        ("{{ day | date('long', locale='de') }}", "5. März 2024"),
        ("{{ day | date('full', locale='fr') }}", "mardi 5 mars 2024"),
        ("{{ day | date('%d.%m.%Y') }}", "05.03.2024"),
        ("{{ s | truncate(15) }}", "The quick…"),
        ("{{ s | upper }}", "THE QUICK BROWN FOX JUMPS"),
        ("{{ s | lower | title }}", "The Quick Brown Fox Jumps"),
        ("{{ missing | default('n/a') }}", "n/a"),
    ];
    for (expr, want) in cases {
        assert_eq!(text_of(expr, d.clone()), want, "{expr}");
    }
}

#[test]
fn the_document_language_is_the_default_locale() {
    let t = json!({"ode": 1, "metadata": {"language": "de-DE"},
                   "content": [{"type": "paragraph", "text": "{{ 1234.5 | currency('EUR') }} am {{ '2024-12-24' | date('long') }}"}]});
    let out = expand(t, json!({}));
    assert_eq!(
        out["content"][0]["text"],
        "1.234,50\u{a0}€ am 24. Dezember 2024"
    );
    let t = json!({"ode": 1, "template": {"locale": "en-GB"}, "metadata": {"language": "de"},
                   "content": [{"type": "paragraph", "text": "{{ '2024-12-24' | date('long') }}"}]});
    assert_eq!(
        expand(t, json!({}))["content"][0]["text"],
        "24 December 2024"
    );
}

#[test]
fn a_loop_over_something_that_is_not_an_array_names_both_paths() {
    let t = doc(json!([
        {"type": "paragraph", "text": "x"}, {"type": "paragraph", "text": "x"},
        {"type": "paragraph", "text": "x"}, {"type": "paragraph", "text": "x"},
        {"type": "table", "columns": ["1fr"], "rows": {"$each": "items", "do": [["{{ item }}"]]}}
    ]));
    assert_eq!(
        errors(t, json!({"items": "pen"})),
        "/content/4/rows (each items): data field \"items\" is not an array (found a string at /items)"
    );
}

#[test]
fn a_missing_value_is_an_error_with_the_closest_name_unless_lenient() {
    let t = doc(json!([{"type": "paragraph", "text": "Dear {{ customer.nmae }},"}]));
    let data = json!({"customer": {"name": "Ada"}});
    assert_eq!(
        errors(t.clone(), data.clone()),
        "/content/0/text: data field \"nmae\" is missing at /customer, did you mean \"name\"?"
    );
    assert_eq!(
        errors(
            doc(json!([{"type": "paragraph", "text": "{{ custmer.name }}"}])),
            data.clone()
        ),
        "/content/0/text: data field \"custmer\" is missing (at /), did you mean \"customer\"?"
    );
    let mut lenient = template(t);
    lenient.set_lenient(true);
    assert_eq!(
        lenient.expand(&data).unwrap()["content"][0]["text"],
        "Dear ,"
    );
}

#[test]
fn eval_of_a_missing_value_is_an_error_unless_lenient() {
    let t = doc(json!([{"type": "paragraph", "text": "x", "italic": {"$eval": "style.italic"}}]));
    assert_eq!(
        errors(t.clone(), json!({"style": {"italics": true}})),
        "/content/0/italic/$eval: data field \"italic\" is missing at /style, did you mean \"italics\"?"
    );
    let mut lenient = template(t);
    lenient.set_lenient(true);
    let out = lenient.expand(&json!({"style": {}})).unwrap();
    assert_eq!(out["content"][0]["italic"], Value::Null);
}

#[test]
fn errors_inside_loops_say_which_data_item() {
    let t = doc(
        json!([{"$each": "people", "do": {"type": "paragraph", "text": "{{ item.name.first }}"}}]),
    );
    let e = errors(
        t,
        json!({"people": [{"name": {"first": "A"}}, {"name": "B"}]}),
    );
    assert_eq!(
        e,
        "/content/0/do/text (item /people/1): /people/1/name is a string, it has no field \"first\""
    );
}

#[test]
fn model_errors_in_the_expanded_document_point_into_the_template() {
    let t = doc(json!([
        {"type": "paragraph", "text": "intro"},
        {"$each": "rows", "do": {"type": "paragraph", "text": "{{ item }}", "size": "{{ item }}"}}
    ]));
    let e = errors(t, json!({"rows": ["12pt", "huge"]}));
    assert!(
        e.starts_with("/content/1/do/size (item /rows/1): "),
        "the error names the template path and the data item: {e}"
    );
}

#[test]
fn template_mistakes_are_reported_all_at_once_with_their_paths() {
    let t = json!({"ode": 1,
    "template": {"partial": {}, "lenient": "yes"},
    "content": [
        {"type": "paragraph", "text": "{{ unclosed "},
        {"$each": "items", "as": "for", "do": []},
        {"$iff": "x", "then": []},
        {"$if": "x"},
        {"$include": "adress"},
        {"$each": "items", "do": [], "type": "paragraph"}
    ]});
    let e = errors(t, json!({}));
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(
        lines[0],
        "/template/partial: unknown field \"partial\", did you mean \"partials\"?"
    );
    assert_eq!(
        lines[1],
        "/template/lenient: expected a boolean, found a string"
    );
    assert!(
        lines[2].starts_with("/content/0/text: template syntax error: "),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        "/content/1/as: expected a variable name (letters, digits and _, not a keyword)"
    );
    assert_eq!(
        lines[4],
        "/content/2/$iff: unknown control \"$iff\", did you mean \"$if\"?"
    );
    assert_eq!(
        lines[5],
        "/content/3: missing field \"then\", \"then\" holds what the condition gives when true"
    );
    assert_eq!(
        lines[6],
        "/content/5/type: unknown field \"type\", one of $each, as, do, else"
    );
    assert_eq!(
        lines[7],
        "/content/4/$include: unknown partial \"adress\", define partials in /template/partials"
    );
    assert_eq!(lines.len(), 8, "{e}");
}

#[test]
fn partials_that_include_each_other_stop_with_an_error() {
    let t = json!({"ode": 1,
        "template": {"partials": {"a": [{"$include": "b"}], "b": [{"$include": "a"}]}},
        "content": [{"$include": "a"}]});
    let e = errors(t, json!({}));
    assert_eq!(
        e,
        "/template/partials/b/0/$include: partials include each other without end: a → b → a"
    );
}

#[test]
fn runaway_templates_hit_their_limits() {
    // Work inside one expression.
    let t = doc(
        json!([{"type": "paragraph", "text": "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"}]),
    );
    let e = errors(t, json!({}));
    assert!(e.contains("takes too long to evaluate"), "{e}");
    // Output size.
    let mut t = template(doc(
        json!([{"$each": "range(1000)", "as": "i", "do": {"$each": "range(1000)", "do": {"type": "spacer", "height": 1}}}]),
    ));
    t.set_limits(Limits {
        max_template_bytes: 10 << 20,
        ..Limits::default()
    });
    let e = t.expand(&json!({})).unwrap_err().to_string();
    assert!(
        e.contains("grows past the limit of 10 MB (the max_template_bytes setting)"),
        "{e}"
    );
}

#[test]
fn file_names_come_from_an_expression() {
    let t = template(
        json!({"ode": 1, "template": {"file_name": "invoice-{{ number }}.pdf"}, "content": []}),
    );
    assert_eq!(
        t.file_name(&json!({"number": 42})).unwrap().unwrap(),
        "invoice-42.pdf"
    );
    assert!(t.file_name(&json!({})).unwrap().is_err());
}

#[test]
fn a_merge_restarts_page_numbers_per_record() {
    let t = template(json!({
        "ode": 1,
        "page": {"size": "A5"},
        "footer": {"content": [{"type": "paragraph", "content": ["p", {"field": "page_number"}, "/", {"field": "page_count"}]}]},
        "content": [
            {"type": "heading", "level": 1, "text": "To {{ name }}"},
            {"$each": "range(lines)", "do": {"type": "paragraph", "text": "Line {{ item }} for {{ name }}."}}
        ]
    }));
    let records = [
        json!({"name": "A", "lines": 40}),
        json!({"name": "B", "lines": 2}),
    ];
    let merged = t.merge(&records, true).unwrap();
    let d = ode_core::model::from_value(&merged).unwrap();
    let paged = render(&d);
    let pages: Vec<String> = paged.text().split('\u{c}').map(str::to_string).collect();
    let a_pages = pages.iter().filter(|p| p.contains("for A.")).count();
    assert!(a_pages >= 2, "record A spans pages");
    assert_eq!(pages.len(), a_pages + 1, "record B starts on a new page");
    assert!(pages[0].contains(&format!("p1/{a_pages}")), "{}", pages[0]);
    assert!(pages[a_pages - 1].contains(&format!("p{a_pages}/{a_pages}")));
    assert!(
        pages[a_pages].contains("To B") && pages[a_pages].contains("p1/1"),
        "{}",
        pages[a_pages]
    );

    let continuous = ode_core::model::from_value(&t.merge(&records, false).unwrap()).unwrap();
    let text = render(&continuous).text();
    let n = text.split('\u{c}').count();
    assert!(text.contains(&format!("p{n}/{n}")));
}

#[test]
fn a_failing_record_is_named_in_a_merge() {
    let t = template(doc(json!([{"type": "paragraph", "text": "{{ name }}"}])));
    let err = t
        .merge(
            &[json!({"name": "a"}), json!({}), json!({"name": "c"})],
            false,
        )
        .unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].0, 1);
}

/// The examples of docs/templates.md: a ```json template block, optionally followed by
/// a ```json data block and a ```text block with text the output contains or, when the
/// lines start with `/`, exactly the errors expected.
#[test]
fn every_template_example_in_the_docs_expands_and_renders() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/templates.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut fences: Vec<(usize, String, String)> = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut open {
            Some((_, _, body)) if line.trim_end() != "```" => {
                body.push_str(line);
                body.push('\n');
            }
            Some(_) => fences.push(open.take().unwrap()),
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some((i + 1, info.trim().to_string(), String::new()));
                }
            }
        }
    }
    let normal = |s: &str| s.replace(['\u{a0}', '\u{202f}'], " ");
    let mut checked = 0;
    for (k, (line, lang, body)) in fences.iter().enumerate() {
        if lang != "json template" {
            continue;
        }
        let at = format!("docs/templates.md:{line}");
        let mut next = k + 1;
        let data: Value = match fences.get(next) {
            Some((_, l, b)) if l == "json data" => {
                next += 1;
                serde_json::from_str(b).unwrap_or_else(|e| panic!("{at}: data: {e}"))
            }
            _ => json!({}),
        };
        let expected: Option<Vec<&str>> = match fences.get(next) {
            Some((_, l, b)) if l == "text" => Some(b.lines().collect()),
            _ => None,
        };
        let t = Template::parse(body).unwrap_or_else(|e| panic!("{at}: {e}"));
        match (t.document(&data), expected) {
            (Err(e), Some(want)) if want.iter().all(|l| l.starts_with('/')) => {
                let got: Vec<String> = e.iter().map(|d| d.to_string()).collect();
                assert_eq!(got, want, "{at}");
            }
            (Err(e), _) => panic!("{at}: {e}"),
            (Ok(doc), want) => {
                let rendered = normal(&render(&doc).text());
                for w in want.unwrap_or_default() {
                    assert!(
                        rendered.contains(&normal(w)),
                        "{at}: {w:?} not in {rendered:?}"
                    );
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} template examples found");
}

mod property {
    //! A random document, some of whose strings and arrays are replaced by
    //! expressions and loops over generated data, renders exactly like the document.
    use super::*;
    use proptest::prelude::*;

    fn word() -> impl Strategy<Value = String> {
        "[A-Za-z]{1,10}( [a-z]{1,8}){0,6}"
    }

    #[derive(Debug, Clone)]
    enum Piece {
        Para(String, bool),
        List(Vec<String>),
        Table(Vec<(String, String)>),
    }

    fn piece() -> impl Strategy<Value = Piece> {
        prop_oneof![
            (word(), any::<bool>()).prop_map(|(w, b)| Piece::Para(w, b)),
            prop::collection::vec(word(), 0..5).prop_map(Piece::List),
            prop::collection::vec((word(), word()), 1..6).prop_map(Piece::Table),
        ]
    }

    /// The document, the template and its data.
    fn build(pieces: &[Piece]) -> (Value, Value, Value) {
        let mut plain = Vec::new();
        let mut templ = Vec::new();
        let mut data = serde_json::Map::new();
        for (i, p) in pieces.iter().enumerate() {
            let key = format!("v{i}");
            match p {
                Piece::Para(text, bold) => {
                    plain.push(json!({"type": "paragraph", "text": text, "italic": bold}));
                    templ.push(
                        json!({"type": "paragraph", "text": format!("{{{{ {key}.text }}}}"),
                                      "italic": {"$eval": format!("{key}.bold")}}),
                    );
                    data.insert(key, json!({"text": text, "bold": bold}));
                }
                Piece::List(items) => {
                    if items.is_empty() {
                        templ.push(json!({"$if": format!("{key} | length > 0"), "then": {"type": "list", "items": {"$each": key, "do": "{{ item }}"}}}));
                    } else {
                        plain.push(json!({"type": "list", "items": items}));
                        templ.push(json!({"$if": format!("{key} | length > 0"), "then": {"type": "list", "items": {"$each": key, "do": "{{ item }}"}}}));
                    }
                    data.insert(key, json!(items));
                }
                Piece::Table(rows) => {
                    let r: Vec<Value> = rows.iter().map(|(a, b)| json!([a, b])).collect();
                    plain.push(json!({"type": "table", "columns": ["1fr", "2fr"], "rows": r}));
                    templ.push(json!({"type": "table", "columns": ["1fr", "2fr"],
                        "rows": [{"$each": key, "as": "row", "do": [["{{ row[0] }}", "{{ row[1] }}"]]}]}));
                    data.insert(
                        key,
                        json!(rows.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>()),
                    );
                }
            }
        }
        (doc(json!(plain)), doc(json!(templ)), Value::Object(data))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn a_template_renders_like_the_document_it_stands_for(pieces in prop::collection::vec(piece(), 1..8)) {
            let (plain, templ, data) = build(&pieces);
            let t = Template::new(templ).unwrap();
            let from_template = t.document(&data).unwrap();
            let direct = ode_core::model::from_value(&plain).unwrap();
            let opts = Default::default();
            let a = ode_core::pdf_document(&from_template, fonts(), &opts, &Default::default()).unwrap().output.bytes;
            let b = ode_core::pdf_document(&direct, fonts(), &opts, &Default::default()).unwrap().output.bytes;
            prop_assert!(a == b, "the PDFs differ");
        }
    }
}

#[test]
fn nested_loops_are_refused_by_what_they_produce_not_by_how_they_nest() {
    // Two nested loops of 1,000: a million paragraphs from a 150-byte template.
    let mut t = template(doc(json!([
        {"$each": "range(1000)", "as": "i", "do":
            {"$each": "range(1000)", "as": "j", "do": {"type": "paragraph", "text": "{{ i }} {{ j }}"}}}
    ])));
    t.set_limits(Limits {
        max_template_bytes: 4 << 20,
        ..Limits::default()
    });
    let e = t.expand(&json!({})).unwrap_err().to_string();
    assert!(e.contains("grows past the limit of 4 MB"), "{e}");
    // A loop over a million data items, likewise.
    let items: Vec<u32> = (0..1_000_000).collect();
    let mut t = template(doc(
        json!([{"$each": "items", "do": {"type": "paragraph", "text": "Item {{ item }}"}}]),
    ));
    t.set_limits(Limits {
        max_template_bytes: 4 << 20,
        ..Limits::default()
    });
    let e = t
        .expand(&json!({ "items": items }))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("/content/0/do (item /items/") && e.contains("grows past the limit of 4 MB"),
        "{e}"
    );
}

#[test]
fn a_merge_counts_all_its_records_against_one_budget() {
    let mut t = template(doc(
        json!([{"$each": "range(100)", "do": {"type": "spacer", "height": 1}}]),
    ));
    t.set_limits(Limits {
        max_template_bytes: 1 << 20,
        ..Limits::default()
    });
    // One record is well under the budget (about 40 KB); 100 records are not.
    t.merge(&[json!({})], false).unwrap();
    let records = vec![json!({}); 100];
    let failed = t.merge(&records, false).unwrap_err();
    assert!(
        failed[0]
            .1
            .to_string()
            .contains("grows past the limit of 1 MB"),
        "{failed:?}"
    );
}

#[test]
fn the_guard_stops_an_expansion() {
    let t = template(doc(
        json!([{"$each": "range(100000)", "do": {"type": "spacer", "height": 1}}]),
    ));
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n = asked.clone();
    let guard = ode_core::Guard::new(move || {
        if n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 3 {
            Err("the render was cancelled".into())
        } else {
            Ok(())
        }
    });
    let e = t.expand_with(&json!({}), &guard).unwrap_err().to_string();
    assert!(e.contains("the render was cancelled"), "{e}");
    // Asked every 4096 values: stopped after about 16,000 of the 200,000.
    assert_eq!(asked.load(std::sync::atomic::Ordering::Relaxed), 4);
}
