//! Style resolution: named styles with inheritance, then per-block and per-span
//! overrides, down to the concrete values layout uses.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::geom::Color;
use crate::model::{
    Align, Baseline, Direction, Document, Features, InlineStyle, Length, Style, StyleProps, Weight,
    WeightName,
};

use crate::text::shape::FeatureList;

/// Everything that decides how a piece of text looks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextStyle {
    pub family: Rc<str>,
    pub weight: u16,
    pub italic: bool,
    pub size: f32,
    pub color: Color,
    pub underline: bool,
    pub strike: bool,
    pub baseline: Option<Baseline>,
    pub link: Option<Rc<str>>,
    pub letter_spacing: f32,
    pub line_height: f32,
    /// Language tag, lowercase.
    pub lang: Option<Rc<str>>,
    pub features: FeatureList,
    /// Families tried first for characters the font lacks.
    pub fallback: Rc<[Rc<str>]>,
    pub hyphenate: bool,
}

/// A block's resolved style.
#[derive(Debug, Clone)]
pub(crate) struct BlockStyle {
    pub text: TextStyle,
    pub align: Align,
    pub space_before: f32,
    pub space_after: f32,
    pub first_line_indent: f32,
    pub left_indent: f32,
    pub right_indent: f32,
    pub keep_with_next: bool,
    pub widows: u32,
    pub orphans: u32,
    pub dir: Direction,
    /// Whether the document set `align` (otherwise right-to-left paragraphs mirror it).
    pub align_explicit: bool,
}

fn props(f: impl FnOnce(&mut StyleProps)) -> StyleProps {
    let mut p = StyleProps::default();
    f(&mut p);
    p
}

fn builtin(name: &str) -> Option<Style> {
    let bold = Some(Weight::Named(WeightName::Bold));
    let heading = |size: f32, before: f32, after: f32| Style {
        parent: Some("heading".into()),
        props: props(|p| {
            p.size = Some(Length(size));
            p.space_before = Some(Length(before));
            p.space_after = Some(Length(after));
        }),
    };
    Some(match name {
        "default" => Style {
            parent: None,
            props: props(|p| {
                p.font = Some("sans".into());
                p.size = Some(Length(10.0));
                p.line_height = Some(1.25);
                p.space_after = Some(Length(6.0));
            }),
        },
        "heading" => Style {
            parent: None,
            props: props(|p| {
                p.weight = bold;
                p.keep_with_next = Some(true);
                p.line_height = Some(1.2);
                p.align = Some(Align::Left);
                p.first_line_indent = Some(Length(0.0));
            }),
        },
        "title" => heading(24.0, 0.0, 12.0),
        "heading1" => heading(20.0, 18.0, 8.0),
        "heading2" => heading(16.0, 14.0, 6.0),
        "heading3" => heading(13.0, 12.0, 6.0),
        "heading4" => heading(11.5, 10.0, 4.0),
        "heading5" => heading(10.5, 8.0, 4.0),
        "heading6" => heading(10.0, 8.0, 4.0),
        "code" => Style {
            parent: None,
            props: props(|p| p.font = Some("monospace".into())),
        },
        "header" | "footer" => Style {
            parent: None,
            props: props(|p| {
                p.size = Some(Length(9.0));
                p.space_after = Some(Length(0.0));
            }),
        },
        "table" => Style {
            parent: None,
            props: props(|p| p.space_after = Some(Length(8.0))),
        },
        "table_header" => Style {
            parent: None,
            props: props(|p| p.weight = bold),
        },
        "list" => Style {
            parent: None,
            props: props(|p| p.space_after = Some(Length(3.0))),
        },
        "toc" => Style {
            parent: None,
            props: props(|p| {
                p.space_after = Some(Length(2.0));
                p.align = Some(Align::Left);
                p.first_line_indent = Some(Length(0.0));
            }),
        },
        "toc_title" => heading(16.0, 0.0, 10.0),
        "footnote" => Style {
            parent: None,
            props: props(|p| {
                p.size = Some(Length(8.0));
                p.space_after = Some(Length(2.0));
                p.align = Some(Align::Left);
                p.first_line_indent = Some(Length(0.0));
                p.widows = Some(1);
                p.orphans = Some(1);
            }),
        },
        _ => return None,
    })
}

