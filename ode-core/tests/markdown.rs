//! Markdown into documents: every example of the CommonMark specification converts
//! and renders, and each construct becomes the block it should.

use std::sync::OnceLock;

use ode_core::text::FontBook;
use ode_core::{AssetError, Resources};
use serde_json::{Value, json};

fn fonts() -> &'static FontBook {
    static BOOK: OnceLock<FontBook> = OnceLock::new();
    BOOK.get_or_init(FontBook::with_defaults)
}

/// Every image key resolves to the same small PNG.
struct AnyImage;

impl Resources for AnyImage {
    fn fonts(&self) -> &FontBook {
        fonts()
    }
    fn asset(&self, _key: &str) -> Result<ode_core::text::Bytes, AssetError> {
        Ok(include_bytes!("assets/checker.png").to_vec().into())
    }
}

fn convert(md: &str) -> (Value, Vec<String>) {
    match ode_core::markdown::to_document(md) {
        Ok(w) => (w.output, w.warnings.iter().map(|d| d.to_string()).collect()),
        Err(d) => panic!("errors:\n{d}"),
    }
}

fn content(md: &str) -> Value {
    convert(md).0["content"].clone()
}

/// Renders a converted document and gives its text.
fn render_text(doc: &Value) -> String {
    let d =
        ode_core::model::from_value(doc).unwrap_or_else(|e| panic!("model errors:\n{e}\n{doc:#}"));
    ode_core::layout::layout(&d, &AnyImage, &Default::default())
        .unwrap_or_else(|e| panic!("layout errors:\n{e}"))
        .output
        .text()
}

/// The examples of the CommonMark specification, as (number, section, markdown).
fn spec_examples() -> Vec<(usize, String, String)> {
    let spec = include_str!("commonmark/spec.txt");
    let fence = "````````````````````````````````";
    let mut out = Vec::new();
    let mut section = String::new();
    let mut lines = spec.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("<!-- END TESTS -->") {
            break;
        }
        if let Some(h) = line.strip_prefix('#') {
            section = h.trim_start_matches('#').trim().to_string();
            continue;
        }
        if line == format!("{fence} example") {
            let mut md = String::new();
            for l in lines.by_ref() {
                if l == "." {
                    break;
                }
                md.push_str(l);
                md.push('\n');
            }
            for l in lines.by_ref() {
                if l == fence {
                    break;
                }
            }
            out.push((out.len() + 1, section.clone(), md.replace('→', "\t")));
        }
    }
    out
}

