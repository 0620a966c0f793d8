//! The ODE document model, version 1.
//!
//! A document is JSON with `"ode": 1` at its top. The Rust types here mirror the JSON
//! exactly, shortcuts included (a table cell may be a plain string, a paragraph may have
//! `text` instead of `content`), so that serializing a parsed document gives back an
//! equivalent document and the JSON Schema from [`schema`] describes precisely what
//! [`parse`] accepts.
//!
//! Parsing does not use serde's derive: [`decode`] walks the JSON tree itself so that it
//! can report every problem at once, each with its JSON pointer and a suggestion.
//!
//! ```
//! let doc = ode_core::model::parse(r#"{"ode": 1, "content": [{"type": "paragraph", "text": "Hi"}]}"#).unwrap();
//! assert_eq!(doc.content.len(), 1);
//! ```

pub(crate) mod decode;
mod units;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

pub use units::{ColumnWidth, Edges, Length, PaperSize};

use crate::diag::Diagnostics;
pub use crate::geom::Color;

/// The only model version this engine reads.
pub const VERSION: u32 = 1;

/// Parses a JSON document into the model, reporting every problem found.
///
/// # Errors
/// Returns all syntax and structure errors, each with its JSON path (or line and column
/// for syntax errors).
pub fn parse(json: &str) -> Result<Document, Diagnostics> {
    decode::parse(json)
}

/// Parses JSON text into a value, reporting a syntax error with its line and column
/// (the first step of [`parse`], for callers that look at the value first).
///
/// # Errors
/// The syntax error.
pub fn parse_value(json: &str) -> Result<serde_json::Value, Diagnostics> {
    decode::parse_json(json)
}

/// Builds a document from an already parsed JSON value.
///
/// # Errors
/// As [`parse`], minus syntax errors.
pub fn from_value(value: &serde_json::Value) -> Result<Document, Diagnostics> {
    decode::from_value(value)
}

/// The JSON Schema (draft 2020-12) of the document format.
pub fn schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Document);
    serde_json::to_value(schema).expect("a schema is always serializable")
}

/// A whole document.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "ODE document",
    description = "An ODE document, model version 1"
)]
pub struct Document {
    /// Model version; must be 1.
    pub ode: u32,
    /// Title, author and other document information.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// Paper size, orientation and margins.
    #[serde(default)]
    pub page: PageSetup,
    /// Named styles. The built-in names (`default`, `heading`, `heading1` … `heading6`,
    /// `title`, `code`, `header`, `footer`, `table`, `table_header`, `list`) may be
    /// redefined; a redefinition overrides only the properties it sets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub styles: BTreeMap<String, Style>,
    /// Blocks repeated at the top of every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<PageRegion>,
    /// Blocks repeated at the bottom of every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<PageRegion>,
    /// Text drawn diagonally across every page, behind the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Watermark>,
    /// How the PDF is written: tagged or not, standards it conforms to.
    #[serde(default, skip_serializing_if = "PdfSettings::is_default")]
    pub pdf: PdfSettings,
    /// The body.
    pub content: Vec<Block>,
}

/// Document information written into the output's metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Title; also the value of the `title` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// BCP 47 language tag, such as `en` or `de-CH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Creation date, `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`. Output carries a date only
    /// when the input gives one, so that rendering stays deterministic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl Metadata {
    fn is_empty(&self) -> bool {
        *self == Metadata::default()
    }
}

/// Paper and margins.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageSetup {
    /// A paper name (`A3`, `A4`, `A5`, `Letter`, `Legal`) or `{"width", "height"}`.
    #[serde(default)]
    pub size: PaperSize,
    /// `portrait` or `landscape`; landscape swaps width and height.
    #[serde(default)]
    pub orientation: Orientation,
    /// Margins: one length for all sides, or `{"top", "right", "bottom", "left"}`.
    #[serde(default = "default_margins")]
    pub margins: Edges,
    /// Page background color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Color>,
    /// Gap between the header's bottom and the top margin's edge (default 12pt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_gap: Option<Length>,
    /// Gap between the bottom margin's edge and the footer's top (default 12pt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer_gap: Option<Length>,
}

fn default_margins() -> Edges {
    Edges::uniform(Length(Pt::from_mm(20.0).0))
}

use crate::geom::Pt;

