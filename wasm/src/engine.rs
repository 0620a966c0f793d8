//! The engine behind the JavaScript API, in plain Rust: fonts and assets held in memory,
//! and the same `ode-core` calls the SDK makes. Everything here runs on the host too, so
//! it is tested with `cargo test`; `lib.rs` only converts to and from JavaScript values.

use ode_core::layout::LayoutOptions;
use ode_core::model::Document;
use ode_core::template::Template;
use ode_core::text::FontBook;
use ode_core::{Diagnostic, Diagnostics, Limits, MemoryResources, Resources as _, Warned};
use serde_json::Value;

/// An output format, named by the strings `"pdf"` and `"svg"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One PDF file.
    Pdf,
    /// One SVG document per page.
    Svg,
}

impl Format {
    /// Reads `"pdf"` or `"svg"` (any case).
    ///
    /// # Errors
    /// A diagnostic naming the accepted formats.
    pub fn parse(name: &str) -> Result<Format, Diagnostics> {
        match name.to_ascii_lowercase().as_str() {
            "pdf" => Ok(Format::Pdf),
            "svg" => Ok(Format::Svg),
            _ => Err(Diagnostics::from(
                Diagnostic::error("", format!("unknown format `{name}`"))
                    .with_hint("expected `pdf` or `svg`"),
            )),
        }
    }
}

/// What a render produced.
#[derive(Debug, Clone)]
pub enum Output {
    /// PDF bytes.
    Pdf(Vec<u8>),
    /// SVG documents, one per page.
    Svg(Vec<String>),
}

/// A render's output, page count and warnings.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The output.
    pub output: Output,
    /// Number of pages.
    pub pages: usize,
    /// Warnings met on the way (the output was produced regardless).
    pub warnings: Vec<Diagnostic>,
}

/// Fonts parsed once and assets by key, reused across renders.
#[derive(Debug, Clone)]
pub struct Core {
    res: MemoryResources,
    limits: Limits,
}

impl Default for Core {
    fn default() -> Self {
        Core::new()
    }
}

impl Core {
    /// The built-in DejaVu families when the build embeds them, else no fonts.
    pub fn new() -> Self {
        #[cfg(feature = "embed-fonts")]
        let fonts = FontBook::with_defaults();
        #[cfg(not(feature = "embed-fonts"))]
        let fonts = FontBook::new();
        Core {
            res: MemoryResources::new(fonts),
            limits: Limits::default(),
        }
    }

    /// No fonts at all, whatever the build: every font comes from [`Core::add_font`].
    pub fn without_fonts() -> Self {
        Core {
            res: MemoryResources::new(FontBook::new()),
            limits: Limits::default(),
        }
    }

    /// Whether this build has the DejaVu families compiled in.
    pub fn has_builtin_fonts() -> bool {
        cfg!(feature = "embed-fonts")
    }

