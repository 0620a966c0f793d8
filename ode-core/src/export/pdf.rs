//! PDF through krilla: subset fonts, extractable text, outline, links, metadata, the
//! logical structure as tagged PDF, and PDF/A and PDF/UA checked by krilla's validators.

use std::collections::HashMap;
use std::num::{NonZeroU16, NonZeroU32, NonZeroU64};

use krilla::Document;
use krilla::action::{Action, LinkAction};
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::destination::{Destination, XyzDestination};
use krilla::geom::{
    PathBuilder, Point as KPoint, Rect as KRect, Size as KSize, Transform as KTransform,
};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, LineCap, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId};
use krilla_svg::{SurfaceExt, SvgSettings};

use crate::diag::{Diagnostic, Diagnostics};
use std::collections::BTreeMap;

use crate::frame::{
    ArtifactKind, Glyph, ImageData, ImageFormat, Item, LinkTarget, Location, Mark, NodeId,
    NodeKind, OutlineEntry, Page, PagedDocument, RectItem, Structure,
};
use crate::geom::{Color, Rect};
use crate::image::raster;
use crate::model::PdfStandard;
use crate::text::{Bytes, FontBook, FontId};

/// Per-call PDF settings.
#[derive(Debug, Clone)]
pub struct PdfOptions {
    /// Compress content streams (smaller files; off for readable test references).
    pub compress: bool,
    /// Write the logical structure as tagged PDF (default). The pages must come from a
    /// layout that built it ([`LayoutOptions::structure`]); without it all content is
    /// marked as artifacts.
    ///
    /// [`LayoutOptions::structure`]: crate::layout::LayoutOptions::structure
    pub tagged: bool,
    /// Standards the file must conform to, checked by krilla as it is written. For
    /// [`pdf_document`](crate::pdf_document), empty means the document's own.
    pub standards: Vec<PdfStandard>,
    /// Raster images shown at more than this resolution (pixels per inch) are resampled
    /// to it, which keeps files small; `None` embeds every image as it is. Default 300.
    pub image_dpi: Option<f32>,
}

impl Default for PdfOptions {
    fn default() -> Self {
        PdfOptions {
            compress: true,
            tagged: true,
            standards: Vec::new(),
            image_dpi: Some(300.0),
        }
    }
}

impl PdfOptions {
    /// These options with the document's `pdf` settings applied: tagging is on when
    /// both allow it, and the standards are these options' or else the document's.
    ///
    /// # Errors
    /// Standards that cannot be combined, or one that needs tagging with tagging off.
    pub fn for_document(&self, doc: &crate::model::Document) -> Result<PdfOptions, Diagnostics> {
        let from_options = !self.standards.is_empty();
        let standards = if from_options {
            self.standards.clone()
        } else {
            doc.pdf.standard.clone()
        };
        let where_standard = if from_options { "" } else { "/pdf/standard" };
        crate::model::check_standards(&standards)
            .map_err(|m| Diagnostics::from(Diagnostic::error(where_standard, m)))?;
        let doc_untagged = doc.pdf.tagged == Some(false);
        let tagged = self.tagged && !doc_untagged;
        if !tagged && let Some(s) = standards.iter().find(|s| s.needs_tagging()) {
            let (at, hint) = if doc_untagged {
                ("/pdf/tagged", "remove \"tagged\": false")
            } else {
                ("", "do not turn tagging off")
            };
            return Err(Diagnostics::from(
                Diagnostic::error(at, format!("{} needs a tagged PDF", s.title())).with_hint(hint),
            ));
        }
        Ok(PdfOptions {
            compress: self.compress,
            tagged,
            standards,
            // The document's resolution, when it names one and images are resampled.
            image_dpi: self
                .image_dpi
                .and(doc.pdf.image_dpi.map(|d| d as f32))
                .or(self.image_dpi),
        })
    }
}

fn validator(s: PdfStandard) -> krilla::configure::Validator {
    use krilla::configure::{Accessibility, Archival, Validator};
    match s {
        PdfStandard::A1b => Validator::A(Archival::A1_B),
        PdfStandard::A1a => Validator::A(Archival::A1_A),
        PdfStandard::A2b => Validator::A(Archival::A2_B),
        PdfStandard::A2u => Validator::A(Archival::A2_U),
        PdfStandard::A2a => Validator::A(Archival::A2_A),
        PdfStandard::A3b => Validator::A(Archival::A3_B),
        PdfStandard::A3u => Validator::A(Archival::A3_U),
        PdfStandard::A3a => Validator::A(Archival::A3_A),
        PdfStandard::A4 => Validator::A(Archival::A4),
        PdfStandard::A4f => Validator::A(Archival::A4F),
        PdfStandard::A4e => Validator::A(Archival::A4E),
        PdfStandard::Ua1 => Validator::Ua(Accessibility::UA1),
    }
}

// What krilla's validation errors point at: a structure node, an image, or an
// artifact, packed into its `Location` number.
const AT_NODE: u64 = 1 << 40;
const AT_IMAGE: u64 = 2 << 40;
const AT_ARTIFACT: u64 = 3 << 40;

fn location(kind: u64, value: u64) -> krilla::surface::Location {
    krilla::surface::Location::new(kind | (value & (AT_NODE - 1))).unwrap_or(NonZeroU64::MIN)
}

fn artifact_code(k: ArtifactKind) -> u64 {
    match k {
        ArtifactKind::Layout => 0,
        ArtifactKind::Header => 1,
        ArtifactKind::Footer => 2,
        ArtifactKind::Watermark => 3,
        ArtifactKind::Background => 4,
        ArtifactKind::Pagination => 5,
    }
}

fn mark_location(m: Mark) -> krilla::surface::Location {
    match m {
        Mark::Node(n) => location(AT_NODE, u64::from(n.0)),
        Mark::Artifact(k) => location(AT_ARTIFACT, artifact_code(k)),
    }
}

/// A glyph in em units, as krilla wants them (it multiplies by the size it is given).
struct EmGlyph {
    id: u16,
    advance: f32,
    dx: f32,
    dy: f32,
    range: std::ops::Range<usize>,
    /// What the glyph belongs to, for validation errors.
    loc: Option<krilla::surface::Location>,
}