impl Default for PageSetup {
    fn default() -> Self {
        PageSetup {
            size: PaperSize::default(),
            orientation: Orientation::Portrait,
            margins: default_margins(),
            background: None,
            header_gap: None,
            footer_gap: None,
        }
    }
}

/// Page orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    /// Taller than wide.
    #[default]
    Portrait,
    /// Wider than tall.
    Landscape,
}

/// A header or footer.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageRegion {
    /// Blocks drawn on every page (fields such as `page_number` work here).
    pub content: Vec<Block>,
    /// Blocks drawn on the first page instead; `[]` leaves the first page blank there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_page: Option<Vec<Block>>,
}

/// How the PDF is written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PdfSettings {
    /// Whether the PDF carries the document's logical structure (headings, paragraphs,
    /// lists, tables, figures with their alternative text) for screen readers and
    /// reflow. Default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagged: Option<bool>,
    /// Standards the PDF must conform to, checked as it is written: one PDF/A level,
    /// `ua-1`, or both (`["a-2a", "ua-1"]`). A single one may be written as a string.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "OneOrMoreStandards")]
    pub standard: Vec<PdfStandard>,
    /// Raster images shown at more than this many pixels per inch are resampled to it,
    /// which keeps files small (36 to 2,400; default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 36, max = 2400))]
    pub image_dpi: Option<f64>,
}

impl PdfSettings {
    fn is_default(&self) -> bool {
        *self == PdfSettings::default()
    }
}

/// One standard or a list of them.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum OneOrMoreStandards {
    One(PdfStandard),
    More(Vec<PdfStandard>),
}

/// A PDF standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
pub enum PdfStandard {
    /// PDF/A-1b: archival, visual appearance (PDF 1.4, no transparency).
    #[serde(rename = "a-1b")]
    A1b,
    /// PDF/A-1a: PDF/A-1b, tagged.
    #[serde(rename = "a-1a")]
    A1a,
    /// PDF/A-2b: archival, visual appearance.
    #[serde(rename = "a-2b")]
    A2b,
    /// PDF/A-2u: PDF/A-2b with all text mapped to Unicode.
    #[serde(rename = "a-2u")]
    A2u,
    /// PDF/A-2a: PDF/A-2u, tagged, with language and alternative texts.
    #[serde(rename = "a-2a")]
    A2a,
    /// PDF/A-3b: as PDF/A-2b, allowing attached files.
    #[serde(rename = "a-3b")]
    A3b,
    /// PDF/A-3u.
    #[serde(rename = "a-3u")]
    A3u,
    /// PDF/A-3a.
    #[serde(rename = "a-3a")]
    A3a,
    /// PDF/A-4 (PDF 2.0).
    #[serde(rename = "a-4")]
    A4,
    /// PDF/A-4f.
    #[serde(rename = "a-4f")]
    A4f,
    /// PDF/A-4e.
    #[serde(rename = "a-4e")]
    A4e,
    /// PDF/UA-1: universal accessibility (tagged, titled, every image described).
    #[serde(rename = "ua-1")]
    Ua1,
}

impl PdfStandard {
    /// Every standard, with its name in the model.
    pub const ALL: [(&'static str, PdfStandard); 12] = [
        ("a-1b", PdfStandard::A1b),
        ("a-1a", PdfStandard::A1a),
        ("a-2b", PdfStandard::A2b),
        ("a-2u", PdfStandard::A2u),
        ("a-2a", PdfStandard::A2a),
        ("a-3b", PdfStandard::A3b),
        ("a-3u", PdfStandard::A3u),
        ("a-3a", PdfStandard::A3a),
        ("a-4", PdfStandard::A4),
        ("a-4f", PdfStandard::A4f),
        ("a-4e", PdfStandard::A4e),
        ("ua-1", PdfStandard::Ua1),
    ];

    /// The name in the model, such as `a-2b`.
    pub fn name(self) -> &'static str {
        PdfStandard::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map_or("", |(n, _)| n)
    }

