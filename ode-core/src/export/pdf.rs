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
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId};
use krilla_svg::{SurfaceExt, SvgSettings};

use crate::diag::{Diagnostic, Diagnostics};
use crate::frame::{Glyph, ImageFormat, Item, LinkTarget, PagedDocument};
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
    let settings = krilla::SerializeSettings {
        compress_content_streams: options.compress,
        enable_tagging: false,
        ascii_compatible: !options.compress,
        ..krilla::SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let mut font_cache: HashMap<FontId, Option<Font>> = HashMap::new();
    let mut images = Images {
        raster: HashMap::new(),
        svg: HashMap::new(),
    };
    let mut problems: Vec<Diagnostic> = Vec::new();

    for (index, page) in doc.pages.iter().enumerate() {
        let settings =
            PageSettings::from_wh(page.size.width, page.size.height).ok_or_else(|| {
                Diagnostics::from(Diagnostic::error("/page/size", "invalid page size"))
            })?;
        let mut kpage = document.start_page_with(settings);
        let mut links = Vec::new();
        {
            let mut surface = kpage.surface();
            draw(
                &mut surface,
                &page.items,
                doc,
                fonts,
                &mut font_cache,
                &mut images,
                &mut links,
                &mut problems,
            );
            surface.finish();
        }
        for (rect, target) in links {
            let Some(r) = krect(rect) else { continue };
            let target = match target {
                LinkTarget::Url(url) => Target::Action(Action::Link(LinkAction::new(url))),
                LinkTarget::Anchor(name) => match doc.anchors.get(&name) {
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
        let _ = index;
    }

    // Outline: nest each heading under the nearest earlier one of a lower level.
    if !doc.outline.is_empty() {
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
        for e in &doc.outline {
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

    let m = &doc.metadata;
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

#[allow(clippy::too_many_arguments)]
fn draw(
    surface: &mut Surface,
    items: &[Item],
    doc: &PagedDocument,
    fonts: &FontBook,
    font_cache: &mut HashMap<FontId, Option<Font>>,
    images: &mut Images,
    links: &mut Vec<(Rect, LinkTarget)>,
    problems: &mut Vec<Diagnostic>,
) {
    for item in items {
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
                surface.set_fill(Some(fill(t.color)));
                surface.set_stroke(None);
                let glyphs: Vec<EmGlyph> = t
                    .glyphs
                    .iter()
                    .map(|g| EmGlyph::from_glyph(g, t.size))
                    .collect();
                surface.draw_glyphs(
                    KPoint::from_xy(t.origin.x, t.origin.y),
                    &glyphs,
                    font,
                    &t.text,
                    t.size,
                    false,
                );
            }
            Item::Rect(r) => {
                let mut pb = PathBuilder::new();
                let Some(kr) = krect(r.rect) else { continue };
                pb.push_rect(kr);
                let Some(path) = pb.finish() else { continue };
                surface.set_fill(r.fill.map(fill));
                surface.set_stroke(r.stroke.map(|(c, w)| stroke(c, w)));
                surface.draw_path(&path);
            }
            Item::Line(l) => {
                let mut pb = PathBuilder::new();
                pb.move_to(l.from.x, l.from.y);
                pb.line_to(l.to.x, l.to.y);
                let Some(path) = pb.finish() else { continue };
                surface.set_fill(None);
                surface.set_stroke(Some(stroke(l.color, l.width)));
                surface.draw_path(&path);
            }
            Item::Image(img) => {
                let data = &doc.images[img.image];
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
                    surface, &g.items, doc, fonts, font_cache, images, links, problems,
                );
                surface.pop();
                surface.pop();
            }
        }
    }
}
