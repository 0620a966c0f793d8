//! PNG output and barcodes, through the real `ode` binary: page images compared with
//! poppler's raster of the PDF (`pdftoppm`), and QR codes and barcodes read back by a real
//! decoder (`zbarimg`, from zbar-tools).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ode() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ode"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ode-png-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn tool(name: &str, args: &[&str]) -> Output {
    Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name} is needed by this test (poppler-utils, zbar-tools): {e}")
    })
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn run(args: &[&str]) -> Output {
    ode().args(args).output().unwrap()
}

fn ok(args: &[&str]) -> Output {
    let o = run(args);
    assert!(o.status.success(), "ode {args:?} failed: {}", stderr(&o));
    o
}

/// An 8-bit RGB or RGBA PNG as RGB pixels.
struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

fn read_png(path: &Path) -> Image {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{}", path.display());
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("{}: unexpected color type {other:?}", path.display()),
    };
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Image {
        width: info.width,
        height: info.height,
        rgb,
    }
}

/// The share of pixels of `a` that some pixel of `b` at most one pixel away matches
/// within `tolerance` on every channel, and the other way round (the smaller share).
/// Rasterizers round glyph positions to the pixel grid each in its own way; the one-pixel
/// neighbourhood forgives that and nothing larger.
fn agreement(a: &Image, b: &Image, tolerance: u8) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height), "sizes differ");
    let one_way = |a: &Image, b: &Image| {
        let (w, h) = (a.width as i64, a.height as i64);
        let px = |img: &Image, x: i64, y: i64| {
            let i = ((y * w + x) * 3) as usize;
            [img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]]
        };
        let mut same = 0usize;
        for y in 0..h {
            for x in 0..w {
                let p = px(a, x, y);
                let close = |q: [u8; 3]| q.iter().zip(p).all(|(q, p)| q.abs_diff(p) <= tolerance);
                if close(px(b, x, y)) {
                    same += 1;
                    continue;
                }
                let near = (-1..=1).any(|dy| {
                    (-1..=1).any(|dx| {
                        let (nx, ny) = (x + dx, y + dy);
                        nx >= 0 && ny >= 0 && nx < w && ny < h && close(px(b, nx, ny))
                    })
                });
                same += usize::from(near);
            }
        }
        same as f64 / (w * h) as f64
    };
    one_way(a, b).min(one_way(b, a))
}

fn page_files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            let n = name
                .strip_prefix(prefix)?
                .strip_suffix(".png")?
                .parse()
                .ok()?;
            Some((n, p))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

