//! Render benchmarks: ODE on the W1, W2 and W3 workloads, and genpdf 0.2 on W1 and W2 as a peer.
//!
//! ODE groups (`W1`, `W2`, `W3`) measure, on the documents in `benches/corpus/`:
//! - `parse`: JSON text to the document model;
//! - `layout`: model to pages;
//! - `export_pdf`: pages to PDF bytes;
//! - `render_pdf`: the whole of it, `ode_core::render_pdf(json, fonts)`.
//!
//! The `genpdf` group builds and renders the same content with genpdf 0.2, converted from
//! the neutral corpus (`$ODE_BENCH_NEUTRAL`, default `/work/shared/bench-corpus`); it is
//! skipped when that folder is missing. genpdf cannot justify, repeat table headers, draw
//! footers or subset fonts, so its document is an approximation (see `benches/README.md`).
//!
//! The `references` group lays out the handbook example with and without its table of
//! contents, footnotes and cross-references.
//!
//! `cargo bench -p ode-benches --bench render` runs it all in about two minutes (more on a
//! busy machine); add `-- W2` (a filter) to run one group, or `-- --quick` for a rough pass.

use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main, measurement::WallTime,
};
use ode_core::export::{PdfOptions, SvgOptions};
use ode_core::layout::LayoutOptions;
use ode_core::text::FontBook;

/// The workloads, with their sampling: W1 is fast, W2 takes a fraction of a second per
/// render, and W3 (10,000 table rows) up to seconds, so it keeps criterion's minimum of
/// ten samples of one iteration each.
#[derive(Clone, Copy)]
struct Workload {
    name: &'static str,
    file: &'static str,
    sample_size: usize,
    warm_up: Duration,
    measurement: Duration,
    flat: bool,
}

const WORKLOADS: [Workload; 3] = [
    Workload {
        name: "W1",
        file: "w1",
        sample_size: 30,
        warm_up: Duration::from_secs(1),
        measurement: Duration::from_secs(3),
        flat: false,
    },
    Workload {
        name: "W2",
        file: "w2",
        sample_size: 20,
        warm_up: Duration::from_secs(1),
        measurement: Duration::from_secs(6),
        flat: true,
    },
    Workload {
        name: "W3",
        file: "w3",
        sample_size: 10,
        warm_up: Duration::from_secs(1),
        measurement: Duration::from_secs(8),
        flat: true,
    },
];

fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>, w: &Workload) {
    group
        .sample_size(w.sample_size)
        .warm_up_time(w.warm_up)
        .measurement_time(w.measurement);
    if w.flat {
        group.sampling_mode(SamplingMode::Flat);
    }
}

/// Renders once outside the measurement, to report what is being measured and to skip a
/// workload the engine cannot render yet instead of aborting the whole run.
fn check_ode(name: &str, json: &str, book: &FontBook) -> bool {
    let doc = match ode_core::model::parse(json) {
        Ok(doc) => doc,
        Err(e) => {
            eprintln!("{name}: SKIPPED, the document does not parse:\n{e}");
            return false;
        }
    };
    let laid = match ode_core::layout::layout(&doc, book, &LayoutOptions::default()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{name}: SKIPPED, layout failed:\n{e}");
            return false;
        }
    };
    if !laid.warnings.is_empty() {
        eprintln!(
            "{name}: {} layout warnings, the first: {}",
            laid.warnings.len(),
            laid.warnings[0]
        );
    }
    let pdf = match ode_core::export::pdf(&laid.output, book, &PdfOptions::default()) {
        Ok(pdf) => pdf,
        Err(e) => {
            eprintln!("{name}: SKIPPED, PDF export failed:\n{e}");
            return false;
        }
    };
    let svg_pages = catch_unwind(AssertUnwindSafe(|| {
        ode_core::export::svg(&laid.output, book, &SvgOptions::default()).len()
    }));
    eprintln!(
        "{name}: {} bytes of JSON, {} pages, {} bytes of PDF{}",
        json.len(),
        laid.output.pages.len(),
        pdf.len(),
        match svg_pages {
            Ok(n) if n == laid.output.pages.len() => String::new(),
            Ok(n) => format!(" (SVG export gave {n} pages)"),
            Err(_) => " (SVG export panicked)".into(),
        }
    );
    true
}

