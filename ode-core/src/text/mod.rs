//! Fonts and shaping.
//!
//! [`FontBook`] holds every face a document may use, parsed once from bytes; callers
//! build it once and reuse it across renders. [`Shaper`](shape::Shaper) turns text into
//! positioned glyphs with rustybuzz (kerning, ligatures and the other default OpenType
//! features) and caches the result per face and text, since documents repeat words a lot.

mod font;
pub(crate) mod shape;

pub(crate) use font::SvgFonts;
pub use font::{Bytes, FontBook, FontError, FontFace, FontId, check_font};
