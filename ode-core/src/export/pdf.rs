//! PDF through krilla: subset fonts, extractable text, outline, links, metadata.

use std::collections::HashMap;

use krilla::Document;
use krilla::action::{Action, LinkAction};
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::destination::{Destination, XyzDestination};
use krilla::geom::{
    PathBuilder, Point as KPoint, Rect as KRect, Size as KSize, Transform as KTransform,
};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, LineCap, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId};
use krilla_svg::{SurfaceExt, SvgSettings};

use crate::diag::{Diagnostic, Diagnostics};
use std::collections::BTreeMap;

use crate::frame::{
    Glyph, ImageData, ImageFormat, Item, LinkTarget, Location, OutlineEntry, Page, PagedDocument,
    RectItem,
};
use crate::geom::{Color, Rect};
use crate::text::{FontBook, FontId};

/// Per-call PDF settings.
#[derive(Debug, Clone)]
pub struct PdfOptions {
    /// Compress content streams (smaller files; off for readable test references).
    pub compress: bool,
}

impl Default for PdfOptions {
    fn default() -> Self {
        PdfOptions { compress: true }
    }
}

/// A glyph in em units, as krilla wants them (it multiplies by the size it is given).
struct EmGlyph {
    id: u16,
    advance: f32,
    dx: f32,
    dy: f32,
    range: std::ops::Range<usize>,
}

impl EmGlyph {
    fn from_glyph(g: &Glyph, size: f32) -> EmGlyph {
        let k = if size > 0.0 { 1.0 / size } else { 0.0 };
        EmGlyph {
            id: g.id,
            advance: g.x_advance * k,
            dx: g.x_offset * k,
            dy: g.y_offset * k,
            range: g.text_range(),
        }
    }
}

impl krilla::text::Glyph for EmGlyph {
    fn glyph_id(&self) -> GlyphId {
        GlyphId::new(u32::from(self.id))
    }
    fn text_range(&self) -> std::ops::Range<usize> {
        self.range.clone()
    }
    fn x_advance(&self, size: f32) -> f32 {
        self.advance * size
    }
    fn x_offset(&self, size: f32) -> f32 {
        self.dx * size
    }
    fn y_offset(&self, size: f32) -> f32 {
        // Upwards, as the shaper reports it; krilla's own shaping passes it the same way.
        self.dy * size
    }
    fn y_advance(&self, _size: f32) -> f32 {
        0.0
    }
    fn location(&self) -> Option<krilla::surface::Location> {
        None
    }
}

fn fill(c: Color) -> Fill {
    Fill {
        paint: krilla::color::rgb::Color::new(c.r, c.g, c.b).into(),
        opacity: NormalizedF32::new(f32::from(c.a) / 255.0).unwrap_or(NormalizedF32::ONE),
        rule: FillRule::NonZero,
    }
}

fn stroke(c: Color, width: f32) -> Stroke {
    Stroke {
        paint: krilla::color::rgb::Color::new(c.r, c.g, c.b).into(),
        width,
        opacity: NormalizedF32::new(f32::from(c.a) / 255.0).unwrap_or(NormalizedF32::ONE),
        ..Stroke::default()
    }
}

fn krect(r: Rect) -> Option<KRect> {
    KRect::from_xywh(r.x, r.y, r.width.max(0.001), r.height.max(0.001))
}

/// The pen of an unfilled rectangle or a line.
fn stroke_of(item: &Item) -> Option<(Color, f32)> {
    match item {
        Item::Rect(RectItem {
            fill: None, stroke, ..
        }) => *stroke,
        Item::Line(l) => Some((l.color, l.width)),
        _ => None,
    }
}

/// Snaps glyph advances so that every deviation from a glyph's own width (kerning,
/// justification, the gap between table cells) is a whole number of thousandths of an
/// em: PDF writes those deviations as numbers, and whole ones are shorter and compress
/// better. Each glyph's position stays within 1/2000 em of the layout's, since the
/// rounding follows the exact running position instead of adding up errors.
fn quantize(glyphs: &mut [EmGlyph], face: &ttf_parser::Face) {
    let upem = f32::from(face.units_per_em());
    let (mut exact, mut placed) = (0.0f64, 0.0f64);
    for g in glyphs {
        let nominal = face
            .glyph_hor_advance(ttf_parser::GlyphId(g.id))
            .map_or(f64::from(g.advance), |a| f64::from(a) / f64::from(upem));
        exact += f64::from(g.advance);
        let thousandths = ((placed + nominal - exact) * 1000.0).round();
        let advance = nominal - thousandths / 1000.0;
        g.advance = advance as f32;
        placed += advance;
    }
}