fn ode(c: &mut Criterion) {
    let book = FontBook::with_defaults();
    for w in &WORKLOADS {
        let path = bench_dir().join("corpus").join(format!("{}.json", w.file));
        let json = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (run `python3 benches/convert.py`)", path.display())
        });
        if !check_ode(w.name, &json, &book) {
            continue;
        }
        let doc = ode_core::model::parse(&json).unwrap();
        let options = LayoutOptions::default();
        let paged = ode_core::layout::layout(&doc, &book, &options)
            .unwrap()
            .output;
        let pdf_options = PdfOptions::default();

        let mut group = c.benchmark_group(w.name);
        configure(&mut group, w);
        group.bench_function("parse", |b| {
            b.iter(|| ode_core::model::parse(black_box(&json)).unwrap())
        });
        group.bench_function("layout", |b| {
            b.iter(|| {
                ode_core::layout::layout(black_box(&doc), &book, &options)
                    .unwrap()
                    .output
            })
        });
        group.bench_function("export_pdf", |b| {
            b.iter(|| ode_core::export::pdf(black_box(&paged), &book, &pdf_options).unwrap())
        });
        group.bench_function("render_pdf", |b| {
            b.iter(|| ode_core::render_pdf(black_box(&json), &book).unwrap())
        });
        group.finish();
    }
}

/// The cost of the text features on W2 (a 600-block report), measured in one run as
/// layout and whole-render times against the plain document:
/// - `plain`: the corpus document (no right-to-left text: the bidi algorithm is skipped);
/// - `hyphenate`: `"hyphenate": true` on the default style (English patterns);
/// - `bidi`: every paragraph gets a Hebrew phrase, so each runs the bidi algorithm and
///   reorders its lines;
/// - `ltr_extra`: the same number of Latin letters instead, which separates the cost
///   of the bidi work from that of the added text.
fn text(c: &mut Criterion) {
    let book = FontBook::with_defaults();
    let path = bench_dir().join("corpus").join("w2.json");
    let Ok(json) = std::fs::read_to_string(&path) else {
        eprintln!("W2-text: SKIPPED, {} is missing", path.display());
        return;
    };
    let plain: serde_json::Value = serde_json::from_str(&json).expect("W2 is JSON");
    let mut hyphenate = plain.clone();
    hyphenate["styles"]["default"]["hyphenate"] = true.into();
    let append = |extra: &str| {
        let mut doc = plain.clone();
        if let Some(blocks) = doc["content"].as_array_mut() {
            for b in blocks {
                if b["type"] == "paragraph"
                    && let Some(t) = b["text"].as_str()
                {
                    b["text"] = format!("{t} {extra}").into();
                }
            }
        }
        doc
    };
    let bidi = append("שלום עולם 2024");
    let ltr_extra = append("shlom olam 2024");
    let variants = [
        ("plain", plain),
        ("hyphenate", hyphenate),
        ("bidi", bidi),
        ("ltr_extra", ltr_extra),
    ];
    let w = WORKLOADS[1];
    let mut group = c.benchmark_group("W2-text");
    configure(&mut group, &w);
    for (name, value) in &variants {
        let json = value.to_string();
        if !check_ode(&format!("W2-text/{name}"), &json, &book) {
            continue;
        }
        let doc = ode_core::model::parse(&json).unwrap();
        let options = LayoutOptions::default();
        group.bench_function(format!("layout_{name}"), |b| {
            b.iter(|| {
                ode_core::layout::layout(black_box(&doc), &book, &options)
                    .unwrap()
                    .output
            })
        });
        group.bench_function(format!("render_pdf_{name}"), |b| {
            b.iter(|| ode_core::render_pdf(black_box(&json), &book).unwrap())
        });
    }
    group.finish();
}

