//! Blocks → fragments: the unbreakable pieces pagination stacks onto pages.

use std::rc::Rc;

use super::Ctx;
use super::inline::{FieldMode, Line};
use super::style::{BlockStyle, apply};
use super::table::RowFrag;
use crate::frame::{ImageItem, Item, LineItem, Mark, NodeId, NodeKind, StructNode, TextItem};
use crate::geom::{Point, Rect};
use crate::model::{Align, Block, BlockProps, Fit, Image, Inline, List, ListItem, ListMarker};
use crate::path::JPath;

/// Something pagination places but never splits (except table rows).
#[derive(Clone)]
pub(crate) struct Fragment {
    pub height: f32,
    /// Space above, dropped at the top of a page.
    pub space_before: f32,
    /// A page must not break right after this fragment.
    pub keep_with_next: bool,
    pub kind: FragKind,
    /// Anchors and outline entries, with their offset from the fragment's top.
    pub markers: Vec<(f32, Marker)>,
    /// Header rows to repeat when a page starts with this fragment.
    pub repeat_header: Option<Rc<Vec<Fragment>>>,
    /// A copy of a header placed by repetition.
    pub repeated: bool,
    /// The offset of the first baseline from the top, for list markers.
    pub baseline: Option<f32>,
    /// A float: pagination puts it at the top of a page, `space_before` under it.
    pub float: bool,
}

#[derive(Clone)]
pub(crate) enum FragKind {
    /// Items relative to the fragment's top left.
    Items(Vec<Item>),
    /// A table row (or rows joined by row spans), which may split.
    Row(Box<RowFrag>),
    /// A forced page break.
    PageBreak,
    /// Items placed relative to the page's top left, taking no room in the flow.
    Absolute(Vec<Item>),
}

#[derive(Clone, Debug)]
pub(crate) enum Marker {
    Anchor(String),
    Heading {
        level: u8,
        title: String,
    },
    /// The first fragment of a top-level section.
    Section {
        restart: bool,
        title: Option<String>,
    },
    /// A footnote referenced in the fragment: it goes to the bottom of the same page.
    Footnote(Rc<super::notes::Note>),
}

impl Fragment {
    pub fn items(height: f32, items: Vec<Item>) -> Fragment {
        Fragment {
            height,
            space_before: 0.0,
            keep_with_next: false,
            kind: FragKind::Items(items),
            markers: Vec::new(),
            repeat_header: None,
            repeated: false,
            baseline: None,
            float: false,
        }
    }

    /// Moves the fragment's content right by `dx`.
    pub fn shift_x(&mut self, dx: f32) {
        if dx == 0.0 {
            return;
        }
        match &mut self.kind {
            FragKind::Items(items) => items.iter_mut().for_each(|i| i.translate(dx, 0.0)),
            FragKind::Row(row) => row.shift_x(dx),
            FragKind::PageBreak | FragKind::Absolute(_) => {}
        }
    }

    /// The fragment's markers and those of fragments nested in its table cells, with
    /// their offsets from the fragment's top.
    pub fn all_markers(&self, dy: f32, out: &mut Vec<(f32, Marker)>) {
        out.extend(self.markers.iter().map(|(y, m)| (dy + y, m.clone())));
        if let FragKind::Row(row) = &self.kind {
            row.markers(dy, out);
        }
    }

    /// As [`Fragment::emit`], moving the items instead of copying them.
    pub fn emit_owned(self, x: f32, y: f32, out: &mut Vec<Item>) {
        match self.kind {
            FragKind::Items(items) => out.extend(items.into_iter().map(|mut item| {
                item.translate(x, y);
                item
            })),
            FragKind::Row(row) => row.emit(x, y, out),
            FragKind::PageBreak => {}
            FragKind::Absolute(items) => out.extend(items),
        }
    }

