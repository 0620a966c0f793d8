//! The embedding facade, as a Rust program would use it.

use std::path::Path;

use ode_sdk::{Format, Output, RenderError, Renderer};

fn examples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"))
}

#[test]
fn one_call_renders_a_document_with_the_built_in_fonts() {
    let pdf =
        ode_sdk::render_pdf(r#"{"ode": 1, "content": [{"type": "paragraph", "text": "Hello"}]}"#)
            .unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        pdf.len() < 40_000,
        "a one-line PDF with a subset font stays small: {} bytes",
        pdf.len()
    );
}

#[test]
fn a_renderer_reads_images_from_its_asset_folder() {
    let json = std::fs::read_to_string(examples().join("report.json")).unwrap();
    let without = Renderer::new().render(&json, Format::Pdf);
    let Err(RenderError::Invalid(d)) = without else {
        panic!("images need an asset folder")
    };
    assert!(d.to_string().contains("not found"), "{d}");
    let with = Renderer::new()
        .with_asset_dir(examples())
        .render(&json, Format::Pdf)
        .unwrap();
    assert!(with.pages > 1);
    assert!(matches!(with.output, Output::Pdf(ref b) if b.starts_with(b"%PDF-")));
}

#[test]
fn svg_output_has_one_document_per_page() {
    let json = r#"{"ode": 1, "content": [{"type": "paragraph", "text": "a"}, {"type": "page_break"}, {"type": "paragraph", "text": "b"}]}"#;
    let r = Renderer::new().render(json, Format::Svg).unwrap();
    let Output::Svg(pages) = r.output else {
        panic!("svg")
    };
    assert_eq!(pages.len(), 2);
    assert_eq!(r.pages, 2);
}

#[test]
fn validation_returns_warnings_and_errors_with_paths() {
    let r = Renderer::new();
    let d = r
        .validate(r#"{"ode": 1, "content": [{"type": "paragraph", "font": "Nope", "text": "x"}]}"#);
    assert_eq!(d.len(), 1);
    assert!(!d[0].is_error());
    assert_eq!(d[0].span.path, "/content/0");
    let d = r.validate(r#"{"ode": 1, "content": [{"type": "paragraph", "text": 1}]}"#);
    assert!(d[0].is_error());
    assert_eq!(d[0].span.path, "/content/0/text");
}

#[test]
fn font_bytes_that_are_not_a_font_are_refused() {
    let e = Renderer::new()
        .with_font_bytes(b"nope".to_vec())
        .unwrap_err();
    assert!(matches!(e, RenderError::Font { .. }));
    assert!(!e.is_transient());
}
