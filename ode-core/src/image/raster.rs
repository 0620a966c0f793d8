//! Raster images resampled to the resolution they are shown at.
//!
//! A 6000 × 4000 photo shown 5 cm wide needs about 600 pixels across at 300 dpi: the
//! PDF writer asks [`target`] for the size an image needs where it is drawn, and
//! [`resample`] averages the source down to it (a box filter on premultiplied alpha).
//! A PNG is decoded row by row into the smaller image, so its memory is that of the
//! result, whatever its size; a JPEG is decoded whole (3 bytes a pixel, within the
//! pixel limit) and encoded again as JPEG, which keeps photos small. Images shown at or
//! below the resolution, CMYK JPEGs and anything that fails to decode are left as they
//! are.

use std::hash::{Hash, Hasher};
use std::io::Cursor;
use std::sync::Arc;

use krilla::image::{BitsPerComponent, CustomImage, ImageColorspace};

use crate::frame::ImageFormat;

/// Quality of JPEGs encoded again after resampling (1 to 100).
const JPEG_QUALITY: u8 = 85;

/// Only images more than this many times the needed resolution are resampled: close to
/// it, resampling costs time and some sharpness for little gain.
const THRESHOLD: f32 = 1.5;

/// The pixel size an image of `pixels` needs when drawn at `shown` points at `dpi`, or
/// `None` when it is not worth resampling.
pub(crate) fn target(pixels: (u32, u32), shown: (f32, f32), dpi: f32) -> Option<(u32, u32)> {
    let positive = |v: f32| v > 0.0 && v.is_finite();
    if !(positive(dpi) && positive(shown.0) && positive(shown.1)) {
        return None;
    }
    let need = |pt: f32| ((pt / 72.0 * dpi).ceil() as u32).max(1);
    let (w, h) = (need(shown.0), need(shown.1));
    let ratio = (pixels.0 as f32 / w as f32).max(pixels.1 as f32 / h as f32);
    (ratio > THRESHOLD).then(|| (w.min(pixels.0), h.min(pixels.1)))
}

/// A resampled image, ready for the PDF writer.
pub(crate) enum Resampled {
    /// Encoded again as JPEG.
    Jpeg(Vec<u8>),
    /// Straight 8-bit samples.
    Pixels(Pixels),
}

/// Resamples an image file to `size` pixels.
///
/// # Errors
/// The file does not decode (the writer then embeds it as it is, and krilla reports it).
pub(crate) fn resample(
    data: &[u8],
    format: ImageFormat,
    size: (u32, u32),
) -> Result<Resampled, String> {
    match format {
        ImageFormat::Png => png(data, size).map(Resampled::Pixels),
        ImageFormat::Jpeg => jpeg(data, size).map(Resampled::Jpeg),
        ImageFormat::Svg => Err("an SVG is drawn as vectors".into()),
    }
}

/// 8-bit samples for krilla: colour (gray or RGB) and an optional alpha channel.
#[derive(Clone)]
pub(crate) struct Pixels {
    color: Arc<Vec<u8>>,
    alpha: Option<Arc<Vec<u8>>>,
    width: u32,
    height: u32,
    gray: bool,
    icc: Option<Arc<Vec<u8>>>,
}

impl Hash for Pixels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.color.hash(state);
        self.alpha.hash(state);
        (self.width, self.height, self.gray).hash(state);
        self.icc.hash(state);
    }
}

impl CustomImage for Pixels {
    fn color_channel(&self) -> &[u8] {
        &self.color
    }
    fn alpha_channel(&self) -> Option<&[u8]> {
        self.alpha.as_deref().map(Vec::as_slice)
    }
    fn bits_per_component(&self) -> BitsPerComponent {
        BitsPerComponent::Eight
    }
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    fn icc_profile(&self) -> Option<&[u8]> {
        self.icc.as_deref().map(Vec::as_slice)
    }
    fn color_space(&self) -> ImageColorspace {
        if self.gray {
            ImageColorspace::Luma
        } else {
            ImageColorspace::Rgb
        }
    }
}

