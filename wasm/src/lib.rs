//! ODE in WebAssembly: the JavaScript API of the npm package `@ode/engine`.
//!
//! An [`Engine`] holds parsed fonts and assets (images by key) and renders documents,
//! templates with data and Markdown to SVG pages or PDF bytes, all in the browser or in
//! Node. Failures throw a JavaScript `Error` named `OdeError` whose `diagnostics`
//! property lists every problem with its JSON path. The work is done by
//! [`engine::Core`], plain Rust over `ode-core`; this file converts values.

pub mod engine;

use std::cell::RefCell;

use engine::{Core, Format, Laid, Output, Rendered, Source, diagnostics_json};
use js_sys::{Array, Object, Reflect, Uint8Array};
use ode_core::Diagnostics;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** One problem found in a document, and where. */
export interface Diagnostic {
  /** `"error"` stops rendering; a `"warning"` does not. */
  severity: "error" | "warning";
  /** JSON pointer to the offending value (`""` is the whole document). */
  path: string;
  /** One-based line of a JSON syntax error. */
  line?: number;
  /** One-based column of a JSON syntax error. */
  column?: number;
  /** What is wrong (lowercase, no final period). */
  message: string;
  /** Suggestions for a fix, possibly none. */
  hints: string[];
}

/** An output format. */
export type Format = "pdf" | "svg";

/** A document, a template or template data: JSON text or an already parsed value. */
export type JsonInput = string | object;

/** What `Engine.render` and friends produced: narrow on `format` to get the output's type. */
export type RenderResult = PdfResult | SvgResult;

/** A PDF render. */
export interface PdfResult {
  format: "pdf";
  /** Number of pages. */
  pages: number;
  /** Warnings met on the way; the output was produced regardless. */
  warnings: Diagnostic[];
  /** The PDF file. */
  output: Uint8Array;
}

/** A layout kept by the engine for `pageSvg`: what `layout` and friends return. */
export interface LayoutInfo {
  /** Number of pages. */
  pages: number;
  /** Each page's size in points (1/72 inch). */
  sizes: { width: number; height: number }[];
  /** Warnings met on the way. */
  warnings: Diagnostic[];
}

/** An SVG render. */
export interface SvgResult {
  format: "svg";
  /** Number of pages. */
  pages: number;
  /** Warnings met on the way; the output was produced regardless. */
  warnings: Diagnostic[];
  /** One standalone SVG document per page. */
  output: string[];
}
"#;

/// Fonts parsed once and images by key, reused across renders.
#[wasm_bindgen]
pub struct Engine {
    core: Core,
    /// The last successful layout, drawn page by page by `pageSvg`.
    laid: Option<Laid>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

#[wasm_bindgen]
impl Engine {
    /// An engine with the built-in DejaVu fonts when this build embeds them (the default
    /// build does; the `lite` build has none: add fonts with `addFont`).
    #[wasm_bindgen(constructor)]
    pub fn new() -> Engine {
        Engine {
            core: Core::new(),
            laid: None,
        }
    }

    /// An engine without any font, whatever the build.
    #[wasm_bindgen(js_name = withoutFonts)]
    pub fn without_fonts() -> Engine {
        Engine {
            core: Core::without_fonts(),
            laid: None,
        }
    }

    /// Whether this build has the DejaVu fonts compiled in.
    #[wasm_bindgen(js_name = hasBuiltinFonts)]
    pub fn has_builtin_fonts() -> bool {
        Core::has_builtin_fonts()
    }

    /// Adds every face of a TTF, OTF or TTC file; returns the family names it added.
    #[wasm_bindgen(js_name = addFont, unchecked_return_type = "string[]")]
    pub fn add_font(&mut self, bytes: Vec<u8>) -> Result<Vec<String>, JsValue> {
        self.core.add_font(bytes).map_err(error)
    }

    /// Font family names, in fallback order.
    #[wasm_bindgen(unchecked_return_type = "string[]")]
    pub fn families(&self) -> Vec<String> {
        self.core.families()
    }

