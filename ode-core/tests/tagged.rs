//! Tagged PDF and PDF standards, end to end: documents are written as PDF and the files
//! are read back with poppler's `pdfinfo -struct-text` (the structure tree with the text
//! of each element) and `qpdf` (the objects). Both come from `scripts/test.sh`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use ode_core::export::PdfOptions;
use ode_core::layout::LayoutOptions;
use ode_core::model::PdfStandard;
use ode_core::text::FontBook;
use ode_core::{Diagnostics, MemoryResources};

fn fonts() -> &'static FontBook {
    static F: OnceLock<FontBook> = OnceLock::new();
    F.get_or_init(FontBook::with_defaults)
}

fn resources() -> MemoryResources {
    let mut res = MemoryResources::new(fonts().clone());
    let png =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/assets/checker.png"))
            .expect("test image");
    res.insert("checker.png", png);
    res
}

fn write(json: &str, options: &PdfOptions) -> Result<Vec<u8>, Diagnostics> {
    let doc = ode_core::model::parse(json)?;
    ode_core::pdf_document(&doc, &resources(), &LayoutOptions::default(), options)
        .map(|w| w.output.bytes)
}

fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ode-tagged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write pdf");
    path
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed (scripts/test.sh installs it): {e}"));
    assert!(
        out.status.success() || name == "qpdf" && out.status.code() == Some(3),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The structure tree as poppler prints it: one element or text per line, indented.
fn structure(name: &str, pdf: &[u8]) -> String {
    let path = file(name, pdf);
    tool(
        "pdfinfo",
        &["-struct-text", path.to_str().expect("utf-8 path")],
    )
}

/// The file with its streams uncompressed, as text.
fn objects(name: &str, pdf: &[u8]) -> String {
    let path = file(name, pdf);
    let out = path.with_extension("qdf.pdf");
    tool(
        "qpdf",
        &[
            "--qdf",
            "--object-streams=disable",
            path.to_str().expect("utf-8"),
            out.to_str().expect("utf-8"),
        ],
    );
    String::from_utf8_lossy(&std::fs::read(out).expect("qdf output")).into_owned()
}

/// An element line's role, such as `TH` in `TH:`.
fn name(line: &str) -> &str {
    line.split([' ', ':']).next().unwrap_or_default()
}

/// Element lines (not text lines) of a structure dump, trimmed.
fn elements(tree: &str) -> Vec<String> {
    tree.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('"') && !l.is_empty())
        .map(String::from)
        .collect()
}

const FULL: &str = r##"{
  "ode": 1,
  "metadata": {"title": "Structure", "language": "en-GB"},
  "header": {"content": [{"type": "paragraph", "text": "RUNNINGHEAD"}]},
  "footer": {"content": [{"type": "paragraph", "content": ["FOOTLINE ", {"field": "page_number"}]}]},
  "watermark": {"text": "DRAFTMARK"},
  "content": [
    {"type": "heading", "level": 1, "text": "Alpha heading"},
    {"type": "paragraph", "content": ["Bravo text with ", {"text": "a charlie link", "link": "https://example.com/"}, " after it."]},
    {"type": "heading", "level": 2, "text": "Delta heading"},
    {"type": "list", "ordered": true, "items": ["Echo item", "Foxtrot item"]},
    {"type": "table", "columns": [100, 100], "header_rows": 1,
     "rows": [["Golf head", "Hotel head"], ["India cell", "Juliet cell"]]},
    {"type": "image", "src": "checker.png", "width": 40, "alt": "A kilo checkerboard"},
    {"type": "paragraph", "text": "Lima closing."}
  ]
}"##;

