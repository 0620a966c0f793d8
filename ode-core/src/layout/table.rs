//! Tables: grid placement with spans, column widths, rows as splittable fragments.

use std::rc::Rc;

use super::Ctx;
use super::flow::{FragKind, Fragment, stack_height};
use super::inline::FieldMode;
use super::style::{BlockStyle, apply};
use crate::frame::{Item, LineItem, Mark, NodeId, NodeKind, RectItem};
use crate::geom::{Color, Point, Rect};
use crate::model::{Align, BorderLines, Cell, Column, ColumnWidth, Edges, Row, Table, VAlign};
use crate::path::JPath;

#[derive(Clone, Copy)]
pub(crate) struct Pad {
    top: f32,
    right: f32,
    bottom: f32,
    left: f32,
}

impl From<Edges> for Pad {
    fn from(e: Edges) -> Pad {
        Pad {
            top: e.top.0,
            right: e.right.0,
            bottom: e.bottom.0,
            left: e.left.0,
        }
    }
}

#[derive(Clone)]
pub(crate) struct CellFrag {
    x: f32,
    width: f32,
    /// Offset of the cell's top from the row group's top.
    y: f32,
    height: f32,
    pad: Pad,
    background: Option<Color>,
    valign: VAlign,
    content: Vec<Fragment>,
}

/// One row, or several rows joined by row spans.
#[derive(Clone)]
pub(crate) struct RowFrag {
    cells: Vec<CellFrag>,
    height: f32,
    border: Option<(f32, Color, BorderLines)>,
}

impl RowFrag {
    pub fn height(&self) -> f32 {
        self.height
    }

    /// Markers inside the cells, with offsets from the row's top.
    pub fn markers(&self, dy: f32, out: &mut Vec<(f32, super::flow::Marker)>) {
        for c in &self.cells {
            let mut y = dy + c.y + c.pad.top;
            for (i, f) in c.content.iter().enumerate() {
                if i > 0 {
                    y += f.space_before;
                }
                f.all_markers(y, out);
                y += f.height;
            }
        }
    }

    pub fn shift_x(&mut self, dx: f32) {
        for c in &mut self.cells {
            c.x += dx;
        }
    }

    pub fn emit(&self, x0: f32, y0: f32, out: &mut Vec<Item>) {
        for c in &self.cells {
            if let Some(bg) = c.background {
                out.push(Item::Rect(RectItem {
                    rect: Rect::new(x0 + c.x, y0 + c.y, c.width, c.height),
                    fill: Some(bg),
                    stroke: None,
                }));
            }
        }
        for c in &self.cells {
            let content_h = stack_height(&c.content);
            let room = c.height - c.pad.top - c.pad.bottom;
            let dy = match c.valign {
                VAlign::Top => 0.0,
                VAlign::Middle => ((room - content_h) / 2.0).max(0.0),
                VAlign::Bottom => (room - content_h).max(0.0),
            };
            let mut y = y0 + c.y + c.pad.top + dy;
            for (i, f) in c.content.iter().enumerate() {
                if i > 0 {
                    y += f.space_before;
                }
                f.emit(x0 + c.x + c.pad.left, y, out);
                y += f.height;
            }
        }
        if let Some((w, color, lines)) = self.border {
            for c in &self.cells {
                let r = Rect::new(x0 + c.x, y0 + c.y, c.width, c.height);
                match lines {
                    BorderLines::All => out.push(Item::Rect(RectItem {
                        rect: r,
                        fill: None,
                        stroke: Some((color, w)),
                    })),
                    BorderLines::Horizontal => {
                        for y in [r.y, r.bottom()] {
                            out.push(Item::Line(LineItem {
                                from: Point::new(r.x, y),
                                to: Point::new(r.right(), y),
                                color,
                                width: w,
                            }));
                        }
                    }
                    BorderLines::None => {}
                }
            }
        }
    }

