//! Laid-out pages: the one geometry every exporter draws from.
//!
//! A [`PagedDocument`] is a list of [`Page`]s, each a flat list of positioned
//! [`Item`]s in points, origin at the page's top left. Exporters read only these types,
//! so the SVG preview and the PDF come from identical positions.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use crate::geom::{Color, Point, Rect, Size, Transform};
use crate::model::{FieldKind, Metadata};
use crate::text::{Bytes, FontId};

/// A laid-out document.
#[derive(Debug, Clone)]
pub struct PagedDocument {
    /// The pages, in order.
    pub pages: Vec<Page>,
    /// Headings for the PDF outline, in document order.
    pub outline: Vec<OutlineEntry>,
    /// Named anchors and where they are.
    pub anchors: BTreeMap<String, Location>,
    /// Images, referenced by index from [`Item::Image`].
    pub images: Vec<ImageData>,
    /// Title, author and the rest.
    pub metadata: Metadata,
    /// The logical structure the items' [`Mark`]s refer to (empty when layout was
    /// asked not to build it).
    pub structure: Structure,
}

/// Which part of the logical structure an item shows: what tagged PDF is made of.
///
/// Content belongs to a [`StructNode`]; everything else (decoration, headers, footers,
/// watermarks, repeated table headers) is an artifact that assistive technology skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    /// Not part of the content.
    Artifact(ArtifactKind),
    /// Content of this structure node.
    Node(NodeId),
}

impl Mark {
    /// The node, when the mark names one.
    pub fn node(self) -> Option<NodeId> {
        match self {
            Mark::Node(id) => Some(id),
            Mark::Artifact(_) => None,
        }
    }
}

impl Default for Mark {
    fn default() -> Self {
        Mark::Artifact(ArtifactKind::Layout)
    }
}

/// What kind of artifact an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    /// Decoration: rules, borders, backgrounds of blocks, and all items of a layout
    /// built without structure.
    Layout,
    /// The page header.
    Header,
    /// The page footer.
    Footer,
    /// The watermark.
    Watermark,
    /// The page background.
    Background,
    /// Content repeated by pagination, such as table header rows on later pages.
    Pagination,
}

/// Index of a node in [`Structure::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// The logical structure of a document: blocks as a tree, in reading order.
///
/// Nodes are listed parents first, siblings in content order; each names its parent.
/// Layout adds them as it goes, so a streaming exporter can take the whole tree at the
/// end while pages come and go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Structure {
    /// The nodes; a [`NodeId`] is an index here.
    pub nodes: Vec<StructNode>,
}

impl Structure {
    /// Adds a node and returns its id.
    pub fn push(&mut self, node: StructNode) -> NodeId {
        let id = NodeId(u32::try_from(self.nodes.len()).unwrap_or(u32::MAX));
        self.nodes.push(node);
        id
    }

    /// The node with this id.
    pub fn get(&self, id: NodeId) -> Option<&StructNode> {
        self.nodes.get(id.0 as usize)
    }
}

/// A structure node.
#[derive(Debug, Clone, PartialEq)]
pub struct StructNode {
    /// The enclosing node; `None` for a child of the document.
    pub parent: Option<NodeId>,
    /// What it is.
    pub kind: NodeKind,
    /// JSON pointer of the model node it comes from, for diagnostics.
    pub path: Box<str>,
}

/// Kinds of structure nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A heading, 1 to 6, with its text.
    Heading {
        /// 1 to 6.
        level: u8,
        /// Its text.
        title: String,
    },
    /// A paragraph.
    Paragraph,
    /// A list.
    List {
        /// Its markers.
        marker: crate::model::ListMarker,
    },
    /// A list item: a label and a body.
    ListItem,
    /// A list item's marker.
    ListLabel,
    /// A list item's content.
    ListBody,
    /// A table.
    Table,
    /// A table's header rows.
    TableHead,
    /// A table's other rows.
    TableBody,
    /// A table row.
    TableRow,
    /// A cell, a header cell when `header`.
    TableCell {
        /// In a header row.
        header: bool,
        /// Columns spanned.
        colspan: u32,
        /// Rows spanned.
        rowspan: u32,
    },
    /// An image.
    Figure {
        /// Its alternative text.
        alt: Option<String>,
    },
    /// A link: the text it covers and its clickable areas.
    Link,
    /// A footnote.
    Note,
    /// A table of contents.
    Toc,
    /// An entry of a table of contents.
    TocItem,
}

/// A place in the document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    /// Zero-based page index.
    pub page: usize,
    /// Position on that page.
    pub point: Point,
}

/// A heading in the outline.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlineEntry {
    /// 1 to 6.
    pub level: u8,
    /// The heading's text.
    pub title: String,
    /// Where it is.
    pub location: Location,
}

/// One page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Page size in points.
    pub size: Size,
    /// What is drawn, in painting order.
    pub items: Vec<Item>,
}