/// All named styles, resolved.
pub(crate) struct StyleSheet {
    resolved: BTreeMap<String, Rc<BlockStyle>>,
}

impl StyleSheet {
    pub fn new(doc: &Document) -> StyleSheet {
        let mut names: Vec<String> = doc.styles.keys().cloned().collect();
        for b in crate::model::decode::BUILTIN_STYLES {
            names.push((*b).to_string());
        }
        let effective = |name: &str| -> Style {
            let user = doc.styles.get(name);
            match (builtin(name), user) {
                (Some(mut b), Some(u)) => {
                    b.parent = u.parent.clone().or(b.parent);
                    overlay(&mut b.props, &u.props);
                    b
                }
                (Some(b), None) => b,
                (None, Some(u)) => u.clone(),
                (None, None) => Style::default(),
            }
        };
        let base = BlockStyle {
            text: TextStyle {
                family: "sans".into(),
                weight: 400,
                italic: false,
                size: 10.0,
                color: Color::BLACK,
                underline: false,
                strike: false,
                baseline: None,
                link: None,
                letter_spacing: 0.0,
                line_height: 1.25,
                lang: doc
                    .metadata
                    .language
                    .as_deref()
                    .map(|l| l.to_ascii_lowercase().into()),
                features: Rc::from([]),
                fallback: Rc::from([]),
                hyphenate: false,
            },
            align: Align::Left,
            space_before: 0.0,
            space_after: 0.0,
            first_line_indent: 0.0,
            left_indent: 0.0,
            right_indent: 0.0,
            keep_with_next: false,
            widows: 2,
            orphans: 2,
            dir: Direction::Auto,
            align_explicit: false,
        };
        let mut resolved = BTreeMap::new();
        for name in &names {
            // Walk up to the root, then apply from the root down. The decoder rejects
            // cycles among user styles; the depth bound also covers cycles that only
            // appear once user styles are merged with the built-in ones.
            let mut chain = vec![effective(name)];
            let mut cur = name.clone();
            // Alignment set by the document (not by a built-in style) is taken as given;
            // otherwise right-to-left paragraphs mirror it.
            let user_align = |n: &str| doc.styles.get(n).is_some_and(|s| s.props.align.is_some());
            let mut align_explicit = user_align(name);
            while cur != "default" && chain.len() < 64 {
                let parent = chain
                    .last()
                    .and_then(|s| s.parent.clone())
                    .unwrap_or_else(|| "default".into());
                align_explicit |= user_align(&parent);
                chain.push(effective(&parent));
                cur = parent;
            }
            let mut style = base.clone();
            for s in chain.iter().rev() {
                style = apply(&style, &s.props);
            }
            style.align_explicit = align_explicit;
            resolved.insert(name.clone(), Rc::new(style));
        }
        StyleSheet { resolved }
    }

    /// A named style; unknown names (already reported by the decoder) give `default`.
    pub fn get(&self, name: &str) -> Rc<BlockStyle> {
        self.resolved
            .get(name)
            .or_else(|| self.resolved.get("default"))
            .cloned()
            .expect("default style exists")
    }
}

fn overlay(dst: &mut StyleProps, src: &StyleProps) {
    macro_rules! take {
        ($($f:ident),*) => { $( if src.$f.is_some() { dst.$f = src.$f.clone(); } )* };
    }
    take!(
        font,
        size,
        weight,
        italic,
        color,
        line_height,
        align,
        space_before,
        space_after,
        first_line_indent,
        left_indent,
        right_indent,
        letter_spacing,
        keep_with_next,
        widows,
        orphans,
        dir,
        lang,
        hyphenate,
        features,
        font_fallback
    );
}