    /// Makes `bytes` (PNG, JPEG or SVG) the image a document names by `key` in `src`.
    #[wasm_bindgen(js_name = addAsset)]
    pub fn add_asset(&mut self, key: &str, bytes: Vec<u8>) {
        self.core.add_asset(key, bytes);
    }

    /// Changes one limit on what a render may cost, by its name (`max_pages`,
    /// `max_image_pixels`, `max_template_bytes`, …); throws an `OdeError` for an unknown
    /// name or a value that is not a whole number.
    #[wasm_bindgen(js_name = setLimit)]
    pub fn set_limit(&mut self, name: &str, value: f64) -> Result<(), JsValue> {
        self.core.set_limit(name, value).map_err(error)
    }

    /// Forgets an asset; returns whether it was there.
    #[wasm_bindgen(js_name = removeAsset)]
    pub fn remove_asset(&mut self, key: &str) -> bool {
        self.core.remove_asset(key)
    }

    /// Asset keys, sorted.
    #[wasm_bindgen(js_name = assetKeys, unchecked_return_type = "string[]")]
    pub fn asset_keys(&self) -> Vec<String> {
        self.core.asset_keys()
    }

    /// Every error and warning of a document (empty when it is fine). Never throws for
    /// a bad document: its problems are the result.
    #[wasm_bindgen(unchecked_return_type = "Diagnostic[]")]
    pub fn validate(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
    ) -> Result<JsValue, JsValue> {
        let json = text(&doc)?;
        Ok(diagnostics(&self.core.validate(&json)))
    }

    /// Renders a document to one SVG document per page.
    #[wasm_bindgen(js_name = renderSvg, unchecked_return_type = "string[]")]
    pub fn render_svg(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
    ) -> Result<Vec<String>, JsValue> {
        match self
            .core
            .render(&text(&doc)?, Format::Svg)
            .map_err(error)?
            .output
        {
            Output::Svg(pages) => Ok(pages),
            Output::Pdf(_) => Err(JsError::new("unexpected PDF output").into()),
        }
    }

    /// Renders a document to PDF bytes.
    #[wasm_bindgen(js_name = renderPdf)]
    pub fn render_pdf(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
    ) -> Result<Vec<u8>, JsValue> {
        match self
            .core
            .render(&text(&doc)?, Format::Pdf)
            .map_err(error)?
            .output
        {
            Output::Pdf(bytes) => Ok(bytes),
            Output::Svg(_) => Err(JsError::new("unexpected SVG output").into()),
        }
    }

    /// Renders a document to `"pdf"` or `"svg"`, with the page count and warnings.
    #[wasm_bindgen(unchecked_return_type = "RenderResult")]
    pub fn render(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Format")] format: &str,
    ) -> Result<JsValue, JsValue> {
        let format = Format::parse(format).map_err(error)?;
        let r = self.core.render(&text(&doc)?, format).map_err(error)?;
        Ok(result(r))
    }

    /// Lays out a document without exporting it and keeps the layout, so that
    /// `pageSvg` draws its pages one at a time (a preview draws the pages in view).
    /// A failed layout throws and leaves the previous one in place.
    #[wasm_bindgen(unchecked_return_type = "LayoutInfo")]
    pub fn layout(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
    ) -> Result<JsValue, JsValue> {
        let json = text(&doc)?;
        self.keep(Source::Document(&json))
    }

