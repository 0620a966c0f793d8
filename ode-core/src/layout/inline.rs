//! Paragraph layout: styled text → shaped pieces → lines of positioned glyph runs.
//!
//! Steps: the inline content is flattened into one string with style spans; each span
//! is split into runs by font fallback (the first face that has the character); the
//! string is cut at the line break opportunities of Unicode UAX #14; every piece of a
//! word in one run is shaped (cached per face and text); lines are filled greedily and
//! aligned or justified; finally pieces that share font, size and color are merged into
//! one glyph run per line.

use std::collections::BTreeSet;
use std::ops::Range;
use std::rc::Rc;

use unicode_linebreak::{BreakOpportunity, linebreaks};

use unicode_bidi::{BidiClass, Level, ParagraphBidiInfo, bidi_class};
use unicode_script::UnicodeScript;

use super::Ctx;
use super::style::{BlockStyle, TextStyle, apply_inline};
use crate::frame::{Glyph, Item, LineItem, LinkItem, LinkTarget, TextItem};
use crate::geom::{Point, Rect};
use crate::model::{Align, Baseline, Direction, FieldKind, Inline};
use crate::path::JPath;
use crate::text::FontId;
use crate::text::shape::{PropsId, ShapeProps, ShapedGlyph};

/// How fields get their values.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldMode {
    /// Known values (headers and footers, laid out per page).
    Exact { page: usize, count: usize },
    /// Not known yet: reserve room for this many digits; the runs are filled in after
    /// pagination.
    Placeholder { digits: usize },
}

/// A styled range of the paragraph text.
struct SpanInfo {
    range: Range<usize>,
    style: Rc<TextStyle>,
    field: Option<FieldKind>,
    /// Index of the inline it came from, for diagnostics.
    source: Option<usize>,
    /// The footnote (index in [`Prepared::notes`]) whose reference this span is.
    note: Option<usize>,
}

/// A shaped piece: part of a word in one span and one font.
#[derive(Clone)]
struct Piece {
    /// Byte range in the paragraph text that the glyphs cover.
    range: Range<usize>,
    /// Where the shaped text starts in the paragraph text: glyph clusters count from
    /// here. (For a right-to-left run the glyphs come in visual order, so the first
    /// glyph's cluster is not the smallest.)
    text_base: usize,
    span: usize,
    font: FontId,
    glyphs: Rc<[ShapedGlyph]>,
    glyph_range: Range<usize>,
    /// Effective size (after super/subscript scaling).
    size: f32,
    /// Upward baseline shift.
    rise: f32,
    width: f32,
    /// Width of the whitespace at the piece's end.
    trailing_ws: f32,
    /// Whether the piece is only whitespace.
    all_ws: bool,
    /// Letter spacing added to every glyph.
    letter_spacing: f32,
    /// Whether the glyphs' clusters rise (left-to-right text); only such pieces are
    /// cut inside an overlong word or hyphenated.
    rising: bool,
    /// Bidi embedding level (odd: right to left).
    level: u8,
}

#[derive(Clone)]
struct Word {
    pieces: Range<usize>,
    width: f32,
    trailing_ws: f32,
    mandatory: bool,
    /// Width of the hyphen shown when a line ends after this word (a hyphenation
    /// point or a soft hyphen); 0 for other words.
    hyphen: f32,
}

/// A paragraph ready for line breaking at any width.
pub(crate) struct Prepared {
    text: String,
    spans: Vec<SpanInfo>,
    pieces: Vec<Piece>,
    words: Vec<Word>,
    base: Rc<TextStyle>,
    base_font: FontId,
    /// Right-to-left paragraph.
    rtl: bool,
    /// Footnotes referenced: their number and the index of their inline.
    pub(crate) notes: Vec<(u32, usize)>,
}

/// One laid-out line; item positions are relative to the line's top left.
pub(crate) struct Line {
    pub height: f32,
    pub baseline: f32,
    pub items: Vec<Item>,
    /// Footnotes referenced on the line (indexes in [`Prepared::notes`]).
    pub note_refs: Vec<usize>,
    /// Those footnotes, laid out (see `Ctx::attach_notes`).
    pub notes: Vec<Rc<super::notes::Note>>,
}

impl Prepared {
    /// The narrowest width without overflow (widest word) and the natural width.
    pub fn measure(&self, style: &BlockStyle) -> (f32, f32) {
        let mut min: f32 = 0.0;
        let mut max: f32 = 0.0;
        let mut line: f32 = 0.0;
        for w in &self.words {
            min = min.max(w.width - w.trailing_ws + w.hyphen);
            line += w.width;
            if w.mandatory {
                max = max.max(line - w.trailing_ws);
                line = 0.0;
            }
        }
        max = max.max(line);
        let extra = style.left_indent + style.right_indent + style.first_line_indent.max(0.0);
        (min + extra, max + extra)
    }
}

fn is_ws(c: char) -> bool {
    c == ' ' || c == '\u{3000}' || c == '\t'
}

/// Whether `c` is a strong right-to-left character (or starts right-to-left
/// embedding), so that the paragraph needs the bidi algorithm.
fn is_rtl(c: char) -> bool {
    u32::from(c) >= 0x590
        && matches!(
            bidi_class(c),
            BidiClass::R
                | BidiClass::AL
                | BidiClass::AN
                | BidiClass::RLE
                | BidiClass::RLO
                | BidiClass::RLI
        )
}

/// The ISO 15924 tag of `c`'s script; `None` for characters shared by scripts
/// (digits, punctuation, spaces, combining marks), which take their neighbours'.
fn script_tag(c: char) -> Option<[u8; 4]> {
    if c.is_ascii() {
        return c.is_ascii_alphabetic().then_some(*b"Latn");
    }
    let sc = c.script();
    if matches!(
        sc,
        unicode_script::Script::Common
            | unicode_script::Script::Inherited
            | unicode_script::Script::Unknown
    ) {
        return None;
    }
    <[u8; 4]>::try_from(sc.short_name().as_bytes()).ok()
}

/// Script runs of `text`: (start, script), shared characters joined to the run before
/// them (or, at the start, after them).
fn script_runs(text: &str) -> Vec<(usize, Option<[u8; 4]>)> {
    let mut runs: Vec<(usize, Option<[u8; 4]>)> = vec![(0, None)];
    for (i, c) in text.char_indices() {
        let Some(sc) = script_tag(c) else { continue };
        let last = runs.last_mut().expect("one run at least");
        match last.1 {
            None => last.1 = Some(sc),
            Some(cur) if cur == sc => {}
            Some(_) => runs.push((i, Some(sc))),
        }
    }
    runs
}