/// Averages rows of `channels` 8-bit samples (the last one alpha when `alpha`) into
/// `out_w` × `out_h` pixels, one source row at a time.
struct BoxFilter {
    src: (u32, u32),
    out: (u32, u32),
    channels: usize,
    alpha: bool,
    /// Sums for the output row being gathered (colour premultiplied by alpha).
    sums: Vec<u64>,
    /// Source pixels summed into each output pixel of the row.
    counts: Vec<u64>,
    /// Output row the sums belong to.
    row: u32,
    result: Vec<u8>,
}

impl BoxFilter {
    fn new(src: (u32, u32), out: (u32, u32), channels: usize, alpha: bool) -> Self {
        BoxFilter {
            src,
            out,
            channels,
            alpha,
            sums: vec![0; out.0 as usize * channels],
            counts: vec![0; out.0 as usize],
            row: 0,
            result: Vec::with_capacity(out.0 as usize * out.1 as usize * channels),
        }
    }

    /// Adds source row `y`.
    fn push(&mut self, y: u32, samples: &[u8]) {
        let oy = (u64::from(y) * u64::from(self.out.1) / u64::from(self.src.1)) as u32;
        while oy > self.row {
            self.emit();
        }
        let ch = self.channels;
        for (x, px) in samples
            .chunks_exact(ch)
            .take(self.src.0 as usize)
            .enumerate()
        {
            let ox = (x as u64 * u64::from(self.out.0) / u64::from(self.src.0)) as usize;
            let sums = &mut self.sums[ox * ch..ox * ch + ch];
            if self.alpha {
                let a = u64::from(px[ch - 1]);
                for (s, v) in sums[..ch - 1].iter_mut().zip(&px[..ch - 1]) {
                    *s += u64::from(*v) * a;
                }
                sums[ch - 1] += a;
            } else {
                for (s, v) in sums.iter_mut().zip(px) {
                    *s += u64::from(*v);
                }
            }
            self.counts[ox] += 1;
        }
    }

    fn emit(&mut self) {
        let ch = self.channels;
        for (sums, n) in self.sums.chunks_exact_mut(ch).zip(&mut self.counts) {
            let n_px = (*n).max(1);
            if self.alpha {
                let a = sums[ch - 1];
                for s in &sums[..ch - 1] {
                    // Colour = Σ(c·a) / Σa: transparent pixels do not darken the edges.
                    let c = (s + a / 2).checked_div(a).unwrap_or(0);
                    self.result.push(c as u8);
                }
                self.result.push(((a + n_px / 2) / n_px) as u8);
            } else {
                for s in sums.iter() {
                    self.result.push(((s + n_px / 2) / n_px) as u8);
                }
            }
            sums.fill(0);
            *n = 0;
        }
        self.row += 1;
    }

    fn finish(mut self) -> Vec<u8> {
        while self.row < self.out.1 {
            self.emit();
        }
        self.result
    }
}

fn png(data: &[u8], size: (u32, u32)) -> Result<Pixels, String> {
    let mut decoder = png::Decoder::new(Cursor::new(data));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let info = reader.info();
    let (w, h) = (info.width, info.height);
    let interlaced = info.interlaced;
    let icc = info.icc_profile.as_ref().map(|p| Arc::new(p.to_vec()));
    let (color_type, _) = reader.output_color_type();
    let (channels, alpha, gray) = match color_type {
        png::ColorType::Grayscale => (1, false, true),
        png::ColorType::GrayscaleAlpha => (2, true, true),
        png::ColorType::Rgb => (3, false, false),
        png::ColorType::Rgba => (4, true, false),
        png::ColorType::Indexed => return Err("indexed colours were not expanded".into()),
    };
    let mut filter = BoxFilter::new((w, h), size, channels, alpha);
    if interlaced {
        // Adam7 rows come pass by pass: decode the whole image (within the pixel limit).
        let mut buf = vec![0; reader.output_buffer_size().ok_or("image is too large")?];
        let frame = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
        for (y, row) in buf.chunks_exact(frame.line_size).enumerate() {
            filter.push(y as u32, row);
        }
    } else {
        let mut y = 0;
        while let Some(row) = reader.next_row().map_err(|e| e.to_string())? {
            filter.push(y, row.data());
            y += 1;
        }
    }
    let samples = filter.finish();
    let (color, alpha) = if alpha {
        let color_ch = channels - 1;
        let mut color = Vec::with_capacity(samples.len() / channels * color_ch);
        let mut a = Vec::with_capacity(samples.len() / channels);
        for px in samples.chunks_exact(channels) {
            color.extend_from_slice(&px[..color_ch]);
            a.push(px[color_ch]);
        }
        // An alpha channel that is opaque everywhere is left out.
        let alpha = a.iter().any(|v| *v != 255).then(|| Arc::new(a));
        (color, alpha)
    } else {
        (samples, None)
    };
    Ok(Pixels {
        color: Arc::new(color),
        alpha,
        width: size.0,
        height: size.1,
        gray,
        icc,
    })
}

