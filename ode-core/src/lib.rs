//! ODE's engine: structured documents in, paginated PDF and SVG out.
//!
//! The pipeline is a chain of plain functions, each over the previous stage's output:
//!
//! ```text
//! JSON ──model::parse──▶ Document ──layout::layout──▶ PagedDocument ──export::{pdf, svg}──▶ bytes
//! ```
//!
//! The engine does no IO: fonts and images come in through [`Resources`], which the
//! caller implements (a [`FontBook`](text::FontBook) alone is enough for documents
//! without images). It builds for `wasm32-unknown-unknown`.
//!
//! ```
//! let fonts = ode_core::text::FontBook::with_defaults();
//! let json = r#"{"ode": 1, "content": [{"type": "heading", "level": 1, "text": "Hello"},
//!                                       {"type": "paragraph", "text": "From ODE."}]}"#;
//! let pdf = ode_core::render_pdf(json, &fonts).unwrap();
//! assert!(pdf.starts_with(b"%PDF-"));
//! ```

pub mod barcode;
pub mod diag;
pub mod export;
pub mod frame;
pub mod geom;
pub mod image;
pub mod layout;
mod limits;
#[cfg(feature = "markdown")]
pub mod markdown;
pub mod model;
pub mod path;
pub mod resources;
#[cfg(feature = "template")]
pub mod template;
pub mod text;

pub use diag::{Diagnostic, Diagnostics, Severity, Warned};
pub use limits::{Guard, Limits};
pub use resources::{AssetError, MemoryResources, Resources};

/// Parses and lays out a JSON document.
///
/// # Errors
/// Every error found in the document, with warnings alongside.
pub fn compile(
    json: &str,
    res: &dyn Resources,
) -> Result<Warned<frame::PagedDocument>, Diagnostics> {
    let doc = model::parse(json)?;
    layout::layout(&doc, res, &layout::LayoutOptions::default())
}

/// Renders a JSON document to PDF bytes in one call, ignoring warnings.
///
/// # Errors
/// Every error found in the document.
pub fn render_pdf(json: &str, res: &dyn Resources) -> Result<Vec<u8>, Diagnostics> {
    let doc = model::parse(json)?;
    let opts = (
        layout::LayoutOptions::default(),
        export::PdfOptions::default(),
    );
    Ok(pdf_document(&doc, res, &opts.0, &opts.1)?.output.bytes)
}

/// A PDF and its page count.
#[derive(Debug, Clone)]
pub struct PdfOutput {
    /// The file.
    pub bytes: Vec<u8>,
    /// Its number of pages.
    pub page_count: usize,
}

