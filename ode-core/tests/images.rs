//! Images from tenants: what an SVG refers to comes through `Resources` and nowhere
//! else, SVG text is set in the document's fonts, every cost is bounded before anything
//! is decoded, and large raster images are resampled to the resolution they are shown
//! at.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use ode_core::export::PdfOptions;
use ode_core::layout::LayoutOptions;
use ode_core::text::{Bytes, FontBook};
use ode_core::{AssetError, Diagnostics, Resources};

fn fonts() -> &'static FontBook {
    static BOOK: OnceLock<FontBook> = OnceLock::new();
    BOOK.get_or_init(FontBook::with_defaults)
}

/// Assets in memory; every key the engine asks for is recorded.
#[derive(Default)]
struct Recorder {
    assets: BTreeMap<String, Vec<u8>>,
    asked: Mutex<Vec<String>>,
}

impl Recorder {
    fn with(mut self, key: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.assets.insert(key.into(), bytes.into());
        self
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Resources for Recorder {
    fn fonts(&self) -> &FontBook {
        fonts()
    }
    fn asset(&self, key: &str) -> Result<Bytes, AssetError> {
        self.asked.lock().unwrap().push(key.to_string());
        self.assets
            .get(key)
            .map(|b| Bytes::from(b.clone()))
            .ok_or(AssetError::NotFound)
    }
}

/// A document showing the image `src` at `width`.
fn image_doc(src: &str, width: &str) -> String {
    format!(r#"{{"ode": 1, "content": [{{"type": "image", "src": "{src}", "width": "{width}"}}]}}"#)
}

/// Renders PDF; the file and the warnings, or the errors.
fn pdf_with(
    json: &str,
    res: &dyn Resources,
    pdf: &PdfOptions,
) -> Result<(Vec<u8>, Vec<String>), Diagnostics> {
    let doc = ode_core::model::parse(json)?;
    let out = ode_core::pdf_document(&doc, res, &LayoutOptions::default(), pdf)?;
    Ok((
        out.output.bytes,
        out.warnings.iter().map(ToString::to_string).collect(),
    ))
}

fn pdf(json: &str, res: &dyn Resources) -> (Vec<u8>, Vec<String>) {
    pdf_with(json, res, &PdfOptions::default()).unwrap_or_else(|e| panic!("errors:\n{e}"))
}

fn errors(json: &str, res: &dyn Resources) -> String {
    match pdf_with(json, res, &PdfOptions::default()) {
        Ok(_) => panic!("rendered, expected errors"),
        Err(e) => e.to_string(),
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A PNG of `w` × `h` pixels of noise (incompressible, like a photo).
fn noise_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    let mut writer = enc.write_header().unwrap();
    let mut seed = 0x2545_f491_u32;
    let data: Vec<u8> = (0..w * h * 3)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        })
        .collect();
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    out
}

/// A PNG whose header claims `w` × `h` pixels, with no real image data.
fn claimed_png(w: u32, h: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(b"IHDR");
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&[0; 4]); // the CRC is not checked for the size
    png
}

fn svg(body: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100">{body}</svg>"#
    )
}