    /// Draws the fragment with its top left at (`x`, `y`).
    pub fn emit(&self, x: f32, y: f32, out: &mut Vec<Item>) {
        match &self.kind {
            FragKind::Items(items) => {
                for item in items {
                    let mut item = item.clone();
                    item.translate(x, y);
                    out.push(item);
                }
            }
            FragKind::Row(row) => row.emit(x, y, out),
            FragKind::PageBreak => {}
            FragKind::Absolute(items) => out.extend(items.iter().cloned()),
        }
    }

    /// Whether it is placed on the page rather than in the flow.
    pub fn is_absolute(&self) -> bool {
        matches!(self.kind, FragKind::Absolute(_))
    }

    /// Whether it stands outside the flow's spacing (absolute blocks and floats).
    pub fn out_of_flow(&self) -> bool {
        self.float || self.is_absolute()
    }

    /// The footnotes referenced in the fragment (table cells included).
    pub fn notes(&self) -> Vec<Rc<super::notes::Note>> {
        let own = self.markers.iter().filter_map(|(_, m)| match m {
            Marker::Footnote(n) => Some(n.clone()),
            _ => None,
        });
        let FragKind::Row(row) = &self.kind else {
            // The common case: no allocation unless there are notes.
            return own.collect();
        };
        let mut nested = Vec::new();
        row.markers(0.0, &mut nested);
        own.chain(nested.into_iter().filter_map(|(_, m)| match m {
            Marker::Footnote(n) => Some(n),
            _ => None,
        }))
        .collect()
    }
}

/// The height of a stack of fragments, with the first one's space dropped.
pub(crate) fn stack_height(frags: &[Fragment]) -> f32 {
    frags
        .iter()
        .enumerate()
        .map(|(i, f)| f.height + if i == 0 { 0.0 } else { f.space_before })
        .sum()
}

pub(crate) fn lines_to_fragments(lines: Vec<Line>, style: &BlockStyle) -> Vec<Fragment> {
    let n = lines.len();
    let (orphans, widows) = (style.orphans.max(1) as usize, style.widows.max(1) as usize);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let mut f = Fragment::items(line.height, line.items);
            f.baseline = Some(line.baseline);
            f.markers
                .extend(line.notes.into_iter().map(|n| (0.0, Marker::Footnote(n))));
            let above = i + 1;
            f.keep_with_next = if above == n {
                style.keep_with_next
            } else {
                above < orphans || n - above < widows
            };
            f
        })
        .collect()
}

