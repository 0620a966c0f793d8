//! QR codes and barcodes → rectangles (and the human-readable text under barcodes).
//!
//! Dark modules are merged before they become frame items: a run of dark modules in a
//! row is one rectangle, and runs that repeat in the rows below extend it downwards, so
//! a QR code of a URL is a few hundred rectangles rather than a thousand squares, and a
//! barcode is one rectangle per bar.

use std::collections::HashMap;
use std::rc::Rc;

use super::Ctx;
use super::flow::Fragment;
use super::style::BlockStyle;
use crate::barcode::{self, CODE128_QUIET, EAN13_QUIET, QR_QUIET};
use crate::frame::{Item, NodeKind, RectItem, TextItem};
use crate::geom::{Color, Point, Rect};
use crate::model::{Align, Barcode, QrCode, Symbology};
use crate::path::JPath;

/// 2.5 cm, the default edge of a QR code.
const QR_SIZE: f32 = 70.866;
/// 0.33 mm, the nominal module width of EAN-13 (also the default for Code 128).
const MODULE: f32 = 0.935_433;
/// 15 mm, the default bar height.
const BAR_HEIGHT: f32 = 42.519_685;

/// Rectangles covering the dark cells of a `columns`-wide grid of `cells` (row by row),
/// each cell `w` × `h` points, the grid's top left at (`x`, `y`).
fn merge_cells(cells: &[bool], columns: usize, x: f32, y: f32, w: f32, h: f32) -> Vec<Rect> {
    let mut rects: Vec<(usize, usize, usize, usize)> = Vec::new(); // x0, x1, row, rows
    let mut open: HashMap<(usize, usize), usize> = HashMap::new();
    for (row, line) in cells.chunks(columns.max(1)).enumerate() {
        let mut next = HashMap::new();
        let mut c = 0;
        while c < line.len() {
            if !line[c] {
                c += 1;
                continue;
            }
            let start = c;
            while c < line.len() && line[c] {
                c += 1;
            }
            let run = (start, c);
            match open.remove(&run) {
                Some(i) => {
                    rects[i].3 += 1;
                    next.insert(run, i);
                }
                None => {
                    next.insert(run, rects.len());
                    rects.push((start, c, row, 1));
                }
            }
        }
        open = next;
    }
    rects
        .into_iter()
        .map(|(x0, x1, row, rows)| {
            Rect::new(
                x + x0 as f32 * w,
                y + row as f32 * h,
                (x1 - x0) as f32 * w,
                rows as f32 * h,
            )
        })
        .collect()
}

fn filled(rects: Vec<Rect>, color: Color) -> impl Iterator<Item = Item> {
    rects.into_iter().map(move |rect| {
        Item::Rect(RectItem {
            rect,
            fill: Some(color),
            stroke: None,
        })
    })
}

