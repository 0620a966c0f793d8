//! Layout: model → pages of positioned items.
//!
//! Blocks are first laid out at the text width into a flat list of [`flow::Fragment`]s
//! (a paragraph line, a table row, an image), each knowing its height, the space above
//! it, and whether a page may break after it (widows, orphans, headings kept with what
//! follows, groups kept together). The paginator then fills pages with fragments,
//! repeats table headers, splits rows taller than a page, and finally draws headers,
//! footers, backgrounds and watermarks with the page count known.

mod code;
mod columns;
mod flow;
mod inline;
mod notes;
mod paginate;
mod style;
mod table;
mod toc;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use crate::diag::{Diagnostic, Diagnostics, Warned};
use crate::frame::{ArtifactKind, ImageData, NodeId, PagedDocument, Structure};
use crate::geom::Size;
use crate::limits::{Guard, Limits};
use crate::model::Document;
use crate::resources::Resources;
use crate::text::FontId;
use crate::text::shape::Shaper;
use style::{StyleSheet, TextStyle};

/// Per-call layout settings.
#[derive(Debug, Clone)]
pub struct LayoutOptions {
    /// Bounds on what the document may cost (pages, images).
    pub limits: Limits,
    /// Build the logical structure (for tagged PDF): items carry [`Mark`]s naming
    /// nodes of [`PagedDocument::structure`]. Off, every item is an artifact and no
    /// node is made.
    ///
    /// [`Mark`]: crate::frame::Mark
    pub structure: bool,
    /// Asked before every block and page whether to go on (see [`Guard`]).
    pub guard: Guard,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            limits: Limits::default(),
            structure: true,
            guard: Guard::default(),
        }
    }
}

/// Lays out a document into pages.
///
/// # Errors
/// Every problem that prevents output (a missing image, too many pages), together with
/// the warnings met on the way.
pub fn layout(
    doc: &Document,
    res: &dyn Resources,
    options: &LayoutOptions,
) -> Result<Warned<PagedDocument>, Diagnostics> {
    let mut pages = Vec::new();
    let summary = layout_pages(doc, res, options, &mut |page, _, _| pages.push(page))?;
    let Warned { output, warnings } = summary;
    Ok(Warned {
        output: PagedDocument {
            pages,
            outline: output.outline,
            anchors: output.anchors,
            images: output.images,
            metadata: doc.metadata.clone(),
            structure: output.structure,
        },
        warnings,
    })
}

/// What [`layout_pages`] returns besides the pages it handed on.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Number of pages.
    pub page_count: usize,
    /// Headings for the PDF outline, in document order.
    pub outline: Vec<crate::frame::OutlineEntry>,
    /// Named anchors and where they are.
    pub anchors: std::collections::BTreeMap<String, crate::frame::Location>,
    /// Every image the pages refer to.
    pub images: Vec<ImageData>,
    /// The logical structure the pages' marks refer to.
    pub structure: Structure,
}

/// Lays out a document, handing each page to `sink` as soon as it is finished, so that
/// memory does not grow with the number of pages. The sink also receives the images
/// loaded so far (pages refer to them by index) and the document's anchors, complete
/// in advance whenever the document links to them.
///
/// # Errors
/// As [`layout`]. Pages may have been handed on before an error is found.
pub fn layout_pages(
    doc: &Document,
    res: &dyn Resources,
    options: &LayoutOptions,
    sink: &mut paginate::PageSink,
) -> Result<Warned<Summary>, Diagnostics> {
    // Every text needs a face, even a fallback one: without any there is nothing to
    // lay out with.
    if res.fonts().faces().is_empty() {
        return Err(Diagnostics::from(
            Diagnostic::error("", "no fonts are available to set the text")
                .with_hint("add a font (or build with the embed-fonts feature)"),
        ));
    }
    let mut ctx = Ctx::new(doc, res);
    ctx.tagging = options.structure;
    ctx.limits = options.limits;
    ctx.guard = options.guard.clone();
    let result = paginate::run(&mut ctx, doc, options, sink);
    let diags = std::mem::take(&mut ctx.diags);
    match result {
        Some(s) if !diags.iter().any(Diagnostic::is_error) => Ok(Warned {
            output: Summary {
                page_count: s.page_count,
                outline: s.outline,
                anchors: s.anchors,
                images: std::mem::take(&mut ctx.images),
                structure: std::mem::take(&mut ctx.structure),
            },
            warnings: diags,
        }),
        _ => Err(Diagnostics(diags)),
    }
}