/// Plain text of inline content (for outline titles).
pub(crate) fn plain_text(text: Option<&str>, content: &[Inline]) -> String {
    let mut s = text.unwrap_or_default().to_string();
    for i in content {
        match i {
            Inline::Text(t) => s.push_str(t),
            Inline::Span(sp) => s.push_str(&sp.text),
            Inline::LineBreak(_) => s.push(' '),
            Inline::Field(_) | Inline::Footnote(_) => {}
        }
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn roman(mut n: u32, upper: bool) -> String {
    if n == 0 || n >= 4000 {
        return n.to_string();
    }
    let table = [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ];
    let mut s = String::new();
    for (v, r) in table {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    if upper { s.to_uppercase() } else { s }
}

fn alpha(n: u32, upper: bool) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut n = n;
    let mut s = Vec::new();
    while n > 0 {
        n -= 1;
        s.push(b'a' + (n % 26) as u8);
        n /= 26;
    }
    s.reverse();
    let s = String::from_utf8(s).unwrap_or_default();
    if upper { s.to_uppercase() } else { s }
}

fn marker_text(marker: ListMarker, n: u32) -> String {
    match marker {
        ListMarker::Disc => "•".into(),
        ListMarker::Circle => "◦".into(),
        ListMarker::Square => "▪".into(),
        ListMarker::Dash => "–".into(),
        ListMarker::Decimal => format!("{n}."),
        ListMarker::LowerAlpha => format!("{}.", alpha(n, false)),
        ListMarker::UpperAlpha => format!("{}.", alpha(n, true)),
        ListMarker::LowerRoman => format!("{}.", roman(n, false)),
        ListMarker::UpperRoman => format!("{}.", roman(n, true)),
    }
}

impl Ctx<'_> {
    /// Lays out blocks at `width`, appending fragments to `out`. `inherited` is the
    /// style of the container; `prev_after` the space below what came before.
    pub(crate) fn blocks(
        &mut self,
        blocks: &[Block],
        inherited: &Rc<BlockStyle>,
        width: f32,
        fields: FieldMode,
        path: &JPath,
        out: &mut Vec<Fragment>,
    ) {
        let mut prev_after: Option<f32> = None;
        for (i, block) in blocks.iter().enumerate() {
            let p = path.index(i);
            let start = out.len();
            let after = self.block(block, inherited, width, fields, &p, out);
            if let Some(first) = out.get_mut(start)
                && !first.out_of_flow()
            {
                first.space_before = match prev_after {
                    Some(a) => first.space_before.max(a),
                    None => first.space_before,
                };
                prev_after = Some(after);
            }
        }
    }

    pub(crate) fn style_for(
        &self,
        props: &BlockProps,
        inherited: &Rc<BlockStyle>,
        default_name: Option<&str>,
    ) -> Rc<BlockStyle> {
        let base = match (&props.style, default_name) {
            (Some(name), _) => self.sheet.get(name),
            (None, Some(name)) => self.sheet.get(name),
            (None, None) => inherited.clone(),
        };
        if props.props == Default::default() {
            base
        } else {
            Rc::new(apply(&base, &props.props))
        }
    }

    /// Lays out one block; returns the space it wants below.
    pub(crate) fn block(
        &mut self,
        block: &Block,
        inherited: &Rc<BlockStyle>,
        width: f32,
        fields: FieldMode,
        path: &JPath,
        out: &mut Vec<Fragment>,
    ) -> f32 {
        if !self.proceed() {
            return 0.0;
        }
        let start = out.len();
        let (style, anchor) = match block {
            Block::Heading(h) => {
                let name = format!("heading{}", h.level);
                let style = self.style_for(&h.props, inherited, Some(&name));
                let mut lines = self.paragraph_lines(
                    h.text.as_deref(),
                    &h.content,
                    &style,
                    width,
                    fields,
                    path,
                );
                let title = || plain_text(h.text.as_deref(), &h.content);
                if self.tagging {
                    let kind = NodeKind::Heading {
                        level: h.level,
                        title: title(),
                    };
                    let mark = self.node(kind, path);
                    self.mark_lines(&mut lines, mark, path);
                }
                let mut frags = lines_to_fragments(lines, &style);
                if h.props.anchor.is_none()
                    && let Some(first) = frags.first_mut()
                {
                    super::toc::mark_heading(self, path, first);
                }
                if h.outline != Some(false)
                    && let Some(first) = frags.first_mut()
                {
                    first.markers.push((
                        0.0,
                        Marker::Heading {
                            level: h.level,
                            title: title(),
                        },
                    ));
                }
                out.extend(frags);
                (style, h.props.anchor.as_deref())
            }
            Block::Paragraph(p) => {
                let style = self.style_for(&p.props, inherited, None);
                let mut lines = self.paragraph_lines(
                    p.text.as_deref(),
                    &p.content,
                    &style,
                    width,
                    fields,
                    path,
                );
                if self.tagging {
                    let mark = self.node(NodeKind::Paragraph, path);
                    self.mark_lines(&mut lines, mark, path);
                }
                out.extend(lines_to_fragments(lines, &style));
                (style, p.props.anchor.as_deref())
            }
            Block::List(l) => {
                let style = self.style_for(
                    &l.props,
                    inherited,
                    if l.props.style.is_none() {
                        Some("list")
                    } else {
                        None
                    },
                );
                let mark = self.node(
                    NodeKind::List {
                        marker: list_marker(l, self.list_depth),
                    },
                    path,
                );
                let prev = self.enter(mark);
                self.list(l, &style, width, fields, path, out);
                self.leave(prev);
                (style, l.props.anchor.as_deref())
            }
            Block::Table(t) => {
                let style = self.style_for(
                    &t.props,
                    inherited,
                    if t.props.style.is_none() {
                        Some("table")
                    } else {
                        None
                    },
                );
                self.table(t, &style, width, fields, path, out);
                (style, t.props.anchor.as_deref())
            }
            Block::Image(img) => {
                let style = self.style_for(&img.props, inherited, None);
                if let Some(f) = self.image_block(img, &style, width, path) {
                    out.push(f);
                }
                (style, img.props.anchor.as_deref())
            }
            Block::Qr(q) => {
                let style = self.style_for(&q.props, inherited, None);
                let placed = self.qr_block(q, &style, width, path);
                (
                    self.place_code(placed, style, out),
                    q.props.anchor.as_deref(),
                )
            }
            Block::Barcode(b) => {
                let style = self.style_for(&b.props, inherited, None);
                let placed = self.barcode_block(b, &style, width, path);
                (
                    self.place_code(placed, style, out),
                    b.props.anchor.as_deref(),
                )
            }
            Block::Rule(r) => {
                let style = self.style_for(&r.props, inherited, None);
                let t = r.thickness.map_or(0.5, |l| l.0);
                let x0 = style.left_indent;
                let x1 = (width - style.right_indent).max(x0);
                let item = Item::Line(LineItem {
                    from: Point::new(x0, t / 2.0),
                    to: Point::new(x1, t / 2.0),
                    color: r.line_color.unwrap_or(style.text.color),
                    width: t,
                });
                out.push(Fragment::items(
                    t,
                    if t > 0.0 { vec![item] } else { vec![] },
                ));
                (style, r.props.anchor.as_deref())
            }
            Block::Spacer(s) => {
                let mut h = s.height.0;
                if h > self.body_height {
                    self.warn(
                        path.key("height").to_string(),
                        format!(
                            "spacer of {}pt is taller than the page body; shortened to {}pt",
                            crate::diag::round1(h),
                            crate::diag::round1(self.body_height)
                        ),
                    );
                    h = self.body_height;
                }
                out.push(Fragment::items(h, vec![]));
                return 0.0;
            }
            Block::PageBreak(_) => {
                let mut f = Fragment::items(0.0, vec![]);
                f.kind = super::flow::FragKind::PageBreak;
                out.push(f);
                return 0.0;
            }
            Block::Section(sec) => {
                // Sections are top-level blocks, where pagination handles them; one
                // met anywhere else (built by a program) still starts a new page.
                let mut f = Fragment::items(0.0, vec![]);
                f.kind = super::flow::FragKind::PageBreak;
                out.push(f);
                self.blocks(
                    &sec.content,
                    inherited,
                    width,
                    fields,
                    &path.key("content"),
                    out,
                );
                return 0.0;
            }
            Block::Toc(t) => {
                let style = self.style_for(
                    &t.props,
                    inherited,
                    if t.props.style.is_none() {
                        Some("toc")
                    } else {
                        None
                    },
                );
                self.toc(t, &style, width, fields, path, out);
                (style, t.props.anchor.as_deref())
            }
            Block::Float(fl) => {
                let style = self.style_for(&fl.props, inherited, None);
                let mut frags = Vec::new();
                self.blocks(
                    &fl.content,
                    &style,
                    width,
                    fields,
                    &path.key("content"),
                    &mut frags,
                );
                let mut items = Vec::new();
                let mut markers = Vec::new();
                let mut y = 0.0;
                for (i, f) in frags.into_iter().enumerate() {
                    if i > 0 {
                        y += f.space_before;
                    }
                    let h = f.height;
                    f.all_markers(y, &mut markers);
                    f.emit_owned(0.0, y, &mut items);
                    y += h;
                }
                let mut f = Fragment::items(y, items);
                f.markers = markers;
                if let Some(name) = &fl.props.anchor {
                    f.markers.insert(0, (0.0, Marker::Anchor(name.clone())));
                }
                f.float = true;
                f.space_before = style.space_after;
                out.push(f);
                return 0.0;
            }
            Block::Columns(c) => {
                let style = self.style_for(&c.props, inherited, None);
                let (frags, col_w, gap) = self.column_content(c, &style, width, fields, path);
                let count = usize::from(c.count.clamp(2, 4));
                let page = self.body_height;
                out.extend(super::columns::chunks(frags, count, col_w, gap, page, page));
                (style, c.props.anchor.as_deref())
            }
            Block::Absolute(a) => {
                // Laid out at its own width, drawn at its place on the page.
                let style = self.style_for(&a.props, inherited, None);
                let page = self.page_size;
                if a.x.0 >= page.width || a.y.0 >= page.height {
                    self.warn(
                        path.to_string(),
                        format!(
                            "the absolute block at {}pt, {}pt starts outside the {}pt × {}pt page",
                            crate::diag::round1(a.x.0),
                            crate::diag::round1(a.y.0),
                            crate::diag::round1(page.width),
                            crate::diag::round1(page.height)
                        ),
                    );
                }
                let w = a
                    .width
                    .map_or(self.page_right - a.x.0, |l| l.0)
                    .max(style.text.size * 4.0);
                let mut frags = Vec::new();
                self.blocks(
                    &a.content,
                    &style,
                    w,
                    fields,
                    &path.key("content"),
                    &mut frags,
                );
                let mut items = Vec::new();
                let mut y = a.y.0;
                for (i, f) in frags.iter().enumerate() {
                    if i > 0 {
                        y += f.space_before;
                    }
                    f.emit(a.x.0, y, &mut items);
                    y += f.height;
                }
                let mut f = Fragment::items(0.0, Vec::new());
                f.kind = FragKind::Absolute(items);
                if let Some(name) = &a.props.anchor {
                    f.markers.push((0.0, Marker::Anchor(name.clone())));
                }
                // Anchors, headings and footnotes inside count where the block comes.
                for inner in &frags {
                    inner.all_markers(0.0, &mut f.markers);
                }
                out.push(f);
                return 0.0;
            }
            Block::Group(g) => {
                let style = self.style_for(&g.props, inherited, None);
                let first = out.len();
                self.blocks(&g.content, &style, width, fields, &path.key("content"), out);
                if g.keep_together && out.len() > first {
                    let last = out.len() - 1;
                    for f in &mut out[first..last] {
                        f.keep_with_next = true;
                    }
                    if style.keep_with_next {
                        out[last].keep_with_next = true;
                    }
                }
                (style, g.props.anchor.as_deref())
            }
        };
        if style.keep_with_next
            && out.len() > start
            && let Some(last) = out.last_mut()
        {
            last.keep_with_next = true;
        }
        if let Some(first) = out.get_mut(start) {
            first.space_before = first.space_before.max(style.space_before);
            if let Some(a) = anchor {
                first
                    .markers
                    .insert(0, (0.0, Marker::Anchor(a.to_string())));
            }
        } else if let Some(a) = anchor {
            // An empty block still marks its place.
            let mut f = Fragment::items(0.0, vec![]);
            f.markers.push((0.0, Marker::Anchor(a.to_string())));
            out.push(f);
        }
        style.space_after
    }

    fn list(
        &mut self,
        l: &List,
        style: &Rc<BlockStyle>,
        width: f32,
        fields: FieldMode,
        path: &JPath,
        out: &mut Vec<Fragment>,
    ) {
        let depth = self.list_depth;
        let marker = list_marker(l, depth);
        let start = l.start.unwrap_or(1);
        let items_path = path.key("items");
        // Marker texts and the indent that fits the widest.
        let markers: Vec<String> = (0..l.items.len())
            .map(|i| marker_text(marker, start.saturating_add(i as u32)))
            .collect();
        let font = self.font_for(&style.text, path);
        let size = style.text.size;
        let mut shaped = Vec::with_capacity(markers.len());
        let mut widest: f32 = 0.0;
        for m in &markers {
            let glyphs = self.shaper.shape(font, m);
            let w: f32 = glyphs.iter().map(|g| g.advance * size).sum();
            widest = widest.max(w);
            shaped.push((glyphs, w));
        }
        let gap = size * 0.5;
        let mut indent = (size * 1.8).max(widest + gap) + style.left_indent;
        // Deep nesting in a narrow column would leave the items no room at all (one
        // letter per line); the indentation stops growing where four ems remain.
        let min_inner = (size * 4.0).min(width);
        if width - indent < min_inner {
            indent = (width - min_inner).max(0.0);
            self.warn(
                path.to_string(),
                "list nested too deep for its width; its indentation is reduced".into(),
            );
        }
        let inner = Rc::new(BlockStyle {
            left_indent: 0.0,
            first_line_indent: 0.0,
            space_before: 0.0,
            ..(**style).clone()
        });
        self.list_depth += 1;
        let mut prev_after: Option<f32> = None;
        for (i, item) in l.items.iter().enumerate() {
            let ip = items_path.index(i);
            let first = out.len();
            let item_mark = self.node(NodeKind::ListItem, &ip);
            let list_parent = self.enter(item_mark);
            let body = self.node(NodeKind::ListBody, &ip);
            let item_parent = self.enter(body);
            match item {
                ListItem::Text(t) => {
                    let mut lines =
                        self.paragraph_lines(Some(t), &[], &inner, width - indent, fields, &ip);
                    if self.tagging {
                        self.mark_lines(&mut lines, body, &ip);
                    }
                    out.extend(lines_to_fragments(lines, &inner));
                }
                ListItem::Blocks(blocks) => {
                    self.blocks(blocks, &inner, width - indent, fields, &ip, out)
                }
            }
            self.leave(item_parent);
            let label = self.node(NodeKind::ListLabel, &ip);
            self.leave(list_parent);
            if out.len() == first {
                out.push(Fragment::items(
                    inner.text.size * inner.text.line_height,
                    vec![],
                ));
            }
            for f in &mut out[first..] {
                f.shift_x(indent);
            }
            out[first].space_before = if i == 0 {
                0.0
            } else {
                prev_after.unwrap_or(0.0).max(out[first].space_before)
            };
            prev_after = Some(inner.space_after);
            let (glyphs, w) = &shaped[i];
            let baseline = out[first].baseline.unwrap_or(size);
            let text = &markers[i];
            let item = Item::Text(TextItem {
                origin: Point::new((indent - gap - w).max(0.0), baseline),
                font,
                size,
                color: style.text.color,
                glyphs: super::inline::frame_glyphs(glyphs, size, text),
                text: text.clone(),
                field: None,
                mark: label,
            });
            match &mut out[first].kind {
                FragKind::Items(items) => items.insert(0, item),
                _ => {
                    let mut f = Fragment::items(0.0, vec![item]);
                    f.keep_with_next = true;
                    f.space_before = out[first].space_before;
                    out[first].space_before = 0.0;
                    out.insert(first, f);
                }
            }
        }
        self.list_depth = depth;
    }

    fn image_block(
        &mut self,
        img: &Image,
        style: &BlockStyle,
        width: f32,
        path: &JPath,
    ) -> Option<Fragment> {
        let index = self.image(&img.src, path)?;
        let natural = self.images[index].size;
        let ratio = natural.height / natural.width;
        // Pixels at 96 per inch.
        let (mut w, mut h) = match (img.width, img.height) {
            (Some(w), Some(h)) => (w.0, h.0),
            (Some(w), None) => (w.0, w.0 * ratio),
            (None, Some(h)) => (h.0 / ratio, h.0),
            (None, None) => (natural.width * 0.75, natural.height * 0.75),
        };
        let avail = (width - style.left_indent - style.right_indent).max(1.0);
        if w > avail + 0.01 {
            self.warn(
                path.to_string(),
                format!("image is {w:.0}pt wide but only {avail:.0}pt are available; scaled down"),
            );
            let k = avail / w;
            w *= k;
            h *= k;
        }
        if h > self.body_height + 0.01 {
            self.warn(
                path.to_string(),
                format!(
                    "image is {h:.0}pt tall but a page body is {:.0}pt; scaled down",
                    self.body_height
                ),
            );
            let k = self.body_height / h;
            w *= k;
            h *= k;
        }
        let x = style.left_indent
            + match style.align {
                Align::Right => avail - w,
                Align::Center => (avail - w) / 2.0,
                _ => 0.0,
            };
        let frame = Rect::new(x, 0.0, w, h);
        let (rect, clip) = match img.fit {
            Fit::Fill => (frame, None),
            Fit::Contain | Fit::Cover => {
                let scale_w = w / natural.width;
                let scale_h = h / natural.height;
                let s = if img.fit == Fit::Contain {
                    scale_w.min(scale_h)
                } else {
                    scale_w.max(scale_h)
                };
                let (iw, ih) = (natural.width * s, natural.height * s);
                let r = Rect::new(x + (w - iw) / 2.0, (h - ih) / 2.0, iw, ih);
                (r, (img.fit == Fit::Cover).then_some(frame))
            }
        };
        let mark = self.node(
            NodeKind::Figure {
                alt: img.alt.clone(),
            },
            path,
        );
        Some(Fragment::items(
            h,
            vec![Item::Image(ImageItem {
                image: index,
                rect,
                clip,
                alt: img.alt.clone(),
                mark,
            })],
        ))
    }

    /// A new structure node under the current parent, returning the mark its content
    /// gets: page furniture is an artifact, and without structure nothing is a node.
    pub(crate) fn node(&mut self, kind: NodeKind, path: &JPath) -> Mark {
        self.node_in(self.parent, kind, path)
    }

    /// A new structure node under `parent`.
    pub(crate) fn node_in(&mut self, parent: Option<NodeId>, kind: NodeKind, path: &JPath) -> Mark {
        if let Some(a) = self.artifact {
            return Mark::Artifact(a);
        }
        if !self.tagging {
            return Mark::default();
        }
        Mark::Node(self.structure.push(StructNode {
            parent,
            kind,
            path: path.to_string().into_boxed_str(),
        }))
    }

    /// Makes `mark`'s node the parent of new nodes; returns the previous parent, for
    /// [`Ctx::leave`].
    pub(crate) fn enter(&mut self, mark: Mark) -> Option<NodeId> {
        let prev = self.parent;
        if let Mark::Node(id) = mark {
            self.parent = Some(id);
        }
        prev
    }

    /// Restores the parent [`Ctx::enter`] returned.
    pub(crate) fn leave(&mut self, prev: Option<NodeId>) {
        self.parent = prev;
    }

    /// Marks the items of laid-out lines as content of `mark`. Each link area becomes
    /// a link node inside it, holding the text under the area.
    pub(crate) fn mark_lines(&mut self, lines: &mut [Line], mark: Mark, path: &JPath) {
        for line in lines {
            self.mark_items(&mut line.items, mark, path);
        }
    }

    /// As [`Ctx::mark_lines`], for the items of one line.
    pub(crate) fn mark_items(&mut self, items: &mut Vec<Item>, mark: Mark, path: &JPath) {
        items.iter_mut().for_each(|i| i.set_mark(mark));
        let Mark::Node(parent) = mark else { return };
        let areas: Vec<(usize, Rect)> = items
            .iter()
            .enumerate()
            .filter_map(|(k, i)| match i {
                Item::Link(l) => Some((k, l.rect)),
                _ => None,
            })
            .collect();
        for (k, area) in areas {
            let link = self.node_in(Some(parent), NodeKind::Link, path);
            items[k].set_mark(link);
            // Runs of the same style merge across spans: cut them at the link's edges.
            let mut j = 0;
            while j < items.len() {
                if let Item::Text(t) = &items[j]
                    && t.mark == mark
                    && t.origin.y >= area.y
                    && t.origin.y <= area.bottom()
                {
                    let pieces = split_run(t, area.x, area.right());
                    let n = pieces.len();
                    items.splice(
                        j..=j,
                        pieces.into_iter().map(|(mut p, inside)| {
                            if inside {
                                p.mark = link;
                            }
                            Item::Text(p)
                        }),
                    );
                    j += n;
                } else {
                    j += 1;
                }
            }
        }
    }
}

/// Cuts a glyph run where it enters and leaves `x0..x1`, returning the pieces and
/// whether each lies inside. A run whose glyphs do not show their text in order
/// (right-to-left) is not cut, and lies inside when its middle does.
fn split_run(t: &TextItem, x0: f32, x1: f32) -> Vec<(TextItem, bool)> {
    let mut x = t.origin.x;
    let inside: Vec<bool> = t
        .glyphs
        .iter()
        .map(|g| {
            let mid = x + g.x_advance / 2.0;
            x += g.x_advance;
            mid >= x0 && mid <= x1
        })
        .collect();
    let ordered = t
        .glyphs
        .windows(2)
        .all(|w| w[0].text_end <= w[1].text_start);
    if !ordered || inside.iter().all(|i| *i == inside[0]) || inside.is_empty() {
        let mid = t.origin.x + t.width() / 2.0;
        let all = inside.first().copied().unwrap_or(mid >= x0 && mid <= x1);
        let whole = if ordered { all } else { mid >= x0 && mid <= x1 };
        return vec![(t.clone(), whole)];
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut pen = t.origin.x;
    for k in 1..=t.glyphs.len() {
        if k < t.glyphs.len() && inside[k] == inside[start] {
            continue;
        }
        let glyphs = &t.glyphs[start..k];
        let lo = glyphs.first().map_or(0, |g| g.text_start);
        let hi = if k == t.glyphs.len() {
            t.text.len() as u32
        } else {
            t.glyphs[k].text_start
        };
        let lo = if start == 0 { 0 } else { lo };
        let text = t
            .text
            .get(lo as usize..hi as usize)
            .unwrap_or_default()
            .to_string();
        let mut piece = TextItem {
            origin: Point::new(pen, t.origin.y),
            text,
            glyphs: glyphs.to_vec(),
            ..t.clone()
        };
        for g in &mut piece.glyphs {
            g.text_start = g.text_start.saturating_sub(lo);
            g.text_end = g.text_end.saturating_sub(lo);
        }
        pen += piece.width();
        out.push((piece, inside[start]));
        start = k;
    }
    out
}

/// The marker a list uses: its own, or by kind and nesting depth.
fn list_marker(l: &List, depth: usize) -> ListMarker {
    l.marker.unwrap_or(if l.ordered {
        ListMarker::Decimal
    } else {
        [ListMarker::Disc, ListMarker::Circle, ListMarker::Square][depth % 3]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roman_and_alphabetic_markers_count_like_word_processors() {
        assert_eq!(roman(1994, true), "MCMXCIV");
        assert_eq!(roman(4, false), "iv");
        assert_eq!(alpha(1, false), "a");
        assert_eq!(alpha(26, true), "Z");
        assert_eq!(alpha(27, false), "aa");
    }
}
