use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, OnceLock};

use usvg::fontdb;

/// Shared, immutable bytes (a font file, an image).
#[derive(Clone)]
pub struct Bytes(Arc<dyn AsRef<[u8]> + Send + Sync>);

impl Bytes {
    /// Wraps anything that can be viewed as bytes.
    pub fn new(data: impl AsRef<[u8]> + Send + Sync + 'static) -> Self {
        Bytes(Arc::new(data))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        (*self.0).as_ref()
    }

    pub(crate) fn to_krilla(&self) -> krilla::Data {
        krilla::Data::from(self.0.clone())
    }

    /// The shared buffer, for libraries that take one (the SVG font database).
    fn shared(&self) -> Arc<dyn AsRef<[u8]> + Send + Sync> {
        self.0.clone()
    }

    /// Identifies the buffer (clones share it).
    fn address(&self) -> usize {
        Arc::as_ptr(&self.0).cast::<u8>() as usize
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes::new(v)
    }
}

impl From<&'static [u8]> for Bytes {
    fn from(v: &'static [u8]) -> Self {
        Bytes::new(v)
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.as_slice().len())
    }
}

/// Index of a face in a [`FontBook`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FontId(pub u16);

/// Why font bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FontError {
    /// The bytes are not a TrueType, OpenType or collection file.
    Invalid,
    /// The book already holds the most faces it can index.
    TooMany,
}

impl fmt::Display for FontError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FontError::Invalid => f.write_str("not a TrueType or OpenType font (TTF, OTF or TTC)"),
            FontError::TooMany => f.write_str("too many font faces"),
        }
    }
}

impl std::error::Error for FontError {}

/// One face of a font file, with the metrics layout needs.
#[derive(Debug, Clone)]
pub struct FontFace {
    pub(crate) data: Bytes,
    pub(crate) index: u32,
    /// Family name as the font states it.
    pub family: String,
    /// PostScript name, when the font has one.
    pub postscript_name: Option<String>,
    /// Weight, 100 to 900.
    pub weight: u16,
    /// Italic or oblique.
    pub italic: bool,
    pub(crate) units_per_em: f32,
    /// Ascender, in em.
    pub(crate) ascender: f32,
    /// Descender, positive downwards, in em.
    pub(crate) descender: f32,
    pub(crate) underline_position: f32,
    pub(crate) underline_thickness: f32,
    pub(crate) strikeout_position: f32,
    /// Bit i set: the face maps ASCII character i.
    pub(crate) ascii: u128,
}

impl FontFace {
    fn parse(data: Bytes, index: u32) -> Option<FontFace> {
        let face = ttf_parser::Face::parse(data.as_slice(), index).ok()?;
        if !names_are_sound(&face) {
            return None;
        }
        let upem = f32::from(face.units_per_em());
        let name = |id: u16| {
            face.names()
                .into_iter()
                .filter(|n| n.name_id == id && n.is_unicode())
                .find_map(|n| n.to_string())
        };
        let family = name(ttf_parser::name_id::TYPOGRAPHIC_FAMILY)
            .or_else(|| name(ttf_parser::name_id::FAMILY))?;
        let postscript_name = name(ttf_parser::name_id::POST_SCRIPT_NAME);
        let mut ascii = 0u128;
        for c in 0u8..128 {
            if face.glyph_index(char::from(c)).is_some() {
                ascii |= 1 << c;
            }
        }
        let underline = face.underline_metrics();
        let strike = face.strikeout_metrics();
        Some(FontFace {
            family,
            postscript_name,
            weight: face.weight().to_number(),
            italic: face.is_italic() || face.is_oblique(),
            units_per_em: upem,
            ascender: f32::from(face.ascender()) / upem,
            descender: -f32::from(face.descender()) / upem,
            underline_position: underline.map_or(-0.1, |m| f32::from(m.position) / upem),
            underline_thickness: underline.map_or(0.05, |m| f32::from(m.thickness) / upem),
            strikeout_position: strike.map_or(0.3, |m| f32::from(m.position) / upem),
            ascii,
            index,
            data,
        })
    }

    /// Whether the face has a glyph for `c` (parsing the face; the shaper keeps parsed
    /// faces for the hot path).
    pub(crate) fn has_char(&self, c: char) -> bool {
        ttf_parser::Face::parse(self.data.as_slice(), self.index)
            .is_ok_and(|face| self.covers(c, &face))
    }

    /// Whether the face has a glyph for `c`.
    pub(crate) fn covers(&self, c: char, face: &ttf_parser::Face) -> bool {
        if c.is_ascii() {
            return self.ascii & (1 << c as u32) != 0;
        }
        face.glyph_index(c).is_some()
    }
}

