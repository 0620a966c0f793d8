//! Pagination and page assembly.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use super::Ctx;
use super::flow::{FragKind, Fragment, Marker, stack_height};
use super::inline::FieldMode;
use super::style::BlockStyle;
use crate::frame::{
    ArtifactKind, GroupItem, ImageData, Item, Location, Mark, OutlineEntry, Page, RectItem,
    Structure, TextItem,
};
use crate::geom::{Color, Point, Rect, Size, Transform};
use crate::model::{Block, Document, FieldKind, Inline, ListItem, Orientation, Row};
use crate::path::JPath;

const EPS: f32 = 0.01;

struct Geometry {
    size: Size,
    top: f32,
    left: f32,
    width: f32,
    height: f32,
}

/// A placed fragment.
pub(super) struct Placed {
    frag: Fragment,
    y: f32,
    /// How many footnote lines it added to the page's footnote area.
    notes: usize,
}

/// What a layout learns about the whole document besides its pages.
#[derive(Debug, Clone, Default)]
pub(super) struct Summary {
    /// Number of pages.
    pub page_count: usize,
    /// Headings for the PDF outline, in document order.
    pub outline: Vec<OutlineEntry>,
    /// Named anchors and where they are.
    pub anchors: BTreeMap<String, Location>,
    /// The pages (from 0) where sections that restart page numbers begin.
    pub section_starts: Vec<usize>,
}

/// Receives finished pages, with the images they refer to and every anchor of the
/// document (known in advance when the document links to anchors).
pub type PageSink<'s> = dyn FnMut(Page, &[ImageData], &BTreeMap<String, Location>) + 's;

pub(super) fn run(
    ctx: &mut Ctx,
    doc: &Document,
    options: &super::LayoutOptions,
    sink: &mut PageSink,
) -> Option<Summary> {
    let (mut w, mut h) = doc.page.size.dimensions();
    if doc.page.orientation == Orientation::Landscape {
        std::mem::swap(&mut w, &mut h);
    }
    let m = doc.page.margins;
    let geo = Geometry {
        size: Size::new(w, h),
        top: m.top.0,
        left: m.left.0,
        width: w - m.left.0 - m.right.0,
        height: h - m.top.0 - m.bottom.0,
    };
    ctx.body_height = geo.height;
    ctx.note_width = geo.width;
    ctx.page_right = geo.left + geo.width;
    ctx.page_size = geo.size;
    let (entries, targets) = super::toc::scan(doc);
    let has_toc = has_toc(&doc.content);
    ctx.toc_entries = Rc::new(entries);
    ctx.toc_targets = targets;
    let body_fields = blocks_have_page_fields(&doc.content);
    let uses_refs = has_page_refs(doc);

    // Pages are produced one at a time and handed on, so memory does not grow with the
    // page count. What a page cannot know before the end (the page count, where a
    // linked anchor lands, how many digits a page number in the body needs) comes from
    // a first pass that only counts.
    //
    // Cross-references (`page_of`) change the width of the text they are in, so a
    // counting pass is repeated with the numbers the previous one found until they no
    // longer change: then the drawing pass, using the same numbers, breaks every line
    // and page as the last counting pass did. Tables of contents keep their numbers in
    // a column of fixed width and need only one counting pass.
    let mut digits = 1;
    let mut known: Option<Summary> = None;
    let mut settled = true;
    if needs_first_pass(doc) || has_toc {
        let mut tries = 0;
        loop {
            let summary = pass(ctx, doc, &geo, options, digits, None, sink)?;
            let need = summary.page_count.to_string().len();
            if body_fields && need > digits {
                digits = need;
                continue;
            }
            let refs = page_refs(&summary);
            if uses_refs && refs != *ctx.page_refs {
                settled = tries < 4;
                if settled {
                    tries += 1;
                    ctx.page_refs = Rc::new(refs);
                    continue;
                }
            }
            ctx.page_refs = Rc::new(refs);
            known = Some(summary);
            break;
        }
    }
    if !settled {
        ctx.warn(
            String::new(),
            "cross-reference page numbers did not settle (a number's width moves its own \
             anchor); some may be off by one page"
                .into(),
        );
    }
    pass(
        ctx,
        doc,
        &geo,
        options,
        digits,
        Some(known.unwrap_or_default()),
        sink,
    )
}

