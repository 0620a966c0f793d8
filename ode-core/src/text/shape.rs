//! Text → glyphs, with a per-face cache.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::{FontBook, FontId};

/// OpenType feature settings: tag and value, later entries win.
pub(crate) type FeatureList = Rc<[([u8; 4], u32)]>;

/// Everything besides face and text that decides the glyphs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct ShapeProps {
    /// Right to left (from the bidi level).
    pub rtl: bool,
    /// ISO 15924 script tag; `None` guesses it from the text.
    pub script: Option<[u8; 4]>,
    /// Language tag.
    pub lang: Option<Rc<str>>,
    pub features: FeatureList,
}

/// Index of interned [`ShapeProps`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct PropsId(pub u16);

/// One shaped glyph, in em units (multiply by the font size for points).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ShapedGlyph {
    pub id: u16,
    /// Byte offset of the glyph's cluster in the shaped text.
    pub cluster: u32,
    pub advance: f32,
    pub dx: f32,
    pub dy: f32,
}

/// Shaped glyphs by text, for one face and one set of properties.
type GlyphCache = HashMap<Box<str>, Rc<[ShapedGlyph]>>;

/// How many distinct texts a face's cache holds before it is emptied.
const CACHE_LIMIT: usize = 16_384;

/// Shapes text with the faces of one [`FontBook`], caching results.
pub(crate) struct Shaper<'a> {
    book: &'a FontBook,
    faces: Vec<OnceCell<Option<rustybuzz::Face<'a>>>>,
    /// Per face, per properties: text → glyphs.
    cache: Vec<Vec<GlyphCache>>,
    /// Shape plans per face, properties and script: building one costs more than
    /// shaping a word, so they are made once.
    plans: HashMap<(FontId, PropsId, rustybuzz::Script), rustybuzz::ShapePlan>,
    props: Vec<ShapeProps>,
    props_index: HashMap<ShapeProps, PropsId>,
    buffer: Option<rustybuzz::UnicodeBuffer>,
}

impl<'a> Shaper<'a> {
    pub fn new(book: &'a FontBook) -> Self {
        let n = book.faces().len();
        Shaper {
            book,
            faces: (0..n).map(|_| OnceCell::new()).collect(),
            cache: (0..n).map(|_| Vec::new()).collect(),
            plans: HashMap::new(),
            props: vec![ShapeProps::default()],
            props_index: HashMap::from([(ShapeProps::default(), PropsId(0))]),
            buffer: None,
        }
    }

