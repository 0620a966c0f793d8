//! Images, checked before anything is decoded.
//!
//! Images come from tenants, so each is treated as hostile until checked:
//!
//! - a raster image's size is read from its header and held against
//!   [`Limits::max_image_pixels`] before a single pixel is decoded (a 400 KB PNG can
//!   claim 20,000 × 20,000 pixels);
//! - an SVG is parsed once, here, and the exporters draw that tree. Every reference
//!   it makes goes through [`Resources`] (see [`svg`]): `data:` URIs and the document's
//!   own assets by key, nothing else, never a file or a URL. Its size, element count
//!   (with `use` references expanded), nesting and the SVGs nested in it are bounded,
//!   and its text is set with the document's own fonts;
//! - the PDF exporter resamples raster images shown at more than
//!   [`PdfOptions::image_dpi`](crate::export::PdfOptions::image_dpi) to that
//!   resolution ([`raster`]).

pub(crate) mod raster;
pub(crate) mod svg;

use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::frame::{ImageData, ImageFormat};
use crate::geom::Size;
use crate::limits::Limits;
use crate::resources::Resources;
use crate::text::Bytes;

/// An image checked and ready for the exporters, with what is worth telling about it.
pub(crate) struct Loaded {
    pub data: ImageData,
    /// Warnings, each a whole message (the caller adds the path).
    pub warnings: Vec<String>,
}

/// The format of an image file, from its first bytes.
pub(crate) fn sniff(data: &[u8]) -> Option<ImageFormat> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if data.starts_with(&[0x1f, 0x8b]) {
        // Gzip: an SVGZ file (anything else fails to parse as SVG).
        Some(ImageFormat::Svg)
    } else {
        let head = &data[..data.len().min(4096)];
        let head = String::from_utf8_lossy(head).to_ascii_lowercase();
        head.contains("<svg").then_some(ImageFormat::Svg)
    }
}

/// Checks an image asset and, for an SVG, parses it with its references resolved.
///
/// # Errors
/// A diagnostic at `at` (the image's `src`): not an image, damaged, or over a limit.
pub(crate) fn load(
    key: &str,
    bytes: Bytes,
    res: &dyn Resources,
    limits: &Limits,
    at: &str,
) -> Result<Loaded, Diagnostic> {
    let data = bytes.as_slice();
    let Some(format) = sniff(data) else {
        return Err(Diagnostic::error(
            at,
            format!("image \"{key}\" is not a PNG, JPEG or SVG file"),
        ));
    };
    let damaged = || Diagnostic::error(at, format!("image \"{key}\" is damaged or has no size"));
    let (size, svg, warnings) = match format {
        ImageFormat::Png | ImageFormat::Jpeg => {
            let s = imagesize::blob_size(data).map_err(|_| damaged())?;
            check_pixels(key, s.width as u64, s.height as u64, limits)
                .map_err(|(msg, hint)| Diagnostic::error(at, msg).with_hint(hint))?;
            (Size::new(s.width as f32, s.height as f32), None, Vec::new())
        }
        ImageFormat::Svg => {
            let parsed = svg::parse(key, data, res, limits)
                .map_err(|e| Diagnostic::error(at, format!("image \"{key}\" {e}")))?;
            let size = Size::new(parsed.tree.size().width(), parsed.tree.size().height());
            (size, Some(Arc::new(parsed.tree)), parsed.warnings)
        }
    };
    if !(size.width > 0.0 && size.height > 0.0 && size.width.is_finite() && size.height.is_finite())
    {
        return Err(damaged());
    }
    Ok(Loaded {
        data: ImageData {
            key: key.to_string(),
            bytes,
            format,
            size,
            svg,
        },
        warnings,
    })
}

/// Holds a raster image's pixel count against the limit: the message and a hint.
pub(crate) fn check_pixels(
    key: &str,
    width: u64,
    height: u64,
    limits: &Limits,
) -> Result<(), (String, String)> {
    let pixels = width.saturating_mul(height);
    if pixels <= limits.max_image_pixels {
        return Ok(());
    }
    Err((
        format!(
            "image \"{key}\" is {width} × {height} pixels ({}), over the limit of {}",
            megapixels(pixels),
            megapixels(limits.max_image_pixels)
        ),
        "scale the image down before using it: shown on a page, 300 pixels per inch is \
         already print quality (the limit is the max_image_pixels setting)"
            .into(),
    ))
}

fn megapixels(pixels: u64) -> String {
    let mp = pixels as f64 / 1e6;
    if mp >= 10.0 {
        format!("{mp:.0} megapixels")
    } else {
        format!("{mp:.1} megapixels")
    }
}
