//! Tables of contents: entries from the document's headings, with dot leaders and the
//! page numbers the counting pass found.
//!
//! The entries are known before layout (a scan of the model's headings), so a counting
//! pass lays the table out with as many entries, of the same height, as the drawing
//! pass: only the numbers change, and they sit in a column of fixed width.

use std::collections::BTreeSet;
use std::rc::Rc;

use super::Ctx;
use super::flow::{Fragment, Marker};
use super::inline::FieldMode;
use super::style::BlockStyle;
use crate::frame::{ArtifactKind, Glyph, Item, LinkItem, LinkTarget, Mark, NodeKind, TextItem};
use crate::geom::{Point, Rect};
use crate::model::{Block, Document, Toc};
use crate::path::JPath;

/// A heading listed in tables of contents.
#[derive(Debug, Clone)]
pub(crate) struct TocEntry {
    pub level: u8,
    pub title: String,
    /// The anchor entries link to: the heading's own, or one generated for it.
    pub target: String,
}

/// The anchor generated for a listed heading without one, from its JSON path.
pub(crate) fn generated_anchor(path: &str) -> String {
    format!("_heading{path}")
}

/// The headings the document's tables of contents list (down to the deepest level any
/// of them asks for), and the paths of those that need a generated anchor. Headings of
/// the top-level content, of sections, groups and columns are listed; headings with
/// `"outline": false` are not.
pub(crate) fn scan(doc: &Document) -> (Vec<TocEntry>, BTreeSet<String>) {
    fn deepest(blocks: &[Block]) -> u8 {
        blocks
            .iter()
            .map(|b| match b {
                Block::Toc(t) => t.levels.unwrap_or(3),
                Block::Section(s) => deepest(&s.content),
                Block::Group(g) => deepest(&g.content),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }
    fn walk(
        blocks: &[Block],
        path: &JPath,
        levels: u8,
        entries: &mut Vec<TocEntry>,
        targets: &mut BTreeSet<String>,
    ) {
        for (i, b) in blocks.iter().enumerate() {
            let p = path.index(i);
            match b {
                Block::Heading(h) if h.level <= levels && h.outline != Some(false) => {
                    let target = match &h.props.anchor {
                        Some(a) => a.clone(),
                        None => {
                            let ps = p.to_string();
                            let t = generated_anchor(&ps);
                            targets.insert(ps);
                            t
                        }
                    };
                    entries.push(TocEntry {
                        level: h.level,
                        title: super::flow::plain_text(h.text.as_deref(), &h.content),
                        target,
                    });
                }
                Block::Section(s) => walk(&s.content, &p.key("content"), levels, entries, targets),
                Block::Group(g) => walk(&g.content, &p.key("content"), levels, entries, targets),
                Block::Columns(c) => walk(&c.content, &p.key("content"), levels, entries, targets),
                _ => {}
            }
        }
    }
    let levels = deepest(&doc.content);
    let mut entries = Vec::new();
    let mut targets = BTreeSet::new();
    if levels > 0 {
        let root = JPath::Root;
        walk(
            &doc.content,
            &root.key("content"),
            levels,
            &mut entries,
            &mut targets,
        );
    }
    (entries, targets)
}

impl Ctx<'_> {
    /// Lays out a table of contents.
    pub(crate) fn toc(
        &mut self,
        t: &Toc,
        style: &Rc<BlockStyle>,
        width: f32,
        fields: FieldMode,
        path: &JPath,
        out: &mut Vec<Fragment>,
    ) {
        let levels = t.levels.unwrap_or(3);
        // Space above the first entry: below the title, when there is one.
        let mut gap = None;
        if let Some(title) = &t.title {
            let tp = path.key("title");
            let ts = self.sheet.get("toc_title");
            let mut lines = self.paragraph_lines(Some(title), &[], &ts, width, fields, &tp);
            if self.tagging {
                let mark = self.node(NodeKind::Paragraph, &tp);
                self.mark_lines(&mut lines, mark, &tp);
            }
            let mut frags = super::flow::lines_to_fragments(lines, &ts);
            if let Some(last) = frags.last_mut() {
                last.keep_with_next = true;
            }
            if let Some(first) = frags.first_mut() {
                first.space_before = ts.space_before;
            }
            out.extend(frags);
            gap = Some(ts.space_after);
        }
        let toc_mark = self.node(NodeKind::Toc, path);
        let outer = self.enter(toc_mark);
        let digits = match fields {
            FieldMode::Placeholder { digits } => digits,
            FieldMode::Exact { .. } => 1,
        };
        let entries = self.toc_entries.clone();
        for e in entries.iter().filter(|e| e.level <= levels) {
            let size = style.text.size;
            let est = BlockStyle {
                left_indent: style.left_indent + f32::from(e.level.saturating_sub(1)) * size * 1.5,
                first_line_indent: 0.0,
                ..(**style).clone()
            };
            let font = self.font_for(&est.text, path);
            let zeros = self.shaper.shape(font, "0000");
            let column: f32 = zeros.iter().map(|g| g.advance * size).sum::<f32>() + size;
            let mut lines =
                self.paragraph_lines(Some(&e.title), &[], &est, width - column, fields, path);
            let item = self.node(NodeKind::TocItem, path);
            let item_outer = self.enter(item);
            let link = self.node(NodeKind::Link, path);
            self.leave(item_outer);
            let number = match self.page_refs.get(&e.target) {
                Some(n) => n.to_string(),
                None => "0".repeat(digits),
            };
            let n_lines = lines.len();
            for (k, line) in lines.iter_mut().enumerate() {
                line.items.iter_mut().for_each(|i| i.set_mark(link));
                line.items.push(Item::Link(LinkItem {
                    rect: Rect::new(est.left_indent, 0.0, width - est.left_indent, line.height),
                    target: LinkTarget::Anchor(e.target.clone()),
                    mark: link,
                }));
                if k + 1 < n_lines {
                    continue;
                }
                // The number flush right, dots from the title's end up to it.
                let glyphs = self.shaper.shape(font, &number);
                let w: f32 = glyphs.iter().map(|g| g.advance * size).sum();
                let nx = width - est.right_indent - w;
                let text_end = line
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Text(t) => Some(t.origin.x + t.width()),
                        _ => None,
                    })
                    .fold(est.left_indent, f32::max);
                line.items.push(Item::Text(TextItem {
                    origin: Point::new(nx, line.baseline),
                    font,
                    size,
                    color: est.text.color,
                    glyphs: super::inline::frame_glyphs(&glyphs, size, &number),
                    text: number.clone(),
                    field: None,
                    mark: link,
                }));
                if let Some(dots) = leader(self, font, size, &est, text_end, nx, line.baseline) {
                    line.items.push(dots);
                }
            }
            let mut frags = super::flow::lines_to_fragments(lines, &est);
            for (k, f) in frags.iter_mut().enumerate() {
                f.keep_with_next = k + 1 < n_lines;
            }
            if let Some(first) = frags.first_mut() {
                first.space_before = gap.replace(est.space_after).unwrap_or(0.0);
            }
            out.extend(frags);
        }
        self.leave(outer);
    }
}