    /// The name as standards write it, such as `PDF/A-2b`.
    pub fn title(self) -> &'static str {
        match self {
            PdfStandard::A1b => "PDF/A-1b",
            PdfStandard::A1a => "PDF/A-1a",
            PdfStandard::A2b => "PDF/A-2b",
            PdfStandard::A2u => "PDF/A-2u",
            PdfStandard::A2a => "PDF/A-2a",
            PdfStandard::A3b => "PDF/A-3b",
            PdfStandard::A3u => "PDF/A-3u",
            PdfStandard::A3a => "PDF/A-3a",
            PdfStandard::A4 => "PDF/A-4",
            PdfStandard::A4f => "PDF/A-4f",
            PdfStandard::A4e => "PDF/A-4e",
            PdfStandard::Ua1 => "PDF/UA-1",
        }
    }

    /// Whether it is a PDF/A level (rather than PDF/UA).
    pub fn is_archival(self) -> bool {
        self != PdfStandard::Ua1
    }

    /// Whether it requires a tagged PDF.
    pub fn needs_tagging(self) -> bool {
        matches!(
            self,
            PdfStandard::A1a | PdfStandard::A2a | PdfStandard::A3a | PdfStandard::Ua1
        )
    }

    /// Parses a model name; the error lists the names.
    ///
    /// # Errors
    /// An unknown name, with a suggestion when one is close.
    pub fn parse(name: &str) -> Result<PdfStandard, String> {
        let lower = name.to_ascii_lowercase();
        let lower = lower.strip_prefix("pdf/").unwrap_or(&lower);
        if let Some((_, s)) = PdfStandard::ALL.iter().find(|(n, _)| *n == lower) {
            return Ok(*s);
        }
        let names: Vec<&str> = PdfStandard::ALL.iter().map(|(n, _)| *n).collect();
        let mut msg = format!(
            "unknown PDF standard \"{name}\", expected one of {}",
            names.join(", ")
        );
        if let Some(s) = crate::diag::suggest(lower, names.iter().copied()) {
            msg.push_str(&format!(" (did you mean \"{s}\"?)"));
        }
        Err(msg)
    }
}

/// Checks that standards can be combined: at most one PDF/A level, and PDF/A-4
/// (PDF 2.0) not with PDF/UA-1 (PDF 1.7 at most).
///
/// # Errors
/// What is wrong with the combination.
pub fn check_standards(standards: &[PdfStandard]) -> Result<(), String> {
    let archival: Vec<PdfStandard> = standards
        .iter()
        .copied()
        .filter(|s| s.is_archival())
        .collect();
    if archival.len() > 1 {
        return Err(format!(
            "a PDF conforms to at most one PDF/A level, found {} and {}",
            archival[0].name(),
            archival[1].name()
        ));
    }
    let a4 = archival
        .iter()
        .any(|s| matches!(s, PdfStandard::A4 | PdfStandard::A4f | PdfStandard::A4e));
    if a4 && standards.contains(&PdfStandard::Ua1) {
        return Err("PDF/A-4 (PDF 2.0) cannot be combined with PDF/UA-1 (PDF 1.7)".into());
    }
    Ok(())
}

/// A watermark.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Watermark {
    /// The text.
    pub text: String,
    /// Color (default light gray).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
    /// Font size (default 72pt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Length>,
    /// Angle in degrees, counter-clockwise (default 45).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub angle: Option<f32>,
    /// Opacity from 0 to 1 (default 0.25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opacity: Option<f32>,
    /// Font family (default `sans`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<String>,
}

/// A named style: properties, optionally inherited from a parent style.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Style {
    /// The style this one inherits from (default: `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The properties this style sets.
    #[serde(flatten)]
    pub props: StyleProps,
}

/// Style properties. Each is optional; unset ones are inherited.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct StyleProps {
    /// Font family: a family name, or `sans`, `serif`, `monospace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<String>,
    /// Font size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Length>,
    /// `normal`, `bold`, or a number from 100 to 900.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Weight>,
    /// Italic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub italic: Option<bool>,
    /// Text color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
    /// Line height as a multiple of the font size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_height: Option<f32>,
    /// Horizontal alignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub align: Option<Align>,
    /// Space above the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_before: Option<Length>,
    /// Space below the block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_after: Option<Length>,
    /// Indent of the first line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_line_indent: Option<Length>,
    /// Indent of the whole block from the left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_indent: Option<Length>,
    /// Indent of the whole block from the right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_indent: Option<Length>,
    /// Extra space between letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letter_spacing: Option<Length>,
    /// Keep this block on the same page as the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_with_next: Option<bool>,
    /// The least lines of a paragraph left alone at the top of a page (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widows: Option<u32>,
    /// The least lines of a paragraph left alone at the bottom of a page (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphans: Option<u32>,
    /// Paragraph direction: `ltr`, `rtl`, or `auto` (the default: from the first strong
    /// character, Unicode UAX #9). Right-to-left paragraphs align right unless `align`
    /// says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<Direction>,
    /// BCP 47 language tag of the text (default: the metadata's `language`); it selects
    /// hyphenation patterns and language-specific glyph forms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Break words at hyphenation points of the text's language (default false). Soft
    /// hyphens (U+00AD) are break opportunities either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyphenate: Option<bool>,
    /// OpenType features: `{"smcp": true, "liga": false, "salt": 2}` or
    /// `["smcp", "-liga"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Features>,
    /// Families tried, in order, for characters the font lacks (before the other
    /// families the renderer knows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_fallback: Option<Vec<String>>,
}