    /// Adds every face of a TTF, OTF or TTC file; returns the families it added, in
    /// order, without repeats.
    ///
    /// # Errors
    /// A diagnostic when the bytes are not a font.
    pub fn add_font(&mut self, bytes: Vec<u8>) -> Result<Vec<String>, Diagnostics> {
        ode_core::text::check_font(&bytes).map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "",
                format!("font: the font cannot be used: {e}"),
            ))
        })?;
        let ids = self.res.fonts.add(bytes).map_err(|e| {
            Diagnostics::from(
                Diagnostic::error("", format!("font: {e}"))
                    .with_hint("give the bytes of a TTF, OTF or TTC file"),
            )
        })?;
        let mut families: Vec<String> = Vec::new();
        for id in ids {
            let family = &self.res.fonts.face(id).family;
            if !families.contains(family) {
                families.push(family.clone());
            }
        }
        Ok(families)
    }

    /// Family names, in fallback order.
    pub fn families(&self) -> Vec<String> {
        self.res.fonts.families().map(str::to_string).collect()
    }

    /// Changes one limit on what a render may cost (see `ode_core::Limits`).
    ///
    /// # Errors
    /// An unknown name or a value that is not a whole number.
    pub fn set_limit(&mut self, name: &str, value: f64) -> Result<(), Diagnostics> {
        let value = if value >= 0.0 && value.fract() == 0.0 && value <= 2f64.powi(53) {
            serde_json::Value::from(value as u64)
        } else {
            serde_json::Value::from(value)
        };
        self.limits
            .set(name, value)
            .map_err(|e| Diagnostics::from(Diagnostic::error("", e)))
    }

    /// The limits renders are held to.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn options(&self, structure: bool) -> LayoutOptions {
        LayoutOptions {
            structure,
            limits: self.limits,
            ..LayoutOptions::default()
        }
    }

    fn template(&self, text: &str) -> Result<Template, Diagnostics> {
        let mut t = Template::parse(text)?;
        t.set_limits(self.limits);
        Ok(t)
    }

    /// Makes `bytes` the asset a document names by `key` (an image's `src`).
    pub fn add_asset(&mut self, key: &str, bytes: Vec<u8>) {
        self.res.insert(key, bytes);
    }

    /// Forgets an asset; returns whether it was there.
    pub fn remove_asset(&mut self, key: &str) -> bool {
        self.res.assets.remove(key).is_some()
    }

    /// Asset keys, sorted.
    pub fn asset_keys(&self) -> Vec<String> {
        self.res.assets.keys().cloned().collect()
    }

    /// Every error and warning of a document, as a render would find them; empty when
    /// the document is fine.
    pub fn validate(&self, json: &str) -> Vec<Diagnostic> {
        if let Err(d) = ode_core::model::parse(json).and_then(|_| self.need_fonts()) {
            return d.0;
        }
        match ode_core::compile(json, &self.res) {
            Ok(w) => w.warnings,
            Err(d) => d.0,
        }
    }

    /// Renders a JSON document.
    ///
    /// # Errors
    /// Every problem found.
    pub fn render(&self, json: &str, format: Format) -> Result<Rendered, Diagnostics> {
        let doc = ode_core::model::parse(json)?;
        self.render_model(&doc, format)
    }

    /// The number of pages a document lays out to.
    ///
    /// # Errors
    /// Every problem found.
    pub fn page_count(&self, json: &str) -> Result<usize, Diagnostics> {
        let doc = ode_core::model::parse(json)?;
        self.need_fonts()?;
        let options = self.options(false);
        let summary = ode_core::layout::layout_pages(&doc, &self.res, &options, &mut |_, _, _| {})?;
        Ok(summary.output.page_count)
    }

    /// Expands a template (JSON text) with data (JSON text) and renders the result.
    ///
    /// # Errors
    /// Syntax errors of either text (with line and column; the data's are prefixed
    /// `data:`), template errors at template paths, errors of the expanded document.
    pub fn render_template(
        &self,
        template: &str,
        data: &str,
        format: Format,
    ) -> Result<Rendered, Diagnostics> {
        let template = self.template(template)?;
        let data = parse_data(data)?;
        let doc = template.document(&data)?;
        self.render_model(&doc, format)
    }

    /// Converts Markdown (with optional YAML front matter) and renders it; image paths
    /// are asset keys.
    ///
    /// # Errors
    /// Front matter errors (with lines) and problems met while rendering.
    pub fn render_markdown(&self, markdown: &str, format: Format) -> Result<Rendered, Diagnostics> {
        let Warned {
            output: value,
            warnings: mut converted,
        } = ode_core::markdown::to_document(markdown)?;
        let rendered =
            ode_core::model::from_value(&value).and_then(|doc| self.render_model(&doc, format));
        match rendered {
            Ok(mut r) => {
                converted.append(&mut r.warnings);
                r.warnings = converted;
                Ok(r)
            }
            Err(mut d) => {
                converted.append(&mut d.0);
                Err(Diagnostics(converted))
            }
        }
    }

    /// The document a Markdown text converts to, as JSON text (pretty-printed), for
    /// editing it further.
    ///
    /// # Errors
    /// Front matter errors.
    pub fn markdown_to_document(&self, markdown: &str) -> Result<String, Diagnostics> {
        let converted = ode_core::markdown::to_document(markdown)?;
        Ok(serde_json::to_string_pretty(&converted.output).unwrap_or_default())
    }

    /// Renders a parsed document.
    ///
    /// # Errors
    /// Every problem met while laying out and exporting.
    pub fn render_model(&self, doc: &Document, format: Format) -> Result<Rendered, Diagnostics> {
        self.need_fonts()?;
        match format {
            Format::Pdf => {
                let w = ode_core::pdf_document(
                    doc,
                    &self.res,
                    &self.options(true),
                    &ode_core::export::PdfOptions::default(),
                )?;
                Ok(Rendered {
                    pages: w.output.page_count,
                    output: Output::Pdf(w.output.bytes),
                    warnings: w.warnings,
                })
            }
            Format::Svg => {
                // SVG carries no structure tree: lay out without building one.
                let options = self.options(false);
                let w = ode_core::layout::layout(doc, &self.res, &options)?;
                let svgs = ode_core::export::svg(
                    &w.output,
                    self.res.fonts(),
                    &ode_core::export::SvgOptions::default(),
                );
                Ok(Rendered {
                    pages: svgs.len(),
                    output: Output::Svg(svgs),
                    warnings: w.warnings,
                })
            }
        }
    }
}