    /// `layout` for a template expanded with data.
    #[wasm_bindgen(js_name = layoutTemplate, unchecked_return_type = "LayoutInfo")]
    pub fn layout_template(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] template: JsValue,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] data: JsValue,
    ) -> Result<JsValue, JsValue> {
        let (template, data) = (text(&template)?, text(&data)?);
        self.keep(Source::Template(&template, &data))
    }

    /// `layout` for Markdown (with optional YAML front matter).
    #[wasm_bindgen(js_name = layoutMarkdown, unchecked_return_type = "LayoutInfo")]
    pub fn layout_markdown(&mut self, markdown: &str) -> Result<JsValue, JsValue> {
        self.keep(Source::Markdown(markdown))
    }

    /// One page (zero-based) of the last successful layout, as a standalone SVG
    /// document: the same string `renderSvg` gives for that page.
    #[wasm_bindgen(js_name = pageSvg)]
    pub fn page_svg(&self, index: u32) -> Result<String, JsValue> {
        let Some(laid) = &self.laid else {
            return Err(error(Diagnostics::from(
                ode_core::Diagnostic::error("", "no layout yet")
                    .with_hint("call `layout`, `layoutTemplate` or `layoutMarkdown` first"),
            )));
        };
        self.core.page_svg(laid, index as usize).map_err(error)
    }

    /// The number of pages a document lays out to.
    #[wasm_bindgen(js_name = pageCount)]
    pub fn page_count(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
    ) -> Result<u32, JsValue> {
        let n = self.core.page_count(&text(&doc)?).map_err(error)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Expands a template with data and renders it to `"pdf"` or `"svg"`.
    #[wasm_bindgen(js_name = renderTemplate, unchecked_return_type = "RenderResult")]
    pub fn render_template(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] template: JsValue,
        #[wasm_bindgen(unchecked_param_type = "JsonInput")] data: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Format")] format: &str,
    ) -> Result<JsValue, JsValue> {
        let format = Format::parse(format).map_err(error)?;
        let r = self
            .core
            .render_template(&text(&template)?, &text(&data)?, format)
            .map_err(error)?;
        Ok(result(r))
    }

    /// Converts Markdown (with optional YAML front matter) and renders it to `"pdf"` or
    /// `"svg"`; image paths are asset keys.
    #[wasm_bindgen(js_name = renderMarkdown, unchecked_return_type = "RenderResult")]
    pub fn render_markdown(
        &self,
        markdown: &str,
        #[wasm_bindgen(unchecked_param_type = "Format")] format: &str,
    ) -> Result<JsValue, JsValue> {
        let format = Format::parse(format).map_err(error)?;
        let r = self.core.render_markdown(markdown, format).map_err(error)?;
        Ok(result(r))
    }

    /// The document JSON a Markdown text converts to (pretty-printed).
    #[wasm_bindgen(js_name = markdownToDocument)]
    pub fn markdown_to_document(&self, markdown: &str) -> Result<String, JsValue> {
        self.core.markdown_to_document(markdown).map_err(error)
    }
}

/// The JSON Schema (draft 2020-12) of the document format.
#[wasm_bindgen(unchecked_return_type = "object")]
pub fn schema() -> JsValue {
    let text = serde_json::to_string(&engine::schema()).unwrap_or_else(|_| "{}".into());
    js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL)
}

/// The version of the engine.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

thread_local! {
    /// The engine behind the module-level functions, made on first use.
    static DEFAULT: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

fn with_default<T>(f: impl FnOnce(&mut Engine) -> T) -> T {
    DEFAULT.with(|cell| f(cell.borrow_mut().get_or_insert_with(Engine::new)))
}

/// `Engine.validate` on a shared engine.
#[wasm_bindgen(unchecked_return_type = "Diagnostic[]")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
) -> Result<JsValue, JsValue> {
    with_default(|e| e.validate(doc))
}

/// `Engine.renderSvg` on a shared engine.
#[wasm_bindgen(js_name = renderSvg, unchecked_return_type = "string[]")]
pub fn render_svg(
    #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
) -> Result<Vec<String>, JsValue> {
    with_default(|e| e.render_svg(doc))
}

/// `Engine.renderPdf` on a shared engine.
#[wasm_bindgen(js_name = renderPdf)]
pub fn render_pdf(
    #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
) -> Result<Vec<u8>, JsValue> {
    with_default(|e| e.render_pdf(doc))
}

/// `Engine.pageCount` on a shared engine.
#[wasm_bindgen(js_name = pageCount)]
pub fn page_count(
    #[wasm_bindgen(unchecked_param_type = "JsonInput")] doc: JsValue,
) -> Result<u32, JsValue> {
    with_default(|e| e.page_count(doc))
}

