//! Typography: text in many scripts with the Noto fonts Debian packages
//! (`fonts-noto-core`, `fonts-noto-cjk`; `scripts/test.sh` installs them) — shaping
//! (glyph ids from the shaper), bidi visual order in the frames, line breaking, and the
//! text extracted from the PDF by `pdftotext` — plus hyphenation, soft hyphens,
//! OpenType features and font fallback chains. The tests fail, not skip, when the
//! fonts are missing.

use std::path::Path;
use std::process::Command;

use ode_core::MemoryResources;
use ode_core::frame::{Item, PagedDocument, TextItem};
use ode_core::text::FontBook;

const FONTS: &[&str] = &[
    "truetype/noto/NotoSansArabic-Regular.ttf",
    "truetype/noto/NotoSansHebrew-Regular.ttf",
    "truetype/noto/NotoSansDevanagari-Regular.ttf",
    "truetype/noto/NotoSansThai-Regular.ttf",
    "opentype/noto/NotoSansCJK-Regular.ttc",
];

fn resources() -> MemoryResources {
    let mut book = FontBook::with_defaults();
    for f in FONTS {
        let path = Path::new("/usr/share/fonts").join(f);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install fonts-noto-core and fonts-noto-cjk (scripts/test.sh does)",
                path.display()
            )
        });
        book.add(bytes).unwrap();
    }
    MemoryResources::new(book)
}

fn render(res: &MemoryResources, json: &str) -> PagedDocument {
    let w = ode_core::compile(json, res).unwrap_or_else(|d| panic!("{d}"));
    w.output
}

fn texts(doc: &PagedDocument) -> Vec<&TextItem> {
    doc.pages
        .iter()
        .flat_map(|p| p.items.iter())
        .filter_map(|i| match i {
            Item::Text(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn pdftotext(res: &MemoryResources, json: &str, name: &str) -> String {
    let pdf = ode_core::render_pdf(json, res).unwrap();
    let dir = std::env::temp_dir().join(format!("ode-scripts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn doc(style: &str, content: &str) -> String {
    format!(
        r#"{{"ode": 1, "page": {{"size": "A5", "margins": 36}}, "styles": {{"default": {style}}}, "content": [{content}]}}"#
    )
}

/// A glyph placed on the page: absolute x, id, and the text it shows.
#[derive(Debug, Clone)]
struct Placed {
    x: f32,
    y: f32,
    id: u16,
    text: String,
}

/// Every glyph of the document in drawing order, with absolute x positions.
fn placed(doc: &PagedDocument) -> Vec<Placed> {
    let mut out = Vec::new();
    for t in texts(doc) {
        let mut x = t.origin.x;
        for g in &t.glyphs {
            out.push(Placed {
                x,
                y: t.origin.y,
                id: g.id,
                text: t.text[g.text_start as usize..g.text_end as usize].to_string(),
            });
            x += g.x_advance;
        }
    }
    out
}

/// Text without whitespace and bidi controls: `pdftotext` marks direction changes
/// with embedding controls and places spaces at direction boundaries by its own
/// rules, so the order of the characters is what is compared.
fn letters(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !('\u{200e}'..='\u{200f}').contains(c))
        .filter(|c| {
            !('\u{202a}'..='\u{202e}').contains(c) && !('\u{2066}'..='\u{2069}').contains(c)
        })
        .collect()
}

/// The x of the glyph showing the first character of `needle`.
fn x_of(glyphs: &[Placed], needle: char) -> f32 {
    glyphs
        .iter()
        .find(|g| g.text.starts_with(needle))
        .unwrap_or_else(|| panic!("no glyph shows {needle:?}"))
        .x
}

const ARABIC: &str = "مرحبا بالعالم ODE 2024 سلام";

#[test]
fn arabic_joins_and_reads_right_to_left() {
    let res = resources();
    let json = doc(
        r#"{"font": "Noto Sans Arabic", "font_fallback": ["DejaVu Sans"], "size": 14}"#,
        &format!(
            r#"{{"type": "paragraph", "text": "{ARABIC}"}}, {{"type": "paragraph", "text": "ب ببب"}}"#
        ),
    );
    let d = render(&res, &json);
    let g = placed(&d);
    // The letter beh isolated, initial, medial and final: four different glyphs.
    let last_y = g.last().unwrap().y;
    let behs: Vec<u16> = g
        .iter()
        .filter(|p| p.text == "ب" && p.y == last_y)
        .map(|p| p.id)
        .collect();
    assert_eq!(behs.len(), 4, "{g:?}");
    let mut distinct = behs.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "joining forms {behs:?}");
    // Visual order: words right to left, the Latin and the number left to right.
    assert!(x_of(&g, 'ح') > x_of(&g, 'ع'), "first word rightmost");
    assert!(x_of(&g, 'ع') > x_of(&g, 'O'));
    assert!(
        x_of(&g, 'O') < x_of(&g, '2'),
        "ODE 2024 keeps its own order"
    );
    assert!(x_of(&g, '2') > x_of(&g, 'س'), "last word leftmost");
    // Letters of a word: x decreases in logical order.
    let word: Vec<f32> = g
        .iter()
        .filter(|p| "مرحبا".contains(p.text.as_str()) && p.y == g[0].y)
        .map(|p| p.x)
        .collect();
    assert!(
        word.windows(2).all(|w| w[0] < w[1]),
        "drawn left to right: {word:?}"
    );
    // Right-to-left paragraphs align right by default.
    let t = texts(&d);
    let right = t
        .iter()
        .filter(|t| t.origin.y == t.origin.y.min(g[0].y))
        .map(|t| t.origin.x + t.width())
        .fold(0.0f32, f32::max);
    let page_right = 419.53 - 36.0;
    assert!((right - page_right).abs() < 0.5, "right edge {right}");
    // Extraction gives the logical text (lam-alef ligature included).
    let text = pdftotext(&res, &json, "arabic");
    assert_eq!(
        letters(text.lines().next().unwrap()),
        letters(ARABIC),
        "{text:?}"
    );
}
