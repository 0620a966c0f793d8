//! PNG, one image per page, rasterized with tiny-skia from the same frames as the PDF.
//!
//! Glyphs are filled from their outlines (read with ttf-parser from the face bytes the
//! frames refer to), rectangles and lines are drawn as the PDF draws them (strokes after
//! the text of the same stretch, lines with square caps), PNG and JPEG images are decoded
//! and scaled, SVG images are rendered by resvg. The page is white, like paper.

use std::collections::HashMap;
use std::fmt;

use tiny_skia::{
    FillRule, FilterQuality, LineCap, Mask, Paint, PathBuilder, Pixmap, PixmapPaint, Stroke,
    Transform as SkTransform,
};

use crate::frame::{ImageData, ImageFormat, Item, Page};
use crate::geom::{Color, Rect};
use crate::text::{FontBook, FontId};

/// Per-call PNG settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PngOptions {
    /// Resolution in pixels per inch (72 gives one pixel per point). Default 96.
    pub dpi: f32,
    /// A page that would have more pixels is refused with [`PngError::TooLarge`] rather
    /// than allocated. Default 64 million (an A4 page at 600 dpi has 35 million).
    pub max_pixels: u64,
}

impl Default for PngOptions {
    fn default() -> Self {
        PngOptions {
            dpi: 96.0,
            max_pixels: 64_000_000,
        }
    }
}

/// The accepted resolutions, in pixels per inch.
pub const DPI_RANGE: std::ops::RangeInclusive<f32> = 1.0..=4800.0;

impl PngOptions {
    /// Pixels per point.
    pub fn scale(&self) -> f32 {
        self.dpi / 72.0
    }

    /// The size in pixels of a page of `width` × `height` points.
    ///
    /// # Errors
    /// [`PngError::Dpi`] for a resolution outside [`DPI_RANGE`], [`PngError::TooLarge`]
    /// when the page would exceed [`PngOptions::max_pixels`].
    pub fn pixel_size(&self, width: f32, height: f32) -> Result<(u32, u32), PngError> {
        if !DPI_RANGE.contains(&self.dpi) {
            return Err(PngError::Dpi(self.dpi));
        }
        let px = |pt: f32| (f64::from(pt) * f64::from(self.scale())).round().max(1.0);
        let (w, h) = (px(width), px(height));
        if w * h > self.max_pixels as f64 || w > f64::from(u32::MAX) || h > f64::from(u32::MAX) {
            return Err(PngError::TooLarge {
                width: w as u64,
                height: h as u64,
                dpi: self.dpi,
                max_pixels: self.max_pixels,
            });
        }
        Ok((w as u32, h as u32))
    }
}

/// Why a page could not be rasterized.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PngError {
    /// The resolution is outside [`DPI_RANGE`].
    Dpi(f32),
    /// The page would need more pixels than allowed.
    TooLarge {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// The resolution asked for.
        dpi: f32,
        /// The limit.
        max_pixels: u64,
    },
    /// An image could not be decoded.
    Image {
        /// Its asset key.
        key: String,
    },
    /// The PNG could not be written.
    Encode(String),
}

impl fmt::Display for PngError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PngError::Dpi(d) => write!(
                f,
                "resolution must be between {} and {} dpi, found {d}",
                DPI_RANGE.start(),
                DPI_RANGE.end()
            ),
            PngError::TooLarge {
                width,
                height,
                dpi,
                max_pixels,
            } => write!(
                f,
                "a page at {dpi} dpi would be {width} × {height} pixels, more than the limit of {max_pixels}; lower the resolution"
            ),
            PngError::Image { key } => write!(f, "image \"{key}\" could not be decoded"),
            PngError::Encode(e) => write!(f, "the PNG could not be written: {e}"),
        }
    }
}

impl std::error::Error for PngError {}

impl From<PngError> for crate::Diagnostic {
    fn from(e: PngError) -> Self {
        crate::Diagnostic::error("", e.to_string())
    }
}

