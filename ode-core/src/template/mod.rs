//! Templates: ODE documents bound to JSON data.
//!
//! A template is a document whose strings hold [minijinja] expressions
//! (`"Dear {{ customer.name }},"`) and whose arrays and values may be control objects:
//!
//! | object | becomes |
//! |---|---|
//! | `{"$each": "items", "as": "item", "do": […], "else": […]}` | `do` once per element of `items` (`else` when it is empty) |
//! | `{"$if": "total > 100", "then": …, "else": …}` | `then` or `else` (nothing when false and no `else`) |
//! | `{"$let": {"total": {"$eval": "a + b"}}, "do": …}` | `do`, with the variables set |
//! | `{"$include": "address", "with": {…}}` | the partial named `address`, with extra variables |
//! | `{"$eval": "items \| length"}` | the expression's value, keeping its JSON type |
//!
//! In an array, what `$each`, `$if` and `$include` give is spliced in place (so a loop
//! gives rows, list items or blocks, not one nested array). Expansion yields a plain
//! document, which is then decoded like any other, so a template renders exactly like
//! the document it expands to.
//!
//! Templates are sandboxed: no file or network access (there is no loader), a bounded
//! amount of work per expression (minijinja's fuel), a bounded expanded size and a
//! bounded depth of partials. A missing value is an error naming both the template path
//! and the data path, unless the template is lenient.

mod format;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use minijinja::value::{Serde, merge_maps};

use crate::limits::{Guard, Limits};
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value as Mj};
use serde_json::{Map, Value};

use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::model::decode::kind;
use crate::path::JPath;

const CONTROL_KEYS: &[&str] = &["$each", "$if", "$let", "$include", "$eval"];
const OPTION_KEYS: &[&str] = &["partials", "file_name", "locale", "lenient"];
/// Words of the expression language that are not data names.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "elif",
    "endif",
    "for",
    "endfor",
    "set",
    "endset",
    "with",
    "endwith",
    "macro",
    "endmacro",
    "call",
    "filter",
    "endfilter",
    "raw",
    "endraw",
    "recursive",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "loop",
    "data",
];

/// What one JSON value of an expanded document is counted as, in bytes, against
/// [`Limits::max_template_bytes`]: an object entry with its key and index, or an array
/// slot, with the allocator's overhead.
pub const VALUE_BYTES: usize = 128;

/// A compiled template.
pub struct Template {
    env: Environment<'static>,
    body: Value,
    partials: BTreeMap<String, Value>,
    file_name: Option<String>,
    lenient: bool,
    limits: Limits,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("partials", &self.partials.keys().collect::<Vec<_>>())
            .field("file_name", &self.file_name)
            .field("lenient", &self.lenient)
            .finish_non_exhaustive()
    }
}

/// Whether a document uses template features: a top-level `template` object, a
/// control object, or a string with `{{`, `{%` or `{#`.
pub fn is_template(doc: &Value) -> bool {
    fn walk(v: &Value) -> bool {
        match v {
            Value::String(s) => has_markup(s),
            Value::Array(a) => a.iter().any(walk),
            Value::Object(o) => {
                o.keys().any(|k| CONTROL_KEYS.contains(&k.as_str())) || o.values().any(walk)
            }
            _ => false,
        }
    }
    doc.get("template").is_some() || walk(doc)
}