impl EmGlyph {
    fn from_glyph(g: &Glyph, size: f32) -> EmGlyph {
        let k = if size > 0.0 { 1.0 / size } else { 0.0 };
        EmGlyph {
            id: g.id,
            advance: g.x_advance * k,
            dx: g.x_offset * k,
            dy: g.y_offset * k,
            range: g.text_range(),
            loc: None,
        }
    }
}

impl krilla::text::Glyph for EmGlyph {
    fn glyph_id(&self) -> GlyphId {
        GlyphId::new(u32::from(self.id))
    }
    fn text_range(&self) -> std::ops::Range<usize> {
        self.range.clone()
    }
    fn x_advance(&self, size: f32) -> f32 {
        self.advance * size
    }
    fn x_offset(&self, size: f32) -> f32 {
        self.dx * size
    }
    fn y_offset(&self, size: f32) -> f32 {
        // Upwards, as the shaper reports it; krilla's own shaping passes it the same way.
        self.dy * size
    }
    fn y_advance(&self, _size: f32) -> f32 {
        0.0
    }
    fn location(&self) -> Option<krilla::surface::Location> {
        self.loc
    }
}

/// Right-to-left text is drawn in visual order, and text extraction (poppler, pdf.js,
/// Acrobat) turns a line's right-to-left characters back into logical order by
/// reversing them. A glyph that stands for several characters (a lam-alef ligature, a
/// letter with its vowel mark) would come out with its characters reversed too, so its
/// mapping is given in visual order: the reversed text is appended and the glyph
/// points at it.
fn rtl_clusters_reversed(glyphs: &mut [EmGlyph], text: &mut String) {
    use unicode_bidi::{BidiClass, bidi_class};
    for g in glyphs {
        let cluster = &text[g.range.clone()];
        let mut chars = cluster.chars();
        let (Some(first), Some(_)) = (chars.next(), chars.next()) else {
            continue;
        };
        if !matches!(bidi_class(first), BidiClass::R | BidiClass::AL) {
            continue;
        }
        let reversed: String = cluster.chars().rev().collect();
        let start = text.len();
        text.push_str(&reversed);
        g.range = start..text.len();
    }
}

fn fill(c: Color) -> Fill {
    Fill {
        paint: krilla::color::rgb::Color::new(c.r, c.g, c.b).into(),
        opacity: NormalizedF32::new(f32::from(c.a) / 255.0).unwrap_or(NormalizedF32::ONE),
        rule: FillRule::NonZero,
    }
}

fn stroke(c: Color, width: f32) -> Stroke {
    Stroke {
        paint: krilla::color::rgb::Color::new(c.r, c.g, c.b).into(),
        width,
        opacity: NormalizedF32::new(f32::from(c.a) / 255.0).unwrap_or(NormalizedF32::ONE),
        ..Stroke::default()
    }
}

fn krect(r: Rect) -> Option<KRect> {
    KRect::from_xywh(r.x, r.y, r.width.max(0.001), r.height.max(0.001))
}

/// The pen of an unfilled rectangle or a line.
fn stroke_of(item: &Item) -> Option<(Color, f32)> {
    match item {
        Item::Rect(RectItem {
            fill: None, stroke, ..
        }) => *stroke,
        Item::Line(l) => Some((l.color, l.width)),
        _ => None,
    }
}

/// Snaps glyph advances so that every deviation from a glyph's own width (kerning,
/// justification, the gap between table cells) is a whole number of thousandths of an
/// em: PDF writes those deviations as numbers, and whole ones are shorter and compress
/// better. Each glyph's position stays within 1/2000 em of the layout's, since the
/// rounding follows the exact running position instead of adding up errors.
fn quantize(glyphs: &mut [EmGlyph], face: &ttf_parser::Face) {
    let upem = f32::from(face.units_per_em());
    let (mut exact, mut placed) = (0.0f64, 0.0f64);
    for g in glyphs {
        let nominal = face
            .glyph_hor_advance(ttf_parser::GlyphId(g.id))
            .map_or(f64::from(g.advance), |a| f64::from(a) / f64::from(upem));
        exact += f64::from(g.advance);
        let thousandths = ((placed + nominal - exact) * 1000.0).round();
        let advance = nominal - thousandths / 1000.0;
        g.advance = advance as f32;
        placed += advance;
    }
}

type Segment = ((f32, f32), (f32, f32));

fn add_segments(out: &mut Vec<Segment>, item: &Item) {
    match item {
        Item::Rect(r) => {
            let (x0, y0, x1, y1) = (r.rect.x, r.rect.y, r.rect.right(), r.rect.bottom());
            out.extend([
                ((x0, y0), (x1, y0)),
                ((x1, y0), (x1, y1)),
                ((x0, y1), (x1, y1)),
                ((x0, y0), (x0, y1)),
            ]);
        }
        Item::Line(l) => out.push(((l.from.x, l.from.y), (l.to.x, l.to.y))),
        _ => {}
    }
}

/// Joins horizontal and vertical segments that touch or overlap on the same line,
/// and drops duplicates; others pass through.
fn merge_segments(segments: Vec<Segment>) -> Vec<Segment> {
    let key = |v: f32| (v * 100.0).round() as i64;
    let mut horizontal: Vec<(i64, f32, f32)> = Vec::new();
    let mut vertical: Vec<(i64, f32, f32)> = Vec::new();
    let mut out = Vec::new();
    for ((x0, y0), (x1, y1)) in segments {
        if key(y0) == key(y1) {
            horizontal.push((key(y0), x0.min(x1), x0.max(x1)));
        } else if key(x0) == key(x1) {
            vertical.push((key(x0), y0.min(y1), y0.max(y1)));
        } else {
            out.push(((x0, y0), (x1, y1)));
        }
    }
    for (lines, is_h) in [(horizontal, true), (vertical, false)] {
        let mut lines = lines;
        lines.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut cur: Option<(i64, f32, f32)> = None;
        let flush = |c: (i64, f32, f32), out: &mut Vec<Segment>| {
            let at = c.0 as f32 / 100.0;
            out.push(if is_h {
                ((c.1, at), (c.2, at))
            } else {
                ((at, c.1), (at, c.2))
            });
        };
        for l in lines {
            cur = match cur {
                Some(c) if c.0 == l.0 && l.1 <= c.2 + 0.01 => Some((c.0, c.1, c.2.max(l.2))),
                Some(c) => {
                    flush(c, &mut out);
                    Some(l)
                }
                None => Some(l),
            };
        }
        if let Some(c) = cur {
            flush(c, &mut out);
        }
    }
    out
}

