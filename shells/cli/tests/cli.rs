//! The `ode` binary, used the way people use it: on the example documents, checked with
//! the PDF tools a reader would use (poppler's pdftotext/pdffonts/pdfinfo and qpdf).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ode() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ode"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ode-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn tool(name: &str, args: &[&str]) -> Output {
    Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed by this test (poppler-utils, qpdf): {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn render(input: &Path, output: &Path) -> Output {
    let o = ode()
        .arg("render")
        .arg(input)
        .arg("-o")
        .arg(output)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "ode render {} failed: {}",
        input.display(),
        stderr(&o)
    );
    o
}

/// Checks what every PDF we write must satisfy; returns its text.
fn check_pdf(pdf: &Path) -> (String, usize) {
    let p = pdf.to_str().unwrap();
    let check = tool("qpdf", &["--check", p]);
    assert!(
        check.status.success(),
        "qpdf --check {p}: {}{}",
        stdout(&check),
        stderr(&check)
    );
    let fonts = stdout(&tool("pdffonts", &[p]));
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "no fonts in {p}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type... emb sub uni object ID
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            &["yes", "yes", "yes"],
            "font not embedded, subset and mapped: {row}"
        );
        assert!(cols[0].contains('+'), "subset fonts carry a tag: {row}");
    }
    let info = stdout(&tool("pdfinfo", &[p]));
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|v| v.trim().parse().unwrap())
        .expect("pdfinfo reports pages");
    let text = stdout(&tool("pdftotext", &["-layout", p, "-"]));
    (text, pages)
}

fn in_order(text: &str, phrases: &[&str]) {
    let mut at = 0;
    for p in phrases {
        match text[at..].find(p) {
            Some(i) => at += i + p.len(),
            None => panic!("{p:?} not found after byte {at} in:\n{text}"),
        }
    }
}

#[test]
fn the_invoice_example_renders_to_one_valid_page() {
    let out = tmp("invoice.pdf");
    render(&repo().join("examples/invoice.json"), &out);
    let (text, pages) = check_pdf(&out);
    assert_eq!(pages, 1);
    in_order(
        &text,
        &[
            "INVOICE",
            "INV-2024-0042",
            "Description",
            "Total",
            "Thank you for your business",
        ],
    );
    let info = stdout(&tool("pdfinfo", &[out.to_str().unwrap()]));
    assert!(info.contains("Title:"), "{info}");
    assert!(
        info.contains("CreationDate:"),
        "the example gives a date: {info}"
    );
}