/// Something drawn on a page.
#[derive(Debug, Clone)]
pub enum Item {
    /// A run of glyphs in one font, size and color.
    Text(TextItem),
    /// A rectangle, filled and/or stroked.
    Rect(RectItem),
    /// A straight line.
    Line(LineItem),
    /// An image scaled into a rectangle, clipped to `clip` when set.
    Image(ImageItem),
    /// A clickable area.
    Link(LinkItem),
    /// Items drawn with a transform and an opacity.
    Group(GroupItem),
}

/// A glyph run.
#[derive(Debug, Clone)]
pub struct TextItem {
    /// Pen position of the first glyph, on the baseline.
    pub origin: Point,
    /// The face.
    pub font: FontId,
    /// Font size in points.
    pub size: f32,
    /// Fill color.
    pub color: Color,
    /// The glyphs, with advances and offsets in points.
    pub glyphs: Vec<Glyph>,
    /// The text the glyphs show; each glyph names its byte range in it.
    pub text: String,
    /// The field this run shows, when it shows one.
    pub field: Option<FieldKind>,
    /// The structure it belongs to.
    pub mark: Mark,
}

impl TextItem {
    /// The run's advance width.
    pub fn width(&self) -> f32 {
        self.glyphs.iter().map(|g| g.x_advance).sum()
    }
}

/// A positioned glyph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glyph {
    /// Glyph id in the face.
    pub id: u16,
    /// Horizontal advance in points.
    pub x_advance: f32,
    /// Horizontal offset in points.
    pub x_offset: f32,
    /// Vertical offset in points, upwards.
    pub y_offset: f32,
    /// Start of the glyph's cluster in the run's text.
    pub text_start: u32,
    /// End of the glyph's cluster in the run's text.
    pub text_end: u32,
}

impl Glyph {
    /// The glyph's byte range in its run's text.
    pub fn text_range(&self) -> Range<usize> {
        self.text_start as usize..self.text_end as usize
    }
}

/// A rectangle.
#[derive(Debug, Clone)]
pub struct RectItem {
    /// Where.
    pub rect: Rect,
    /// Fill color.
    pub fill: Option<Color>,
    /// Stroke color and width.
    pub stroke: Option<(Color, f32)>,
}

/// A line.
#[derive(Debug, Clone)]
pub struct LineItem {
    /// Start.
    pub from: Point,
    /// End.
    pub to: Point,
    /// Color.
    pub color: Color,
    /// Width in points.
    pub width: f32,
}

/// An image.
#[derive(Debug, Clone)]
pub struct ImageItem {
    /// Index into [`PagedDocument::images`].
    pub image: usize,
    /// Where the whole image goes.
    pub rect: Rect,
    /// Visible part of the page, for `fit: cover`.
    pub clip: Option<Rect>,
    /// Alternative text.
    pub alt: Option<String>,
    /// The structure it belongs to.
    pub mark: Mark,
}

/// A link area.
#[derive(Debug, Clone)]
pub struct LinkItem {
    /// The clickable area.
    pub rect: Rect,
    /// Where it goes.
    pub target: LinkTarget,
    /// The structure it belongs to.
    pub mark: Mark,
}

/// Where a link goes.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkTarget {
    /// A URL.
    Url(String),
    /// An anchor in this document.
    Anchor(String),
}

/// A transformed group.
#[derive(Debug, Clone)]
pub struct GroupItem {
    /// Applied to every item.
    pub transform: Transform,
    /// 0 to 1.
    pub opacity: f32,
    /// The items.
    pub items: Vec<Item>,
    /// The structure the whole group belongs to.
    pub mark: Mark,
}

/// An image's bytes and what they are.
#[derive(Debug, Clone)]
pub struct ImageData {
    /// The asset key it came from.
    pub key: String,
    /// The file.
    pub bytes: Bytes,
    /// PNG, JPEG or SVG.
    pub format: ImageFormat,
    /// Intrinsic size in pixels (SVG: in its user units).
    pub size: Size,
    /// An SVG's tree, parsed once by layout with every reference resolved through
    /// [`Resources`](crate::Resources) and its text set with the document's fonts; the
    /// exporters draw this, never the bytes.
    pub svg: Option<Arc<usvg::Tree>>,
}

/// Image file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// SVG.
    Svg,
}

impl ImageFormat {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Svg => "image/svg+xml",
        }
    }
}

impl Item {
    /// The structure the item belongs to; rectangles and lines are decoration.
    pub fn mark(&self) -> Mark {
        match self {
            Item::Text(t) => t.mark,
            Item::Image(i) => i.mark,
            Item::Link(l) => l.mark,
            Item::Group(g) => g.mark,
            Item::Rect(_) | Item::Line(_) => Mark::default(),
        }
    }

    /// Sets the structure the item belongs to (rectangles and lines stay decoration).
    pub fn set_mark(&mut self, mark: Mark) {
        match self {
            Item::Text(t) => t.mark = mark,
            Item::Image(i) => i.mark = mark,
            Item::Link(l) => l.mark = mark,
            Item::Group(g) => g.mark = mark,
            Item::Rect(_) | Item::Line(_) => {}
        }
    }