/// The hypher language of a BCP 47 tag.
fn hyphen_lang(tag: &str) -> Option<hypher::Lang> {
    let primary = tag.split(['-', '_']).next()?;
    let code = <[u8; 2]>::try_from(primary.as_bytes()).ok()?;
    hypher::Lang::from_iso(code)
}

fn is_break_char(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{b}' | '\u{c}' | '\u{85}'
    )
}

impl Ctx<'_> {
    /// Flattens, itemizes, segments and shapes a paragraph.
    pub(crate) fn prepare(
        &mut self,
        text: Option<&str>,
        content: &[Inline],
        style: &BlockStyle,
        fields: FieldMode,
        path: &JPath,
    ) -> Prepared {
        let base = Rc::new(style.text.clone());
        let mut out = String::new();
        let mut spans: Vec<SpanInfo> = Vec::new();
        let push = |out: &mut String,
                    spans: &mut Vec<SpanInfo>,
                    s: &str,
                    style: Rc<TextStyle>,
                    field,
                    source| {
            let start = out.len();
            out.extend(s.chars().map(|c| if c == '\t' { ' ' } else { c }));
            spans.push(SpanInfo {
                range: start..out.len(),
                style,
                field,
                source,
                note: None,
            });
        };
        let mut notes: Vec<(u32, usize)> = Vec::new();
        if let Some(t) = text {
            push(&mut out, &mut spans, t, base.clone(), None, None);
        }
        for (i, inline) in content.iter().enumerate() {
            match inline {
                Inline::Text(t) => push(&mut out, &mut spans, t, base.clone(), None, Some(i)),
                Inline::Span(s) => {
                    let st = Rc::new(apply_inline(&self.sheet, &base, &s.style));
                    push(&mut out, &mut spans, &s.text, st, None, Some(i));
                }
                Inline::Field(f) if f.field == FieldKind::PageOf => {
                    // A cross-reference: the page number from the counting pass, and a
                    // link to the anchor unless the field links elsewhere.
                    let anchor = f.anchor.as_deref().unwrap_or_default();
                    let mut inline = f.style.clone();
                    if inline.link.is_none() {
                        inline.link = Some(format!("#{anchor}"));
                    }
                    let st = Rc::new(apply_inline(&self.sheet, &base, &inline));
                    let value = match self.page_refs.get(anchor) {
                        Some(n) => n.to_string(),
                        None => match fields {
                            FieldMode::Placeholder { digits } => "0".repeat(digits),
                            FieldMode::Exact { .. } => "0".into(),
                        },
                    };
                    push(&mut out, &mut spans, &value, st, None, Some(i));
                }
                Inline::Footnote(_) if self.in_note || self.artifact.is_some() => {}
                Inline::Footnote(_) => {
                    // Numbered through the document; the count moves on only when the
                    // paragraph is laid out (`attach_notes`), not when it is measured.
                    let number = self.notes_next + notes.len() as u32;
                    let inline = crate::model::InlineStyle {
                        baseline: Some(Baseline::Super),
                        ..Default::default()
                    };
                    let st = Rc::new(apply_inline(&self.sheet, &base, &inline));
                    push(&mut out, &mut spans, &number.to_string(), st, None, Some(i));
                    if let Some(last) = spans.last_mut() {
                        last.note = Some(notes.len());
                    }
                    notes.push((number, i));
                }
                Inline::Field(f) => {
                    let st = Rc::new(apply_inline(&self.sheet, &base, &f.style));
                    let value = match (f.field, fields) {
                        (FieldKind::Title, _) => self.title.clone(),
                        (FieldKind::PageOf, _) => String::new(),
                        (FieldKind::PageNumber, FieldMode::Exact { page, .. }) => page.to_string(),
                        (FieldKind::PageCount, FieldMode::Exact { count, .. }) => count.to_string(),
                        (_, FieldMode::Placeholder { digits }) => "0".repeat(digits),
                    };
                    let kind = (f.field != FieldKind::Title
                        && matches!(fields, FieldMode::Placeholder { .. }))
                    .then_some(f.field);
                    push(&mut out, &mut spans, &value, st, kind, Some(i));
                }
                Inline::LineBreak(_) => {
                    push(&mut out, &mut spans, "\n", base.clone(), None, Some(i))
                }
            }
        }
        let base_font = self.font_for(&base, path);

        // Bidi levels, only for paragraphs that need them: text with no right-to-left
        // character in a paragraph that is not right-to-left stays at level 0.
        let needs_bidi = style.dir == Direction::Rtl
            || (style.dir == Direction::Auto || !out.is_ascii()) && out.chars().any(is_rtl);
        let (levels, rtl) = if needs_bidi {
            let default = match style.dir {
                Direction::Ltr => Some(Level::ltr()),
                Direction::Rtl => Some(Level::rtl()),
                Direction::Auto => None,
            };
            let info = ParagraphBidiInfo::new(&out, default);
            let rtl = info.paragraph_level.is_rtl();
            (
                Some(info.levels.iter().map(|l| l.number()).collect::<Vec<u8>>()),
                rtl,
            )
        } else {
            (None, false)
        };
        let level_at = |i: usize| levels.as_ref().map_or(0, |l| l[i]);
        let scripts = script_runs(&out);
        let mut script_idx = 0;

        // Runs: (range, span, font, bidi level, script).
        type Run = (Range<usize>, usize, FontId, u8, PropsId);
        let mut runs: Vec<Run> = Vec::new();
        let mut missing: BTreeSet<(char, Option<usize>)> = BTreeSet::new();
        for (si, span) in spans.iter().enumerate() {
            let primary = self.font_for(&span.style, path);
            self.check_fallback(&span.style, path);
            let mut cur: Option<(usize, FontId, u8, Option<[u8; 4]>)> = None;
            for (off, c) in out[span.range.clone()].char_indices() {
                let at = span.range.start + off;
                while script_idx + 1 < scripts.len() && scripts[script_idx + 1].0 <= at {
                    script_idx += 1;
                }
                let script = scripts[script_idx].1;
                let level = level_at(at);
                let font = if c.is_whitespace() || c.is_control() || self.shaper.covers(primary, c)
                {
                    cur.map_or(primary, |(_, f, _, _)| {
                        if c.is_whitespace() || c.is_control() {
                            f
                        } else {
                            primary
                        }
                    })
                } else {
                    match self.fallback_for(c, &span.style) {
                        Some(f) => f,
                        None => {
                            missing.insert((c, span.source));
                            primary
                        }
                    }
                };
                match cur {
                    Some((_, f, l, sc)) if f == font && l == level && sc == script => {}
                    Some((start, f, l, sc)) => {
                        let pid = self.run_props(&span.style, l, sc);
                        runs.push((start..at, si, f, l, pid));
                        cur = Some((at, font, level, script));
                    }
                    None => cur = Some((at, font, level, script)),
                }
            }
            if let Some((start, f, l, sc)) = cur {
                let pid = self.run_props(&span.style, l, sc);
                runs.push((start..span.range.end, si, f, l, pid));
            }
        }
        for (c, source) in missing {
            let p = match source {
                Some(i) => format!("{}/content/{i}", path),
                None => format!("{}/text", path),
            };
            self.warn(
                p,
                format!(
                    "no font has a glyph for {:?} (U+{:04X}); it shows as a box",
                    c, c as u32
                ),
            );
        }

        // Words at break opportunities, and their pieces.
        let mut pieces: Vec<Piece> = Vec::new();
        let mut words: Vec<Word> = Vec::new();
        let mut run_idx = 0;
        let mut word_start = 0;
        for (brk, kind) in linebreaks(&out) {
            if brk == 0 {
                continue;
            }
            let first_piece = pieces.len();
            while run_idx < runs.len() && runs[run_idx].0.start < brk {
                let (range, si, font, level, props) = runs[run_idx].clone();
                let start = range.start.max(word_start);
                let end = range.end.min(brk);
                if start < end {
                    self.push_piece(
                        &mut pieces,
                        &out,
                        start..end,
                        si,
                        (font, level, props),
                        &spans,
                    );
                }
                if range.end <= brk {
                    run_idx += 1;
                } else {
                    break;
                }
            }
            let (mut width, mut trailing) = (0.0, 0.0);
            let mut in_trailing = true;
            for p in pieces[first_piece..].iter().rev() {
                width += p.width;
                if in_trailing {
                    trailing += p.trailing_ws;
                    in_trailing = p.all_ws;
                }
            }
            let last_char = out[..brk].chars().next_back();
            let ends_with_break = last_char.is_some_and(is_break_char);
            let word = Word {
                pieces: first_piece..pieces.len(),
                width,
                trailing_ws: trailing,
                mandatory: kind == BreakOpportunity::Mandatory
                    && (ends_with_break || brk < out.len()),
                hyphen: 0.0,
            };
            let mut word = word;
            // A soft hyphen: a line ending here shows a hyphen.
            if last_char == Some('\u{ad}')
                && let Some(last) = pieces[word.pieces.clone()].last().cloned()
            {
                word.hyphen = self.hyphen_width(&last);
            }
            words.push(word);
            word_start = brk;
        }
        Prepared {
            text: out,
            spans,
            pieces,
            words,
            base,
            base_font,
            rtl,
            notes,
        }
    }

    /// The shaping properties of a run.
    fn run_props(&mut self, style: &TextStyle, level: u8, script: Option<[u8; 4]>) -> PropsId {
        self.shaper.props_id(&ShapeProps {
            rtl: level % 2 == 1,
            script,
            lang: style.lang.clone(),
            features: style.features.clone(),
        })
    }

    /// The width of a hyphen after `piece`.
    fn hyphen_width(&mut self, piece: &Piece) -> f32 {
        let glyphs = self.shaper.shape(piece.font, "-");
        glyphs
            .iter()
            .map(|g| g.advance * piece.size + piece.letter_spacing)
            .sum()
    }

    /// The syllable boundaries of piece `pi` where a line may break with a hyphen,
    /// as glyph indices, rising; empty when its span does not hyphenate.
    fn hyphenation_points(&mut self, p: &Prepared, piece: &Piece) -> Vec<usize> {
        let st = &p.spans[piece.span].style;
        let mut out = Vec::new();
        if !st.hyphenate || !piece.rising || piece.all_ws {
            return out;
        }
        let Some(lang) = st.lang.as_deref().and_then(hyphen_lang) else {
            return out;
        };
        let s = &p.text[piece.range.clone()];
        let glyphs = &piece.glyphs[piece.glyph_range.clone()];
        // Each run of letters is hyphenated on its own.
        let mut at = 0;
        while at < s.len() {
            let skip: usize = s[at..]
                .chars()
                .take_while(|c| !c.is_alphabetic())
                .map(char::len_utf8)
                .sum();
            let start = at + skip;
            let len: usize = s[start..]
                .chars()
                .take_while(|c| c.is_alphabetic())
                .map(char::len_utf8)
                .sum();
            if len == 0 {
                break;
            }
            let letters = &s[start..start + len];
            if letters.chars().nth(4).is_some() {
                for &b in self.syllable_breaks(letters, lang).iter() {
                    let off = start + usize::from(b);
                    // Only at a cluster boundary (not inside a ligature).
                    let rel = (piece.range.start + off - piece.text_base) as u32;
                    if let Some(k) = glyphs.iter().position(|g| g.cluster == rel)
                        && k > 0
                    {
                        out.push(piece.glyph_range.start + k);
                    }
                }
            }
            at = start + len;
        }
        out
    }

    /// Byte offsets in `word` (letters only) between its syllables, cached.
    fn syllable_breaks(&mut self, word: &str, lang: hypher::Lang) -> Rc<[u16]> {
        if let Some(hit) = self.hyphenated.get(&lang).and_then(|m| m.get(word)) {
            return hit.clone();
        }
        let syllables = hypher::hyphenate(word, lang);
        let n = syllables.len();
        let mut off = 0usize;
        let breaks: Rc<[u16]> = syllables
            .take(n.saturating_sub(1))
            .filter_map(|s| {
                off += s.len();
                u16::try_from(off).ok()
            })
            .collect();
        let cache = self.hyphenated.entry(lang).or_default();
        if cache.len() >= 16_384 {
            cache.clear();
        }
        cache.insert(Box::from(word), breaks.clone());
        breaks
    }

    /// Cuts `word` at its last hyphenation point where the head and a hyphen fit in
    /// `room`: the head (which carries the hyphen) and the tail.
    fn hyphenate_to_fit(
        &mut self,
        p: &Prepared,
        pieces: &mut Vec<Piece>,
        word: &Word,
        room: f32,
    ) -> Option<(Word, Word)> {
        let mut best: Option<(usize, usize, f32, f32)> = None; // piece, glyph, head, hyphen
        let mut before = 0.0;
        'pieces: for pi in word.pieces.clone() {
            let piece = &pieces[pi];
            let points = self.hyphenation_points(p, piece);
            if !points.is_empty() {
                let piece = piece.clone();
                let hyphen = self.hyphen_width(&piece);
                let mut w = before;
                let mut g = piece.glyph_range.start;
                for k in points {
                    while g < k {
                        w += piece.glyphs[g].advance * piece.size + piece.letter_spacing;
                        g += 1;
                    }
                    if w + hyphen > room + 0.01 {
                        break 'pieces;
                    }
                    best = Some((pi, k, w, hyphen));
                }
            }
            before += pieces[pi].width;
            if before > room {
                break;
            }
        }
        let (pi, k, head_w, hyphen) = best?;
        let (head, tail) = cut_piece(&pieces[pi], k);
        pieces[pi] = head;
        let start = pieces.len();
        pieces.push(tail);
        pieces.extend_from_within(pi + 1..word.pieces.end);
        let head = Word {
            pieces: word.pieces.start..pi + 1,
            width: head_w,
            trailing_ws: 0.0,
            mandatory: false,
            hyphen,
        };
        let tail = Word {
            pieces: start..pieces.len(),
            width: word.width - head_w,
            ..word.clone()
        };
        Some((head, tail))
    }

    fn push_piece(
        &mut self,
        pieces: &mut Vec<Piece>,
        text: &str,
        range: Range<usize>,
        span: usize,
        (font, level, props): (FontId, u8, PropsId),
        spans: &[SpanInfo],
    ) {
        // Line break characters take no room and get no glyph.
        let mut end = range.end;
        while end > range.start && text[..end].chars().next_back().is_some_and(is_break_char) {
            end -= text[..end].chars().next_back().map_or(1, char::len_utf8);
        }
        let range = range.start..end;
        if range.is_empty() {
            return;
        }
        let style = &spans[span].style;
        let (size, rise) = match style.baseline {
            None => (style.size, 0.0),
            Some(Baseline::Super) => (style.size * 0.7, style.size * 0.33),
            Some(Baseline::Sub) => (style.size * 0.7, -style.size * 0.15),
        };
        let s = &text[range.clone()];
        let glyphs = self.shaper.shape_with(font, s, props);
        let ls = style.letter_spacing;
        let ws_start = s.len()
            - s.chars()
                .rev()
                .take_while(|c| is_ws(*c))
                .map(char::len_utf8)
                .sum::<usize>();
        let mut width = 0.0;
        let mut trailing = 0.0;
        for g in glyphs.iter() {
            let adv = g.advance * size + ls;
            width += adv;
            if g.cluster as usize >= ws_start {
                trailing += adv;
            }
        }
        let n = glyphs.len();
        let rising = level % 2 == 0 && glyphs.windows(2).all(|w| w[0].cluster <= w[1].cluster);
        pieces.push(Piece {
            letter_spacing: ls,
            rising,
            level,
            text_base: range.start,
            range,
            span,
            font,
            glyphs,
            glyph_range: 0..n,
            size,
            rise,
            width,
            trailing_ws: trailing,
            all_ws: ws_start == 0,
        });
    }

    /// Breaks a prepared paragraph into lines of at most `width`.
    pub(crate) fn break_lines(
        &mut self,
        p: &Prepared,
        style: &BlockStyle,
        width: f32,
    ) -> Vec<Line> {
        let avail = |first: bool| {
            (width
                - style.left_indent
                - style.right_indent
                - if first { style.first_line_indent } else { 0.0 })
            .max(1.0)
        };
        let mut pieces = p.pieces.clone();
        // Justified, hyphenated text is broken for the whole paragraph at once
        // (Knuth-Plass); everything else greedily, line by line.
        let optimal = (style.align == Align::Justify && p.spans.iter().any(|s| s.style.hyphenate))
            .then(|| self.break_optimal(p, &mut pieces, avail(true), avail(false)))
            .flatten();
        let (words, lines) = match optimal {
            Some(found) => found,
            None => self.break_greedy(p, &mut pieces, avail),
        };

        let n = lines.len();
        let mut out = Vec::with_capacity(n);
        for (li, (range, hard)) in lines.into_iter().enumerate() {
            if li % 1024 == 1023 && !self.proceed() {
                break;
            }
            let first = li == 0;
            let last = li + 1 == n || hard;
            let hyphen = li + 1 < n && range.end > 0 && words[range.end - 1].hyphen > 0.0;
            let flags = LineFlags {
                first,
                last,
                hyphen,
            };
            out.push(self.build_line(p, &words[range], &pieces, style, avail(first), flags));
        }
        out
    }

    /// Total-fit line breaking: every word is cut at its hyphenation points, then the
    /// breaks that minimize the paragraph's demerits (loose lines, hyphens, two
    /// hyphenated lines in a row) are chosen by dynamic programming. `None` when a
    /// word is wider than a line (the greedy breaker splits it).
    fn break_optimal(
        &mut self,
        p: &Prepared,
        pieces: &mut Vec<Piece>,
        first_avail: f32,
        avail: f32,
    ) -> Option<Breaks> {
        // Syllables as words.
        let mut words: Vec<Word> = Vec::with_capacity(p.words.len() * 2);
        // Hyphen widths by font, size and letter spacing.
        let mut hyphens: Vec<(FontId, f32, f32, f32)> = Vec::new();
        for word in &p.words {
            // The points of the whole word, as (original piece, glyph).
            let mut cuts: Vec<(usize, usize)> = Vec::new();
            for pi in word.pieces.clone() {
                for k in self.hyphenation_points(p, &pieces[pi]) {
                    cuts.push((pi, k));
                }
            }
            let mut rest = word.clone();
            // The original piece that is now the first of `rest`.
            let mut first_orig = word.pieces.start;
            for (orig, k) in cuts {
                let pi = rest.pieces.start + (orig - first_orig);
                first_orig = orig;
                let head_w: f32 = pieces[rest.pieces.start..pi]
                    .iter()
                    .map(|x| x.width)
                    .sum::<f32>()
                    + pieces[pi].glyphs[pieces[pi].glyph_range.start..k]
                        .iter()
                        .map(|g| g.advance * pieces[pi].size + pieces[pi].letter_spacing)
                        .sum::<f32>();
                let hyphen = match hyphens.iter().find(|h| {
                    h.0 == pieces[pi].font
                        && h.1 == pieces[pi].size
                        && h.2 == pieces[pi].letter_spacing
                }) {
                    Some(h) => h.3,
                    None => {
                        let w = self.hyphen_width(&pieces[pi]);
                        hyphens.push((
                            pieces[pi].font,
                            pieces[pi].size,
                            pieces[pi].letter_spacing,
                            w,
                        ));
                        w
                    }
                };
                let (head, tail) = cut_piece(&pieces[pi], k);
                pieces[pi] = head;
                let start = pieces.len();
                pieces.push(tail);
                pieces.extend_from_within(pi + 1..rest.pieces.end);
                words.push(Word {
                    pieces: rest.pieces.start..pi + 1,
                    width: head_w,
                    trailing_ws: 0.0,
                    mandatory: false,
                    hyphen,
                });
                rest = Word {
                    pieces: start..pieces.len(),
                    width: rest.width - head_w,
                    ..rest
                };
            }
            words.push(rest);
        }
        let n = words.len();
        if n == 0 {
            return None;
        }
        let fits = |w: &Word, a: f32| w.width - w.trailing_ws + w.hyphen <= a + 0.01;
        if words.iter().any(|w| !fits(w, avail.min(first_avail))) {
            return None;
        }
        // best[i]: least demerits of breaking after word i - 1 (best[0]: the start),
        // with the line that ends there starting after `from[i]`.
        let mut best = vec![f64::INFINITY; n + 1];
        let mut from = vec![0usize; n + 1];
        best[0] = 0.0;
        for i in 1..=n {
            let end = &words[i - 1];
            let mut natural = 0.0;
            let mut stretch = 0.0;
            let mut j = i;
            while j > 0 {
                let w = &words[j - 1];
                if j < i && w.mandatory {
                    break; // a line never runs past a mandatory break
                }
                if j < i {
                    stretch += w.trailing_ws * 0.5;
                    natural += w.width;
                } else {
                    natural += w.width - w.trailing_ws + w.hyphen;
                }
                let a = if j == 1 { first_avail } else { avail };
                if natural > a + 0.01 {
                    break;
                }
                if best[j - 1].is_finite() {
                    let last = i == n || end.mandatory;
                    // Spaces stretch by half their width before a line counts as
                    // loose; a line without spaces stretches by one point.
                    let badness = if last {
                        0.0
                    } else {
                        let r = f64::from((a - natural).max(0.0) / stretch.max(1.0));
                        100.0 * r.powi(3)
                    };
                    let mut demerits = (1.0 + badness).powi(2);
                    // A hyphen costs as much as a line stretched to twice its spaces'
                    // give; a second hyphen in a row ten times that.
                    if end.hyphen > 0.0 && !last {
                        demerits += 10_000.0;
                        if j > 1 && words[j - 2].hyphen > 0.0 {
                            demerits += 100_000.0;
                        }
                    }
                    let total = best[j - 1] + demerits;
                    debug_assert!(!total.is_nan());
                    if total < best[i] {
                        best[i] = total;
                        from[i] = j - 1;
                    }
                }
                j -= 1;
            }
        }
        if !best[n].is_finite() {
            return None;
        }
        let mut lines = Vec::new();
        let mut i = n;
        while i > 0 {
            let j = from[i];
            lines.push((j..i, words[i - 1].mandatory || i == n));
            i = j;
        }
        lines.reverse();
        Some((words, lines))
    }

    /// Greedy line breaking: each line takes all the words that fit.
    fn break_greedy(
        &mut self,
        p: &Prepared,
        pieces: &mut Vec<Piece>,
        avail: impl Fn(bool) -> f32,
    ) -> Breaks {
        // Words still to place, last first: a word split at the line's end puts its
        // tail back here, which keeps breaking linear in the number of words.
        let mut rest: Vec<Word> = p.words.iter().rev().cloned().collect();
        let mut words: Vec<Word> = Vec::with_capacity(rest.len());
        let mut lines: Vec<(Range<usize>, bool)> = Vec::new(); // words, ends with a mandatory break
        let mut start = 0;
        let mut w = 0.0;
        while let Some(word) = rest.pop() {
            // A paragraph can be megabytes of words: the caller's guard is asked here
            // too, not only between blocks.
            if words.len() % 4096 == 4095 && !self.proceed() {
                break;
            }
            let i = words.len();
            let a = avail(lines.is_empty());
            let over = w + word.width - word.trailing_ws + word.hyphen > a + 0.01;
            // A word that does not fit is hyphenated when its style asks for it: the
            // line ends with the longest head that fits with its hyphen.
            if over && let Some((head, tail)) = self.hyphenate_to_fit(p, pieces, &word, a - w) {
                words.push(head);
                lines.push((start..i + 1, false));
                start = i + 1;
                w = 0.0;
                rest.push(tail);
                continue;
            }
            if i > start && over {
                lines.push((start..i, false));
                start = i;
                w = 0.0;
                rest.push(word);
                continue;
            }
            words.push(word);
            if i == start && words[i].width - words[i].trailing_ws + words[i].hyphen > a + 0.01 {
                split_word(&mut words, pieces, i, a);
                if words.len() > i + 1
                    && let Some(tail) = words.pop()
                {
                    rest.push(tail);
                }
            }
            let word = &words[i];
            w += word.width;
            if word.mandatory {
                lines.push((start..i + 1, true));
                start = i + 1;
                w = 0.0;
            }
        }
        if start < words.len() || lines.is_empty() {
            lines.push((start..words.len(), true));
        }
        (words, lines)
    }

    fn build_line(
        &mut self,
        p: &Prepared,
        words: &[Word],
        pieces: &[Piece],
        style: &BlockStyle,
        avail: f32,
        flags: LineFlags,
    ) -> Line {
        let LineFlags { first, last, .. } = flags;
        // The glyphs of the line, with trailing whitespace of the last word dropped.
        struct Slot<'p> {
            piece: &'p Piece,
            /// Position in logical order.
            logical: usize,
            glyphs: Range<usize>,
            /// A hyphen follows (the line ends at a hyphenation point).
            hyphen: Option<Rc<[ShapedGlyph]>>,
        }
        let mut slots: Vec<Slot> = Vec::new();
        let last_word = words.len().saturating_sub(1);
        for (wi, w) in words.iter().enumerate() {
            for pi in w.pieces.clone() {
                let piece = &pieces[pi];
                let mut gr = piece.glyph_range.clone();
                if wi == last_word {
                    let s = &p.text[piece.range.clone()];
                    let ws_start = s.len()
                        - s.chars()
                            .rev()
                            .take_while(|c| is_ws(*c))
                            .map(char::len_utf8)
                            .sum::<usize>();
                    let text_start = piece.text_base;
                    let trailing = |g: &ShapedGlyph| {
                        text_start + g.cluster as usize >= piece.range.start + ws_start
                    };
                    if piece.rising {
                        while gr.end > gr.start && trailing(&piece.glyphs[gr.end - 1]) {
                            gr.end -= 1;
                        }
                    } else {
                        // Right to left: the logical end is on the left.
                        while gr.end > gr.start && trailing(&piece.glyphs[gr.start]) {
                            gr.start += 1;
                        }
                    }
                }
                slots.push(Slot {
                    piece,
                    logical: slots.len(),
                    glyphs: gr,
                    hyphen: None,
                });
            }
        }
        if flags.hyphen
            && let Some(s) = slots.last_mut()
        {
            s.hyphen = Some(self.shaper.shape(s.piece.font, "-"));
        }
        // Visual order (UAX #9 rule L2): reverse every run at or above each odd level,
        // highest first. Right-to-left pieces already hold their glyphs in visual order.
        if p.rtl || slots.iter().any(|s| s.piece.level > 0) {
            let para = u8::from(p.rtl);
            let max = slots.iter().map(|s| s.piece.level).max().unwrap_or(0);
            let min_odd = slots
                .iter()
                .map(|s| s.piece.level)
                .chain([para])
                .filter(|l| l % 2 == 1)
                .min()
                .unwrap_or(max + 1);
            // A line's trailing whitespace takes the paragraph's level (rule L1); it
            // has no glyphs here, so only the last slot's level matters when empty.
            let level = |s: &Slot| {
                if s.glyphs.is_empty() {
                    para
                } else {
                    s.piece.level
                }
            };
            let mut lvl = max;
            while lvl >= min_odd && lvl > 0 {
                let mut i = 0;
                while i < slots.len() {
                    if level(&slots[i]) >= lvl {
                        let start = i;
                        while i < slots.len() && level(&slots[i]) >= lvl {
                            i += 1;
                        }
                        slots[start..i].reverse();
                    } else {
                        i += 1;
                    }
                }
                lvl -= 1;
            }
        }
        let natural: f32 = slots
            .iter()
            .map(|s| {
                let ls = p.spans[s.piece.span].style.letter_spacing;
                let hyphen: f32 = s
                    .hyphen
                    .iter()
                    .flat_map(|h| h.iter())
                    .map(|g| g.advance * s.piece.size + ls)
                    .sum();
                s.piece.glyphs[s.glyphs.clone()]
                    .iter()
                    .map(|g| g.advance * s.piece.size + ls)
                    .sum::<f32>()
                    + hyphen
            })
            .sum();
        let spaces: usize = slots
            .iter()
            .map(|s| {
                let start = s.piece.text_base;
                s.piece.glyphs[s.glyphs.clone()]
                    .iter()
                    .filter(|g| p.text[start + g.cluster as usize..].starts_with(' '))
                    .count()
            })
            .sum();
        let slack = avail - natural;
        let justify = style.align == Align::Justify && !last && spaces > 0 && slack > 0.0;
        let extra = if justify { slack / spaces as f32 } else { 0.0 };
        // Right-to-left paragraphs start on the right: alignment the document did not
        // set is mirrored, the first line's indent is on the right, and the last line
        // of justified text is flush right.
        let align = match style.align {
            Align::Left if p.rtl && !style.align_explicit => Align::Right,
            Align::Justify if p.rtl && !justify => Align::Right,
            a => a,
        };
        let mut x = style.left_indent
            + if first && !p.rtl {
                style.first_line_indent
            } else {
                0.0
            };
        x += match align {
            Align::Right => slack.max(0.0),
            Align::Center => (slack / 2.0).max(0.0),
            _ => 0.0,
        };

        // Vertical metrics.
        let mut above: f32 = 0.0;
        let mut below: f32 = 0.0;
        let mut metric = |font: FontId, size: f32, lh: f32, rise: f32| {
            let f = self.shaper.book().face(font);
            let half = (lh * size - (f.ascender + f.descender) * size) / 2.0;
            above = above.max(f.ascender * size + half + rise);
            below = below.max(f.descender * size + half - rise);
        };
        metric(p.base_font, p.base.size, p.base.line_height, 0.0);
        for s in &slots {
            let st = &p.spans[s.piece.span].style;
            metric(s.piece.font, st.size, st.line_height, s.piece.rise);
        }
        let baseline = above;
        let height = above + below;

        // Glyph runs, decorations and links.
        let mut items: Vec<Item> = Vec::new();
        let mut decorations: Vec<Item> = Vec::new();
        let mut links: Vec<(Rc<str>, f32, f32)> = Vec::new();
        let mut run: Option<TextItem> = None;
        let mut run_key: Option<(FontId, u32, usize, bool)> = None;
        // The run's pieces: their text joins in logical order when the run ends.
        let mut parts: Vec<RunPart> = Vec::new();
        for s in &slots {
            if s.glyphs.is_empty() {
                continue;
            }
            let piece = s.piece;
            let span = &p.spans[piece.span];
            let st = &span.style;
            let key = (
                piece.font,
                piece.size.to_bits(),
                piece.span,
                span.field.is_some(),
            );
            let same = run_key.is_some_and(|k| {
                k.0 == key.0
                    && k.1 == key.1
                    && !key.3
                    && !k.3
                    && p.spans[k.2].style.color == st.color
                    && {
                        let r = run.as_ref().expect("run exists with key");
                        (r.origin.y - (baseline - piece.rise)).abs() < 1e-3
                    }
            });
            if !same {
                if let Some(mut r) = run.take() {
                    finish_run(&mut r, &mut parts, &p.text);
                    items.push(Item::Text(r));
                }
                run = Some(TextItem {
                    origin: Point::new(x, baseline - piece.rise),
                    font: piece.font,
                    size: piece.size,
                    color: st.color,
                    glyphs: Vec::new(),
                    text: String::new(),
                    field: span.field,
                    mark: Default::default(),
                });
                run_key = Some(key);
            }
            let r = run.as_mut().expect("run was just set");
            let piece_text_start = piece.text_base;
            let x0 = x;
            // All the piece's glyphs, trimmed trailing spaces included: a glyph shows the
            // text from its cluster to the next cluster in logical order (right-to-left
            // runs list their glyphs in visual order).
            // The next cluster in logical order is the smallest greater one (shapers keep
            // clusters monotonic within a run, rising or falling), found by a binary
            // search: scanning for it per glyph was quadratic in a cluster of many glyphs
            // (a letter under thousands of combining marks).
            let mut clusters: Vec<u32> = piece.glyphs[piece.glyph_range.clone()]
                .iter()
                .map(|n| n.cluster)
                .collect();
            clusters.sort_unstable();
            clusters.dedup();
            let shown = &piece.glyphs[s.glyphs.clone()];
            let spans: Vec<(usize, usize)> = shown
                .iter()
                .map(|g| {
                    let abs = piece_text_start + g.cluster as usize;
                    let next_cluster = clusters
                        .get(clusters.partition_point(|c| *c <= g.cluster))
                        .copied();
                    let next =
                        next_cluster.map_or(piece.range.end, |c| piece_text_start + c as usize);
                    let next = if next <= abs {
                        p.text[abs..]
                            .chars()
                            .next()
                            .map_or(abs, |c| abs + c.len_utf8())
                    } else {
                        next
                    };
                    (abs, next.min(p.text.len()))
                })
                .collect();
            // The run's text is in logical order (see `finish_run`); each glyph names
            // its part of its piece's text for now.
            let lo = spans.iter().map(|s| s.0).min().unwrap_or(0);
            let hi = spans.iter().map(|s| s.1).max().unwrap_or(lo);
            let first_glyph = r.glyphs.len();
            for (g, (abs, next)) in shown.iter().zip(spans) {
                let mut adv = g.advance * piece.size + st.letter_spacing;
                if justify && p.text[abs..].starts_with(' ') {
                    adv += extra;
                }
                r.glyphs.push(Glyph {
                    id: g.id,
                    x_advance: adv,
                    x_offset: g.dx * piece.size,
                    y_offset: g.dy * piece.size,
                    text_start: (abs - lo) as u32,
                    text_end: (next - lo) as u32,
                });
                x += adv;
            }
            if let Some(h) = &s.hyphen {
                // The hyphen shows the text "-", added after the piece's text.
                let start = (hi - lo) as u32;
                for g in h.iter() {
                    let adv = g.advance * piece.size + st.letter_spacing;
                    r.glyphs.push(Glyph {
                        id: g.id,
                        x_advance: adv,
                        x_offset: g.dx * piece.size,
                        y_offset: g.dy * piece.size,
                        text_start: start,
                        text_end: start + 1,
                    });
                    x += adv;
                }
            }
            parts.push(RunPart {
                logical: s.logical,
                text: lo..hi,
                hyphen: s.hyphen.is_some(),
                glyphs: first_glyph..r.glyphs.len(),
            });
            let face = self.shaper.book().face(piece.font);
            let y_base = baseline - piece.rise;
            for (on, position) in [
                (st.underline, face.underline_position),
                (st.strike, face.strikeout_position),
            ] {
                if on {
                    let y = y_base - position * piece.size;
                    let thickness = face.underline_thickness * piece.size;
                    push_deco(&mut decorations, x0, x, y, thickness, st.color);
                }
            }
            if let Some(link) = &st.link {
                match links.last_mut() {
                    Some((l, _, end)) if Rc::ptr_eq(l, link) || **l == **link => *end = x,
                    _ => links.push((link.clone(), x0, x)),
                }
            }
        }
        if let Some(mut r) = run.take() {
            finish_run(&mut r, &mut parts, &p.text);
            items.push(Item::Text(r));
        }
        items.extend(decorations);
        for (link, x0, x1) in links {
            let target = match link.strip_prefix('#') {
                Some(anchor) => LinkTarget::Anchor(anchor.to_string()),
                None => LinkTarget::Url(link.to_string()),
            };
            items.push(Item::Link(LinkItem {
                rect: Rect::new(x0, 0.0, x1 - x0, height),
                target,
                mark: Default::default(),
            }));
        }
        // Lines are kept until their page is drawn: hold no spare capacity.
        items.shrink_to_fit();
        let mut note_refs: Vec<usize> = slots
            .iter()
            .filter_map(|s| p.spans[s.piece.span].note)
            .collect();
        note_refs.sort_unstable();
        note_refs.dedup();
        Line {
            height,
            baseline,
            items,
            note_refs,
            notes: Vec::new(),
        }
    }

    /// Lays out a paragraph at `width`.
    pub(crate) fn paragraph_lines(
        &mut self,
        text: Option<&str>,
        content: &[Inline],
        style: &BlockStyle,
        width: f32,
        fields: FieldMode,
        path: &JPath,
    ) -> Vec<Line> {
        let prepared = self.prepare(text, content, style, fields, path);
        let mut lines = self.break_lines(&prepared, style, width);
        if !prepared.notes.is_empty() {
            self.attach_notes(&prepared.notes, content, &mut lines, path);
        }
        lines
    }

    /// Re-shapes a placeholder run with its real value, keeping its start.
    pub(crate) fn fill_field(&mut self, item: &mut TextItem, value: &str) {
        let glyphs = self.shaper.shape(item.font, value);
        item.text = value.to_string();
        item.glyphs = frame_glyphs(&glyphs, item.size, value);
        item.field = None;
    }
}