#[test]
fn the_report_example_has_an_outline_links_and_page_x_of_y() {
    let out = tmp("report.pdf");
    render(&repo().join("examples/report.json"), &out);
    let (text, pages) = check_pdf(&out);
    assert!((15..=30).contains(&pages), "{pages} pages");
    assert!(text.contains(&format!("Page 2 of {pages}")), "footer");
    assert!(
        text.contains(&format!("Page {pages} of {pages}")),
        "footer on the last page"
    );
    // Outline and links, read from an uncompressed copy.
    let qdf = tmp("report-qdf.pdf");
    let o = tool(
        "qpdf",
        &[
            "--qdf",
            "--object-streams=disable",
            out.to_str().unwrap(),
            qdf.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let raw = String::from_utf8_lossy(&std::fs::read(&qdf).unwrap()).into_owned();
    assert!(raw.contains("/Outlines"), "outline present");
    assert!(
        raw.matches("/Title (").count() + raw.matches("/Title <").count() >= 6,
        "outline entries"
    );
    let links: Vec<&str> = raw
        .split("endobj")
        .filter(|o| o.contains("/Subtype /Link"))
        .collect();
    assert!(links.iter().any(|o| o.contains("/URI (http")), "a URL link");
    assert!(
        links.iter().any(|o| o.contains("/Dest ")),
        "an internal link"
    );
}

#[test]
fn the_showcase_example_renders_every_feature_without_errors() {
    let out = tmp("showcase.pdf");
    let o = render(&repo().join("examples/showcase.json"), &out);
    let (text, pages) = check_pdf(&out);
    assert!(pages >= 3, "{pages}");
    assert!(
        text.contains("Ελληνικά") || text.contains("Ελλην"),
        "Greek text extracts"
    );
    let warnings = stderr(&o);
    assert!(!warnings.contains("error"), "{warnings}");
}

#[test]
fn the_chart_examples_svg_labels_are_text_in_the_documents_fonts() {
    let out = tmp("chart.pdf");
    let o = render(&repo().join("examples/chart.json"), &out);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let (text, pages) = check_pdf(&out);
    assert_eq!(pages, 1);
    // The SVG's labels, set in DejaVu (its families: Helvetica, sans-serif and serif).
    in_order(
        &text,
        &[
            "Revenue by quarter (k€)",
            "180",
            "120",
            "60",
            "Q1",
            "Q2",
            "Q3",
            "Q4",
        ],
    );
    assert!(text.contains("thousand euros"), "{text}");
    let fonts = stdout(&tool("pdffonts", &[out.to_str().unwrap()]));
    for face in ["DejaVuSans-Bold", "DejaVuSans", "DejaVuSerif-Italic"] {
        assert!(fonts.contains(face), "{face} in\n{fonts}");
    }
}

#[test]
fn the_handbook_example_has_true_contents_footnotes_and_cross_references() {
    let out = tmp("handbook.pdf");
    let o = render(&repo().join("examples/handbook.json"), &out);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let (text, pages) = check_pdf(&out);
    assert!((8..=16).contains(&pages), "{pages} pages");
    let page_texts: Vec<String> = (1..=pages)
        .map(|i| {
            let n = i.to_string();
            stdout(&tool(
                "pdftotext",
                &["-layout", "-f", &n, "-l", &n, out.to_str().unwrap(), "-"],
            ))
        })
        .collect();
    // Each contents line "title . . . n" names the page where the heading stands.
    let contents = &page_texts[0];
    let mut checked = 0;
    for line in contents.lines().filter(|l| l.contains(". . .")) {
        let title = line.split(" .").next().unwrap().trim();
        let shown: usize = line.split_whitespace().last().unwrap().parse().unwrap();
        let at = page_texts
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, t)| t.lines().any(|l| l.trim() == title))
            .map(|(i, _)| i + 1)
            .unwrap_or_else(|| panic!("heading {title:?} not found"));
        assert_eq!(shown, at, "{title}");
        checked += 1;
    }
    assert!(checked >= 15, "{checked} contents lines");
    // The cross-references on the first page agree with the contents.
    let production = contents
        .lines()
        .find(|l| l.trim_start().starts_with("4. Production"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap();
    let intro: String = contents.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        intro.contains(&format!("production starts on page {production};")),
        "{intro}"
    );
    // Footnotes: each page's notes are the numbers referenced on it, under the text.
    in_order(
        &text,
        &[
            "clients.1",
            "The first edition was written in 2019",
            &format!("Page 2 of {pages}"),
        ],
    );
    // The long note starts on one page and ends on the next.
    let count = |t: &String| t.matches("deliberately").count();
    let first = page_texts.iter().position(|t| count(t) > 0).unwrap();
    assert!(count(&page_texts[first + 1]) > 0, "the note continues");
    assert_eq!(
        count(&page_texts[first]) + count(&page_texts[first + 1]),
        14
    );
    assert!(
        text.contains("NORTHWIND STUDIO"),
        "the absolute block is drawn"
    );
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    let (a, b) = (tmp("det-a.pdf"), tmp("det-b.pdf"));
    render(&repo().join("examples/report.json"), &a);
    render(&repo().join("examples/report.json"), &b);
    assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap());
}

