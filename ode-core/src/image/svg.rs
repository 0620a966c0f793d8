//! SVG images: parsed once, every reference through [`Resources`], every cost bounded.
//!
//! usvg's default options read `<image href>` targets from the file system (absolute
//! paths, `file:` URLs, `../`), know no fonts (so text vanished) and trust the input's
//! size. Here the options are ODE's own:
//!
//! - **References.** `data:` URIs and the document's own assets by key (a relative
//!   path without `..`, no scheme) are resolved through [`Resources`]; anything else is
//!   refused with a warning. Raster images inside are held to the pixel limit from
//!   their headers; SVGs inside are parsed by the same rules, at most
//!   [`Limits::max_svg_nesting`] deep.
//! - **Cost.** Before usvg sees a text, [`scan`] parses it with roxmltree (iterative,
//!   with a node limit) and refuses documents nested deeper than
//!   [`Limits::max_svg_depth`] (usvg converts recursively) or expanding to more
//!   elements than [`Limits::max_svg_elements`] once `use` references and markers
//!   are repeated, and `use` cycles. A top-level SVG and all it nests share one byte and
//!   element budget, so repeating a nested image cannot multiply it. Gzip (SVGZ) is
//!   decompressed only up to the byte limit.
//! - **Text** is set with the [`FontBook`](crate::text::FontBook): family names and the
//!   generic families resolve as in the document, characters missing from the chosen
//!   face fall back through the book's order, and a family or character no face has is
//!   a warning, as for body text.

use std::io::Read;
use std::sync::{Arc, Mutex};

use usvg::{FontFamily, ImageKind, fontdb, roxmltree};

use super::check_pixels;
use crate::limits::Limits;
use crate::resources::Resources;
use crate::text::{FontBook, FontId, SvgFonts};

/// A parsed SVG and the warnings met on the way.
pub(crate) struct Parsed {
    pub tree: usvg::Tree,
    pub warnings: Vec<String>,
}

/// Parses an SVG image asset (`key` names it in messages).
///
/// # Errors
/// Why the image cannot be used, as the end of a sentence starting with the image's
/// name ("is not valid SVG: …").
pub(crate) fn parse(
    key: &str,
    data: &[u8],
    res: &dyn Resources,
    limits: &Limits,
) -> Result<Parsed, String> {
    let env = Env {
        key,
        res,
        limits,
        book: res.fonts(),
        fonts: res.fonts().svg_fonts(),
        state: Mutex::new(State::default()),
    };
    let tree = env.parse(data, 0)?;
    let state = env.state.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(Parsed {
        tree,
        warnings: state.warnings,
    })
}

/// What the parse of one SVG image, and of every SVG nested in it, shares.
struct Env<'a> {
    key: &'a str,
    res: &'a dyn Resources,
    limits: &'a Limits,
    book: &'a FontBook,
    fonts: &'a SvgFonts,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    warnings: Vec<String>,
    /// SVG text parsed so far, nested SVGs included.
    bytes: usize,
    /// Elements parsed so far, expanded (see [`scan`]).
    elements: u64,
}

