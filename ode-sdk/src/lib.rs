//! Embed ODE in a Rust program: render a document to PDF or SVG in one call, with the
//! built-in fonts, fonts of your own, and images read from a folder.
//!
//! ```
//! let json = r#"{"ode": 1, "content": [{"type": "paragraph", "text": "Hello from ODE"}]}"#;
//! let pdf = ode_sdk::render_pdf(json).unwrap();
//! assert!(pdf.starts_with(b"%PDF-"));
//! ```
//!
//! With fonts and images:
//!
//! ```no_run
//! use ode_sdk::{Format, Renderer};
//! let renderer = Renderer::new()
//!     .with_font_file("fonts/Inter-Regular.otf")?
//!     .with_asset_dir("documents/");
//! let rendered = renderer.render(&std::fs::read_to_string("documents/invoice.json")?, Format::Pdf)?;
//! for warning in &rendered.warnings {
//!     eprintln!("{warning}");
//! }
//! std::fs::write("invoice.pdf", rendered.output.into_bytes())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "service")]
pub mod admission;
#[cfg(feature = "service")]
pub mod api;
#[cfg(feature = "service")]
pub mod blob;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "service")]
pub mod config;
pub mod data;
#[cfg(feature = "service")]
pub mod db;
#[cfg(feature = "service")]
pub mod domain;
#[cfg(feature = "service")]
pub mod egress;
#[cfg(feature = "service")]
pub mod jobs;
mod pipeline;
#[cfg(feature = "service")]
pub mod ratelimit;
mod resources;
#[cfg(feature = "service")]
pub mod service;
mod sources;

use std::path::{Path, PathBuf};

pub use ode_core;
pub use ode_core::export::PdfOptions;
pub use ode_core::export::png::PngOptions;
pub use ode_core::model::PdfStandard;
pub use ode_core::{Diagnostic, Diagnostics, Guard, Limits};
pub use resources::DirResources;

use ode_core::text::FontBook;

/// Logs panics through `tracing` (JSON in the API and the worker), with where they
/// happened: a render or a font check that panicked is answered as an error, and its
/// panic is one log line rather than raw text among the JSON.
#[cfg(feature = "service")]
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(panic.at = %at, panic.message = %what, "panic");
    }));
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One PDF file.
    Pdf,
    /// One SVG document per page.
    Svg,
    /// One PNG image per page, at 96 dpi (see [`Renderer::render_png`] for others).
    Png,
}

/// What a render produced.
#[derive(Debug, Clone)]
pub enum Output {
    /// PDF bytes.
    Pdf(Vec<u8>),
    /// SVG documents, one per page.
    Svg(Vec<String>),
    /// PNG files, one per page.
    Png(Vec<Vec<u8>>),
}

impl Output {
    /// The PDF bytes, the SVG pages joined by newlines, or the first PNG page.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Output::Pdf(b) => b,
            Output::Svg(pages) => pages.join("\n").into_bytes(),
            Output::Png(pages) => pages.into_iter().next().unwrap_or_default(),
        }
    }
}

/// A render's output and the warnings met on the way.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The output.
    pub output: Output,
    /// Warnings (the output was produced regardless).
    pub warnings: Vec<Diagnostic>,
    /// Number of pages.
    pub pages: usize,
}

