//! Pagination and page assembly.

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use super::Ctx;
use super::flow::{FragKind, Fragment, Marker, stack_height};
use super::inline::FieldMode;
use super::style::BlockStyle;
use crate::frame::{
    GroupItem, Item, Location, OutlineEntry, Page, PagedDocument, RectItem, TextItem,
};
use crate::geom::{Color, Point, Rect, Size, Transform};
use crate::model::{Block, Cell, Document, FieldKind, Inline, ListItem, Orientation, Row};
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
struct Placed {
    frag: Fragment,
    y: f32,
}

pub(super) fn run(
    ctx: &mut Ctx,
    doc: &Document,
    options: &super::LayoutOptions,
) -> Option<PagedDocument> {
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
    let root = JPath::Root;
    let content_path = root.key("content");
    let default = ctx.sheet.get("default");
    let body_fields = blocks_have_page_fields(&doc.content);

    // Lay out the body; when it shows page numbers, redo it once the number of digits
    // of the page count is known, so that placeholders reserve the right width.
    let mut digits = 1;
    let mut pages;
    loop {
        let mut frags = Vec::new();
        ctx.blocks(
            &doc.content,
            &default,
            geo.width,
            FieldMode::Placeholder { digits },
            &content_path,
            &mut frags,
        );
        if ctx.diags.iter().any(|d| d.is_error()) {
            return None;
        }
        pages = paginate(ctx, frags, geo.height);
        if pages.len() > options.max_pages {
            ctx.error(
                String::new(),
                format!(
                    "the document has {} pages, more than the limit of {}",
                    pages.len(),
                    options.max_pages
                ),
            );
            return None;
        }
        let need = pages.len().to_string().len();
        if !body_fields || need <= digits {
            break;
        }
        digits = need;
    }
    let count = pages.len().max(1);
    if pages.is_empty() {
        pages.push(Vec::new());
    }

    // Headers and footers: laid out once when they show no page numbers.
    let header_style = ctx.sheet.get("header");
    let footer_style = ctx.sheet.get("footer");
    let header_gap = doc.page.header_gap.map_or(12.0, |l| l.0);
    let footer_gap = doc.page.footer_gap.map_or(12.0, |l| l.0);
    let mut region_cache: BTreeMap<(bool, bool), Vec<Fragment>> = BTreeMap::new();

    let mut out_pages = Vec::with_capacity(count);
    let mut anchors = BTreeMap::new();
    let mut outline = Vec::new();
    for (pi, placed) in pages.into_iter().enumerate() {
        let mut items: Vec<Item> = Vec::new();
        if let Some(bg) = doc.page.background {
            items.push(Item::Rect(RectItem {
                rect: Rect::new(0.0, 0.0, w, h),
                fill: Some(bg),
                stroke: None,
            }));
        }
        if let Some(wm) = &doc.watermark {
            watermark(ctx, wm, &geo, &mut items);
        }
        for (is_header, region) in [(true, &doc.header), (false, &doc.footer)] {
            let Some(region) = region else { continue };
            let first = pi == 0 && region.first_page.is_some();
            let blocks = if first {
                region.first_page.as_deref().unwrap_or_default()
            } else {
                &region.content
            };
            let key = if is_header { "header" } else { "footer" };
            let rp = root.key(key);
            let seg = if first { "first_page" } else { "content" };
            let bp = rp.key(seg);
            let style = if is_header {
                &header_style
            } else {
                &footer_style
            };
            let frags = if blocks_have_page_fields(blocks) {
                region_frags(
                    ctx,
                    blocks,
                    style,
                    geo.width,
                    FieldMode::Exact {
                        page: pi + 1,
                        count,
                    },
                    &bp,
                )
            } else {
                region_cache
                    .entry((is_header, first))
                    .or_insert_with(|| {
                        region_frags(
                            ctx,
                            blocks,
                            style,
                            geo.width,
                            FieldMode::Exact { page: 1, count },
                            &bp,
                        )
                    })
                    .clone()
            };
            let total = stack_height(&frags);
            let mut y = if is_header {
                geo.top - header_gap - total
            } else {
                h - m.bottom.0 + footer_gap
            };
            let room = if is_header {
                geo.top - header_gap
            } else {
                m.bottom.0 - footer_gap
            };
            if total > room + EPS && pi == 0 {
                ctx.warn(
                    rp.to_string(),
                    format!("the {key} is {total:.0}pt tall but the margin leaves {:.0}pt; it overlaps the body", room.max(0.0)),
                );
            }
            if is_header {
                y = y.max(0.0);
            }
            for (i, f) in frags.iter().enumerate() {
                if i > 0 {
                    y += f.space_before;
                }
                f.emit(geo.left, y, &mut items);
                y += f.height;
            }
        }
        for p in placed {
            for (dy, marker) in &p.frag.markers {
                let loc = Location {
                    page: pi,
                    point: Point::new(geo.left, geo.top + p.y + dy),
                };
                match marker {
                    Marker::Anchor(name) => {
                        anchors.entry(name.clone()).or_insert(loc);
                    }
                    Marker::Heading { level, title } => outline.push(OutlineEntry {
                        level: *level,
                        title: title.clone(),
                        location: loc,
                    }),
                }
            }
            p.frag.emit_owned(geo.left, geo.top + p.y, &mut items);
        }
        if body_fields {
            fill_fields(ctx, &mut items, pi + 1, count);
        }
        items.iter_mut().for_each(Item::snap);
        out_pages.push(Page {
            size: geo.size,
            items,
        });
    }
    Some(PagedDocument {
        pages: out_pages,
        outline,
        anchors,
        images: std::mem::take(&mut ctx.images),
        metadata: doc.metadata.clone(),
    })
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
    let n = wm.text.len() as u32;
    let run = TextItem {
        origin,
        font,
        size: text.size,
        color: wm.color.unwrap_or(Color::rgb(160, 160, 160)),
        glyphs: glyphs
            .iter()
            .enumerate()
            .map(|(i, g)| crate::frame::Glyph {
                id: g.id,
                x_advance: g.advance * text.size,
                x_offset: g.dx * text.size,
                y_offset: g.dy * text.size,
                text_start: g.cluster,
                text_end: glyphs.get(i + 1).map_or(n, |nx| nx.cluster),
            })
            .collect(),
        text: wm.text.clone(),
        field: None,
    };
    items.push(Item::Group(GroupItem {
        transform: Transform::rotate_about(-wm.angle.unwrap_or(45.0), center),
        opacity: wm.opacity.unwrap_or(0.25),
        items: vec![Item::Text(run)],
    }));
}