impl<'a> Env<'a> {
    fn warn(&self, message: String) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let message = format!("image \"{}\": {message}", self.key);
        if !state.warnings.contains(&message) {
            state.warnings.push(message);
        }
    }

    /// Checks and parses one SVG text at nesting `depth` (0: the image itself).
    fn parse(&'a self, data: &[u8], depth: usize) -> Result<usvg::Tree, String> {
        let max = self.limits.max_svg_bytes;
        let text = decompress(data, max)?;
        let text = std::str::from_utf8(&text).map_err(|_| "is not UTF-8 text".to_string())?;
        let expanded = scan(text, self.limits)?;
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.bytes += text.len();
            state.elements = state.elements.saturating_add(expanded);
            if state.bytes > max {
                return Err(format!(
                    "holds more than {} MB of SVG with the images nested in it (the \
                     max_svg_bytes setting)",
                    max >> 20
                ));
            }
            if state.elements > self.limits.max_svg_elements {
                return Err(format!(
                    "expands to more than {} elements with its references and nested \
                     images (the max_svg_elements setting)",
                    self.limits.max_svg_elements
                ));
            }
        }
        usvg::Tree::from_str(text, &self.options(depth))
            .map_err(|e| format!("is not valid SVG: {e}"))
    }

    fn options(&'a self, depth: usize) -> usvg::Options<'a> {
        usvg::Options {
            // Text without a family: the book's sans-serif.
            font_family: "sans-serif".into(),
            fontdb: self.fonts.db.clone(),
            font_resolver: usvg::FontResolver {
                select_font: Box::new(move |font, _| self.select_font(font)),
                select_fallback: Box::new(move |c, used, _| self.select_fallback(c, used)),
            },
            image_href_resolver: usvg::ImageHrefResolver {
                resolve_data: Box::new(move |mime, data, _| self.image(mime, data, depth)),
                resolve_string: Box::new(move |href, _| self.reference(href, depth)),
            },
            ..usvg::Options::default()
        }
    }

    /// An image given inline (`data:` URI).
    fn image(&'a self, mime: &str, data: Arc<Vec<u8>>, depth: usize) -> Option<ImageKind> {
        let kind = match mime {
            "image/png" => Kind::Png,
            "image/jpeg" | "image/jpg" => Kind::Jpeg,
            "image/gif" => Kind::Gif,
            "image/webp" => Kind::Webp,
            "image/svg+xml" => Kind::Svg,
            _ => match sniff(&data) {
                Some(k) => k,
                None => {
                    self.warn(format!(
                        "an embedded image of type {mime} is not a PNG, JPEG, GIF, WebP or SVG \
                         image; it is left out"
                    ));
                    return None;
                }
            },
        };
        self.kind(kind, data, "an embedded image", depth)
    }

    /// An image referenced by `href`: one of the document's assets, or refused.
    fn reference(&'a self, href: &str, depth: usize) -> Option<ImageKind> {
        if !is_asset_key(href) {
            self.warn(format!(
                "the reference to \"{}\" is refused: SVG images may use data: URIs and the \
                 document's own assets (a relative key such as \"images/logo.png\"), nothing \
                 else; it is left out",
                shorten(href)
            ));
            return None;
        }
        let bytes = match self.res.asset(href) {
            Ok(b) => b,
            Err(e) => {
                self.warn(format!(
                    "the image \"{href}\" it refers to: {e}; it is left out"
                ));
                return None;
            }
        };
        let Some(kind) = sniff(bytes.as_slice()) else {
            self.warn(format!(
                "the image \"{href}\" it refers to is not a PNG, JPEG, GIF, WebP or SVG image; \
                 it is left out"
            ));
            return None;
        };
        self.kind(
            kind,
            Arc::new(bytes.as_slice().to_vec()),
            &format!("the image \"{href}\""),
            depth,
        )
    }

    /// Checks an image found inside the SVG: raster sizes against the pixel limit, SVGs
    /// parsed by the same rules one level deeper.
    fn kind(
        &'a self,
        kind: Kind,
        data: Arc<Vec<u8>>,
        what: &str,
        depth: usize,
    ) -> Option<ImageKind> {
        if kind == Kind::Svg {
            if depth + 1 > self.limits.max_svg_nesting {
                self.warn(format!(
                    "{what} is an SVG nested more than {} deep (the max_svg_nesting setting); \
                     it is left out",
                    self.limits.max_svg_nesting
                ));
                return None;
            }
            return match self.parse(&data, depth + 1) {
                Ok(tree) => Some(ImageKind::SVG(tree)),
                Err(e) => {
                    self.warn(format!("{what} {e}; it is left out"));
                    None
                }
            };
        }
        let Ok(size) = imagesize::blob_size(&data) else {
            self.warn(format!("{what} is damaged; it is left out"));
            return None;
        };
        if let Err((message, _)) =
            check_pixels(what, size.width as u64, size.height as u64, self.limits)
        {
            self.warn(format!("{message}; it is left out"));
            return None;
        }
        Some(match kind {
            Kind::Png => ImageKind::PNG(data),
            Kind::Jpeg => ImageKind::JPEG(data),
            Kind::Gif => ImageKind::GIF(data),
            Kind::Webp => ImageKind::WEBP(data),
            Kind::Svg => unreachable!("handled above"),
        })
    }

    /// The face for an SVG font specification: the first of its families the book has
    /// (generic ones as in the document), else the book's sans-serif with a warning.
    fn select_font(&self, font: &usvg::Font) -> Option<fontdb::ID> {
        let weight = font.weight();
        let italic = font.style() != usvg::FontStyle::Normal;
        let found = font.families().iter().find_map(|family| {
            let name = match family {
                FontFamily::Serif => "serif",
                FontFamily::SansSerif | FontFamily::Cursive | FontFamily::Fantasy => "sans-serif",
                FontFamily::Monospace => "monospace",
                FontFamily::Named(name) => name.as_str(),
            };
            self.book.select(name, weight, italic)
        });
        let id = match found {
            Some(id) => id,
            None => {
                let names: Vec<String> = font.families().iter().map(|f| f.to_string()).collect();
                self.warn(format!(
                    "its text asks for the font family {}, which the document's fonts do not \
                     have; using the default font",
                    names.join(", ")
                ));
                self.book
                    .select("sans-serif", weight, italic)
                    .or_else(|| (!self.book.faces().is_empty()).then_some(FontId(0)))?
            }
        };
        self.fonts.ids.get(usize::from(id.0)).copied().flatten()
    }

    /// A face for a character the faces used so far lack, in the book's fallback order;
    /// `None` (drawn as the missing-glyph box) with a warning when no face has it.
    fn select_fallback(&self, c: char, used: &[fontdb::ID]) -> Option<fontdb::ID> {
        let base = used
            .first()
            .and_then(|id| self.fonts.faces.get(id))
            .map(|id| self.book.face(*id));
        let (weight, italic) = base.map_or((400, false), |f| (f.weight, f.italic));
        let found = self
            .book
            .fallback_families()
            .iter()
            .filter_map(|family| self.book.select(family, weight, italic))
            .filter_map(|id| {
                let db_id = self.fonts.ids.get(usize::from(id.0)).copied().flatten()?;
                (!used.contains(&db_id) && self.book.face(id).has_char(c)).then_some(db_id)
            })
            .next();
        if found.is_none() {
            self.warn(format!(
                "its text has a character no font has: \"{c}\" (U+{:04X})",
                u32::from(c)
            ));
        }
        found
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Svg,
}

fn sniff(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"GIF8") {
        return Some(Kind::Gif);
    }
    if data.len() > 12 && data.starts_with(b"RIFF") && &data[8..12] == b"WEBP" {
        return Some(Kind::Webp);
    }
    super::sniff(data).map(|f| match f {
        crate::frame::ImageFormat::Png => Kind::Png,
        crate::frame::ImageFormat::Jpeg => Kind::Jpeg,
        crate::frame::ImageFormat::Svg => Kind::Svg,
    })
}