#[test]
fn invalid_input_exits_1_with_path_and_suggestion() {
    let doc = tmp("bad.json");
    std::fs::write(
        &doc,
        r#"{"ode": 1, "content": [{"type": "table", "columns": [100, 100], "rows": [{"cells": ["a", {"text": "b", "colspn": 2}]}]}, {"type": "paragraph", "txt": "x"}]}"#,
    )
    .unwrap();
    for cmd in ["validate", "render"] {
        let mut c = ode();
        c.arg(cmd).arg(&doc);
        if cmd == "render" {
            c.arg("-o").arg(tmp("bad.pdf"));
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{cmd}");
        let err = stderr(&o);
        let name = doc.display().to_string();
        assert!(err.contains(&format!(r#"{name}: /content/0/rows/0/cells/1: unknown field "colspn", did you mean "colspan"?"#)), "{err}");
        assert!(
            err.contains(&format!(
                r#"{name}: /content/1: unknown field "txt", did you mean "text"?"#
            )),
            "{err}"
        );
    }
    assert!(!tmp("bad.pdf").exists());
}

#[test]
fn a_failed_render_leaves_an_existing_output_untouched() {
    let out = tmp("keep.pdf");
    std::fs::write(&out, b"previous").unwrap();
    let doc = tmp("missing-image.json");
    std::fs::write(
        &doc,
        r#"{"ode": 1, "content": [{"type": "image", "src": "nowhere.png"}]}"#,
    )
    .unwrap();
    let o = ode()
        .arg("render")
        .arg(&doc)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(r#"/content/0/src: image "nowhere.png" not found"#),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
}

#[test]
fn wrong_usage_exits_2() {
    assert_eq!(ode().arg("render").output().unwrap().status.code(), Some(2));
    assert_eq!(
        ode()
            .args(["render", "x.json", "-o", "y.pdf", "--bogus"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    let doc = tmp("two-pages.json");
    std::fs::write(&doc, r#"{"ode": 1, "content": [{"type": "paragraph", "text": "a"}, {"type": "page_break"}, {"type": "paragraph", "text": "b"}]}"#)
        .unwrap();
    let o = ode()
        .arg("render")
        .arg(&doc)
        .args(["-o", "-", "--format", "svg"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn stdin_to_stdout_works_for_pdf() {
    let mut child = ode()
        .args(["render", "-", "-o", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"ode": 1, "content": [{"type": "paragraph", "text": "piped through"}]}"#)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.starts_with(b"%PDF-"));
    let pdf = tmp("piped.pdf");
    std::fs::write(&pdf, &o.stdout).unwrap();
    assert!(check_pdf(&pdf).0.contains("piped through"));
}

#[test]
fn svg_output_writes_one_file_per_page() {
    let doc = tmp("svg-pages.json");
    std::fs::write(&doc, r#"{"ode": 1, "content": [{"type": "paragraph", "text": "first"}, {"type": "page_break"}, {"type": "paragraph", "text": "second"}]}"#)
        .unwrap();
    let out = tmp("pages.svg");
    render(&doc, &out);
    for i in 1..=2 {
        let svg = std::fs::read_to_string(tmp(&format!("pages-{i}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("<use"), "glyphs are drawn");
    }
    let o = ode()
        .arg("render")
        .arg(&doc)
        .args(["-o", "-", "--format", "svg", "--page", "2"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(stdout(&o).starts_with("<svg"));
}

#[test]
fn fonts_are_added_from_files_and_bad_ones_are_refused() {
    let doc = tmp("font.json");
    std::fs::write(&doc, r#"{"ode": 1, "content": [{"type": "paragraph", "font": "DejaVu Serif", "text": "serif"}]}"#).unwrap();
    let font = repo().join("ode-core/fonts/DejaVuSerif.ttf");
    let o = ode()
        .arg("render")
        .arg(&doc)
        .arg("-o")
        .arg(tmp("font.pdf"))
        .arg("--font")
        .arg(&font)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let bad = tmp("bad.ttf");
    std::fs::write(&bad, b"not a font").unwrap();
    let o = ode()
        .arg("render")
        .arg(&doc)
        .arg("-o")
        .arg(tmp("font2.pdf"))
        .arg("--font")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not a TrueType or OpenType font"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_schema_command_prints_the_json_schema() {
    let o = ode().arg("schema").output().unwrap();
    assert!(o.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(schema["title"], "ODE document");
    assert!(
        schema["$schema"]
            .as_str()
            .unwrap()
            .contains("json-schema.org")
    );
    assert!(
        schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "content")
    );
}

#[test]
fn every_example_validates_cleanly() {
    for name in ["invoice", "report", "showcase", "handbook"] {
        let o = ode()
            .arg("validate")
            .arg(repo().join(format!("examples/{name}.json")))
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{name} has warnings: {}", stderr(&o));
    }
}

#[test]
fn the_summary_names_the_svg_files_written_and_page_zero_is_refused() {
    let doc = tmp("summary.json");
    std::fs::write(&doc, r#"{"ode": 1, "content": [{"type": "paragraph", "text": "a"}, {"type": "page_break"}, {"type": "paragraph", "text": "b"}]}"#).unwrap();
    let o = ode()
        .arg("render")
        .arg(&doc)
        .arg("-o")
        .arg(tmp("sum.svg"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("2 pages written to") && err.contains("sum-1.svg … sum-2.svg"),
        "{err}"
    );
    let o = ode()
        .arg("render")
        .arg(&doc)
        .args(["-o", "-", "--format", "svg", "--page", "0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--page counts from 1"));
}

/// The file with its streams uncompressed, as text.
fn uncompressed(pdf: &Path) -> String {
    let out = pdf.with_extension("qdf.pdf");
    let o = tool(
        "qpdf",
        &[
            "--qdf",
            "--object-streams=disable",
            pdf.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success() || o.status.code() == Some(3));
    String::from_utf8_lossy(&std::fs::read(out).unwrap()).into_owned()
}

#[test]
fn pdfs_are_tagged_unless_untagged_is_asked_for() {
    let input = repo().join("examples/report.json");
    let tagged = tmp("report-tagged.pdf");
    render(&input, &tagged);
    let untagged = tmp("report-untagged.pdf");
    let o = ode()
        .args(["render", "--untagged", "-o"])
        .arg(&untagged)
        .arg(&input)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let tree = stdout(&tool(
        "pdfinfo",
        &["-struct-text", tagged.to_str().unwrap()],
    ));
    assert!(tree.starts_with("Document"), "{tree}");
    assert!(tree.contains("H1 \"") && tree.contains("TH") && tree.contains("TD"));
    assert!(uncompressed(&tagged).contains("/StructTreeRoot"));
    assert!(!uncompressed(&untagged).contains("/StructTreeRoot"));
    // Same text, same pages, fewer bytes.
    let (text_t, pages_t) = check_pdf(&tagged);
    let (text_u, pages_u) = check_pdf(&untagged);
    assert_eq!((text_t, pages_t), (text_u, pages_u));
    assert!(
        std::fs::metadata(&untagged).unwrap().len() < std::fs::metadata(&tagged).unwrap().len()
    );
}

#[test]
fn pdf_standard_writes_pdf_a_or_reports_what_it_forbids() {
    let input = repo().join("examples/report.json");
    let out = tmp("report-a2b.pdf");
    let o = ode()
        .args(["render", "--pdf-standard", "a-2b", "-o"])
        .arg(&out)
        .arg(&input)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    check_pdf(&out);
    let objs = uncompressed(&out);
    assert!(objs.contains("pdfaid:part>2<") && objs.contains("pdfaid:conformance>B<"));
    // PDF/A-1 forbids the showcase's translucent watermark: exit 1, the place named,
    // and no file.
    let out = tmp("showcase-a1b.pdf");
    let o = ode()
        .args(["render", "--pdf-standard", "a-1b", "-o"])
        .arg(&out)
        .arg(repo().join("examples/showcase.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "showcase.json: /watermark: PDF/A-1b forbids transparency, but the watermark is transparent"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn pdf_flags_are_checked_as_usage() {
    let input = repo().join("examples/invoice.json");
    for args in [
        &["--pdf-standard", "a-9"][..],
        &["--untagged", "-f", "svg"],
        &["--pdf-standard", "a-2b", "-f", "png"],
    ] {
        let o = ode()
            .arg("render")
            .args(args)
            .arg("-o")
            .arg(tmp("flags.out"))
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = ode()
        .args(["render", "--pdf-standard", "a-9", "-o", "x.pdf"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("unknown PDF standard \"a-9\""),
        "{}",
        stderr(&o)
    );
    // A standard that needs tagging cannot go with --untagged.
    let o = ode()
        .args(["render", "--untagged", "--pdf-standard", "ua-1", "-o"])
        .arg(tmp("ua.pdf"))
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("PDF/UA-1 needs a tagged PDF"),
        "{}",
        stderr(&o)
    );
}