/// Shaped glyphs of a whole `text` at `size`, as frame glyphs (advances in points, each
/// naming its cluster's bytes).
pub(crate) fn frame_glyphs(glyphs: &[ShapedGlyph], size: f32, text: &str) -> Vec<Glyph> {
    glyphs
        .iter()
        .map(|g| {
            // Up to the next cluster in logical order: several glyphs may share one
            // cluster, and right-to-left text lists them in visual order.
            let end = glyphs
                .iter()
                .map(|n| n.cluster)
                .filter(|c| *c > g.cluster)
                .min();
            Glyph {
                id: g.id,
                x_advance: g.advance * size,
                x_offset: g.dx * size,
                y_offset: g.dy * size,
                text_start: g.cluster,
                text_end: end.unwrap_or(text.len() as u32),
            }
        })
        .collect()
}

/// A piece's share of a glyph run, while the line is built.
struct RunPart {
    /// The piece's position in logical order.
    logical: usize,
    /// Its text in the paragraph.
    text: Range<usize>,
    /// A hyphen (text "-") follows.
    hyphen: bool,
    /// Its glyphs in the run, whose text ranges are relative to its text.
    glyphs: Range<usize>,
}

/// Gives run `r` its text: the parts' texts in logical order (a right-to-left
/// sequence's pieces are drawn in the reverse order), each glyph pointing into it.
fn finish_run(r: &mut TextItem, parts: &mut Vec<RunPart>, text: &str) {
    if !parts.is_sorted_by_key(|p| p.logical) {
        parts.sort_by_key(|p| p.logical);
    }
    for part in parts.drain(..) {
        let offset = r.text.len() as u32;
        r.text.push_str(&text[part.text]);
        if part.hyphen {
            r.text.push('-');
        }
        for g in &mut r.glyphs[part.glyphs] {
            g.text_start += offset;
            g.text_end += offset;
        }
    }
}

