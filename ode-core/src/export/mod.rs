//! Exporters: pages → bytes. Each reads only [`PagedDocument`](crate::frame::PagedDocument).

mod pdf;
mod svg;

pub use pdf::{PdfOptions, PdfWriter, pdf};
pub use svg::{SvgOptions, svg, svg_page};