    pub fn book(&self) -> &'a FontBook {
        self.book
    }

    fn face(&self, id: FontId) -> Option<&rustybuzz::Face<'a>> {
        let book = self.book;
        self.faces[usize::from(id.0)]
            .get_or_init(|| {
                let f = book.face(id);
                rustybuzz::Face::from_slice(f.data.as_slice(), f.index)
            })
            .as_ref()
    }

    /// Whether face `id` has a glyph for `c`.
    pub fn covers(&self, id: FontId, c: char) -> bool {
        let meta = self.book.face(id);
        if c.is_ascii() {
            return meta.ascii & (1 << c as u32) != 0;
        }
        self.face(id).is_some_and(|f| meta.covers(c, f))
    }

    /// The id of a set of shaping properties (the same id for equal properties).
    pub fn props_id(&mut self, props: &ShapeProps) -> PropsId {
        if let Some(id) = self.props_index.get(props) {
            return *id;
        }
        let Ok(n) = u16::try_from(self.props.len()) else {
            return PropsId(0);
        };
        self.props.push(props.clone());
        self.props_index.insert(props.clone(), PropsId(n));
        PropsId(n)
    }

    /// Shapes `text` (one direction, one script) with face `id`, guessing script and
    /// direction, with the default features.
    pub fn shape(&mut self, id: FontId, text: &str) -> Rc<[ShapedGlyph]> {
        self.shape_with(id, text, PropsId(0))
    }

    /// Shapes `text` with face `id` and the properties `pid`.
    pub fn shape_with(&mut self, id: FontId, text: &str, pid: PropsId) -> Rc<[ShapedGlyph]> {
        let slot = usize::from(id.0);
        let ps = usize::from(pid.0);
        if let Some(hit) = self.cache[slot].get(ps).and_then(|c| c.get(text)) {
            return hit.clone();
        }
        let upem = self.book.face(id).units_per_em;
        let mut buffer = self.buffer.take().unwrap_or_default();
        buffer.push_str(text);
        let props = &self.props[ps];
        if pid.0 != 0 {
            buffer.set_direction(if props.rtl {
                rustybuzz::Direction::RightToLeft
            } else {
                rustybuzz::Direction::LeftToRight
            });
            if let Some(script) = props.script.and_then(|t| {
                rustybuzz::Script::from_iso15924_tag(rustybuzz::ttf_parser::Tag::from_bytes(&t))
            }) {
                buffer.set_script(script);
            }
            if let Some(lang) = props.lang.as_deref().and_then(|l| l.parse().ok()) {
                buffer.set_language(lang);
            }
        }
        buffer.guess_segment_properties();
        let key = (id, pid, buffer.script());
        if !self.plans.contains_key(&key)
            && let Some(face) = self.face(id)
        {
            let props = &self.props[ps];
            let features: Vec<rustybuzz::Feature> = props
                .features
                .iter()
                .map(|(tag, value)| {
                    rustybuzz::Feature::new(rustybuzz::ttf_parser::Tag::from_bytes(tag), *value, ..)
                })
                .collect();
            let plan = rustybuzz::ShapePlan::new(
                face,
                buffer.direction(),
                Some(key.2),
                buffer.language().as_ref(),
                &features,
            );
            self.plans.insert(key, plan);
        }
        let glyphs: Rc<[ShapedGlyph]> = match (self.face(id), self.plans.get(&key)) {
            (Some(face), Some(plan)) => {
                let out = rustybuzz::shape_with_plan(face, plan, buffer);
                let glyphs = out
                    .glyph_infos()
                    .iter()
                    .zip(out.glyph_positions())
                    .map(|(info, pos)| ShapedGlyph {
                        id: u16::try_from(info.glyph_id).unwrap_or(0),
                        cluster: info.cluster,
                        advance: pos.x_advance as f32 / upem,
                        dx: pos.x_offset as f32 / upem,
                        dy: pos.y_offset as f32 / upem,
                    })
                    .collect();
                self.buffer = Some(out.clear());
                glyphs
            }
            _ => {
                self.buffer = Some(rustybuzz::UnicodeBuffer::new());
                Rc::from([])
            }
        };
        let caches = &mut self.cache[slot];
        if caches.len() <= ps {
            caches.resize_with(ps + 1, HashMap::new);
        }
        let cache = &mut caches[ps];
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(text.into(), glyphs.clone());
        glyphs
    }
}

#[cfg(all(test, feature = "embed-fonts"))]
mod tests {
    use super::*;

    #[test]
    fn kerning_pulls_av_closer_than_its_letters_alone() {
        let book = FontBook::with_defaults();
        let id = book.select("sans", 400, false).unwrap();
        let mut s = Shaper::new(&book);
        let pair: f32 = s.shape(id, "AV").iter().map(|g| g.advance).sum();
        let a: f32 = s.shape(id, "A").iter().map(|g| g.advance).sum();
        let v: f32 = s.shape(id, "V").iter().map(|g| g.advance).sum();
        assert!(
            pair < a + v,
            "AV {pair} should be narrower than A+V {}",
            a + v
        );
    }

    #[test]
    fn the_fi_ligature_becomes_one_glyph() {
        let book = FontBook::with_defaults();
        let id = book.select("serif", 400, false).unwrap();
        let mut s = Shaper::new(&book);
        assert_eq!(s.shape(id, "fi").len(), 1);
    }

    #[test]
    fn a_repeated_text_comes_from_the_cache() {
        let book = FontBook::with_defaults();
        let id = book.select("sans", 400, false).unwrap();
        let mut s = Shaper::new(&book);
        let a = s.shape(id, "hello");
        let b = s.shape(id, "hello");
        assert!(Rc::ptr_eq(&a, &b));
    }
}