#[test]
fn the_structure_tree_holds_headings_paragraphs_lists_tables_figures_and_links() {
    let pdf = write(FULL, &PdfOptions::default()).expect("renders");
    let tree = structure("full.pdf", &pdf);
    let els = elements(&tree);
    let first = |prefix: &str| {
        els.iter()
            .position(|e| e.starts_with(prefix) && name(e) == name(prefix))
            .unwrap_or_else(|| panic!("no {prefix} element in\n{tree}"))
    };
    // The elements, in content order.
    let order = [
        "Document",
        "H1 \"Alpha heading\"",
        "P",
        "Link",
        "H2 \"Delta heading\"",
        "L",
        "LI",
        "Lbl",
        "LBody",
        "Table",
        "THead",
        "TR",
        "TH",
        "TBody",
        "TD",
        "Figure",
    ];
    let positions: Vec<usize> = order.iter().map(|p| first(p)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "elements out of order: {positions:?} in\n{tree}"
    );
    assert_eq!(els.iter().filter(|e| name(e) == "TH").count(), 2, "{tree}");
    assert_eq!(els.iter().filter(|e| name(e) == "TD").count(), 2, "{tree}");
    assert_eq!(els.iter().filter(|e| name(e) == "LI").count(), 2, "{tree}");
    // The text of the body is there, in reading order; page furniture is not.
    let words = [
        "Alpha", "Bravo", "charlie", "after", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India",
        "Juliet", "Lima",
    ];
    let at: Vec<usize> = words
        .iter()
        .map(|w| {
            tree.find(w)
                .unwrap_or_else(|| panic!("{w} missing from\n{tree}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "text out of order in\n{tree}"
    );
    for furniture in ["RUNNINGHEAD", "FOOTLINE", "DRAFTMARK"] {
        assert!(
            !tree.contains(furniture),
            "{furniture} is in the tree:\n{tree}"
        );
    }
    // The link holds its text and its annotation; the figure its alternative text.
    let link = first("Link");
    assert!(
        tree.lines()
            .skip_while(|l| !l.trim().starts_with("Link"))
            .take(4)
            .any(|l| l.contains("Object")),
        "the link has no annotation:\n{tree}"
    );
    assert!(els[link..].iter().any(|e| e.starts_with("Link")));
    let objs = objects("full.pdf", &pdf);
    assert!(objs.contains("/Alt (A kilo checkerboard)"), "no alt text");
    assert!(objs.contains("/Lang (en-GB)"), "no document language");
    assert!(objs.contains("/StructTreeRoot"));
    assert!(
        objs.contains("/Scope /Column"),
        "header cells have no scope"
    );
    // Headers, footers and the watermark are marked as artifacts.
    for subtype in ["/Subtype/Header", "/Subtype/Footer", "/Subtype/Watermark"] {
        assert!(objs.contains(subtype), "no {subtype} artifact");
    }
}

#[test]
fn content_split_across_pages_stays_one_element_and_repeated_headers_are_artifacts() {
    let long = (0..400)
        .map(|i| format!("word{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let rows: Vec<String> = (0..80)
        .map(|i| format!("[\"Row {i}\", \"value {i}\"]"))
        .collect();
    let json = format!(
        r#"{{"ode": 1, "page": {{"size": "A5"}}, "content": [
            {{"type": "paragraph", "text": "START {long} FINISH"}},
            {{"type": "table", "columns": [80, 80], "header_rows": 1,
              "rows": [["Name", "Amount"], {}]}}
        ]}}"#,
        rows.join(", ")
    );
    let pdf = write(&json, &PdfOptions::default()).expect("renders");
    let tree = structure("split.pdf", &pdf);
    let info = tool(
        "pdfinfo",
        &[file("split.pdf", &pdf).to_str().expect("utf-8")],
    );
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count");
    assert!(pages >= 4, "expected several pages, got {pages}");
    // One paragraph holds the text from its first page to its last.
    let els = elements(&tree);
    assert_eq!(els.iter().filter(|e| name(e) == "P").count(), 1, "{tree}");
    let start = tree.find("START").expect("start");
    let finish = tree.find("FINISH").expect("finish");
    assert!(
        !tree[start..finish].contains("(block)"),
        "the paragraph is split:\n{tree}"
    );
    // The header row is in the tree once although it is drawn on every page.
    assert_eq!(tree.matches("\"Name\"").count(), 1, "{tree}");
    assert_eq!(els.iter().filter(|e| name(e) == "TR").count(), 81);
    assert_eq!(els.iter().filter(|e| name(e) == "Table").count(), 1);
    let objs = objects("split.pdf", &pdf);
    assert!(
        objs.contains("/Artifact<</Type/Pagination>>BDC"),
        "repeated rows not artifacts"
    );
}

#[test]
fn untagged_output_has_no_structure_tree() {
    let tagged = write(FULL, &PdfOptions::default()).expect("renders");
    let off = PdfOptions {
        tagged: false,
        ..PdfOptions::default()
    };
    let by_option = write(FULL, &off).expect("renders");
    let by_model = write(
        &FULL.replacen(
            "\"ode\": 1,",
            "\"ode\": 1, \"pdf\": {\"tagged\": false},",
            1,
        ),
        &PdfOptions::default(),
    )
    .expect("renders");
    assert!(objects("t.pdf", &tagged).contains("/StructTreeRoot"));
    for (name, pdf) in [("u1.pdf", &by_option), ("u2.pdf", &by_model)] {
        let objs = objects(name, pdf);
        assert!(
            !objs.contains("/StructTreeRoot"),
            "{name} has a structure tree"
        );
        assert!(!objs.contains("BDC"), "{name} has marked content");
    }
    assert_eq!(by_option, by_model);
    assert!(by_option.len() < tagged.len());
    // The text is the same either way.
    let text = |name: &str, pdf: &[u8]| {
        tool(
            "pdftotext",
            &[file(name, pdf).to_str().expect("utf-8"), "-"],
        )
    };
    assert_eq!(text("t.pdf", &tagged), text("u1.pdf", &by_option));
}

fn archived(standard: &str) -> String {
    format!(
        r#"{{"ode": 1, "metadata": {{"title": "Kept", "language": "en", "created": "2025-01-31"}},
            "pdf": {{"standard": {standard}}},
            "content": [{{"type": "heading", "level": 1, "text": "Kept"}},
                        {{"type": "image", "src": "checker.png", "width": 30, "alt": "Squares"}},
                        {{"type": "paragraph", "text": "For the archive."}}]}}"#
    )
}

