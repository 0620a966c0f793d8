//! Shared code of the fuzz targets: the resources they render with, the render itself,
//! and the document generator of `render_structured`.
//!
//! The generator reads the fuzzer's bytes as a stream of choices and writes a JSON
//! document that the decoder accepts: every number lies within its accepted range, but
//! it is often at an edge of that range (font sizes 0.5 and 1000, spacers 0 and
//! 14,400pt, margins that leave a sliver of page, letter spacing −20 and 200, negative
//! first-line indents, colspans and rowspans past the table, lists and groups nested as
//! deep as the JSON nesting limit allows), and the text mixes long words, empty strings,
//! control characters, right-to-left, CJK, emoji and combining marks. When the bytes run
//! out every choice reads as 0, which ends lists and picks the plainest value, so short
//! inputs give small documents.

use serde_json::{Map, Value, json};

use ode_core::layout::LayoutOptions;
use ode_core::model::Document;
use ode_core::text::FontBook;
use ode_core::{MemoryResources, Resources};

/// Asset keys the generator uses, and that the seeds of `render` use.
pub const IMAGES: &[&str] = &[
    "checker.png",
    "chart.png",
    "photo.jpg",
    "shape.svg",
    "logo.svg",
    "wide.svg",
    "tall.svg",
    "tiny.svg",
];

/// Fonts plus a few images under the keys of [`IMAGES`], some with extreme proportions.
pub fn resources() -> MemoryResources {
    let mut res = MemoryResources::new(FontBook::with_defaults());
    res.insert(
        "checker.png",
        include_bytes!("../../tests/assets/checker.png").as_slice(),
    );
    res.insert(
        "shape.svg",
        include_bytes!("../../tests/assets/shape.svg").as_slice(),
    );
    res.insert(
        "chart.png",
        include_bytes!("../../../examples/assets/chart.png").as_slice(),
    );
    res.insert(
        "photo.jpg",
        include_bytes!("../../../examples/assets/photo.jpg").as_slice(),
    );
    res.insert(
        "logo.svg",
        include_bytes!("../../../examples/assets/logo.svg").as_slice(),
    );
    let svg = |w: &str, h: &str| {
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><rect width="{w}" height="{h}" fill="#c00"/></svg>"##
        )
        .into_bytes()
    };
    res.insert("wide.svg", svg("14000", "0.01"));
    res.insert("tall.svg", svg("0.01", "14000"));
    res.insert("tiny.svg", svg("0.0001", "0.0001"));
    res
}

/// The layout options of every target: at most 50 pages, the default limits otherwise.
pub fn options() -> LayoutOptions {
    LayoutOptions {
        limits: ode_core::Limits {
            max_pages: 50,
            ..ode_core::Limits::default()
        },
        ..LayoutOptions::default()
    }
}

/// Lays a document out and exports it to PDF, SVG and PNG. The targets look only for panics,
/// hangs and runaway memory, so the outcome is only a summary for people: the page count,
/// or the first diagnostic that stopped layout or export.
pub fn render(
    doc: &Document,
    res: &dyn Resources,
    options: &LayoutOptions,
) -> Result<usize, String> {
    let paged = ode_core::layout::layout(doc, res, options)
        .map_err(|e| format!("layout refused: {}", first_error(&e)))?
        .output;
    ode_core::export::pdf(
        &paged,
        res.fonts(),
        &ode_core::export::PdfOptions::default(),
    )
    .map_err(|e| format!("PDF export refused: {}", first_error(&e)))?;
    let svgs = ode_core::export::svg(
        &paged,
        res.fonts(),
        &ode_core::export::SvgOptions::default(),
    );
    // PNG at a low resolution: the rasterizer's paths, not its pixel count, are what is
    // being tried.
    let png = ode_core::export::png::PngOptions {
        dpi: 18.0,
        ..Default::default()
    };
    for page in paged.pages.iter().take(3) {
        ode_core::export::png::page_png(page, &paged.images, res.fonts(), &png)
            .map_err(|e| format!("PNG export refused: {e}"))?;
    }
    Ok(svgs.len())
}

fn first_error(d: &ode_core::Diagnostics) -> String {
    let first = d.0.iter().find(|d| d.is_error()).or(d.0.first());
    first.map(ToString::to_string).unwrap_or_default()
}

/// Builds a valid document from arbitrary bytes.
pub fn generate(data: &[u8]) -> Value {
    Gen::new(data).document()
}

/// serde_json refuses input nested deeper than 128 arrays and objects.
const MAX_JSON_DEPTH: usize = 120;
/// At most this many blocks in a document, so that one input renders in well under a
/// second in the common case.
const MAX_BLOCKS: usize = 400;
/// At most this many characters of text in a document.
const MAX_TEXT: usize = 60_000;