/// Paragraph direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left.
    Rtl,
    /// From the first strong character.
    Auto,
}

/// OpenType features to turn on or off.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Features {
    /// Tags, `-tag` to turn one off.
    List(Vec<String>),
    /// Tag → on (`true`), off (`false`) or an alternate's number.
    Map(BTreeMap<String, FeatureValue>),
}

/// A feature's setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum FeatureValue {
    /// On or off.
    Switch(bool),
    /// Alternate number (0 is off).
    Number(u16),
}

impl Features {
    /// The features as (tag, value) pairs, in the order given.
    pub fn settings(&self) -> Vec<(String, u32)> {
        match self {
            Features::List(l) => l
                .iter()
                .map(|t| match t.strip_prefix('-') {
                    Some(off) => (off.to_string(), 0),
                    None => (t.strip_prefix('+').unwrap_or(t).to_string(), 1),
                })
                .collect(),
            Features::Map(m) => m
                .iter()
                .map(|(k, v)| {
                    let n = match v {
                        FeatureValue::Switch(b) => u32::from(*b),
                        FeatureValue::Number(n) => u32::from(*n),
                    };
                    (k.clone(), n)
                })
                .collect(),
        }
    }
}

/// Font weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Weight {
    /// `normal` (400) or `bold` (700).
    Named(WeightName),
    /// 100 to 900.
    Number(u16),
}

impl Weight {
    /// The numeric weight.
    pub fn value(self) -> u16 {
        match self {
            Weight::Named(WeightName::Normal) => 400,
            Weight::Named(WeightName::Bold) => 700,
            Weight::Number(n) => n,
        }
    }
}

/// Named font weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WeightName {
    /// 400.
    Normal,
    /// 700.
    Bold,
}

/// Horizontal alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    /// Flush left.
    Left,
    /// Flush right.
    Right,
    /// Centered.
    Center,
    /// Flush on both sides (the last line flush left).
    Justify,
}

/// Vertical alignment in a table cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VAlign {
    /// At the top.
    Top,
    /// Centered.
    Middle,
    /// At the bottom.
    Bottom,
}

/// What every block may carry: a named style, an anchor, and style properties of its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct BlockProps {
    /// Named style (default depends on the block type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// A name that links (`"link": "#name"`) can jump to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// Style properties that override the named style for this block.
    #[serde(flatten)]
    pub props: StyleProps,
}

/// A block of content.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Block {
    /// A heading, level 1 to 6; it appears in the PDF outline.
    Heading(Heading),
    /// A paragraph of text.
    Paragraph(Paragraph),
    /// An ordered or unordered list.
    List(List),
    /// A table.
    Table(Table),
    /// A PNG, JPEG or SVG image.
    Image(Image),
    /// A horizontal line.
    Rule(Rule),
    /// A QR code, drawn as vector squares.
    Qr(QrCode),
    /// A Code 128 or EAN-13 barcode, drawn as vector bars.
    Barcode(Barcode),
    /// Vertical space.
    Spacer(Spacer),
    /// Starts a new page.
    PageBreak(PageBreak),
    /// Blocks kept together on one page when they fit.
    Group(Group),
    /// A part of the document that starts on a new page, optionally with its own
    /// page numbers (one letter of a mail merge, one chapter).
    Section(Section),
    /// A table of contents generated from the document's headings.
    Toc(Toc),
    /// Blocks placed at a position on the page, outside the flow of the text.
    Absolute(Absolute),
    /// Blocks set in 2 to 4 columns, balanced at the end.
    Columns(Columns),
    /// Blocks moved to the top of the page (a figure): the text flows on below.
    Float(Float),
}

