//! Exporters: pages → bytes. Each reads only [`PagedDocument`](crate::frame::PagedDocument).

mod pdf;
#[cfg(feature = "png")]
pub mod png;
mod svg;

pub use pdf::{PdfOptions, PdfWriter, pdf};
pub use svg::{SvgOptions, svg, svg_page};