/// Line breaking's result: the words (some cut at hyphenation points or split) and
/// the lines as ranges of them, each saying whether it ends with a mandatory break.
type Breaks = (Vec<Word>, Vec<(Range<usize>, bool)>);

/// Where a line sits in its paragraph.
#[derive(Debug, Clone, Copy)]
struct LineFlags {
    first: bool,
    last: bool,
    /// The line ends at a hyphenation point or soft hyphen: a hyphen is shown.
    hyphen: bool,
}

/// Cuts `piece` (left to right) before glyph `k`, an index into its glyphs.
fn cut_piece(piece: &Piece, k: usize) -> (Piece, Piece) {
    let g0 = piece.glyph_range.start;
    let cut = piece.text_base + piece.glyphs[k].cluster as usize;
    let head_w: f32 = piece.glyphs[g0..k]
        .iter()
        .map(|g| g.advance * piece.size + piece.letter_spacing)
        .sum();
    halves(piece, g0..k, k..piece.glyph_range.end, cut, head_w)
}

/// The two pieces `piece` splits into at text offset `cut`: the logical head (its
/// glyphs `head_glyphs`, `head_w` wide) and the tail. For right-to-left pieces the
/// head's glyphs are the visual end of the piece.
fn halves(
    piece: &Piece,
    head_glyphs: std::ops::Range<usize>,
    tail_glyphs: std::ops::Range<usize>,
    cut: usize,
    head_w: f32,
) -> (Piece, Piece) {
    let mut head = piece.clone();
    head.glyph_range = head_glyphs;
    head.range = piece.range.start..cut;
    head.width = head_w;
    head.trailing_ws = 0.0;
    head.all_ws = false;
    let mut tail = piece.clone();
    tail.glyph_range = tail_glyphs;
    tail.range = cut..piece.range.end;
    tail.width = piece.width - head_w;
    (head, tail)
}