struct Gen<'a> {
    data: &'a [u8],
    pos: usize,
    blocks: usize,
    text: usize,
    /// Named styles the document defines.
    styles: Vec<String>,
    /// Anchors defined so far (links point only at these).
    anchors: Vec<String>,
}

const BUILTIN_STYLES: &[&str] = &[
    "default",
    "heading",
    "heading1",
    "heading2",
    "heading3",
    "heading4",
    "heading5",
    "heading6",
    "code",
    "header",
    "footer",
    "table",
    "table_header",
    "list",
    "title",
];

const FONTS: &[&str] = &[
    "sans",
    "serif",
    "monospace",
    "DejaVu Sans",
    "DejaVu Serif",
    "DejaVu Sans Mono",
    "No Such Font",
    "",
    "SANS",
];

const COLORS: &[&str] = &[
    "#000000",
    "#fff",
    "navy",
    "red",
    "#12345678",
    "#00000000",
    "#ffffff00",
    "teal",
    "GREY",
];

const WORDS: &[&str] = &[
    "alpha",
    "bravo",
    "a",
    "I",
    "",
    " ",
    "  \t  ",
    "\n",
    "\n\n\n",
    "\r\n",
    "\t",
    "\u{0}",
    "\u{1}\u{2}\u{1b}[0m",
    "\u{7f}",
    "\u{85}",
    "\u{ad}",
    "soft\u{ad}hyphen\u{ad}ated",
    "\u{a0}",
    "non\u{a0}breaking\u{a0}space",
    "\u{200b}",
    "zero\u{200b}width\u{200b}space",
    "\u{200d}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "\u{fffd}",
    "\u{fffe}",
    "\u{ffff}",
    "\u{e000}",
    "\u{10ffff}",
    "\u{202e}reversed\u{202c}",
    "\u{200f}",
    "שלום עולם",
    "مرحبا بالعالم",
    "العربية123",
    "漢字テキスト中文",
    "日本語の文章です。これは長い文です。",
    "한국어",
    "ไทย",
    "हिन्दी",
    "😀",
    "👩\u{200d}👩\u{200d}👧\u{200d}👦",
    "🏳\u{fe0f}\u{200d}🌈",
    "🇩🇪🇫🇷",
    "e\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}\u{307}\u{308}",
    "ﬃ office ﬁ",
    "Ωμέγα",
    "Привет",
    "naïve",
    "12.50",
    "(note)",
    "—",
    "-",
    "https://example.invalid/a/very/long/url/with/no/spaces/at/all/whatsoever",
    "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
];

impl<'a> Gen<'a> {
    fn new(data: &'a [u8]) -> Self {
        Gen {
            data,
            pos: 0,
            blocks: 0,
            text: 0,
            styles: Vec::new(),
            anchors: Vec::new(),
        }
    }

    // ---- reading choices ----

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn exhausted(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn u16(&mut self) -> u16 {
        u16::from(self.byte()) | (u16::from(self.byte()) << 8)
    }

    fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | (u32::from(self.u16()) << 16)
    }