fn has_markup(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

impl Template {
    /// Parses and compiles a template from JSON text.
    ///
    /// # Errors
    /// JSON syntax errors (with line and column) and every template error found: bad
    /// expression syntax, malformed control objects, unknown partials, each with its
    /// JSON path.
    pub fn parse(json: &str) -> Result<Template, Diagnostics> {
        let value = crate::model::decode::parse_json(json)?;
        Template::new(value)
    }

    /// Compiles a template given as a JSON value.
    ///
    /// # Errors
    /// As [`Template::parse`].
    pub fn new(mut doc: Value) -> Result<Template, Diagnostics> {
        let mut c = Compiler::default();
        let mut partials = BTreeMap::new();
        let mut file_name = None;
        let mut lenient = false;
        let mut locale = None;
        if let Value::Object(o) = &mut doc {
            if let Some(opts) = o.remove("template") {
                let p = JPath::Root;
                let tp = p.key("template");
                match opts {
                    Value::Object(opts) => {
                        for (k, v) in opts {
                            let kp = tp.key(&k);
                            match (k.as_str(), v) {
                                ("partials", Value::Object(ps)) => {
                                    for (name, v) in ps {
                                        partials.insert(name, v);
                                    }
                                }
                                ("file_name", Value::String(s)) => file_name = Some(s),
                                ("locale", Value::String(s)) => locale = Some(s),
                                ("lenient", Value::Bool(b)) => lenient = b,
                                ("partials" | "file_name" | "locale" | "lenient", v) => {
                                    let want = match k.as_str() {
                                        "partials" => "an object of partials by name",
                                        "lenient" => "a boolean",
                                        _ => "a string",
                                    };
                                    c.error(&kp, format!("expected {want}, found {}", kind(&v)));
                                }
                                (other, _) => c.unknown_key(&tp, other, OPTION_KEYS),
                            }
                        }
                    }
                    other => c.error(
                        &tp,
                        format!(
                            "expected an object of template options, found {}",
                            kind(&other)
                        ),
                    ),
                }
            }
            if locale.is_none() {
                locale = o
                    .get("metadata")
                    .and_then(|m| m.get("language"))
                    .and_then(Value::as_str)
                    .filter(|l| !has_markup(l))
                    .map(str::to_string);
            }
        } else {
            c.error(
                &JPath::Root,
                format!("expected a document (an object), found {}", kind(&doc)),
            );
        }
        let locale = match locale {
            Some(l) => match format::Locale::find(&l) {
                Some(loc) => loc,
                None => {
                    c.diags.push(
                        Diagnostic::error("/template/locale", format!("unknown locale \"{l}\""))
                            .with_hint(format!("one of {}", format::Locale::names().join(", "))),
                    );
                    format::Locale::find("en").expect("en is a known locale")
                }
            },
            None => format::Locale::find("en").expect("en is a known locale"),
        };
        let limits = Limits::default();
        c.env = Some(environment(locale, lenient, &limits));
        c.walk(&doc, &JPath::Root);
        let pp = JPath::Root.key("template");
        let pp = pp.key("partials");
        for (name, v) in &partials {
            c.walk(v, &pp.key(name));
        }
        if let Some(f) = &file_name {
            c.string(f, &JPath::Root.key("template").key("file_name"));
        }
        for (name, at) in std::mem::take(&mut c.includes) {
            if !partials.contains_key(&name) {
                c.unknown_partial(&at, &name, partials.keys().map(String::as_str));
            }
        }
        if !c.diags.is_empty() {
            return Err(Diagnostics(c.diags));
        }
        Ok(Template {
            env: c.env.expect("set above"),
            body: doc,
            partials,
            file_name,
            lenient,
            limits,
        })
    }

    /// Adds (or replaces) a partial that `$include` can name.
    ///
    /// # Errors
    /// Template errors in the partial, with paths under `/template/partials/<name>`.
    pub fn add_partial(&mut self, name: &str, partial: Value) -> Result<(), Diagnostics> {
        let mut c = Compiler {
            env: Some(std::mem::replace(&mut self.env, Environment::empty())),
            ..Compiler::default()
        };
        let pp = JPath::Root.key("template");
        let pp = pp.key("partials");
        c.walk(&partial, &pp.key(name));
        self.env = c.env.take().expect("set above");
        if !c.diags.is_empty() {
            return Err(Diagnostics(c.diags));
        }
        self.partials.insert(name.to_string(), partial);
        Ok(())
    }

    /// Renders missing values as empty (and `$each` over a missing value as no
    /// elements) instead of reporting them.
    pub fn set_lenient(&mut self, lenient: bool) {
        self.lenient = lenient;
        self.env.set_undefined_behavior(undefined_behavior(lenient));
    }

    /// Changes the limits on expansion.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.env.set_fuel(Some(limits.template_fuel));
    }

    /// Sets the expression that names each record's output file (as
    /// `template.file_name` does).
    ///
    /// # Errors
    /// Template syntax errors in the expression.
    pub fn set_file_name(&mut self, expr: &str) -> Result<(), Diagnostics> {
        let mut c = Compiler {
            env: Some(std::mem::replace(&mut self.env, Environment::empty())),
            ..Compiler::default()
        };
        c.string(expr, &JPath::Root.key("template").key("file_name"));
        self.env = c.env.take().expect("set above");
        if !c.diags.is_empty() {
            return Err(Diagnostics(c.diags));
        }
        self.file_name = Some(expr.to_string());
        Ok(())
    }

    /// Whether the template names its output file (`template.file_name`).
    pub fn has_file_name(&self) -> bool {
        self.file_name.is_some()
    }

    /// The output file name for one data record, from `template.file_name`.
    ///
    /// # Errors
    /// Expression errors, as for [`Template::expand`].
    pub fn file_name(&self, data: &Value) -> Option<Result<String, Diagnostics>> {
        let f = self.file_name.as_ref()?;
        let mut run = Run::new(self, data);
        let p = JPath::Root.key("template");
        let v = run.string(f, &p.key("file_name"), &run.root_ctx());
        Some(match run.diags.is_empty() {
            true => Ok(match v {
                Value::String(s) => s,
                other => other.to_string(),
            }),
            false => Err(Diagnostics(run.diags)),
        })
    }

    /// Expands the template with data into a plain document.
    ///
    /// # Errors
    /// Every expansion error, each at its template path with the data path involved.
    pub fn expand(&self, data: &Value) -> Result<Value, Diagnostics> {
        self.expand_with(data, &Guard::default())
    }

    /// As [`Template::expand`], asking `guard` every few thousand values whether to go
    /// on.
    ///
    /// # Errors
    /// As [`Template::expand`], and the guard's reason when it says stop.
    pub fn expand_with(&self, data: &Value, guard: &Guard) -> Result<Value, Diagnostics> {
        self.expand_counted(data, &mut 0, guard)
    }

    /// Expands, adding what the output costs to `used` (bytes, as the limits count).
    fn expand_counted(
        &self,
        data: &Value,
        used: &mut usize,
        guard: &Guard,
    ) -> Result<Value, Diagnostics> {
        let mut run = Run::new(self, data);
        run.guard = guard.clone();
        run.bytes = *used;
        let ctx = run.root_ctx();
        let out = run.value(&self.body, &JPath::Root, &ctx, Dest::None);
        *used = run.bytes;
        if run.diags.is_empty() {
            Ok(match out {
                Out::One(v) => v,
                Out::Many(v) => Value::Array(v),
                Out::Nothing => Value::Null,
            })
        } else {
            Err(Diagnostics(run.diags))
        }
    }

    /// Expands the template and decodes the result. Errors in the expanded document
    /// are reported at the template path that produced the value, with the data item
    /// a loop was on.
    ///
    /// # Errors
    /// Expansion errors, then model errors of the expanded document.
    pub fn document(&self, data: &Value) -> Result<crate::model::Document, Diagnostics> {
        self.document_with(data, &Guard::default())
    }

    /// As [`Template::document`], asking `guard` whether to go on.
    ///
    /// # Errors
    /// As [`Template::document`], and the guard's reason when it says stop.
    pub fn document_with(
        &self,
        data: &Value,
        guard: &Guard,
    ) -> Result<crate::model::Document, Diagnostics> {
        let expanded = self.expand_with(data, guard)?;
        crate::model::from_value(&expanded).map_err(|d| self.locate(data, d))
    }

    /// Rewrites the paths of diagnostics about an expanded document into template
    /// paths.
    pub fn locate(&self, data: &Value, mut diags: Diagnostics) -> Diagnostics {
        let mut run = Run::new(self, data);
        let ctx = run.root_ctx();
        run.value(&self.body, &JPath::Root, &ctx, Dest::At(""));
        let trail = run.trail;
        for d in &mut diags.0 {
            if d.span.line.is_some() {
                continue;
            }
            let path = d.span.path.clone();
            // The longest recorded output path that is a prefix of the diagnostic's.
            let mut best: Option<(&str, &(String, String))> = None;
            for (out, at) in &trail {
                let is_prefix = path == *out
                    || (path.starts_with(out.as_str()) && path[out.len()..].starts_with('/'));
                if is_prefix && best.is_none_or(|(b, _)| out.len() > b.len()) {
                    best = Some((out, at));
                }
            }
            if let Some((out, (tpath, note))) = best {
                let mut p = format!("{tpath}{}", &path[out.len()..]);
                if !note.is_empty() {
                    let _ = write!(p, " ({note})");
                }
                d.span.path = p;
            }
        }
        diags
    }

    /// Expands the template once per record into one document: the first record
    /// gives the page setup, metadata, header and footer; each record's content becomes
    /// a section that starts on a new page, with its own page numbers when
    /// `restart_page_numbers` is set.
    ///
    /// # Errors
    /// The errors of each failing record, with its index (from 0).
    pub fn merge(
        &self,
        records: &[Value],
        restart_page_numbers: bool,
    ) -> Result<Value, Vec<(usize, Diagnostics)>> {
        self.merge_with(records, restart_page_numbers, &Guard::default())
    }

    /// As [`Template::merge`], asking `guard` whether to go on.
    ///
    /// # Errors
    /// As [`Template::merge`]; when the guard says stop, the record it stopped in fails
    /// with its reason.
    pub fn merge_with(
        &self,
        records: &[Value],
        restart_page_numbers: bool,
        guard: &Guard,
    ) -> Result<Value, Vec<(usize, Diagnostics)>> {
        let mut failed = Vec::new();
        let mut doc: Option<Map<String, Value>> = None;
        let mut sections = Vec::with_capacity(records.len());
        let mut used = 0;
        for (i, rec) in records.iter().enumerate() {
            match self.expand_counted(rec, &mut used, guard) {
                Ok(Value::Object(mut o)) => {
                    let content = o.remove("content").unwrap_or(Value::Array(vec![]));
                    let mut sec = Map::new();
                    sec.insert("type".into(), "section".into());
                    sec.insert("restart_page_numbers".into(), restart_page_numbers.into());
                    sec.insert("content".into(), content);
                    sections.push(Value::Object(sec));
                    if doc.is_none() {
                        doc = Some(o);
                    }
                }
                Ok(_) => {}
                Err(d) => failed.push((i, d)),
            }
        }
        if !failed.is_empty() {
            return Err(failed);
        }
        let mut doc = doc.unwrap_or_else(|| {
            let mut o = Map::new();
            o.insert("ode".into(), 1.into());
            o
        });
        doc.insert("content".into(), Value::Array(sections));
        Ok(Value::Object(doc))
    }
}