/// Blocks placed at the top of the current page when they fit there, or else at the top
/// of the next page; the text after them fills the rest of the current page.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Float {
    /// Where the blocks go: `top` (the only placement so far, and the default).
    #[serde(default)]
    pub placement: FloatPlacement,
    /// The blocks.
    pub content: Vec<Block>,
    /// Style, anchor and properties (inherited by the blocks; `space_after` is the
    /// space between the float and the text under it).
    #[serde(flatten)]
    pub props: BlockProps,
}

/// Where a float goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FloatPlacement {
    /// The top of the page.
    #[default]
    Top,
}

/// Blocks flowing down the first column, then the next, then on the next page; the
/// columns of the last page are balanced.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Columns {
    /// How many columns, 2 to 4.
    pub count: u8,
    /// Space between columns (default 12pt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<Length>,
    /// The blocks.
    pub content: Vec<Block>,
    /// Style, anchor and properties (inherited by the blocks).
    #[serde(flatten)]
    pub props: BlockProps,
}

/// A table of contents: one entry per heading (levels 1 to `levels`), indented by
/// level, with dot leaders and the page number, each linking to its heading.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Toc {
    /// A title above the entries (style `toc_title`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The deepest heading level listed, 1 to 6 (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<u8>,
    /// Style (default `toc`), anchor and properties of the entries.
    #[serde(flatten)]
    pub props: BlockProps,
}

/// Blocks drawn at a position relative to the page's top left corner, on the page where
/// the block occurs; they take no room in the flow.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Absolute {
    /// Distance from the page's left edge.
    pub x: Length,
    /// Distance from the page's top edge.
    pub y: Length,
    /// Width the blocks are laid out at (default: up to the right margin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Length>,
    /// The blocks.
    pub content: Vec<Block>,
    /// Style, anchor and properties (inherited by the blocks).
    #[serde(flatten)]
    pub props: BlockProps,
}

/// A heading.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// Plain text (instead of `content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Inline content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<Inline>,
    /// Whether it appears in the PDF outline (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outline: Option<bool>,
    /// Style, anchor and properties.
    #[serde(flatten)]
    pub props: BlockProps,
}

/// A paragraph.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Paragraph {
    /// Plain text (instead of `content`); `\n` breaks the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Inline content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<Inline>,
    /// Style, anchor and properties.
    #[serde(flatten)]
    pub props: BlockProps,
}

/// A piece of inline content.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Inline {
    /// Plain text in the paragraph's style.
    Text(String),
    /// Styled text.
    Span(TextSpan),
    /// A value filled in at layout: page number, page count or title.
    Field(Field),
    /// A line break.
    LineBreak(LineBreak),
    /// A footnote: a number here, the note at the bottom of the page.
    Footnote(Footnote),
}

/// A footnote: `{"footnote": "text"}` or `{"footnote": [inline content]}`. The reference
/// shows the note's number (counted through the document) as a superscript; the note
/// is set at the bottom of the page where the reference lands.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Footnote {
    /// The note's text or inline content (which may not hold another footnote).
    pub footnote: FootnoteContent,
}

/// What a footnote says.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum FootnoteContent {
    /// Plain text.
    Text(String),
    /// Inline content.
    Content(Vec<Inline>),
}

impl FootnoteContent {
    /// The content as inlines.
    pub fn inlines(&self) -> Vec<Inline> {
        match self {
            FootnoteContent::Text(t) => vec![Inline::Text(t.clone())],
            FootnoteContent::Content(c) => c.clone(),
        }
    }
}

/// Styled text.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextSpan {
    /// The text.
    pub text: String,
    /// Its style.
    #[serde(flatten)]
    pub style: InlineStyle,
}

/// A field.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Which value.
    pub field: FieldKind,
    /// For `page_of`: the anchor whose page number is shown (the field links to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// Its style.
    #[serde(flatten)]
    pub style: InlineStyle,
}

/// A line break: `{"line_break": true}`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBreak {
    /// Always true.
    pub line_break: bool,
}

/// Values a field can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// The number of the page the field is on.
    PageNumber,
    /// The number of pages in the document.
    PageCount,
    /// The document title from the metadata.
    Title,
    /// The number of the page where an anchor is (a cross-reference: "see page 12").
    PageOf,
}