struct Images {
    /// By image and the size it was resampled to (`None`: as it is).
    raster: HashMap<RasterKey, Option<krilla::image::Image>>,
}

/// An image's index and the pixel size it was resampled to, if it was.
type RasterKey = (usize, Option<(u32, u32)>);

/// Writes a laid-out document as PDF.
///
/// # Errors
/// A font krilla cannot embed, a PDF limit exceeded, or what a requested standard
/// forbids.
pub fn pdf(
    doc: &PagedDocument,
    fonts: &FontBook,
    options: &PdfOptions,
) -> Result<Vec<u8>, Diagnostics> {
    let mut writer = PdfWriter::new(fonts, options);
    for page in &doc.pages {
        writer.page(page, &doc.images, &doc.anchors)?;
    }
    writer.finish_with(&doc.outline, &doc.metadata, &doc.structure)
}

/// A marked-content identifier and the structure node it belongs to, in reading order.
struct Tagged {
    node: NodeId,
    id: krilla::tagging::Identifier,
    /// A link annotation rather than page content.
    annotation: bool,
}

/// Writes a PDF one page at a time, for pages coming from
/// [`layout_pages`](crate::layout::layout_pages): a page can be dropped as soon as it
/// is written.
pub struct PdfWriter<'f> {
    document: Document,
    fonts: &'f FontBook,
    faces: HashMap<FontId, Option<ttf_parser::Face<'f>>>,
    font_cache: HashMap<FontId, Option<Font>>,
    images: Images,
    problems: Vec<Diagnostic>,
    /// Tagged content so far, when tagging.
    tagged: Option<Vec<Tagged>>,
    standards: Vec<PdfStandard>,
    image_dpi: Option<f32>,
    /// Keys of images drawn, by structure node, for diagnostics.
    figure_images: HashMap<NodeId, usize>,
    image_keys: HashMap<usize, String>,
}