/// Dots from `from` to `to` on a grid of half an em, so that the leaders of all
/// entries line up; `None` when there is no room for one.
fn leader(
    ctx: &mut Ctx,
    font: crate::text::FontId,
    size: f32,
    style: &BlockStyle,
    from: f32,
    to: f32,
    baseline: f32,
) -> Option<Item> {
    let dot = ctx.shaper.shape(font, ".");
    let g = dot.first()?;
    let step = size * 0.5;
    let adv = g.advance * size;
    let first = ((from + size * 0.3) / step).ceil() as i64;
    let last = ((to - size * 0.3 - adv) / step).floor() as i64;
    if last < first {
        return None;
    }
    let n = (last - first + 1) as usize;
    let glyphs: Vec<Glyph> = (0..n)
        .map(|k| Glyph {
            id: g.id,
            x_advance: step,
            x_offset: g.dx * size,
            y_offset: g.dy * size,
            text_start: k as u32,
            text_end: k as u32 + 1,
        })
        .collect();
    Some(Item::Text(TextItem {
        origin: Point::new(first as f32 * step, baseline),
        font,
        size,
        color: style.text.color,
        glyphs,
        text: ".".repeat(n),
        field: None,
        mark: Mark::Artifact(ArtifactKind::Layout),
    }))
}

/// Marks the first fragment of a listed heading with its generated anchor.
pub(crate) fn mark_heading(ctx: &Ctx, path: &JPath, first: &mut Fragment) {
    if ctx.toc_targets.is_empty() {
        return;
    }
    let ps = path.to_string();
    if ctx.toc_targets.contains(&ps) {
        first
            .markers
            .insert(0, (0.0, Marker::Anchor(generated_anchor(&ps))));
    }
}