/// Whether pages need facts about later pages: the page count, anchors linked to, or
/// page numbers in the body (whose width depends on the page count).
fn needs_first_pass(doc: &Document) -> bool {
    let regions = [&doc.header, &doc.footer];
    let region_blocks = regions
        .iter()
        .filter_map(|r| r.as_ref())
        .flat_map(|r| std::iter::once(&r.content).chain(r.first_page.as_ref()));
    let page_count = |i: &Inline| matches!(i, Inline::Field(f) if f.field == FieldKind::PageCount);
    let internal_link = |i: &Inline| match i {
        Inline::Span(s) => s.style.link.as_deref().is_some_and(|l| l.starts_with('#')),
        Inline::Field(f) => f.style.link.as_deref().is_some_and(|l| l.starts_with('#')),
        _ => false,
    };
    let anything = |pred: &dyn Fn(&Inline) -> bool| {
        any_inline(&doc.content, pred) || region_blocks.clone().any(|b| any_inline(b, pred))
    };
    blocks_have_page_fields(&doc.content)
        || anything(&page_count)
        || anything(&internal_link)
        || has_page_refs(doc)
}

/// Whether the document has `page_of` fields.
fn has_page_refs(doc: &Document) -> bool {
    let page_of = |i: &Inline| matches!(i, Inline::Field(f) if f.field == FieldKind::PageOf);
    any_inline(&doc.content, &page_of)
        || [&doc.header, &doc.footer]
            .iter()
            .filter_map(|r| r.as_ref())
            .any(|r| {
                any_inline(&r.content, &page_of)
                    || r.first_page
                        .as_ref()
                        .is_some_and(|b| any_inline(b, &page_of))
            })
}

/// Whether the content has a table of contents (where one may be).
fn has_toc(blocks: &[Block]) -> bool {
    blocks.iter().any(|b| match b {
        Block::Toc(_) => true,
        Block::Section(s) => has_toc(&s.content),
        Block::Group(g) => has_toc(&g.content),
        _ => false,
    })
}

/// The page number each anchor shows, counted from the start of its section when the
/// section restarts page numbers.
fn page_refs(s: &Summary) -> BTreeMap<String, usize> {
    s.anchors
        .iter()
        .map(|(name, loc)| {
            let start = s
                .section_starts
                .iter()
                .rev()
                .find(|&&st| st <= loc.page)
                .copied()
                .unwrap_or(0);
            (name.clone(), loc.page - start + 1)
        })
        .collect()
}

/// One layout of the whole body. Without `emit`, pages are only counted and their
/// anchors and headings recorded; with it, each page is drawn and handed to `sink`.
fn pass(
    ctx: &mut Ctx,
    doc: &Document,
    geo: &Geometry,
    options: &super::LayoutOptions,
    digits: usize,
    emit: Option<Summary>,
    sink: &mut PageSink,
) -> Option<Summary> {
    let root = JPath::Root;
    let content_path = root.key("content");
    let default = ctx.sheet.get("default");
    let fields = FieldMode::Placeholder { digits };
    // Each pass builds the structure afresh; the last one's is kept.
    ctx.structure = Structure::default();
    ctx.parent = None;
    ctx.notes_next = 1;
    let mut state = PassState {
        summary: Summary::default(),
        known: emit,
        region_cache: BTreeMap::new(),
        too_many: false,
    };
    let mut pager = Paginator::new(geo.height);
    {
        let mut on_page = |ctx: &mut Ctx, placed: Vec<Placed>, notes: Vec<Fragment>| -> bool {
            state.page(
                ctx,
                doc,
                geo,
                (placed, notes),
                sink,
                options.limits.max_pages,
            )
        };
        let mut prev_after: Option<f32> = None;
        let mut feed = Feed {
            default: &default,
            width: geo.width,
            fields,
            prev_after: &mut prev_after,
            marker: None,
        };
        for (i, block) in doc.content.iter().enumerate() {
            if !ctx.proceed() {
                break;
            }
            let p = content_path.index(i);
            if let Block::Section(sec) = block {
                let mut brk = Fragment::items(0.0, Vec::new());
                brk.kind = FragKind::PageBreak;
                pager.feed(ctx, brk, &mut on_page);
                feed.marker = Some(Marker::Section {
                    restart: sec.restart_page_numbers,
                    title: sec.title.clone(),
                });
                *feed.prev_after = None;
                let cp = p.key("content");
                for (j, b) in sec.content.iter().enumerate() {
                    feed.block(ctx, b, &cp.index(j), &mut pager, &mut on_page);
                    if pager.stopped {
                        break;
                    }
                }
                feed.marker = None;
            } else {
                feed.block(ctx, block, &p, &mut pager, &mut on_page);
            }
            if pager.stopped {
                break;
            }
        }
        pager.finish(ctx, &mut on_page);
    }
    if state.too_many {
        ctx.error(
            String::new(),
            format!(
                "the document has more than {} pages, the limit",
                options.limits.max_pages
            ),
        );
        return None;
    }
    if ctx.diags.iter().any(|d| d.is_error()) {
        return None;
    }
    if state.summary.page_count == 0 {
        // An empty document still has a page.
        state.page(
            ctx,
            doc,
            geo,
            Default::default(),
            sink,
            options.limits.max_pages,
        );
    }
    Some(state.summary)
}

