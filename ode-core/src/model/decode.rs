//! JSON → model, collecting every error with its JSON pointer.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::*;
use crate::diag::{Diagnostic, Diagnostics, Span, suggest};
use crate::path::JPath;

type Obj = Map<String, Value>;

/// Style names that exist without being defined.
pub(crate) const BUILTIN_STYLES: &[&str] = &[
    "default",
    "heading",
    "heading1",
    "heading2",
    "heading3",
    "heading4",
    "heading5",
    "heading6",
    "code",
    "header",
    "footer",
    "table",
    "table_header",
    "list",
    "title",
    "toc",
    "toc_title",
    "footnote",
];

const STYLE_KEYS: &[&str] = &[
    "font",
    "size",
    "weight",
    "italic",
    "color",
    "line_height",
    "align",
    "space_before",
    "space_after",
    "first_line_indent",
    "left_indent",
    "right_indent",
    "letter_spacing",
    "keep_with_next",
    "widows",
    "orphans",
    "dir",
    "lang",
    "hyphenate",
    "features",
    "font_fallback",
];
const BLOCK_KEYS: &[&str] = &["type", "style", "anchor"];
const INLINE_KEYS: &[&str] = &[
    "style",
    "bold",
    "italic",
    "underline",
    "strike",
    "color",
    "size",
    "font",
    "baseline",
    "code",
    "link",
    "lang",
    "features",
];
const BLOCK_TYPES: &[&str] = &[
    "heading",
    "paragraph",
    "list",
    "table",
    "image",
    "rule",
    "qr",
    "barcode",
    "spacer",
    "page_break",
    "group",
    "section",
    "toc",
    "absolute",
    "columns",
    "float",
];

/// How deeply blocks may nest (groups in groups, lists in list items, tables in cells):
/// about what the 128 levels of JSON text allow.
pub(crate) const MAX_BLOCK_DEPTH: usize = 64;

pub(crate) fn parse(json: &str) -> Result<Document, Diagnostics> {
    from_value(&parse_json(json)?)
}

/// JSON text to a value; a syntax error is reported with its line and column.
pub(crate) fn parse_json(json: &str) -> Result<Value, Diagnostics> {
    serde_json::from_str(json).map_err(|e| {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; the span carries those.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        let msg = if msg.contains("recursion limit") {
            "nesting is deeper than 128 levels".to_string()
        } else {
            msg
        };
        Diagnostics(vec![Diagnostic {
            severity: crate::diag::Severity::Error,
            span: Span {
                path: String::new(),
                line: Some(e.line()),
                column: Some(e.column()),
            },
            message: format!("invalid JSON: {msg}"),
            hints: vec![],
        }])
    })
}

pub(crate) fn from_value(value: &Value) -> Result<Document, Diagnostics> {
    let mut d = Dec::default();
    let doc = d.document(value, &JPath::Root);
    d.check_references();
    match doc {
        Some(doc) if !d.diags.iter().any(Diagnostic::is_error) => Ok(doc),
        _ => Err(Diagnostics(d.diags)),
    }
}

#[derive(Default)]
struct Dec {
    diags: Vec<Diagnostic>,
    /// Style names used, with where.
    style_refs: Vec<(String, String)>,
    /// Style names the document defines.
    style_names: BTreeSet<String>,
    /// Anchors defined, with where.
    anchors: BTreeMap<String, String>,
    /// Internal links, with where.
    links: Vec<(String, String)>,
    /// Anchors named by `page_of` fields, with where.
    page_refs: Vec<(String, String)>,
    /// The container being decoded, when blocks there are restricted (a table cell, a
    /// list item, a header or footer).
    inside: Option<&'static str>,
    /// Decoding a footnote's content.
    in_footnote: bool,
    /// Lists of blocks open around the one being decoded.
    depth: usize,
}

/// What kind of JSON value `v` is, for messages ("found a string").
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

type ValueFn<T> = fn(&mut Dec, &Value, &JPath) -> Option<T>;

