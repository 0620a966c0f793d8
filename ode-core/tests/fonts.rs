//! Fonts are input too. Every font the fuzzer found breaking a font library
//! (`fuzz/regressions/font/`) is refused when it is added, or refused by
//! `text::check_font` with the reason, before anything renders with it; the good ones
//! pass the check and render.

use ode_core::text::{FontBook, check_font};

fn regressions() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/font");
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ttf" || e == "otf"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    found.sort();
    found
}

#[test]
fn fonts_that_break_font_libraries_are_refused_before_use() {
    let cases = regressions();
    assert!(!cases.is_empty());
    for (name, bytes) in cases {
        let added = FontBook::new().add(bytes.clone());
        let checked = check_font(&bytes);
        assert!(
            added.is_err() || checked.is_err(),
            "{name}: neither the book nor the check refuses it"
        );
        if let Err(e) = checked {
            assert!(e.starts_with("face 0"), "{name}: {e}");
        }
    }
}

#[test]
fn good_fonts_pass_the_check() {
    let dejavu = include_bytes!("../fonts/DejaVuSans.ttf");
    assert_eq!(check_font(dejavu), Ok(()));
    assert_eq!(
        check_font(b"not a font"),
        Ok(()),
        "nothing to try: the book refuses it"
    );
}
