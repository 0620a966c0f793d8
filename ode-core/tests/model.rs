//! Parsing: every error at once, each with its JSON path and a fix where one is likely.

use ode_core::model::{self, Block};

fn errors(json: &str) -> Vec<String> {
    match model::parse(json) {
        Ok(_) => panic!("expected errors for {json}"),
        Err(d) => d.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn an_unknown_field_names_its_path_and_suggests_the_right_name() {
    let json = r#"{"ode": 1, "content": [
        {"type": "paragraph", "text": "a"},
        {"type": "paragraph", "text": "b"},
        {"type": "paragraph", "text": "c"},
        {"type": "table", "columns": [100, 100], "rows": [["a", "b"], ["c", "d"], ["e", {"text": "f", "colspn": 2}]]}
    ]}"#;
    assert_eq!(
        errors(json),
        vec![r#"/content/3/rows/2/1: unknown field "colspn", did you mean "colspan"?"#]
    );
    let json = json
        .replace(r#"["e", {"text""#, r#"{"cells": ["e", {"text""#)
        .replace(r#""colspn": 2}]]"#, r#""colspn": 2}]}]"#);
    assert_eq!(
        errors(&json),
        vec![r#"/content/3/rows/2/cells/1: unknown field "colspn", did you mean "colspan"?"#]
    );
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let json = r##"{"ode": 1, "page": {"size": "A7"}, "styles": {"body": {"colour": "red"}}, "content": [
        {"type": "paragrph", "text": "x"},
        {"type": "heading", "level": 9, "text": "x"},
        {"type": "paragraph", "text": 5},
        {"type": "paragraph", "style": "bdy", "text": "x"},
        {"type": "paragraph", "content": [{"text": "x", "link": "#nowhere"}]},
        {"type": "image"}
    ]}"##;
    let errs = errors(json);
    let expect = [
        r#"/page/size: unknown paper size "A7""#,
        r#"/styles/body: unknown field "colour", did you mean "color"?"#,
        r#"/content/0/type: unknown block type "paragrph", did you mean "paragraph"?"#,
        "/content/1/level: expected a whole number from 1 to 6, found 9",
        "/content/2/text: expected a string, found a number",
        r#"/content/3/style: unknown style "bdy", did you mean "body"?"#,
        r##"/content/4/content/0/link: link to unknown anchor "#nowhere""##,
        r#"/content/5: missing field "src""#,
    ];
    for e in expect {
        assert!(
            errs.iter().any(|x| x.starts_with(e)),
            "missing {e:?} in {errs:#?}"
        );
    }
    assert_eq!(errs.len(), expect.len(), "{errs:#?}");
}

#[test]
fn invalid_json_reports_line_and_column() {
    let errs = errors("{\"ode\": 1,\n \"content\": [}\n");
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("line 2, column 14: invalid JSON"),
        "{errs:?}"
    );
}

#[test]
fn a_missing_or_unsupported_version_is_explained() {
    assert!(errors(r#"{"content": []}"#)[0].contains(r#"missing field "ode", add "ode": 1"#));
    assert_eq!(
        errors(r#"{"ode": 2, "content": []}"#),
        vec!["/ode: unsupported model version 2; this engine reads version 1"]
    );
}

#[test]
fn absurd_sizes_are_refused_with_their_limits() {
    let errs =
        errors(r#"{"ode": 1, "page": {"size": {"width": 1e9, "height": 100}}, "content": []}"#);
    assert!(
        errs[0].starts_with("/page/size/width: length must be between 36pt and 14400pt"),
        "{errs:?}"
    );
    let errs = errors(r#"{"ode": 1, "content": [{"type": "paragraph", "size": 0, "text": "x"}]}"#);
    assert!(
        errs[0].starts_with("/content/0/size: length must be between 0.5pt and 1000pt"),
        "{errs:?}"
    );
    let errs = errors(r#"{"ode": 1, "page": {"margins": "20cm"}, "content": []}"#);
    assert!(
        errs[0].starts_with("/page/margins: margins leave no room"),
        "{errs:?}"
    );
}

#[test]
fn nesting_ten_thousand_deep_is_an_error_not_a_crash() {
    let mut json = String::from(r#"{"ode": 1, "content": ["#);
    for _ in 0..10_000 {
        json.push_str(r#"{"type": "group", "content": ["#);
    }
    for _ in 0..10_000 {
        json.push_str("]}");
    }
    json.push_str("]}");
    let errs = errors(&json);
    assert!(
        errs[0].contains("nesting is deeper than 128 levels"),
        "{errs:?}"
    );
}

#[test]
fn style_cycles_are_found() {
    let errs = errors(
        r#"{"ode": 1, "styles": {"a": {"parent": "b"}, "b": {"parent": "a"}}, "content": []}"#,
    );
    assert!(
        errs.iter().any(|e| e.contains("inherits from itself")),
        "{errs:?}"
    );
}

#[test]
fn lengths_accept_units_and_shortcuts_parse_to_their_own_forms() {
    let doc = model::parse(
        r#"{"ode": 1, "page": {"size": "letter", "margins": {"top": "1in", "left": "2cm"}},
            "content": [{"type": "list", "items": ["a", [{"type": "paragraph", "text": "b"}]]}]}"#,
    )
    .unwrap();
    assert_eq!(doc.page.size, model::PaperSize::Letter);
    assert_eq!(doc.page.margins.top.pt(), 72.0);
    assert_eq!(doc.page.margins.right.pt(), 0.0);
    let Block::List(list) = &doc.content[0] else {
        panic!("a list")
    };
    assert!(matches!(list.items[0], model::ListItem::Text(_)));
    assert!(matches!(list.items[1], model::ListItem::Blocks(_)));
}

#[test]
fn a_parsed_document_serializes_back_to_an_equivalent_one() {
    let json = r##"{"ode": 1, "metadata": {"title": "T", "keywords": ["a"], "created": "2024-01-02"},
        "styles": {"body": {"parent": "default", "size": "11pt", "align": "justify", "weight": 600}},
        "header": {"content": [{"type": "paragraph", "content": [{"field": "page_number", "bold": true}]}], "first_page": []},
        "watermark": {"text": "DRAFT", "opacity": 0.2},
        "content": [
          {"type": "heading", "level": 2, "text": "H", "anchor": "h"},
          {"type": "paragraph", "style": "body", "content": ["a", {"text": "b", "link": "#h", "baseline": "super"}, {"line_break": true}]},
          {"type": "table", "columns": ["auto", "2fr", {"width": "30mm", "align": "right"}], "header_rows": 1,
           "rows": [["a", "b", "c"], {"cells": [{"text": "x", "colspan": 2, "valign": "middle"}, "y"], "background": "#eee"}],
           "border": {"lines": "horizontal"}, "padding": 3},
          {"type": "image", "src": "a.png", "width": 100, "fit": "cover"},
          {"type": "rule", "thickness": 1}, {"type": "spacer", "height": "1cm"}, {"type": "page_break"},
          {"type": "group", "content": [{"type": "paragraph", "text": "g"}]}
        ]}"##;
    let doc = model::parse(json).unwrap();
    let again = model::parse(&serde_json::to_string(&doc).unwrap()).unwrap();
    assert_eq!(doc, again);
}

#[test]
fn the_schema_describes_every_block_type() {
    let schema = serde_json::to_string(&model::schema()).unwrap();
    for ty in [
        "heading",
        "paragraph",
        "list",
        "table",
        "image",
        "rule",
        "spacer",
        "page_break",
        "group",
    ] {
        assert!(schema.contains(&format!("\"{ty}\"")), "schema lacks {ty}");
    }
    assert!(schema.contains("\"colspan\""));
}

#[test]
fn column_widths_written_with_units_are_range_checked_too() {
    let errs = errors(
        r#"{"ode": 1, "content": [{"type": "table", "columns": ["-50pt"], "rows": [["a"]]}]}"#,
    );
    assert_eq!(
        errs,
        vec!["/content/0/columns/0: length must be between 0pt and 14400pt, found -50pt"]
    );
}