/// Rasterizes one page and encodes it as an 8-bit RGB PNG. `images` are the images the
/// page's items refer to by index ([`PagedDocument::images`](crate::frame::PagedDocument::images),
/// or what [`layout_pages`](crate::layout::layout_pages) hands its sink).
///
/// # Errors
/// See [`PngError`].
pub fn page_png(
    page: &Page,
    images: &[ImageData],
    fonts: &FontBook,
    options: &PngOptions,
) -> Result<Vec<u8>, PngError> {
    let pixmap = page_pixmap(page, images, fonts, options)?;
    encode(&pixmap, options.dpi)
}

/// Rasterizes one page onto a white pixmap (premultiplied RGBA).
///
/// # Errors
/// See [`PngError`].
pub fn page_pixmap(
    page: &Page,
    images: &[ImageData],
    fonts: &FontBook,
    options: &PngOptions,
) -> Result<Pixmap, PngError> {
    let (w, h) = options.pixel_size(page.size.width, page.size.height)?;
    let mut pixmap = Pixmap::new(w, h).ok_or(PngError::TooLarge {
        width: u64::from(w),
        height: u64::from(h),
        dpi: options.dpi,
        max_pixels: options.max_pixels,
    })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    // Pixels per point, exactly, so the page fills the rounded pixel size.
    let sx = w as f32 / page.size.width.max(f32::MIN_POSITIVE);
    let sy = h as f32 / page.size.height.max(f32::MIN_POSITIVE);
    let mut r = Raster {
        fonts,
        images,
        glyphs: HashMap::new(),
        decoded: HashMap::new(),
    };
    r.items(
        &mut pixmap,
        &page.items,
        SkTransform::from_scale(sx, sy),
        None,
    )?;
    Ok(pixmap)
}

fn encode(pixmap: &Pixmap, dpi: f32) -> Result<Vec<u8>, PngError> {
    // The page is opaque: RGB is a quarter smaller than RGBA and as exact.
    let mut rgb = Vec::with_capacity(pixmap.width() as usize * pixmap.height() as usize * 3);
    for px in pixmap.data().chunks_exact(4) {
        rgb.extend_from_slice(&px[..3]);
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: ppm,
        yppu: ppm,
        unit: png::Unit::Meter,
    }));
    let mut w = enc
        .write_header()
        .map_err(|e| PngError::Encode(e.to_string()))?;
    w.write_image_data(&rgb)
        .map_err(|e| PngError::Encode(e.to_string()))?;
    w.finish().map_err(|e| PngError::Encode(e.to_string()))?;
    Ok(out)
}

struct Raster<'a> {
    fonts: &'a FontBook,
    images: &'a [ImageData],
    /// Glyph outlines in font units, y up; `None` for glyphs without one (spaces).
    glyphs: HashMap<(FontId, u16), Option<tiny_skia::Path>>,
    decoded: HashMap<usize, Decoded>,
}

enum Decoded {
    Raster(Pixmap),
    Svg(std::sync::Arc<usvg::Tree>),
}

fn sk_color(c: Color) -> tiny_skia::Color {
    tiny_skia::Color::from_rgba8(c.r, c.g, c.b, c.a)
}

fn paint(c: Color) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(sk_color(c));
    p.anti_alias = true;
    p
}

fn sk_rect(r: Rect) -> Option<tiny_skia::Rect> {
    tiny_skia::Rect::from_xywh(r.x, r.y, r.width, r.height)
}

struct Outline(PathBuilder);