type Segment = ((f32, f32), (f32, f32));

fn add_segments(out: &mut Vec<Segment>, item: &Item) {
    match item {
        Item::Rect(r) => {
            let (x0, y0, x1, y1) = (r.rect.x, r.rect.y, r.rect.right(), r.rect.bottom());
            out.extend([
                ((x0, y0), (x1, y0)),
                ((x1, y0), (x1, y1)),
                ((x0, y1), (x1, y1)),
                ((x0, y0), (x0, y1)),
            ]);
        }
        Item::Line(l) => out.push(((l.from.x, l.from.y), (l.to.x, l.to.y))),
        _ => {}
    }
}

/// Joins horizontal and vertical segments that touch or overlap on the same line,
/// and drops duplicates; others pass through.
fn merge_segments(segments: Vec<Segment>) -> Vec<Segment> {
    let key = |v: f32| (v * 100.0).round() as i64;
    let mut horizontal: Vec<(i64, f32, f32)> = Vec::new();
    let mut vertical: Vec<(i64, f32, f32)> = Vec::new();
    let mut out = Vec::new();
    for ((x0, y0), (x1, y1)) in segments {
        if key(y0) == key(y1) {
            horizontal.push((key(y0), x0.min(x1), x0.max(x1)));
        } else if key(x0) == key(x1) {
            vertical.push((key(x0), y0.min(y1), y0.max(y1)));
        } else {
            out.push(((x0, y0), (x1, y1)));
        }
    }
    for (lines, is_h) in [(horizontal, true), (vertical, false)] {
        let mut lines = lines;
        lines.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut cur: Option<(i64, f32, f32)> = None;
        let flush = |c: (i64, f32, f32), out: &mut Vec<Segment>| {
            let at = c.0 as f32 / 100.0;
            out.push(if is_h {
                ((c.1, at), (c.2, at))
            } else {
                ((at, c.1), (at, c.2))
            });
        };
        for l in lines {
            cur = match cur {
                Some(c) if c.0 == l.0 && l.1 <= c.2 + 0.01 => Some((c.0, c.1, c.2.max(l.2))),
                Some(c) => {
                    flush(c, &mut out);
                    Some(l)
                }
                None => Some(l),
            };
        }
        if let Some(c) = cur {
            flush(c, &mut out);
        }
    }
    out
}

struct Images {
    raster: HashMap<usize, Option<krilla::image::Image>>,
    svg: HashMap<usize, Option<usvg::Tree>>,
}

/// Writes a laid-out document as PDF.
///
/// # Errors
/// A font krilla cannot embed, or a PDF limit exceeded.
pub fn pdf(
    doc: &PagedDocument,
    fonts: &FontBook,
    options: &PdfOptions,
) -> Result<Vec<u8>, Diagnostics> {
    let mut writer = PdfWriter::new(fonts, options);
    for page in &doc.pages {
        writer.page(page, &doc.images, &doc.anchors)?;
    }
    writer.finish(&doc.outline, &doc.metadata)
}

/// Writes a PDF one page at a time, for pages coming from
/// [`layout_pages`](crate::layout::layout_pages): a page can be dropped as soon as it
/// is written.
pub struct PdfWriter<'f> {
    document: Document,
    fonts: &'f FontBook,
    faces: HashMap<FontId, Option<ttf_parser::Face<'f>>>,
    font_cache: HashMap<FontId, Option<Font>>,
    images: Images,
    problems: Vec<Diagnostic>,
}

impl<'f> PdfWriter<'f> {
    /// A writer with no pages yet.
    pub fn new(fonts: &'f FontBook, options: &PdfOptions) -> Self {
        let settings = krilla::SerializeSettings {
            compress_content_streams: options.compress,
            enable_tagging: false,
            ascii_compatible: !options.compress,
            ..krilla::SerializeSettings::default()
        };
        PdfWriter {
            document: Document::new_with(settings),
            fonts,
            faces: HashMap::new(),
            font_cache: HashMap::new(),
            images: Images {
                raster: HashMap::new(),
                svg: HashMap::new(),
            },
            problems: Vec::new(),
        }
    }

