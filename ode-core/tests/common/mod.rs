//! What several test files share.

use std::path::Path;

use ode_core::text::FontBook;

/// The Noto fonts of the script tests (Arabic, Hebrew, Devanagari, Thai, CJK), from
/// Debian's `fonts-noto-core` and `fonts-noto-cjk` (`scripts/test.sh` installs them).
const NOTO: &[&str] = &[
    "truetype/noto/NotoSansArabic-Regular.ttf",
    "truetype/noto/NotoSansHebrew-Regular.ttf",
    "truetype/noto/NotoSansDevanagari-Regular.ttf",
    "truetype/noto/NotoSansThai-Regular.ttf",
    "opentype/noto/NotoSansCJK-Regular.ttc",
];

/// The built-in fonts and the Noto fonts; panics (the test fails, it does not skip)
/// when a Noto file is missing.
pub fn noto_book() -> FontBook {
    let mut book = FontBook::with_defaults();
    for f in NOTO {
        let path = Path::new("/usr/share/fonts").join(f);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install fonts-noto-core and fonts-noto-cjk (scripts/test.sh does)",
                path.display()
            )
        });
        book.add(bytes).unwrap();
    }
    book
}