fn jpeg(data: &[u8], size: (u32, u32)) -> Result<Vec<u8>, String> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;

    let mut decoder = zune_jpeg::JpegDecoder::new(Cursor::new(data));
    decoder.decode_headers().map_err(|e| e.to_string())?;
    let (channels, color_type) = match decoder.output_colorspace() {
        Some(ColorSpace::RGB) => (3, jpeg_encoder::ColorType::Rgb),
        Some(ColorSpace::Luma) => (1, jpeg_encoder::ColorType::Luma),
        // CMYK (and anything else) keeps its original: converting it is not ours to do.
        other => return Err(format!("colour space {other:?} is kept as it is")),
    };
    let icc = decoder.icc_profile();
    let pixels = decoder.decode().map_err(|e| e.to_string())?;
    let info = decoder.info().ok_or("no image information")?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let mut filter = BoxFilter::new((w, h), size, channels, false);
    let stride = w as usize * channels;
    for (y, row) in pixels.chunks_exact(stride).enumerate() {
        filter.push(y as u32, row);
    }
    drop(pixels);
    let samples = filter.finish();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY);
    if let Some(icc) = &icc {
        encoder.add_icc_profile(icc).map_err(|e| e.to_string())?;
    }
    let (tw, th) = (
        u16::try_from(size.0).map_err(|_| "too wide for JPEG")?,
        u16::try_from(size.1).map_err(|_| "too tall for JPEG")?,
    );
    encoder
        .encode(&samples, tw, th, color_type)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_close_to_the_resolution_are_left_alone() {
        // 5 cm at 300 dpi needs 591 pixels.
        let cm5 = 5.0 / 2.54 * 72.0;
        assert_eq!(
            target((6000, 4000), (cm5, cm5 * 2.0 / 3.0), 300.0),
            Some((591, 394))
        );
        assert_eq!(target((800, 533), (cm5, cm5 * 2.0 / 3.0), 300.0), None);
        assert_eq!(target((6000, 4000), (cm5, cm5), 0.0), None);
    }

    #[test]
    fn the_box_filter_averages_premultiplied_colour() {
        // 4 × 2 gray+alpha pixels into 2 × 1: the left pair half transparent.
        let mut f = BoxFilter::new((4, 2), (2, 1), 2, true);
        f.push(0, &[200, 255, 0, 0, 10, 255, 30, 255]);
        f.push(1, &[200, 255, 0, 0, 10, 255, 30, 255]);
        // Left: colour 200 (the transparent pixels do not count), alpha 1/2.
        // Right: colour 20, opaque.
        assert_eq!(f.finish(), vec![200, 128, 20, 255]);
    }

    #[test]
    fn rows_fall_into_the_output_row_they_cover() {
        // Three rows into two: rows 0 and 1 make the first, row 2 the second.
        let mut f = BoxFilter::new((1, 3), (1, 2), 1, false);
        for (y, v) in [10u8, 30, 200].into_iter().enumerate() {
            f.push(y as u32, &[v]);
        }
        assert_eq!(f.finish(), vec![20, 200]);
    }
}