/// Inline style properties.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct InlineStyle {
    /// Named style whose font properties apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// Bold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bold: Option<bool>,
    /// Italic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub italic: Option<bool>,
    /// Underlined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub underline: Option<bool>,
    /// Struck through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strike: Option<bool>,
    /// Text color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
    /// Font size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Length>,
    /// Font family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<String>,
    /// Superscript or subscript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// Inline code: the `code` style (monospace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<bool>,
    /// A URL, or `#name` for an anchor in this document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// BCP 47 language tag of the span's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// OpenType features, as in styles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Features>,
}

/// Baseline shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// Raised and smaller.
    Super,
    /// Lowered and smaller.
    Sub,
}

/// A list.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct List {
    /// Numbered (true) or bulleted (false, the default).
    #[serde(default)]
    pub ordered: bool,
    /// The first number of an ordered list (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u32>,
    /// Marker kind; the default depends on `ordered` and the nesting depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<ListMarker>,
    /// The items: a string, or an array of blocks (which may hold nested lists).
    pub items: Vec<ListItem>,
    /// Style, anchor and properties.
    #[serde(flatten)]
    pub props: BlockProps,
}

/// A list item.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ListItem {
    /// A one-paragraph item.
    Text(String),
    /// Blocks.
    Blocks(Vec<Block>),
}

/// List markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ListMarker {
    /// •
    Disc,
    /// ◦
    Circle,
    /// ▪
    Square,
    /// –
    Dash,
    /// 1. 2. 3.
    Decimal,
    /// a. b. c.
    LowerAlpha,
    /// A. B. C.
    UpperAlpha,
    /// i. ii. iii.
    LowerRoman,
    /// I. II. III.
    UpperRoman,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Table {
    /// Column widths: a length, `"2fr"` (a share of what is left) or `"auto"`, or
    /// `{"width", "align"}`.
    pub columns: Vec<Column>,
    /// How many leading rows are headers, repeated at the top of every page.
    #[serde(default)]
    pub header_rows: u32,
    /// The rows: an array of cells, or `{"cells", "background"}`.
    pub rows: Vec<Row>,
    /// Cell borders (default 0.5pt black, all lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub border: Option<Border>,
    /// Cell padding (default 4pt left and right, 2pt top and bottom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding: Option<Edges>,
    /// Background of header rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_background: Option<Color>,
    /// Style, anchor and properties (they apply to every cell).
    #[serde(flatten)]
    pub props: BlockProps,
}

/// A table column.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Column {
    /// Only a width.
    Width(ColumnWidth),
    /// Width and alignment.
    Full(ColumnSpec),
}

/// A column with its alignment.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Width.
    #[serde(default)]
    pub width: ColumnWidth,
    /// Alignment of the column's cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub align: Option<Align>,
}

/// A table row.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Row {
    /// Only cells.
    Cells(Vec<Cell>),
    /// Cells and row properties.
    Full(RowSpec),
}

/// A row with properties.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowSpec {
    /// The cells.
    pub cells: Vec<Cell>,
    /// Background of the row's cells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Color>,
}

/// A table cell.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Cell {
    /// A one-paragraph cell.
    Text(String),
    /// A cell with properties.
    Full(Box<CellSpec>),
}

impl Cell {
    /// The cell's properties, when it has any.
    pub fn spec(&self) -> Option<&CellSpec> {
        match self {
            Cell::Full(s) => Some(s),
            Cell::Text(_) => None,
        }
    }
}

/// A cell with properties.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CellSpec {
    /// Named style of the cell's text, instead of the table's (or `table_header`'s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// Plain text (instead of `content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Blocks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<Block>,
    /// Columns spanned (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colspan: Option<u32>,
    /// Rows spanned (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rowspan: Option<u32>,
    /// Background.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Color>,
    /// Vertical alignment (default top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valign: Option<VAlign>,
    /// Padding, overriding the table's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding: Option<Edges>,
    /// Style properties of the cell's text.
    #[serde(flatten)]
    pub props: StyleProps,
}

/// Table borders.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Border {
    /// Line width (0 draws none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Length>,
    /// Line color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Color>,
    /// Which lines.
    #[serde(default)]
    pub lines: BorderLines,
}