#[test]
fn every_commonmark_example_converts_and_renders() {
    let examples = spec_examples();
    assert_eq!(examples.len(), 652, "the specification's examples");
    let mut failures = Vec::new();
    for (n, section, md) in &examples {
        let doc = match ode_core::markdown::to_document(md) {
            Ok(w) => w.output,
            Err(e) => {
                failures.push(format!("example {n} ({section}): {e}"));
                continue;
            }
        };
        let parsed = match ode_core::model::from_value(&doc) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("example {n} ({section}): model: {e}"));
                continue;
            }
        };
        if let Err(e) =
            ode_core::pdf_document(&parsed, &AnyImage, &Default::default(), &Default::default())
        {
            failures.push(format!("example {n} ({section}): render: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn headings_get_anchors_that_links_reach() {
    let c = content(
        "# Hello, World!\n\n## Hello, World!\n\n### Custom {#mine}\n\nSee [above](#hello-world-1) and [mine](#mine).\n",
    );
    assert_eq!(
        c[0],
        json!({"type": "heading", "level": 1, "anchor": "hello-world", "text": "Hello, World!"})
    );
    assert_eq!(c[1]["anchor"], "hello-world-1");
    assert_eq!(c[2]["anchor"], "mine");
    assert_eq!(c[2]["text"], "Custom");
    let links: Vec<&str> = c[3]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.get("link").and_then(Value::as_str))
        .collect();
    assert_eq!(links, ["#hello-world-1", "#mine"]);
}

#[test]
fn a_link_to_a_missing_anchor_keeps_its_text_and_warns() {
    let (doc, warnings) = convert("# Only\n\nSee [nowhere](#missing).\n");
    assert_eq!(
        warnings,
        [
            "line 3, column 1: warning: the link to \"#missing\" leads nowhere: no heading has that anchor"
        ]
    );
    assert!(render_text(&doc).contains("See nowhere."));
}

#[test]
fn emphasis_code_and_links_become_spans() {
    let c = content(
        "Plain **bold *both*** ~~gone~~ `x = 1` [site](https://example.com)\\\nnext line\n",
    );
    let spans = c[0]["content"].as_array().unwrap();
    assert_eq!(spans[0], "Plain ");
    assert_eq!(spans[1], json!({"text": "bold ", "bold": true}));
    assert_eq!(
        spans[2],
        json!({"text": "both", "bold": true, "italic": true})
    );
    assert!(spans.contains(&json!({"text": "gone", "strike": true})));
    assert!(spans.contains(&json!({"text": "x = 1", "code": true})));
    assert!(
        spans
            .iter()
            .any(|s| s["link"] == "https://example.com" && s["text"] == "site")
    );
    assert!(
        spans
            .iter()
            .any(|s| s.as_str().is_some_and(|t| t.starts_with('\n'))),
        "a hard break is a line break"
    );
}

#[test]
fn lists_nest_number_and_tick() {
    let c = content("3. three\n4. four\n   - nested\n   - [x] done\n   - [ ] open\n");
    assert_eq!(c[0]["ordered"], true);
    assert_eq!(c[0]["start"], 3);
    assert_eq!(c[0]["items"][0], "three");
    let nested = &c[0]["items"][1];
    assert_eq!(nested[0]["text"], "four");
    assert_eq!(nested[1]["items"], json!(["nested", "☑ done", "☐ open"]));
}

#[test]
fn tables_keep_alignment_and_their_header() {
    let c = content("| Item | Qty | Note |\n|:-----|----:|:----:|\n| Pen | 2 | **blue** |\n");
    let t = &c[0];
    assert_eq!(t["type"], "table");
    assert_eq!(t["header_rows"], 1);
    assert_eq!(t["rows"][0][0], json!({"text": "Item"}));
    assert_eq!(t["rows"][1][1], json!({"text": "2", "align": "right"}));
    assert_eq!(t["rows"][1][2]["align"], "center");
    assert_eq!(
        t["rows"][1][2]["content"][0]["content"][0],
        json!({"text": "blue", "bold": true})
    );
}

#[test]
fn code_blocks_keep_their_spaces_and_lines() {
    let (doc, _) = convert("```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n");
    let cell = &doc["content"][0]["rows"][0][0];
    let text = cell["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        text,
        "fn\u{a0}main()\u{a0}{\n\u{a0}\u{a0}\u{a0}\u{a0}println!(\"hi\");\n}"
    );
    assert_eq!(cell["content"][0]["font"], "monospace");
    let rendered = render_text(&doc);
    assert!(rendered.contains("println!(\"hi\");"), "{rendered}");
}

#[test]
fn quotes_indent_by_depth() {
    let c = content("> outer\n>\n> > inner\n");
    assert_eq!(c[0]["type"], "group");
    assert_eq!(c[0]["left_indent"], 14);
    assert_eq!(c[0]["content"][1]["left_indent"], 28);
}

#[test]
fn footnotes_become_the_models_footnotes_where_they_are_referenced() {
    let (doc, warnings) = convert(
        "Claim[^b] and another[^a].\n\n[^a]: Second *note*.\n[^b]: First note.\n\n    more of it\n[^unused]: Never cited.\n",
    );
    let c = doc["content"].as_array().unwrap();
    let notes: Vec<&Value> = c[0]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.get("footnote"))
        .collect();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0][0], "First note.");
    assert_eq!(
        notes[1],
        &json!(["Second ", {"text": "note", "italic": true}, "."])
    );
    assert_eq!(c.len(), 1, "no endnotes section: {c:?}");
    assert_eq!(
        warnings,
        ["line 7, column 1: warning: the footnote [^unused] is never referenced; it is left out"]
    );
    let text = render_text(&doc);
    assert!(
        text.find("First note.").unwrap() < text.find("Second").unwrap(),
        "{text}"
    );
}