/// Why a render failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The document has errors; each names its place.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// A font file could not be read or parsed.
    #[error("font {path}: {message}")]
    Font {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl RenderError {
    /// Whether retrying could succeed (never for these: they are all about the input).
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// A reusable renderer: fonts parsed once, images read from a folder.
#[derive(Debug, Clone)]
pub struct Renderer {
    resources: DirResources,
    pdf: PdfOptions,
    layout: ode_core::layout::LayoutOptions,
    /// Write PDF on a second thread while layout goes on.
    pdf_thread: bool,
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new()
    }
}

impl Renderer {
    /// The built-in fonts; images are not available until an asset folder is set.
    pub fn new() -> Self {
        Renderer {
            resources: DirResources::new(FontBook::with_defaults(), None),
            pdf: PdfOptions::default(),
            layout: ode_core::layout::LayoutOptions::default(),
            pdf_thread: true,
        }
    }

    /// Adds a TTF, OTF or TTC file.
    ///
    /// # Errors
    /// [`RenderError::Font`] when the file cannot be read or is not a font.
    pub fn with_font_file(mut self, path: impl AsRef<Path>) -> Result<Self, RenderError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| RenderError::Font {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        ode_core::text::check_font(&bytes).map_err(|message| RenderError::Font {
            path: path.to_path_buf(),
            message,
        })?;
        self.resources
            .fonts_mut()
            .add(bytes)
            .map_err(|e| RenderError::Font {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(self)
    }

    /// Adds font bytes.
    ///
    /// # Errors
    /// [`RenderError::Font`] when the bytes are not a font.
    pub fn with_font_bytes(mut self, bytes: Vec<u8>) -> Result<Self, RenderError> {
        ode_core::text::check_font(&bytes).map_err(|message| RenderError::Font {
            path: PathBuf::from("<bytes>"),
            message,
        })?;
        self.resources
            .fonts_mut()
            .add(bytes)
            .map_err(|e| RenderError::Font {
                path: PathBuf::from("<bytes>"),
                message: e.to_string(),
            })?;
        Ok(self)
    }

    /// Writes PDF on the calling thread only (by default a second thread writes pages
    /// while layout goes on, when the machine has two cores): for callers that already
    /// render several documents at once, one per core.
    pub fn single_threaded(mut self) -> Self {
        self.pdf_thread = false;
        self
    }

    /// PDF settings for [`Format::Pdf`]: tagging (on by default) and standards to
    /// conform to (by default the document's own `pdf` settings apply).
    pub fn with_pdf_options(mut self, options: PdfOptions) -> Self {
        self.pdf = options;
        self
    }

    /// Image `src` keys are read as paths relative to this folder (and may not leave it).
    pub fn with_asset_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.resources.set_root(Some(dir.into()));
        self
    }

    /// Images (and other assets) held in memory, keyed by the `src` documents use;
    /// looked up before the asset folder.
    pub fn with_assets(
        mut self,
        assets: std::sync::Arc<std::collections::BTreeMap<String, ode_core::text::Bytes>>,
    ) -> Self {
        self.resources.set_memory_assets(Some(assets));
        self
    }

    /// Bounds on what a render may cost (pages, images, SVGs); see [`Limits`]. Templates
    /// carry their own (`Template::set_limits`).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.layout.limits = limits;
        self
    }

    /// The limits renders are held to.
    pub fn limits(&self) -> &Limits {
        &self.layout.limits
    }

    /// Asked between steps of every render whether to go on (a deadline, a cancel
    /// button, a memory budget): see [`Guard`].
    pub fn with_guard(mut self, guard: Guard) -> Self {
        self.layout.guard = guard;
        self
    }

    /// The guard renders ask.
    pub fn guard(&self) -> &Guard {
        &self.layout.guard
    }

    /// The fonts and assets this renderer uses.
    pub fn resources(&self) -> &DirResources {
        &self.resources
    }

    /// Renders a JSON document.
    ///
    /// # Errors
    /// [`RenderError::Invalid`] with every problem found.
    pub fn render(&self, json: &str, format: Format) -> Result<Rendered, RenderError> {
        let doc = ode_core::model::parse(json).map_err(RenderError::Invalid)?;
        self.render_model(&doc, format, &PngOptions::default(), None)
    }

    /// Renders a JSON document to PNG at `options.dpi`: every page, or only `page`
    /// (1-based). Pages are rasterized as layout finishes them, so memory holds one page's
    /// pixels at a time.
    ///
    /// # Errors
    /// [`RenderError::Invalid`] with every problem found, also for a resolution out of
    /// range or a page over `options.max_pixels`. A `page` the document does not have
    /// gives no PNG (compare with [`Rendered::pages`]).
    pub fn render_png(
        &self,
        json: &str,
        options: &PngOptions,
        page: Option<usize>,
    ) -> Result<Rendered, RenderError> {
        let doc = ode_core::model::parse(json).map_err(RenderError::Invalid)?;
        self.render_model(&doc, Format::Png, options, page)
    }

    /// Renders a parsed document; `png` and `page` apply to PNG output.
    ///
    /// # Errors
    /// [`RenderError::Invalid`] with every problem found.
    pub fn render_model(
        &self,
        doc: &ode_core::model::Document,
        format: Format,
        png: &PngOptions,
        page: Option<usize>,
    ) -> Result<Rendered, RenderError> {
        let fonts = self.resources.fonts();
        let layout = &self.layout;
        match format {
            Format::Pdf => {
                // Written page by page as layout finishes each one, on a second
                // thread when there is a second core.
                let two_cores = self.pdf_thread
                    && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
                let w = if two_cores {
                    pipeline::pdf_document(doc, &self.resources, layout, &self.pdf)
                } else {
                    ode_core::pdf_document(doc, &self.resources, layout, &self.pdf)
                }
                .map_err(RenderError::Invalid)?;
                Ok(Rendered {
                    pages: w.output.page_count,
                    output: Output::Pdf(w.output.bytes),
                    warnings: w.warnings,
                })
            }
            Format::Svg => {
                let w = ode_core::layout::layout(doc, &self.resources, layout)
                    .map_err(RenderError::Invalid)?;
                let pages = w.output.pages.len();
                let svgs = ode_core::export::svg(
                    &w.output,
                    fonts,
                    &ode_core::export::SvgOptions::default(),
                );
                Ok(Rendered {
                    output: Output::Svg(svgs),
                    warnings: w.warnings,
                    pages,
                })
            }
            Format::Png => {
                let only = match page {
                    Some(0) => {
                        return Err(RenderError::Invalid(Diagnostics::from(Diagnostic::error(
                            "",
                            "pages count from 1",
                        ))));
                    }
                    Some(p) => Some(p - 1),
                    None => None,
                };
                let w = ode_core::png_document(doc, &self.resources, layout, png, only)
                    .map_err(RenderError::Invalid)?;
                Ok(Rendered {
                    pages: w.output.page_count,
                    output: Output::Png(w.output.pages),
                    warnings: w.warnings,
                })
            }
        }
    }

    /// Checks a document without exporting it: every error and warning.
    pub fn validate(&self, json: &str) -> Vec<Diagnostic> {
        match ode_core::compile(json, &self.resources) {
            Ok(w) => w.warnings,
            Err(d) => d.0,
        }
    }
}

use ode_core::Resources as _;

/// Renders a JSON document to PDF with the built-in fonts.
///
/// # Errors
/// [`RenderError::Invalid`] with every problem found.
pub fn render_pdf(json: &str) -> Result<Vec<u8>, RenderError> {
    Ok(Renderer::new()
        .render(json, Format::Pdf)?
        .output
        .into_bytes())
}