/// `base` with the properties set in `p` applied.
pub(crate) fn apply(base: &BlockStyle, p: &StyleProps) -> BlockStyle {
    let mut s = base.clone();
    if let Some(f) = &p.font {
        s.text.family = f.as_str().into();
    }
    if let Some(v) = p.size {
        s.text.size = v.0;
    }
    if let Some(w) = p.weight {
        s.text.weight = w.value();
    }
    if let Some(i) = p.italic {
        s.text.italic = i;
    }
    if let Some(c) = p.color {
        s.text.color = c;
    }
    if let Some(l) = p.line_height {
        s.text.line_height = l;
    }
    if let Some(a) = p.align {
        s.align = a;
        s.align_explicit = true;
    }
    if let Some(d) = p.dir {
        s.dir = d;
    }
    if let Some(l) = &p.lang {
        s.text.lang = Some(l.to_ascii_lowercase().into());
    }
    if let Some(h) = p.hyphenate {
        s.text.hyphenate = h;
    }
    if let Some(f) = &p.features {
        s.text.features = merge_features(&s.text.features, f);
    }
    if let Some(f) = &p.font_fallback {
        s.text.fallback = f.iter().map(|n| Rc::from(n.as_str())).collect();
    }
    if let Some(v) = p.space_before {
        s.space_before = v.0;
    }
    if let Some(v) = p.space_after {
        s.space_after = v.0;
    }
    if let Some(v) = p.first_line_indent {
        s.first_line_indent = v.0;
    }
    if let Some(v) = p.left_indent {
        s.left_indent = v.0;
    }
    if let Some(v) = p.right_indent {
        s.right_indent = v.0;
    }
    if let Some(v) = p.letter_spacing {
        s.text.letter_spacing = v.0;
    }
    if let Some(v) = p.keep_with_next {
        s.keep_with_next = v;
    }
    if let Some(v) = p.widows {
        s.widows = v;
    }
    if let Some(v) = p.orphans {
        s.orphans = v;
    }
    s
}

/// The text style of an inline span inside a block of style `base`.
pub(crate) fn apply_inline(sheet: &StyleSheet, base: &TextStyle, s: &InlineStyle) -> TextStyle {
    let mut t = match &s.style {
        Some(name) => {
            let named = sheet.get(name).text.clone();
            TextStyle {
                link: base.link.clone(),
                ..named
            }
        }
        None => base.clone(),
    };
    if s.code == Some(true) {
        let code = sheet.get("code");
        t.family = code.text.family.clone();
    }
    if let Some(b) = s.bold {
        t.weight = if b { 700 } else { 400 };
    }
    if let Some(i) = s.italic {
        t.italic = i;
    }
    if let Some(u) = s.underline {
        t.underline = u;
    }
    if let Some(v) = s.strike {
        t.strike = v;
    }
    if let Some(c) = s.color {
        t.color = c;
    }
    if let Some(v) = s.size {
        t.size = v.0;
    }
    if let Some(f) = &s.font {
        t.family = f.as_str().into();
    }
    if s.baseline.is_some() {
        t.baseline = s.baseline;
    }
    if let Some(l) = &s.link {
        t.link = Some(l.as_str().into());
    }
    if let Some(l) = &s.lang {
        t.lang = Some(l.to_ascii_lowercase().into());
    }
    if let Some(f) = &s.features {
        t.features = merge_features(&t.features, f);
    }
    t
}

/// `base` with the settings of `f` applied (a tag set again replaces the earlier value).
fn merge_features(base: &FeatureList, f: &Features) -> FeatureList {
    let mut out: Vec<([u8; 4], u32)> = base.to_vec();
    for (tag, value) in f.settings() {
        let Ok(tag) = <[u8; 4]>::try_from(tag.as_bytes()) else {
            continue; // the decoder accepts only four-character tags
        };
        out.retain(|(t, _)| *t != tag);
        out.push((tag, value));
    }
    out.into()
}
