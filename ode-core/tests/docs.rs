//! The examples in the documentation are documents, and this test keeps them true.
//!
//! It reads `docs/model.md`, `docs/cli.md` and `README.md` (a file that does not exist
//! is skipped) and checks their fenced code blocks:
//!
//! - a ```` ```json ```` block is a complete document: it must parse, lay out and export
//!   to PDF. If a ```` ```text ```` block follows it directly (only blank lines between),
//!   each of its lines is a warning the document produces, exactly as displayed, in
//!   order; otherwise the document must produce no warning at all;
//! - a ```` ```json-invalid ```` block must be followed directly by a ```` ```text ````
//!   block, and parsing or laying it out must fail with exactly those lines (each
//!   diagnostic's `Display`: `path: message, hint…`), in order;
//! - ```` ```json-fragment ```` blocks (pieces of a document) are not checked.
//!
//! Image sources are served from memory: a key ending in `.svg` gets a 120 × 60 SVG,
//! any other key a 200 × 100 pixel PNG, so that examples can use names such as
//! `logo.png`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ode_core::text::FontBook;
use ode_core::{Diagnostic, MemoryResources, Warned};

/// Width and height of the PNG served for every image key.
const PNG_SIZE: (u32, u32) = (200, 100);

const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60"><rect width="120" height="60" fill="#1e3a8a"/><circle cx="30" cy="30" r="20" fill="#fbbf24"/></svg>"##;

fn fonts() -> &'static FontBook {
    static BOOK: OnceLock<FontBook> = OnceLock::new();
    BOOK.get_or_init(FontBook::with_defaults)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fenced code block of a Markdown file.
struct Fence {
    file: String,
    /// One-based line of the opening fence.
    line: usize,
    /// The info string (`json`, `text`, …).
    lang: String,
    body: String,
    /// Whether only blank lines separate it from the previous fence.
    follows_previous: bool,
}

fn fences(file: &str, text: &str) -> Vec<Fence> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String, String, bool)> = None;
    let mut blank_since_last = false;
    let mut seen_any = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            Some((start, lang, body, follows)) => {
                if trimmed.trim_end() == "```" {
                    out.push(Fence {
                        file: file.to_string(),
                        line: *start,
                        lang: std::mem::take(lang),
                        body: std::mem::take(body),
                        follows_previous: *follows,
                    });
                    open = None;
                    blank_since_last = true;
                    seen_any = true;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let follows = seen_any && blank_since_last;
                    open = Some((i + 1, info.trim().to_string(), String::new(), follows));
                } else if !line.trim().is_empty() {
                    blank_since_last = false;
                }
            }
        }
    }
    assert!(open.is_none(), "{file}: a code block is never closed");
    out
}

fn doc_fences() -> Vec<Fence> {
    let mut all = Vec::new();
    for rel in ["docs/model.md", "docs/cli.md", "README.md"] {
        let path = repo().join(rel);
        match std::fs::read_to_string(&path) {
            Ok(text) => all.extend(fences(rel, &text)),
            Err(e) if rel == "README.md" && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    all
}

/// The lines of the ```text block right after fence `i`, if there is one.
fn expected_after(all: &[Fence], i: usize) -> Option<Vec<String>> {
    let next = all.get(i + 1)?;
    (next.file == all[i].file && next.follows_previous && next.lang == "text").then(|| {
        next.body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    })
}

// ---- a tiny PNG encoder (stored deflate blocks) ----

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// An RGB PNG of a diagonal gradient.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend_from_slice(&[(x * 255 / width) as u8, (y * 255 / height) as u8, 160]);
        }
    }
    let mut z = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65_535).peekable();
    while let Some(block) = blocks.next() {
        z.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, no filter, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Fonts, plus an image for every `src` of an image block in the document.
fn resources_for(json: &str) -> MemoryResources {
    fn walk(v: &serde_json::Value, keys: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("type").and_then(|t| t.as_str()) == Some("image")
                    && let Some(src) = m.get("src").and_then(|s| s.as_str())
                {
                    keys.push(src.to_string());
                }
                m.values().for_each(|x| walk(x, keys));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, keys)),
            _ => {}
        }
    }
    let mut res = MemoryResources::new(fonts().clone());
    let mut keys = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(json) {
        walk(&v, &mut keys);
    }
    for key in keys {
        if key.to_ascii_lowercase().ends_with(".svg") {
            res.insert(key, SVG.as_bytes().to_vec());
        } else {
            res.insert(key, png(PNG_SIZE.0, PNG_SIZE.1));
        }
    }
    res
}

/// Each diagnostic as it is displayed: `path: message, hint`.
fn lines<'d>(diags: impl IntoIterator<Item = &'d Diagnostic>) -> Vec<String> {
    diags.into_iter().map(ToString::to_string).collect()
}

