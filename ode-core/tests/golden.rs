//! Golden tests: every document in `tests/suite/` is laid out and its frames are
//! written in a compact text form, compared with `tests/ref/frames/<name>.txt`.
//!
//! `ODE_BLESS=1 cargo test -p ode-core --test golden` rewrites the references. On a
//! mismatch, `target/ode-golden/report.html` shows the differing lines beside the
//! rendered pages (the SVG export), so a change can be judged by eye.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ode_core::frame::{Item, LinkTarget, PagedDocument};
use ode_core::text::FontBook;
use ode_core::{MemoryResources, Resources};

fn n(v: f32) -> String {
    let r = (v * 100.0).round() / 100.0;
    let r = if r == 0.0 { 0.0 } else { r };
    format!("{r}")
}

fn dump_items(out: &mut String, items: &[Item], fonts: &FontBook, indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Item::Text(t) => {
                let f = fonts.face(t.font);
                let style = match (f.weight >= 600, f.italic) {
                    (true, true) => " bold-italic",
                    (true, false) => " bold",
                    (false, true) => " italic",
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    "{pad}text {},{} \"{}\"{style} {} {} w={} {:?}",
                    n(t.origin.x),
                    n(t.origin.y),
                    f.family,
                    n(t.size),
                    t.color.to_hex(),
                    n(t.width()),
                    t.text
                );
            }
            Item::Rect(r) => {
                let _ = write!(
                    out,
                    "{pad}rect {},{} {}x{}",
                    n(r.rect.x),
                    n(r.rect.y),
                    n(r.rect.width),
                    n(r.rect.height)
                );
                if let Some(c) = r.fill {
                    let _ = write!(out, " fill={}", c.to_hex());
                }
                if let Some((c, w)) = r.stroke {
                    let _ = write!(out, " stroke={}/{}", c.to_hex(), n(w));
                }
                out.push('\n');
            }
            Item::Line(l) => {
                let _ = writeln!(
                    out,
                    "{pad}line {},{} -> {},{} {} {}",
                    n(l.from.x),
                    n(l.from.y),
                    n(l.to.x),
                    n(l.to.y),
                    l.color.to_hex(),
                    n(l.width)
                );
            }
            Item::Image(i) => {
                let _ = write!(
                    out,
                    "{pad}image #{} {},{} {}x{}",
                    i.image,
                    n(i.rect.x),
                    n(i.rect.y),
                    n(i.rect.width),
                    n(i.rect.height)
                );
                if let Some(c) = i.clip {
                    let _ = write!(
                        out,
                        " clip {},{} {}x{}",
                        n(c.x),
                        n(c.y),
                        n(c.width),
                        n(c.height)
                    );
                }
                out.push('\n');
            }
            Item::Link(l) => {
                let target = match &l.target {
                    LinkTarget::Url(u) => u.clone(),
                    LinkTarget::Anchor(a) => format!("#{a}"),
                };
                let _ = writeln!(
                    out,
                    "{pad}link {},{} {}x{} -> {target}",
                    n(l.rect.x),
                    n(l.rect.y),
                    n(l.rect.width),
                    n(l.rect.height)
                );
            }
            Item::Group(g) => {
                let t = g.transform;
                let _ = writeln!(
                    out,
                    "{pad}group matrix({} {} {} {} {} {}) opacity={}",
                    n(t.a),
                    n(t.b),
                    n(t.c),
                    n(t.d),
                    n(t.e),
                    n(t.f),
                    n(g.opacity)
                );
                dump_items(out, &g.items, fonts, indent + 2);
            }
        }
    }
}

fn dump(doc: &PagedDocument, warnings: &[ode_core::Diagnostic], fonts: &FontBook) -> String {
    let mut out = String::new();
    for w in warnings {
        let _ = writeln!(out, "{w}");
    }
    for e in &doc.outline {
        let _ = writeln!(
            out,
            "outline {} {:?} page {} y={}",
            e.level,
            e.title,
            e.location.page + 1,
            n(e.location.point.y)
        );
    }
    for (name, loc) in &doc.anchors {
        let _ = writeln!(
            out,
            "anchor #{name} page {} y={}",
            loc.page + 1,
            n(loc.point.y)
        );
    }
    for (i, page) in doc.pages.iter().enumerate() {
        let _ = writeln!(
            out,
            "page {} {}x{}",
            i + 1,
            n(page.size.width),
            n(page.size.height)
        );
        dump_items(&mut out, &page.items, fonts, 2);
    }
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The built-in fonts, the Noto fonts the script documents (`text-bidi-*`,
/// `text-scripts-*`, `text-cjk-*`) use, and the test assets.
fn resources() -> MemoryResources {
    let mut res = MemoryResources::new(common::noto_book());
    for entry in std::fs::read_dir(root().join("assets")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        res.insert(name, std::fs::read(&path).unwrap());
    }
    res
}

#[test]
fn every_suite_document_matches_its_reference_frames() {
    let bless = std::env::var_os("ODE_BLESS").is_some();
    let res = resources();
    let report_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ode-golden");
    let mut failures = Vec::new();
    let mut report = String::from(
        "<!doctype html><meta charset=utf-8><title>ODE golden failures</title><style>body{font-family:sans-serif} pre{background:#f4f4f4;padding:8px;overflow:auto} .page{display:inline-block;border:1px solid #ccc;margin:4px;vertical-align:top}</style>",
    );
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root().join("suite"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "the suite lost cases: {cases:?}");
    for case in &cases {
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        let json = std::fs::read_to_string(case).unwrap();
        let warned = ode_core::compile(&json, &res).unwrap_or_else(|d| panic!("{name}: {d}"));
        let actual = dump(&warned.output, &warned.warnings, res.fonts());
        let reference = root().join("ref/frames").join(format!("{name}.txt"));
        if bless {
            std::fs::create_dir_all(reference.parent().unwrap()).unwrap();
            std::fs::write(&reference, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&reference).unwrap_or_default();
        if expected != actual {
            let diff: Vec<String> = expected
                .lines()
                .zip(actual.lines())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .take(20)
                .map(|(i, (a, b))| format!("line {}:\n- {a}\n+ {b}", i + 1))
                .collect();
            let _ = write!(
                report,
                "<h2>{name}</h2><pre>{}</pre>",
                html_escape(&diff.join("\n"))
            );
            for svg in ode_core::export::svg(&warned.output, res.fonts(), &Default::default()) {
                let _ = write!(report, "<div class=page>{svg}</div>");
            }
            std::fs::create_dir_all(&report_dir).unwrap();
            std::fs::write(report_dir.join(format!("{name}.txt")), &actual).unwrap();
            failures.push(format!(
                "{name}: frames differ from {} ({} vs {} lines)\n{}",
                reference.display(),
                expected.lines().count(),
                actual.lines().count(),
                diff.join("\n")
            ));
        }
    }
    if !failures.is_empty() {
        std::fs::create_dir_all(&report_dir).unwrap();
        std::fs::write(report_dir.join("report.html"), report).unwrap();
        panic!(
            "{} golden case(s) failed; see {}/report.html, or bless with ODE_BLESS=1\n{}",
            failures.len(),
            report_dir.display(),
            failures.join("\n\n")
        );
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