/// `Engine.addFont` on the shared engine.
#[wasm_bindgen(js_name = addFont, unchecked_return_type = "string[]")]
pub fn add_font(bytes: Vec<u8>) -> Result<Vec<String>, JsValue> {
    with_default(|e| e.add_font(bytes))
}

/// `Engine.addAsset` on the shared engine.
#[wasm_bindgen(js_name = addAsset)]
pub fn add_asset(key: &str, bytes: Vec<u8>) {
    with_default(|e| e.add_asset(key, bytes));
}

/// `Engine.renderTemplate` on a shared engine.
#[wasm_bindgen(js_name = renderTemplate, unchecked_return_type = "RenderResult")]
pub fn render_template(
    #[wasm_bindgen(unchecked_param_type = "JsonInput")] template: JsValue,
    #[wasm_bindgen(unchecked_param_type = "JsonInput")] data: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Format")] format: &str,
) -> Result<JsValue, JsValue> {
    with_default(|e| e.render_template(template, data, format))
}

/// `Engine.renderMarkdown` on a shared engine.
#[wasm_bindgen(js_name = renderMarkdown, unchecked_return_type = "RenderResult")]
pub fn render_markdown(
    markdown: &str,
    #[wasm_bindgen(unchecked_param_type = "Format")] format: &str,
) -> Result<JsValue, JsValue> {
    with_default(|e| e.render_markdown(markdown, format))
}

impl Engine {
    /// Lays out `source`, keeps the layout and describes it.
    fn keep(&mut self, source: Source<'_>) -> Result<JsValue, JsValue> {
        let laid = self.core.layout(source).map_err(error)?;
        let info = Object::new();
        let sizes: Array = laid
            .sizes()
            .into_iter()
            .map(|(w, h)| {
                let size = Object::new();
                let _ = Reflect::set(&size, &"width".into(), &f64::from(w).into());
                let _ = Reflect::set(&size, &"height".into(), &f64::from(h).into());
                JsValue::from(size)
            })
            .collect();
        let _ = Reflect::set(
            &info,
            &"pages".into(),
            &(laid.doc.pages.len() as f64).into(),
        );
        let _ = Reflect::set(&info, &"sizes".into(), &sizes);
        let _ = Reflect::set(&info, &"warnings".into(), &diagnostics(&laid.warnings));
        self.laid = Some(laid);
        Ok(info.into())
    }
}

/// JSON text from a string, or from any other value through `JSON.stringify`.
fn text(value: &JsValue) -> Result<String, JsValue> {
    if let Some(s) = value.as_string() {
        return Ok(s);
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| {
            error(Diagnostics::from(
                ode_core::Diagnostic::error("", "expected JSON text or a JSON value")
                    .with_hint("pass a string or a plain object"),
            ))
        })
}

/// Diagnostics as a JavaScript array of plain objects.
fn diagnostics(diags: &[ode_core::Diagnostic]) -> JsValue {
    js_sys::JSON::parse(&diagnostics_json(diags)).unwrap_or_else(|_| Array::new().into())
}

/// An `Error` named `OdeError` with every diagnostic in `diagnostics`.
fn error(diags: Diagnostics) -> JsValue {
    let err = js_sys::Error::new(&diags.to_string());
    err.set_name("OdeError");
    let _ = Reflect::set(&err, &"diagnostics".into(), &diagnostics(&diags.0));
    err.into()
}

/// `{ format, pages, warnings, output }`.
fn result(r: Rendered) -> JsValue {
    let obj = Object::new();
    let (format, output): (&str, JsValue) = match r.output {
        Output::Pdf(bytes) => ("pdf", Uint8Array::from(bytes.as_slice()).into()),
        Output::Svg(pages) => (
            "svg",
            pages
                .into_iter()
                .map(JsValue::from)
                .collect::<Array>()
                .into(),
        ),
    };
    let _ = Reflect::set(&obj, &"format".into(), &format.into());
    let _ = Reflect::set(&obj, &"pages".into(), &(r.pages as f64).into());
    let _ = Reflect::set(&obj, &"warnings".into(), &diagnostics(&r.warnings));
    let _ = Reflect::set(&obj, &"output".into(), &output);
    obj.into()
}