fn show(lines: &[String]) -> String {
    if lines.is_empty() {
        "    (nothing)".into()
    } else {
        lines
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[test]
fn every_json_example_in_the_docs_renders() {
    let all = doc_fences();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (i, f) in all.iter().enumerate() {
        if f.lang != "json" {
            continue;
        }
        checked += 1;
        let at = format!("{}:{}", f.file, f.line);
        if let Err(d) = ode_core::model::parse(&f.body) {
            failures.push(format!("{at}: does not parse:\n{}", show(&lines(d.iter()))));
            continue;
        }
        let res = resources_for(&f.body);
        let Warned { output, warnings } = match ode_core::compile(&f.body, &res) {
            Ok(w) => w,
            Err(d) => {
                failures.push(format!(
                    "{at}: does not lay out:\n{}",
                    show(&lines(d.iter()))
                ));
                continue;
            }
        };
        let got = lines(&warnings);
        let want = expected_after(&all, i).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{at}: warnings differ from the text block after it\n  expected:\n{}\n  got:\n{}",
                show(&want),
                show(&got)
            ));
        }
        drop(output);
        // Through the streaming writer, so that the document's `pdf` settings apply.
        let doc = ode_core::model::parse(&f.body).expect("parsed above");
        if let Err(d) = ode_core::pdf_document(
            &doc,
            &res,
            &ode_core::layout::LayoutOptions::default(),
            &ode_core::export::PdfOptions::default(),
        ) {
            failures.push(format!(
                "{at}: PDF export fails:\n{}",
                show(&lines(d.iter()))
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} examples are wrong:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        checked >= 20,
        "only {checked} json examples were found in the docs; expected at least 20"
    );
    eprintln!("{checked} json examples checked");
}

#[test]
fn every_invalid_example_fails_with_exactly_the_error_shown_after_it() {
    let all = doc_fences();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (i, f) in all.iter().enumerate() {
        if f.lang != "json-invalid" {
            continue;
        }
        checked += 1;
        let at = format!("{}:{}", f.file, f.line);
        let Some(want) = expected_after(&all, i) else {
            failures.push(format!(
                "{at}: a json-invalid block needs a ```text block with its errors right after it"
            ));
            continue;
        };
        let res = resources_for(&f.body);
        // Errors come from the model, from layout, or from writing the PDF (what a
        // requested standard forbids).
        let pdf = ode_core::model::parse(&f.body).and_then(|doc| {
            ode_core::pdf_document(
                &doc,
                &res,
                &ode_core::layout::LayoutOptions::default(),
                &ode_core::export::PdfOptions::default(),
            )
        });
        let got = match (ode_core::compile(&f.body, &res), pdf) {
            (Ok(w), Ok(_)) => {
                failures.push(format!(
                    "{at}: was expected to fail, but it lays out (warnings:\n{})",
                    show(&lines(&w.warnings))
                ));
                continue;
            }
            (Err(d), _) | (Ok(_), Err(d)) => lines(d.iter()),
        };
        if got != want {
            failures.push(format!(
                "{at}: errors differ from the text block after it\n  expected:\n{}\n  got:\n{}",
                show(&want),
                show(&got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} invalid examples are wrong:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        checked >= 5,
        "only {checked} json-invalid examples were found in the docs; expected at least 5"
    );
    eprintln!("{checked} json-invalid examples checked");
}

#[test]
fn the_test_png_is_a_valid_image_of_the_announced_size() {
    let bytes = png(PNG_SIZE.0, PNG_SIZE.1);
    let size = imagesize_of(&bytes);
    assert_eq!(size, Some(PNG_SIZE));
    // And the engine takes it: 200 × 100 px at 96 dpi is 150 × 75 pt.
    let json = r#"{"ode": 1, "content": [{"type": "image", "src": "x.png"}]}"#;
    let res = resources_for(json);
    let doc = ode_core::compile(json, &res)
        .expect("the image lays out")
        .output;
    let img = doc.pages[0]
        .items
        .iter()
        .find_map(|i| match i {
            ode_core::frame::Item::Image(img) => Some(img.rect),
            _ => None,
        })
        .expect("an image item");
    assert_eq!((img.width, img.height), (150.0, 75.0));
    ode_core::export::pdf(&doc, &res.fonts, &ode_core::export::PdfOptions::default())
        .expect("the PNG decodes in the PDF exporter");
}

/// Width and height from a PNG's IHDR.
fn imagesize_of(png: &[u8]) -> Option<(u32, u32)> {
    let w = u32::from_be_bytes(png.get(16..20)?.try_into().ok()?);
    let h = u32::from_be_bytes(png.get(20..24)?.try_into().ok()?);
    Some((w, h))
}

#[test]
fn fences_are_found_with_their_language_and_whether_they_follow_each_other() {
    let md = "intro\n\n```json\n{}\n```\n\n```text\nw\n```\nprose\n```json-invalid\nx\n```\n";
    let f = fences("t.md", md);
    let langs: Vec<&str> = f.iter().map(|f| f.lang.as_str()).collect();
    assert_eq!(langs, ["json", "text", "json-invalid"]);
    assert_eq!(f[0].line, 3);
    assert!(!f[0].follows_previous);
    assert!(f[1].follows_previous);
    assert!(!f[2].follows_previous);
    assert_eq!(f[1].body, "w\n");
}
