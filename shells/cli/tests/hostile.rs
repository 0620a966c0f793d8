//! The hostile corpus through the `ode` binary: inputs made to read the machine's
//! files, to exhaust memory or time, or to crash a parser. Each case is built in a
//! temporary folder, rendered by the real binary under GNU `time`, and must end as
//! expected (an exit code and words of its message: a clear error, never a panic or a
//! hang) within a peak memory. The bounds are those `docs/security.md` documents, with
//! room for this debug build; `benches/hostile/run.sh` measures the release build.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    name: &'static str,
    /// The files of the case, by name.
    files: Vec<(String, Vec<u8>)>,
    /// `ode` arguments; `{dir}` is the case's folder.
    args: Vec<String>,
    /// Expected exit code.
    code: i32,
    /// Words the output (stderr) must contain.
    expect: Vec<&'static str>,
    /// Peak memory (maximum resident set), in MB.
    max_mb: u64,
}

fn case(name: &'static str) -> Case {
    Case {
        name,
        files: Vec::new(),
        args: vec![
            "render".into(),
            "{dir}/doc.json".into(),
            "-o".into(),
            "{dir}/out.pdf".into(),
        ],
        code: 0,
        expect: Vec::new(),
        max_mb: 100,
    }
}

impl Case {
    fn file(mut self, name: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.into(), bytes.into()));
        self
    }
    fn args(mut self, args: &[&str]) -> Self {
        self.args = args.iter().map(|a| a.to_string()).collect();
        self
    }
    fn fails(mut self, expect: &[&'static str]) -> Self {
        self.code = 1;
        self.expect = expect.to_vec();
        self
    }
    fn warns(mut self, expect: &[&'static str]) -> Self {
        self.code = 0;
        self.expect = expect.to_vec();
        self
    }
    fn exits(mut self, code: i32, expect: &[&'static str]) -> Self {
        self.code = code;
        self.expect = expect.to_vec();
        self
    }
    fn within_mb(mut self, mb: u64) -> Self {
        self.max_mb = mb;
        self
    }
}

/// Runs a case; its stderr.
fn run(c: &Case, dir: &Path) -> String {
    for (name, bytes) in &c.files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let report = dir.join("time.txt");
    let args: Vec<String> = c
        .args
        .iter()
        .map(|a| a.replace("{dir}", &dir.display().to_string()))
        .collect();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(env!("CARGO_BIN_EXE_ode"))
        .args(&args)
        .output()
        .expect("GNU time runs (package `time`, installed by scripts/test.sh)");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code();
    assert_eq!(code, Some(c.code), "{}: exit {code:?}\n{stderr}", c.name);
    assert!(!stderr.contains("panicked"), "{}: {stderr}", c.name);
    for e in &c.expect {
        assert!(stderr.contains(e), "{}: no \"{e}\" in\n{stderr}", c.name);
    }
    let kb: u64 = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("time reports the peak in KB");
    eprintln!("{}: peak {} MB (bound {} MB)", c.name, kb / 1024, c.max_mb);
    assert!(
        kb / 1024 <= c.max_mb,
        "{}: peak {} MB, over its bound of {} MB",
        c.name,
        kb / 1024,
        c.max_mb
    );
    stderr
}

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ode-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn check(c: Case) -> String {
    let dir = folder(c.name);
    let stderr = run(&c, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    stderr
}

fn image_doc(src: &str) -> String {
    format!(r#"{{"ode": 1, "content": [{{"type": "image", "src": "{src}", "width": "5cm"}}]}}"#)
}

/// A real PNG of `w` × `h` black pixels: about 1 KB per 1,000 × 1,000 pixels once
/// compressed, and `w × h` bytes to decode.
fn real_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![0u8; w as usize];
    for _ in 0..h {
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
    drop(writer);
    out
}

fn svg(body: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100">{body}</svg>"#
    )
}

#[test]
fn svg_images_read_nothing_outside_the_documents_assets() {
    // A PNG outside the document's folder, and a named pipe, that an SVG points at.
    let outside = folder("outside");
    let secret = outside.join("secret.png");
    std::fs::write(&secret, real_png(13, 11)).unwrap();
    let fifo = outside.join("pipe.png");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let chart = svg(&format!(
        r#"<image href="{s}" width="9" height="9"/><image xlink:href="file://{s}" width="9" height="9"/>
           <image href="../ode-hostile-{pid}-outside/secret.png" width="9" height="9"/>
           <image href="{f}" width="9" height="9"/><image href="assets/ok.png" width="9" height="9"/>"#,
        s = secret.display(),
        f = fifo.display(),
        pid = std::process::id()
    ));
    let c = case("svg-refs")
        .file("doc.json", image_doc("chart.svg"))
        .file("chart.svg", chart)
        .warns(&["is refused"])
        .within_mb(60);
    let dir = folder(c.name);
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("assets/ok.png"), real_png(7, 5)).unwrap();
    let stderr = run(&c, &dir);
    assert_eq!(stderr.matches("is refused").count(), 4, "{stderr}");
    let pdf = std::fs::read(dir.join("out.pdf")).unwrap();
    let has = |s: &str| pdf.windows(s.len()).any(|w| w == s.as_bytes());
    assert!(has("/Width 7"), "the document's own asset is drawn");
    assert!(!has("/Width 13"), "the file outside is not");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn no_file_outside_the_document_is_opened_by_a_render() {
    // The whole process under strace: of the paths it opens, only the document's own
    // files are in the folder's parent (where the SVG points).
    if Command::new("strace").arg("-V").output().is_err() {
        panic!("strace is needed by this test (scripts/test.sh installs it)");
    }
    let dir = folder("strace");
    let doc_dir = dir.join("doc");
    std::fs::create_dir_all(&doc_dir).unwrap();
    std::fs::write(dir.join("secret.png"), real_png(3, 3)).unwrap();
    std::fs::write(doc_dir.join("doc.json"), image_doc("chart.svg")).unwrap();
    let secret = dir.join("secret.png").display().to_string();
    std::fs::write(
        doc_dir.join("chart.svg"),
        svg(&format!(
            r#"<image href="{secret}" width="9" height="9"/><image href="file://{secret}" width="9" height="9"/><image href="../secret.png" width="9" height="9"/>"#
        )),
    )
    .unwrap();
    let trace = dir.join("trace.txt");
    let out = Command::new("strace")
        .args(["-f", "-e", "trace=%file", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_ode"))
        .arg("render")
        .arg(doc_dir.join("doc.json"))
        .arg("-o")
        .arg(doc_dir.join("out.pdf"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(&trace).unwrap();
    let touched: Vec<&str> = trace.lines().filter(|l| l.contains("secret.png")).collect();
    assert!(
        touched.is_empty(),
        "the render touched the file: {touched:#?}"
    );
    // The trace did see the document's own files (so it is watching the right calls).
    assert!(trace.contains("chart.svg") && trace.contains("doc.json"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn image_bombs_are_refused_before_they_are_decoded() {
    // 20,000 × 20,000 pixels in about 400 KB: 400 MB to decode.
    check(
        case("png-bomb")
            .file("doc.json", image_doc("bomb.png"))
            .file("bomb.png", real_png(20_000, 20_000))
            .fails(&[
                "/content/0/src: image \"bomb.png\" is 20000 × 20000 pixels (400 megapixels), over the limit of 50 megapixels",
            ])
            .within_mb(60),
    );
    // The same image inside an SVG is left out with a warning.
    check(
        case("png-bomb-in-svg")
            .file("doc.json", image_doc("chart.svg"))
            .file(
                "chart.svg",
                svg(r#"<image href="bomb.png" width="9" height="9"/>"#),
            )
            .file("bomb.png", real_png(20_000, 20_000))
            .warns(&["is 20000 × 20000 pixels"])
            .within_mb(60),
    );
}

#[test]
fn svg_bombs_are_refused_with_their_reason() {
    let mut laughs = String::from(r#"<g id="l0"><rect width="1" height="1"/></g>"#);
    for i in 1..9 {
        laughs.push_str(&format!(r#"<g id="l{i}">"#));
        for _ in 0..10 {
            laughs.push_str(&format!(r##"<use href="#l{}"/>"##, i - 1));
        }
        laughs.push_str("</g>");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(br#"<svg xmlns="http://www.w3.org/2000/svg">"#)
        .unwrap();
    for _ in 0..256 {
        gz.write_all(&[b' '; 1 << 20]).unwrap();
    }
    gz.write_all(b"</svg>").unwrap();
    for (name, bytes, expect) in [
        (
            "use-bomb",
            svg(&laughs).into_bytes(),
            "expands to more than 250000 elements",
        ),
        (
            "deep-svg",
            svg(&("<g>".repeat(100_000) + &"</g>".repeat(100_000))).into_bytes(),
            "is nested more than 128 elements deep",
        ),
        (
            "gzip-bomb",
            gz.finish().unwrap(),
            "is larger than 16 MB of SVG",
        ),
    ] {
        check(
            case(name)
                .file("doc.json", image_doc("x.svg"))
                .file("x.svg", bytes)
                .fails(&[expect])
                .within_mb(120),
        );
    }
}

#[test]
fn runaway_templates_stop_at_their_output_budget() {
    let items: Vec<u32> = (0..1_000_000).collect();
    check(
        case("million-items")
            .file(
                "doc.json",
                r#"{"ode": 1, "content": [{"$each": "items", "do": {"type": "paragraph", "text": "Item {{ item }}"}}]}"#,
            )
            .file("data.json", serde_json::json!({ "items": items }).to_string())
            .args(&["render", "{dir}/doc.json", "--data", "{dir}/data.json", "-o", "{dir}/out.pdf"])
            .fails(&["grows past the limit of 128 MB (the max_template_bytes setting)"])
            .within_mb(300),
    );
    check(
        case("nested-ranges")
            .file(
                "doc.json",
                r#"{"ode": 1, "content": [{"$each": "range(1000)", "as": "i", "do": {"$each": "range(1000)", "as": "j", "do": {"type": "paragraph", "text": "{{ i }} {{ j }}"}}}]}"#,
            )
            .fails(&["grows past the limit of 128 MB"])
            .within_mb(300),
    );
    // A limit can be raised for a run that needs it, and a wrong name is named.
    check(
        case("limit-name")
            .file("doc.json", r#"{"ode": 1, "content": []}"#)
            .args(&[
                "render",
                "{dir}/doc.json",
                "--limit",
                "max_template_byte=1",
                "-o",
                "{dir}/out.pdf",
            ])
            .exits(
                2,
                &["unknown limit \"max_template_byte\" (did you mean \"max_template_bytes\"?)"],
            ),
    );
}

#[test]
fn deep_nesting_and_huge_text_end_cleanly() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    check(
        case("deep-json")
            .file("doc.json", format!(r#"{{"ode": 1, "content": {deep}}}"#))
            .fails(&["invalid JSON: nesting is deeper than 128 levels"]),
    );
    let quotes = "> ".repeat(50_000) + "deep";
    check(
        case("deep-markdown")
            .file("doc.md", quotes)
            .args(&["render", "{dir}/doc.md", "-o", "{dir}/out.pdf"])
            .within_mb(400),
    );
    // One word of 100,000 letters in a narrow column: a line per letter or so.
    let word = "x".repeat(100_000);
    check(
        case("long-word")
            .file(
                "doc.json",
                format!(
                    r#"{{"ode": 1, "content": [{{"type": "table", "columns": ["2pt", "1fr"], "rows": [["{word}", "b"]]}}]}}"#
                ),
            )
            .within_mb(400),
    );
    // A letter under 100,000 combining marks: one cluster, wider than any line.
    let pile = format!("a{}", "\u{301}".repeat(100_000));
    check(
        case("combining-pile")
            .file(
                "doc.json",
                format!(r#"{{"ode": 1, "content": [{{"type": "paragraph", "text": "{pile}"}}]}}"#),
            )
            .within_mb(300),
    );
}

#[test]
fn malformed_fonts_are_refused_or_used_never_a_crash() {
    let font = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ode-core/fonts/DejaVuSans.ttf"),
    )
    .unwrap();
    let doc = r#"{"ode": 1, "content": [{"type": "paragraph", "font": "DejaVu Sans", "text": "Fonts are input too: ﬁne €"}]}"#;
    check(
        case("garbage-font")
            .file("doc.json", doc)
            .file("bad.ttf", b"not a font at all".to_vec())
            .args(&[
                "render",
                "{dir}/doc.json",
                "--font",
                "{dir}/bad.ttf",
                "-o",
                "{dir}/out.pdf",
            ])
            .fails(&["not a TrueType or OpenType font"]),
    );
    check(
        case("truncated-font")
            .file("doc.json", doc)
            .file("cut.ttf", font[..font.len() / 3].to_vec())
            .args(&[
                "render",
                "{dir}/doc.json",
                "--font",
                "{dir}/cut.ttf",
                "-o",
                "{dir}/out.pdf",
            ])
            .fails(&["font"]),
    );
    // Fonts the fuzzer found breaking a font library: refused with the reason.
    let found = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ode-core/fuzz/regressions/font");
    for name in ["name-offset-overflow.ttf", "post-table-short.ttf"] {
        let stderr = check(
            case("fuzzed-font")
                .file("doc.json", doc)
                .file("f.ttf", std::fs::read(found.join(name)).unwrap())
                .args(&[
                    "render",
                    "{dir}/doc.json",
                    "--font",
                    "{dir}/f.ttf",
                    "-o",
                    "{dir}/out.pdf",
                ])
                .fails(&["f.ttf: "]),
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    // Bytes flipped all over the tables: the font is refused, or renders; it never
    // takes the process down.
    let mut flipped = font.clone();
    let mut seed = 7u32;
    for _ in 0..2_000 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let at = 12 + (seed as usize % (flipped.len() - 12));
        flipped[at] ^= (seed >> 16) as u8 | 1;
    }
    let dir = folder("flipped-font");
    std::fs::write(dir.join("doc.json"), doc).unwrap();
    std::fs::write(dir.join("f.ttf"), &flipped).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ode"))
        .arg("render")
        .arg(dir.join("doc.json"))
        .arg("--font")
        .arg(dir.join("f.ttf"))
        .arg("-o")
        .arg(dir.join("out.pdf"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)) && !stderr.contains("panicked"),
        "{:?} {stderr}",
        out.status
    );
    let _ = std::fs::remove_dir_all(&dir);
}