/// Feeds top-level blocks to the paginator.
struct Feed<'a> {
    default: &'a Rc<BlockStyle>,
    width: f32,
    fields: FieldMode,
    /// The space after the previous top-level block.
    prev_after: &'a mut Option<f32>,
    /// Attached to the next fragment fed (the start of a section).
    marker: Option<Marker>,
}

impl Feed<'_> {
    fn one(&mut self, ctx: &mut Ctx, mut f: Fragment, pager: &mut Paginator, on_page: &mut OnPage) {
        if !matches!(f.kind, FragKind::PageBreak)
            && let Some(m) = self.marker.take()
        {
            f.markers.insert(0, (0.0, m));
        }
        pager.feed(ctx, f, on_page);
    }

    fn block(
        &mut self,
        ctx: &mut Ctx,
        block: &Block,
        p: &JPath,
        pager: &mut Paginator,
        on_page: &mut OnPage,
    ) {
        match block {
            // A table with rows is laid out one row group at a time.
            Block::Table(t) if !t.rows.is_empty() && !t.columns.is_empty() => {
                let name = if t.props.style.is_none() {
                    Some("table")
                } else {
                    None
                };
                let style = ctx.style_for(&t.props, self.default, name);
                let Some(plan) = ctx.table_plan(t, &style, self.width, self.fields, p) else {
                    return;
                };
                for g in 0..plan.len() {
                    let mut f = ctx.table_group(&plan, g, p);
                    if g + 1 == plan.len() && style.keep_with_next {
                        f.keep_with_next = true;
                    }
                    if g == 0 {
                        f.space_before = f
                            .space_before
                            .max(style.space_before)
                            .max(self.prev_after.unwrap_or(0.0));
                        if let Some(a) = &t.props.anchor {
                            f.markers.insert(0, (0.0, Marker::Anchor(a.clone())));
                        }
                    }
                    self.one(ctx, f, pager, on_page);
                    if pager.stopped {
                        break;
                    }
                }
                *self.prev_after = Some(style.space_after);
            }
            // Columns start in the room left on the page.
            Block::Columns(c) => {
                let style = ctx.style_for(&c.props, self.default, None);
                let (frags, col_w, gap) = ctx.column_content(c, &style, self.width, self.fields, p);
                let space = style.space_before.max(self.prev_after.unwrap_or(0.0));
                let room = pager.room(space);
                let count = usize::from(c.count.clamp(2, 4));
                let chunks = super::columns::chunks(frags, count, col_w, gap, room, pager.avail);
                for (i, mut f) in chunks.into_iter().enumerate() {
                    if i == 0 {
                        f.space_before = space;
                        if let Some(a) = &c.props.anchor {
                            f.markers.insert(0, (0.0, Marker::Anchor(a.clone())));
                        }
                    }
                    self.one(ctx, f, pager, on_page);
                    if pager.stopped {
                        break;
                    }
                }
                *self.prev_after = Some(style.space_after);
            }
            _ => {
                let mut frags = Vec::new();
                let after = ctx.block(block, self.default, self.width, self.fields, p, &mut frags);
                if let Some(first) = frags.first_mut()
                    && !first.out_of_flow()
                {
                    if let Some(a) = *self.prev_after {
                        first.space_before = first.space_before.max(a);
                    }
                    *self.prev_after = Some(after);
                }
                for f in frags {
                    self.one(ctx, f, pager, on_page);
                }
            }
        }
    }
}

struct PassState {
    summary: Summary,
    /// Set when drawing: what the counting pass learned.
    known: Option<Summary>,
    region_cache: BTreeMap<(bool, bool), Vec<Fragment>>,
    too_many: bool,
}

