//! SVG, one document per page, drawn from the same frames as the PDF.
//!
//! Glyphs are written as outlines (each distinct glyph once per page, in `<defs>`,
//! placed with `<use>`), so a page looks the same in any browser with no font loading,
//! and its geometry is exactly the PDF's.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::frame::{Item, LinkTarget, Page, PagedDocument};
use crate::geom::Color;
use crate::text::{FontBook, FontId};

/// Per-call SVG settings.
#[derive(Debug, Clone, Default)]
pub struct SvgOptions {}

/// Writes every page as a standalone SVG document.
pub fn svg(doc: &PagedDocument, fonts: &FontBook, options: &SvgOptions) -> Vec<String> {
    (0..doc.pages.len())
        .map(|i| svg_page(doc, i, fonts, options))
        .collect()
}

/// Writes one page (zero-based index) as a standalone SVG document.
///
/// # Panics
/// When `index` is not a page of `doc`.
pub fn svg_page(
    doc: &PagedDocument,
    index: usize,
    fonts: &FontBook,
    _options: &SvgOptions,
) -> String {
    let page: &Page = &doc.pages[index];
    let mut w = SvgWriter {
        fonts,
        doc,
        glyphs: BTreeMap::new(),
        body: String::new(),
        defs: String::new(),
        clips: 0,
        text_opacity: None,
    };
    w.items(&page.items);
    let mut out = String::with_capacity(w.body.len() + w.defs.len() + 512);
    let (pw, ph) = (num(page.size.width), num(page.size.height));
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{pw}pt" height="{ph}pt" viewBox="0 0 {pw} {ph}">"#
    );
    out.push_str("<defs>");
    for ((font, id), d) in &w.glyphs {
        let _ = write!(out, r#"<path id="g{}-{}" d="{}"/>"#, font.0, id, d);
    }
    out.push_str(&w.defs);
    out.push_str("</defs>");
    out.push_str(&w.body);
    out.push_str("</svg>\n");
    out
}

struct SvgWriter<'a> {
    fonts: &'a FontBook,
    doc: &'a PagedDocument,
    glyphs: BTreeMap<(FontId, u16), String>,
    body: String,
    defs: String,
    clips: usize,
    /// The opacity of an enclosing group of text only, written on each run instead.
    text_opacity: Option<f32>,
}

/// A scale or rotation factor, written exactly: rounded to thousandths like a coordinate,
/// a 9 pt run of a 2048-unit font would be drawn with a scale of 0.004 instead of
/// 0.0043945, 9% narrower than in the PDF (each size has its own error: 18% at 5 pt).
fn factor(v: f32) -> String {
    if v == 0.0 {
        "0".to_string()
    } else {
        v.to_string()
    }
}