pub use paginate::PageSink;

/// A character, weight, italic and the style's `font_fallback` list.
type FallbackKey = (char, u16, bool, Rc<[Rc<str>]>);

/// Shared state of one layout run.
pub(crate) struct Ctx<'a> {
    pub shaper: Shaper<'a>,
    pub sheet: StyleSheet,
    res: &'a dyn Resources,
    pub diags: Vec<Diagnostic>,
    pub title: String,
    fonts: HashMap<(Rc<str>, u16, bool), FontId>,
    fallbacks: HashMap<FallbackKey, Option<FontId>>,
    /// Syllable boundaries (byte offsets) of words already hyphenated: documents
    /// repeat words, and hyphenating costs more than looking one up.
    pub hyphenated: HashMap<hypher::Lang, HashMap<Box<str>, Rc<[u16]>>>,
    /// `font_fallback` lists already checked for unknown families.
    fallback_lists: BTreeSet<Rc<[Rc<str>]>>,
    warned: BTreeSet<String>,
    pub images: Vec<ImageData>,
    image_index: BTreeMap<String, usize>,
    limits: Limits,
    guard: Guard,
    /// Set when the guard said stop: everything after returns at once.
    halted: bool,
    /// Nesting depth of lists, for marker kinds.
    pub list_depth: usize,
    /// Height of the body area, the tallest any fragment may be.
    pub body_height: f32,
    /// Whether to build the logical structure.
    pub tagging: bool,
    /// The logical structure built so far.
    pub structure: Structure,
    /// The node new nodes go into.
    pub parent: Option<NodeId>,
    /// Set while laying out page furniture: what it all is instead of content.
    pub artifact: Option<ArtifactKind>,
    /// The page number each anchor shows, from the counting pass (empty before it):
    /// `page_of` fields and tables of contents read it.
    pub page_refs: Rc<BTreeMap<String, usize>>,
    /// The headings tables of contents list, in document order.
    pub toc_entries: Rc<Vec<toc::TocEntry>>,
    /// Paths of listed headings without an anchor: they get a generated one.
    pub toc_targets: BTreeSet<String>,
    /// The number the next footnote gets.
    pub notes_next: u32,
    /// Width footnotes are set at (the page body's).
    pub note_width: f32,
    /// The right margin's edge, from the page's left edge: where absolute blocks end
    /// unless they give a width.
    pub page_right: f32,
    /// The page's size, for absolute blocks.
    pub page_size: Size,
    /// Laying out a footnote (whose footnotes are ignored).
    pub in_note: bool,
}

impl<'a> Ctx<'a> {
    fn new(doc: &Document, res: &'a dyn Resources) -> Self {
        Ctx {
            shaper: Shaper::new(res.fonts()),
            sheet: StyleSheet::new(doc),
            res,
            diags: Vec::new(),
            title: doc.metadata.title.clone().unwrap_or_default(),
            fonts: HashMap::new(),
            fallbacks: HashMap::new(),
            fallback_lists: BTreeSet::new(),
            hyphenated: HashMap::new(),
            warned: BTreeSet::new(),
            images: Vec::new(),
            image_index: BTreeMap::new(),
            limits: Limits::default(),
            guard: Guard::default(),
            halted: false,
            list_depth: 0,
            body_height: f32::INFINITY,
            tagging: false,
            structure: Structure::default(),
            parent: None,
            artifact: None,
            page_refs: Rc::default(),
            toc_entries: Rc::default(),
            toc_targets: BTreeSet::new(),
            notes_next: 1,
            note_width: 0.0,
            page_right: 0.0,
            page_size: Size::new(0.0, 0.0),
            in_note: false,
        }
    }