/// Fills pages with fragments.
fn paginate(ctx: &mut Ctx, frags: Vec<Fragment>, avail: f32) -> Vec<Vec<Placed>> {
    let mut pending: VecDeque<Fragment> = frags.into();
    let mut pages: Vec<Vec<Placed>> = Vec::new();
    let mut page: Vec<Placed> = Vec::new();
    let mut y = 0.0f32;
    let mut overflow_warned = false;

    // Whether the page holds only repeated header rows.
    let only_repeats = |page: &[Placed]| page.iter().all(|p| p.frag.repeated);

    while let Some(f) = pending.pop_front() {
        if let FragKind::PageBreak = f.kind {
            if !page.is_empty() {
                pages.push(std::mem::take(&mut page));
                y = 0.0;
            }
            continue;
        }
        if page.is_empty()
            && let Some(header) = &f.repeat_header
        {
            for hf in header.iter() {
                let mut hf = hf.clone();
                hf.repeated = true;
                hf.markers.clear();
                let gap = if page.is_empty() {
                    0.0
                } else {
                    hf.space_before
                };
                y += gap;
                let h = hf.height;
                page.push(Placed { frag: hf, y });
                y += h;
            }
        }
        let gap = if page.is_empty() { 0.0 } else { f.space_before };
        if y + gap + f.height <= avail + EPS {
            y += gap;
            let h = f.height;
            page.push(Placed { frag: f, y });
            y += h;
            continue;
        }
        // It does not fit.
        let fresh = only_repeats(&page);
        if let FragKind::Row(row) = &f.kind {
            // A row taller than a whole page splits here; a shorter one moves on.
            let full_page = avail - stack_height_of_header(&f);
            if f.height > full_page + EPS || fresh {
                let room = avail - y - gap;
                if let Some((head, tail)) = row.split(room) {
                    let mut hf = f.clone();
                    hf.height = room;
                    hf.kind = FragKind::Row(Box::new(head));
                    hf.keep_with_next = false;
                    let mut tf = f.clone();
                    tf.height = tail.height();
                    tf.kind = FragKind::Row(Box::new(tail));
                    tf.space_before = 0.0;
                    tf.markers.clear();
                    y += gap;
                    page.push(Placed { frag: hf, y });
                    pending.push_front(tf);
                    pages.push(std::mem::take(&mut page));
                    y = 0.0;
                    continue;
                }
            }
        }
        if fresh {
            // Nothing else on the page and it still does not fit: place it anyway.
            if !overflow_warned {
                ctx.warn(
                    String::new(),
                    format!("a piece of content {:.0}pt tall does not fit the {avail:.0}pt page body and overflows it", f.height),
                );
                overflow_warned = true;
            }
            y += gap;
            page.push(Placed { frag: f, y });
            pages.push(std::mem::take(&mut page));
            y = 0.0;
            continue;
        }
        // Break after the last fragment that allows it; what follows moves on.
        let breakable = page
            .iter()
            .rposition(|p| !p.frag.keep_with_next && !p.frag.repeated);
        let cut = match breakable {
            Some(k) if !only_repeats(&page[..=k]) => k + 1,
            _ => page.len(),
        };
        pending.push_front(f);
        for p in page.drain(cut..).rev() {
            if !p.frag.repeated {
                pending.push_front(p.frag);
            }
        }
        pages.push(std::mem::take(&mut page));
        y = 0.0;
    }
    if !page.is_empty() {
        pages.push(page);
    }
    pages
}

fn stack_height_of_header(f: &Fragment) -> f32 {
    f.repeat_header.as_ref().map_or(0.0, |h| stack_height(h))
}

fn blocks_have_page_fields(blocks: &[Block]) -> bool {
    let inl = |c: &[Inline]| {
        c.iter()
            .any(|i| matches!(i, Inline::Field(f) if f.field != FieldKind::Title))
    };
    blocks.iter().any(|b| match b {
        Block::Heading(h) => inl(&h.content),
        Block::Paragraph(p) => inl(&p.content),
        Block::List(l) => l
            .items
            .iter()
            .any(|i| matches!(i, ListItem::Blocks(b) if blocks_have_page_fields(b))),
        Block::Group(g) => blocks_have_page_fields(&g.content),
        Block::Table(t) => t.rows.iter().any(|r| {
            let cells = match r {
                Row::Cells(c) => c,
                Row::Full(r) => &r.cells,
            };
            cells
                .iter()
                .any(|c| matches!(c, Cell::Full(s) if blocks_have_page_fields(&s.content)))
        }),
        _ => false,
    })
}