#[test]
fn pdf_a_and_ua_files_carry_their_identification() {
    for (standard, marks) in [
        ("\"a-2b\"", &["pdfaid:part>2<", "pdfaid:conformance>B<"][..]),
        ("\"a-2u\"", &["pdfaid:part>2<", "pdfaid:conformance>U<"]),
        ("\"a-3b\"", &["pdfaid:part>3<", "pdfaid:conformance>B<"]),
        ("\"a-1b\"", &["pdfaid:part>1<", "pdfaid:conformance>B<"]),
        ("\"a-4\"", &["pdfaid:part>4<"]),
        ("\"ua-1\"", &["pdfuaid:part>1<"]),
        (
            "[\"a-2a\", \"ua-1\"]",
            &["pdfaid:part>2<", "pdfaid:conformance>A<", "pdfuaid:part>1<"],
        ),
    ] {
        let pdf = write(&archived(standard), &PdfOptions::default())
            .unwrap_or_else(|e| panic!("{standard}: {e}"));
        let objs = objects("a.pdf", &pdf);
        for m in marks {
            assert!(objs.contains(m), "{standard}: no {m} in the XMP metadata");
        }
        assert!(objs.contains("/OutputIntents") || standard.contains("ua"));
        let check = Command::new("qpdf")
            .args(["--check", file("a.pdf", &pdf).to_str().expect("utf-8")])
            .output()
            .expect("qpdf");
        assert!(check.status.success(), "{standard}: qpdf --check fails");
    }
    // The call's standards replace the document's.
    let options = PdfOptions {
        standards: vec![PdfStandard::A3u],
        ..PdfOptions::default()
    };
    let pdf = write(&archived("\"a-2b\""), &options).expect("renders");
    assert!(objects("b.pdf", &pdf).contains("pdfaid:part>3<"));
}

fn errors(json: &str, options: &PdfOptions) -> Vec<String> {
    match write(json, options) {
        Ok(_) => panic!("expected errors for {json}"),
        Err(d) => d
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect(),
    }
}

#[test]
fn what_a_standard_forbids_is_reported_with_its_place() {
    // PDF/A needs a date, which ODE takes only from the document.
    let undated = archived("\"a-2b\"").replace(", \"created\": \"2025-01-31\"", "");
    assert_eq!(
        errors(&undated, &PdfOptions::default()),
        [
            "/metadata/created: PDF/A-2b needs the document's creation date, set \"created\" in \"metadata\", for example \"2025-01-31\""
        ]
    );
    // PDF/A-1 forbids transparency: the watermark is translucent.
    let watermarked =
        archived("\"a-1b\"").replace("\"pdf\":", "\"watermark\": {\"text\": \"COPY\"}, \"pdf\":");
    assert_eq!(
        errors(&watermarked, &PdfOptions::default()),
        [
            "/watermark: PDF/A-1b forbids transparency, but the watermark is transparent, remove the opacity or color alpha, or choose PDF/A-2 or later"
        ]
    );
    // PDF/UA-1 needs alternative text for every image, named by its place.
    let undescribed = archived("\"ua-1\"").replace(", \"alt\": \"Squares\"", "");
    assert_eq!(
        errors(&undescribed, &PdfOptions::default()),
        [
            "/content/1: PDF/UA-1 needs alternative text for every image, but the image \"checker.png\" has none, add \"alt\" saying what the image shows"
        ]
    );
    // And a title and a language.
    let untitled = archived("\"ua-1\"").replace("\"title\": \"Kept\", \"language\": \"en\", ", "");
    let got = errors(&untitled, &PdfOptions::default());
    assert!(
        got.iter()
            .any(|e| e.starts_with("/metadata/title: PDF/UA-1 needs a document title")),
        "{got:?}"
    );
    // PDF/A-2b forbids characters that no font has; the paragraph is named.
    let missing = archived("\"a-2b\"").replace("For the archive.", "Archive 漢");
    let got = errors(&missing, &PdfOptions::default());
    assert!(
        got.iter().any(|e| e.starts_with(
            "/content/2: PDF/A-2b forbids characters that no font has, but the paragraph shows \"漢\""
        )),
        "{got:?}"
    );
    // Tagging cannot be turned off for a standard that needs it.
    let off = PdfOptions {
        tagged: false,
        ..PdfOptions::default()
    };
    assert_eq!(
        errors(&archived("\"ua-1\""), &off),
        ["/: PDF/UA-1 needs a tagged PDF, do not turn tagging off"]
    );
}