fn push_deco(out: &mut Vec<Item>, x0: f32, x1: f32, y: f32, width: f32, color: crate::geom::Color) {
    if let Some(Item::Line(l)) = out.last_mut()
        && (l.from.y - y).abs() < 1e-3
        && (l.to.x - x0).abs() < 1e-3
        && l.color == color
    {
        l.to.x = x1;
        return;
    }
    out.push(Item::Line(LineItem {
        from: Point::new(x0, y),
        to: Point::new(x1, y),
        color,
        width: width.max(0.25),
    }));
}

/// Splits word `i`, wider than `avail`, into a head that fits and a tail.
/// Splits word `i` (a copy of which is `word`) before its piece `pi`, `before` points
/// into it.
fn split_before_piece(words: &mut Vec<Word>, i: usize, word: &Word, pi: usize, before: f32) {
    let head = Word {
        pieces: word.pieces.start..pi,
        width: before,
        trailing_ws: 0.0,
        mandatory: false,
        hyphen: 0.0,
    };
    let tail = Word {
        pieces: pi..word.pieces.end,
        width: word.width - before,
        ..word.clone()
    };
    words[i] = head;
    words.insert(i + 1, tail);
}

fn split_word(words: &mut Vec<Word>, pieces: &mut Vec<Piece>, i: usize, avail: f32) {
    let word = words[i].clone();
    let mut w = 0.0;
    for pi in word.pieces.clone() {
        let before = w;
        let piece = pieces[pi].clone();
        // Advances are computed as the walk goes, so that cutting a word of n glyphs
        // into lines costs O(n) in all, not O(n) per line.
        let advance = |k: usize| {
            piece.glyphs[piece.glyph_range.start + k].advance * piece.size + piece.letter_spacing
        };
        if !piece.rising && piece.level % 2 == 1 {
            // Right to left: the glyphs are in visual order, so the word's logical
            // start is at the end; the head is taken from there.
            let (g0, g1) = (piece.glyph_range.start, piece.glyph_range.end);
            let adv = |g: usize| advance(g - g0);
            let mut m = g1;
            let mut head_w = 0.0;
            while m > g0 && (w + head_w + adv(m - 1) <= avail || (w == 0.0 && m == g1)) {
                head_w += adv(m - 1);
                m -= 1;
            }
            if m == g0 {
                w += head_w;
                continue;
            }
            // At a cluster boundary.
            while m < g1 && piece.glyphs[m - 1].cluster == piece.glyphs[m].cluster {
                head_w -= adv(m);
                m += 1;
            }
            if m == g1 {
                if pi == word.pieces.start {
                    break;
                }
                split_before_piece(words, i, &word, pi, before);
                return;
            }
            let cut = piece.text_base + piece.glyphs[m - 1].cluster as usize;
            let split = halves(&piece, m..g1, g0..m, cut, head_w);
            apply_split(words, pieces, i, pi, split, before + head_w);
            return;
        }
        for k in 0..piece.glyph_range.len() {
            let adv = advance(k);
            if w + adv > avail && (w > 0.0 || k > 0) {
                // Split inside this piece at glyph k (never before the word's first glyph),
                // at a cluster boundary.
                let mut k = k;
                let g0 = piece.glyph_range.start;
                // A piece whose clusters do not rise (and that is not right to left,
                // handled above) is not cut inside.
                if !piece.rising {
                    k = 0;
                }
                while k > 0 && piece.glyphs[g0 + k].cluster == piece.glyphs[g0 + k - 1].cluster {
                    k -= 1;
                }
                if k == 0 {
                    // Split before this piece.
                    if pi == word.pieces.start {
                        break;
                    }
                    split_before_piece(words, i, &word, pi, before);
                    return;
                }
                let cut = piece.text_base + piece.glyphs[g0 + k].cluster as usize;
                let head_w: f32 = (0..k).map(advance).sum();
                let mut head = piece.clone();
                head.glyph_range = g0..g0 + k;
                head.range = piece.range.start..cut;
                head.width = head_w;
                head.trailing_ws = 0.0;
                head.all_ws = false;
                let mut tail = piece.clone();
                tail.glyph_range = g0 + k..piece.glyph_range.end;
                tail.range = cut..piece.range.end;
                tail.width = piece.width - head_w;
                apply_split(words, pieces, i, pi, (head, tail), before + head_w);
                return;
            }
            w += adv;
        }
    }
}

/// Replaces word `i` by a head ending with the head of piece `pi` (`width` wide) and
/// a tail starting with the tail of that piece; the tail gets its own pieces.
fn apply_split(
    words: &mut Vec<Word>,
    pieces: &mut Vec<Piece>,
    i: usize,
    pi: usize,
    (head, tail): (Piece, Piece),
    width: f32,
) {
    let word = words[i].clone();
    pieces[pi] = head;
    let start = pieces.len();
    pieces.push(tail);
    pieces.extend_from_within(pi + 1..word.pieces.end);
    let head_word = Word {
        pieces: word.pieces.start..pi + 1,
        width,
        trailing_ws: 0.0,
        mandatory: false,
        hyphen: 0.0,
    };
    let tail_word = Word {
        pieces: start..pieces.len(),
        width: word.width - width,
        ..word
    };
    words[i] = head_word;
    words.insert(i + 1, tail_word);
}