    /// Moves the item by `dx`, `dy`.
    pub fn translate(&mut self, dx: f32, dy: f32) {
        match self {
            Item::Text(t) => {
                t.origin.x += dx;
                t.origin.y += dy;
            }
            Item::Rect(r) => r.rect = r.rect.translate(dx, dy),
            Item::Line(l) => {
                l.from.x += dx;
                l.from.y += dy;
                l.to.x += dx;
                l.to.y += dy;
            }
            Item::Image(i) => {
                i.rect = i.rect.translate(dx, dy);
                i.clip = i.clip.map(|c| c.translate(dx, dy));
            }
            Item::Link(l) => l.rect = l.rect.translate(dx, dy),
            Item::Group(g) => {
                g.transform.e += dx;
                g.transform.f += dy;
            }
        }
    }

    /// Rounds positions to 1/100 pt: invisible, and it keeps exported numbers short.
    pub(crate) fn snap(&mut self) {
        fn r(v: &mut f32) {
            *v = (*v * 100.0).round() / 100.0;
        }
        fn rect(x: &mut Rect) {
            r(&mut x.x);
            r(&mut x.y);
            r(&mut x.width);
            r(&mut x.height);
        }
        match self {
            Item::Text(t) => {
                r(&mut t.origin.x);
                r(&mut t.origin.y);
            }
            Item::Rect(x) => rect(&mut x.rect),
            Item::Line(l) => {
                r(&mut l.from.x);
                r(&mut l.from.y);
                r(&mut l.to.x);
                r(&mut l.to.y);
            }
            Item::Image(i) => {
                rect(&mut i.rect);
                if let Some(c) = &mut i.clip {
                    rect(c);
                }
            }
            Item::Link(l) => rect(&mut l.rect),
            Item::Group(g) => g.items.iter_mut().for_each(Item::snap),
        }
    }

    /// The area the item may paint, before any group transform.
    pub fn bounds(&self, book: &crate::text::FontBook) -> Rect {
        match self {
            Item::Text(t) => {
                let f = book.face(t.font);
                let top = t.origin.y - f.ascender * t.size;
                Rect::new(
                    t.origin.x,
                    top,
                    t.width(),
                    (f.ascender + f.descender) * t.size,
                )
            }
            Item::Rect(r) => r.rect,
            Item::Line(l) => Rect::new(
                l.from.x.min(l.to.x),
                l.from.y.min(l.to.y),
                (l.to.x - l.from.x).abs(),
                (l.to.y - l.from.y).abs(),
            ),
            Item::Image(i) => i.clip.unwrap_or(i.rect),
            Item::Link(l) => l.rect,
            Item::Group(g) => {
                let tr = |x: f32, y: f32| {
                    let t = g.transform;
                    (t.a * x + t.c * y + t.e, t.b * x + t.d * y + t.f)
                };
                let mut xs = vec![];
                let mut ys = vec![];
                for it in &g.items {
                    let b = it.bounds(book);
                    for (x, y) in [
                        (b.x, b.y),
                        (b.right(), b.y),
                        (b.x, b.bottom()),
                        (b.right(), b.bottom()),
                    ] {
                        let (x, y) = tr(x, y);
                        xs.push(x);
                        ys.push(y);
                    }
                }
                let min = |v: &[f32]| v.iter().copied().fold(f32::INFINITY, f32::min);
                let max = |v: &[f32]| v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                if xs.is_empty() {
                    return Rect::default();
                }
                Rect::new(min(&xs), min(&ys), max(&xs) - min(&xs), max(&ys) - min(&ys))
            }
        }
    }
}

impl PagedDocument {
    /// All text of the document in drawing order, runs separated by spaces and pages by
    /// form feeds: what a reader of the output would see.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, page) in self.pages.iter().enumerate() {
            if i > 0 {
                out.push('\u{c}');
            }
            collect_text(&page.items, &mut out);
        }
        out
    }
}

fn collect_text(items: &[Item], out: &mut String) {
    for item in items {
        match item {
            Item::Text(t) => {
                out.push_str(&t.text);
                out.push(' ');
            }
            Item::Group(g) => collect_text(&g.items, out),
            _ => {}
        }
    }
}

/// The order exporters paint items in: within each stretch between fills, images and
/// groups, lines and outlines come after the text. They cannot hide each other there,
/// and gathered together the PDF writer makes them one path instead of one per row.
pub fn painting_order(items: &[Item]) -> Vec<&Item> {
    let mut ordered: Vec<&Item> = Vec::with_capacity(items.len());
    let mut strokes: Vec<&Item> = Vec::new();
    for item in items {
        match item {
            Item::Line(_) | Item::Rect(RectItem { fill: None, .. }) => strokes.push(item),
            Item::Text(_) | Item::Link(_) => ordered.push(item),
            _ => {
                ordered.append(&mut strokes);
                ordered.push(item);
            }
        }
    }
    ordered.append(&mut strokes);
    ordered
}
