//! The SDK writes PDF on a second thread while layout goes on; the file must be the
//! same, byte for byte, as the engine's single-threaded `pdf_document` gives.

use std::path::Path;

use ode_sdk::{Format, Renderer};

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

#[test]
fn the_two_thread_pdf_equals_the_one_thread_pdf() {
    assert!(
        std::thread::available_parallelism().is_ok_and(|n| n.get() > 1),
        "this test needs two cores to exercise the two-thread path"
    );
    let r = Renderer::new().with_asset_dir(examples());
    for name in ["invoice.json", "report.json", "showcase.json"] {
        let json = std::fs::read_to_string(examples().join(name)).unwrap();
        let threaded = r.render(&json, Format::Pdf).unwrap().output.into_bytes();
        let doc = ode_sdk::ode_core::model::parse(&json).unwrap();
        let single = ode_sdk::ode_core::pdf_document(
            &doc,
            r.resources(),
            &Default::default(),
            &Default::default(),
        )
        .unwrap()
        .output
        .bytes;
        assert!(threaded == single, "{name}: the two PDFs differ");
    }
}

#[test]
fn errors_found_while_writing_still_come_back() {
    // A PDF/A-1b file cannot hold transparency; the writer thread's validation error
    // must reach the caller, with the layout's warnings.
    let json = r#"{"ode": 1, "pdf": {"standard": "a-1b"}, "watermark": {"text": "DRAFT"},
                   "content": [{"type": "paragraph", "text": "x"}]}"#;
    let err = Renderer::new()
        .render(json, Format::Pdf)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/watermark: PDF/A-1b forbids transparency"),
        "the writer's error: {err}"
    );
}