/// The cost of tagged PDF on W2 (a 600-block report), in one run: the whole render
/// (parse, layout with the structure, PDF with the structure tree) tagged, as by
/// default, and untagged. The sizes of both files are printed once.
fn tagging(c: &mut Criterion) {
    let book = FontBook::with_defaults();
    let path = bench_dir().join("corpus").join("w2.json");
    let Ok(json) = std::fs::read_to_string(&path) else {
        eprintln!("W2-tagging: SKIPPED, {} is missing", path.display());
        return;
    };
    if !check_ode("W2-tagging", &json, &book) {
        return;
    }
    let render = |tagged: bool| {
        let doc = ode_core::model::parse(black_box(&json)).unwrap();
        let options = PdfOptions {
            tagged,
            ..PdfOptions::default()
        };
        ode_core::pdf_document(&doc, &book, &LayoutOptions::default(), &options)
            .unwrap()
            .output
            .bytes
    };
    eprintln!(
        "W2-tagging: {} bytes tagged, {} bytes untagged",
        render(true).len(),
        render(false).len()
    );
    let w = WORKLOADS[1];
    let mut group = c.benchmark_group("W2-tagging");
    configure(&mut group, &w);
    group.bench_function("render_pdf_tagged", |b| b.iter(|| render(true)));
    group.bench_function("render_pdf_untagged", |b| b.iter(|| render(false)));
    group.finish();
}

/// The handbook example (contents, footnotes, `page_of` cross-references) laid out
/// as it is, and with those three removed (notes dropped, the contents block dropped,
/// each cross-reference replaced by a two-digit text): the difference is what the
/// counting passes, the contents and the footnote areas cost.
fn references(c: &mut Criterion) {
    use serde_json::Value;
    let book = FontBook::with_defaults();
    let path = bench_dir().join("../examples/handbook.json");
    let Ok(json) = std::fs::read_to_string(&path) else {
        eprintln!("references: SKIPPED, {} is missing", path.display());
        return;
    };
    fn strip(v: &mut Value) {
        match v {
            Value::Array(items) => {
                items.retain(|i| {
                    i.get("footnote").is_none()
                        && i.get("type").and_then(Value::as_str) != Some("toc")
                });
                for i in items.iter_mut() {
                    if i.get("field").and_then(Value::as_str) == Some("page_of") {
                        *i = Value::String("00".into());
                    }
                    strip(i);
                }
            }
            Value::Object(m) => m.values_mut().for_each(strip),
            _ => {}
        }
    }
    let mut plain: Value = serde_json::from_str(&json).unwrap();
    strip(&mut plain);
    let plain = plain.to_string();
    let full_doc = ode_core::model::parse(&json).unwrap();
    let plain_doc = ode_core::model::parse(&plain).unwrap();
    let pages = |d: &ode_core::model::Document| {
        ode_core::layout::layout(d, &book, &LayoutOptions::default())
            .unwrap()
            .output
            .pages
            .len()
    };
    eprintln!(
        "references: handbook {} pages, without contents, notes and cross-references {} pages",
        pages(&full_doc),
        pages(&plain_doc)
    );
    let mut group = c.benchmark_group("references");
    configure(&mut group, &WORKLOADS[0]);
    group.bench_function("layout_handbook", |b| {
        b.iter(|| ode_core::layout::layout(black_box(&full_doc), &book, &LayoutOptions::default()))
    });
    group.bench_function("layout_handbook_plain", |b| {
        b.iter(|| ode_core::layout::layout(black_box(&plain_doc), &book, &LayoutOptions::default()))
    });
    group.finish();
}

// ---- genpdf, the peer ----

mod peer {
    //! The neutral corpus format (see the corpus README) rendered with genpdf 0.2.

    use genpdf::elements::{
        Break, FrameCellDecorator, LinearLayout, PageBreak, Paragraph, TableLayout, UnorderedList,
    };
    use genpdf::fonts::{FontData, FontFamily};
    use genpdf::style::Style;
    use genpdf::{Alignment, Element, Margins, SimplePageDecorator};
    use serde_json::Value;

    /// Points to millimetres, genpdf's unit.
    fn mm(pt: f64) -> f32 {
        (pt * 25.4 / 72.0) as f32
    }

    fn font_size(v: &Value) -> u8 {
        v.as_f64().map_or(10, |n| n.round().clamp(1.0, 255.0) as u8)
    }