/// A laid-out document kept for drawing its pages one at a time (a live preview draws
/// only the pages in view).
#[derive(Debug, Clone)]
pub struct Laid {
    /// The pages' frames.
    pub doc: ode_core::frame::PagedDocument,
    /// Warnings met on the way.
    pub warnings: Vec<Diagnostic>,
}

impl Laid {
    /// Page sizes in points, `(width, height)`.
    pub fn sizes(&self) -> Vec<(f32, f32)> {
        self.doc
            .pages
            .iter()
            .map(|p| (p.size.width, p.size.height))
            .collect()
    }
}

/// What a preview lays out: a document, a template with its data, or Markdown.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// Document JSON text.
    Document(&'a str),
    /// Template JSON text and data JSON text.
    Template(&'a str, &'a str),
    /// Markdown text (with optional front matter).
    Markdown(&'a str),
}

impl Core {
    /// Lays out a source without exporting it: the geometry both the PDF and the SVG
    /// pages are drawn from.
    ///
    /// # Errors
    /// Every problem found (as a render would report them).
    pub fn layout(&self, source: Source<'_>) -> Result<Laid, Diagnostics> {
        let mut warnings = Vec::new();
        let doc = match source {
            Source::Document(json) => ode_core::model::parse(json)?,
            Source::Template(template, data) => {
                let template = self.template(template)?;
                template.document(&parse_data(data)?)?
            }
            Source::Markdown(markdown) => {
                let converted = ode_core::markdown::to_document(markdown)?;
                warnings = converted.warnings;
                ode_core::model::from_value(&converted.output).map_err(|mut d| {
                    let mut all = std::mem::take(&mut warnings);
                    all.append(&mut d.0);
                    Diagnostics(all)
                })?
            }
        };
        self.need_fonts()?;
        let options = self.options(false);
        let mut w = ode_core::layout::layout(&doc, &self.res, &options)?;
        warnings.append(&mut w.warnings);
        Ok(Laid {
            doc: w.output,
            warnings,
        })
    }

    /// One page (zero-based) of a layout as a standalone SVG document.
    ///
    /// # Errors
    /// When the layout has no such page.
    pub fn page_svg(&self, laid: &Laid, index: usize) -> Result<String, Diagnostics> {
        if index >= laid.doc.pages.len() {
            return Err(Diagnostics::from(Diagnostic::error(
                "",
                format!(
                    "page index {index} is out of range: the document has {} page(s)",
                    laid.doc.pages.len()
                ),
            )));
        }
        Ok(ode_core::export::svg_page(
            &laid.doc,
            index,
            self.res.fonts(),
            &ode_core::export::SvgOptions::default(),
        ))
    }
}

impl Core {
    /// Layout needs at least one font (the lite build starts with none).
    fn need_fonts(&self) -> Result<(), Diagnostics> {
        if self.res.fonts.faces().is_empty() {
            return Err(Diagnostics::from(
                Diagnostic::error("", "no fonts: this engine has none to lay out text with")
                    .with_hint("add a TTF, OTF or TTC file with `addFont` (or `loadDefaultFonts`)"),
            ));
        }
        Ok(())
    }
}

/// The data of a template: JSON text; a syntax error has its line and column.
fn parse_data(data: &str) -> Result<Value, Diagnostics> {
    serde_json::from_str(data).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        let mut d = Diagnostic::error("", format!("data: invalid JSON: {msg}"));
        d.span.line = Some(e.line());
        d.span.column = Some(e.column());
        Diagnostics::from(d)
    })
}