impl<'f> PdfWriter<'f> {
    /// A writer with no pages yet.
    pub fn new(fonts: &'f FontBook, options: &PdfOptions) -> Self {
        let mut problems = Vec::new();
        let mut builder = krilla::configure::ConfigurationBuilder::new();
        for s in &options.standards {
            builder = builder.set_validator(validator(*s));
        }
        let configuration = builder.finish().unwrap_or_else(|_| {
            problems.push(Diagnostic::error(
                "",
                format!(
                    "the standards {} cannot be combined",
                    options
                        .standards
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            krilla::configure::Configuration::default()
        });
        let tagged = options.tagged || options.standards.iter().any(|s| s.needs_tagging());
        let settings = krilla::SerializeSettings {
            compress_content_streams: options.compress,
            enable_tagging: tagged,
            ascii_compatible: !options.compress,
            configuration,
            ..krilla::SerializeSettings::default()
        };
        PdfWriter {
            document: Document::new_with(settings),
            fonts,
            faces: HashMap::new(),
            font_cache: HashMap::new(),
            images: Images {
                raster: HashMap::new(),
            },
            problems,
            tagged: tagged.then(Vec::new),
            standards: options.standards.clone(),
            image_dpi: options.image_dpi,
            figure_images: HashMap::new(),
            image_keys: HashMap::new(),
        }
    }

    /// Writes one page. `images` are the images its items refer to by index, and
    /// `anchors` where links to anchors go.
    ///
    /// # Errors
    /// A page size PDF cannot hold.
    pub fn page(
        &mut self,
        page: &Page,
        images: &[ImageData],
        anchors: &BTreeMap<String, Location>,
    ) -> Result<(), Diagnostics> {
        let settings =
            PageSettings::from_wh(page.size.width, page.size.height).ok_or_else(|| {
                Diagnostics::from(Diagnostic::error("/page/size", "invalid page size"))
            })?;
        let mut kpage = self.document.start_page_with(settings);
        let mut links = Vec::new();
        // The text of each link on the page, which describes its annotation.
        let mut link_text: HashMap<NodeId, String> = HashMap::new();
        if self.tagged.is_some() {
            for item in &page.items {
                if let Item::Link(l) = item
                    && let Mark::Node(n) = l.mark
                {
                    link_text.insert(n, String::new());
                }
            }
        }
        {
            let mut surface = kpage.surface();
            let mut painter = Painter {
                image_data: images,
                fonts: self.fonts,
                faces: &mut self.faces,
                font_cache: &mut self.font_cache,
                images: &mut self.images,
                links: &mut links,
                problems: &mut self.problems,
                tagged: self.tagged.as_mut(),
                open: None,
                suspended: false,
                link_text: &mut link_text,
                archival: self.standards.iter().any(|s| s.is_archival()),
                image_dpi: self.image_dpi,
                figure_images: &mut self.figure_images,
                image_keys: &mut self.image_keys,
            };
            painter.draw(&mut surface, &page.items);
            painter.close(&mut surface);
            surface.finish();
        }
        for (rect, target, mark) in links {
            let Some(r) = krect(rect) else { continue };
            let alt = match (mark, &target) {
                (Mark::Node(n), _) if link_text.get(&n).is_some_and(|t| !t.trim().is_empty()) => {
                    link_text[&n].trim().to_string()
                }
                (_, LinkTarget::Url(url)) => url.clone(),
                (_, LinkTarget::Anchor(a)) => format!("#{a}"),
            };
            let target = match target {
                LinkTarget::Url(url) => Target::Action(Action::Link(LinkAction::new(url))),
                LinkTarget::Anchor(name) => match anchors.get(&name) {
                    Some(loc) => Target::Destination(Destination::Xyz(XyzDestination::new(
                        loc.page,
                        KPoint::from_xy(loc.point.x, loc.point.y),
                    ))),
                    None => continue,
                },
            };
            let annotation = Annotation::new_link(LinkAnnotation::new(r, target), Some(alt));
            match (&mut self.tagged, mark) {
                (Some(tagged), Mark::Node(node)) => {
                    let id = kpage.add_tagged_annotation(annotation);
                    tagged.push(Tagged {
                        node,
                        id,
                        annotation: true,
                    });
                }
                _ => kpage.add_annotation(annotation),
            }
        }
        kpage.finish();
        Ok(())
    }

    /// Adds the outline and metadata and returns the file, untagged content only; see
    /// [`PdfWriter::finish_with`].
    ///
    /// # Errors
    /// As [`PdfWriter::finish_with`].
    pub fn finish(
        self,
        outline_entries: &[OutlineEntry],
        m: &crate::model::Metadata,
    ) -> Result<Vec<u8>, Diagnostics> {
        self.finish_with(outline_entries, m, &Structure::default())
    }

    /// Adds the outline, metadata and the structure tree (from `structure`, the tree the
    /// pages' marks refer to) and returns the file.
    ///
    /// # Errors
    /// A font krilla cannot embed, an image that cannot be decoded, a PDF limit
    /// exceeded, or what a requested standard forbids, each saying where.
    pub fn finish_with(
        self,
        outline_entries: &[OutlineEntry],
        m: &crate::model::Metadata,
        structure: &Structure,
    ) -> Result<Vec<u8>, Diagnostics> {
        let PdfWriter {
            mut document,
            problems,
            tagged,
            standards,
            figure_images,
            image_keys,
            ..
        } = self;
        // Outline: nest each heading under the nearest earlier one of a lower level.
        if !outline_entries.is_empty() {
            let mut outline = Outline::new();
            let mut stack: Vec<(u8, OutlineNode)> = Vec::new();
            fn close(stack: &mut Vec<(u8, OutlineNode)>, outline: &mut Outline, level: u8) {
                while stack.last().is_some_and(|(l, _)| *l >= level) {
                    let (_, node) = stack.pop().expect("checked");
                    match stack.last_mut() {
                        Some((_, parent)) => parent.push_child(node),
                        None => outline.push_child(node),
                    }
                }
            }
            for e in outline_entries {
                close(&mut stack, &mut outline, e.level);
                let dest = XyzDestination::new(
                    e.location.page,
                    KPoint::from_xy(e.location.point.x, e.location.point.y),
                );
                stack.push((e.level, OutlineNode::new(e.title.clone(), dest)));
            }
            close(&mut stack, &mut outline, 0);
            document.set_outline(outline);
        }

        let mut meta = Metadata::new().creator("ODE".into());
        if let Some(t) = &m.title {
            meta = meta.title(t.clone());
        }
        if let Some(a) = &m.author {
            meta = meta.authors(vec![a.clone()]);
        }
        if let Some(s) = &m.subject {
            meta = meta.description(s.clone());
        }
        if !m.keywords.is_empty() {
            meta = meta.keywords(m.keywords.clone());
        }
        if let Some(l) = &m.language {
            meta = meta.language(l.clone());
        }
        if let Some((y, mo, d, time)) = m
            .created
            .as_deref()
            .and_then(crate::model::decode::parse_date)
        {
            let mut dt = DateTime::new(y).month(mo).day(d);
            if let Some((h, mi, s)) = time {
                dt = dt
                    .hour(h)
                    .minute(mi)
                    .second(s)
                    .utc_offset_hour(0)
                    .utc_offset_minute(0);
            }
            meta = meta.creation_date(dt);
        }
        document.set_metadata(meta);

        if let Some(tagged) = tagged {
            let archival = standards
                .iter()
                .find(|s| s.is_archival())
                .copied()
                .map(validator);
            let old_pdf = matches!(
                archival,
                Some(krilla::configure::Validator::A(
                    krilla::configure::Archival::A1_A | krilla::configure::Archival::A1_B
                ))
            );
            let tree = tag_tree(tagged, structure, old_pdf).with_lang(m.language.clone());
            document.set_tag_tree(tree);
        }

        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        let explain = Explain {
            structure,
            figure_images: &figure_images,
            image_keys: &image_keys,
        };
        document.finish().map_err(|e| explain.error(e))
    }
}

/// Builds krilla's tag tree: each node holds its content and child nodes in the order
/// they were drawn, which is the content order. A node enters its parent when its
/// first content is met, so nodes without content are left out.
fn tag_tree(tagged: Vec<Tagged>, structure: &Structure, old_pdf: bool) -> krilla::tagging::TagTree {
    use krilla::tagging::{Node as KNode, TagGroup, TagTree};
    enum Child {
        Node(usize),
        Leaf(krilla::tagging::Identifier),
        Annotation(krilla::tagging::Identifier),
    }
    let n = structure.nodes.len();
    let mut children: Vec<Vec<Child>> = (0..n).map(|_| Vec::new()).collect();
    let mut registered = vec![false; n];
    let mut root: Vec<Child> = Vec::new();
    for t in tagged {
        let node = t.node.0 as usize;
        let leaf = if t.annotation {
            Child::Annotation(t.id)
        } else {
            Child::Leaf(t.id)
        };
        if node >= n {
            // Marks without a structure (should not happen): still in the tree, as
            // every identifier must be.
            root.push(leaf);
            continue;
        }
        let mut c = node;
        while !registered[c] {
            registered[c] = true;
            match structure.nodes[c].parent.map(|p| p.0 as usize) {
                // Parents are made before their children; anything else is ignored
                // rather than followed into a cycle.
                Some(p) if p < c => {
                    children[p].push(Child::Node(c));
                    c = p;
                }
                _ => {
                    root.push(Child::Node(c));
                    break;
                }
            }
        }
        children[node].push(leaf);
    }
    // Children have larger ids than their parents: build from the last node back.
    let mut built: Vec<Option<Vec<KNode>>> = (0..n).map(|_| None).collect();
    let take = |children: Vec<Child>, built: &mut Vec<Option<Vec<KNode>>>| {
        let mut annotations = Vec::new();
        let mut out = Vec::new();
        for c in children {
            match c {
                Child::Node(k) => {
                    if let Some(nodes) = built[k].take() {
                        out.extend(nodes);
                    }
                }
                Child::Leaf(id) => out.push(KNode::Leaf(id)),
                Child::Annotation(id) => annotations.push(KNode::Leaf(id)),
            }
        }
        // A link's annotation comes first, then the content it covers.
        annotations.extend(out);
        annotations
    };
    for k in (0..n).rev() {
        if !registered[k] {
            continue;
        }
        let kids = take(std::mem::take(&mut children[k]), &mut built);
        let node = &structure.nodes[k];
        let loc = Some(location(AT_NODE, k as u64));
        use krilla::tagging::{ListNumbering, TableHeaderScope, Tag};
        let tag: Option<krilla::tagging::TagKind> = match &node.kind {
            NodeKind::Heading { level, title } => Some(
                Tag::Hn(
                    NonZeroU16::new(u16::from((*level).clamp(1, 6))).unwrap_or(NonZeroU16::MIN),
                    Some(title.clone()),
                )
                .into(),
            ),
            NodeKind::Paragraph => Some(Tag::P.into()),
            NodeKind::List { marker } => {
                use crate::model::ListMarker as M;
                let numbering = match marker {
                    M::Disc | M::Dash => ListNumbering::Disc,
                    M::Circle => ListNumbering::Circle,
                    M::Square => ListNumbering::Square,
                    M::Decimal => ListNumbering::Decimal,
                    M::LowerAlpha => ListNumbering::LowerAlpha,
                    M::UpperAlpha => ListNumbering::UpperAlpha,
                    M::LowerRoman => ListNumbering::LowerRoman,
                    M::UpperRoman => ListNumbering::UpperRoman,
                };
                Some(Tag::L(numbering).into())
            }
            NodeKind::ListItem => Some(Tag::LI.into()),
            NodeKind::ListLabel => Some(Tag::Lbl.into()),
            NodeKind::ListBody => Some(Tag::LBody.into()),
            NodeKind::Table => Some(Tag::Table.into()),
            // Row groups need PDF 1.5; in older files the rows go straight into the table.
            NodeKind::TableHead | NodeKind::TableBody if old_pdf => None,
            NodeKind::TableHead => Some(Tag::THead.into()),
            NodeKind::TableBody => Some(Tag::TBody.into()),
            NodeKind::TableRow => Some(Tag::TR.into()),
            NodeKind::TableCell {
                header,
                colspan,
                rowspan,
            } => {
                let span = |v: u32| NonZeroU32::new(v).filter(|v| v.get() > 1);
                if *header {
                    Some(
                        Tag::TH(TableHeaderScope::Column)
                            .with_col_span(span(*colspan))
                            .with_row_span(span(*rowspan))
                            .into(),
                    )
                } else {
                    Some(
                        Tag::TD
                            .with_col_span(span(*colspan))
                            .with_row_span(span(*rowspan))
                            .into(),
                    )
                }
            }
            NodeKind::Figure { alt } => Some(Tag::Figure(alt.clone()).into()),
            NodeKind::Link => Some(Tag::Link.into()),
            NodeKind::Note => Some(Tag::Note.into()),
            NodeKind::Toc => Some(Tag::TOC.into()),
            NodeKind::TocItem => Some(Tag::TOCI.into()),
        };
        built[k] = Some(match tag {
            Some(tag) => vec![KNode::Group(TagGroup::with_children(
                tag.with_location(loc),
                kids,
            ))],
            None => kids,
        });
    }
    let mut tree = TagTree::new();
    for node in take(root, &mut built) {
        tree.push(node);
    }
    tree
}

/// Turns krilla's errors into diagnostics that say what and where.
struct Explain<'a> {
    structure: &'a Structure,
    figure_images: &'a HashMap<NodeId, usize>,
    image_keys: &'a HashMap<usize, String>,
}

impl Explain<'_> {
    /// The JSON path and a description of what a location points at.
    fn place(&self, loc: Option<krilla::surface::Location>) -> (String, String) {
        let Some(loc) = loc.map(NonZeroU64::get) else {
            return (String::new(), "the document".into());
        };
        let (kind, value) = (loc & !(AT_NODE - 1), loc & (AT_NODE - 1));
        let image = |i: usize| match self.image_keys.get(&i) {
            Some(key) => format!("the image \"{key}\""),
            None => "an image".into(),
        };
        match kind {
            AT_NODE => {
                let id = NodeId(value as u32);
                let Some(node) = self.structure.get(id) else {
                    return (String::new(), "the content".into());
                };
                let what = match &node.kind {
                    NodeKind::Heading { .. } => "the heading".to_string(),
                    NodeKind::Paragraph => "the paragraph".into(),
                    NodeKind::List { .. } => "the list".into(),
                    NodeKind::ListItem | NodeKind::ListLabel | NodeKind::ListBody => {
                        "the list item".into()
                    }
                    NodeKind::Table | NodeKind::TableHead | NodeKind::TableBody => {
                        "the table".into()
                    }
                    NodeKind::TableRow => "the table row".into(),
                    NodeKind::TableCell { .. } => "the table cell".into(),
                    NodeKind::Figure { .. } => match self.figure_images.get(&id) {
                        Some(i) => image(*i),
                        None => "the image".into(),
                    },
                    NodeKind::Link => "the link".into(),
                    NodeKind::Note => "the footnote".into(),
                    NodeKind::Toc | NodeKind::TocItem => "the table of contents".into(),
                };
                (node.path.to_string(), what)
            }
            AT_IMAGE => (String::new(), image(value as usize)),
            AT_ARTIFACT => match value {
                1 => ("/header".into(), "the header".into()),
                2 => ("/footer".into(), "the footer".into()),
                3 => ("/watermark".into(), "the watermark".into()),
                4 => ("/page/background".into(), "the page background".into()),
                _ => (String::new(), "decoration".into()),
            },
            _ => (String::new(), "the document".into()),
        }
    }

    fn error(&self, e: krilla::error::KrillaError) -> Diagnostics {
        use krilla::configure::ValidationError as V;
        use krilla::error::KrillaError;
        let KrillaError::Validation(errors) = e else {
            return Diagnostics::from(Diagnostic::error(
                "",
                format!("the PDF could not be written: {e}"),
            ));
        };
        let mut out: Vec<Diagnostic> = Vec::new();
        for (error, validators) in errors {
            let std = validators
                .into_iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" and ");
            let d = match &error {
                V::Transparency(loc) => {
                    let (at, what) = self.place(*loc);
                    Diagnostic::error(
                        at,
                        format!("{std} forbids transparency, but {what} is transparent"),
                    )
                    .with_hint("remove the opacity or color alpha, or choose PDF/A-2 or later")
                }
                V::ContainsNotDefGlyph(_, loc, text) => {
                    let (at, what) = self.place(*loc);
                    Diagnostic::error(
                        at,
                        format!(
                            "{std} forbids characters that no font has, but {what} shows \"{text}\""
                        ),
                    )
                    .with_hint("add a font that has them")
                }
                V::NoCodepointMapping(_, _, loc)
                | V::InvalidCodepointMapping(_, _, _, loc)
                | V::UnicodePrivateArea(_, _, _, loc) => {
                    let (at, what) = self.place(*loc);
                    Diagnostic::error(
                        at,
                        format!(
                            "{std} needs the text of every glyph, but {what} shows a glyph without text or with a private-use character"
                        ),
                    )
                }
                V::RestrictedLicense(_) => Diagnostic::error(
                    "",
                    format!("{std} forbids fonts whose license restricts embedding"),
                ),
                V::NoDocumentLanguage => Diagnostic::error(
                    "/metadata/language",
                    format!("{std} needs the document's language"),
                )
                .with_hint("set \"language\" in \"metadata\", for example \"en\""),
                V::NoDocumentTitle => {
                    Diagnostic::error("/metadata/title", format!("{std} needs a document title"))
                        .with_hint("set \"title\" in \"metadata\"")
                }
                V::MissingAltText(loc) => {
                    let (at, what) = self.place(*loc);
                    Diagnostic::error(
                        at,
                        format!(
                            "{std} needs alternative text for every image, but {what} has none"
                        ),
                    )
                    .with_hint("add \"alt\" saying what the image shows")
                }
                V::MissingHeadingTitle => {
                    Diagnostic::error("", format!("{std} needs a text in every heading"))
                }
                V::MissingDocumentOutline => Diagnostic::error(
                    "/content",
                    format!("{std} needs an outline, but the document has no headings in it"),
                )
                .with_hint("add headings (and leave their \"outline\" on)"),
                V::MissingAnnotationAltText(loc) => {
                    let (at, what) = self.place(*loc);
                    Diagnostic::error(at, format!("{std} needs a description of {what}"))
                }
                V::MissingDocumentDate => Diagnostic::error(
                    "/metadata/created",
                    format!("{std} needs the document's creation date"),
                )
                .with_hint("set \"created\" in \"metadata\", for example \"2025-01-31\""),
                V::MissingTagging => {
                    Diagnostic::error("/pdf/tagged", format!("{std} needs a tagged PDF"))
                        .with_hint("remove \"tagged\": false")
                }
                V::ImageInterpolation(loc) | V::EmbeddedPDF(loc) | V::ContainsPostScript(loc) => {
                    let (at, what) = self.place(*loc);
                    Diagnostic::error(at, format!("{std} forbids what {what} uses ({error:?})"))
                }
                V::RequiresNewerPdfVersion(feature, loc) => {
                    let (at, what) = self.place(*loc);
                    Diagnostic::error(
                        at,
                        format!("{std} is too old a PDF version for {feature:?}, used by {what}"),
                    )
                }
                other => Diagnostic::error("", format!("{std} forbids this PDF: {other:?}")),
            };
            if !out
                .iter()
                .any(|o| o.message == d.message && o.span == d.span)
            {
                out.push(d);
            }
        }
        Diagnostics(out)
    }
}