#[test]
fn svg_references_outside_the_assets_are_refused_and_never_read() {
    let dir = std::env::temp_dir().join(format!("ode-svg-refs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("secret.png");
    std::fs::write(&secret, noise_png(13, 11)).unwrap();
    let secret = secret.display().to_string();
    let chart = svg(&format!(
        r#"<image href="{secret}" width="10" height="10"/>
           <image xlink:href="file://{secret}" width="10" height="10"/>
           <image href="../secret.png" width="10" height="10"/>
           <image href="https://example.com/a.png" width="10" height="10"/>
           <image href="pixel.png" width="10" height="10"/>"#
    ));
    let res = Recorder::default()
        .with("chart.svg", chart)
        .with("pixel.png", noise_png(7, 5));
    let (bytes, warnings) = pdf(&image_doc("chart.svg", "5cm"), &res);
    // The engine asked its resources for the SVG and the asset it names, and nothing else
    // was read: the secret's 13-pixel-wide image is not in the file.
    assert_eq!(res.asked(), ["chart.svg", "pixel.png"]);
    assert!(contains(&bytes, "/Width 7"), "the asset is drawn");
    assert!(!contains(&bytes, "/Width 13"), "the file on disk is not");
    let refused: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("is refused"))
        .collect();
    assert_eq!(refused.len(), 4, "{warnings:#?}");
    for w in &refused {
        assert!(
            w.starts_with("/content/0/src: warning: image \"chart.svg\": the reference to "),
            "{w}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_asset_an_svg_refers_to_is_a_warning() {
    let res = Recorder::default().with(
        "chart.svg",
        svg(r#"<image href="logo.png" width="5" height="5"/>"#),
    );
    let (_, warnings) = pdf(&image_doc("chart.svg", "5cm"), &res);
    assert_eq!(
        warnings,
        [
            "/content/0/src: warning: image \"chart.svg\": the image \"logo.png\" it refers to: not found; it is left out"
        ]
    );
}

#[test]
fn svg_text_is_set_in_the_document_fonts() {
    let res = Recorder::default().with(
        "chart.svg",
        svg(r#"<text x="10" y="50" font-family="Helvetica, Arial, sans-serif" font-size="20">Revenue Q1</text>"#),
    );
    let (bytes, warnings) = pdf(&image_doc("chart.svg", "5cm"), &res);
    assert!(warnings.is_empty(), "{warnings:?}");
    // The document has no text of its own: the font is the SVG's label.
    assert!(
        contains(&bytes, "+DejaVuSans"),
        "the label's font is embedded"
    );

    // The same in the SVG export: the label is drawn (as outlines), not dropped.
    let doc = ode_core::model::parse(&image_doc("chart.svg", "5cm")).unwrap();
    let paged = ode_core::layout::layout(&doc, &res, &LayoutOptions::default()).unwrap();
    let tree = paged.output.images[0]
        .svg
        .as_ref()
        .expect("parsed once, by layout");
    assert!(has_text(tree.root()), "the tree keeps its text");
}

fn has_text(g: &usvg::Group) -> bool {
    g.children().iter().any(|n| match n {
        usvg::Node::Text(t) => !t.flattened().children().is_empty(),
        usvg::Node::Group(g) => has_text(g),
        _ => false,
    })
}

#[test]
fn svg_text_warns_about_unknown_families_and_missing_characters() {
    let res = Recorder::default().with(
        "chart.svg",
        svg(r#"<text x="1" y="20" font-family="Wingdings">A 漢</text>"#),
    );
    let (_, warnings) = pdf(&image_doc("chart.svg", "5cm"), &res);
    assert_eq!(
        warnings,
        [
            "/content/0/src: warning: image \"chart.svg\": its text asks for the font family \"Wingdings\", which the document's fonts do not have; using the default font",
            "/content/0/src: warning: image \"chart.svg\": its text has a character no font has: \"漢\" (U+6F22)",
        ]
    );
}

#[test]
fn a_bomb_png_is_refused_from_its_header() {
    let res = Recorder::default().with("bomb.png", claimed_png(20_000, 20_000));
    let e = errors(&image_doc("bomb.png", "5cm"), &res);
    assert!(
        e.starts_with(
            "/content/0/src: image \"bomb.png\" is 20000 × 20000 pixels (400 megapixels), over the limit of 50 megapixels"
        ),
        "{e}"
    );
    // Inside an SVG, the same image is left out with a warning.
    let res = res.with(
        "chart.svg",
        svg(r#"<image href="bomb.png" width="5" height="5"/>"#),
    );
    let (_, warnings) = pdf(&image_doc("chart.svg", "5cm"), &res);
    assert!(
        warnings[0].contains("is 20000 × 20000 pixels (400 megapixels), over the limit"),
        "{warnings:?}"
    );
}

#[test]
fn hostile_svgs_are_refused_before_they_are_converted() {
    // `use` elements repeating groups of `use` elements: 10^6 elements from 1 KB.
    let mut laughs = String::from(r#"<g id="l0"><rect width="1" height="1"/></g>"#);
    for i in 1..7 {
        laughs.push_str(&format!(r#"<g id="l{i}">"#));
        for _ in 0..10 {
            laughs.push_str(&format!(r##"<use href="#l{}"/>"##, i - 1));
        }
        laughs.push_str("</g>");
    }
    let deep = "<g>".repeat(5000) + &"</g>".repeat(5000);
    let cycle = r##"<g id="a"><g><use href="#a"/></g></g>"##.to_string();
    // A marker of 100 elements on a path of 10,000 vertices.
    let marker = format!(
        r#"<marker id="m">{}</marker><path marker-mid="url(#m)" d="M0 0{}"/>"#,
        "<rect width=\"1\" height=\"1\"/>".repeat(100),
        " L1 1".repeat(10_000)
    );
    let entities = r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&h;</text></svg>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>"#;
    let cases: Vec<(&str, String, &str)> = vec![
        ("use", svg(&laughs), "expands to more than 250000 elements"),
        ("deep", svg(&deep), "is nested more than 128 elements deep"),
        ("cycle", svg(&cycle), "refers to itself or its own ancestor"),
        (
            "marker",
            svg(&marker),
            "expands to more than 250000 elements",
        ),
        ("entities", entities.to_string(), "is not valid SVG"),
        ("external", external.to_string(), "is not valid SVG"),
        ("not-svg", "<svg".to_string(), "is not valid SVG"),
        (
            "html",
            "<html><svg></svg></html>".to_string(),
            "its root element is not <svg>",
        ),
    ];
    for (name, text, expected) in cases {
        let key = format!("{name}.svg");
        let res = Recorder::default().with(&key, text);
        let e = errors(&image_doc(&key, "5cm"), &res);
        assert!(
            e.starts_with(&format!("/content/0/src: image \"{key}\" ")),
            "{name}: {e}"
        );
        assert!(e.contains(expected), "{name}: {e}");
    }
}

#[test]
fn gzip_bombs_stop_at_the_byte_limit() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(br#"<svg xmlns="http://www.w3.org/2000/svg">"#)
        .unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&spaces).unwrap();
    }
    gz.write_all(b"</svg>").unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 200_000, "{} bytes", bomb.len());
    let res = Recorder::default().with("bomb.svgz", bomb);
    let e = errors(&image_doc("bomb.svgz", "5cm"), &res);
    assert!(
        e.contains("is larger than 16 MB of SVG (the max_svg_bytes setting)"),
        "{e}"
    );
}

#[test]
fn nested_svgs_stop_at_the_nesting_limit_and_share_one_budget() {
    // An SVG that shows itself twice: without bounds, 2^n parses.
    let selfish = svg(
        r#"<rect width="5" height="5"/><image href="self.svg" width="50" height="50"/><image href="self.svg" x="50" width="50" height="50"/>"#,
    );
    let res = Recorder::default().with("self.svg", selfish);
    let (_, warnings) = pdf(&image_doc("self.svg", "5cm"), &res);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("is an SVG nested more than 4 deep")),
        "{warnings:?}"
    );
    // The image, then 2 + 4 + 8 + 16 nested parses, and 32 fetches refused for depth.
    assert_eq!(res.asked().len(), 1 + 2 + 4 + 8 + 16 + 32);
}

#[test]
fn large_raster_images_are_resampled_to_the_resolution_they_are_shown_at() {
    let res = Recorder::default().with("photo.png", noise_png(1200, 800));
    let json = image_doc("photo.png", "2cm");
    let (small, _) = pdf(&json, &res);
    // 2 cm at 300 dpi: 236.2 pixels.
    assert!(contains(&small, "/Width 237"), "resampled");
    let keep = PdfOptions {
        image_dpi: None,
        ..PdfOptions::default()
    };
    let (full, _) = pdf_with(&json, &res, &keep).unwrap();
    assert!(contains(&full, "/Width 1200"), "kept");
    assert!(
        small.len() * 10 < full.len(),
        "{} against {}",
        small.len(),
        full.len()
    );
    // Shown at its natural size (96 px per inch), it is left alone.
    let (natural, _) = pdf(&image_doc("photo.png", "12.5in"), &res);
    assert!(contains(&natural, "/Width 1200"));
}

#[test]
fn large_jpegs_are_resampled_and_stay_jpeg() {
    let noise = noise_png(900, 600);
    let mut decoder = png::Decoder::new(std::io::Cursor::new(noise));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut rgb).unwrap();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(&rgb, 900, 600, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let res = Recorder::default().with("photo.jpg", jpeg);
    let (bytes, _) = pdf(&image_doc("photo.jpg", "1in"), &res);
    assert!(contains(&bytes, "/Width 300"), "1 inch at 300 dpi");
    assert!(contains(&bytes, "/DCTDecode"));
}

#[test]
fn a_document_chooses_its_image_resolution() {
    let res = Recorder::default().with("photo.png", noise_png(1200, 800));
    let json = r#"{"ode": 1, "pdf": {"image_dpi": 72}, "content": [{"type": "image", "src": "photo.png", "width": "2cm"}]}"#;
    let (bytes, _) = pdf(json, &res);
    // 2 cm at 72 dpi: 56.7 pixels.
    assert!(contains(&bytes, "/Width 57"));
    let e = errors(
        r#"{"ode": 1, "pdf": {"image_dpi": 10}, "content": []}"#,
        &res,
    );
    assert_eq!(
        e,
        "/pdf/image_dpi: an image resolution must be between 36 and 2400, found 10"
    );
}