/// Whether every record of the `name` table points inside the table's string storage.
/// ttf-parser reads such a table safely, but the PDF subsetter (subsetter 0.2) adds a
/// record's offset and length as 16-bit numbers: it panics on an overflow in a debug
/// build and writes a damaged table in a release one. A font like that is refused here,
/// as damaged, before anything embeds it.
fn names_are_sound(face: &ttf_parser::Face<'_>) -> bool {
    let Some(name) = face.raw_face().table(ttf_parser::Tag::from_bytes(b"name")) else {
        return true;
    };
    let u16_at = |at: usize| -> Option<usize> {
        name.get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let (Some(count), Some(storage)) = (u16_at(2), u16_at(4)) else {
        return false;
    };
    // The subsetter writes the table again with 16-bit sizes and offsets.
    let records_end = 6 + count * 12;
    if count > 5000 || records_end > name.len() || storage > name.len() {
        return false;
    }
    let storage_len = name.len() - storage;
    let mut total = 0;
    (0..count).all(|i| {
        let at = 6 + i * 12;
        match (u16_at(at + 8), u16_at(at + 10)) {
            (Some(len), Some(offset)) => {
                total += len;
                offset + len <= storage_len.min(0xFFFF) && total <= 0xFFFF
            }
            _ => false,
        }
    })
}

/// Runs a font file from a tenant through what embedding and shaping will read: krilla's
/// font parsing (with skrifa), the subsetter on the glyphs of the font's first
/// characters, and rustybuzz shaping text. These libraries trust fonts more than they
/// should (fuzzing found a panic in each of the first two within a minute), so a font
/// is tried once here, and a panic becomes an error naming the face. Call it before
/// adding a font that is input; a panic is caught only where panics unwind (on
/// `wasm32` they abort, so there the check only parses).
///
/// # Errors
/// What the font broke, for the person who sent it.
pub fn check_font(data: &[u8]) -> Result<(), String> {
    let shared = Bytes::from(data.to_vec());
    let count = ttf_parser::fonts_in_collection(data).unwrap_or(1).min(256);
    for index in 0..count {
        let tried =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| try_face(&shared, index)));
        match tried {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("face {index}: {e}")),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                return Err(format!(
                    "face {index} is damaged in a way that breaks font software ({what})"
                ));
            }
        }
    }
    Ok(())
}

fn try_face(data: &Bytes, index: u32) -> Result<(), String> {
    // Faces the book refuses are never used.
    if FontFace::parse(data.clone(), index).is_none() {
        return Ok(());
    }
    let Ok(face) = ttf_parser::Face::parse(data.as_slice(), index) else {
        return Ok(());
    };
    krilla::text::Font::new(data.to_krilla(), index)
        .ok_or_else(|| "the PDF writer cannot read it".to_string())?;
    let sample: String = (0x20u32..0x2000)
        .filter_map(char::from_u32)
        .filter(|c| face.glyph_index(*c).is_some())
        .take(200)
        .collect();
    let mut glyphs: Vec<u16> = sample
        .chars()
        .filter_map(|c| face.glyph_index(c).map(|g| g.0))
        .collect();
    glyphs.push(0);
    let mapper = subsetter::GlyphRemapper::new_from_glyphs_sorted(&glyphs);
    subsetter::subset(data.as_slice(), index, &mapper)
        .map_err(|e| format!("it cannot be subset for embedding ({e:?})"))?;
    let rb = rustybuzz::Face::from_slice(data.as_slice(), index)
        .ok_or_else(|| "it cannot be shaped".to_string())?;
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(&sample);
    let _ = rustybuzz::shape(&rb, &[], buffer);
    Ok(())
}

/// All the font faces a render may use, and how family names map to them.
///
/// # Example
/// ```
/// let book = ode_core::text::FontBook::with_defaults();
/// assert!(book.select("sans", 700, false).is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct FontBook {
    faces: Vec<FontFace>,
    /// Lowercase family name → face ids.
    families: BTreeMap<String, Vec<FontId>>,
    /// Generic names (`sans`, `serif`, `monospace`) → family name.
    aliases: BTreeMap<String, String>,
    /// Families tried, in order, for characters the requested family lacks.
    fallbacks: Vec<String>,
    /// The same faces as a font database for the text of SVG images, built on first
    /// use and shared by clones until a font is added.
    svg: Arc<OnceLock<SvgFonts>>,
}