    /// Asks the caller's guard whether to go on; once it says no, the reason is the
    /// render's error and the answer stays no.
    pub fn proceed(&mut self) -> bool {
        if self.halted {
            return false;
        }
        if let Err(reason) = self.guard.check() {
            self.error(String::new(), reason);
            self.halted = true;
        }
        !self.halted
    }

    pub fn warn(&mut self, path: String, message: String) {
        let key = format!("{path}\u{0}{message}");
        if self.warned.insert(key) {
            self.diags.push(Diagnostic::warning(path, message));
        }
    }

    pub fn error(&mut self, path: String, message: String) {
        self.diags.push(Diagnostic::error(path, message));
    }

    /// The face for a text style, warning once about unknown families.
    pub fn font_for(&mut self, style: &TextStyle, path: &crate::path::JPath) -> FontId {
        let key = (style.family.clone(), style.weight, style.italic);
        if let Some(id) = self.fonts.get(&key) {
            return *id;
        }
        let book = self.res.fonts();
        let id = match book.select(&style.family, style.weight, style.italic) {
            Some(id) => id,
            None => {
                let fallback = book.select("sans", style.weight, style.italic).or_else(|| {
                    book.fallback_families()
                        .first()
                        .and_then(|f| book.select(f, style.weight, style.italic))
                });
                let families: Vec<&str> = book.families().collect();
                let mut msg = format!("unknown font family \"{}\"", style.family);
                if let Some(s) = crate::diag::suggest(&style.family, families.iter().copied()) {
                    msg.push_str(&format!(" (did you mean \"{s}\"?)"));
                }
                msg.push_str("; using the default font");
                self.warn(path.to_string(), msg);
                fallback.unwrap_or(FontId(0))
            }
        };
        self.fonts.insert(key, id);
        id
    }

    /// Warns (once per list, at the first block using it) about `font_fallback`
    /// families the font book does not have.
    pub fn check_fallback(&mut self, style: &TextStyle, path: &crate::path::JPath) {
        if style.fallback.is_empty() || self.fallback_lists.contains(&style.fallback) {
            return;
        }
        self.fallback_lists.insert(style.fallback.clone());
        let book = self.res.fonts();
        for fam in style.fallback.iter() {
            if book.has_family(fam) {
                continue;
            }
            let families: Vec<&str> = book.families().collect();
            let mut msg = format!("unknown font family \"{fam}\" in font_fallback");
            if let Some(s) = crate::diag::suggest(fam, families.iter().copied()) {
                msg.push_str(&format!(" (did you mean \"{s}\"?)"));
            }
            msg.push_str("; it is skipped");
            self.warn(path.to_string(), msg);
        }
    }

    /// The first face with a glyph for `c`: the style's `font_fallback` families in
    /// order, then every family of the font book in the order it was added.
    pub fn fallback_for(&mut self, c: char, style: &TextStyle) -> Option<FontId> {
        let key = (c, style.weight, style.italic, style.fallback.clone());
        if let Some(hit) = self.fallbacks.get(&key) {
            return *hit;
        }
        let book = self.res.fonts();
        let found = style
            .fallback
            .iter()
            .map(|f| &**f)
            .chain(book.fallback_families().iter().map(String::as_str))
            .filter_map(|fam| book.select(fam, style.weight, style.italic))
            .find(|id| self.shaper.covers(*id, c));
        self.fallbacks.insert(key, found);
        found
    }

    /// Loads an image once, returning its index.
    pub fn image(&mut self, src: &str, path: &crate::path::JPath) -> Option<usize> {
        if let Some(i) = self.image_index.get(src) {
            return Some(*i);
        }
        let bytes = match self.res.asset(src) {
            Ok(b) => b,
            Err(e) => {
                self.error(path.key("src").to_string(), format!("image \"{src}\" {e}"));
                return None;
            }
        };
        let at = path.key("src").to_string();
        let loaded = match crate::image::load(src, bytes, self.res, &self.limits, &at) {
            Ok(l) => l,
            Err(d) => {
                self.diags.push(d);
                return None;
            }
        };
        for w in loaded.warnings {
            self.warn(at.clone(), w);
        }
        let i = self.images.len();
        self.images.push(loaded.data);
        self.image_index.insert(src.to_string(), i);
        Some(i)
    }
}
