//! Font files as tenants upload them: the bytes are added to a font book of their own,
//! and when the book takes them, a document set in that family (plain, bold and italic
//! runs, Latin, Greek, Cyrillic, Arabic, CJK and emoji, an SVG image whose text uses the
//! family) is laid out and exported to PDF (subsetting the font), SVG and PNG.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ode_core::MemoryResources;
use ode_core::text::FontBook;

const LABEL: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="4" y="24" font-size="14">Axis 1,234.5</text></svg>"#;

fuzz_target!(|data: &[u8]| {
    // As the SDK and the service do: a font that breaks a font library is refused by
    // the check before use. The check catches the panic; libFuzzer's hook, which aborts
    // on any panic, is set aside meanwhile.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let checked = ode_core::text::check_font(data);
    std::panic::set_hook(hook);
    if checked.is_err() {
        return;
    }
    let mut book = FontBook::new();
    let Ok(ids) = book.add(data.to_vec()) else {
        return;
    };
    let family = book.face(ids[0]).family.clone();
    let mut res = MemoryResources::new(book);
    res.insert("label.svg", LABEL.as_bytes());
    let text = "Office ﬁnance AVAWAY 0123456789 €ÆØÅß ΑΒΓ абв مرحبا 漢字 🎉 x\u{301}\u{302}";
    let doc = serde_json::json!({
        "ode": 1,
        "styles": {"default": {"font": family.clone()}},
        "content": [
            {"type": "heading", "level": 1, "text": text},
            {"type": "paragraph", "align": "justify", "hyphenate": true, "content": [
                text, {"text": text, "bold": true}, {"text": text, "italic": true},
                {"text": text, "features": ["smcp", "liga"]}]},
            {"type": "image", "src": "label.svg", "width": "4cm"},
            {"type": "table", "columns": ["1fr", "auto"], "rows": [[text, "1,234.5"]]}
        ]
    });
    let Ok(doc) = ode_core::model::from_value(&doc) else {
        return;
    };
    let _ = ode_core_fuzz::render(&doc, &res, &ode_core_fuzz::options());
});