    /// A number in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            usize::from(self.byte()) % n
        } else {
            self.u32() as usize % n
        }
    }

    fn chance(&mut self, in_256: u8) -> bool {
        self.byte() < in_256
    }

    fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[self.below(options.len())]
    }

    /// A fraction in [0, 1].
    fn unit(&mut self) -> f64 {
        f64::from(self.u16()) / f64::from(u16::MAX)
    }

    /// A number in `[lo, hi]`, often at or near an edge.
    fn number(&mut self, lo: f64, hi: f64) -> f64 {
        let v = match self.byte() % 12 {
            0 => lo,
            1 => hi,
            2 => lo.max(0.0).min(hi),
            3 => (lo + 1e-3).min(hi),
            4 => (hi - 1e-3).max(lo),
            5 => 1.0f64.clamp(lo, hi),
            6 => lo + (hi - lo) * self.unit() * self.unit() * self.unit(),
            7 => {
                // Log-uniform over the positive part.
                let a = lo.max(1e-3);
                if hi <= a {
                    hi
                } else {
                    a * (hi / a).powf(self.unit())
                }
            }
            8 => 12.0f64.clamp(lo, hi),
            _ => lo + (hi - lo) * self.unit(),
        };
        v.clamp(lo, hi)
    }

    /// A length in points within `[lo, hi]`, as a JSON number or sometimes a string
    /// with a unit.
    fn length(&mut self, lo: f64, hi: f64) -> Value {
        let v = self.number(lo, hi);
        match self.byte() % 8 {
            // Units convert in f32, which can land a hair outside the range at its edges;
            // use them only away from the edges.
            0 if v > lo + 1.0 && v < hi - 1.0 => json!(format!("{:.3}mm", v * 25.4 / 72.0)),
            1 if v > lo + 1.0 && v < hi - 1.0 => json!(format!("{:.4}in", v / 72.0)),
            2 if v > lo + 1.0 && v < hi - 1.0 => json!(format!("{:.3}px", v / 0.75)),
            3 => json!(format!("{v}pt")),
            _ => json!(v),
        }
    }

    fn color(&mut self) -> Value {
        if self.chance(64) {
            let b = [self.byte(), self.byte(), self.byte(), self.byte()];
            return json!(format!("#{:02x}{:02x}{:02x}{:02x}", b[0], b[1], b[2], b[3]));
        }
        json!(self.pick(COLORS))
    }

    fn random_char(&mut self) -> char {
        let ranges: &[(u32, u32)] = &[
            (0x00, 0x7f),
            (0x80, 0x24f),
            (0x300, 0x36f),
            (0x590, 0x6ff),
            (0x900, 0xdff),
            (0x1100, 0x11ff),
            (0x2000, 0x206f),
            (0x3000, 0x9fff),
            (0xac00, 0xd7a3),
            (0xe000, 0xf8ff),
            (0xfb00, 0xfffd),
            (0x1f300, 0x1faff),
            (0x10000, 0x10ffff),
        ];
        let (lo, hi) = self.pick(ranges);
        let c = lo + self.u32() % (hi - lo + 1);
        char::from_u32(c).unwrap_or('\u{fffd}')
    }

    /// Text: words, blank and control strings, scripts of every direction, and now and
    /// then a very long word or a run of random characters.
    fn text(&mut self) -> String {
        let mut s = String::new();
        let n = match self.byte() % 8 {
            0 => 0,
            1..=4 => 1 + self.below(6),
            5 | 6 => 1 + self.below(40),
            _ => 1 + self.below(400),
        };
        for _ in 0..n {
            if self.text + s.len() > MAX_TEXT {
                break;
            }
            match self.byte() % 16 {
                0 => {
                    // A long word.
                    let len = self.pick(&[80usize, 300, 1000, 3000]);
                    let w = self.pick(&["x", "W", "漢", "\u{301}", "😀", "ﬃ", "\u{ad}", "-"]);
                    s.push_str(&w.repeat(len));
                }
                1 | 2 => {
                    for _ in 0..1 + self.below(12) {
                        let c = self.random_char();
                        s.push(c);
                    }
                }
                _ => {
                    let w = self.pick(WORDS);
                    s.push_str(w);
                }
            }
            if self.byte() % 4 != 0 {
                s.push(' ');
            }
        }
        self.text += s.len();
        s
    }

    fn style_name(&mut self) -> Option<String> {
        if self.styles.is_empty() || self.flag() {
            Some(self.pick(BUILTIN_STYLES).to_string())
        } else {
            let i = self.below(self.styles.len());
            Some(self.styles[i].clone())
        }
    }

    // ---- document ----

    fn document(&mut self) -> Value {
        let mut doc = Map::new();
        doc.insert("ode".into(), json!(1));
        if self.flag() {
            doc.insert("metadata".into(), self.metadata());
        }
        if let Some(page) = self.page() {
            doc.insert("page".into(), page);
        }
        if self.flag() {
            let styles = self.styles();
            doc.insert("styles".into(), styles);
        }
        if self.chance(96) {
            let r = self.region();
            doc.insert("header".into(), r);
        }
        if self.chance(96) {
            let r = self.region();
            doc.insert("footer".into(), r);
        }
        if self.chance(48) {
            let w = self.watermark();
            doc.insert("watermark".into(), w);
        }
        let content = self.blocks(2, true);
        doc.insert("content".into(), Value::Array(content));
        Value::Object(doc)
    }

    fn metadata(&mut self) -> Value {
        let mut m = Map::new();
        if self.flag() {
            m.insert("title".into(), json!(self.text()));
        }
        if self.flag() {
            m.insert("author".into(), json!(self.text()));
        }
        if self.flag() {
            m.insert("subject".into(), json!(self.text()));
        }
        if self.flag() {
            let n = self.below(5);
            let kw: Vec<String> = (0..n).map(|_| self.text()).collect();
            m.insert("keywords".into(), json!(kw));
        }
        if self.flag() {
            let lang = self.pick(&["en", "de-CH", "ar", "he", "zh-Hant-TW", "", "x-💥"]);
            m.insert("language".into(), json!(lang));
        }
        if self.flag() {
            let d = self.pick(&[
                "2024-02-29",
                "1000-01-01",
                "9999-12-31T23:59:59Z",
                "2023-02-31",
                "2024-06-01T00:00",
            ]);
            m.insert("created".into(), json!(d));
        }
        Value::Object(m)
    }

    /// The page setup, or none for the default.
    fn page(&mut self) -> Option<Value> {
        if self.chance(32) {
            return None;
        }
        let mut p = Map::new();
        let (pw, ph);
        if self.flag() {
            let named = self.pick(&[
                ("A3", 841.89, 1190.55),
                ("A4", 595.28, 841.89),
                ("A5", 419.53, 595.28),
                ("Letter", 612.0, 792.0),
                ("legal", 612.0, 1008.0),
            ]);
            p.insert("size".into(), json!(named.0));
            (pw, ph) = (named.1, named.2);
        } else {
            pw = self.number(36.0, 14_400.0);
            ph = self.number(36.0, 14_400.0);
            p.insert("size".into(), json!({"width": pw, "height": ph}));
        }
        if self.flag() {
            p.insert("orientation".into(), json!("landscape"));
        } else if self.flag() {
            p.insert("orientation".into(), json!("portrait"));
        }
        // Margins: the decoder wants left + right < width - 1 and the same vertically,
        // checked on the size before orientation; keep a safety gap for f32 rounding.
        let room_w = (pw - 1.5).max(0.0);
        let room_h = (ph - 1.5).max(0.0);
        if self.flag() {
            let m = match self.byte() % 4 {
                0 => 0.0,
                1 => room_w.min(room_h) / 2.0 * 0.999,
                _ => self.unit() * room_w.min(room_h) / 2.0 * 0.999,
            };
            p.insert("margins".into(), json!(m));
        } else if self.flag() {
            let frac = |g: &mut Self| match g.byte() % 4 {
                0 => 0.0,
                1 => 0.999,
                _ => g.unit() * 0.999,
            };
            let left = frac(self) * room_w;
            let right = frac(self) * (room_w - left);
            let top = frac(self) * room_h;
            let bottom = frac(self) * (room_h - top);
            let mut m = Map::new();
            for (k, v) in [
                ("left", left),
                ("right", right),
                ("top", top),
                ("bottom", bottom),
            ] {
                if v > 0.0 || self.flag() {
                    m.insert(k.into(), json!(v));
                }
            }
            p.insert("margins".into(), Value::Object(m));
        } else if pw.min(ph) < 120.0 {
            // The default margins (20mm) leave no room on so small a page.
            p.insert("margins".into(), json!(0));
        }
        if self.chance(64) {
            p.insert("background".into(), self.color());
        }
        if self.chance(64) {
            let v = self.length(0.0, 14_400.0);
            p.insert("header_gap".into(), v);
        }
        if self.chance(64) {
            let v = self.length(0.0, 14_400.0);
            p.insert("footer_gap".into(), v);
        }
        Some(Value::Object(p))
    }

    fn styles(&mut self) -> Value {
        let mut m: Map<String, Value> = Map::new();
        let n = self.below(6);
        for i in 0..n {
            let name = if self.chance(64) {
                self.pick(BUILTIN_STYLES).to_string()
            } else {
                format!("s{i}")
            };
            if m.contains_key(&name) {
                continue;
            }
            let mut o = self.style_props();
            // A parent among the styles defined before (or a built-in one), never one
            // whose chain of explicit parents leads back here: the decoder refuses those.
            // Built-in styles may name parents too, which makes chains that run through
            // `default` implicitly.
            if self.flag() {
                let parent = if m.is_empty() || self.flag() {
                    self.pick(BUILTIN_STYLES).to_string()
                } else {
                    let keys: Vec<&String> = m.keys().collect();
                    keys[self.below(keys.len())].clone()
                };
                let mut cur = parent.clone();
                let mut cycle = false;
                for _ in 0..32 {
                    if cur == name {
                        cycle = true;
                        break;
                    }
                    match m
                        .get(&cur)
                        .and_then(|s| s.get("parent"))
                        .and_then(Value::as_str)
                    {
                        Some(p) => cur = p.to_string(),
                        None => break,
                    }
                }
                if !cycle {
                    o.insert("parent".into(), json!(parent));
                }
            }
            m.insert(name, Value::Object(o));
        }
        self.styles = m.keys().filter(|n| n.starts_with('s')).cloned().collect();
        Value::Object(m)
    }

    /// Some style properties, each at an edge of its range as often as not.
    fn style_props(&mut self) -> Map<String, Value> {
        let mut o = Map::new();
        let count = self.byte() % 6;
        for _ in 0..count {
            match self.byte() % 16 {
                0 => {
                    o.insert("font".into(), json!(self.pick(FONTS)));
                }
                1 => {
                    o.insert("size".into(), self.length(0.5, 1000.0));
                }
                2 => {
                    let w = if self.flag() {
                        json!(self.pick(&["normal", "bold"]))
                    } else {
                        json!(100 + 100 * self.below(9))
                    };
                    o.insert("weight".into(), w);
                }
                3 => {
                    o.insert("italic".into(), json!(self.flag()));
                }
                4 => {
                    o.insert("color".into(), self.color());
                }
                5 => {
                    o.insert("line_height".into(), json!(self.number(0.5, 10.0)));
                }
                6 => {
                    o.insert(
                        "align".into(),
                        json!(self.pick(&["left", "right", "center", "justify"])),
                    );
                }
                7 => {
                    o.insert("space_before".into(), self.length(0.0, 14_400.0));
                }
                8 => {
                    o.insert("space_after".into(), self.length(0.0, 14_400.0));
                }
                9 => {
                    o.insert("first_line_indent".into(), self.length(-14_400.0, 14_400.0));
                }
                10 => {
                    o.insert("left_indent".into(), self.length(0.0, 14_400.0));
                }
                11 => {
                    o.insert("right_indent".into(), self.length(0.0, 14_400.0));
                }
                12 => {
                    o.insert("letter_spacing".into(), self.length(-20.0, 200.0));
                }
                13 => {
                    o.insert("keep_with_next".into(), json!(self.flag()));
                }
                14 => {
                    o.insert("widows".into(), json!(self.pick(&[1, 2, 3, 50, 100])));
                }
                _ => {
                    o.insert("orphans".into(), json!(self.pick(&[1, 2, 3, 50, 100])));
                }
            }
        }
        o
    }

    fn region(&mut self) -> Value {
        let mut m = Map::new();
        let content = self.blocks(3, false);
        m.insert("content".into(), Value::Array(content));
        if self.chance(64) {
            let first = self.blocks(3, false);
            m.insert("first_page".into(), Value::Array(first));
        }
        Value::Object(m)
    }

    fn watermark(&mut self) -> Value {
        let mut m = Map::new();
        m.insert("text".into(), json!(self.text()));
        if self.flag() {
            m.insert("color".into(), self.color());
        }
        if self.flag() {
            m.insert("size".into(), self.length(0.5, 1000.0));
        }
        if self.flag() {
            m.insert("angle".into(), json!(self.number(-360.0, 360.0)));
        }
        if self.flag() {
            m.insert("opacity".into(), json!(self.number(0.0, 1.0)));
        }
        if self.flag() {
            m.insert("font".into(), json!(self.pick(FONTS)));
        }
        Value::Object(m)
    }

    // ---- blocks ----

    /// A list of blocks at JSON depth `depth` (the depth of the array itself).
    fn blocks(&mut self, depth: usize, body: bool) -> Vec<Value> {
        let mut out = Vec::new();
        let max = if body { 60 } else { 6 };
        while out.len() < max && self.blocks < MAX_BLOCKS && !self.exhausted() {
            if self.byte() % 8 == 0 {
                break;
            }
            let b = self.block(depth + 1);
            out.push(b);
        }
        out
    }

    /// One block, whose object sits at JSON depth `depth`.
    fn block(&mut self, depth: usize) -> Value {
        self.blocks += 1;
        let room = MAX_JSON_DEPTH.saturating_sub(depth);
        let kind = self.byte() % 24;
        // Containers need room for their own levels and at least one level below.
        let kind = match kind {
            14..=16 if room < 6 => 0,
            17..=19 if room < 4 => 0,
            20..=21 if room < 8 => 0,
            22 if room < 6 => 0,
            23 if room < 4 => 0,
            k => k,
        };
        let mut b = match kind {
            0..=5 => self.paragraph(depth),
            6 | 7 => self.heading(depth),
            8 => self.image(),
            9 => self.rule(),
            10 | 11 => {
                let h = self.length(0.0, 14_400.0);
                return json!({"type": "spacer", "height": h});
            }
            12 | 13 => return json!({"type": "page_break"}),
            14..=16 => self.list(depth),
            17..=19 => self.group(depth),
            20 | 21 => self.table(depth),
            22 => self.deep_list(depth),
            _ => self.deep_group(depth),
        };
        let obj = b.as_object_mut().expect("blocks are objects");
        if self.chance(48) {
            obj.extend(self.style_props());
        }
        if self.chance(32) {
            obj.insert("style".into(), json!(self.style_name()));
        }
        if self.chance(24) {
            let a = format!("a{}", self.anchors.len());
            obj.insert("anchor".into(), json!(a));
            self.anchors.push(a);
        }
        b
    }

    fn inline_content(&mut self) -> Vec<Value> {
        let n = self.below(8);
        let mut out = Vec::new();
        for _ in 0..n {
            let v = match self.byte() % 8 {
                0 | 1 => json!(self.text()),
                2 => json!({"line_break": true}),
                3 => {
                    let f = self.pick(&["page_number", "page_count", "title"]);
                    let mut o = self.inline_style();
                    o.insert("field".into(), json!(f));
                    Value::Object(o)
                }
                _ => {
                    let mut o = self.inline_style();
                    o.insert("text".into(), json!(self.text()));
                    Value::Object(o)
                }
            };
            out.push(v);
        }
        out
    }

    fn inline_style(&mut self) -> Map<String, Value> {
        let mut o = Map::new();
        let count = self.byte() % 5;
        for _ in 0..count {
            match self.byte() % 11 {
                0 => {
                    o.insert("style".into(), json!(self.style_name()));
                }
                1 => {
                    o.insert("bold".into(), json!(self.flag()));
                }
                2 => {
                    o.insert("italic".into(), json!(self.flag()));
                }
                3 => {
                    o.insert("underline".into(), json!(self.flag()));
                }
                4 => {
                    o.insert("strike".into(), json!(self.flag()));
                }
                5 => {
                    o.insert("color".into(), self.color());
                }
                6 => {
                    o.insert("size".into(), self.length(0.5, 1000.0));
                }
                7 => {
                    o.insert("font".into(), json!(self.pick(FONTS)));
                }
                8 => {
                    o.insert("baseline".into(), json!(self.pick(&["super", "sub"])));
                }
                9 => {
                    o.insert("code".into(), json!(self.flag()));
                }
                _ => {
                    let link = if !self.anchors.is_empty() && self.flag() {
                        let i = self.below(self.anchors.len());
                        format!("#{}", self.anchors[i])
                    } else {
                        self.pick(&[
                            "https://example.invalid/",
                            "mailto:a@example.invalid",
                            "x",
                            "javascript:alert(1)",
                            "https://example.invalid/ü?q=1#frag ment",
                        ])
                        .to_string()
                    };
                    o.insert("link".into(), json!(link));
                }
            }
        }
        o
    }

    fn text_or_content(&mut self, o: &mut Map<String, Value>) {
        match self.byte() % 3 {
            0 => {
                o.insert("text".into(), json!(self.text()));
            }
            1 => {
                o.insert("content".into(), Value::Array(self.inline_content()));
            }
            _ => {}
        }
    }

    fn paragraph(&mut self, _depth: usize) -> Value {
        let mut o = Map::new();
        o.insert("type".into(), json!("paragraph"));
        self.text_or_content(&mut o);
        Value::Object(o)
    }

    fn heading(&mut self, _depth: usize) -> Value {
        let mut o = Map::new();
        o.insert("type".into(), json!("heading"));
        o.insert("level".into(), json!(1 + self.below(6)));
        self.text_or_content(&mut o);
        if self.chance(48) {
            o.insert("outline".into(), json!(self.flag()));
        }
        Value::Object(o)
    }

    fn image(&mut self) -> Value {
        let mut o = Map::new();
        o.insert("type".into(), json!("image"));
        o.insert("src".into(), json!(self.pick(IMAGES)));
        if self.flag() {
            o.insert("width".into(), self.length(0.0, 14_400.0));
        }
        if self.flag() {
            o.insert("height".into(), self.length(0.0, 14_400.0));
        }
        if self.flag() {
            o.insert(
                "fit".into(),
                json!(self.pick(&["contain", "cover", "fill"])),
            );
        }
        if self.chance(48) {
            o.insert("alt".into(), json!(self.text()));
        }
        Value::Object(o)
    }

    fn rule(&mut self) -> Value {
        let mut o = Map::new();
        o.insert("type".into(), json!("rule"));
        if self.flag() {
            o.insert("thickness".into(), self.length(0.0, 100.0));
        }
        if self.flag() {
            o.insert("line_color".into(), self.color());
        }
        Value::Object(o)
    }

    fn list_items(&mut self, depth: usize) -> Vec<Value> {
        // items array at depth+1, an item's block array at depth+2, its blocks at depth+3.
        let n = match self.byte() % 8 {
            0 => 0,
            7 => self.below(200),
            _ => 1 + self.below(6),
        };
        let mut items = Vec::new();
        for _ in 0..n {
            if self.blocks >= MAX_BLOCKS {
                break;
            }
            if self.flag() || MAX_JSON_DEPTH.saturating_sub(depth) < 5 {
                items.push(json!(self.text()));
            } else {
                items.push(Value::Array(self.blocks(depth + 2, false)));
            }
        }
        items
    }

    fn list_head(&mut self) -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("type".into(), json!("list"));
        if self.flag() {
            o.insert("ordered".into(), json!(self.flag()));
        }
        if self.chance(64) {
            o.insert(
                "start".into(),
                json!(self.pick(&[0, 1, 3999, 4000, 26, 27, 702, 703, 999_999, 1_000_000])),
            );
        }
        if self.chance(96) {
            o.insert(
                "marker".into(),
                json!(self.pick(&[
                    "disc",
                    "circle",
                    "square",
                    "dash",
                    "decimal",
                    "lower-alpha",
                    "upper-alpha",
                    "lower-roman",
                    "upper-roman",
                ])),
            );
        }
        o
    }

    fn list(&mut self, depth: usize) -> Value {
        let mut o = self.list_head();
        o.insert("items".into(), Value::Array(self.list_items(depth)));
        Value::Object(o)
    }

    /// A list nested in its first item as deep as the JSON nesting limit allows (each
    /// level takes three: the items array, the item's block array, the list object).
    fn deep_list(&mut self, depth: usize) -> Value {
        let levels = (MAX_JSON_DEPTH.saturating_sub(depth + 2)) / 3;
        let levels = levels.min(1 + self.below(levels.max(1)));
        let mut inner = {
            let mut o = self.list_head();
            let t = self.text();
            o.insert("items".into(), json!([t]));
            Value::Object(o)
        };
        for _ in 0..levels {
            let mut o = self.list_head();
            let t = self.text();
            o.insert("items".into(), json!([[inner], t]));
            inner = Value::Object(o);
        }
        inner
    }

    fn group(&mut self, depth: usize) -> Value {
        let mut o = Map::new();
        o.insert("type".into(), json!("group"));
        if self.flag() {
            o.insert("keep_together".into(), json!(self.flag()));
        }
        o.insert(
            "content".into(),
            Value::Array(self.blocks(depth + 1, false)),
        );
        Value::Object(o)
    }

    /// Groups nested as deep as the JSON nesting limit allows (two levels each).
    fn deep_group(&mut self, depth: usize) -> Value {
        let levels = (MAX_JSON_DEPTH.saturating_sub(depth + 2)) / 2;
        let levels = levels.min(1 + self.below(levels.max(1)));
        let mut inner = self.paragraph(depth + levels * 2);
        for _ in 0..levels {
            let mut o = Map::new();
            o.insert("type".into(), json!("group"));
            if self.flag() {
                o.insert("keep_together".into(), json!(self.flag()));
            }
            if self.chance(32) {
                o.extend(self.style_props());
            }
            o.insert("content".into(), json!([inner]));
            inner = Value::Object(o);
        }
        inner
    }

    fn column(&mut self) -> Value {
        let w = match self.byte() % 12 {
            0 => json!("auto"),
            1 => json!(format!(
                "{}fr",
                self.pick(&["1", "2", "0.000001", "1000000", "1e30", "3.4e38"])
            )),
            2 => json!(format!("{}fr", 0.01 + 10.0 * self.unit())),
            3 | 4 => self.length(0.0, 14_400.0),
            5 => json!(self.pick(&["0", "1pt", "1in", "5cm"])),
            // Unit strings at the edges of the accepted range.
            6 => json!(self.pick(&["0pt", "14400pt", "200in", "0mm", "0.001px", "19199px"])),
            _ => json!("1fr"),
        };
        if self.chance(64) {
            let a = self.pick(&["left", "right", "center", "justify"]);
            json!({"width": w, "align": a})
        } else {
            w
        }
    }

    fn edges(&mut self) -> Value {
        if self.flag() {
            self.length(0.0, 14_400.0)
        } else {
            let mut m = Map::new();
            for k in ["top", "right", "bottom", "left"] {
                if self.flag() {
                    let hi = if self.flag() { 30.0 } else { 14_400.0 };
                    m.insert(k.into(), self.length(0.0, hi));
                }
            }
            Value::Object(m)
        }
    }

    fn cell(&mut self, depth: usize, ncols: usize, nrows: usize) -> Value {
        // depth: the cell object's depth.
        if self.flag() {
            return json!(self.text());
        }
        let mut o = Map::new();
        if self.chance(64) {
            o.insert("style".into(), json!(self.style_name()));
        }
        match self.byte() % 3 {
            0 => {
                o.insert("text".into(), json!(self.text()));
            }
            1 if MAX_JSON_DEPTH.saturating_sub(depth) >= 3 => {
                o.insert(
                    "content".into(),
                    Value::Array(self.blocks(depth + 1, false)),
                );
            }
            _ => {}
        }
        if self.chance(96) {
            let span = match self.byte() % 4 {
                0 => 1 + self.below(ncols.max(1)),
                1 => (ncols + 1 + self.below(3)).min(1000),
                2 => 1000,
                _ => 2,
            };
            o.insert("colspan".into(), json!(span));
        }
        if self.chance(96) {
            let span = match self.byte() % 4 {
                0 => 1 + self.below(nrows.max(1)),
                1 => (nrows + 1 + self.below(3)).min(100_000),
                2 => 100_000,
                _ => 2,
            };
            o.insert("rowspan".into(), json!(span));
        }
        if self.chance(48) {
            o.insert("background".into(), self.color());
        }
        if self.chance(48) {
            o.insert(
                "valign".into(),
                json!(self.pick(&["top", "middle", "bottom"])),
            );
        }
        if self.chance(32) {
            o.insert("padding".into(), self.edges());
        }
        if self.chance(48) {
            o.extend(self.style_props());
        }
        Value::Object(o)
    }

    fn table(&mut self, depth: usize) -> Value {
        // table object at depth; rows array depth+1; row array (or object+cells) depth+2/3;
        // cell object depth+3/4; its content array depth+4/5.
        let mut o = Map::new();
        o.insert("type".into(), json!("table"));
        let ncols = match self.byte() % 8 {
            0 => 1,
            1 => 50 + self.below(150),
            2 => 1000,
            _ => 1 + self.below(6),
        };
        let cols: Vec<Value> = (0..ncols).map(|_| self.column()).collect();
        o.insert("columns".into(), Value::Array(cols));
        let nrows = match self.byte() % 8 {
            0 => 0,
            1 => 50 + self.below(300),
            _ => 1 + self.below(8),
        };
        let mut rows = Vec::new();
        for _ in 0..nrows {
            if self.blocks >= MAX_BLOCKS || self.text > MAX_TEXT {
                break;
            }
            self.blocks += 1;
            let ncells = match self.byte() % 6 {
                0 => 0,
                1 => ncols + 1 + self.below(4),
                _ => self.below(ncols + 1),
            }
            .min(40);
            let full = self.chance(48);
            let cell_depth = depth + if full { 4 } else { 3 };
            let cells: Vec<Value> = (0..ncells)
                .map(|_| self.cell(cell_depth, ncols, nrows))
                .collect();
            if full {
                let mut r = Map::new();
                r.insert("cells".into(), Value::Array(cells));
                if self.flag() {
                    r.insert("background".into(), self.color());
                }
                rows.push(Value::Object(r));
            } else {
                rows.push(Value::Array(cells));
            }
        }
        if !rows.is_empty() && self.flag() {
            let h = match self.byte() % 3 {
                0 => rows.len(),
                _ => 1 + self.below(rows.len()),
            };
            o.insert("header_rows".into(), json!(h));
        }
        o.insert("rows".into(), Value::Array(rows));
        if self.chance(96) {
            let mut b = Map::new();
            if self.flag() {
                b.insert("width".into(), self.length(0.0, 100.0));
            }
            if self.flag() {
                b.insert("color".into(), self.color());
            }
            if self.flag() {
                b.insert(
                    "lines".into(),
                    json!(self.pick(&["all", "horizontal", "none"])),
                );
            }
            o.insert("border".into(), Value::Object(b));
        }
        if self.chance(64) {
            o.insert("padding".into(), self.edges());
        }
        if self.chance(48) {
            o.insert("header_background".into(), self.color());
        }
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic byte source for the tests.
    fn bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn generated_documents_are_accepted() {
        let mut refused = 0;
        let total = 3000;
        for seed in 0..total {
            let len = [0, 1, 16, 256, 1024, 4096][seed as usize % 6];
            let json = generate(&bytes(seed, len)).to_string();
            if let Err(e) = ode_core::model::parse(&json) {
                refused += 1;
                if refused <= 5 {
                    eprintln!("seed {seed} refused: {e}");
                }
            }
        }
        assert_eq!(
            refused, 0,
            "{refused} of {total} generated documents refused"
        );
    }

    #[test]
    fn print_samples() {
        if let Ok(n) = std::env::var("ODE_FUZZ_SAMPLE") {
            let seed: u64 = n.parse().unwrap_or(1);
            let v = generate(&bytes(seed, 4096));
            println!("{}", serde_json::to_string_pretty(&v).unwrap());
        }
    }
}