fn undefined_behavior(lenient: bool) -> UndefinedBehavior {
    if lenient {
        UndefinedBehavior::Chainable
    } else {
        UndefinedBehavior::Strict
    }
}

fn environment(
    locale: &'static format::Locale,
    lenient: bool,
    limits: &Limits,
) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined_behavior(lenient));
    env.set_fuel(Some(limits.template_fuel));
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_recursion_limit(64);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    format::register(&mut env, locale);
    env
}

fn mj_kind(v: &Mj) -> &'static str {
    use minijinja::value::ValueKind as K;
    match v.kind() {
        K::Undefined => "nothing (undefined)",
        K::None => "null",
        K::Bool => "a boolean",
        K::Number => "a number",
        K::String => "a string",
        K::Bytes => "bytes",
        K::Seq | K::Iterable => "an array",
        K::Map => "an object",
        K::Plain => "a value",
        K::Invalid => "an invalid value",
        _ => "a value",
    }
}

/// Checks a template once: expression syntax, control object shapes, partial names.
#[derive(Default)]
struct Compiler {
    env: Option<Environment<'static>>,
    diags: Vec<Diagnostic>,
    /// Partials named by `$include`, with where.
    includes: Vec<(String, String)>,
}

impl Compiler {
    fn error(&mut self, p: &JPath, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(p.to_string(), msg));
    }

    fn unknown_key(&mut self, p: &JPath, key: &str, known: &[&str]) {
        let mut d = Diagnostic::error(p.key(key).to_string(), format!("unknown field \"{key}\""));
        d = match suggest(key, known.iter().copied()) {
            Some(s) => d.with_hint(format!("did you mean \"{s}\"?")),
            None => d.with_hint(format!("one of {}", known.join(", "))),
        };
        self.diags.push(d);
    }

    fn unknown_partial<'a>(
        &mut self,
        at: &str,
        name: &str,
        known: impl Iterator<Item = &'a str> + Clone,
    ) {
        let mut d = Diagnostic::error(at, format!("unknown partial \"{name}\""));
        d = match suggest(name, known.clone()) {
            Some(s) => d.with_hint(format!("did you mean \"{s}\"?")),
            None => {
                let names: Vec<&str> = known.collect();
                if names.is_empty() {
                    d.with_hint("define partials in /template/partials")
                } else {
                    d.with_hint(format!("one of {}", names.join(", ")))
                }
            }
        };
        self.diags.push(d);
    }

    fn string(&mut self, s: &str, p: &JPath) {
        if !has_markup(s) {
            return;
        }
        let env = self.env.as_mut().expect("set before walking");
        if env.get_template(s).is_ok() {
            return;
        }
        if let Err(e) = env.add_template_owned(s.to_string(), s.to_string()) {
            self.diags.push(syntax_error(p, s, &e));
        }
    }

    fn expression(&mut self, v: &Value, p: &JPath, what: &str) {
        match v {
            Value::String(s) => {
                let env = self.env.as_ref().expect("set before walking");
                if let Err(e) = env.compile_expression(s) {
                    self.diags.push(syntax_error(p, s, &e));
                }
            }
            other => self.error(
                p,
                format!(
                    "expected {what} (an expression as a string), found {}",
                    kind(other)
                ),
            ),
        }
    }

    fn walk(&mut self, v: &Value, p: &JPath) {
        match v {
            Value::String(s) => self.string(s, p),
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    self.walk(v, &p.index(i));
                }
            }
            Value::Object(o) => {
                let control: Vec<&str> = o
                    .keys()
                    .map(String::as_str)
                    .filter(|k| k.starts_with('$'))
                    .collect();
                if control.is_empty() {
                    for (k, v) in o {
                        self.walk(v, &p.key(k));
                    }
                    return;
                }
                if control.len() > 1 {
                    self.error(
                        p,
                        format!(
                            "a control object has one of {}, this one has {}",
                            CONTROL_KEYS.join(", "),
                            control.join(" and ")
                        ),
                    );
                    return;
                }
                let allowed: &[&str] = match control[0] {
                    "$each" => &["$each", "as", "do", "else"],
                    "$if" => &["$if", "then", "else"],
                    "$include" => &["$include", "with"],
                    "$let" => &["$let", "do"],
                    "$eval" => &["$eval"],
                    other => {
                        let mut d = Diagnostic::error(
                            p.key(other).to_string(),
                            format!("unknown control \"{other}\""),
                        );
                        d = match suggest(other, CONTROL_KEYS.iter().copied()) {
                            Some(s) => d.with_hint(format!("did you mean \"{s}\"?")),
                            None => d.with_hint(format!("one of {}", CONTROL_KEYS.join(", "))),
                        };
                        self.diags.push(d);
                        return;
                    }
                };
                for k in o.keys() {
                    if !allowed.contains(&k.as_str()) {
                        self.unknown_key(p, k, allowed);
                    }
                }
                let c = control[0];
                let cp = p.key(c);
                match c {
                    "$each" => {
                        self.expression(&o[c], &cp, "the data to loop over");
                        if let Some(a) = o.get("as") {
                            match a.as_str() {
                                Some(n) if is_identifier(n) && !KEYWORDS.contains(&n) => {}
                                _ => self.error(
                                    &p.key("as"),
                                    "expected a variable name (letters, digits and _, not a keyword)",
                                ),
                            }
                        }
                        match o.get("do") {
                            Some(d) => self.walk(d, &p.key("do")),
                            None => self.diags.push(
                                Diagnostic::error(p.to_string(), "missing field \"do\"")
                                    .with_hint("\"do\" holds what is repeated for each element"),
                            ),
                        }
                        if let Some(e) = o.get("else") {
                            self.walk(e, &p.key("else"));
                        }
                    }
                    "$if" => {
                        self.expression(&o[c], &cp, "a condition");
                        match o.get("then") {
                            Some(t) => self.walk(t, &p.key("then")),
                            None => self.diags.push(
                                Diagnostic::error(p.to_string(), "missing field \"then\"")
                                    .with_hint("\"then\" holds what the condition gives when true"),
                            ),
                        }
                        if let Some(e) = o.get("else") {
                            self.walk(e, &p.key("else"));
                        }
                    }
                    "$let" => {
                        match &o[c] {
                            Value::Object(m) => {
                                for (k, v) in m {
                                    if !is_identifier(k) || KEYWORDS.contains(&k.as_str()) {
                                        self.error(
                                            &cp.key(k),
                                            "expected a variable name (letters, digits and _, not a keyword)",
                                        );
                                    }
                                    self.walk(v, &cp.key(k));
                                }
                            }
                            other => self.error(
                                &cp,
                                format!("expected an object of variables, found {}", kind(other)),
                            ),
                        }
                        match o.get("do") {
                            Some(d) => self.walk(d, &p.key("do")),
                            None => self.diags.push(
                                Diagnostic::error(p.to_string(), "missing field \"do\"")
                                    .with_hint("\"do\" holds what sees the variables"),
                            ),
                        }
                    }
                    "$include" => {
                        match o[c].as_str() {
                            Some(n) => self.includes.push((n.to_string(), cp.to_string())),
                            None => self.error(&cp, "expected the name of a partial"),
                        }
                        if let Some(w) = o.get("with") {
                            match w {
                                Value::Object(m) => {
                                    let wp = p.key("with");
                                    for (k, v) in m {
                                        if !is_identifier(k) {
                                            self.error(
                                                &wp.key(k),
                                                "expected a variable name (letters, digits and _)",
                                            );
                                        }
                                        self.walk(v, &wp.key(k));
                                    }
                                }
                                other => self.error(
                                    &p.key("with"),
                                    format!(
                                        "expected an object of variables, found {}",
                                        kind(other)
                                    ),
                                ),
                            }
                        }
                    }
                    _ => self.expression(&o[c], &cp, "a value"),
                }
            }
            _ => {}
        }
    }
}