impl PassState {
    /// Takes a finished page; returns false to stop.
    fn page(
        &mut self,
        ctx: &mut Ctx,
        doc: &Document,
        geo: &Geometry,
        (placed, notes): (Vec<Placed>, Vec<Fragment>),
        sink: &mut PageSink,
        max_pages: usize,
    ) -> bool {
        if !ctx.proceed() {
            return false;
        }
        let pi = self.summary.page_count;
        self.summary.page_count += 1;
        if self.summary.page_count > max_pages {
            self.too_many = true;
            return false;
        }
        let mut markers = Vec::new();
        for p in placed.iter().filter(|p| !p.frag.repeated) {
            p.frag.all_markers(p.y, &mut markers);
        }
        {
            for (dy, marker) in markers {
                let loc = Location {
                    page: pi,
                    point: Point::new(geo.left, geo.top + dy),
                };
                match marker {
                    Marker::Anchor(name) => {
                        self.summary.anchors.entry(name).or_insert(loc);
                    }
                    Marker::Heading { level, title } => self.summary.outline.push(OutlineEntry {
                        level,
                        title,
                        location: loc,
                    }),
                    Marker::Footnote(_) => {}
                    Marker::Section { restart, title } => {
                        if restart && self.summary.section_starts.last() != Some(&pi) {
                            self.summary.section_starts.push(pi);
                        }
                        if let Some(title) = title {
                            self.summary.outline.push(OutlineEntry {
                                level: 1,
                                title,
                                location: loc,
                            });
                        }
                    }
                }
            }
        }
        let Some(known) = &self.known else {
            return true;
        };
        // Page numbers count from the start of the section that restarted them.
        let start = self.summary.section_starts.last().copied().unwrap_or(0);
        let end = known
            .section_starts
            .iter()
            .copied()
            .find(|&s| s > pi)
            .unwrap_or(known.page_count);
        let count = end.saturating_sub(start).max(1);
        let number = PageNumber {
            page: pi - start + 1,
            count,
        };
        let items = draw_page(ctx, doc, geo, number, placed, notes, &mut self.region_cache);
        let anchors = if known.anchors.is_empty() {
            &self.summary.anchors
        } else {
            &known.anchors
        };
        sink(
            Page {
                size: geo.size,
                items,
            },
            &ctx.images,
            anchors,
        );
        true
    }
}

/// Draws one page: background, watermark, header and footer, then the body.
/// The number a page shows and the count it is out of.
#[derive(Clone, Copy)]
struct PageNumber {
    /// From 1.
    page: usize,
    count: usize,
}