/// A number with at most three decimals and no trailing zeros.
fn num(v: f32) -> String {
    let r = (v * 1000.0).round() / 1000.0;
    let r = if r == 0.0 { 0.0 } else { r };
    let s = format!("{r:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn color_attr(name: &str, c: Color) -> String {
    let mut s = format!(r##" {name}="#{:02x}{:02x}{:02x}""##, c.r, c.g, c.b);
    if c.a != 255 {
        let _ = write!(s, r#" {name}-opacity="{}""#, num(f32::from(c.a) / 255.0));
    }
    s
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

pub(crate) fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

struct PathSink(String);

impl ttf_parser::OutlineBuilder for PathSink {
    fn move_to(&mut self, x: f32, y: f32) {
        let _ = write!(self.0, "M{} {}", num(x), num(y));
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let _ = write!(self.0, "L{} {}", num(x), num(y));
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let _ = write!(self.0, "Q{} {} {} {}", num(x1), num(y1), num(x), num(y));
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let _ = write!(
            self.0,
            "C{} {} {} {} {} {}",
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            num(x),
            num(y)
        );
    }
    fn close(&mut self) {
        self.0.push('Z');
    }
}

impl SvgWriter<'_> {
    fn glyph(&mut self, font: FontId, id: u16) {
        if self.glyphs.contains_key(&(font, id)) {
            return;
        }
        let face = self.fonts.face(font);
        let mut sink = PathSink(String::new());
        if let Ok(f) = ttf_parser::Face::parse(face.data.as_slice(), face.index) {
            f.outline_glyph(ttf_parser::GlyphId(id), &mut sink);
        }
        self.glyphs.insert((font, id), sink.0);
    }

    fn items(&mut self, items: &[Item]) {
        for item in items {
            match item {
                Item::Text(t) => {
                    let face = self.fonts.face(t.font);
                    let k = t.size / face.units_per_em;
                    let opacity = self
                        .text_opacity
                        .map(|o| format!(r#" fill-opacity="{}""#, num(o)))
                        .unwrap_or_default();
                    let _ = write!(
                        self.body,
                        r#"<g{}{opacity} transform="matrix({} 0 0 {} {} {})">"#,
                        color_attr("fill", t.color),
                        factor(k),
                        factor(-k),
                        num(t.origin.x),
                        num(t.origin.y)
                    );
                    let mut x = 0.0;
                    for g in &t.glyphs {
                        self.glyph(t.font, g.id);
                        let gx = (x + g.x_offset) / k;
                        let gy = g.y_offset / k;
                        let _ = write!(
                            self.body,
                            r##"<use xlink:href="#g{}-{}" x="{}""##,
                            t.font.0,
                            g.id,
                            num(gx)
                        );
                        if gy != 0.0 {
                            let _ = write!(self.body, r#" y="{}""#, num(gy));
                        }
                        self.body.push_str("/>");
                        x += g.x_advance;
                    }
                    self.body.push_str("</g>");
                }
                Item::Rect(r) => {
                    let _ = write!(
                        self.body,
                        r#"<rect x="{}" y="{}" width="{}" height="{}""#,
                        num(r.rect.x),
                        num(r.rect.y),
                        num(r.rect.width),
                        num(r.rect.height)
                    );
                    match r.fill {
                        Some(c) => self.body.push_str(&color_attr("fill", c)),
                        None => self.body.push_str(r#" fill="none""#),
                    }
                    if let Some((c, w)) = r.stroke {
                        self.body.push_str(&color_attr("stroke", c));
                        let _ = write!(self.body, r#" stroke-width="{}""#, num(w));
                    }
                    self.body.push_str("/>");
                }
                Item::Line(l) => {
                    let _ = write!(
                        self.body,
                        r#"<line x1="{}" y1="{}" x2="{}" y2="{}"{} stroke-width="{}"/>"#,
                        num(l.from.x),
                        num(l.from.y),
                        num(l.to.x),
                        num(l.to.y),
                        color_attr("stroke", l.color),
                        num(l.width)
                    );
                }
                Item::Image(img) => {
                    let data = &self.doc.images[img.image];
                    let clip = img.clip.map(|c| {
                        self.clips += 1;
                        let id = format!("c{}", self.clips);
                        let _ = write!(
                            self.defs,
                            r#"<clipPath id="{id}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath>"#,
                            num(c.x),
                            num(c.y),
                            num(c.width),
                            num(c.height)
                        );
                        id
                    });
                    if let Some(id) = &clip {
                        let _ = write!(self.body, r#"<g clip-path="url(#{id})">"#);
                    }
                    let _ = write!(
                        self.body,
                        r#"<image x="{}" y="{}" width="{}" height="{}" preserveAspectRatio="none""#,
                        num(img.rect.x),
                        num(img.rect.y),
                        num(img.rect.width),
                        num(img.rect.height)
                    );
                    if let Some(alt) = &img.alt {
                        let _ = write!(self.body, r#" aria-label="{}""#, escape(alt));
                    }
                    // An SVG is written as layout parsed it: references resolved and
                    // text as outlines in the document's fonts, as the PDF draws it.
                    let written;
                    let bytes = match &data.svg {
                        Some(tree) => {
                            written = tree.to_string(&usvg::WriteOptions::default());
                            written.as_bytes()
                        }
                        None => data.bytes.as_slice(),
                    };
                    let _ = write!(
                        self.body,
                        r#" xlink:href="data:{};base64,{}"/>"#,
                        data.format.mime(),
                        base64(bytes)
                    );
                    if clip.is_some() {
                        self.body.push_str("</g>");
                    }
                }
                Item::Link(l) => {
                    let href = match &l.target {
                        LinkTarget::Url(u) => u.clone(),
                        LinkTarget::Anchor(a) => format!("#{a}"),
                    };
                    let _ = write!(
                        self.body,
                        r#"<a xlink:href="{}"><rect x="{}" y="{}" width="{}" height="{}" fill="transparent"/></a>"#,
                        escape(&href),
                        num(l.rect.x),
                        num(l.rect.y),
                        num(l.rect.width),
                        num(l.rect.height)
                    );
                }
                Item::Group(g) => {
                    let t = g.transform;
                    // A translucent group of text only (a watermark) puts its opacity on
                    // each run: the same picture, since the runs do not overlap, and
                    // browsers then draw the content above it as they draw the rest of the
                    // page, where a group opacity made it render lighter (measured against
                    // the PDF's raster in wasm/test/fidelity.test.js).
                    let text_only = g.opacity < 1.0
                        && !g.items.is_empty()
                        && g.items.iter().all(|i| matches!(i, Item::Text(_)));
                    let _ = write!(
                        self.body,
                        r#"<g transform="matrix({} {} {} {} {} {})""#,
                        factor(t.a),
                        factor(t.b),
                        factor(t.c),
                        factor(t.d),
                        num(t.e),
                        num(t.f),
                    );
                    if !text_only {
                        let _ = write!(self.body, r#" opacity="{}""#, num(g.opacity));
                    }
                    self.body.push('>');
                    let outer = self.text_opacity;
                    if text_only {
                        self.text_opacity = Some(g.opacity * outer.unwrap_or(1.0));
                    }
                    self.items(&g.items);
                    self.text_opacity = outer;
                    self.body.push_str("</g>");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_test_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn numbers_are_written_short_and_without_negative_zero() {
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(num(0.12345), "0.123");
    }

    #[test]
    fn scale_factors_are_written_exactly() {
        for v in [9.0f32 / 2048.0, 10.0 / 2048.0, 0.866_025_4, -0.5, 1.0] {
            assert_eq!(factor(v).parse::<f32>().unwrap(), v);
        }
        assert_eq!(factor(-0.0), "0");
        assert_eq!(factor(1.0), "1");
    }

    /// A watermark's opacity is on its runs, not on a group around them.
    #[cfg(feature = "embed-fonts")]
    #[test]
    fn a_text_only_group_puts_its_opacity_on_the_runs() {
        let res = crate::MemoryResources::new(FontBook::with_defaults());
        let json = r#"{"ode": 1, "watermark": {"text": "DRAFT", "opacity": 0.25}, "content": [{"type": "paragraph", "text": "Body"}]}"#;
        let pages = crate::render_svg(json, &res).unwrap();
        assert!(
            pages[0].contains(r#"fill-opacity="0.25""#),
            "{}",
            &pages[0][..600.min(pages[0].len())]
        );
        assert!(!pages[0].contains(r#"opacity="0.25">"#));
    }

    /// A run's glyphs are drawn at its size: the scale of its transform is the size over
    /// the font's units per em, as in the PDF, however many decimals that takes.
    #[cfg(feature = "embed-fonts")]
    #[test]
    fn text_is_scaled_to_its_exact_size() {
        let res = crate::MemoryResources::new(FontBook::with_defaults());
        for size in [8.5f32, 9.0, 10.0, 11.0, 12.5] {
            let json = format!(
                r#"{{"ode": 1, "styles": {{"default": {{"size": {size}}}}}, "content": [{{"type": "paragraph", "text": "Scale"}}]}}"#
            );
            let pages = crate::render_svg(&json, &res).unwrap();
            let at = pages[0].find("<g fill=").expect("a glyph run");
            let run = &pages[0][at..];
            let m = &run[run.find("matrix(").unwrap() + 7..];
            let k: f32 = m.split(' ').next().unwrap().parse().unwrap();
            let expected = size / 2048.0; // DejaVu Sans
            assert!(
                (k - expected).abs() <= expected * 1e-6,
                "{size} pt: scale {k}, expected {expected}"
            );
        }
    }
}