fn syntax_error(p: &JPath, src: &str, e: &minijinja::Error) -> Diagnostic {
    let detail = e.detail().unwrap_or("invalid syntax");
    Diagnostic::error(
        p.to_string(),
        format!("template syntax error: {detail} in {}", quote(src)),
    )
}

/// A source string for a message, shortened.
fn quote(s: &str) -> String {
    let short: String = s.chars().take(80).collect();
    if short.len() < s.len() {
        format!("\"{short}…\"")
    } else {
        format!("\"{s}\"")
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What a template value expands to.
enum Out {
    One(Value),
    /// Elements spliced into the enclosing array.
    Many(Vec<Value>),
    /// Nothing: a false `$if` without `else`.
    Nothing,
}

/// Where an expanded value lands in the output, when expansion is tracked to map
/// errors in the expanded document back to the template.
#[derive(Clone, Copy)]
enum Dest<'a> {
    None,
    /// At this output path.
    At(&'a str),
    /// At this index of the array at this output path (what a control object gives is
    /// spliced from there).
    Slot(&'a str, usize),
}

impl Dest<'_> {
    fn path(self) -> Option<String> {
        match self {
            Dest::None => None,
            Dest::At(p) => Some(p.to_string()),
            Dest::Slot(a, i) => Some(format!("{a}/{i}")),
        }
    }
}

/// A variable bound by a loop or an include, and where its value is in the data.
struct Scope {
    name: String,
    data_path: Option<String>,
}

/// One expansion.
struct Run<'t> {
    t: &'t Template,
    data: &'t Value,
    scopes: Vec<Scope>,
    /// The data path of the innermost loop element, for messages.
    notes: Vec<String>,
    /// What the output costs so far, as [`Limits::max_template_bytes`] counts it.
    bytes: usize,
    /// Values produced since the guard was last asked.
    since_check: usize,
    guard: Guard,
    include_depth: usize,
    include_chain: Vec<String>,
    diags: Vec<Diagnostic>,
    stopped: bool,
    /// Set when locating: (output path, (template path, note)).
    trail: Vec<(String, (String, String))>,
}

impl<'t> Run<'t> {
    fn new(t: &'t Template, data: &'t Value) -> Self {
        Run {
            t,
            data,
            scopes: Vec::new(),
            notes: Vec::new(),
            bytes: 0,
            since_check: 0,
            guard: Guard::default(),
            include_depth: 0,
            include_chain: Vec::new(),
            diags: Vec::new(),
            stopped: false,
            trail: Vec::new(),
        }
    }

    fn root_ctx(&self) -> Mj {
        let whole = Mj::from(Serde(self.data));
        let named = Mj::from_pairs([("data", whole.clone())]);
        // Later maps win: `data` is always the whole data.
        if self.data.is_object() {
            merge_maps([whole, named])
        } else {
            named
        }
    }

    /// The template location for messages: the path, and the loop element if any.
    fn at(&self, p: &JPath) -> String {
        match self.notes.last() {
            Some(n) => format!("{p} ({n})"),
            None => p.to_string(),
        }
    }

    fn fail(&mut self, d: Diagnostic) {
        if self.diags.len() >= 100 {
            self.stopped = true;
            return;
        }
        // A loop repeats its errors once per element: report each once.
        if !self
            .diags
            .iter()
            .any(|o| o.message == d.message && o.span.path == d.span.path)
        {
            self.diags.push(d);
        }
    }

    /// Counts `values` JSON values with `bytes` of text against the limit, and asks the
    /// guard every 4096 values; false (with the error recorded) when expansion must stop.
    fn count(&mut self, p: &JPath, values: usize, bytes: usize) -> bool {
        self.bytes = self
            .bytes
            .saturating_add(values.saturating_mul(VALUE_BYTES))
            .saturating_add(bytes);
        if self.bytes > self.t.limits.max_template_bytes {
            let d = Diagnostic::error(
                self.at(p),
                format!(
                    "the expanded document grows past the limit of {} MB (the \
                     max_template_bytes setting)",
                    self.t.limits.max_template_bytes >> 20
                ),
            )
            .with_hint("a loop runs over more data than a document can hold");
            self.diags.push(d);
            self.stopped = true;
            return false;
        }
        self.since_check += values;
        if self.since_check >= 4096 {
            self.since_check = 0;
            if let Err(reason) = self.guard.check() {
                self.diags.push(Diagnostic::error(self.at(p), reason));
                self.stopped = true;
                return false;
            }
        }
        true
    }

    fn record(&mut self, out: Option<&str>, p: &JPath) {
        if let Some(out) = out {
            let note = self.notes.last().cloned().unwrap_or_default();
            self.trail.push((out.to_string(), (p.to_string(), note)));
        }
    }

    /// Expands a value that lands at `dest`.
    fn value(&mut self, v: &Value, p: &JPath, ctx: &Mj, dest: Dest) -> Out {
        if self.stopped {
            return Out::Nothing;
        }
        match v {
            Value::String(s) => {
                let r = self.string(s, p, ctx);
                Out::One(r)
            }
            Value::Array(a) => {
                let out = dest.path();
                self.record(out.as_deref(), p);
                let mut items = Vec::with_capacity(a.len());
                self.elements(a, p, ctx, out.as_deref(), 0, &mut items);
                if !self.count(p, 1, 0) {
                    return Out::Nothing;
                }
                Out::One(Value::Array(items))
            }
            Value::Object(o) => {
                if let Some((k, _)) = o.iter().find(|(k, _)| k.starts_with('$')) {
                    return self.control(k, o, p, ctx, dest);
                }
                let out = dest.path();
                self.record(out.as_deref(), p);
                let mut m = Map::with_capacity(o.len());
                for (k, e) in o {
                    let child = out.as_ref().map(|o| format!("{o}/{}", escape_key(k)));
                    let d = child.as_deref().map_or(Dest::None, Dest::At);
                    match self.value(e, &p.key(k), ctx, d) {
                        Out::One(v) => {
                            m.insert(k.clone(), v);
                        }
                        Out::Many(vs) => {
                            m.insert(k.clone(), Value::Array(vs));
                        }
                        Out::Nothing => {}
                    }
                }
                if !self.count(p, 1, 0) {
                    return Out::Nothing;
                }
                Out::One(Value::Object(m))
            }
            other => {
                if !self.count(p, 1, 0) {
                    return Out::Nothing;
                }
                Out::One(other.clone())
            }
        }
    }

    /// Expands the elements of a template array into `into`, an array that will sit
    /// at `arr` (when tracking) and whose first element here is at index `base`.
    fn elements(
        &mut self,
        items: &[Value],
        p: &JPath,
        ctx: &Mj,
        arr: Option<&str>,
        base: usize,
        into: &mut Vec<Value>,
    ) {
        for (i, e) in items.iter().enumerate() {
            if self.stopped {
                return;
            }
            let ep = p.index(i);
            let pos = base + into.len();
            let d = arr.map_or(Dest::None, |a| Dest::Slot(a, pos));
            match self.value(e, &ep, ctx, d) {
                Out::One(v) => into.push(v),
                Out::Many(vs) => into.extend(vs),
                Out::Nothing => {}
            }
        }
    }

    /// Expands a control object's branch: an array branch in an array is spliced.
    fn branch(&mut self, b: &Value, bp: &JPath, ctx: &Mj, dest: Dest) -> Out {
        match (b, dest) {
            (Value::Array(a), Dest::Slot(arr, pos)) => {
                let mut out = Vec::with_capacity(a.len());
                self.elements(a, bp, ctx, Some(arr), pos, &mut out);
                Out::Many(out)
            }
            (Value::Array(a), Dest::None) => {
                let mut out = Vec::with_capacity(a.len());
                self.elements(a, bp, ctx, None, 0, &mut out);
                Out::Many(out)
            }
            _ => self.value(b, bp, ctx, dest),
        }
    }

    fn string(&mut self, s: &str, p: &JPath, ctx: &Mj) -> Value {
        if !has_markup(s) {
            self.count(p, 1, s.len());
            return Value::String(s.to_string());
        }
        let rendered = match self.t.env.get_template(s) {
            Ok(t) => t.render(ctx),
            Err(e) => Err(e),
        };
        match rendered {
            Ok(r) => {
                self.count(p, 1, r.len());
                Value::String(r)
            }
            Err(e) => {
                let d = self.explain(p, s, &e, ctx);
                self.fail(d);
                Value::Null
            }
        }
    }

    fn eval(&mut self, expr: &str, p: &JPath, ctx: &Mj) -> Option<Mj> {
        let r = self
            .t
            .env
            .compile_expression(expr)
            .and_then(|e| e.eval(ctx));
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                let d = self.explain(p, expr, &e, ctx);
                self.fail(d);
                None
            }
        }
    }

    fn control(
        &mut self,
        key: &str,
        o: &Map<String, Value>,
        p: &JPath,
        ctx: &Mj,
        dest: Dest,
    ) -> Out {
        let cp = p.key(key);
        let expr = o.get(key).and_then(Value::as_str).unwrap_or_default();
        match key {
            "$each" => {
                let Some(list) = self.eval(expr, &cp, ctx) else {
                    return Out::Nothing;
                };
                let data_path = self.data_path(expr);
                let items: Vec<Mj> = match list.kind() {
                    minijinja::value::ValueKind::Seq | minijinja::value::ValueKind::Iterable => {
                        match list.try_iter() {
                            Ok(it) => it.collect(),
                            Err(_) => Vec::new(),
                        }
                    }
                    minijinja::value::ValueKind::Undefined | minijinja::value::ValueKind::None
                        if self.t.lenient =>
                    {
                        Vec::new()
                    }
                    _ => {
                        let what = match &data_path {
                            Some(dp) => format!(
                                "data field {} is not an array (found {} at {})",
                                quote(expr),
                                mj_kind(&list),
                                if dp.is_empty() { "/" } else { dp }
                            ),
                            None => format!(
                                "{} is not an array (found {})",
                                quote(expr),
                                mj_kind(&list)
                            ),
                        };
                        let d = Diagnostic::error(format!("{} (each {expr})", self.at(p)), what);
                        self.fail(d);
                        return Out::Nothing;
                    }
                };
                let name = o.get("as").and_then(Value::as_str).unwrap_or("item");
                let body = o.get("do").unwrap_or(&Value::Null);
                let dp = p.key("do");
                let mut result = Vec::new();
                // Where the elements land: the field's array, or the enclosing array.
                let (arr, base) = match dest {
                    Dest::None => (None, 0),
                    Dest::At(f) => (Some(f.to_string()), 0),
                    Dest::Slot(a, pos) => (Some(a.to_string()), pos),
                };
                if items.is_empty() {
                    if let Some(e) = o.get("else") {
                        let ep = p.key("else");
                        let d = arr.as_deref().map_or(Dest::None, |a| Dest::Slot(a, base));
                        match self.branch(e, &ep, ctx, d) {
                            Out::One(v) => result.push(v),
                            Out::Many(vs) => result.extend(vs),
                            Out::Nothing => {}
                        }
                    }
                    return Out::Many(result);
                }
                let n = items.len();
                for (i, item) in items.into_iter().enumerate() {
                    if self.stopped {
                        break;
                    }
                    let item_path = data_path.as_ref().map(|d| format!("{d}/{i}"));
                    let lp = Mj::from_pairs([
                        ("index", Mj::from(i + 1)),
                        ("index0", Mj::from(i)),
                        ("first", Mj::from(i == 0)),
                        ("last", Mj::from(i + 1 == n)),
                        ("length", Mj::from(n)),
                    ]);
                    let vars = Mj::from_pairs([(name.to_string(), item), ("loop".to_string(), lp)]);
                    // Later maps win: the loop's variables shadow outer ones.
                    let inner = merge_maps([ctx.clone(), vars]);
                    self.scopes.push(Scope {
                        name: name.to_string(),
                        data_path: item_path.clone(),
                    });
                    self.notes.push(match &item_path {
                        Some(d) => format!("item {d}"),
                        None => format!("item {} of {}", i + 1, expr),
                    });
                    let d = arr
                        .as_deref()
                        .map_or(Dest::None, |a| Dest::Slot(a, base + result.len()));
                    match self.branch(body, &dp, &inner, d) {
                        Out::One(v) => result.push(v),
                        Out::Many(vs) => result.extend(vs),
                        Out::Nothing => {}
                    }
                    self.notes.pop();
                    self.scopes.pop();
                }
                Out::Many(result)
            }
            "$if" => {
                let Some(c) = self.eval(expr, &cp, ctx) else {
                    return Out::Nothing;
                };
                let (branch, bp) = if c.is_true() {
                    (o.get("then"), p.key("then"))
                } else {
                    (o.get("else"), p.key("else"))
                };
                match branch {
                    Some(b) => self.branch(b, &bp, ctx, dest),
                    None => Out::Nothing,
                }
            }
            "$let" => {
                let mut inner = ctx.clone();
                if let Some(Value::Object(vars)) = o.get(key) {
                    for (k, v) in vars {
                        // Each variable sees the ones before it.
                        let val = match self.value(v, &cp.key(k), &inner, Dest::None) {
                            Out::One(v) => v,
                            Out::Many(vs) => Value::Array(vs),
                            Out::Nothing => Value::Null,
                        };
                        self.scopes.push(Scope {
                            name: k.clone(),
                            data_path: None,
                        });
                        inner = merge_maps([
                            inner,
                            Mj::from_pairs([(k.clone(), Mj::from(Serde(val)))]),
                        ]);
                    }
                }
                let n = o.get(key).and_then(Value::as_object).map_or(0, Map::len);
                let v = match o.get("do") {
                    Some(b) => self.branch(b, &p.key("do"), &inner, dest),
                    None => Out::Nothing,
                };
                for _ in 0..n {
                    self.scopes.pop();
                }
                v
            }
            "$include" => {
                let Some(partial) = self.t.partials.get(expr) else {
                    let mut c = Compiler::default();
                    c.unknown_partial(
                        &self.at(&cp),
                        expr,
                        self.t.partials.keys().map(String::as_str),
                    );
                    for d in c.diags {
                        self.fail(d);
                    }
                    return Out::Nothing;
                };
                if self.include_depth >= self.t.limits.max_include_depth
                    || self.include_chain.iter().any(|n| n == expr)
                {
                    let mut chain = self.include_chain.clone();
                    chain.push(expr.to_string());
                    self.fail(Diagnostic::error(
                        self.at(&cp),
                        format!(
                            "partials include each other without end: {}",
                            chain.join(" → ")
                        ),
                    ));
                    return Out::Nothing;
                }
                let inner = match o.get("with") {
                    Some(Value::Object(w)) => {
                        let wp = p.key("with");
                        let mut vars = Vec::new();
                        for (k, v) in w {
                            let val = match self.value(v, &wp.key(k), ctx, Dest::None) {
                                Out::One(v) => v,
                                Out::Many(vs) => Value::Array(vs),
                                Out::Nothing => Value::Null,
                            };
                            vars.push((k.clone(), Mj::from(Serde(val))));
                        }
                        merge_maps([ctx.clone(), Mj::from_pairs(vars)])
                    }
                    _ => ctx.clone(),
                };
                self.include_depth += 1;
                self.include_chain.push(expr.to_string());
                let pp = JPath::Root.key("template");
                let pp = pp.key("partials");
                let v = self.branch(partial, &pp.key(expr), &inner, dest);
                self.include_chain.pop();
                self.include_depth -= 1;
                v
            }
            _ => {
                // $eval: the value, with its JSON type.
                let Some(v) = self.eval(expr, &cp, ctx) else {
                    return Out::Nothing;
                };
                if v.is_undefined() {
                    if self.t.lenient {
                        return Out::One(Value::Null);
                    }
                    let at = self.at(&cp);
                    let d = identifier_chains(expr)
                        .iter()
                        .find_map(|c| self.missing(&at, c, ctx))
                        .unwrap_or_else(|| {
                            Diagnostic::error(at, format!("{} gives no value", quote(expr)))
                        });
                    self.fail(d);
                    return Out::Nothing;
                }
                match serde_json::to_value(&v) {
                    Ok(j) => {
                        self.count(p, 1, 0);
                        Out::One(j)
                    }
                    Err(e) => {
                        self.fail(Diagnostic::error(
                            self.at(&cp),
                            format!("{} gives a value JSON cannot hold: {e}", quote(expr)),
                        ));
                        Out::Nothing
                    }
                }
            }
        }
    }

    /// The data path a simple expression (`items`, `order.lines`, `item.tags[0]`)
    /// names, when it names one.
    fn data_path(&self, expr: &str) -> Option<String> {
        let segs = simple_path(expr.trim())?;
        let (root, rest) = segs.split_first()?;
        let mut path = if root == "data" {
            String::new()
        } else if let Some(s) = self.scopes.iter().rev().find(|s| s.name == *root) {
            s.data_path.clone()?
        } else {
            format!("/{}", escape_key(root))
        };
        for s in rest {
            path.push('/');
            path.push_str(&escape_key(s));
        }
        Some(path)
    }

    /// A diagnostic for a failed expression: for a missing value, which data field is
    /// missing and where, with the closest existing name.
    fn explain(&self, p: &JPath, src: &str, e: &minijinja::Error, ctx: &Mj) -> Diagnostic {
        let at = self.at(p);
        if e.kind() == ErrorKind::OutOfFuel {
            return Diagnostic::error(
                at,
                format!(
                    "{} takes too long to evaluate (its work budget ran out)",
                    quote(src)
                ),
            )
            .with_hint("a loop inside the expression runs too many times");
        }
        if e.kind() == ErrorKind::UndefinedError {
            let code = if has_markup(src) {
                code_of(src)
            } else {
                src.to_string()
            };
            let bound = bound_names(&code);
            for chain in identifier_chains(&code) {
                if bound.iter().any(|b| *b == chain[0]) {
                    continue;
                }
                if let Some(d) = self.missing(&at, &chain, ctx) {
                    return d;
                }
            }
        }
        let detail = e
            .detail()
            .map(str::to_string)
            .unwrap_or_else(|| e.kind().to_string());
        Diagnostic::error(at, format!("{detail} in {}", quote(src)))
    }

    /// Follows `chain` through the context; reports the first name that is missing.
    fn missing(&self, at: &str, chain: &[String], ctx: &Mj) -> Option<Diagnostic> {
        let (root, rest) = chain.split_first()?;
        let mut cur = ctx.get_attr(root).ok()?;
        let mut path = if let Some(s) = self.scopes.iter().rev().find(|s| s.name == *root) {
            s.data_path.clone().unwrap_or_else(|| root.clone())
        } else if root == "data" {
            String::new()
        } else {
            format!("/{}", escape_key(root))
        };
        if cur.is_undefined() {
            let names = ctx_names(ctx);
            let mut d = Diagnostic::error(
                at.to_string(),
                format!("data field \"{root}\" is missing (at /)"),
            );
            if let Some(s) = suggest(root, names.iter().map(String::as_str)) {
                d = d.with_hint(format!("did you mean \"{s}\"?"));
            }
            return Some(d);
        }
        for seg in rest {
            let next = match seg.parse::<usize>() {
                Ok(i) if cur.kind() == minijinja::value::ValueKind::Seq => {
                    cur.get_item_by_index(i).ok()?
                }
                _ => cur.get_attr(seg).ok()?,
            };
            if next.is_undefined() {
                let shown = if path.is_empty() { "/" } else { path.as_str() };
                let msg = if cur.kind() == minijinja::value::ValueKind::Map {
                    format!("data field \"{seg}\" is missing at {shown}")
                } else {
                    format!("{shown} is {}, it has no field \"{seg}\"", mj_kind(&cur))
                };
                let mut d = Diagnostic::error(at.to_string(), msg);
                if cur.kind() == minijinja::value::ValueKind::Map {
                    let keys: Vec<String> = cur
                        .try_iter()
                        .map(|it| it.filter_map(|k| k.as_str().map(str::to_string)).collect())
                        .unwrap_or_default();
                    if let Some(s) = suggest(seg, keys.iter().map(String::as_str)) {
                        d = d.with_hint(format!("did you mean \"{s}\"?"));
                    }
                }
                return Some(d);
            }
            path.push('/');
            path.push_str(&escape_key(seg));
            cur = next;
        }
        None
    }
}