    /// Splits the row so that the first part is at most `avail` tall, moving the cells'
    /// lines rather than copying them (a row taller than many pages is split once per
    /// page). Gives the row back when not even one line of any cell fits.
    pub fn split(mut self, avail: f32) -> Result<(RowFrag, RowFrag), Box<RowFrag>> {
        // How many of each cell's fragments fit.
        let counts: Vec<usize> = self
            .cells
            .iter()
            .map(|c| {
                let limit = avail - c.pad.bottom;
                let mut y = c.y + c.pad.top;
                let mut n = 0;
                for (i, f) in c.content.iter().enumerate() {
                    let gap = if i == 0 { 0.0 } else { f.space_before };
                    if y + gap + f.height > limit + 0.01 {
                        break;
                    }
                    y += gap + f.height;
                    n += 1;
                }
                n
            })
            .collect();
        if counts.iter().all(|n| *n == 0) {
            return Err(Box::new(self));
        }
        let contents: Vec<Vec<Fragment>> = self
            .cells
            .iter_mut()
            .map(|c| std::mem::take(&mut c.content))
            .collect();
        // Without their contents, the cells are cheap to copy.
        let mut head = self.clone();
        let mut tail = self;
        let mut rest_height: f32 = 0.0;
        for (k, (mut content, n)) in contents.into_iter().zip(counts).enumerate() {
            let (y, height, pad) = (tail.cells[k].y, tail.cells[k].height, tail.cells[k].pad);
            let mut rest = content.split_off(n);
            head.cells[k].content = content;
            head.cells[k].height = (avail - y).max(0.0);
            if let Some(f) = rest.first_mut() {
                f.space_before = 0.0;
            }
            let rest_h = stack_height(&rest) + pad.top + pad.bottom;
            let t = &mut tail.cells[k];
            t.content = rest;
            t.y = (y - avail).max(0.0);
            t.height = (y + height - avail).max(0.0).max(rest_h);
            rest_height = rest_height.max(t.y + t.height);
        }
        head.height = avail;
        // Every cell spans the whole remainder so that borders and backgrounds line up.
        for c in &mut tail.cells {
            if c.y + c.height < rest_height {
                c.height = rest_height - c.y;
            }
        }
        tail.height = rest_height;
        Ok((head, tail))
    }
}

struct Placed<'m> {
    row: usize,
    col: usize,
    colspan: usize,
    rowspan: usize,
    cell: &'m Cell,
    index: usize,
}

fn cells_of(row: &Row) -> (&[Cell], Option<Color>, bool) {
    match row {
        Row::Cells(c) => (c, None, false),
        Row::Full(r) => (&r.cells, r.background, true),
    }
}

/// A table with its grid, column positions and row groups worked out; groups are laid
/// out one at a time, so a long table never holds all its rows in memory at once.
pub(crate) struct TablePlan<'t> {
    t: &'t Table,
    style: Rc<BlockStyle>,
    header_style: Rc<BlockStyle>,
    placed: Vec<Placed<'t>>,
    header_end: usize,
    xs: Vec<f32>,
    default_pad: Pad,
    col_align: Vec<Option<Align>>,
    /// Row groups joined by row spans: rows `start..end`, placed cells `first..last`.
    groups: Vec<(usize, usize, usize, usize)>,
    border: Option<(f32, Color, BorderLines)>,
    fields: FieldMode,
    header_groups: usize,
    header: Option<Rc<Vec<Fragment>>>,
    /// Structure nodes that header rows and other rows go into.
    head_node: Option<NodeId>,
    body_node: Option<NodeId>,
}

