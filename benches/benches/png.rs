//! PNG export: one invoice page rasterized and encoded at 96 and 300 dpi, with the PDF
//! export of the same laid-out document measured in the same run as the baseline.
//!
//! `cargo bench -p ode-benches --bench png`

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use ode_core::export::png::{PngOptions, page_png};
use ode_core::export::{PdfOptions, pdf};
use ode_core::text::FontBook;
use ode_core::{MemoryResources, Resources};

fn png(c: &mut Criterion) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let json = std::fs::read_to_string(examples.join("invoice.json")).unwrap();
    let mut res = MemoryResources::new(FontBook::with_defaults());
    res.insert(
        "assets/logo.svg",
        std::fs::read(examples.join("assets/logo.svg")).unwrap(),
    );
    let doc = ode_core::compile(&json, &res).unwrap().output;
    assert_eq!(doc.pages.len(), 1);
    let page = &doc.pages[0];
    let mut group = c.benchmark_group("invoice page");
    for dpi in [96.0, 300.0] {
        let options = PngOptions {
            dpi,
            ..PngOptions::default()
        };
        let bytes = page_png(page, &doc.images, res.fonts(), &options).unwrap();
        eprintln!("invoice at {dpi} dpi: {} bytes of PNG", bytes.len());
        group.bench_function(format!("png {dpi} dpi"), |b| {
            b.iter(|| page_png(page, &doc.images, res.fonts(), &options).unwrap())
        });
    }
    group.bench_function("pdf (baseline)", |b| {
        b.iter(|| pdf(&doc, res.fonts(), &PdfOptions::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, png);
criterion_main!(benches);