impl ttf_parser::OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        self.0.move_to(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.0.line_to(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.0.quad_to(x1, y1, x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.0.cubic_to(x1, y1, x2, y2, x, y);
    }
    fn close(&mut self) {
        self.0.close();
    }
}

impl Raster<'_> {
    fn glyph(&mut self, font: FontId, id: u16) -> Option<&tiny_skia::Path> {
        self.glyphs
            .entry((font, id))
            .or_insert_with(|| {
                let face = self.fonts.face(font);
                let f = ttf_parser::Face::parse(face.data.as_slice(), face.index).ok()?;
                let mut b = Outline(PathBuilder::new());
                f.outline_glyph(ttf_parser::GlyphId(id), &mut b)?;
                b.0.finish()
            })
            .as_ref()
    }

    fn decode(&mut self, index: usize) -> Result<&Decoded, PngError> {
        if !self.decoded.contains_key(&index) {
            let data = self.images.get(index).ok_or(PngError::Image {
                key: format!("#{index}"),
            })?;
            let failed = || PngError::Image {
                key: data.key.clone(),
            };
            let decoded = match data.format {
                ImageFormat::Png | ImageFormat::Jpeg => {
                    // Layout held the image's size to `ImageLimits::max_pixels` before
                    // this decodes it.
                    let pm = if data.format == ImageFormat::Png {
                        Pixmap::decode_png(data.bytes.as_slice()).ok()
                    } else {
                        decode_jpeg(data.bytes.as_slice())
                    };
                    Decoded::Raster(pm.ok_or_else(failed)?)
                }
                ImageFormat::Svg => Decoded::Svg(data.svg.clone().ok_or_else(failed)?),
            };
            self.decoded.insert(index, decoded);
        }
        Ok(&self.decoded[&index])
    }

    /// A line with square caps; horizontal and vertical ones are snapped to whole
    /// pixels (a thin rule stays one crisp pixel instead of two grey ones).
    #[allow(clippy::too_many_arguments)]
    fn line(
        &self,
        pixmap: &mut Pixmap,
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        color: Color,
        ts: SkTransform,
        mask: Option<&Mask>,
    ) {
        let h = width / 2.0;
        let (x0, x1) = (from.0.min(to.0), from.0.max(to.0));
        let (y0, y1) = (from.1.min(to.1), from.1.max(to.1));
        if (from.1 == to.1 || from.0 == to.0)
            && let Some(device) = snap(
                ts,
                Rect::new(x0 - h, y0 - h, x1 - x0 + width, y1 - y0 + width),
            )
        {
            fill_device(pixmap, device, color, mask);
            return;
        }
        let mut pb = PathBuilder::new();
        pb.move_to(from.0, from.1);
        pb.line_to(to.0, to.1);
        if let Some(path) = pb.finish() {
            let stroke = Stroke {
                width,
                line_cap: LineCap::Square,
                ..Stroke::default()
            };
            pixmap.stroke_path(&path, &paint(color), &stroke, ts, mask);
        }
    }

    fn items(
        &mut self,
        pixmap: &mut Pixmap,
        items: &[Item],
        ts: SkTransform,
        mask: Option<&Mask>,
    ) -> Result<(), PngError> {
        // The PDF exporter's painting order.
        for item in crate::frame::painting_order(items) {
            self.item(pixmap, item, ts, mask)?;
        }
        Ok(())
    }

    fn item(
        &mut self,
        pixmap: &mut Pixmap,
        item: &Item,
        ts: SkTransform,
        mask: Option<&Mask>,
    ) -> Result<(), PngError> {
        match item {
            Item::Text(t) => {
                let upem = self.fonts.face(t.font).units_per_em;
                let k = t.size / upem;
                let run_ts = ts.pre_translate(t.origin.x, t.origin.y);
                // Horizontal text is placed in device pixels as PDF rasterizers place it:
                // baselines on whole pixels, glyphs on quarter pixels. Lines of text then
                // render alike wherever they fall, and match a raster of the PDF.
                let device = axis_aligned(run_ts);
                let mut run = PathBuilder::new();
                let mut x = 0.0;
                for g in &t.glyphs {
                    let (gx, gy) = (x + g.x_offset, g.y_offset);
                    x += g.x_advance;
                    let Some(path) = self.glyph(t.font, g.id) else {
                        continue;
                    };
                    // Font units (y up) → points relative to the origin (y down), or
                    // straight to device pixels.
                    let m = if device {
                        let dx = run_ts.sx * gx + run_ts.tx;
                        let dy = run_ts.sy * -gy + run_ts.ty;
                        SkTransform::from_row(
                            k * run_ts.sx,
                            0.0,
                            0.0,
                            -k * run_ts.sy,
                            ((dx + 0.01) * 4.0).floor() / 4.0,
                            (dy + 0.01).floor(),
                        )
                    } else {
                        SkTransform::from_row(k, 0.0, 0.0, -k, gx, -gy)
                    };
                    if let Some(p) = path.clone().transform(m) {
                        run.push_path(&p);
                    }
                }
                if let Some(path) = run.finish() {
                    let fill_ts = if device {
                        SkTransform::identity()
                    } else {
                        run_ts
                    };
                    pixmap.fill_path(&path, &paint(t.color), FillRule::Winding, fill_ts, mask);
                }
            }
            Item::Rect(r) => {
                let Some(rect) = sk_rect(r.rect) else {
                    return Ok(());
                };
                let path = PathBuilder::from_rect(rect);
                if let Some(c) = r.fill {
                    match snap(ts, r.rect) {
                        Some(device) => fill_device(pixmap, device, c, mask),
                        None => pixmap.fill_path(&path, &paint(c), FillRule::Winding, ts, mask),
                    }
                }
                if let Some((c, w)) = r.stroke {
                    if axis_aligned(ts) {
                        // The four edges, as the PDF draws them: lines with square caps.
                        let (x0, y0, x1, y1) =
                            (r.rect.x, r.rect.y, r.rect.right(), r.rect.bottom());
                        for (a, b) in [
                            ((x0, y0), (x1, y0)),
                            ((x1, y0), (x1, y1)),
                            ((x0, y1), (x1, y1)),
                            ((x0, y0), (x0, y1)),
                        ] {
                            self.line(pixmap, a, b, w, c, ts, mask);
                        }
                    } else {
                        let stroke = Stroke {
                            width: w,
                            ..Stroke::default()
                        };
                        pixmap.stroke_path(&path, &paint(c), &stroke, ts, mask);
                    }
                }
            }
            Item::Line(l) => self.line(
                pixmap,
                (l.from.x, l.from.y),
                (l.to.x, l.to.y),
                l.width,
                l.color,
                ts,
                mask,
            ),
            Item::Image(img) => {
                let clip_mask = match img.clip.and_then(sk_rect) {
                    Some(c) => {
                        let mut m = Mask::new(pixmap.width(), pixmap.height())
                            .ok_or_else(|| PngError::Encode("no memory for a clip".into()))?;
                        m.fill_path(&PathBuilder::from_rect(c), FillRule::Winding, true, ts);
                        if let Some(outer) = mask {
                            intersect(&mut m, outer);
                        }
                        Some(m)
                    }
                    None => None,
                };
                let mask = clip_mask.as_ref().or(mask);
                let rect = img.rect;
                if rect.width <= 0.0 || rect.height <= 0.0 {
                    return Ok(());
                }
                match self.decode(img.image)? {
                    Decoded::Raster(pm) => {
                        let (iw, ih) = (pm.width() as f32, pm.height() as f32);
                        let m = ts
                            .pre_translate(rect.x, rect.y)
                            .pre_scale(rect.width / iw, rect.height / ih);
                        let paint = PixmapPaint {
                            quality: FilterQuality::Bicubic,
                            ..PixmapPaint::default()
                        };
                        pixmap.draw_pixmap(0, 0, pm.as_ref(), &paint, m, mask);
                    }
                    Decoded::Svg(tree) => {
                        let size = tree.size();
                        let m = ts
                            .pre_translate(rect.x, rect.y)
                            .pre_scale(rect.width / size.width(), rect.height / size.height());
                        match mask {
                            None => resvg::render(tree, m, &mut pixmap.as_mut()),
                            Some(mask) => {
                                let mut layer = Pixmap::new(pixmap.width(), pixmap.height())
                                    .ok_or_else(|| {
                                        PngError::Encode("no memory for a layer".into())
                                    })?;
                                resvg::render(tree, m, &mut layer.as_mut());
                                pixmap.draw_pixmap(
                                    0,
                                    0,
                                    layer.as_ref(),
                                    &PixmapPaint::default(),
                                    SkTransform::identity(),
                                    Some(mask),
                                );
                            }
                        }
                    }
                }
            }
            Item::Link(_) => {}
            Item::Group(g) => {
                let t = g.transform;
                let inner = ts.pre_concat(SkTransform::from_row(t.a, t.b, t.c, t.d, t.e, t.f));
                let opacity = g.opacity.clamp(0.0, 1.0);
                if opacity >= 1.0 {
                    self.items(pixmap, &g.items, inner, mask)?;
                } else if opacity > 0.0 {
                    // A group's opacity applies to it as a whole: draw it on a layer.
                    let mut layer = Pixmap::new(pixmap.width(), pixmap.height())
                        .ok_or_else(|| PngError::Encode("no memory for a layer".into()))?;
                    self.items(&mut layer, &g.items, inner, mask)?;
                    let paint = PixmapPaint {
                        opacity,
                        ..PixmapPaint::default()
                    };
                    pixmap.draw_pixmap(0, 0, layer.as_ref(), &paint, SkTransform::identity(), None);
                }
            }
        }
        Ok(())
    }
}