/// Whether an SVG reference names one of the document's assets: a relative key without
/// a scheme, a `..` segment or backslashes. URLs, absolute paths and `file:` are not.
fn is_asset_key(href: &str) -> bool {
    !href.is_empty()
        && !href.starts_with('/')
        && !href.starts_with('#')
        && !href.contains(':')
        && !href.contains('\\')
        && !href.chars().any(char::is_control)
        && href.split('/').all(|seg| seg != "..")
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        let head: String = s.chars().take(77).collect();
        format!("{head}...")
    }
}

/// The SVG text, gunzipped when it is SVGZ, at most `max` bytes.
fn decompress(data: &[u8], max: usize) -> Result<Vec<u8>, String> {
    let too_large = || {
        format!(
            "is larger than {} MB of SVG (the max_svg_bytes setting)",
            max >> 20
        )
    };
    if !data.starts_with(&[0x1f, 0x8b]) {
        if data.len() > max {
            return Err(too_large());
        }
        return Ok(data.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| "is damaged gzip (SVGZ) data".to_string())?;
    if out.len() > max {
        return Err(too_large());
    }
    Ok(out)
}

/// Checks the structure of an SVG text before usvg converts it, and returns how many
/// elements it expands to.
///
/// usvg's conversion recurses over the element tree and follows `use` references by
/// recursion too, and it repeats what `use` elements reference and what markers draw on
/// every vertex. So this walk (iterative, over roxmltree's node arena) refuses texts
/// nested deeper than `max_svg_depth` with references followed, reference cycles, and
/// texts whose expanded element count (each `use` counting its target's whole subtree,
/// markers counted once per path vertex) exceeds `max_svg_elements`.
///
/// # Errors
/// What is wrong, as the end of a sentence starting with the image's name.
pub(crate) fn scan(text: &str, limits: &Limits) -> Result<u64, String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        nodes_limit: u32::try_from(limits.max_svg_elements.saturating_mul(4)).unwrap_or(u32::MAX),
        // External entities are not resolved (roxmltree's default): nothing is read.
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => format!(
            "has more than {} elements (the max_svg_elements setting)",
            limits.max_svg_elements
        ),
        e => format!("is not valid SVG: {e}"),
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return Err("is not valid SVG: its root element is not <svg>".into());
    }
    let count = doc.descendants().count();
    let ids: std::collections::HashMap<&str, roxmltree::NodeId> = doc
        .descendants()
        .filter(|n| n.is_element())
        .filter_map(|n| n.attribute("id").map(|id| (id, n.id())))
        .collect();
    let index = |id: roxmltree::NodeId| id.get_usize();
    // A `use` element's target, when it is one of this text's elements.
    let target = |n: roxmltree::Node| -> Option<roxmltree::NodeId> {
        if n.tag_name().name() != "use" {
            return None;
        }
        let href = n
            .attribute(("http://www.w3.org/1999/xlink", "href"))
            .or_else(|| n.attribute("href"))?;
        ids.get(href.strip_prefix('#')?).copied()
    };
    // Post-order over the element tree plus `use` edges: size (elements, expanded) and
    // depth (levels, references followed) of each element's subtree.
    let mut size = vec![0u64; count + 1];
    let mut depth = vec![0usize; count + 1];
    let mut mark = vec![0u8; count + 1]; // 0 new, 1 open, 2 done
    let mut stack = vec![(root.id(), false)];
    let cycle =
        || "is not valid SVG: a `use` element refers to itself or its own ancestor".to_string();
    while let Some((id, closing)) = stack.pop() {
        let node = doc.get_node(id).expect("ids come from this document");
        let i = index(id);
        if closing {
            let mut s = 1u64;
            let mut d = 0usize;
            for child in node.children().filter(|c| c.is_element()) {
                s = s.saturating_add(size[index(child.id())]);
                d = d.max(depth[index(child.id())]);
            }
            if let Some(t) = target(node) {
                s = s.saturating_add(size[index(t)]);
                d = d.max(depth[index(t)]);
            }
            size[i] = s;
            depth[i] = d + 1;
            if depth[i] > limits.max_svg_depth {
                return Err(format!(
                    "is nested more than {} elements deep (the max_svg_depth setting)",
                    limits.max_svg_depth
                ));
            }
            mark[i] = 2;
            continue;
        }
        match mark[i] {
            2 => continue,
            1 => return Err(cycle()),
            _ => {}
        }
        mark[i] = 1;
        stack.push((id, true));
        let next = node
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.id())
            .chain(target(node));
        for n in next {
            match mark[index(n)] {
                0 => stack.push((n, false)),
                1 => return Err(cycle()),
                _ => {}
            }
        }
    }
    let mut total = size[index(root.id())];
    // Markers are drawn once per vertex of every path, line and polygon.
    let marker = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "marker")
        .map(|n| size[index(n.id())].max(1))
        .max();
    if let Some(marker) = marker {
        let vertices: u64 = doc
            .descendants()
            .filter(|n| n.is_element())
            .map(|n| match n.tag_name().name() {
                "path" => numbers(n.attribute("d").unwrap_or("")) / 2 + 1,
                "polyline" | "polygon" => numbers(n.attribute("points").unwrap_or("")) / 2,
                "line" => 2,
                _ => 0,
            })
            .sum();
        total = total.saturating_add(vertices.saturating_mul(marker));
    }
    if total > limits.max_svg_elements {
        return Err(format!(
            "expands to more than {} elements with its references (the max_svg_elements \
             setting)",
            limits.max_svg_elements
        ));
    }
    Ok(total)
}