/// The JSON Schema of the document format.
pub fn schema() -> Value {
    ode_core::model::schema()
}

/// A diagnostic as the JavaScript API shows it: flat, with the path at the top level.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JsDiagnostic {
    /// `"error"` or `"warning"`.
    pub severity: ode_core::Severity,
    /// JSON pointer (`""` for the whole document).
    pub path: String,
    /// One-based line, for syntax errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// One-based column, for syntax errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// Suggestions for a fix (possibly empty).
    pub hints: Vec<String>,
}

impl From<&Diagnostic> for JsDiagnostic {
    fn from(d: &Diagnostic) -> Self {
        JsDiagnostic {
            severity: d.severity,
            path: d.span.path.clone(),
            line: d.span.line,
            column: d.span.column,
            message: d.message.clone(),
            hints: d.hints.clone(),
        }
    }
}

/// Diagnostics as the JSON text of an array of [`JsDiagnostic`]s.
pub fn diagnostics_json(diags: &[Diagnostic]) -> String {
    let flat: Vec<JsDiagnostic> = diags.iter().map(JsDiagnostic::from).collect();
    serde_json::to_string(&flat).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = r#"{"ode": 1, "content": [{"type": "paragraph", "text": "Hello"}]}"#;

    #[test]
    fn renders_pdf_and_svg_with_builtin_fonts() {
        let core = Core::new();
        let pdf = core.render(HELLO, Format::Pdf).unwrap();
        let Output::Pdf(bytes) = pdf.output else {
            panic!("pdf")
        };
        assert!(bytes.starts_with(b"%PDF-"));
        let svg = core.render(HELLO, Format::Svg).unwrap();
        let Output::Svg(pages) = svg.output else {
            panic!("svg")
        };
        assert_eq!(pages.len(), 1);
        assert!(pages[0].starts_with("<svg") || pages[0].starts_with("<?xml"));
        assert_eq!(core.page_count(HELLO).unwrap(), 1);
    }

    #[test]
    fn flat_diagnostics_carry_paths_and_lines() {
        let core = Core::new();
        let d = core.validate(r#"{"ode": 1, "content": [{"type": "paragraf"}]}"#);
        let json: Value = serde_json::from_str(&diagnostics_json(&d)).unwrap();
        assert_eq!(json[0]["path"], "/content/0/type");
        assert_eq!(json[0]["severity"], "error");
        assert!(json[0].get("line").is_none());
        let d = core.validate("{\"ode\": 1,\n  \"content\": [}");
        let json: Value = serde_json::from_str(&diagnostics_json(&d)).unwrap();
        assert_eq!(json[0]["line"], 2);
        assert_eq!(json[0]["path"], "");
    }

    #[test]
    fn bad_format_and_bad_font_are_diagnostics() {
        assert!(Format::parse("PDF").is_ok());
        let e = Format::parse("png").unwrap_err();
        assert!(e.0[0].message.contains("`png`"), "{e}");
        let e = Core::without_fonts()
            .add_font(b"not a font".to_vec())
            .unwrap_err();
        assert!(e.0[0].message.starts_with("font:"), "{e}");
    }

    #[test]
    fn an_engine_without_fonts_reports_it() {
        let mut core = Core::without_fonts();
        for e in [
            core.render(HELLO, Format::Pdf).unwrap_err(),
            core.render(HELLO, Format::Svg).unwrap_err(),
            core.page_count(HELLO).unwrap_err(),
            Diagnostics(core.validate(HELLO)),
        ] {
            assert_eq!(e.len(), 1);
            assert!(e.0[0].message.starts_with("no fonts"), "{e}");
        }
        // Syntax and model errors come first: they do not depend on fonts.
        assert!(core.validate("{").iter().all(|d| d.span.line == Some(1)));
        core.add_font(include_bytes!("../../ode-core/fonts/DejaVuSans.ttf").to_vec())
            .unwrap();
        assert_eq!(core.page_count(HELLO).unwrap(), 1);
    }

    #[test]
    fn a_layout_draws_the_same_pages_as_a_render() {
        let mut core = Core::new();
        for (key, bytes) in [
            (
                "assets/logo.svg",
                &include_bytes!("../../examples/assets/logo.svg")[..],
            ),
            (
                "assets/chart.png",
                &include_bytes!("../../examples/assets/chart.png")[..],
            ),
            (
                "assets/photo.jpg",
                &include_bytes!("../../examples/assets/photo.jpg")[..],
            ),
        ] {
            core.add_asset(key, bytes.to_vec());
        }
        let report = include_str!("../../examples/report.json");
        let laid = core.layout(Source::Document(report)).unwrap();
        let Output::Svg(pages) = core.render(report, Format::Svg).unwrap().output else {
            panic!("svg")
        };
        assert_eq!(laid.doc.pages.len(), pages.len());
        assert!(pages.len() > 10);
        for i in [0, pages.len() / 2, pages.len() - 1] {
            assert_eq!(core.page_svg(&laid, i).unwrap(), pages[i], "page {i}");
        }
        let (w, h) = laid.sizes()[0];
        assert!(
            (w - 595.28).abs() < 0.5 && (h - 841.89).abs() < 0.5,
            "{w}x{h}"
        );
        let e = core.page_svg(&laid, pages.len()).unwrap_err();
        assert!(e.0[0].message.contains("out of range"), "{e}");
    }

    #[test]
    fn templates_and_markdown_lay_out_and_report_errors() {
        let core = Core::new();
        let t = r#"{"ode": 1, "content": [{"type": "paragraph", "text": "Hi {{ name }}"}]}"#;
        let laid = core
            .layout(Source::Template(t, r#"{"name": "Ada"}"#))
            .unwrap();
        assert_eq!(laid.doc.pages.len(), 1);
        let e = core.layout(Source::Template(t, "{\n]")).unwrap_err();
        assert_eq!(e.0[0].span.line, Some(2));
        let laid = core.layout(Source::Markdown("# Title\n\nBody.")).unwrap();
        assert_eq!(laid.doc.pages.len(), 1);
        let e = core
            .layout(Source::Document(
                r#"{"ode": 1, "content": [{"type": "paragraf"}]}"#,
            ))
            .unwrap_err();
        assert_eq!(e.0[0].span.path, "/content/0/type");
    }

    #[test]
    fn template_data_errors_have_lines() {
        let core = Core::new();
        let t = r#"{"ode": 1, "content": [{"type": "paragraph", "text": "Hi {{ name }}"}]}"#;
        let r = core
            .render_template(t, r#"{"name": "Ada"}"#, Format::Svg)
            .unwrap();
        assert_eq!(r.pages, 1);
        let e = core
            .render_template(t, "{\n\"name\": }", Format::Svg)
            .unwrap_err();
        assert_eq!(e.0[0].span.line, Some(2));
        assert!(e.0[0].message.starts_with("data: invalid JSON"), "{e}");
    }
}
