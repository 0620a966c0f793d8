//! Text → glyphs, with a per-face cache.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::{FontBook, FontId};

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

/// How many distinct texts a face's cache holds before it is emptied.
const CACHE_LIMIT: usize = 16_384;

/// Shapes text with the faces of one [`FontBook`], caching results.
pub(crate) struct Shaper<'a> {
    book: &'a FontBook,
    faces: Vec<OnceCell<Option<rustybuzz::Face<'a>>>>,
    cache: Vec<HashMap<Box<str>, Rc<[ShapedGlyph]>>>,
    /// Shape plans per face, script and direction: building one costs more than
    /// shaping a word, so they are made once.
    plans: HashMap<(FontId, rustybuzz::Script, rustybuzz::Direction), rustybuzz::ShapePlan>,
    buffer: Option<rustybuzz::UnicodeBuffer>,
}

impl<'a> Shaper<'a> {
    pub fn new(book: &'a FontBook) -> Self {
        let n = book.faces().len();
        Shaper {
            book,
            faces: (0..n).map(|_| OnceCell::new()).collect(),
            cache: (0..n).map(|_| HashMap::new()).collect(),
            plans: HashMap::new(),
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

    /// Shapes `text` (one direction, one script) with face `id`.
    pub fn shape(&mut self, id: FontId, text: &str) -> Rc<[ShapedGlyph]> {
        let slot = usize::from(id.0);
        if let Some(hit) = self.cache[slot].get(text) {
            return hit.clone();
        }
        let upem = self.book.face(id).units_per_em;
        let mut buffer = self.buffer.take().unwrap_or_default();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let key = (id, buffer.script(), buffer.direction());
        if !self.plans.contains_key(&key)
            && let Some(face) = self.face(id)
        {
            let plan = rustybuzz::ShapePlan::new(face, key.2, Some(key.1), None, &[]);
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
        let cache = &mut self.cache[slot];
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