impl TablePlan<'_> {
    /// How many fragments (row groups) the table has.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    fn cell_style(&self, ctx: &Ctx, p: &Placed) -> Rc<BlockStyle> {
        let named = p
            .cell
            .spec()
            .and_then(|s| s.style.as_deref())
            .map(|n| ctx.sheet.get(n));
        let base = match &named {
            Some(n) => n,
            None if p.row < self.header_end => &self.header_style,
            None => &self.style,
        };
        let mut s = BlockStyle {
            space_before: 0.0,
            left_indent: 0.0,
            right_indent: 0.0,
            ..(**base).clone()
        };
        if let Some(a) = self.col_align[p.col] {
            s.align = a;
        }
        match p.cell {
            Cell::Full(spec) if spec.props != Default::default() => Rc::new(apply(&s, &spec.props)),
            _ => Rc::new(s),
        }
    }

    fn pad_of(&self, p: &Placed) -> Pad {
        p.cell
            .spec()
            .and_then(|s| s.padding)
            .map_or(self.default_pad, Pad::from)
    }
}

impl Ctx<'_> {
    /// Lays out a whole table.
    pub(crate) fn table(
        &mut self,
        t: &Table,
        style: &Rc<BlockStyle>,
        width: f32,
        fields: FieldMode,
        path: &JPath,
        out: &mut Vec<Fragment>,
    ) {
        if let Some(plan) = self.table_plan(t, style, width, fields, path) {
            for g in 0..plan.len() {
                let f = self.table_group(&plan, g, path);
                out.push(f);
            }
        }
    }

    /// Places cells on the grid, resolves column widths and row groups, and lays out
    /// the header rows (which repeat on every page).
    pub(crate) fn table_plan<'t>(
        &mut self,
        t: &'t Table,
        style: &Rc<BlockStyle>,
        width: f32,
        fields: FieldMode,
        path: &JPath,
    ) -> Option<TablePlan<'t>> {
        let ncols = t.columns.len();
        if ncols == 0 {
            return None;
        }
        let nrows = t.rows.len();
        let rows_path = path.key("rows");

        // Grid placement.
        let mut occupied = vec![vec![false; ncols]; nrows];
        let mut placed: Vec<Placed> = Vec::new();
        for (r, row) in t.rows.iter().enumerate() {
            let (cells, _, _) = cells_of(row);
            let mut c = 0;
            for (i, cell) in cells.iter().enumerate() {
                while c < ncols && occupied[r][c] {
                    c += 1;
                }
                if c >= ncols {
                    self.error(
                        rows_path.index(r).to_string(),
                        format!("row {r} has more cells than the table's {ncols} columns (cell {i} has no column left)"),
                    );
                    break;
                }
                let (mut colspan, mut rowspan) = match cell {
                    Cell::Full(s) => (
                        s.colspan.unwrap_or(1) as usize,
                        s.rowspan.unwrap_or(1) as usize,
                    ),
                    Cell::Text(_) => (1, 1),
                };
                let cell_path = || {
                    let rp = rows_path.index(r);
                    match row {
                        Row::Full(_) => format!("{}/cells/{i}", rp),
                        Row::Cells(_) => format!("{}/{i}", rp),
                    }
                };
                let free = (c..ncols).take_while(|k| !occupied[r][*k]).count();
                if colspan > free {
                    self.warn(cell_path(), format!("colspan {colspan} reaches past the table's last column; reduced to {free}"));
                    colspan = free;
                }
                if r + rowspan > nrows {
                    self.warn(
                        cell_path(),
                        format!(
                            "rowspan {rowspan} reaches past the table's last row; reduced to {}",
                            nrows - r
                        ),
                    );
                    rowspan = nrows - r;
                }
                for occ in occupied.iter_mut().skip(r).take(rowspan) {
                    for slot in occ.iter_mut().skip(c).take(colspan) {
                        *slot = true;
                    }
                }
                placed.push(Placed {
                    row: r,
                    col: c,
                    colspan,
                    rowspan,
                    cell,
                    index: i,
                });
                c += colspan;
            }
        }
        drop(occupied);

        // Header rows, extended to cover row spans that start in them.
        let mut header_end = t.header_rows as usize;
        loop {
            let end = placed
                .iter()
                .filter(|p| p.row < header_end)
                .map(|p| p.row + p.rowspan)
                .max()
                .unwrap_or(0);
            if end <= header_end {
                break;
            }
            header_end = end;
        }

        let col_align: Vec<Option<Align>> = t
            .columns
            .iter()
            .map(|c| match c {
                Column::Full(s) => s.align,
                Column::Width(_) => None,
            })
            .collect();
        let border = match &t.border {
            Some(b) if b.width.map_or(0.5, |w| w.0) <= 0.0 => None,
            Some(b) if b.lines == BorderLines::None => None,
            Some(b) => Some((
                b.width.map_or(0.5, |w| w.0),
                b.color.unwrap_or(Color::BLACK),
                b.lines,
            )),
            None => Some((0.5, Color::BLACK, BorderLines::All)),
        };

        // Row groups joined by row spans; cells were placed row by row, so each group's
        // cells follow the previous group's.
        let mut group_end: Vec<usize> = (1..=nrows).collect();
        for p in &placed {
            let end = p.row + p.rowspan;
            for g in group_end.iter_mut().take(end).skip(p.row) {
                *g = (*g).max(end);
            }
        }
        let mut groups = Vec::new();
        let (mut r, mut next_cell) = (0, 0);
        while r < nrows {
            let mut end = group_end[r];
            let mut k = r;
            while k < end {
                end = end.max(group_end[k]);
                k += 1;
            }
            let first = next_cell;
            while next_cell < placed.len() && placed[next_cell].row < end {
                next_cell += 1;
            }
            groups.push((r, end, first, next_cell));
            r = end;
        }
        let header_groups = groups.iter().take_while(|g| g.1 <= header_end).count();

        let table_node = self.node(NodeKind::Table, path).node();
        let (head_node, body_node) = if header_end > 0 && header_end < nrows {
            (
                self.node_in(table_node, NodeKind::TableHead, path).node(),
                self.node_in(table_node, NodeKind::TableBody, path).node(),
            )
        } else {
            (table_node, table_node)
        };

        let mut plan = TablePlan {
            t,
            style: style.clone(),
            header_style: Rc::new(apply(style, &self.sheet_props("table_header"))),
            placed,
            header_end,
            xs: Vec::new(),
            default_pad: t.padding.map(Pad::from).unwrap_or(Pad {
                top: 2.0,
                right: 4.0,
                bottom: 2.0,
                left: 4.0,
            }),
            col_align,
            groups,
            border,
            fields,
            header_groups,
            header: None,
            head_node,
            body_node,
        };

        // Column widths.
        let avail = (width - style.left_indent - style.right_indent).max(1.0);
        let widths_spec: Vec<ColumnWidth> = t
            .columns
            .iter()
            .map(|c| match c {
                Column::Width(w) => *w,
                Column::Full(s) => s.width,
            })
            .collect();
        let mut min = vec![0.0f32; ncols];
        let mut max = vec![0.0f32; ncols];
        if widths_spec.contains(&ColumnWidth::Auto) {
            for p in &plan.placed {
                if p.colspan != 1 || widths_spec[p.col] != ColumnWidth::Auto {
                    continue;
                }
                let st = plan.cell_style(self, p);
                let pad = plan.pad_of(p);
                let (lo, hi) = self.measure_cell(p.cell, &st, fields, path);
                min[p.col] = min[p.col].max(lo + pad.left + pad.right);
                max[p.col] = max[p.col].max(hi + pad.left + pad.right);
            }
        }
        let widths = column_widths(&widths_spec, &min, &max, avail);
        let total: f32 = widths.iter().sum();
        if total > avail + 0.5 {
            self.warn(
                path.key("columns").to_string(),
                format!("columns need {total:.0}pt but only {avail:.0}pt are available; the table overflows"),
            );
        }
        let mut xs = vec![style.left_indent];
        for w in &widths {
            xs.push(xs.last().copied().unwrap_or(0.0) + w);
        }
        plan.xs = xs;

        if header_groups > 0 && header_groups < plan.groups.len() {
            let header: Vec<Fragment> = (0..header_groups)
                .map(|g| self.table_group(&plan, g, path))
                .collect();
            plan.header = Some(Rc::new(header));
        }
        Some(plan)
    }

    /// Lays out row group `g` of a planned table.
    pub(crate) fn table_group(&mut self, plan: &TablePlan, g: usize, path: &JPath) -> Fragment {
        if let Some(header) = &plan.header
            && g < plan.header_groups
        {
            return header[g].clone();
        }
        let (r, end, first, last) = plan.groups[g];
        let t = plan.t;
        let rows_path = path.key("rows");
        let style = &plan.style;

        // Structure: a node per row, cells inside.
        let row_nodes: Vec<Mark> = if self.tagging {
            (r..end)
                .map(|row| {
                    let parent = if row < plan.header_end {
                        plan.head_node
                    } else {
                        plan.body_node
                    };
                    self.node_in(parent, NodeKind::TableRow, &rows_path.index(row))
                })
                .collect()
        } else {
            Vec::new()
        };

        // Cell content.
        let mut laid: Vec<(Vec<Fragment>, f32)> = Vec::with_capacity(last - first);
        for p in &plan.placed[first..last] {
            let st = plan.cell_style(self, p);
            let pad = plan.pad_of(p);
            let w = (plan.xs[p.col + p.colspan] - plan.xs[p.col] - pad.left - pad.right).max(1.0);
            let rp = rows_path.index(p.row);
            let row_is_obj = matches!(t.rows[p.row], Row::Full(_));
            let cells_seg = rp.key("cells");
            let cp = if row_is_obj {
                cells_seg.index(p.index)
            } else {
                rp.index(p.index)
            };
            let mut frags = Vec::new();
            let cell_mark = match row_nodes.get(p.row - r) {
                Some(row) => self.node_in(
                    row.node(),
                    NodeKind::TableCell {
                        header: p.row < plan.header_end,
                        colspan: p.colspan as u32,
                        rowspan: p.rowspan as u32,
                    },
                    &cp,
                ),
                None => Mark::default(),
            };
            match p.cell {
                Cell::Text(s) => {
                    let mut lines = self.paragraph_lines(Some(s), &[], &st, w, plan.fields, &cp);
                    if self.tagging {
                        self.mark_lines(&mut lines, cell_mark, &cp);
                    }
                    frags.extend(lines.into_iter().map(|l| {
                        let mut f = Fragment::items(l.height, l.items);
                        f.baseline = Some(l.baseline);
                        f
                    }));
                }
                Cell::Full(spec) => {
                    if let Some(text) = &spec.text {
                        let mut lines =
                            self.paragraph_lines(Some(text), &[], &st, w, plan.fields, &cp);
                        if self.tagging {
                            self.mark_lines(&mut lines, cell_mark, &cp);
                        }
                        frags.extend(
                            lines
                                .into_iter()
                                .map(|l| Fragment::items(l.height, l.items)),
                        );
                    } else {
                        let prev = self.enter(cell_mark);
                        self.blocks(
                            &spec.content,
                            &st,
                            w,
                            plan.fields,
                            &cp.key("content"),
                            &mut frags,
                        );
                        self.leave(prev);
                    }
                }
            }
            if let Some(f) = frags.first_mut() {
                f.space_before = 0.0;
            }
            for f in &mut frags {
                f.keep_with_next = false;
            }
            let height = stack_height(&frags) + pad.top + pad.bottom;
            laid.push((frags, height));
        }

        // Row heights: the tallest single-row cell, then row spans make their last row
        // taller if they need more.
        let mut heights = vec![0.0f32; end - r];
        for (p, (_, h)) in plan.placed[first..last].iter().zip(&laid) {
            if p.rowspan == 1 {
                heights[p.row - r] = heights[p.row - r].max(*h);
            }
        }
        for h in heights.iter_mut().filter(|h| **h == 0.0) {
            *h = style.text.size * style.text.line_height
                + plan.default_pad.top
                + plan.default_pad.bottom;
        }
        for (p, (_, h)) in plan.placed[first..last].iter().zip(&laid) {
            if p.rowspan > 1 {
                let have: f32 = heights[p.row - r..p.row - r + p.rowspan].iter().sum();
                if *h > have {
                    heights[p.row - r + p.rowspan - 1] += h - have;
                }
            }
        }
        let mut y_of = vec![0.0f32; end - r + 1];
        for i in 0..end - r {
            y_of[i + 1] = y_of[i] + heights[i];
        }

        let mut cells = Vec::with_capacity(last - first);
        for (p, (frags, _)) in plan.placed[first..last].iter().zip(laid) {
            let row_bg = cells_of(&t.rows[p.row]).1;
            let header_bg = (p.row < plan.header_end)
                .then_some(t.header_background)
                .flatten();
            cells.push(CellFrag {
                x: plan.xs[p.col],
                width: plan.xs[p.col + p.colspan] - plan.xs[p.col],
                y: y_of[p.row - r],
                height: y_of[p.row - r + p.rowspan] - y_of[p.row - r],
                pad: plan.pad_of(p),
                background: p
                    .cell
                    .spec()
                    .and_then(|s| s.background)
                    .or(row_bg)
                    .or(header_bg),
                valign: p.cell.spec().and_then(|s| s.valign).unwrap_or(VAlign::Top),
                content: frags,
            });
        }
        let height = y_of[end - r];
        let mut f = Fragment::items(height, vec![]);
        f.kind = FragKind::Row(Box::new(RowFrag {
            cells,
            height,
            border: plan.border,
        }));
        f.keep_with_next = end <= plan.header_end;
        if g >= plan.header_groups {
            f.repeat_header = plan.header.clone();
        }
        f
    }

    fn sheet_props(&self, name: &str) -> crate::model::StyleProps {
        // The header row style contributes only what it sets on top of `default`.
        let named = self.sheet.get(name);
        let default = self.sheet.get("default");
        let mut p = crate::model::StyleProps::default();
        if named.text.weight != default.text.weight {
            p.weight = Some(crate::model::Weight::Number(named.text.weight));
        }
        if named.text.italic != default.text.italic {
            p.italic = Some(named.text.italic);
        }
        if named.text.color != default.text.color {
            p.color = Some(named.text.color);
        }
        if named.text.size != default.text.size {
            p.size = Some(crate::model::Length(named.text.size));
        }
        if *named.text.family != *default.text.family {
            p.font = Some(named.text.family.to_string());
        }
        if named.align != default.align {
            p.align = Some(named.align);
        }
        p
    }

    /// Narrowest and natural width of a cell's content.
    fn measure_cell(
        &mut self,
        cell: &Cell,
        style: &BlockStyle,
        fields: FieldMode,
        path: &JPath,
    ) -> (f32, f32) {
        let text = match cell {
            Cell::Text(s) => Some(s.as_str()),
            Cell::Full(spec) => spec.text.as_deref(),
        };
        if let Some(t) = text {
            return self
                .prepare(Some(t), &[], style, fields, path)
                .measure(style);
        }
        let Cell::Full(spec) = cell else {
            return (0.0, 0.0);
        };
        let mut lo: f32 = 0.0;
        let mut hi: f32 = 0.0;
        for b in &spec.content {
            let (l, h) = match b {
                crate::model::Block::Paragraph(p) => {
                    let st = match &p.props.style {
                        Some(n) => self.sheet.get(n),
                        None => Rc::new(style.clone()),
                    };
                    let st = apply(&st, &p.props.props);
                    self.prepare(p.text.as_deref(), &p.content, &st, fields, path)
                        .measure(&st)
                }
                crate::model::Block::Heading(h) => {
                    let st = apply(
                        &self.sheet.get(&format!("heading{}", h.level)),
                        &h.props.props,
                    );
                    self.prepare(h.text.as_deref(), &h.content, &st, fields, path)
                        .measure(&st)
                }
                crate::model::Block::Image(img) => {
                    let w = img.width.map_or(72.0, |w| w.0);
                    (w, w)
                }
                // Lists and nested tables take what they are given.
                _ => (36.0, 144.0),
            };
            lo = lo.max(l);
            hi = hi.max(h);
        }
        (lo, hi)
    }
}