fn draw_page(
    ctx: &mut Ctx,
    doc: &Document,
    geo: &Geometry,
    PageNumber { page, count }: PageNumber,
    placed: Vec<Placed>,
    notes: Vec<Fragment>,
    region_cache: &mut BTreeMap<(bool, bool), Vec<Fragment>>,
) -> Vec<Item> {
    let (w, h) = (geo.size.width, geo.size.height);
    let m = doc.page.margins;
    let root = JPath::Root;
    let mut items: Vec<Item> = Vec::new();
    if let Some(bg) = doc.page.background {
        items.push(Item::Rect(RectItem {
            rect: Rect::new(0.0, 0.0, w, h),
            fill: Some(bg),
            stroke: None,
        }));
    }
    if let Some(wm) = &doc.watermark {
        watermark(ctx, wm, geo, &mut items);
    }
    let header_gap = doc.page.header_gap.map_or(12.0, |l| l.0);
    let footer_gap = doc.page.footer_gap.map_or(12.0, |l| l.0);
    for (is_header, region) in [(true, &doc.header), (false, &doc.footer)] {
        let Some(region) = region else { continue };
        let first = page == 1 && region.first_page.is_some();
        let blocks = if first {
            region.first_page.as_deref().unwrap_or_default()
        } else {
            &region.content
        };
        let key = if is_header { "header" } else { "footer" };
        let rp = root.key(key);
        let bp = rp.key(if first { "first_page" } else { "content" });
        let style = ctx.sheet.get(key);
        ctx.artifact = Some(if is_header {
            ArtifactKind::Header
        } else {
            ArtifactKind::Footer
        });
        // Laid out once when they show no page numbers.
        let frags = if blocks_have_page_fields(blocks) {
            region_frags(
                ctx,
                blocks,
                &style,
                geo.width,
                FieldMode::Exact { page, count },
                &bp,
            )
        } else {
            region_cache
                .entry((is_header, first))
                .or_insert_with(|| {
                    region_frags(
                        ctx,
                        blocks,
                        &style,
                        geo.width,
                        FieldMode::Exact { page: 1, count },
                        &bp,
                    )
                })
                .clone()
        };
        ctx.artifact = None;
        let total = stack_height(&frags);
        let room = if is_header {
            geo.top - header_gap
        } else {
            m.bottom.0 - footer_gap
        };
        let mut y = if is_header {
            (geo.top - header_gap - total).max(0.0)
        } else {
            h - m.bottom.0 + footer_gap
        };
        if total > room + EPS {
            ctx.warn(
                rp.to_string(),
                format!(
                    "the {key} is {total:.0}pt tall but the margin leaves {:.0}pt; it {}",
                    room.max(0.0),
                    if is_header {
                        "overlaps the body"
                    } else {
                        "runs past the bottom of the page"
                    }
                ),
            );
        }
        for (i, f) in frags.iter().enumerate() {
            if i > 0 {
                y += f.space_before;
            }
            f.emit(geo.left, y, &mut items);
            y += f.height;
        }
    }
    let body_start = items.len();
    for p in placed {
        let start = items.len();
        let repeated = p.frag.repeated;
        p.frag.emit_owned(geo.left, geo.top + p.y, &mut items);
        if repeated {
            // Table header rows repeated on this page are already in the structure.
            let mark = Mark::Artifact(ArtifactKind::Pagination);
            items[start..].iter_mut().for_each(|i| i.set_mark(mark));
        }
    }
    if !notes.is_empty() {
        // The footnote area: a short rule, then the notes, ending at the body's bottom.
        let total = super::notes::area_overhead() + stack_height(&notes);
        let mut y = geo.top + geo.height - total + super::notes::SEPARATOR_GAP;
        let t = super::notes::SEPARATOR_RULE;
        let color = ctx.sheet.get("footnote").text.color;
        items.push(Item::Line(crate::frame::LineItem {
            from: Point::new(geo.left, y + t / 2.0),
            to: Point::new(geo.left + (geo.width / 3.0).min(144.0), y + t / 2.0),
            color,
            width: t,
        }));
        y += t + super::notes::SEPARATOR_GAP;
        for (i, f) in notes.into_iter().enumerate() {
            if i > 0 {
                y += f.space_before;
            }
            let h = f.height;
            f.emit_owned(geo.left, y, &mut items);
            y += h;
        }
    }
    fill_fields(ctx, &mut items[body_start..], page, count);
    items.iter_mut().for_each(Item::snap);
    items
}

fn region_frags(
    ctx: &mut Ctx,
    blocks: &[Block],
    style: &Rc<BlockStyle>,
    width: f32,
    fields: FieldMode,
    path: &JPath,
) -> Vec<Fragment> {
    let mut frags = Vec::new();
    ctx.blocks(blocks, style, width, fields, path, &mut frags);
    frags
}

fn fill_fields(ctx: &mut Ctx, items: &mut [Item], page: usize, count: usize) {
    for item in items {
        match item {
            Item::Text(t) if t.field.is_some() => {
                let value = match t.field {
                    Some(FieldKind::PageNumber) => page.to_string(),
                    Some(FieldKind::PageCount) => count.to_string(),
                    _ => continue,
                };
                ctx.fill_field(t, &value);
            }
            Item::Group(g) => fill_fields(ctx, &mut g.items, page, count),
            _ => {}
        }
    }
}

fn watermark(ctx: &mut Ctx, wm: &crate::model::Watermark, geo: &Geometry, items: &mut Vec<Item>) {
    let style = ctx.sheet.get("default");
    let mut text = style.text.clone();
    if let Some(f) = &wm.font {
        text.family = f.as_str().into();
    }
    text.size = wm.size.map_or(72.0, |l| l.0);
    text.weight = 700;
    let font = ctx.font_for(&text, &JPath::Root.key("watermark"));
    let glyphs = ctx.shaper.shape(font, &wm.text);
    let width: f32 = glyphs.iter().map(|g| g.advance * text.size).sum();
    let face = ctx.shaper.book().face(font);
    let (asc, desc) = (face.ascender * text.size, face.descender * text.size);
    let center = Point::new(geo.size.width / 2.0, geo.size.height / 2.0);
    let origin = Point::new(center.x - width / 2.0, center.y + (asc - desc) / 2.0);
    let run = TextItem {
        origin,
        font,
        size: text.size,
        color: wm.color.unwrap_or(Color::rgb(160, 160, 160)),
        glyphs: super::inline::frame_glyphs(&glyphs, text.size, &wm.text),
        text: wm.text.clone(),
        field: None,
        mark: Mark::Artifact(ArtifactKind::Watermark),
    };
    items.push(Item::Group(GroupItem {
        transform: Transform::rotate_about(-wm.angle.unwrap_or(45.0), center),
        opacity: wm.opacity.unwrap_or(0.25),
        items: vec![Item::Text(run)],
        mark: Mark::Artifact(ArtifactKind::Watermark),
    }));
}