/// Lays out a document and writes it as PDF page by page, so that memory does not grow
/// with the page count beyond the PDF itself.
///
/// # Errors
/// Every error found in the document, with warnings alongside.
pub fn pdf_document(
    doc: &model::Document,
    res: &dyn Resources,
    layout_options: &layout::LayoutOptions,
    pdf_options: &export::PdfOptions,
) -> Result<Warned<PdfOutput>, Diagnostics> {
    let (layout_options, pdf_options) = pdf_settings(doc, layout_options, pdf_options)?;
    let mut writer = export::PdfWriter::new(res.fonts(), &pdf_options);
    let mut failed = None;
    let summary = layout::layout_pages(doc, res, &layout_options, &mut |page, images, anchors| {
        if failed.is_none()
            && let Err(e) = writer.page(&page, images, anchors)
        {
            failed = Some(e);
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let Warned {
        output: summary,
        warnings,
    } = summary;
    let bytes = writer.finish_with(&summary.outline, &doc.metadata, &summary.structure);
    PdfOutput::with_warnings(bytes, summary.page_count, warnings)
}

/// The options a PDF render of `doc` lays out and writes with: the document's own
/// `pdf` settings apply where `pdf_options` leaves them open, and the structure is
/// built only for a tagged file.
///
/// # Errors
/// Standards that cannot be combined, or one that needs the tagging that is off.
pub fn pdf_settings(
    doc: &model::Document,
    layout_options: &layout::LayoutOptions,
    pdf_options: &export::PdfOptions,
) -> Result<(layout::LayoutOptions, export::PdfOptions), Diagnostics> {
    let pdf_options = pdf_options.for_document(doc)?;
    let layout_options = layout::LayoutOptions {
        structure: pdf_options.tagged,
        ..layout_options.clone()
    };
    Ok((layout_options, pdf_options))
}

impl PdfOutput {
    /// The writer's result with the layout's page count and warnings; when writing
    /// failed, the warnings come after its errors.
    ///
    /// # Errors
    /// The writer's errors.
    pub fn with_warnings(
        bytes: Result<Vec<u8>, Diagnostics>,
        page_count: usize,
        mut warnings: Vec<Diagnostic>,
    ) -> Result<Warned<PdfOutput>, Diagnostics> {
        match bytes {
            Ok(bytes) => Ok(Warned {
                output: PdfOutput { bytes, page_count },
                warnings,
            }),
            Err(mut e) => {
                e.0.append(&mut warnings);
                Err(e)
            }
        }
    }
}

/// Renders a JSON document to one SVG per page, ignoring warnings.
///
/// # Errors
/// Every error found in the document.
pub fn render_svg(json: &str, res: &dyn Resources) -> Result<Vec<String>, Diagnostics> {
    let paged = compile(json, res)?.output;
    Ok(export::svg(
        &paged,
        res.fonts(),
        &export::SvgOptions::default(),
    ))
}

/// PNG pages and the document's page count.
#[cfg(feature = "png")]
#[derive(Debug, Clone)]
pub struct PngOutput {
    /// One PNG file per page rendered, in order (empty when the one page asked for does
    /// not exist).
    pub pages: Vec<Vec<u8>>,
    /// The document's number of pages (all of them, also when only one was rendered).
    pub page_count: usize,
}

/// Lays out a document and rasterizes its pages as PNG as each is finished, or only the
/// page `only` (zero-based) when given.
///
/// # Errors
/// Every error found in the document; a page that would exceed
/// [`PngOptions::max_pixels`](export::png::PngOptions::max_pixels) or a resolution out of
/// range. With `only` past the last page, no page is rendered and `pages` is empty.
#[cfg(feature = "png")]
pub fn png_document(
    doc: &model::Document,
    res: &dyn Resources,
    layout_options: &layout::LayoutOptions,
    png_options: &export::png::PngOptions,
    only: Option<usize>,
) -> Result<Warned<PngOutput>, Diagnostics> {
    // A bad resolution is found before any layout work.
    png_options
        .pixel_size(1.0, 1.0)
        .map_err(|e| Diagnostics::from(Diagnostic::from(e)))?;
    let mut pages = Vec::new();
    let mut failed = None;
    let mut index = 0;
    let summary = layout::layout_pages(doc, res, layout_options, &mut |page, images, _| {
        let i = index;
        index += 1;
        if failed.is_some() || only.is_some_and(|o| o != i) {
            return;
        }
        match export::png::page_png(&page, images, res.fonts(), png_options) {
            Ok(png) => pages.push(png),
            Err(e) => failed = Some(e),
        }
    })?;
    if let Some(e) = failed {
        let mut d = Diagnostics::from(Diagnostic::from(e));
        d.0.extend(summary.warnings);
        return Err(d);
    }
    Ok(Warned {
        output: PngOutput {
            pages,
            page_count: summary.output.page_count,
        },
        warnings: summary.warnings,
    })
}

/// Renders a JSON document to one PNG per page at `options.dpi`, ignoring warnings.
///
/// # Errors
/// Every error found in the document, or a page too large for `options.max_pixels`.
#[cfg(feature = "png")]
pub fn render_png(
    json: &str,
    res: &dyn Resources,
    options: &export::png::PngOptions,
) -> Result<Vec<Vec<u8>>, Diagnostics> {
    let doc = model::parse(json)?;
    Ok(
        png_document(&doc, res, &layout::LayoutOptions::default(), options, None)?
            .output
            .pages,
    )
}