#[test]
fn images_split_paragraphs_and_remote_ones_warn() {
    let (doc, warnings) =
        convert("Before ![A chart](img/chart.png) after.\n\n![web](https://example.com/x.png)\n");
    let c = doc["content"].as_array().unwrap();
    assert_eq!(c[0]["text"], "Before");
    assert_eq!(
        c[1],
        json!({"type": "image", "src": "img/chart.png", "alt": "A chart"})
    );
    assert_eq!(c[2]["text"], " after.");
    assert_eq!(c[3]["content"][0], json!({"text": "web", "italic": true}));
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .starts_with("line 3, column 1: warning: the image \"https://example.com/x.png\""),
        "{}",
        warnings[0]
    );
}

#[test]
fn front_matter_sets_metadata_page_and_styles() {
    let md = "---\ntitle: Field notes\nauthor: R. Ortiz\ndate: 2024-05-01\nkeywords: [survey, north]\nlanguage: en-GB\npage: {size: A5, margins: 15mm}\nstyles:\n  default: {font: serif}\n---\n# Day one\n\nText.\n";
    let (doc, _) = convert(md);
    assert_eq!(doc["metadata"]["title"], "Field notes");
    assert_eq!(doc["metadata"]["keywords"], json!(["survey", "north"]));
    assert_eq!(doc["metadata"]["created"], "2024-05-01");
    assert_eq!(doc["metadata"]["language"], "en-GB");
    assert_eq!(doc["page"]["size"], "A5");
    assert_eq!(doc["styles"]["default"]["font"], "serif");
    assert_eq!(doc["content"][0]["style"], "title");
    assert_eq!(doc["content"][1]["text"], "R. Ortiz · 2024-05-01");
    let d = ode_core::model::from_value(&doc).unwrap();
    let pdf = ode_core::pdf_document(&d, fonts(), &Default::default(), &Default::default())
        .unwrap()
        .output
        .bytes;
    assert!(
        pdf.windows(b"Field notes".len())
            .any(|w| w == b"Field notes"),
        "the title is in the PDF's metadata"
    );
}

#[test]
fn front_matter_mistakes_name_their_lines() {
    let err = ode_core::markdown::to_document("---\ntitle: A\ntitel: B\n---\nx\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3, column 1: unknown front matter key \"titel\", did you mean \"title\"?"
    );
    let err = ode_core::markdown::to_document("---\ntitle: [unclosed\n---\nx\n").unwrap_err();
    assert!(err.to_string().starts_with("line "), "{err}");
    assert!(err.to_string().contains("invalid front matter"), "{err}");
    let err = ode_core::markdown::to_document("---\ntitle: A\n- b\n---\nx\n").unwrap_err();
    assert!(err.to_string().contains("invalid front matter"), "{err}");
    // Without a `key:` first line, `---` is a thematic break, not front matter.
    let c = content("---\n- a\n- b\n---\nx\n");
    assert_eq!(c[0]["type"], "rule");
    assert_eq!(c[1]["items"], json!(["a", "b"]));
}

#[test]
fn raw_html_is_left_out_with_one_warning() {
    let (doc, warnings) = convert("<div>\nhidden\n</div>\n\nText<br>more <span>x</span>\n");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let text = render_text(&doc);
    assert!(!text.contains("<div>"));
    assert!(text.contains("Text"));
}

#[test]
fn quotes_and_lists_nested_without_end_are_flattened_with_a_warning() {
    // 50,000 levels of quotes on one line (this took a stack overflow before, and line
    // numbers were counted in quadratic time).
    let md = format!("{}deep\n", "> ".repeat(50_000));
    let (doc, warnings) = convert(&md);
    assert_eq!(
        warnings,
        [
            "line 1, column 1: warning: quotes and lists are nested more than 24 deep here; the deeper ones are shown at that depth"
        ]
    );
    let mut depth = 0;
    let mut v = &doc["content"][0];
    while v["type"] == "group" {
        depth += 1;
        v = &v["content"][0];
    }
    assert_eq!(depth, 24);
    assert!(render_text(&doc).contains("deep"));
}

#[test]
fn blocks_built_in_memory_are_held_to_the_nesting_json_text_has() {
    let mut doc = json!({"type": "paragraph", "text": "in the middle"});
    for _ in 0..100 {
        doc = json!({"type": "group", "content": [doc]});
    }
    let e = ode_core::model::from_value(&json!({"ode": 1, "content": [doc]}))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("blocks are nested more than 64 levels deep"),
        "{e}"
    );
}
