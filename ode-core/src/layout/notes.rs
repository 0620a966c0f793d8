//! Footnotes: laid out with the line that references them, placed by pagination at
//! the bottom of the page where that line lands.

use std::fmt;
use std::rc::Rc;

use super::Ctx;
use super::flow::Fragment;
use super::inline::{FieldMode, Line};
use crate::frame::{Item, NodeKind, TextItem};
use crate::geom::Point;
use crate::model::{FootnoteContent, Inline};
use crate::path::JPath;

/// Space between the body and the footnote separator, and between the separator and
/// the first note.
pub(crate) const SEPARATOR_GAP: f32 = 6.0;
/// Thickness of the separator rule.
pub(crate) const SEPARATOR_RULE: f32 = 0.5;

/// A footnote laid out at the body width.
pub(crate) struct Note {
    pub number: u32,
    /// The note's lines; the first carries the number.
    pub frags: Vec<Fragment>,
}

impl fmt::Debug for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Note({}, {} lines)", self.number, self.frags.len())
    }
}

/// The room a footnote area takes above the notes: two gaps and the rule.
pub(crate) fn area_overhead() -> f32 {
    2.0 * SEPARATOR_GAP + SEPARATOR_RULE
}

impl Ctx<'_> {
    /// Lays out the footnotes a paragraph references (`notes`: number and index in
    /// `content`) and hands each to the line holding its reference. Numbering moves on
    /// past them.
    pub(crate) fn attach_notes(
        &mut self,
        notes: &[(u32, usize)],
        content: &[Inline],
        lines: &mut [Line],
        path: &JPath,
    ) {
        let style = self.sheet.get("footnote");
        let size = style.text.size;
        let indent = size * 1.8;
        let width = (self.note_width - indent).max(size * 4.0);
        let cp = path.key("content");
        let mut laid: Vec<Option<Rc<Note>>> = Vec::with_capacity(notes.len());
        let outer = std::mem::replace(&mut self.in_note, true);
        for &(number, i) in notes {
            self.notes_next = self.notes_next.max(number + 1);
            let Some(Inline::Footnote(f)) = content.get(i) else {
                laid.push(None);
                continue;
            };
            let ip = cp.index(i);
            let fp = ip.key("footnote");
            let mark = self.node(NodeKind::Note, &fp);
            let mut note_lines = match &f.footnote {
                FootnoteContent::Text(t) => self.paragraph_lines(
                    Some(t),
                    &[],
                    &style,
                    width,
                    FieldMode::Exact { page: 0, count: 0 },
                    &ip,
                ),
                FootnoteContent::Content(c) => self.paragraph_lines(
                    None,
                    c,
                    &style,
                    width,
                    FieldMode::Exact { page: 0, count: 0 },
                    &ip,
                ),
            };
            if self.tagging {
                self.mark_lines(&mut note_lines, mark, &fp);
            }
            // The number hangs in the indent, on the first line's baseline.
            let font = self.font_for(&style.text, &fp);
            let label = number.to_string();
            let glyphs = self.shaper.shape(font, &label);
            let baseline = note_lines.first().map_or(size, |l| l.baseline);
            let label_item = Item::Text(TextItem {
                origin: Point::new(0.0, baseline),
                font,
                size,
                color: style.text.color,
                glyphs: super::inline::frame_glyphs(&glyphs, size, &label),
                text: label.clone(),
                field: None,
                mark,
            });
            let n = note_lines.len();
            let mut frags: Vec<Fragment> = note_lines
                .into_iter()
                .enumerate()
                .map(|(k, l)| {
                    let mut fr = Fragment::items(l.height, l.items);
                    fr.baseline = Some(l.baseline);
                    fr.shift_x(indent);
                    fr.keep_with_next = k + 1 < n;
                    fr
                })
                .collect();
            match frags.first_mut() {
                Some(first) => {
                    if let super::flow::FragKind::Items(items) = &mut first.kind {
                        items.insert(0, label_item);
                    }
                }
                None => frags.push(Fragment::items(
                    size * style.text.line_height,
                    vec![label_item],
                )),
            }
            if let Some(first) = frags.first_mut() {
                first.space_before = style.space_after;
            }
            laid.push(Some(Rc::new(Note { number, frags })));
        }
        self.in_note = outer;
        for line in lines {
            line.notes = line
                .note_refs
                .iter()
                .filter_map(|&k| laid.get(k).cloned().flatten())
                .collect();
        }
    }
}