impl Dec {
    fn error(&mut self, p: &JPath, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(p.to_string(), msg));
    }

    fn obj<'v>(
        &mut self,
        v: &'v Value,
        p: &JPath,
        what: &str,
        known: &[&[&str]],
    ) -> Option<&'v Obj> {
        let Value::Object(m) = v else {
            self.error(p, format!("expected {what} (an object), found {}", kind(v)));
            return None;
        };
        for key in m.keys() {
            if known.iter().any(|set| set.contains(&key.as_str())) {
                continue;
            }
            let mut d = Diagnostic::error(p.to_string(), format!("unknown field \"{key}\""));
            if let Some(s) = suggest(key, known.iter().flat_map(|s| s.iter().copied())) {
                d = d.with_hint(format!("did you mean \"{s}\"?"));
            }
            self.diags.push(d);
        }
        Some(m)
    }

    fn opt<T>(&mut self, o: &Obj, p: &JPath, key: &str, f: ValueFn<T>) -> Option<T> {
        match o.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => f(self, v, &p.key(key)),
        }
    }

    fn req<T>(&mut self, o: &Obj, p: &JPath, key: &str, f: ValueFn<T>) -> Option<T> {
        match o.get(key) {
            None | Some(Value::Null) => {
                self.error(p, format!("missing field \"{key}\""));
                None
            }
            Some(v) => f(self, v, &p.key(key)),
        }
    }

    fn string(&mut self, v: &Value, p: &JPath) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.error(p, format!("expected a string, found {}", kind(other)));
                None
            }
        }
    }

    fn boolean(&mut self, v: &Value, p: &JPath) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.error(p, format!("expected true or false, found {}", kind(other)));
                None
            }
        }
    }

    fn number(&mut self, v: &Value, p: &JPath) -> Option<f64> {
        match v.as_f64() {
            Some(n) if v.is_number() => Some(n),
            _ => {
                self.error(p, format!("expected a number, found {}", kind(v)));
                None
            }
        }
    }

    fn ranged(&mut self, v: &Value, p: &JPath, min: f64, max: f64, what: &str) -> Option<f64> {
        let n = self.number(v, p)?;
        if n < min || n > max {
            self.error(
                p,
                format!("{what} must be between {min} and {max}, found {n}"),
            );
            return None;
        }
        Some(n)
    }

    fn count(&mut self, v: &Value, p: &JPath, min: u64, max: u64) -> Option<u32> {
        match v.as_u64() {
            Some(n) if n >= min && n <= max => Some(n as u32),
            _ if v.is_number() => {
                self.error(
                    p,
                    format!("expected a whole number from {min} to {max}, found {v}"),
                );
                None
            }
            _ => {
                self.error(p, format!("expected a whole number, found {}", kind(v)));
                None
            }
        }
    }

    fn one_of<T: Copy>(&mut self, v: &Value, p: &JPath, options: &[(&str, T)]) -> Option<T> {
        let names = || {
            options
                .iter()
                .map(|(n, _)| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Value::String(s) = v else {
            self.error(p, format!("expected one of {}, found {}", names(), kind(v)));
            return None;
        };
        if let Some((_, t)) = options.iter().find(|(n, _)| n == s) {
            return Some(*t);
        }
        let mut d = Diagnostic::error(
            p.to_string(),
            format!("unknown value \"{s}\", expected one of {}", names()),
        );
        if let Some(m) = suggest(s, options.iter().map(|(n, _)| *n)) {
            d = d.with_hint(format!("did you mean \"{m}\"?"));
        }
        self.diags.push(d);
        None
    }

    fn array<'v>(&mut self, v: &'v Value, p: &JPath, what: &str) -> Option<&'v Vec<Value>> {
        match v {
            Value::Array(a) => Some(a),
            other => {
                self.error(
                    p,
                    format!("expected an array of {what}, found {}", kind(other)),
                );
                None
            }
        }
    }

    fn list<T>(&mut self, v: &Value, p: &JPath, what: &str, f: ValueFn<T>) -> Option<Vec<T>> {
        let items = self.array(v, p, what)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match f(self, item, &p.index(i)) {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A length in points, checked to be within `[min, max]`.
    fn length_in(&mut self, v: &Value, p: &JPath, min: f32, max: f32) -> Option<Length> {
        let l = match v {
            Value::Number(n) => Length(n.as_f64().unwrap_or(f64::NAN) as f32),
            Value::String(s) => {
                match Length::parse(s) {
                    Some(l) => l,
                    None => {
                        self.diags.push(
                        Diagnostic::error(p.to_string(), format!("invalid length \"{s}\""))
                            .with_hint("write a number of points, or a number with pt, mm, cm, in or px"),
                    );
                        return None;
                    }
                }
            }
            other => {
                self.error(
                    p,
                    format!(
                        "expected a length (a number or a string such as \"2cm\"), found {}",
                        kind(other)
                    ),
                );
                return None;
            }
        };
        if !l.0.is_finite() || l.0 < min || l.0 > max {
            self.error(
                p,
                format!(
                    "length must be between {min}pt and {max}pt, found {}pt",
                    l.0
                ),
            );
            return None;
        }
        Some(l)
    }

    fn length(&mut self, v: &Value, p: &JPath) -> Option<Length> {
        self.length_in(v, p, 0.0, MAX_LENGTH)
    }

    fn signed_length(&mut self, v: &Value, p: &JPath) -> Option<Length> {
        self.length_in(v, p, -MAX_LENGTH, MAX_LENGTH)
    }

    fn font_size(&mut self, v: &Value, p: &JPath) -> Option<Length> {
        self.length_in(v, p, 0.5, 1000.0)
    }

    fn color(&mut self, v: &Value, p: &JPath) -> Option<Color> {
        let s = self.string(v, p)?;
        match Color::parse(&s) {
            Some(c) => Some(c),
            None => {
                self.diags.push(
                    Diagnostic::error(p.to_string(), format!("invalid color \"{s}\"")).with_hint(
                        "write #rrggbb, #rgb, #rrggbbaa or a basic color name such as \"navy\"",
                    ),
                );
                None
            }
        }
    }

    fn edges(&mut self, v: &Value, p: &JPath) -> Option<Edges> {
        if !v.is_object() {
            return self.length(v, p).map(Edges::uniform);
        }
        let o = self.obj(v, p, "edges", &[&["top", "right", "bottom", "left"]])?;
        let side = |d: &mut Dec, k| d.opt(o, p, k, Dec::length).unwrap_or_default();
        Some(Edges {
            top: side(self, "top"),
            right: side(self, "right"),
            bottom: side(self, "bottom"),
            left: side(self, "left"),
        })
    }

    // ---- document ----

    fn document(&mut self, v: &Value, p: &JPath) -> Option<Document> {
        let o = self.obj(
            v,
            p,
            "a document",
            &[&[
                "ode",
                "metadata",
                "page",
                "styles",
                "header",
                "footer",
                "watermark",
                "pdf",
                "content",
            ]],
        )?;
        let version = match o.get("ode") {
            None => {
                self.diags.push(
                    Diagnostic::error("", "missing field \"ode\"")
                        .with_hint("add \"ode\": 1, the model version"),
                );
                None
            }
            Some(v) => match v.as_u64() {
                Some(1) => Some(1),
                _ => {
                    self.error(
                        &p.key("ode"),
                        format!("unsupported model version {v}; this engine reads version 1"),
                    );
                    None
                }
            },
        };
        let metadata = self
            .opt(o, p, "metadata", Dec::metadata)
            .unwrap_or_default();
        let page = self.opt(o, p, "page", Dec::page).unwrap_or_default();
        let styles = self.opt(o, p, "styles", Dec::styles).unwrap_or_default();
        let header = self.opt(o, p, "header", Dec::region);
        let footer = self.opt(o, p, "footer", Dec::region);
        let watermark = self.opt(o, p, "watermark", Dec::watermark);
        let pdf = self.opt(o, p, "pdf", Dec::pdf_settings).unwrap_or_default();
        let content = self.req(o, p, "content", Dec::blocks);
        Some(Document {
            ode: version?,
            metadata,
            page,
            styles,
            header,
            footer,
            watermark,
            pdf,
            content: content?,
        })
    }

    fn metadata(&mut self, v: &Value, p: &JPath) -> Option<Metadata> {
        let o = self.obj(
            v,
            p,
            "metadata",
            &[&[
                "title", "author", "subject", "keywords", "language", "created",
            ]],
        )?;
        let created = self.opt(o, p, "created", Dec::string);
        if let Some(c) = &created
            && parse_date(c).is_none()
        {
            self.diags.push(
                Diagnostic::error(
                    p.key("created").to_string(),
                    format!("invalid date \"{c}\""),
                )
                .with_hint("write YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"),
            );
        }
        Some(Metadata {
            title: self.opt(o, p, "title", Dec::string),
            author: self.opt(o, p, "author", Dec::string),
            subject: self.opt(o, p, "subject", Dec::string),
            keywords: self
                .opt(o, p, "keywords", |d, v, p| {
                    d.list(v, p, "strings", Dec::string)
                })
                .unwrap_or_default(),
            language: self.opt(o, p, "language", Dec::string),
            created,
        })
    }

    fn page(&mut self, v: &Value, p: &JPath) -> Option<PageSetup> {
        let o = self.obj(
            v,
            p,
            "a page setup",
            &[&[
                "size",
                "orientation",
                "margins",
                "background",
                "header_gap",
                "footer_gap",
            ]],
        )?;
        let mut setup = PageSetup::default();
        if let Some(size) = self.opt(o, p, "size", Dec::paper) {
            setup.size = size;
        }
        if let Some(orient) = self.opt(o, p, "orientation", |d, v, p| {
            d.one_of(
                v,
                p,
                &[
                    ("portrait", Orientation::Portrait),
                    ("landscape", Orientation::Landscape),
                ],
            )
        }) {
            setup.orientation = orient;
        }
        if let Some(m) = self.opt(o, p, "margins", Dec::edges) {
            setup.margins = m;
        }
        setup.background = self.opt(o, p, "background", Dec::color);
        setup.header_gap = self.opt(o, p, "header_gap", Dec::length);
        setup.footer_gap = self.opt(o, p, "footer_gap", Dec::length);
        let (w, h) = setup.size.dimensions();
        let m = setup.margins;
        if m.left.0 + m.right.0 >= w - 1.0 || m.top.0 + m.bottom.0 >= h - 1.0 {
            self.error(
                &p.key("margins"),
                format!("margins leave no room on a {w:.0}pt × {h:.0}pt page"),
            );
        }
        Some(setup)
    }

    fn paper(&mut self, v: &Value, p: &JPath) -> Option<PaperSize> {
        if let Value::String(s) = v {
            if let Some((_, size)) = PaperSize::NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(s))
            {
                return Some(*size);
            }
            let mut d = Diagnostic::error(
                p.to_string(),
                format!(
                    "unknown paper size \"{s}\", expected A3, A4, A5, Letter, Legal or {{\"width\", \"height\"}}"
                ),
            );
            if let Some(m) = suggest(s, PaperSize::NAMES.iter().map(|(n, _)| *n)) {
                d = d.with_hint(format!("did you mean \"{m}\"?"));
            }
            self.diags.push(d);
            return None;
        }
        let o = self.obj(v, p, "a paper size", &[&["width", "height"]])?;
        let dim = |d: &mut Dec, k| d.req(o, p, k, |d, v, p| d.length_in(v, p, MIN_PAGE, MAX_PAGE));
        let (width, height) = (dim(self, "width"), dim(self, "height"));
        Some(PaperSize::Custom {
            width: width?,
            height: height?,
        })
    }

    fn styles(&mut self, v: &Value, p: &JPath) -> Option<BTreeMap<String, Style>> {
        let Value::Object(m) = v else {
            self.error(
                p,
                format!("expected an object of named styles, found {}", kind(v)),
            );
            return None;
        };
        let mut out = BTreeMap::new();
        for (name, sv) in m {
            let sp = p.key(name);
            let Some(o) = self.obj(sv, &sp, "a style", &[&["parent"], STYLE_KEYS]) else {
                continue;
            };
            let parent = self.opt(o, &sp, "parent", Dec::string);
            if let Some(parent) = &parent {
                self.style_refs
                    .push((parent.clone(), sp.key("parent").to_string()));
            }
            let props = self.style_props(o, &sp);
            self.style_names.insert(name.clone());
            out.insert(name.clone(), Style { parent, props });
        }
        // Parent cycles.
        for name in out.keys() {
            let mut seen = BTreeSet::new();
            let mut cur = name.as_str();
            while let Some(parent) = out.get(cur).and_then(|s| s.parent.as_deref()) {
                if !seen.insert(cur) {
                    self.error(
                        &p.key(name),
                        format!("style \"{name}\" inherits from itself through its parents"),
                    );
                    break;
                }
                cur = parent;
            }
        }
        Some(out)
    }

    fn style_props(&mut self, o: &Obj, p: &JPath) -> StyleProps {
        StyleProps {
            font: self.opt(o, p, "font", Dec::string),
            size: self.opt(o, p, "size", Dec::font_size),
            weight: self.opt(o, p, "weight", Dec::weight),
            italic: self.opt(o, p, "italic", Dec::boolean),
            color: self.opt(o, p, "color", Dec::color),
            line_height: self.opt(o, p, "line_height", |d, v, p| {
                d.ranged(v, p, 0.5, 10.0, "line height").map(|n| n as f32)
            }),
            align: self.opt(o, p, "align", Dec::align),
            space_before: self.opt(o, p, "space_before", Dec::length),
            space_after: self.opt(o, p, "space_after", Dec::length),
            first_line_indent: self.opt(o, p, "first_line_indent", Dec::signed_length),
            left_indent: self.opt(o, p, "left_indent", Dec::length),
            right_indent: self.opt(o, p, "right_indent", Dec::length),
            letter_spacing: self.opt(o, p, "letter_spacing", |d, v, p| {
                d.length_in(v, p, -20.0, 200.0)
            }),
            keep_with_next: self.opt(o, p, "keep_with_next", Dec::boolean),
            widows: self.opt(o, p, "widows", |d, v, p| d.count(v, p, 1, 100)),
            orphans: self.opt(o, p, "orphans", |d, v, p| d.count(v, p, 1, 100)),
            dir: self.opt(o, p, "dir", |d, v, p| {
                d.one_of(
                    v,
                    p,
                    &[
                        ("ltr", Direction::Ltr),
                        ("rtl", Direction::Rtl),
                        ("auto", Direction::Auto),
                    ],
                )
            }),
            lang: self.opt(o, p, "lang", Dec::lang),
            hyphenate: self.opt(o, p, "hyphenate", Dec::boolean),
            features: self.opt(o, p, "features", Dec::features),
            font_fallback: self.opt(o, p, "font_fallback", |d, v, p| {
                d.list(v, p, "font family names", Dec::string)
            }),
        }
    }

    fn lang(&mut self, v: &Value, p: &JPath) -> Option<String> {
        let s = self.string(v, p)?;
        let ok = !s.is_empty()
            && s.split('-').all(|t| {
                (1..=8).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if !ok {
            self.diags.push(
                Diagnostic::error(p.to_string(), format!("invalid language tag \"{s}\""))
                    .with_hint("write a BCP 47 tag such as \"en\", \"de-CH\" or \"ar\""),
            );
            return None;
        }
        Some(s)
    }

    fn features(&mut self, v: &Value, p: &JPath) -> Option<Features> {
        let tag_ok = |t: &str| t.len() == 4 && t.chars().all(|c| c.is_ascii_graphic());
        match v {
            Value::Array(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    let ip = p.index(i);
                    let Some(t) = self.string(item, &ip) else {
                        ok = false;
                        continue;
                    };
                    let bare = t.strip_prefix(['-', '+']).unwrap_or(&t);
                    if tag_ok(bare) {
                        out.push(t);
                    } else {
                        ok = false;
                        self.feature_tag_error(&ip, &t);
                    }
                }
                ok.then_some(Features::List(out))
            }
            Value::Object(m) => {
                let mut out = BTreeMap::new();
                let mut ok = true;
                for (k, val) in m {
                    let kp = p.key(k);
                    if !tag_ok(k) {
                        ok = false;
                        self.feature_tag_error(&kp, k);
                        continue;
                    }
                    let value = match val {
                        Value::Bool(b) => Some(FeatureValue::Switch(*b)),
                        _ => self
                            .count(val, &kp, 0, 1000)
                            .map(|n| FeatureValue::Number(n as u16)),
                    };
                    match value {
                        Some(value) => {
                            out.insert(k.clone(), value);
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(Features::Map(out))
            }
            other => {
                self.error(
                    p,
                    format!(
                        "expected OpenType features (an object such as {{\"smcp\": true}} or a list such as [\"smcp\", \"-liga\"]), found {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn feature_tag_error(&mut self, p: &JPath, t: &str) {
        self.diags.push(
            Diagnostic::error(
                p.to_string(),
                format!("invalid OpenType feature tag \"{t}\""),
            )
            .with_hint("a tag has four characters, such as \"smcp\", \"tnum\" or \"liga\""),
        );
    }

    fn weight(&mut self, v: &Value, p: &JPath) -> Option<Weight> {
        if v.is_number() {
            return self.count(v, p, 100, 900).map(|n| Weight::Number(n as u16));
        }
        self.one_of(
            v,
            p,
            &[("normal", WeightName::Normal), ("bold", WeightName::Bold)],
        )
        .map(Weight::Named)
    }

    fn align(&mut self, v: &Value, p: &JPath) -> Option<Align> {
        self.one_of(
            v,
            p,
            &[
                ("left", Align::Left),
                ("right", Align::Right),
                ("center", Align::Center),
                ("justify", Align::Justify),
            ],
        )
    }

    fn region(&mut self, v: &Value, p: &JPath) -> Option<PageRegion> {
        let o = self.obj(v, p, "a header or footer", &[&["content", "first_page"]])?;
        let outer = self.inside.replace("a header or footer");
        let content = self.req(o, p, "content", Dec::blocks);
        let first_page = self.opt(o, p, "first_page", Dec::blocks);
        self.inside = outer;
        Some(PageRegion {
            content: content?,
            first_page,
        })
    }

    fn pdf_settings(&mut self, v: &Value, p: &JPath) -> Option<PdfSettings> {
        let o = self.obj(
            v,
            p,
            "PDF settings",
            &[&["tagged", "standard", "image_dpi"]],
        )?;
        let tagged = self.opt(o, p, "tagged", Dec::boolean);
        let image_dpi = self.opt(o, p, "image_dpi", |d, v, p| {
            d.ranged(v, p, 36.0, 2400.0, "an image resolution")
        });
        let sp = p.key("standard");
        let one = |d: &mut Dec, v: &Value, p: &JPath| -> Option<PdfStandard> {
            let s = d.string(v, p)?;
            match PdfStandard::parse(&s) {
                Ok(s) => Some(s),
                Err(msg) => {
                    d.error(p, msg);
                    None
                }
            }
        };
        let standard = match o.get("standard") {
            None | Some(Value::Null) => Vec::new(),
            Some(v @ Value::Array(_)) => self.list(v, &sp, "standards", one).unwrap_or_default(),
            Some(v) => one(self, v, &sp).into_iter().collect(),
        };
        if let Err(msg) = crate::model::check_standards(&standard) {
            self.error(&sp, msg);
        }
        if tagged == Some(false)
            && let Some(s) = standard.iter().find(|s| s.needs_tagging())
        {
            self.diags.push(
                Diagnostic::error(
                    p.key("tagged").to_string(),
                    format!("{} needs a tagged PDF", s.title()),
                )
                .with_hint("remove \"tagged\": false"),
            );
        }
        Some(PdfSettings {
            tagged,
            standard,
            image_dpi,
        })
    }

    fn watermark(&mut self, v: &Value, p: &JPath) -> Option<Watermark> {
        let o = self.obj(
            v,
            p,
            "a watermark",
            &[&["text", "color", "size", "angle", "opacity", "font"]],
        )?;
        let text = self.req(o, p, "text", Dec::string);
        Some(Watermark {
            text: text?,
            color: self.opt(o, p, "color", Dec::color),
            size: self.opt(o, p, "size", Dec::font_size),
            angle: self.opt(o, p, "angle", |d, v, p| {
                d.ranged(v, p, -360.0, 360.0, "angle").map(|n| n as f32)
            }),
            opacity: self.opt(o, p, "opacity", |d, v, p| {
                d.ranged(v, p, 0.0, 1.0, "opacity").map(|n| n as f32)
            }),
            font: self.opt(o, p, "font", Dec::string),
        })
    }

    // ---- blocks ----

    fn blocks(&mut self, v: &Value, p: &JPath) -> Option<Vec<Block>> {
        // Layout recurses into nested blocks: a document built in memory (by a
        // template or from Markdown) is held to the depth JSON text allows anyway.
        if self.depth >= MAX_BLOCK_DEPTH {
            self.error(
                p,
                format!("blocks are nested more than {MAX_BLOCK_DEPTH} levels deep"),
            );
            return None;
        }
        self.depth += 1;
        let blocks = self.list(v, p, "blocks", Dec::block);
        self.depth -= 1;
        blocks
    }

    fn block_props(&mut self, o: &Obj, p: &JPath) -> BlockProps {
        let style = self.opt(o, p, "style", Dec::string);
        if let Some(s) = &style {
            self.style_refs
                .push((s.clone(), p.key("style").to_string()));
        }
        let anchor = self.opt(o, p, "anchor", Dec::string);
        if let Some(a) = &anchor
            && let Some(prev) = self.anchors.insert(a.clone(), p.key("anchor").to_string())
        {
            self.error(
                &p.key("anchor"),
                format!("anchor \"{a}\" is already defined at {prev}"),
            );
        }
        BlockProps {
            style,
            anchor,
            props: self.style_props(o, p),
        }
    }

    fn block(&mut self, v: &Value, p: &JPath) -> Option<Block> {
        let Value::Object(m) = v else {
            self.diags.push(
                Diagnostic::error(
                    p.to_string(),
                    format!(
                        "expected a block (an object with a \"type\"), found {}",
                        kind(v)
                    ),
                )
                .with_hint("write {\"type\": \"paragraph\", \"text\": \"…\"}"),
            );
            return None;
        };
        let ty = match m.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(other) => {
                self.error(
                    &p.key("type"),
                    format!("expected a block type name, found {}", kind(other)),
                );
                return None;
            }
            None => {
                self.diags.push(
                    Diagnostic::error(p.to_string(), "missing field \"type\"")
                        .with_hint(format!("one of {}", BLOCK_TYPES.join(", "))),
                );
                return None;
            }
        };
        let common: &[&str] = BLOCK_KEYS;
        let b = match ty {
            "heading" => {
                let o = self.obj(
                    v,
                    p,
                    "a heading",
                    &[common, STYLE_KEYS, &["level", "text", "content", "outline"]],
                )?;
                let level = self.req(o, p, "level", |d, v, p| d.count(v, p, 1, 6));
                let (text, content) = self.text_or_content(o, p);
                let outline = self.opt(o, p, "outline", Dec::boolean);
                let props = self.block_props(o, p);
                Block::Heading(Heading {
                    level: level? as u8,
                    text,
                    content,
                    outline,
                    props,
                })
            }
            "paragraph" => {
                let o = self.obj(
                    v,
                    p,
                    "a paragraph",
                    &[common, STYLE_KEYS, &["text", "content"]],
                )?;
                let (text, content) = self.text_or_content(o, p);
                let props = self.block_props(o, p);
                Block::Paragraph(Paragraph {
                    text,
                    content,
                    props,
                })
            }
            "list" => {
                let o = self.obj(
                    v,
                    p,
                    "a list",
                    &[common, STYLE_KEYS, &["ordered", "start", "marker", "items"]],
                )?;
                let ordered = self.opt(o, p, "ordered", Dec::boolean).unwrap_or(false);
                let start = self.opt(o, p, "start", |d, v, p| d.count(v, p, 0, 1_000_000));
                let marker = self.opt(o, p, "marker", |d, v, p| {
                    d.one_of(
                        v,
                        p,
                        &[
                            ("disc", ListMarker::Disc),
                            ("circle", ListMarker::Circle),
                            ("square", ListMarker::Square),
                            ("dash", ListMarker::Dash),
                            ("decimal", ListMarker::Decimal),
                            ("lower-alpha", ListMarker::LowerAlpha),
                            ("upper-alpha", ListMarker::UpperAlpha),
                            ("lower-roman", ListMarker::LowerRoman),
                            ("upper-roman", ListMarker::UpperRoman),
                        ],
                    )
                });
                let items = self.req(o, p, "items", |d, v, p| {
                    d.list(v, p, "list items", Dec::list_item)
                });
                let props = self.block_props(o, p);
                Block::List(List {
                    ordered,
                    start,
                    marker,
                    items: items?,
                    props,
                })
            }
            "table" => self.table(v, p)?,
            "image" => {
                let o = self.obj(
                    v,
                    p,
                    "an image",
                    &[
                        common,
                        STYLE_KEYS,
                        &["src", "width", "height", "fit", "alt"],
                    ],
                )?;
                let src = self.req(o, p, "src", Dec::string);
                let width = self.opt(o, p, "width", Dec::length);
                let height = self.opt(o, p, "height", Dec::length);
                let fit = self
                    .opt(o, p, "fit", |d, v, p| {
                        d.one_of(
                            v,
                            p,
                            &[
                                ("contain", Fit::Contain),
                                ("cover", Fit::Cover),
                                ("fill", Fit::Fill),
                            ],
                        )
                    })
                    .unwrap_or_default();
                let alt = self.opt(o, p, "alt", Dec::string);
                let props = self.block_props(o, p);
                Block::Image(Image {
                    src: src?,
                    width,
                    height,
                    fit,
                    alt,
                    props,
                })
            }
            "rule" => {
                let o = self.obj(
                    v,
                    p,
                    "a rule",
                    &[common, STYLE_KEYS, &["thickness", "line_color"]],
                )?;
                let thickness =
                    self.opt(o, p, "thickness", |d, v, p| d.length_in(v, p, 0.0, 100.0));
                let line_color = self.opt(o, p, "line_color", Dec::color);
                let props = self.block_props(o, p);
                Block::Rule(Rule {
                    thickness,
                    line_color,
                    props,
                })
            }
            "qr" => {
                let o = self.obj(
                    v,
                    p,
                    "a QR code",
                    &[common, STYLE_KEYS, &["data", "size", "ec"]],
                )?;
                let data = self.req(o, p, "data", Dec::string);
                let size = self.opt(o, p, "size", |d, v, p| d.length_in(v, p, 1.0, MAX_LENGTH));
                let ec = self.opt(o, p, "ec", |d, v, p| {
                    d.one_of(
                        v,
                        p,
                        &[
                            ("L", QrEc::L),
                            ("M", QrEc::M),
                            ("Q", QrEc::Q),
                            ("H", QrEc::H),
                        ],
                    )
                });
                if let Some(data) = &data
                    && let Err(e) = crate::barcode::qr(data, qr_level(ec))
                {
                    self.barcode_error(&p.key("data"), &e);
                }
                let props = self.block_props(o, p);
                Block::Qr(QrCode {
                    data: data?,
                    size,
                    ec,
                    props,
                })
            }
            "barcode" => {
                let o = self.obj(
                    v,
                    p,
                    "a barcode",
                    &[
                        common,
                        STYLE_KEYS,
                        &["symbology", "data", "width", "height", "text"],
                    ],
                )?;
                let symbology = self.req(o, p, "symbology", |d, v, p| {
                    d.one_of(
                        v,
                        p,
                        &[("code128", Symbology::Code128), ("ean13", Symbology::Ean13)],
                    )
                });
                let data = self.req(o, p, "data", Dec::string);
                let width = self.opt(o, p, "width", |d, v, p| d.length_in(v, p, 1.0, MAX_LENGTH));
                let height = self.opt(o, p, "height", |d, v, p| d.length_in(v, p, 1.0, MAX_LENGTH));
                let text = self.opt(o, p, "text", Dec::boolean);
                if let (Some(sym), Some(data)) = (symbology, &data)
                    && let Err(e) = crate::barcode::check(sym, data)
                {
                    self.barcode_error(&p.key("data"), &e);
                }
                let props = self.block_props(o, p);
                Block::Barcode(Barcode {
                    symbology: symbology?,
                    data: data?,
                    width,
                    height,
                    text,
                    props,
                })
            }
            "spacer" => {
                let o = self.obj(v, p, "a spacer", &[&["type", "height"]])?;
                Block::Spacer(Spacer {
                    height: self.req(o, p, "height", Dec::length)?,
                })
            }
            "page_break" => {
                self.obj(v, p, "a page break", &[&["type"]])?;
                Block::PageBreak(PageBreak {})
            }
            "section" => {
                let o = self.obj(
                    v,
                    p,
                    "a section",
                    &[&["type", "restart_page_numbers", "title", "content"]],
                )?;
                let top_level = matches!(p, JPath::Index(JPath::Key(JPath::Root, "content"), _));
                if !top_level {
                    self.diags.push(
                        Diagnostic::error(
                            p.key("type").to_string(),
                            "a section can only be a block of the top-level content",
                        )
                        .with_hint("use a group here, or move the section to /content"),
                    );
                }
                let restart_page_numbers = self
                    .opt(o, p, "restart_page_numbers", Dec::boolean)
                    .unwrap_or(false);
                let title = self.opt(o, p, "title", Dec::string);
                let content = self.req(o, p, "content", Dec::blocks);
                Block::Section(Section {
                    restart_page_numbers,
                    title,
                    content: content?,
                })
            }
            "group" => {
                let o = self.obj(
                    v,
                    p,
                    "a group",
                    &[common, STYLE_KEYS, &["keep_together", "content"]],
                )?;
                let keep_together = self
                    .opt(o, p, "keep_together", Dec::boolean)
                    .unwrap_or(true);
                let content = self.req(o, p, "content", Dec::blocks);
                let props = self.block_props(o, p);
                Block::Group(Group {
                    keep_together,
                    content: content?,
                    props,
                })
            }
            "toc" => {
                let o = self.obj(
                    v,
                    p,
                    "a table of contents",
                    &[common, STYLE_KEYS, &["title", "levels"]],
                )?;
                self.flow_only(p, "a table of contents");
                let title = self.opt(o, p, "title", Dec::string);
                let levels = self.opt(o, p, "levels", |d, v, p| d.count(v, p, 1, 6));
                let props = self.block_props(o, p);
                Block::Toc(Toc {
                    title,
                    levels: levels.map(|l| l as u8),
                    props,
                })
            }
            "absolute" => {
                let o = self.obj(
                    v,
                    p,
                    "an absolute block",
                    &[common, STYLE_KEYS, &["x", "y", "width", "content"]],
                )?;
                self.flow_only(p, "an absolute block");
                let x = self.req(o, p, "x", Dec::length);
                let y = self.req(o, p, "y", Dec::length);
                let width = self.opt(o, p, "width", |d, v, p| d.length_in(v, p, 1.0, MAX_LENGTH));
                let content = self.req(o, p, "content", Dec::blocks);
                let props = self.block_props(o, p);
                Block::Absolute(Absolute {
                    x: x?,
                    y: y?,
                    width,
                    content: content?,
                    props,
                })
            }
            "float" => {
                let o = self.obj(
                    v,
                    p,
                    "a float",
                    &[common, STYLE_KEYS, &["placement", "content"]],
                )?;
                self.flow_only(p, "a float");
                let placement = self
                    .opt(o, p, "placement", |d, v, p| {
                        d.one_of(v, p, &[("top", FloatPlacement::Top)])
                    })
                    .unwrap_or_default();
                let outer = self.inside.replace("a float");
                let content = self.req(o, p, "content", Dec::blocks);
                self.inside = outer;
                let props = self.block_props(o, p);
                Block::Float(Float {
                    placement,
                    content: content?,
                    props,
                })
            }
            "columns" => {
                let o = self.obj(
                    v,
                    p,
                    "a columns block",
                    &[common, STYLE_KEYS, &["count", "gap", "content"]],
                )?;
                self.flow_only(p, "a columns block");
                let count = self.req(o, p, "count", |d, v, p| d.count(v, p, 2, 4));
                let gap = self.opt(o, p, "gap", |d, v, p| d.length_in(v, p, 0.0, MAX_LENGTH));
                let outer = self.inside.replace("columns");
                let content = self.req(o, p, "content", Dec::blocks);
                self.inside = outer;
                let props = self.block_props(o, p);
                Block::Columns(Columns {
                    count: count? as u8,
                    gap,
                    content: content?,
                    props,
                })
            }
            other => {
                let mut d = Diagnostic::error(
                    p.key("type").to_string(),
                    format!("unknown block type \"{other}\""),
                );
                d = match suggest(other, BLOCK_TYPES.iter().copied()) {
                    Some(s) => d.with_hint(format!("did you mean \"{s}\"?")),
                    None => d.with_hint(format!("one of {}", BLOCK_TYPES.join(", "))),
                };
                self.diags.push(d);
                return None;
            }
        };
        Some(b)
    }

    /// Reports a block that only works in the page's flow (top-level content, sections,
    /// groups, absolute blocks) met inside a table cell, list item, header or footer.
    fn flow_only(&mut self, p: &JPath, what: &str) {
        if let Some(inside) = self.inside {
            self.diags.push(
                Diagnostic::error(
                    p.key("type").to_string(),
                    format!("{what} cannot be inside {inside}"),
                )
                .with_hint("move it to the document's content, a section or a group"),
            );
        }
    }

    fn barcode_error(&mut self, p: &JPath, e: &crate::barcode::BarcodeError) {
        let mut d = Diagnostic::error(p.to_string(), e.to_string());
        if let Some(h) = e.hint() {
            d = d.with_hint(h);
        }
        self.diags.push(d);
    }

    fn text_or_content(&mut self, o: &Obj, p: &JPath) -> (Option<String>, Vec<Inline>) {
        let text = self.opt(o, p, "text", Dec::string);
        let content = self
            .opt(o, p, "content", |d, v, p| {
                d.list(v, p, "inline content", Dec::inline)
            })
            .unwrap_or_default();
        if text.is_some() && !content.is_empty() {
            self.error(p, "give either \"text\" or \"content\", not both");
        }
        (text, content)
    }

    fn inline(&mut self, v: &Value, p: &JPath) -> Option<Inline> {
        let m = match v {
            Value::String(s) => return Some(Inline::Text(s.clone())),
            Value::Object(m) => m,
            other => {
                self.error(
                    p,
                    format!(
                        "expected a string or an inline object, found {}",
                        kind(other)
                    ),
                );
                return None;
            }
        };
        if m.contains_key("line_break") {
            let o = self.obj(v, p, "a line break", &[&["line_break"]])?;
            let b = self.req(o, p, "line_break", Dec::boolean)?;
            if !b {
                self.error(&p.key("line_break"), "\"line_break\" must be true");
                return None;
            }
            return Some(Inline::LineBreak(LineBreak { line_break: true }));
        }
        if m.contains_key("footnote") {
            let o = self.obj(v, p, "a footnote", &[&["footnote"]])?;
            if self.in_footnote {
                self.diags.push(
                    Diagnostic::error(p.to_string(), "a footnote cannot contain a footnote")
                        .with_hint("write the second note's text into the first"),
                );
            } else if let Some(inside) = self
                .inside
                .filter(|i| *i == "a header or footer" || *i == "a float")
            {
                self.error(p, format!("a footnote cannot be in {inside}"));
            }
            let outer = std::mem::replace(&mut self.in_footnote, true);
            let content = self.req(o, p, "footnote", |d, v, p| match v {
                Value::String(s) => Some(FootnoteContent::Text(s.clone())),
                Value::Array(_) => d
                    .list(v, p, "inline content", Dec::inline)
                    .map(FootnoteContent::Content),
                other => {
                    d.error(
                        p,
                        format!(
                            "expected the note's text or inline content (an array), found {}",
                            kind(other)
                        ),
                    );
                    None
                }
            });
            self.in_footnote = outer;
            return Some(Inline::Footnote(Footnote { footnote: content? }));
        }
        if m.contains_key("field") {
            let o = self.obj(v, p, "a field", &[&["field", "anchor"], INLINE_KEYS])?;
            let field = self.req(o, p, "field", |d, v, p| {
                d.one_of(
                    v,
                    p,
                    &[
                        ("page_number", FieldKind::PageNumber),
                        ("page_count", FieldKind::PageCount),
                        ("title", FieldKind::Title),
                        ("page_of", FieldKind::PageOf),
                    ],
                )
            });
            let anchor = self.opt(o, p, "anchor", Dec::string);
            match (field, &anchor) {
                (Some(FieldKind::PageOf), None) => self.diags.push(
                    Diagnostic::error(p.to_string(), "a page_of field needs an \"anchor\"")
                        .with_hint("name the block whose page it shows: \"anchor\": \"results\""),
                ),
                (Some(FieldKind::PageOf), Some(a)) => self
                    .page_refs
                    .push((a.clone(), p.key("anchor").to_string())),
                (Some(_), Some(_)) => self.error(
                    &p.key("anchor"),
                    "\"anchor\" belongs to page_of fields only",
                ),
                _ => {}
            }
            let style = self.inline_style(o, p);
            return Some(Inline::Field(Field {
                field: field?,
                anchor,
                style,
            }));
        }
        let o = self.obj(v, p, "a text span", &[&["text"], INLINE_KEYS])?;
        let text = self.req(o, p, "text", Dec::string);
        let style = self.inline_style(o, p);
        Some(Inline::Span(TextSpan { text: text?, style }))
    }

    fn inline_style(&mut self, o: &Obj, p: &JPath) -> InlineStyle {
        let style = self.opt(o, p, "style", Dec::string);
        if let Some(s) = &style {
            self.style_refs
                .push((s.clone(), p.key("style").to_string()));
        }
        let link = self.opt(o, p, "link", Dec::string);
        if let Some(l) = &link {
            if let Some(anchor) = l.strip_prefix('#') {
                self.links
                    .push((anchor.to_string(), p.key("link").to_string()));
            } else if l.trim().is_empty() {
                self.error(&p.key("link"), "empty link");
            }
        }
        InlineStyle {
            style,
            bold: self.opt(o, p, "bold", Dec::boolean),
            italic: self.opt(o, p, "italic", Dec::boolean),
            underline: self.opt(o, p, "underline", Dec::boolean),
            strike: self.opt(o, p, "strike", Dec::boolean),
            color: self.opt(o, p, "color", Dec::color),
            size: self.opt(o, p, "size", Dec::font_size),
            font: self.opt(o, p, "font", Dec::string),
            baseline: self.opt(o, p, "baseline", |d, v, p| {
                d.one_of(v, p, &[("super", Baseline::Super), ("sub", Baseline::Sub)])
            }),
            code: self.opt(o, p, "code", Dec::boolean),
            link,
            lang: self.opt(o, p, "lang", Dec::lang),
            features: self.opt(o, p, "features", Dec::features),
        }
    }

    fn list_item(&mut self, v: &Value, p: &JPath) -> Option<ListItem> {
        match v {
            Value::String(s) => Some(ListItem::Text(s.clone())),
            Value::Array(_) => {
                let outer = self.inside.replace("a list item");
                let blocks = self.blocks(v, p).map(ListItem::Blocks);
                self.inside = outer;
                blocks
            }
            other => {
                self.error(
                    p,
                    format!(
                        "expected a list item (a string or an array of blocks), found {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn table(&mut self, v: &Value, p: &JPath) -> Option<Block> {
        let o = self.obj(
            v,
            p,
            "a table",
            &[
                BLOCK_KEYS,
                STYLE_KEYS,
                &[
                    "columns",
                    "header_rows",
                    "rows",
                    "border",
                    "padding",
                    "header_background",
                ],
            ],
        )?;
        let columns = self.req(o, p, "columns", |d, v, p| {
            d.list(v, p, "columns", Dec::column)
        });
        if let Some(cols) = &columns
            && cols.is_empty()
        {
            self.error(&p.key("columns"), "a table needs at least one column");
        }
        let header_rows = self
            .opt(o, p, "header_rows", |d, v, p| d.count(v, p, 0, 1000))
            .unwrap_or(0);
        let rows = self.req(o, p, "rows", |d, v, p| d.list(v, p, "rows", Dec::row));
        if let Some(rows) = &rows
            && header_rows as usize > rows.len()
        {
            self.error(
                &p.key("header_rows"),
                format!(
                    "{header_rows} header rows, but the table has {} rows",
                    rows.len()
                ),
            );
        }
        let border = self.opt(o, p, "border", |d, v, p| {
            let o = d.obj(v, p, "a border", &[&["width", "color", "lines"]])?;
            Some(Border {
                width: d.opt(o, p, "width", |d, v, p| d.length_in(v, p, 0.0, 100.0)),
                color: d.opt(o, p, "color", Dec::color),
                lines: d
                    .opt(o, p, "lines", |d, v, p| {
                        d.one_of(
                            v,
                            p,
                            &[
                                ("all", BorderLines::All),
                                ("horizontal", BorderLines::Horizontal),
                                ("none", BorderLines::None),
                            ],
                        )
                    })
                    .unwrap_or_default(),
            })
        });
        let padding = self.opt(o, p, "padding", Dec::edges);
        let header_background = self.opt(o, p, "header_background", Dec::color);
        let props = self.block_props(o, p);
        Some(Block::Table(Table {
            columns: columns?,
            header_rows,
            rows: rows?,
            border,
            padding,
            header_background,
            props,
        }))
    }

    fn column(&mut self, v: &Value, p: &JPath) -> Option<Column> {
        match v {
            Value::Object(_) => {
                let o = self.obj(v, p, "a column", &[&["width", "align"]])?;
                let width = self
                    .opt(o, p, "width", Dec::column_width)
                    .unwrap_or_default();
                let align = self.opt(o, p, "align", Dec::align);
                Some(Column::Full(ColumnSpec { width, align }))
            }
            _ => self.column_width(v, p).map(Column::Width),
        }
    }

    fn column_width(&mut self, v: &Value, p: &JPath) -> Option<ColumnWidth> {
        match v {
            Value::Number(_) => self.length_in(v, p, 0.0, MAX_PAGE).map(ColumnWidth::Fixed),
            Value::String(s) => match ColumnWidth::parse(s) {
                Some(ColumnWidth::Fixed(l)) if !(0.0..=MAX_PAGE).contains(&l.0) => {
                    self.error(
                        p,
                        format!(
                            "length must be between 0pt and {MAX_PAGE}pt, found {}pt",
                            l.0
                        ),
                    );
                    None
                }
                Some(w) => Some(w),
                None => {
                    self.diags.push(
                        Diagnostic::error(p.to_string(), format!("invalid column width \"{s}\""))
                            .with_hint("write a length, a share such as \"2fr\", or \"auto\""),
                    );
                    None
                }
            },
            other => {
                self.error(p, format!("expected a column width, found {}", kind(other)));
                None
            }
        }
    }

    fn row(&mut self, v: &Value, p: &JPath) -> Option<Row> {
        match v {
            Value::Array(_) => self.list(v, p, "cells", Dec::cell).map(Row::Cells),
            Value::Object(_) => {
                let o = self.obj(v, p, "a row", &[&["cells", "background"]])?;
                let cells = self.req(o, p, "cells", |d, v, p| d.list(v, p, "cells", Dec::cell));
                let background = self.opt(o, p, "background", Dec::color);
                Some(Row::Full(RowSpec {
                    cells: cells?,
                    background,
                }))
            }
            other => {
                self.error(
                    p,
                    format!(
                        "expected a row (an array of cells or {{\"cells\": […]}}), found {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn cell(&mut self, v: &Value, p: &JPath) -> Option<Cell> {
        match v {
            Value::String(s) => Some(Cell::Text(s.clone())),
            Value::Number(n) => {
                self.diags.push(
                    Diagnostic::error(
                        p.to_string(),
                        "expected a cell (a string or an object), found a number",
                    )
                    .with_hint(format!("write it as a string: \"{n}\"")),
                );
                None
            }
            Value::Object(_) => {
                let o = self.obj(
                    v,
                    p,
                    "a cell",
                    &[
                        STYLE_KEYS,
                        &[
                            "style",
                            "text",
                            "content",
                            "colspan",
                            "rowspan",
                            "background",
                            "valign",
                            "padding",
                        ],
                    ],
                )?;
                let text = self.opt(o, p, "text", Dec::string);
                let outer = self.inside.replace("a table cell");
                let content = self.opt(o, p, "content", Dec::blocks).unwrap_or_default();
                self.inside = outer;
                if text.is_some() && !content.is_empty() {
                    self.error(p, "give either \"text\" or \"content\", not both");
                }
                let style = self.opt(o, p, "style", Dec::string);
                if let Some(s) = &style {
                    self.style_refs
                        .push((s.clone(), p.key("style").to_string()));
                }
                Some(Cell::Full(Box::new(CellSpec {
                    style,
                    text,
                    content,
                    colspan: self.opt(o, p, "colspan", |d, v, p| d.count(v, p, 1, 1000)),
                    rowspan: self.opt(o, p, "rowspan", |d, v, p| d.count(v, p, 1, 100_000)),
                    background: self.opt(o, p, "background", Dec::color),
                    valign: self.opt(o, p, "valign", |d, v, p| {
                        d.one_of(
                            v,
                            p,
                            &[
                                ("top", VAlign::Top),
                                ("middle", VAlign::Middle),
                                ("bottom", VAlign::Bottom),
                            ],
                        )
                    }),
                    padding: self.opt(o, p, "padding", Dec::edges),
                    props: self.style_props(o, p),
                })))
            }
            other => {
                self.error(
                    p,
                    format!(
                        "expected a cell (a string or an object), found {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    fn check_references(&mut self) {
        let names = std::mem::take(&mut self.style_names);
        let defined: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        let refs = std::mem::take(&mut self.style_refs);
        for (name, at) in &refs {
            if defined.contains(name.as_str()) || BUILTIN_STYLES.contains(&name.as_str()) {
                continue;
            }
            let mut d = Diagnostic::error(at.clone(), format!("unknown style \"{name}\""));
            if let Some(s) = suggest(
                name,
                defined
                    .iter()
                    .copied()
                    .chain(BUILTIN_STYLES.iter().copied()),
            ) {
                d = d.with_hint(format!("did you mean \"{s}\"?"));
            }
            self.diags.push(d);
        }
        let links = std::mem::take(&mut self.links);
        for (anchor, at) in &links {
            if self.anchors.contains_key(anchor) {
                continue;
            }
            let mut d =
                Diagnostic::error(at.clone(), format!("link to unknown anchor \"#{anchor}\""));
            if let Some(s) = suggest(anchor, self.anchors.keys().map(String::as_str)) {
                d = d.with_hint(format!("did you mean \"#{s}\"?"));
            }
            self.diags.push(d);
        }
        let refs = std::mem::take(&mut self.page_refs);
        for (anchor, at) in &refs {
            if self.anchors.contains_key(anchor) {
                continue;
            }
            let mut d = Diagnostic::error(
                at.clone(),
                format!("page_of refers to unknown anchor \"{anchor}\""),
            );
            d = match suggest(anchor, self.anchors.keys().map(String::as_str)) {
                Some(s) => d.with_hint(format!("did you mean \"{s}\"?")),
                None => d.with_hint("give the target block an \"anchor\""),
            };
            self.diags.push(d);
        }
    }
}

/// The largest length accepted anywhere: 200 inches, PDF's page size limit.
pub(crate) const MAX_LENGTH: f32 = 14_400.0;
const MIN_PAGE: f32 = 36.0;
const MAX_PAGE: f32 = 14_400.0;

/// A parsed creation date: (year, month, day, optional (hour, minute, second)).
pub(crate) type DateParts = (u16, u8, u8, Option<(u8, u8, u8)>);

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss` with an optional `Z`.
pub(crate) fn parse_date(s: &str) -> Option<DateParts> {
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z').unwrap_or(t))),
        None => (s, None),
    };
    let mut it = date.split('-');
    let y: u16 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    if it.next().is_some()
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
        || !(1000..=9999).contains(&y)
    {
        return None;
    }
    let time = match time {
        None => None,
        Some(t) => {
            let mut it = t.split(':');
            let h: u8 = it.next()?.parse().ok()?;
            let mi: u8 = it.next()?.parse().ok()?;
            let se: u8 = it.next().unwrap_or("0").parse().ok()?;
            if it.next().is_some() || h > 23 || mi > 59 || se > 59 {
                return None;
            }
            Some((h, mi, se))
        }
    };
    Some((y, m, d, time))
}

/// The QR level for a block's `ec` (default M).
pub(crate) fn qr_level(ec: Option<QrEc>) -> crate::barcode::QrLevel {
    use crate::barcode::QrLevel;
    match ec.unwrap_or(QrEc::M) {
        QrEc::L => QrLevel::L,
        QrEc::M => QrLevel::M,
        QrEc::Q => QrLevel::Q,
        QrEc::H => QrLevel::H,
    }
}