/// The faces of a [`FontBook`] as a `fontdb` database, which SVG text is set with: the
/// buffers are shared, not copied, and nothing is read from the system.
pub(crate) struct SvgFonts {
    /// The database.
    pub db: Arc<fontdb::Database>,
    /// The database's id of each face, by [`FontId`] (`None` for a face fontdb did not
    /// take, which SVG text then does not use).
    pub ids: Vec<Option<fontdb::ID>>,
    /// The other way round.
    pub faces: HashMap<fontdb::ID, FontId>,
}

impl fmt::Debug for SvgFonts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SvgFonts({} faces)", self.ids.len())
    }
}

#[cfg(feature = "embed-fonts")]
const DEFAULT_FONTS: &[&[u8]] = &[
    include_bytes!("../../fonts/DejaVuSans.ttf"),
    include_bytes!("../../fonts/DejaVuSans-Bold.ttf"),
    include_bytes!("../../fonts/DejaVuSans-Oblique.ttf"),
    include_bytes!("../../fonts/DejaVuSans-BoldOblique.ttf"),
    include_bytes!("../../fonts/DejaVuSerif.ttf"),
    include_bytes!("../../fonts/DejaVuSerif-Bold.ttf"),
    include_bytes!("../../fonts/DejaVuSerif-Italic.ttf"),
    include_bytes!("../../fonts/DejaVuSerif-BoldItalic.ttf"),
    include_bytes!("../../fonts/DejaVuSansMono.ttf"),
    include_bytes!("../../fonts/DejaVuSansMono-Bold.ttf"),
    include_bytes!("../../fonts/DejaVuSansMono-Oblique.ttf"),
    include_bytes!("../../fonts/DejaVuSansMono-BoldOblique.ttf"),
];

impl FontBook {
    /// An empty book. Generic names point at the DejaVu families, which must be added
    /// for them to resolve.
    pub fn new() -> Self {
        let mut book = FontBook::default();
        for (alias, family) in [
            ("sans", "DejaVu Sans"),
            ("sans-serif", "DejaVu Sans"),
            ("serif", "DejaVu Serif"),
            ("monospace", "DejaVu Sans Mono"),
            ("mono", "DejaVu Sans Mono"),
        ] {
            book.aliases.insert(alias.into(), family.into());
        }
        book
    }

    /// A book with the built-in DejaVu Sans, Serif and Sans Mono families (regular,
    /// bold, italic and bold italic), which cover Latin, Greek and Cyrillic.
    #[cfg(feature = "embed-fonts")]
    pub fn with_defaults() -> Self {
        let mut book = FontBook::new();
        for data in DEFAULT_FONTS {
            book.add(Bytes::from(*data))
                .expect("the built-in fonts parse");
        }
        book
    }

    /// Adds every face in a TTF, OTF or TTC file. Families added later are tried after
    /// earlier ones when a character is missing from the requested family.
    ///
    /// # Errors
    /// [`FontError::Invalid`] when the bytes hold no usable face.
    pub fn add(&mut self, data: impl Into<Bytes>) -> Result<Vec<FontId>, FontError> {
        let data = data.into();
        let count = ttf_parser::fonts_in_collection(data.as_slice()).unwrap_or(1);
        let mut ids = Vec::new();
        for index in 0..count.min(256) {
            let Some(face) = FontFace::parse(data.clone(), index) else {
                continue;
            };
            let id = FontId(u16::try_from(self.faces.len()).map_err(|_| FontError::TooMany)?);
            let key = face.family.to_lowercase();
            if !self.families.contains_key(&key) {
                self.fallbacks.push(key.clone());
            }
            self.families.entry(key).or_default().push(id);
            self.faces.push(face);
            ids.push(id);
        }
        if ids.is_empty() {
            return Err(FontError::Invalid);
        }
        self.svg = Arc::default();
        Ok(ids)
    }

    /// The faces as a font database for SVG text.
    pub(crate) fn svg_fonts(&self) -> &SvgFonts {
        self.svg.get_or_init(|| {
            let mut db = fontdb::Database::new();
            // Faces of one buffer (a collection) are loaded together, once.
            let mut loaded: HashMap<(usize, u32), fontdb::ID> = HashMap::new();
            for face in &self.faces {
                let buffer = face.data.address();
                if loaded.keys().any(|(b, _)| *b == buffer) {
                    continue;
                }
                for id in db.load_font_source(fontdb::Source::Binary(face.data.shared())) {
                    if let Some(info) = db.face(id) {
                        loaded.insert((buffer, info.index), id);
                    }
                }
            }
            let mut ids = Vec::with_capacity(self.faces.len());
            let mut faces = HashMap::with_capacity(self.faces.len());
            for (i, face) in self.faces.iter().enumerate() {
                let id = loaded.get(&(face.data.address(), face.index)).copied();
                if let Some(id) = id {
                    faces.insert(id, FontId(i as u16));
                }
                ids.push(id);
            }
            SvgFonts {
                db: Arc::new(db),
                ids,
                faces,
            }
        })
    }