/// Fills pages with fragments as they come, handing on each finished page.
///
/// Footnotes travel with the fragment whose line references them: placing it adds the
/// notes' lines to the page's footnote area (which grows up from the bottom of the
/// body), and a fragment fits only when its notes fit too. A page holding nothing else
/// takes the fragment and as much of its notes as fits; the rest continues at the
/// bottom of the next page.
struct Paginator {
    avail: f32,
    pending: VecDeque<Fragment>,
    page: Vec<Placed>,
    y: f32,
    /// Footnote lines on this page, in order.
    notes: Vec<Fragment>,
    /// Footnote lines continued on the next page.
    carry: VecDeque<Fragment>,
    /// Floats waiting for the top of the next page.
    floats: VecDeque<Fragment>,
    overflow_warned: bool,
    /// The receiver asked to stop.
    stopped: bool,
}

type OnPage<'a> = dyn FnMut(&mut Ctx, Vec<Placed>, Vec<Fragment>) -> bool + 'a;

/// The height of a footnote area of height `area` once `line` joins it.
fn grow(area: f32, line: &Fragment) -> f32 {
    if area == 0.0 {
        super::notes::area_overhead() + line.height
    } else {
        area + line.space_before + line.height
    }
}

/// The height of a footnote area holding `notes` (nothing when there are none).
fn notes_area(notes: &[Fragment]) -> f32 {
    if notes.is_empty() {
        0.0
    } else {
        super::notes::area_overhead() + stack_height(notes)
    }
}

impl Paginator {
    fn new(avail: f32) -> Self {
        Paginator {
            avail,
            pending: VecDeque::new(),
            page: Vec::new(),
            y: 0.0,
            notes: Vec::new(),
            carry: VecDeque::new(),
            floats: VecDeque::new(),
            overflow_warned: false,
            stopped: false,
        }
    }