#[test]
fn png_pages_match_poppler_rasters_of_the_pdf() {
    for name in ["invoice", "report", "showcase", "chart"] {
        let input = repo().join(format!("examples/{name}.json"));
        let dir = tmp(&format!("cmp-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let pdf = dir.join("doc.pdf");
        let png = dir.join("ode.png");
        ok(&[
            "render",
            input.to_str().unwrap(),
            "-o",
            pdf.to_str().unwrap(),
            "-q",
        ]);
        ok(&[
            "render",
            input.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
            "--dpi",
            "96",
            "-q",
        ]);
        let poppler = tool(
            "pdftoppm",
            &[
                "-r",
                "96",
                "-png",
                pdf.to_str().unwrap(),
                dir.join("pp").to_str().unwrap(),
            ],
        );
        assert!(poppler.status.success(), "pdftoppm: {}", stderr(&poppler));
        let theirs = page_files(&dir, "pp-");
        let mut worst: f64 = 1.0;
        let ours = if theirs.len() == 1 {
            vec![png.clone()]
        } else {
            page_files(&dir, "ode-")
        };
        assert!(!theirs.is_empty());
        assert_eq!(ours.len(), theirs.len(), "{name}: page counts differ");
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            let (a, b) = (read_png(a), read_png(b));
            let share = agreement(&a, &b, 64);
            worst = worst.min(share);
            assert!(
                share >= 0.99,
                "{name} page {}: only {:.2}% of pixels agree with pdftoppm",
                i + 1,
                share * 100.0
            );
        }
        eprintln!(
            "{name}: worst page agrees on {:.2}% of pixels",
            worst * 100.0
        );
        // The measure does see a wrong page: two different pages of the report differ.
        if name == "report" {
            let (a, b) = (read_png(&theirs[1]), read_png(&theirs[2]));
            assert!(agreement(&a, &b, 64) < 0.97);
        }
    }
}

#[test]
fn png_size_follows_the_resolution() {
    let input = repo().join("examples/invoice.json");
    for (dpi, size) in [
        ("72", (595, 842)),
        ("150", (1240, 1754)),
        ("30", (248, 351)),
    ] {
        let out = tmp(&format!("a4-{dpi}.png"));
        ok(&[
            "render",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--dpi",
            dpi,
        ]);
        let img = read_png(&out);
        assert_eq!((img.width, img.height), size, "A4 at {dpi} dpi");
    }
    // The format follows the extension; -f png overrides it.
    let out = tmp("forced.img");
    ok(&[
        "render",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-f",
        "png",
        "--dpi",
        "72",
    ]);
    assert_eq!(read_png(&out).width, 595);
}

#[test]
fn multi_page_png_writes_numbered_files_and_page_picks_one() {
    let input = repo().join("examples/report.json");
    let pdf = tmp("report.pdf");
    ok(&[
        "render",
        input.to_str().unwrap(),
        "-o",
        pdf.to_str().unwrap(),
        "-q",
    ]);
    let info = String::from_utf8(tool("pdfinfo", &[pdf.to_str().unwrap()]).stdout).unwrap();
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pages > 2);

    let dir = tmp("multi");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.png");
    let o = ok(&[
        "render",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--dpi",
        "20",
    ]);
    let files = page_files(&dir, "out-");
    assert_eq!(files.len(), pages);
    assert!(!out.exists(), "no unnumbered file besides the pages");
    assert!(
        stderr(&o).contains(&format!("out-1.png … out-{pages}.png")),
        "{}",
        stderr(&o)
    );
    let second = read_png(&files[1]);

    let one = tmp("page2.png");
    ok(&[
        "render",
        input.to_str().unwrap(),
        "-o",
        one.to_str().unwrap(),
        "--dpi",
        "20",
        "--page",
        "2",
    ]);
    let picked = read_png(&one);
    assert_eq!(picked.rgb, second.rgb, "--page 2 is the second page");

    // To standard output: one page only.
    let o = run(&[
        "render",
        input.to_str().unwrap(),
        "-o",
        "-",
        "-f",
        "png",
        "--dpi",
        "20",
        "--page",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.starts_with(b"\x89PNG\r\n\x1a\n"));
    let o = run(&["render", input.to_str().unwrap(), "-o", "-", "-f", "png"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("pick one with --page"),
        "{}",
        stderr(&o)
    );

    // A page past the end and a resolution out of range are usage errors.
    let o = run(&[
        "render",
        input.to_str().unwrap(),
        "-o",
        one.to_str().unwrap(),
        "--page",
        "999",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("--page 999 but the document has {pages} pages")));
    for dpi in ["0", "-5", "abc", "100000"] {
        let o = run(&[
            "render",
            input.to_str().unwrap(),
            "-o",
            one.to_str().unwrap(),
            "--dpi",
            dpi,
        ]);
        assert_eq!(o.status.code(), Some(2), "--dpi {dpi}: {}", stderr(&o));
    }
}

#[test]
fn a_page_over_the_pixel_limit_is_refused_before_it_is_allocated() {
    // A4 at 4800 dpi would be 39,685 × 56,126 pixels (8.9 GB as RGBA).
    let input = repo().join("examples/invoice.json");
    let out = tmp("huge.png");
    let o = run(&[
        "render",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--dpi",
        "4800",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("39685 × 56126 pixels, more than the limit"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

/// What zbarimg reads in an image, one `TYPE:data` per symbol, sorted.
fn zbar(image: &Path) -> Vec<String> {
    let o = tool("zbarimg", &["-q", image.to_str().unwrap()]);
    assert!(o.status.success(), "zbarimg found nothing: {}", stderr(&o));
    let mut found: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    found.sort();
    found
}

#[test]
fn qr_codes_and_barcodes_read_back_exactly_what_was_encoded() {
    let url = "https://example.com/pay?invoice=INV-2024-0042&amount=21330.00";
    let doc = serde_json::json!({
        "ode": 1,
        "content": [
            {"type": "paragraph", "text": "Codes, read back by a real decoder."},
            {"type": "qr", "data": url, "size": "3cm", "ec": "M", "align": "right"},
            {"type": "qr", "data": "Grüße, 東京 — UTF-8", "size": "2.5cm", "ec": "H"},
            {"type": "barcode", "symbology": "code128", "data": "INV-2024-0042"},
            {"type": "barcode", "symbology": "code128", "data": "0123456789012345", "text": false},
            {"type": "barcode", "symbology": "ean13", "data": "400638133393", "align": "center"}
        ]
    });
    let input = tmp("codes.json");
    std::fs::write(&input, doc.to_string()).unwrap();
    let expected = [
        "CODE-128:0123456789012345".to_string(),
        "CODE-128:INV-2024-0042".to_string(),
        // The check digit was computed.
        "EAN-13:4006381333931".to_string(),
        "QR-Code:Grüße, 東京 — UTF-8".to_string(),
        format!("QR-Code:{url}"),
    ];
    let mut expected = expected.to_vec();
    expected.sort();

    // Our PNG at two resolutions, and poppler's raster of our PDF (vectors in the PDF).
    for dpi in ["150", "300"] {
        let png = tmp(&format!("codes-{dpi}.png"));
        ok(&[
            "render",
            input.to_str().unwrap(),
            "-o",
            png.to_str().unwrap(),
            "--dpi",
            dpi,
        ]);
        assert_eq!(zbar(&png), expected, "ode PNG at {dpi} dpi");
    }
    let pdf = tmp("codes.pdf");
    ok(&[
        "render",
        input.to_str().unwrap(),
        "-o",
        pdf.to_str().unwrap(),
    ]);
    let raster = tmp("codes-poppler");
    let o = tool(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-png",
            "-singlefile",
            pdf.to_str().unwrap(),
            raster.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "pdftoppm: {}", stderr(&o));
    assert_eq!(zbar(&raster.with_extension("png")), expected, "PDF raster");
    // The codes are vector rectangles with the human-readable text beside them.
    let text = tool("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    let text = String::from_utf8_lossy(&text.stdout);
    for s in ["INV-2024-0042", "4", "006381", "333931"] {
        assert!(text.contains(s), "{s} missing from the PDF text: {text}");
    }
    assert!(
        !text.contains("0123456789012345"),
        "text: false shows no text"
    );
}

#[test]
fn bad_barcode_data_is_an_error_at_its_path() {
    let doc = serde_json::json!({
        "ode": 1,
        "content": [
            {"type": "barcode", "symbology": "ean13", "data": "4006381333932"},
            {"type": "barcode", "symbology": "ean13", "data": "40063813339x"},
            {"type": "barcode", "symbology": "code128", "data": "naïve"},
            {"type": "qr", "data": "x".repeat(3000), "ec": "H"}
        ]
    });
    let input = tmp("bad-codes.json");
    std::fs::write(&input, doc.to_string()).unwrap();
    let out = tmp("bad-codes.png");
    let o = run(&[
        "render",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    for needle in [
        "/content/0/data: wrong EAN-13 check digit 2, the first 12 digits give 1",
        "/content/1/data: an EAN-13 code has digits only, found 'x' at position 12",
        "/content/2/data: character 'ï' (U+00EF) at position 3 cannot be encoded in Code 128",
        "/content/3/data: 3000 bytes of data do not fit in a QR code at error correction level H",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert!(!out.exists());
}