/// Draws items on a page's surface, marking content for the structure tree.
struct Painter<'a, 'f> {
    image_data: &'a [ImageData],
    fonts: &'f FontBook,
    faces: &'a mut HashMap<FontId, Option<ttf_parser::Face<'f>>>,
    font_cache: &'a mut HashMap<FontId, Option<Font>>,
    images: &'a mut Images,
    links: &'a mut Vec<(Rect, LinkTarget, Mark)>,
    problems: &'a mut Vec<Diagnostic>,
    /// Where content identifiers go, when tagging.
    tagged: Option<&'a mut Vec<Tagged>>,
    /// The marked-content sequence open on the surface: its mark and whether it is an
    /// image.
    open: Option<(Mark, bool)>,
    /// Inside a group that is marked as a whole.
    suspended: bool,
    link_text: &'a mut HashMap<NodeId, String>,
    /// Images are not interpolated in PDF/A.
    archival: bool,
    /// See [`PdfOptions::image_dpi`].
    image_dpi: Option<f32>,
    figure_images: &'a mut HashMap<NodeId, usize>,
    image_keys: &'a mut HashMap<usize, String>,
}

impl Painter<'_, '_> {
    /// Makes sure what is drawn next is marked as `mark` (`image`: as an image rather
    /// than text or decoration).
    fn mark(&mut self, surface: &mut Surface, mark: Mark, image: bool) {
        if self.suspended {
            return;
        }
        surface.set_location(mark_location(mark));
        let Some(tagged) = self.tagged.as_deref_mut() else {
            return;
        };
        if self.open == Some((mark, image)) {
            return;
        }
        if self.open.take().is_some() {
            surface.end_tagged();
        }
        use krilla::tagging::{Artifact, ArtifactType, ContentTag, SpanTag};
        match mark {
            Mark::Node(node) => {
                let tag = if image {
                    ContentTag::Other
                } else {
                    ContentTag::Span(SpanTag::empty())
                };
                let id = surface.start_tagged(tag);
                tagged.push(Tagged {
                    node,
                    id,
                    annotation: false,
                });
            }
            Mark::Artifact(kind) => {
                let kind = match kind {
                    ArtifactKind::Header => ArtifactType::Header,
                    ArtifactKind::Footer => ArtifactType::Footer,
                    ArtifactKind::Watermark => ArtifactType::Watermark,
                    ArtifactKind::Pagination => ArtifactType::PaginationOther,
                    ArtifactKind::Layout | ArtifactKind::Background => ArtifactType::Layout,
                };
                surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(kind)));
            }
        }
        self.open = Some((mark, image));
    }

    /// Ends the open marked-content sequence.
    fn close(&mut self, surface: &mut Surface) {
        if self.open.take().is_some() {
            surface.end_tagged();
        }
    }

    fn draw(&mut self, surface: &mut Surface, items: &[Item]) {
        let items = crate::frame::painting_order(items);
        let mut i = 0;
        while i < items.len() {
            let item = items[i];
            i += 1;
            match item {
                Item::Text(t) => {
                    let font = self
                        .font_cache
                        .entry(t.font)
                        .or_insert_with(|| {
                            let face = self.fonts.face(t.font);
                            Font::new(face.data.to_krilla(), face.index)
                        })
                        .clone();
                    let Some(font) = font else {
                        let face = self.fonts.face(t.font);
                        let msg = format!("font \"{}\" cannot be embedded in a PDF", face.family);
                        if !self.problems.iter().any(|p| p.message == msg) {
                            self.problems.push(Diagnostic::error("", msg));
                        }
                        continue;
                    };
                    // Runs that continue on the same baseline in the same font, size,
                    // color and structure (the cells of a table row, the pieces of a
                    // line) become one text object: the gap goes into the previous
                    // glyph's advance. This keeps content streams small; positions do
                    // not change.
                    let mut glyphs: Vec<EmGlyph> = t
                        .glyphs
                        .iter()
                        .map(|g| EmGlyph::from_glyph(g, t.size))
                        .collect();
                    let mut text = t.text.clone();
                    let mut end = t.origin.x + t.width();
                    while let Some(Item::Text(n)) = items.get(i).copied() {
                        let gap = n.origin.x - end;
                        if n.font != t.font
                            || n.size != t.size
                            || n.color != t.color
                            || n.mark != t.mark
                            || (n.origin.y - t.origin.y).abs() > 1e-3
                            || gap < -0.01
                            || glyphs.is_empty()
                        {
                            break;
                        }
                        if let Some(last) = glyphs.last_mut() {
                            last.advance += gap / t.size;
                        }
                        let base = text.len();
                        text.push_str(&n.text);
                        glyphs.extend(n.glyphs.iter().map(|g| {
                            let mut e = EmGlyph::from_glyph(g, t.size);
                            e.range = e.range.start + base..e.range.end + base;
                            e
                        }));
                        end = n.origin.x + n.width();
                        i += 1;
                    }
                    // krilla slices the text by these ranges: keep them inside it and on
                    // character boundaries whatever the frames say.
                    for g in &mut glyphs {
                        let ok = g.range.start <= g.range.end
                            && g.range.end <= text.len()
                            && text.is_char_boundary(g.range.start)
                            && text.is_char_boundary(g.range.end);
                        if !ok {
                            g.range = 0..0;
                        }
                    }
                    let fonts = self.fonts;
                    if let Some(face) = self.faces.entry(t.font).or_insert_with(|| {
                        let f = fonts.face(t.font);
                        ttf_parser::Face::parse(f.data.as_slice(), f.index).ok()
                    }) {
                        // A line that ends inside an element without a space or hyphen
                        // ends a word: a space glyph says so, so that text taken from
                        // the structure (by a screen reader) does not run words
                        // together. It is invisible and nothing follows it.
                        if self.tagged.is_some()
                            && let Mark::Node(_) = t.mark
                            && let Some(Item::Text(next)) =
                                items[i..].iter().find(|n| matches!(n, Item::Text(_)))
                            && next.mark == t.mark
                            && (next.origin.y - t.origin.y).abs() > 1e-3
                            && text.chars().last().is_some_and(|c| {
                                !c.is_whitespace()
                                    && !matches!(c, '-' | '\u{ad}' | '\u{2010}')
                                    && c < '\u{2e80}'
                            })
                            && let Some(space) = face.glyph_index(' ')
                        {
                            let start = text.len();
                            text.push(' ');
                            glyphs.push(EmGlyph {
                                id: space.0,
                                advance: 0.0,
                                dx: 0.0,
                                dy: 0.0,
                                range: start..text.len(),
                                loc: None,
                            });
                        }
                        quantize(&mut glyphs, face);
                    }
                    if let Mark::Node(n) = t.mark
                        && let Some(s) = self.link_text.get_mut(&n)
                    {
                        s.push_str(&text);
                    }
                    rtl_clusters_reversed(&mut glyphs, &mut text);
                    let loc = Some(mark_location(t.mark));
                    glyphs.iter_mut().for_each(|g| g.loc = loc);
                    self.mark(surface, t.mark, false);
                    surface.set_fill(Some(fill(t.color)));
                    surface.set_stroke(None);
                    surface.draw_glyphs(
                        KPoint::from_xy(t.origin.x, t.origin.y),
                        &glyphs,
                        font,
                        &text,
                        t.size,
                        false,
                    );
                }
                Item::Rect(RectItem { fill: Some(_), .. }) => {
                    let Item::Rect(r) = item else {
                        unreachable!("matched a rect")
                    };
                    let mut pb = PathBuilder::new();
                    let Some(kr) = krect(r.rect) else { continue };
                    pb.push_rect(kr);
                    let Some(path) = pb.finish() else { continue };
                    self.mark(surface, item.mark(), false);
                    surface.set_fill(r.fill.map(fill));
                    surface.set_stroke(r.stroke.map(|(c, w)| stroke(c, w)));
                    surface.draw_path(&path);
                }
                Item::Rect(_) | Item::Line(_) => {
                    // Consecutive outlines and lines with the same pen become one path,
                    // in which the edges of table cells are joined into whole grid lines.
                    let Some(pen) = stroke_of(item) else { continue };
                    let mut segments = Vec::new();
                    add_segments(&mut segments, item);
                    while let Some(next) = items.get(i) {
                        if stroke_of(next) != Some(pen) {
                            break;
                        }
                        add_segments(&mut segments, next);
                        i += 1;
                    }
                    let mut pb = PathBuilder::new();
                    for (a, b) in merge_segments(segments) {
                        pb.move_to(a.0, a.1);
                        pb.line_to(b.0, b.1);
                    }
                    let Some(path) = pb.finish() else { continue };
                    self.mark(surface, item.mark(), false);
                    surface.set_fill(None);
                    // Square caps close the corners where joined edges meet.
                    surface.set_stroke(Some(Stroke {
                        line_cap: LineCap::Square,
                        ..stroke(pen.0, pen.1)
                    }));
                    surface.draw_path(&path);
                }
                Item::Image(img) => self.image(surface, img),
                Item::Link(l) => self.links.push((l.rect, l.target.clone(), l.mark)),
                Item::Group(g) => {
                    // A group is marked as a whole, outside its transform and opacity.
                    self.mark(surface, g.mark, false);
                    let t = g.transform;
                    surface.push_transform(&KTransform::from_row(t.a, t.b, t.c, t.d, t.e, t.f));
                    let opacity =
                        NormalizedF32::new(g.opacity.clamp(0.0, 1.0)).unwrap_or(NormalizedF32::ONE);
                    surface.push_opacity(opacity);
                    let suspended = std::mem::replace(&mut self.suspended, true);
                    self.draw(surface, &g.items);
                    self.suspended = suspended;
                    surface.pop();
                    surface.pop();
                }
            }
        }
    }

    fn image(&mut self, surface: &mut Surface, img: &crate::frame::ImageItem) {
        let Some(data) = self.image_data.get(img.image) else {
            return;
        };
        self.image_keys
            .entry(img.image)
            .or_insert_with(|| data.key.clone());
        if let Mark::Node(n) = img.mark {
            self.figure_images.entry(n).or_insert(img.image);
        }
        // Marked on its own, outside its clip and transform.
        self.mark(surface, img.mark, true);
        if img.mark.node().is_none() {
            surface.set_location(location(AT_IMAGE, img.image as u64));
        }
        let clip = img.clip.and_then(krect).and_then(|r| {
            let mut pb = PathBuilder::new();
            pb.push_rect(r);
            pb.finish()
        });
        if let Some(path) = &clip {
            surface.push_clip_path(path, &FillRule::NonZero);
        }
        surface.push_transform(&KTransform::from_translate(img.rect.x, img.rect.y));
        let size = KSize::from_wh(img.rect.width.max(0.001), img.rect.height.max(0.001));
        let interpolate = !self.archival;
        match data.format {
            ImageFormat::Png | ImageFormat::Jpeg => {
                let pixels = (data.size.width as u32, data.size.height as u32);
                let shown = (img.rect.width, img.rect.height);
                let want = self
                    .image_dpi
                    .and_then(|dpi| raster::target(pixels, shown, dpi));
                let image = self
                    .images
                    .raster
                    .entry((img.image, want))
                    .or_insert_with(|| {
                        use krilla::image::Image;
                        let resampled = want.and_then(|s| {
                            raster::resample(data.bytes.as_slice(), data.format, s).ok()
                        });
                        match resampled {
                            Some(raster::Resampled::Jpeg(b)) => {
                                Image::from_jpeg(Bytes::from(b).to_krilla(), interpolate).ok()
                            }
                            Some(raster::Resampled::Pixels(p)) => {
                                Image::from_custom(p, interpolate).ok()
                            }
                            None if data.format == ImageFormat::Png => {
                                Image::from_png(data.bytes.to_krilla(), interpolate).ok()
                            }
                            None => Image::from_jpeg(data.bytes.to_krilla(), interpolate).ok(),
                        }
                    })
                    .clone();
                match (image, size) {
                    (Some(image), Some(size)) => surface.draw_image(image, size),
                    _ => self.problems.push(Diagnostic::error(
                        "",
                        format!("image \"{}\" could not be decoded", data.key),
                    )),
                }
            }
            ImageFormat::Svg => match (data.svg.as_deref(), size) {
                (Some(tree), Some(size)) => {
                    surface.draw_svg(tree, size, SvgSettings::default());
                }
                _ => self.problems.push(Diagnostic::error(
                    "",
                    format!("image \"{}\" could not be decoded", data.key),
                )),
            },
        }
        surface.pop();
        if clip.is_some() {
            surface.pop();
        }
        self.close(surface);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edges_of_a_grid_of_cells_join_into_whole_lines() {
        let mut segs = Vec::new();
        for row in 0..3 {
            for col in 0..2 {
                let (x, y) = (col as f32 * 10.0, row as f32 * 5.0);
                segs.extend([
                    ((x, y), (x + 10.0, y)),
                    ((x + 10.0, y), (x + 10.0, y + 5.0)),
                    ((x, y + 5.0), (x + 10.0, y + 5.0)),
                    ((x, y), (x, y + 5.0)),
                ]);
            }
        }
        let merged = merge_segments(segs);
        // 4 horizontal lines across both columns, 3 vertical lines down all rows.
        assert_eq!(merged.len(), 7, "{merged:?}");
        assert!(merged.contains(&((0.0, 0.0), (20.0, 0.0))));
        assert!(merged.contains(&((10.0, 0.0), (10.0, 15.0))));
    }

    #[test]
    fn diagonal_and_separate_segments_are_kept_apart() {
        let merged = merge_segments(vec![
            ((0.0, 0.0), (5.0, 5.0)),
            ((0.0, 1.0), (2.0, 1.0)),
            ((3.0, 1.0), (4.0, 1.0)),
        ]);
        assert_eq!(merged.len(), 3);
    }
}