impl Ctx<'_> {
    /// Scales `w` × `h` down to the space there is, with a warning.
    fn fit_code(&mut self, what: &str, w: f32, h: f32, avail: f32, path: &JPath) -> f32 {
        let mut k: f32 = 1.0;
        if w > avail + 0.01 {
            self.warn(
                path.to_string(),
                format!("{what} is {w:.0}pt wide but only {avail:.0}pt are available; scaled down"),
            );
            k = avail / w;
        }
        if h * k > self.body_height + 0.01 {
            self.warn(
                path.to_string(),
                format!(
                    "{what} is {:.0}pt tall but a page body is {:.0}pt; scaled down",
                    h * k,
                    self.body_height
                ),
            );
            k = self.body_height / h;
        }
        k
    }

    /// Adds a code's fragment to `out`; returns the style with the space below raised
    /// to the code's quiet zone.
    pub(crate) fn place_code(
        &mut self,
        placed: Option<(Fragment, f32)>,
        style: Rc<BlockStyle>,
        out: &mut Vec<Fragment>,
    ) -> Rc<BlockStyle> {
        let Some((f, quiet)) = placed else {
            return style;
        };
        out.push(f);
        if quiet > style.space_after {
            Rc::new(BlockStyle {
                space_after: quiet,
                ..(*style).clone()
            })
        } else {
            style
        }
    }

    fn align_x(style: &BlockStyle, avail: f32, w: f32) -> f32 {
        style.left_indent
            + match style.align {
                Align::Right => avail - w,
                Align::Center => (avail - w) / 2.0,
                _ => 0.0,
            }
    }

    /// A QR code block and the light space it needs around it (its quiet zone);
    /// `None` (with an error) when its data cannot be encoded.
    pub(crate) fn qr_block(
        &mut self,
        q: &QrCode,
        style: &BlockStyle,
        width: f32,
        path: &JPath,
    ) -> Option<(Fragment, f32)> {
        let code = match barcode::qr(&q.data, crate::model::decode::qr_level(q.ec)) {
            Ok(c) => c,
            Err(e) => {
                self.error(path.key("data").to_string(), e.to_string());
                return None;
            }
        };
        let avail = (width - style.left_indent - style.right_indent).max(1.0);
        let mut size = q.size.map_or(QR_SIZE, |l| l.0);
        size *= self.fit_code("QR code", size, size, avail, path);
        let module = size / code.size as f32;
        let x = Self::align_x(style, avail, size);
        let items = filled(
            merge_cells(&code.modules, code.size, x, 0.0, module, module),
            style.text.color,
        )
        .collect();
        let quiet = QR_QUIET as f32 * module;
        let mut f = Fragment::items(size, items);
        f.space_before = quiet.max(style.space_before);
        Some((f, quiet))
    }

    /// A barcode block and the light space it needs above and below; `None` (with an
    /// error) when its data cannot be encoded.
    pub(crate) fn barcode_block(
        &mut self,
        b: &Barcode,
        style: &BlockStyle,
        width: f32,
        path: &JPath,
    ) -> Option<(Fragment, f32)> {
        let data_path = path.key("data");
        let (modules, guard, digits, quiet) = match b.symbology {
            Symbology::Code128 => match barcode::code128(&b.data) {
                Ok(m) => (m, None, None, CODE128_QUIET),
                Err(e) => {
                    self.error(data_path.to_string(), e.to_string());
                    return None;
                }
            },
            Symbology::Ean13 => match barcode::ean13(&b.data) {
                Ok(e) => (e.modules, Some(e.guard), Some(e.digits), EAN13_QUIET),
                Err(e) => {
                    self.error(data_path.to_string(), e.to_string());
                    return None;
                }
            },
        };
        let n = modules.len();
        let show_text = b.text.unwrap_or(true);
        let avail = (width - style.left_indent - style.right_indent).max(1.0);
        let mut bars_w = b.width.map_or(n as f32 * MODULE, |l| l.0);
        let mut bar_h = b.height.map_or(BAR_HEIGHT, |l| l.0);
        let font = self.font_for(&style.text, path);
        let face = self.res.fonts().face(font);
        let (ascender, descender) = (face.ascender, face.descender);
        let mut module = bars_w / n as f32;
        // EAN-13 prints its first digit left of the bars, in the quiet zone.
        let lead_modules = if digits.is_some() && show_text {
            9.0
        } else {
            0.0
        };
        let text_h = |size: f32| size * (ascender + descender) + size * 0.2;
        let total_h = bar_h
            + if show_text {
                text_h(style.text.size)
            } else {
                0.0
            };
        let k = self.fit_code(
            "barcode",
            bars_w + lead_modules * module,
            total_h,
            avail,
            path,
        );
        bars_w *= k;
        bar_h *= k;
        module *= k;
        let lead = lead_modules * module;
        let x = Self::align_x(style, avail, bars_w + lead) + lead;
        let color = style.text.color;

        // Text: EAN-13 in three groups (1 + 6 + 6 digits), Code 128 centred; the size
        // shrinks until the text fits its place.
        let mut texts: Vec<(String, f32, f32)> = Vec::new(); // text, centre x, room
        if show_text {
            match digits {
                Some(d) => {
                    let s: String = d.iter().map(|v| char::from(b'0' + v)).collect();
                    texts.push((s[..1].to_string(), x - lead / 2.0, lead));
                    texts.push((s[1..7].to_string(), x + 24.0 * module, 38.0 * module));
                    texts.push((s[7..].to_string(), x + 71.0 * module, 38.0 * module));
                }
                None => texts.push((b.data.clone(), x + bars_w / 2.0, bars_w)),
            }
        }
        let mut size = style.text.size;
        let mut shaped = Vec::with_capacity(texts.len());
        for (s, _, room) in &texts {
            let glyphs = self.shaper.shape(font, s);
            let em: f32 = glyphs.iter().map(|g| g.advance).sum();
            if em > 0.0 {
                size = size.min(room / em);
            }
            shaped.push((glyphs, em));
        }
        // Guard bars reach down into the text line (EAN-13).
        let guard_h = if show_text {
            bar_h + size * (ascender + descender) * 0.5
        } else {
            bar_h
        };
        let mut items: Vec<Item> = Vec::new();
        match &guard {
            Some(guard) => {
                // Normal bars and guard bars apart: they differ in height.
                let normal: Vec<bool> = modules.iter().zip(guard).map(|(m, g)| *m && !g).collect();
                let long: Vec<bool> = modules.iter().zip(guard).map(|(m, g)| *m && *g).collect();
                items.extend(filled(
                    merge_cells(&normal, n, x, 0.0, module, bar_h),
                    color,
                ));
                items.extend(filled(
                    merge_cells(&long, n, x, 0.0, module, guard_h),
                    color,
                ));
            }
            None => items.extend(filled(
                merge_cells(&modules, n, x, 0.0, module, bar_h),
                color,
            )),
        }
        let mut height = bar_h;
        if show_text {
            let mark = self.node(NodeKind::Paragraph, path);
            let baseline = bar_h + size * 0.2 + size * ascender;
            for ((s, centre, _), (glyphs, em)) in texts.iter().zip(&shaped) {
                let w = em * size;
                items.push(Item::Text(TextItem {
                    origin: Point::new(centre - w / 2.0, baseline),
                    font,
                    size,
                    color,
                    glyphs: super::inline::frame_glyphs(glyphs, size, s),
                    text: s.clone(),
                    field: None,
                    mark,
                }));
            }
            height = (baseline + size * descender).max(guard_h);
        }
        // Linear codes are read across: their quiet zones are left and right, and half
        // of one above and below keeps neighbours clear of the scan line.
        let quiet = quiet as f32 * module * 0.5;
        let mut f = Fragment::items(height, items);
        f.space_before = quiet.max(style.space_before);
        Some((f, quiet))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_cells_merge_into_runs_and_repeated_runs_into_blocks() {
        // ##.#
        // ##.#
        // .###
        let cells = [
            true, true, false, true, //
            true, true, false, true, //
            false, true, true, true,
        ];
        let rects = merge_cells(&cells, 4, 10.0, 20.0, 1.0, 2.0);
        assert_eq!(
            rects,
            vec![
                Rect::new(10.0, 20.0, 2.0, 4.0),
                Rect::new(13.0, 20.0, 1.0, 4.0),
                Rect::new(11.0, 24.0, 3.0, 2.0),
            ]
        );
        let area: f32 = rects.iter().map(|r| r.width * r.height).sum();
        assert_eq!(area, 9.0 * 2.0, "nine dark cells of 1 × 2");
    }
}