/// How many numbers a path's `d` or a polygon's `points` holds (an upper bound on its
/// coordinates).
fn numbers(s: &str) -> u64 {
    let mut count = 0u64;
    let mut in_number = false;
    for c in s.bytes() {
        let part = c.is_ascii_digit() || c == b'.';
        if part && !in_number {
            count += 1;
        }
        in_number = part;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_keys_are_relative_paths_without_a_scheme() {
        for ok in ["logo.png", "images/logo.png", "./a.png", "a b.svg"] {
            assert!(is_asset_key(ok), "{ok}");
        }
        for refused in [
            "/etc/passwd",
            "file:///tmp/a.png",
            "../secret.png",
            "images/../../a.png",
            "https://example.com/a.png",
            "C:\\a.png",
            "\\\\server\\share\\a.png",
            "#frag",
            "",
        ] {
            assert!(!is_asset_key(refused), "{refused}");
        }
    }

    #[test]
    fn use_references_count_their_targets_and_cycles_are_refused() {
        let limits = Limits::default();
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
            <g id="a"><rect/><rect/></g><use xlink:href="#a"/><use href="#a"/></svg>"##;
        // svg + g + 2 rects + 2 × (use + its copy of g with 2 rects)
        assert_eq!(scan(svg, &limits), Ok(1 + 3 + 2 * 4));
        let cyclic =
            r##"<svg xmlns="http://www.w3.org/2000/svg"><g id="a"><use href="#a"/></g></svg>"##;
        assert!(
            scan(cyclic, &limits)
                .unwrap_err()
                .contains("refers to itself")
        );
    }

    #[test]
    fn depth_counts_references() {
        let limits = Limits {
            max_svg_depth: 10,
            ..Limits::default()
        };
        let mut svg = String::from(r#"<svg xmlns="http://www.w3.org/2000/svg"><g id="g0"/>"#);
        for i in 1..12 {
            svg.push_str(&format!(r##"<g id="g{i}"><use href="#g{}"/></g>"##, i - 1));
        }
        svg.push_str("</svg>");
        assert!(
            scan(&svg, &limits)
                .unwrap_err()
                .contains("nested more than 10")
        );
    }

    #[test]
    fn numbers_in_path_data() {
        assert_eq!(numbers("M0,0 L10.5 20 l-3-4z"), 6);
        assert_eq!(numbers(""), 0);
    }
}