    /// Points a generic name (such as `sans`) at a family.
    pub fn set_alias(&mut self, alias: &str, family: &str) {
        self.aliases
            .insert(alias.to_lowercase(), family.to_string());
    }

    /// The face with this id.
    pub fn face(&self, id: FontId) -> &FontFace {
        &self.faces[usize::from(id.0)]
    }

    /// All faces.
    pub fn faces(&self) -> &[FontFace] {
        &self.faces
    }

    /// Family names, in fallback order.
    pub fn families(&self) -> impl Iterator<Item = &str> {
        self.faces
            .iter()
            .map(|f| f.family.as_str())
            .scan(String::new(), |last, f| {
                let new = *last != f;
                *last = f.to_string();
                Some(new.then_some(f))
            })
            .flatten()
    }

    /// Whether a family (or alias) resolves to at least one face.
    pub fn has_family(&self, family: &str) -> bool {
        self.family_faces(family).is_some()
    }

    fn family_faces(&self, family: &str) -> Option<&Vec<FontId>> {
        let key = family.to_lowercase();
        let key = match self.aliases.get(&key) {
            Some(target) if !self.families.contains_key(&key) => target.to_lowercase(),
            _ => key,
        };
        self.families.get(&key)
    }

    /// The face of `family` closest to the requested weight and style.
    pub fn select(&self, family: &str, weight: u16, italic: bool) -> Option<FontId> {
        let ids = self.family_faces(family)?;
        ids.iter().copied().min_by_key(|id| {
            let f = self.face(*id);
            let style = if f.italic == italic { 0 } else { 10_000 };
            // Prefer heavier faces for bold requests and lighter ones otherwise (CSS).
            let diff = i32::from(f.weight) - i32::from(weight);
            let weight_cost = if (weight >= 500) == (diff >= 0) {
                diff.abs()
            } else {
                diff.abs() + 1000
            };
            style + weight_cost
        })
    }

    /// The families tried for missing characters, in order.
    pub(crate) fn fallback_families(&self) -> &[String] {
        &self.fallbacks
    }
}

#[cfg(all(test, feature = "embed-fonts"))]
mod tests {
    use super::*;

    #[test]
    fn generic_names_resolve_to_the_built_in_families() {
        let book = FontBook::with_defaults();
        let sans = book.select("sans", 400, false).unwrap();
        assert_eq!(book.face(sans).family, "DejaVu Sans");
        let mono = book.select("monospace", 700, true).unwrap();
        let f = book.face(mono);
        assert_eq!(
            (f.family.as_str(), f.weight, f.italic),
            ("DejaVu Sans Mono", 700, true)
        );
    }

    #[test]
    fn a_missing_weight_picks_the_nearest_face() {
        let book = FontBook::with_defaults();
        let f = book.face(book.select("serif", 600, false).unwrap());
        assert_eq!(f.weight, 700);
        let f = book.face(book.select("serif", 300, false).unwrap());
        assert_eq!(f.weight, 400);
    }

    #[test]
    fn a_name_table_pointing_outside_its_strings_is_refused() {
        let mut font = DEFAULT_FONTS[0].to_vec();
        let tables = usize::from(u16::from_be_bytes([font[4], font[5]]));
        let name = (0..tables)
            .map(|i| 12 + i * 16)
            .find(|&r| &font[r..r + 4] == b"name")
            .map(|r| u32::from_be_bytes([font[r + 8], font[r + 9], font[r + 10], font[r + 11]]))
            .unwrap() as usize;
        assert!(FontBook::new().add(font.clone()).is_ok());
        // The first record's length and offset: 0x0100 bytes at 0xFFF0.
        font[name + 6 + 8..name + 6 + 12].copy_from_slice(&[0x01, 0x00, 0xFF, 0xF0]);
        assert_eq!(FontBook::new().add(font), Err(FontError::Invalid));
    }

    #[test]
    fn garbage_bytes_are_refused() {
        let mut book = FontBook::new();
        assert_eq!(book.add(vec![1u8, 2, 3]), Err(FontError::Invalid));
    }

    #[test]
    fn unknown_families_do_not_resolve() {
        assert!(
            FontBook::with_defaults()
                .select("Comic Sans", 400, false)
                .is_none()
        );
    }
}