    fn end_page(&mut self, ctx: &mut Ctx, on_page: &mut OnPage) {
        let page = std::mem::take(&mut self.page);
        let notes = std::mem::take(&mut self.notes);
        self.y = 0.0;
        if !self.stopped && !on_page(ctx, page, notes) {
            self.stopped = true;
        }
        // Waiting floats open the page, as many as fit (at least one).
        while let Some(f) = self.floats.pop_front() {
            let need = f.height + f.space_before;
            if !self.page.is_empty() && self.y + need > self.avail + EPS {
                self.floats.push_front(f);
                break;
            }
            self.page.push(Placed {
                frag: f,
                y: self.y,
                notes: 0,
            });
            self.y += need;
        }
        // Continued notes open the next page's footnote area, taking at most half of it.
        while let Some(f) = self.carry.pop_front() {
            if !self.notes.is_empty() && grow(notes_area(&self.notes), &f) > self.avail / 2.0 {
                self.carry.push_front(f);
                break;
            }
            self.notes.push(f);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx, on_page: &mut OnPage) {
        // Notes still continuing and floats still waiting get pages of their own.
        while !self.stopped && (!self.page.is_empty() || !self.notes.is_empty()) {
            self.end_page(ctx, on_page);
        }
    }

    /// Puts a float at the top of this page, moving what is there down, when it fits
    /// with the page's content; otherwise it waits for the next page.
    fn float(&mut self, f: Fragment) {
        let need = f.height + f.space_before;
        let content = self
            .page
            .iter()
            .any(|p| !p.frag.out_of_flow() || p.frag.float);
        if self.floats.is_empty()
            && (!content || self.y + need + notes_area(&self.notes) <= self.avail + EPS)
        {
            let top = self
                .page
                .iter()
                .filter(|p| p.frag.float)
                .map(|p| p.y + p.frag.height + p.frag.space_before)
                .fold(0.0, f32::max);
            for p in self
                .page
                .iter_mut()
                .filter(|p| !p.frag.float && !p.frag.is_absolute())
            {
                p.y += need;
            }
            let at = self.page.iter().take_while(|p| p.frag.float).count();
            self.page.insert(
                at,
                Placed {
                    frag: f,
                    y: top,
                    notes: 0,
                },
            );
            self.y += need;
        } else {
            self.floats.push_back(f);
        }
    }

    /// Places `f` at `y` with the lines of its footnotes that fit below the body's
    /// content; with `all`, every line, whether it fits or not. The rest continue on
    /// the next page.
    fn place(&mut self, f: Fragment, y: f32, all: bool) {
        let notes = f.notes();
        let h = f.height;
        let mut added = 0;
        let mut area = notes_area(&self.notes);
        for (i, frag) in notes.iter().flat_map(|n| n.frags.iter()).enumerate() {
            let mut frag = frag.clone();
            let grown = grow(area, &frag);
            let fits = y + h + grown <= self.avail + EPS;
            if (all || fits) && self.carry.is_empty() {
                area = grown;
                self.notes.push(frag);
                added += 1;
            } else {
                if self.carry.is_empty() && i > 0 {
                    frag.space_before = 0.0;
                }
                self.carry.push_back(frag);
            }
        }
        self.page.push(Placed {
            frag: f,
            y,
            notes: added,
        });
        self.y = y + h;
    }

    /// The height left on the page for a piece with `space` above it (a whole page
    /// when the page is empty).
    fn room(&self, space: f32) -> f32 {
        if self
            .page
            .iter()
            .all(|p| p.frag.is_absolute() || p.frag.repeated)
            && self.y == 0.0
        {
            return self.avail - notes_area(&self.notes);
        }
        (self.avail - self.y - space - notes_area(&self.notes)).max(0.0)
    }

    /// The footnote area's height once `f`'s notes join it.
    fn area_with(&self, f: &Fragment) -> f32 {
        f.notes()
            .iter()
            .flat_map(|n| n.frags.iter())
            .fold(notes_area(&self.notes), grow)
    }

    fn feed(&mut self, ctx: &mut Ctx, f: Fragment, on_page: &mut OnPage) {
        self.pending.push_back(f);
        let avail = self.avail;
        // Whether the page holds only repeated header rows (and absolute blocks).
        let only_repeats =
            |page: &[Placed]| page.iter().all(|p| p.frag.repeated || p.frag.is_absolute());
        while let Some(f) = self.pending.pop_front() {
            if self.stopped {
                self.pending.clear();
                return;
            }
            if let FragKind::PageBreak = f.kind {
                if !self.page.is_empty() {
                    self.end_page(ctx, on_page);
                }
                continue;
            }
            if f.float {
                self.float(f);
                continue;
            }
            if f.is_absolute() {
                // Drawn on this page; it takes no room (its footnotes do).
                let y = self.y;
                self.place(f, y, true);
                continue;
            }
            if self.page.iter().all(|p| p.frag.out_of_flow())
                && let Some(header) = &f.repeat_header
            {
                for hf in header.iter() {
                    let mut hf = hf.clone();
                    hf.repeated = true;
                    hf.markers.clear();
                    let gap = if self.page.is_empty() {
                        0.0
                    } else {
                        hf.space_before
                    };
                    self.y += gap;
                    let h = hf.height;
                    self.page.push(Placed {
                        frag: hf,
                        y: self.y,
                        notes: 0,
                    });
                    self.y += h;
                }
            }
            let gap = if self.page.iter().all(|p| p.frag.out_of_flow()) {
                0.0
            } else {
                f.space_before
            };
            if self.y + gap + f.height + self.area_with(&f) <= avail + EPS {
                let y = self.y + gap;
                self.place(f, y, true);
                continue;
            }
            // It does not fit.
            let fresh = only_repeats(&self.page);
            // A long note (over a quarter of the page) starts under its line when the
            // line and two of the note's lines fit, and continues on the next page.
            let new_notes = f.notes();
            let note_lines: Vec<&Fragment> =
                new_notes.iter().flat_map(|n| n.frags.iter()).collect();
            let note_height = note_lines.iter().copied().fold(0.0, grow);
            if !fresh
                && self.carry.is_empty()
                && !matches!(f.kind, FragKind::Row(_))
                && note_lines.len() > 2
                && note_height > avail / 4.0
            {
                let two = note_lines
                    .iter()
                    .take(2)
                    .copied()
                    .fold(notes_area(&self.notes), grow);
                if self.y + gap + f.height + two <= avail + EPS {
                    let y = self.y + gap;
                    self.place(f, y, false);
                    self.end_page(ctx, on_page);
                    continue;
                }
            }
            // Continued notes give way to a fragment that fits a page without them.
            if fresh && !self.notes.is_empty() && self.page.iter().all(|p| p.notes == 0) {
                while !self.notes.is_empty()
                    && self.y + gap + f.height + self.area_with(&f) > avail + EPS
                {
                    if let Some(n) = self.notes.pop() {
                        self.carry.push_front(n);
                    }
                }
            }
            let area = notes_area(&self.notes);
            let mut f = f;
            // A row taller than a whole page splits here; a shorter one moves on.
            let splits = matches!(f.kind, FragKind::Row(_))
                && (f.height > avail - stack_height_of_header(&f) + EPS || fresh);
            if splits {
                let room = avail - area - self.y - gap;
                let FragKind::Row(row) = std::mem::replace(&mut f.kind, FragKind::PageBreak) else {
                    unreachable!("matched above");
                };
                match row.split(room) {
                    Ok((head, tail)) => {
                        // The row is out of `f`: what is left is cheap to copy.
                        let mut hf = f.clone();
                        hf.height = room;
                        hf.kind = FragKind::Row(Box::new(head));
                        hf.keep_with_next = false;
                        let mut tf = f;
                        tf.height = tail.height();
                        tf.kind = FragKind::Row(Box::new(tail));
                        tf.space_before = 0.0;
                        tf.markers.clear();
                        let y = self.y + gap;
                        self.place(hf, y, false);
                        self.pending.push_front(tf);
                        self.end_page(ctx, on_page);
                        continue;
                    }
                    Err(row) => f.kind = FragKind::Row(row),
                }
            }
            if fresh {
                // Nothing else on the page: place it with the notes that fit.
                if self.y + gap + f.height > avail - area + EPS && !self.overflow_warned {
                    ctx.warn(
                        String::new(),
                        format!(
                            "a piece of content {:.0}pt tall does not fit the {avail:.0}pt page body and overflows it",
                            f.height
                        ),
                    );
                    self.overflow_warned = true;
                }
                let y = self.y + gap;
                self.place(f, y, false);
                self.end_page(ctx, on_page);
                continue;
            }
            // Break after the last fragment that allows it; what follows moves on.
            let breakable = self
                .page
                .iter()
                .rposition(|p| !p.frag.keep_with_next && !p.frag.repeated);
            let cut = match breakable {
                Some(k) if !only_repeats(&self.page[..=k]) => k + 1,
                _ => self.page.len(),
            };
            self.pending.push_front(f);
            for p in self.page.drain(cut..).rev() {
                let keep = self.notes.len().saturating_sub(p.notes);
                self.notes.truncate(keep);
                if !p.frag.repeated {
                    self.pending.push_front(p.frag);
                }
            }
            self.end_page(ctx, on_page);
        }
    }
}

fn stack_height_of_header(f: &Fragment) -> f32 {
    f.repeat_header.as_ref().map_or(0.0, |h| stack_height(h))
}

/// Whether any inline content in `blocks` (headers, lists, groups and cells included)
/// satisfies `pred`.
fn inline_any(i: &Inline, pred: &dyn Fn(&Inline) -> bool) -> bool {
    pred(i)
        || matches!(i, Inline::Footnote(f) if matches!(&f.footnote,
            crate::model::FootnoteContent::Content(c) if c.iter().any(|j| inline_any(j, pred))))
}

fn any_inline(blocks: &[Block], pred: &dyn Fn(&Inline) -> bool) -> bool {
    blocks.iter().any(|b| match b {
        Block::Heading(h) => h.content.iter().any(|i| inline_any(i, pred)),
        Block::Paragraph(p) => p.content.iter().any(|i| inline_any(i, pred)),
        Block::List(l) => l
            .items
            .iter()
            .any(|i| matches!(i, ListItem::Blocks(b) if any_inline(b, pred))),
        Block::Group(g) => any_inline(&g.content, pred),
        Block::Absolute(a) => any_inline(&a.content, pred),
        Block::Columns(c) => any_inline(&c.content, pred),
        Block::Section(s) => any_inline(&s.content, pred),
        Block::Table(t) => t.rows.iter().any(|r| {
            let cells = match r {
                Row::Cells(c) => c,
                Row::Full(r) => &r.cells,
            };
            cells
                .iter()
                .any(|c| c.spec().is_some_and(|s| any_inline(&s.content, pred)))
        }),
        _ => false,
    })
}

fn blocks_have_page_fields(blocks: &[Block]) -> bool {
    any_inline(
        blocks,
        &|i| matches!(i, Inline::Field(f) if f.field != FieldKind::Title),
    )
}