    fn texts(v: &Value) -> impl Iterator<Item = &str> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|x| x.as_str().unwrap_or_default())
    }

    /// Relative widths to genpdf's integer column weights (tenths).
    fn weights(v: &Value) -> Vec<usize> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|w| ((w.as_f64().unwrap_or(1.0) * 10.0).round() as usize).max(1))
            .collect()
    }

    fn align(code: &str) -> Alignment {
        match code {
            "r" => Alignment::Right,
            "c" => Alignment::Center,
            _ => Alignment::Left,
        }
    }

    /// The four DejaVu Sans faces, read once and copied into each document (genpdf takes
    /// them by value).
    pub struct Fonts([Vec<u8>; 4]);

    impl Fonts {
        pub fn load(dir: &std::path::Path) -> std::io::Result<Fonts> {
            let read = |f: &str| std::fs::read(dir.join(f));
            Ok(Fonts([
                read("DejaVuSans.ttf")?,
                read("DejaVuSans-Bold.ttf")?,
                read("DejaVuSans-Oblique.ttf")?,
                read("DejaVuSans-BoldOblique.ttf")?,
            ]))
        }

        fn family(&self) -> FontFamily<FontData> {
            let face =
                |i: usize| FontData::new(self.0[i].clone(), None).expect("DejaVu Sans loads");
            FontFamily {
                regular: face(0),
                bold: face(1),
                italic: face(2),
                bold_italic: face(3),
            }
        }
    }

    /// Builds the genpdf document for a neutral model and renders it to PDF bytes.
    pub fn render(model: &Value, fonts: &Fonts) -> Result<Vec<u8>, genpdf::error::Error> {
        let body = font_size(&model["font_size"]);
        let gap = mm(model["para_gap_pt"].as_f64().unwrap_or(6.0));
        let margin = mm(model["page"]["margin_pt"].as_f64().unwrap_or(56.69));
        let table_pad = Margins::trbl(mm(2.0), mm(4.0), mm(2.0), mm(4.0));

        let mut doc = genpdf::Document::new(fonts.family());
        doc.set_title(model["name"].as_str().unwrap_or("document"));
        doc.set_paper_size(genpdf::Size::new(
            mm(model["page"]["width_pt"].as_f64().unwrap_or(595.28)),
            mm(model["page"]["height_pt"].as_f64().unwrap_or(841.89)),
        ));
        doc.set_font_size(body);
        doc.set_line_spacing(model["line_height"].as_f64().unwrap_or(1.3));

        // genpdf has no footers: the footer goes at the top of each page instead, and
        // "Page X of Y" becomes "Page X" (genpdf cannot know the page count).
        let mut decorator = SimplePageDecorator::new();
        decorator.set_margins(margin);
        let footer_size = font_size(&model["footer_size"]);
        match model["footer"]["kind"].as_str() {
            Some("text") => {
                let text = model["footer"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                decorator.set_header(move |_| {
                    Paragraph::new(text.as_str())
                        .aligned(Alignment::Center)
                        .styled(Style::new().with_font_size(footer_size))
                });
            }
            Some("page_x_of_y") => decorator.set_header(move |page| {
                Paragraph::new(format!("Page {page}"))
                    .aligned(Alignment::Center)
                    .styled(Style::new().with_font_size(footer_size))
            }),
            _ => {}
        }
        doc.set_page_decorator(decorator);

        let spaced = |e: Paragraph| e.padded(Margins::trbl(0, 0, gap, 0));
        let mut first = true;
        for b in model["blocks"].as_array().into_iter().flatten() {
            let text = b["text"].as_str().unwrap_or_default();
            match b["t"].as_str().unwrap_or_default() {
                "title" => doc.push(
                    spaced(Paragraph::new(text)).styled(Style::new().bold().with_font_size(20)),
                ),
                "h1" => {
                    if !first {
                        doc.push(PageBreak::new());
                    }
                    doc.push(
                        spaced(Paragraph::new(text)).styled(Style::new().bold().with_font_size(16)),
                    );
                }
                "h2" => doc.push(
                    spaced(Paragraph::new(text)).styled(Style::new().bold().with_font_size(12)),
                ),
                // genpdf cannot justify.
                "p" => doc.push(spaced(Paragraph::new(text))),
                "cols2" => {
                    let mut table = TableLayout::new(vec![1, 1]);
                    let column = |lines: &Value| {
                        let mut col = LinearLayout::vertical();
                        for (i, line) in texts(lines).enumerate() {
                            let p = Paragraph::new(line);
                            if i == 0 {
                                col.push(p.styled(Style::new().bold()));
                            } else {
                                col.push(p);
                            }
                        }
                        col
                    };
                    table
                        .row()
                        .element(column(&b["left"]))
                        .element(column(&b["right"]))
                        .push()?;
                    doc.push(table);
                    doc.push(Break::new(0.5));
                }
                "table" => {
                    let aligns: Vec<Alignment> = texts(&b["align"]).map(align).collect();
                    let size = font_size(&b["font_size"]);
                    let mut table = TableLayout::new(weights(&b["widths"]));
                    table.set_cell_decorator(FrameCellDecorator::new(true, true, false));
                    // genpdf cannot repeat the header on following pages.
                    let mut row = table.row();
                    for (cell, a) in texts(&b["header"]).zip(&aligns) {
                        row.push_element(
                            Paragraph::new(cell)
                                .aligned(*a)
                                .padded(table_pad)
                                .styled(Style::new().bold().with_font_size(size)),
                        );
                    }
                    row.push()?;
                    for r in b["rows"].as_array().into_iter().flatten() {
                        let mut row = table.row();
                        for (cell, a) in texts(r).zip(&aligns) {
                            row.push_element(
                                Paragraph::new(cell)
                                    .aligned(*a)
                                    .padded(table_pad)
                                    .styled(Style::new().with_font_size(size)),
                            );
                        }
                        row.push()?;
                    }
                    doc.push(table);
                    doc.push(Break::new(0.5));
                }
                "totals" => {
                    let mut table = TableLayout::new(vec![3, 1]);
                    let rows = b["rows"].as_array().map(Vec::as_slice).unwrap_or_default();
                    for (i, r) in rows.iter().enumerate() {
                        let style = if i + 1 == rows.len() {
                            Style::new().bold()
                        } else {
                            Style::new()
                        };
                        let mut row = table.row();
                        for cell in texts(r) {
                            row.push_element(
                                Paragraph::new(cell)
                                    .aligned(Alignment::Right)
                                    .padded(table_pad)
                                    .styled(style),
                            );
                        }
                        row.push()?;
                    }
                    doc.push(table);
                }
                "ul" => {
                    let mut list = UnorderedList::new();
                    for item in texts(&b["items"]) {
                        list.push(Paragraph::new(item));
                    }
                    doc.push(list.padded(Margins::trbl(0, 0, gap, 0)));
                }
                other => panic!("unknown neutral block type {other:?}"),
            }
            first = false;
        }

        let mut out = Vec::new();
        doc.render(&mut out)?;
        Ok(out)
    }
}

