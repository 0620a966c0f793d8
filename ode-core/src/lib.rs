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

pub mod diag;
pub mod export;
pub mod frame;
pub mod geom;
pub mod layout;
pub mod model;
pub mod path;
pub mod resources;
pub mod text;

pub use diag::{Diagnostic, Diagnostics, Severity, Warned};
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
    let paged = compile(json, res)?.output;
    export::pdf(&paged, res.fonts(), &export::PdfOptions::default())
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