/// Resolves column widths: fixed ones as given, auto ones between their narrowest and
/// natural widths, and relative ones sharing what is left.
fn column_widths(spec: &[ColumnWidth], min: &[f32], max: &[f32], avail: f32) -> Vec<f32> {
    let fixed: f32 = spec
        .iter()
        .map(|w| {
            if let ColumnWidth::Fixed(l) = w {
                l.0
            } else {
                0.0
            }
        })
        .sum();
    let autos: Vec<usize> = (0..spec.len())
        .filter(|i| spec[*i] == ColumnWidth::Auto)
        .collect();
    let fr_total: f32 = spec
        .iter()
        .map(|w| {
            if let ColumnWidth::Relative(f) = w {
                *f
            } else {
                0.0
            }
        })
        .sum();
    let left = (avail - fixed).max(0.0);
    let min_sum: f32 = autos.iter().map(|i| min[*i]).sum();
    let max_sum: f32 = autos.iter().map(|i| max[*i]).sum();
    let mut out = vec![0.0; spec.len()];
    // Auto columns get their natural width if it fits; otherwise their minimum plus a
    // share of what is left, in proportion to how much more they would like.
    let budget = if fr_total > 0.0 {
        max_sum.min((left * 0.5).max(min_sum))
    } else {
        left
    };
    for &i in &autos {
        out[i] = if max_sum <= budget {
            max[i]
        } else if budget <= min_sum {
            min[i]
        } else {
            let t = (budget - min_sum) / (max_sum - min_sum).max(1e-3);
            min[i] + (max[i] - min[i]) * t
        };
        out[i] = out[i].max(4.0);
    }
    let used: f32 = out.iter().sum();
    let rest = (left - used).max(0.0);
    for (i, w) in spec.iter().enumerate() {
        match w {
            ColumnWidth::Fixed(l) => out[i] = l.0,
            ColumnWidth::Relative(f) => out[i] = rest * f / fr_total,
            ColumnWidth::Auto => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Length;

    #[test]
    fn relative_columns_share_the_width_left_after_fixed_ones() {
        let spec = [
            ColumnWidth::Fixed(Length(100.0)),
            ColumnWidth::Relative(1.0),
            ColumnWidth::Relative(3.0),
        ];
        let w = column_widths(&spec, &[0.0; 3], &[0.0; 3], 500.0);
        assert_eq!(w, vec![100.0, 100.0, 300.0]);
    }

    #[test]
    fn auto_columns_take_their_natural_width_when_it_fits() {
        let spec = [ColumnWidth::Auto, ColumnWidth::Auto];
        let w = column_widths(&spec, &[10.0, 20.0], &[50.0, 80.0], 500.0);
        assert_eq!(w, vec![50.0, 80.0]);
    }

    #[test]
    fn auto_columns_shrink_toward_their_minimum_when_space_is_short() {
        let spec = [ColumnWidth::Auto, ColumnWidth::Auto];
        let w = column_widths(&spec, &[10.0, 10.0], &[110.0, 210.0], 120.0);
        assert!((w.iter().sum::<f32>() - 120.0).abs() < 0.01, "{w:?}");
        assert!(w[0] >= 10.0 && w[1] >= 10.0);
    }
}