fn genpdf(c: &mut Criterion) {
    let neutral = PathBuf::from(
        std::env::var_os("ODE_BENCH_NEUTRAL").unwrap_or_else(|| "/work/shared/bench-corpus".into()),
    );
    let font_dir = bench_dir().join("..").join("ode-core").join("fonts");
    let fonts = match peer::Fonts::load(&font_dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "genpdf: SKIPPED, cannot read DejaVu Sans from {}: {e}",
                font_dir.display()
            );
            return;
        }
    };
    let mut group = c.benchmark_group("genpdf");
    for w in WORKLOADS.iter().filter(|w| w.name != "W3") {
        let path: &Path = &neutral.join(format!("{}.model.json", w.file));
        let model: serde_json::Value = match std::fs::read_to_string(path) {
            Ok(s) => serde_json::from_str(&s).expect("the neutral corpus is JSON"),
            Err(e) => {
                eprintln!(
                    "genpdf {}: SKIPPED, {}: {e} (set ODE_BENCH_NEUTRAL)",
                    w.name,
                    path.display()
                );
                continue;
            }
        };
        match peer::render(&model, &fonts) {
            Ok(pdf) => eprintln!("genpdf {}: {} bytes of PDF", w.name, pdf.len()),
            Err(e) => {
                eprintln!("genpdf {}: SKIPPED, render failed: {e}", w.name);
                continue;
            }
        }
        // genpdf takes 0.1 to 0.5 s per document: ten flat samples are enough.
        let peer_sampling = Workload {
            sample_size: 10,
            flat: true,
            measurement: w.measurement.min(Duration::from_secs(5)),
            ..*w
        };
        configure(&mut group, &peer_sampling);
        group.bench_function(w.name, |b| {
            b.iter(|| peer::render(black_box(&model), &fonts).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, ode, text, tagging, references, genpdf);
criterion_main!(benches);