/// Which table lines are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BorderLines {
    /// Every cell edge.
    #[default]
    All,
    /// Only horizontal lines between rows and at the table's top and bottom.
    Horizontal,
    /// None.
    None,
}

/// An image.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Image {
    /// The asset key, resolved by the caller (the CLI reads it as a path relative to
    /// the document).
    pub src: String,
    /// Width; with only one of width and height, the other follows the aspect ratio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Length>,
    /// Height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Length>,
    /// How the image fills a box whose ratio differs from its own (default `contain`).
    #[serde(default)]
    pub fit: Fit,
    /// Alternative text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
    /// Style, anchor and properties (`align` places the image).
    #[serde(flatten)]
    pub props: BlockProps,
}

/// Image fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Scaled to fit inside the box, keeping its ratio.
    #[default]
    Contain,
    /// Scaled to cover the box, keeping its ratio, and clipped.
    Cover,
    /// Stretched to the box.
    Fill,
}

/// A horizontal rule.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Rule {
    /// Line thickness (default 0.5pt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thickness: Option<Length>,
    /// Line color (default the text color).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_color: Option<Color>,
    /// Style, anchor and properties.
    #[serde(flatten)]
    pub props: BlockProps,
}

/// A QR code.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct QrCode {
    /// The text or URL it encodes (UTF-8).
    pub data: String,
    /// The edge of the square, quiet zone not included (default 2.5cm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Length>,
    /// Error correction level (default `M`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ec: Option<QrEc>,
    /// Style, anchor and properties (`align` places it, `color` colors it).
    #[serde(flatten)]
    pub props: BlockProps,
}

/// QR error correction: how much of the code may be damaged and still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum QrEc {
    /// About 7%.
    L,
    /// About 15%.
    M,
    /// About 25%.
    Q,
    /// About 30%.
    H,
}

/// A linear barcode.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Barcode {
    /// Which kind.
    pub symbology: Symbology,
    /// What it encodes: printable ASCII for Code 128; 12 digits (the check digit is
    /// added) or 13 (the check digit is verified) for EAN-13.
    pub data: String,
    /// Width of the bars, quiet zones not included (default 0.33mm per module).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Length>,
    /// Height of the bars (default 15mm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Length>,
    /// The data in text under the bars (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<bool>,
    /// Style, anchor and properties (`align` places it, `color` colors it, the text
    /// uses the font and size).
    #[serde(flatten)]
    pub props: BlockProps,
}

/// Barcode symbologies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Symbology {
    /// Code 128 (code sets B and C, chosen automatically).
    Code128,
    /// EAN-13.
    Ean13,
}

/// Vertical space.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spacer {
    /// How much.
    pub height: Length,
}

/// A page break.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageBreak {}

/// Blocks kept together.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Group {
    /// Keep the blocks on one page when they fit on one (default true).
    #[serde(default = "yes")]
    pub keep_together: bool,
    /// The blocks.
    pub content: Vec<Block>,
    /// Style, anchor and properties (inherited by the blocks).
    #[serde(flatten)]
    pub props: BlockProps,
}

fn yes() -> bool {
    true
}

/// A top-level part of the document that starts on a new page.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Number the section's pages from 1: `page_number` and `page_count` fields count
    /// the section's pages, and its first page uses the `first_page` header and footer.
    #[serde(default)]
    pub restart_page_numbers: bool,
    /// An entry for the section in the PDF outline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The blocks.
    pub content: Vec<Block>,
}

impl Block {
    /// The block's common properties, when it has them.
    pub fn props(&self) -> Option<&BlockProps> {
        match self {
            Block::Heading(b) => Some(&b.props),
            Block::Paragraph(b) => Some(&b.props),
            Block::List(b) => Some(&b.props),
            Block::Table(b) => Some(&b.props),
            Block::Image(b) => Some(&b.props),
            Block::Rule(b) => Some(&b.props),
            Block::Qr(b) => Some(&b.props),
            Block::Barcode(b) => Some(&b.props),
            Block::Group(b) => Some(&b.props),
            Block::Toc(b) => Some(&b.props),
            Block::Absolute(b) => Some(&b.props),
            Block::Columns(b) => Some(&b.props),
            Block::Float(b) => Some(&b.props),
            Block::Spacer(_) | Block::PageBreak(_) | Block::Section(_) => None,
        }
    }
}