/// Whether `ts` only scales and moves (no rotation or skew).
fn axis_aligned(ts: SkTransform) -> bool {
    ts.kx == 0.0 && ts.ky == 0.0 && ts.sx > 0.0 && ts.sy > 0.0
}

/// A rectangle in device pixels with its edges rounded to whole pixels and at least one
/// pixel wide and high, when `ts` keeps it axis-aligned.
fn snap(ts: SkTransform, r: Rect) -> Option<tiny_skia::Rect> {
    if !axis_aligned(ts) || r.width <= 0.0 || r.height <= 0.0 {
        return None;
    }
    let edge = |v: f32, scale: f32, offset: f32| (v * scale + offset).round();
    let x0 = edge(r.x, ts.sx, ts.tx);
    let y0 = edge(r.y, ts.sy, ts.ty);
    let x1 = edge(r.right(), ts.sx, ts.tx).max(x0 + 1.0);
    let y1 = edge(r.bottom(), ts.sy, ts.ty).max(y0 + 1.0);
    tiny_skia::Rect::from_ltrb(x0, y0, x1, y1)
}

fn fill_device(pixmap: &mut Pixmap, rect: tiny_skia::Rect, color: Color, mask: Option<&Mask>) {
    let mut p = paint(color);
    p.anti_alias = false;
    pixmap.fill_rect(rect, &p, SkTransform::identity(), mask);
}