    /// Writes one page. `images` are the images its items refer to by index, and
    /// `anchors` where links to anchors go.
    ///
    /// # Errors
    /// A page size PDF cannot hold.
    pub fn page(
        &mut self,
        page: &Page,
        images: &[ImageData],
        anchors: &BTreeMap<String, Location>,
    ) -> Result<(), Diagnostics> {
        let settings =
            PageSettings::from_wh(page.size.width, page.size.height).ok_or_else(|| {
                Diagnostics::from(Diagnostic::error("/page/size", "invalid page size"))
            })?;
        let mut kpage = self.document.start_page_with(settings);
        let mut links = Vec::new();
        {
            let mut surface = kpage.surface();
            draw(
                &mut surface,
                &page.items,
                images,
                self.fonts,
                &mut self.faces,
                &mut self.font_cache,
                &mut self.images,
                &mut links,
                &mut self.problems,
            );
            surface.finish();
        }
        for (rect, target) in links {
            let Some(r) = krect(rect) else { continue };
            let target = match target {
                LinkTarget::Url(url) => Target::Action(Action::Link(LinkAction::new(url))),
                LinkTarget::Anchor(name) => match anchors.get(&name) {
                    Some(loc) => Target::Destination(Destination::Xyz(XyzDestination::new(
                        loc.page,
                        KPoint::from_xy(loc.point.x, loc.point.y),
                    ))),
                    None => continue,
                },
            };
            kpage.add_annotation(Annotation::new_link(LinkAnnotation::new(r, target), None));
        }
        kpage.finish();
        Ok(())
    }