fn ctx_names(ctx: &Mj) -> Vec<String> {
    ctx.try_iter()
        .map(|it| it.filter_map(|k| k.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn escape_key(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// The code of a template string: what is inside `{{ }}` and `{% %}`, one region per
/// line.
fn code_of(src: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(i) = rest.find(['{']) {
        let after = &rest[i + 1..];
        let close = match after.as_bytes().first() {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let body = &after[1..];
        let end = body.find(close).unwrap_or(body.len());
        out.push_str(&body[..end]);
        out.push('\n');
        rest = &body[(end + close.len()).min(body.len())..];
    }
    out
}

/// Names a template binds itself (`{% for x, y in … %}`, `{% set x = … %}`).
fn bound_names(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in code.lines() {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
            .filter(|w| !w.is_empty())
            .collect();
        match words.first().copied() {
            Some("for") => names.extend(
                words[1..]
                    .iter()
                    .take_while(|w| **w != "in")
                    .map(|w| w.to_string()),
            ),
            Some("set" | "with") => {
                if let Some(w) = words.get(1) {
                    names.push(w.trim_end_matches('=').to_string());
                }
            }
            Some("macro") => names.extend(words[1..].iter().map(|w| w.to_string())),
            _ => {}
        }
    }
    names
}

/// `a.b[0].c` as segments, when the expression is nothing more than that.
fn simple_path(expr: &str) -> Option<Vec<String>> {
    let chains = identifier_chains(expr);
    let [chain] = chains.as_slice() else {
        return None;
    };
    // The chain must be the whole expression.
    let rebuilt_len: usize = expr.chars().filter(|c| !c.is_whitespace()).count();
    let chain_len: usize = chain
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                s.len()
            } else if s.parse::<usize>().is_ok() {
                s.len() + 2
            } else {
                s.len() + 1
            }
        })
        .sum();
    (rebuilt_len == chain_len).then(|| chain.clone())
}

/// The variable chains an expression reads (`customer.address.city`, `items[0]`),
/// skipping string literals, filter, test and function names, and keywords.
fn identifier_chains(src: &str) -> Vec<Vec<String>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev_sig: u8 = b' ';
    let mut prev_word = String::new();
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            prev_sig = c;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &src[start..i];
            let mut chain = vec![word.to_string()];
            loop {
                if i + 1 < b.len()
                    && b[i] == b'.'
                    && (b[i + 1].is_ascii_alphabetic() || b[i + 1] == b'_')
                {
                    let s = i + 1;
                    i += 1;
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                    chain.push(src[s..i].to_string());
                } else if i < b.len() && b[i] == b'[' {
                    let s = i + 1;
                    let mut j = s;
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    if j > s && j < b.len() && b[j] == b']' {
                        chain.push(src[s..j].to_string());
                        i = j + 1;
                    } else {
                        break;
                    }
                } else {
                    break;
                }
            }
            let mut k = i;
            while k < b.len() && b[k] == b' ' {
                k += 1;
            }
            let is_call = k < b.len() && b[k] == b'(';
            let after_filter_or_test = prev_sig == b'|' || prev_word == "is" || prev_sig == b'.';
            if !is_call && !after_filter_or_test && !KEYWORDS.contains(&word) {
                out.push(chain);
            }
            prev_word = word.to_string();
            prev_sig = b'a';
            continue;
        }
        if !c.is_ascii_whitespace() {
            prev_sig = c;
            prev_word.clear();
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_chains_skip_filters_literals_and_keywords() {
        let chains =
            identifier_chains("customer.name | upper ~ ' x.y ' ~ items[2].sku if not loop.last");
        assert_eq!(
            chains,
            vec![
                vec!["customer".to_string(), "name".to_string()],
                vec!["items".to_string(), "2".to_string(), "sku".to_string()],
            ]
        );
        assert_eq!(
            identifier_chains("x is defined and range(3)"),
            vec![vec!["x".to_string()]]
        );
    }

    #[test]
    fn simple_paths_are_whole_expressions() {
        assert_eq!(
            simple_path("order.lines"),
            Some(vec!["order".to_string(), "lines".to_string()])
        );
        assert_eq!(
            simple_path("items[3]"),
            Some(vec!["items".to_string(), "3".to_string()])
        );
        assert_eq!(simple_path("items | reverse"), None);
        assert_eq!(simple_path("a + b"), None);
    }
}