/// Multiplies `mask` by `other`, pixel by pixel.
fn intersect(mask: &mut Mask, other: &Mask) {
    for (a, b) in mask.data_mut().iter_mut().zip(other.data()) {
        *a = ((u16::from(*a) * u16::from(*b)) / 255) as u8;
    }
}

fn decode_jpeg(data: &[u8]) -> Option<Pixmap> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;

    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(std::io::Cursor::new(data), options);
    decoder.decode_headers().ok()?;
    if decoder.output_colorspace()? != ColorSpace::RGBA {
        return None;
    }
    let pixels = decoder.decode().ok()?;
    let info = decoder.info()?;
    let size = tiny_skia::IntSize::from_wh(u32::from(info.width), u32::from(info.height))?;
    // JPEG has no alpha: the pixels are already premultiplied.
    Pixmap::from_vec(pixels, size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::RectItem;
    use crate::geom::Size;

    #[test]
    fn pixel_sizes_follow_the_resolution_and_refuse_huge_pages() {
        let a4 = (595.28, 841.89);
        let at = |dpi| PngOptions {
            dpi,
            ..PngOptions::default()
        };
        assert_eq!(at(72.0).pixel_size(a4.0, a4.1), Ok((595, 842)));
        assert_eq!(at(144.0).pixel_size(a4.0, a4.1), Ok((1191, 1684)));
        assert!(matches!(
            at(4800.0).pixel_size(a4.0, a4.1),
            Err(PngError::TooLarge { .. })
        ));
        assert_eq!(at(0.0).pixel_size(a4.0, a4.1), Err(PngError::Dpi(0.0)));
        assert!(matches!(
            at(f32::NAN).pixel_size(a4.0, a4.1),
            Err(PngError::Dpi(_))
        ));
    }

    #[test]
    fn a_filled_rectangle_lands_on_the_pixels_it_covers() {
        let fonts = FontBook::new();
        let page = Page {
            size: Size::new(72.0, 72.0),
            items: vec![Item::Rect(RectItem {
                rect: Rect::new(36.0, 0.0, 36.0, 72.0),
                fill: Some(Color::rgb(255, 0, 0)),
                stroke: None,
            })],
        };
        let pm = page_pixmap(&page, &[], &fonts, &PngOptions::default()).unwrap();
        assert_eq!((pm.width(), pm.height()), (96, 96));
        let px = |x, y| pm.pixel(x, y).unwrap();
        assert_eq!((px(10, 50).red(), px(10, 50).green()), (255, 255));
        assert_eq!((px(80, 50).red(), px(80, 50).green()), (255, 0));
    }
}