    /// Adds the outline and metadata and returns the file.
    ///
    /// # Errors
    /// A font krilla cannot embed, an image that cannot be decoded, or a PDF limit
    /// exceeded.
    pub fn finish(
        self,
        outline_entries: &[OutlineEntry],
        m: &crate::model::Metadata,
    ) -> Result<Vec<u8>, Diagnostics> {
        let PdfWriter {
            mut document,
            problems,
            ..
        } = self;
        // Outline: nest each heading under the nearest earlier one of a lower level.
        if !outline_entries.is_empty() {
            let mut outline = Outline::new();
            let mut stack: Vec<(u8, OutlineNode)> = Vec::new();
            fn close(stack: &mut Vec<(u8, OutlineNode)>, outline: &mut Outline, level: u8) {
                while stack.last().is_some_and(|(l, _)| *l >= level) {
                    let (_, node) = stack.pop().expect("checked");
                    match stack.last_mut() {
                        Some((_, parent)) => parent.push_child(node),
                        None => outline.push_child(node),
                    }
                }
            }
            for e in outline_entries {
                close(&mut stack, &mut outline, e.level);
                let dest = XyzDestination::new(
                    e.location.page,
                    KPoint::from_xy(e.location.point.x, e.location.point.y),
                );
                stack.push((e.level, OutlineNode::new(e.title.clone(), dest)));
            }
            close(&mut stack, &mut outline, 0);
            document.set_outline(outline);
        }

        let mut meta = Metadata::new().creator("ODE".into());
        if let Some(t) = &m.title {
            meta = meta.title(t.clone());
        }
        if let Some(a) = &m.author {
            meta = meta.authors(vec![a.clone()]);
        }
        if let Some(s) = &m.subject {
            meta = meta.description(s.clone());
        }
        if !m.keywords.is_empty() {
            meta = meta.keywords(m.keywords.clone());
        }
        if let Some(l) = &m.language {
            meta = meta.language(l.clone());
        }
        if let Some((y, mo, d, time)) = m
            .created
            .as_deref()
            .and_then(crate::model::decode::parse_date)
        {
            let mut dt = DateTime::new(y).month(mo).day(d);
            if let Some((h, mi, s)) = time {
                dt = dt
                    .hour(h)
                    .minute(mi)
                    .second(s)
                    .utc_offset_hour(0)
                    .utc_offset_minute(0);
            }
            meta = meta.creation_date(dt);
        }
        document.set_metadata(meta);

        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        document.finish().map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "",
                format!("the PDF could not be written: {e:?}"),
            ))
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn draw<'f>(
    surface: &mut Surface,
    items: &[Item],
    image_data: &[ImageData],
    fonts: &'f FontBook,
    faces: &mut HashMap<FontId, Option<ttf_parser::Face<'f>>>,
    font_cache: &mut HashMap<FontId, Option<Font>>,
    images: &mut Images,
    links: &mut Vec<(Rect, LinkTarget)>,
    problems: &mut Vec<Diagnostic>,
) {
    // Within each stretch between fills, images and groups, lines and outlines are
    // drawn after the text: they cannot hide each other, and gathered together they
    // become one path instead of one per table row.
    let mut ordered: Vec<&Item> = Vec::with_capacity(items.len());
    let mut strokes: Vec<&Item> = Vec::new();
    for item in items {
        match item {
            Item::Line(_) | Item::Rect(RectItem { fill: None, .. }) => strokes.push(item),
            Item::Text(_) | Item::Link(_) => ordered.push(item),
            _ => {
                ordered.append(&mut strokes);
                ordered.push(item);
            }
        }
    }
    ordered.append(&mut strokes);
    let items = ordered;
    let mut i = 0;
    while i < items.len() {
        let item = items[i];
        i += 1;
        match item {
            Item::Text(t) => {
                let font = font_cache
                    .entry(t.font)
                    .or_insert_with(|| {
                        let face = fonts.face(t.font);
                        Font::new(face.data.to_krilla(), face.index)
                    })
                    .clone();
                let Some(font) = font else {
                    let face = fonts.face(t.font);
                    let msg = format!("font \"{}\" cannot be embedded in a PDF", face.family);
                    if !problems.iter().any(|p| p.message == msg) {
                        problems.push(Diagnostic::error("", msg));
                    }
                    continue;
                };
                // Runs that continue on the same baseline in the same font, size and
                // color (the cells of a table row, the pieces of a line) become one
                // text object: the gap goes into the previous glyph's advance. This
                // keeps content streams small; positions do not change.
                let mut glyphs: Vec<EmGlyph> = t
                    .glyphs
                    .iter()
                    .map(|g| EmGlyph::from_glyph(g, t.size))
                    .collect();
                let mut text = t.text.clone();
                let mut end = t.origin.x + t.width();
                while let Some(Item::Text(n)) = items.get(i).copied() {
                    let gap = n.origin.x - end;
                    if n.font != t.font
                        || n.size != t.size
                        || n.color != t.color
                        || (n.origin.y - t.origin.y).abs() > 1e-3
                        || gap < -0.01
                        || glyphs.is_empty()
                    {
                        break;
                    }
                    if let Some(last) = glyphs.last_mut() {
                        last.advance += gap / t.size;
                    }
                    let base = text.len();
                    text.push_str(&n.text);
                    glyphs.extend(n.glyphs.iter().map(|g| {
                        let mut e = EmGlyph::from_glyph(g, t.size);
                        e.range = e.range.start + base..e.range.end + base;
                        e
                    }));
                    end = n.origin.x + n.width();
                    i += 1;
                }
                // krilla slices the text by these ranges: keep them inside it and on
                // character boundaries whatever the frames say.
                for g in &mut glyphs {
                    let ok = g.range.start <= g.range.end
                        && g.range.end <= text.len()
                        && text.is_char_boundary(g.range.start)
                        && text.is_char_boundary(g.range.end);
                    if !ok {
                        g.range = 0..0;
                    }
                }
                if let Some(face) = faces.entry(t.font).or_insert_with(|| {
                    let f = fonts.face(t.font);
                    ttf_parser::Face::parse(f.data.as_slice(), f.index).ok()
                }) {
                    quantize(&mut glyphs, face);
                }
                surface.set_fill(Some(fill(t.color)));
                surface.set_stroke(None);
                surface.draw_glyphs(
                    KPoint::from_xy(t.origin.x, t.origin.y),
                    &glyphs,
                    font,
                    &text,
                    t.size,
                    false,
                );
            }
            Item::Rect(RectItem { fill: Some(_), .. }) => {
                let Item::Rect(r) = item else {
                    unreachable!("matched a rect")
                };
                let mut pb = PathBuilder::new();
                let Some(kr) = krect(r.rect) else { continue };
                pb.push_rect(kr);
                let Some(path) = pb.finish() else { continue };
                surface.set_fill(r.fill.map(fill));
                surface.set_stroke(r.stroke.map(|(c, w)| stroke(c, w)));
                surface.draw_path(&path);
            }
            Item::Rect(_) | Item::Line(_) => {
                // Consecutive outlines and lines with the same pen become one path, in
                // which the edges of table cells are joined into whole grid lines.
                let Some(pen) = stroke_of(item) else { continue };
                let mut segments = Vec::new();
                add_segments(&mut segments, item);
                while let Some(next) = items.get(i) {
                    if stroke_of(next) != Some(pen) {
                        break;
                    }
                    add_segments(&mut segments, next);
                    i += 1;
                }
                let mut pb = PathBuilder::new();
                for (a, b) in merge_segments(segments) {
                    pb.move_to(a.0, a.1);
                    pb.line_to(b.0, b.1);
                }
                let Some(path) = pb.finish() else { continue };
                surface.set_fill(None);
                // Square caps close the corners where joined edges meet.
                surface.set_stroke(Some(Stroke {
                    line_cap: LineCap::Square,
                    ..stroke(pen.0, pen.1)
                }));
                surface.draw_path(&path);
            }
            Item::Image(img) => {
                let data = &image_data[img.image];
                let clip = img.clip.and_then(krect).and_then(|r| {
                    let mut pb = PathBuilder::new();
                    pb.push_rect(r);
                    pb.finish()
                });
                if let Some(path) = &clip {
                    surface.push_clip_path(path, &FillRule::NonZero);
                }
                surface.push_transform(&KTransform::from_translate(img.rect.x, img.rect.y));
                let size = KSize::from_wh(img.rect.width.max(0.001), img.rect.height.max(0.001));
                match data.format {
                    ImageFormat::Png | ImageFormat::Jpeg => {
                        let image = images
                            .raster
                            .entry(img.image)
                            .or_insert_with(|| {
                                let bytes = data.bytes.to_krilla();
                                if data.format == ImageFormat::Png {
                                    krilla::image::Image::from_png(bytes, true).ok()
                                } else {
                                    krilla::image::Image::from_jpeg(bytes, true).ok()
                                }
                            })
                            .clone();
                        match (image, size) {
                            (Some(image), Some(size)) => surface.draw_image(image, size),
                            _ => problems.push(Diagnostic::error(
                                "",
                                format!("image \"{}\" could not be decoded", data.key),
                            )),
                        }
                    }
                    ImageFormat::Svg => {
                        let tree = images.svg.entry(img.image).or_insert_with(|| {
                            usvg::Tree::from_data(data.bytes.as_slice(), &usvg::Options::default())
                                .ok()
                        });
                        match (tree.as_ref(), size) {
                            (Some(tree), Some(size)) => {
                                surface.draw_svg(tree, size, SvgSettings::default());
                            }
                            _ => problems.push(Diagnostic::error(
                                "",
                                format!("image \"{}\" could not be decoded", data.key),
                            )),
                        }
                    }
                }
                surface.pop();
                if clip.is_some() {
                    surface.pop();
                }
            }
            Item::Link(l) => links.push((l.rect, l.target.clone())),
            Item::Group(g) => {
                let t = g.transform;
                surface.push_transform(&KTransform::from_row(t.a, t.b, t.c, t.d, t.e, t.f));
                let opacity =
                    NormalizedF32::new(g.opacity.clamp(0.0, 1.0)).unwrap_or(NormalizedF32::ONE);
                surface.push_opacity(opacity);
                draw(
                    surface, &g.items, image_data, fonts, faces, font_cache, images, links,
                    problems,
                );
                surface.pop();
                surface.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edges_of_a_grid_of_cells_join_into_whole_lines() {
        let mut segs = Vec::new();
        for row in 0..3 {
            for col in 0..2 {
                let (x, y) = (col as f32 * 10.0, row as f32 * 5.0);
                segs.extend([
                    ((x, y), (x + 10.0, y)),
                    ((x + 10.0, y), (x + 10.0, y + 5.0)),
                    ((x, y + 5.0), (x + 10.0, y + 5.0)),
                    ((x, y), (x, y + 5.0)),
                ]);
            }
        }
        let merged = merge_segments(segs);
        // 4 horizontal lines across both columns, 3 vertical lines down all rows.
        assert_eq!(merged.len(), 7, "{merged:?}");
        assert!(merged.contains(&((0.0, 0.0), (20.0, 0.0))));
        assert!(merged.contains(&((10.0, 0.0), (10.0, 15.0))));
    }

    #[test]
    fn diagonal_and_separate_segments_are_kept_apart() {
        let merged = merge_segments(vec![
            ((0.0, 0.0), (5.0, 5.0)),
            ((0.0, 1.0), (2.0, 1.0)),
            ((3.0, 1.0), (4.0, 1.0)),
        ]);
        assert_eq!(merged.len(), 3);
    }
}
