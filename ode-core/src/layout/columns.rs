//! Multi-column blocks: the content is laid out at the column width, then cut into
//! chunks, one per page, each holding its columns side by side. A chunk fills its
//! columns to the room it is given (what is left of the current page, then whole
//! pages); the last one is balanced: the lowest height at which the rest still fits
//! in the columns, found by bisection.

use std::rc::Rc;

use super::Ctx;
use super::flow::{Fragment, Marker};
use super::inline::FieldMode;
use super::style::BlockStyle;
use crate::frame::Item;
use crate::model::Columns;
use crate::path::JPath;

const EPS: f32 = 0.01;

/// Where each fragment of a column chunk goes: (column, y).
type Plan = Vec<(usize, f32)>;

/// Fills up to `count` columns of height `h` with `frags` from the start, breaking
/// between columns after a fragment that allows it when there is one. Returns the
/// places of the fragments taken.
fn fill(frags: &[Fragment], count: usize, h: f32) -> Plan {
    let mut plan: Plan = Vec::new();
    let mut col = 0;
    let mut y = 0.0;
    let mut col_start = 0;
    let mut i = 0;
    while i < frags.len() {
        let f = &frags[i];
        let gap = if i == col_start { 0.0 } else { f.space_before };
        if y + gap + f.height <= h + EPS {
            plan.push((col, y + gap));
            y += gap + f.height;
            i += 1;
            continue;
        }
        if i == col_start || col + 1 == count {
            // Nothing fits in this column, or no column is left.
            break;
        }
        // Break after the last fragment of the column that allows it.
        let cut = (col_start..i)
            .rev()
            .find(|&k| !frags[k].keep_with_next)
            .map_or(i, |k| k + 1);
        plan.truncate(cut);
        col += 1;
        y = 0.0;
        col_start = cut;
        i = cut;
    }
    plan
}

/// Builds one chunk of height `h` from the first `plan.len()` fragments.
fn chunk(frags: Vec<Fragment>, plan: &Plan, h: f32, col_w: f32, gap: f32) -> Fragment {
    let mut items: Vec<Item> = Vec::new();
    let mut markers: Vec<(f32, Marker)> = Vec::new();
    for (f, &(col, y)) in frags.into_iter().zip(plan) {
        f.all_markers(y, &mut markers);
        f.emit_owned(col as f32 * (col_w + gap), y, &mut items);
    }
    let mut out = Fragment::items(h, items);
    out.markers = markers;
    out
}

/// Cuts laid-out column content into chunks: the first fills `first_room`, the next
/// ones `page` each, the last is balanced.
pub(crate) fn chunks(
    mut frags: Vec<Fragment>,
    count: usize,
    col_w: f32,
    gap: f32,
    first_room: f32,
    page: f32,
) -> Vec<Fragment> {
    let mut out = Vec::new();
    let mut room = first_room.min(page);
    while !frags.is_empty() {
        let plan = fill(&frags, count, room);
        if plan.len() == frags.len() {
            // The rest fits: balance it.
            let lowest = frags.iter().map(|f| f.height).fold(0.0, f32::max);
            let (mut lo, mut hi) = (lowest, room);
            for _ in 0..24 {
                if hi - lo < 0.1 {
                    break;
                }
                let mid = (lo + hi) / 2.0;
                if fill(&frags, count, mid).len() == frags.len() {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            let plan = fill(&frags, count, hi);
            let used = plan
                .iter()
                .zip(&frags)
                .map(|(&(_, y), f)| y + f.height)
                .fold(0.0, f32::max);
            out.push(chunk(std::mem::take(&mut frags), &plan, used, col_w, gap));
            break;
        }
        if plan.is_empty() {
            if room < page - EPS {
                // Not even one piece fits in what is left of the page: start on the next.
                room = page;
                continue;
            }
            // A piece taller than a page: it goes alone, and overflows.
            let rest = frags.split_off(1);
            let h = frags[0].height;
            out.push(chunk(
                std::mem::take(&mut frags),
                &vec![(0, 0.0)],
                h,
                col_w,
                gap,
            ));
            frags = rest;
            continue;
        }
        let rest = frags.split_off(plan.len());
        out.push(chunk(std::mem::take(&mut frags), &plan, room, col_w, gap));
        frags = rest;
        room = page;
    }
    out
}

impl Ctx<'_> {
    /// Lays out a columns block's content at the column width; returns the
    /// fragments, the column width and the gap.
    pub(crate) fn column_content(
        &mut self,
        c: &Columns,
        style: &Rc<BlockStyle>,
        width: f32,
        fields: FieldMode,
        path: &JPath,
    ) -> (Vec<Fragment>, f32, f32) {
        let count = f32::from(c.count.clamp(2, 4));
        let gap = c.gap.map_or(12.0, |g| g.0).min(width / count);
        let col_w = ((width - gap * (count - 1.0)) / count).max(1.0);
        let mut frags = Vec::new();
        self.blocks(
            &c.content,
            style,
            col_w,
            fields,
            &path.key("content"),
            &mut frags,
        );
        (frags, col_w, gap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize, h: f32) -> Vec<Fragment> {
        (0..n).map(|_| Fragment::items(h, Vec::new())).collect()
    }

    #[test]
    fn the_last_chunk_is_balanced_and_earlier_ones_fill_their_room() {
        // 25 lines of 10pt in 2 columns, 100pt left on this page, 300pt pages.
        let out = chunks(lines(25, 10.0), 2, 100.0, 10.0, 100.0, 300.0);
        let heights: Vec<f32> = out.iter().map(|f| f.height).collect();
        // 20 lines on this page (two columns of 10), 5 balanced as 3 + 2.
        assert_eq!(heights, vec![100.0, 30.0]);
    }

    #[test]
    fn a_column_does_not_end_after_a_piece_kept_with_the_next() {
        let mut frags = lines(6, 10.0);
        frags[2].keep_with_next = true;
        // Columns of 30pt would break after the third line; it is kept with the fourth.
        let plan = fill(&frags, 2, 30.0);
        assert_eq!(plan.iter().filter(|p| p.0 == 0).count(), 2);
    }
}
