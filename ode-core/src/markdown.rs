//! Markdown into the ODE model.
//!
//! CommonMark with the usual extensions (tables, task lists, strikethrough,
//! footnotes, heading anchors and `{#id}` attributes, smart punctuation) is read by
//! pulldown-cmark and turned into an ODE document (as JSON), which is then decoded and
//! rendered like any other. YAML front matter between `---` lines sets the metadata
//! (`title`, `author`, `subject`, `keywords`, `language`, `date`) and may hold any of
//! the document's top-level fields (`page`, `styles`, `header`, `footer`, …).
//!
//! Images keep their path as the asset key: the caller's [`Resources`](crate::Resources)
//! resolve it (the CLI reads it relative to the Markdown file). Footnotes become the
//! model's footnotes, at the bottom of the page that refers to them. Raw HTML has no
//! meaning in a PDF: it is left out with a warning (`<br>` becomes a line break).

use std::collections::{BTreeMap, BTreeSet};

use pulldown_cmark::{
    Alignment, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd,
};
use serde_json::{Map, Value, json};

use crate::diag::{Diagnostic, Diagnostics, Severity, Span, Warned, suggest};

/// Front matter keys that become metadata.
const META_KEYS: &[&str] = &["title", "author", "subject", "keywords", "language", "date"];
/// Front matter keys copied to the document as they are.
const DOC_KEYS: &[&str] = &[
    "metadata",
    "page",
    "styles",
    "header",
    "footer",
    "watermark",
    "fonts",
    "pdf",
];

/// Converts Markdown text into an ODE document.
///
/// # Errors
/// A front matter that is not valid YAML, or holds unknown keys, with their lines.
pub fn to_document(text: &str) -> Result<Warned<Value>, Diagnostics> {
    let (front, body, body_line) = split_front_matter(text);
    let mut doc = Map::new();
    doc.insert("ode".into(), 1.into());
    let mut warnings = Vec::new();
    let mut title_block = Vec::new();
    if let Some((yaml, first_line)) = front {
        front_matter(yaml, first_line, &mut doc, &mut title_block)?;
    }
    let mut c = Conv::new(body, body_line);
    c.run();
    let mut content = title_block;
    content.append(&mut c.finish());
    warnings.append(&mut c.warnings);
    doc.insert("content".into(), Value::Array(content));
    Ok(Warned {
        output: Value::Object(doc),
        warnings,
    })
}

/// The front matter (YAML and the line it starts on), the body, and the body's first
/// line.
fn split_front_matter(text: &str) -> (Option<(&str, usize)>, &str, usize) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text, 1);
    };
    // Front matter starts with a `key:` line; anything else after `---` is Markdown
    // (a thematic break or a setext heading underline).
    let first = rest.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let key_len = first
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(first.len());
    if key_len == 0 || !first[key_len..].trim_start().starts_with(':') {
        return (None, text, 1);
    }
    let mut offset = 0;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        let l = line.trim_end_matches(['\n', '\r']);
        if l == "---" || l == "..." {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return (Some((yaml, 2)), body, i + 3);
        }
        offset += line.len();
    }
    // No closing line: not front matter.
    (None, text, 1)
}

fn front_matter(
    yaml: &str,
    first_line: usize,
    doc: &mut Map<String, Value>,
    title_block: &mut Vec<Value>,
) -> Result<(), Diagnostics> {
    let at_line = |line: usize, msg: String| Diagnostic {
        severity: Severity::Error,
        span: Span {
            path: String::new(),
            line: Some(line),
            column: Some(1),
        },
        message: msg,
        hints: vec![],
    };
    let value: Value = if yaml.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_yaml_ng::from_str(yaml).map_err(|e| {
            let line = e
                .location()
                .map_or(first_line, |l| first_line + l.line() - 1);
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            Diagnostics(vec![at_line(line, format!("invalid front matter: {msg}"))])
        })?
    };
    let Value::Object(fm) = value else {
        return Err(Diagnostics(vec![at_line(
            first_line,
            "the front matter must be a mapping of keys to values".into(),
        )]));
    };
    let line_of = |key: &str| {
        yaml.lines()
            .position(|l| l.starts_with(key) && l[key.len()..].trim_start().starts_with(':'))
            .map_or(first_line, |i| first_line + i)
    };
    let mut errors = Vec::new();
    let mut meta = Map::new();
    for (k, v) in fm {
        if META_KEYS.contains(&k.as_str()) {
            let v = match (k.as_str(), v) {
                ("keywords", Value::Array(words)) => Value::Array(
                    words
                        .into_iter()
                        .map(|w| match w {
                            Value::String(s) => Value::String(s),
                            other => Value::String(other.to_string()),
                        })
                        .collect(),
                ),
                (_, Value::String(s)) => Value::String(s),
                (_, Value::Number(n)) => Value::String(n.to_string()),
                (_, other) => {
                    errors.push(at_line(
                        line_of(&k),
                        format!("front matter \"{k}\" must be text, found {}", kind(&other)),
                    ));
                    continue;
                }
            };
            meta.insert(k, v);
        } else if k == "lang" {
            meta.insert("language".into(), v);
        } else if DOC_KEYS.contains(&k.as_str()) {
            doc.insert(k, v);
        } else {
            let mut d = at_line(line_of(&k), format!("unknown front matter key \"{k}\""));
            let known = META_KEYS.iter().chain(DOC_KEYS).copied();
            d = match suggest(&k, known.clone()) {
                Some(s) => d.with_hint(format!("did you mean \"{s}\"?")),
                None => d.with_hint(format!("one of {}", known.collect::<Vec<_>>().join(", "))),
            };
            errors.push(d);
        }
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    if let Some(Value::String(w)) = meta.get("keywords") {
        let words: Vec<Value> = w
            .split(',')
            .map(|k| Value::String(k.trim().to_string()))
            .filter(|k| k.as_str().is_some_and(|k| !k.is_empty()))
            .collect();
        meta.insert("keywords".into(), Value::Array(words));
    }
    let date = meta.remove("date");
    if let Some(Value::String(t)) = meta.get("title") {
        title_block.push(
            json!({"type": "heading", "level": 1, "style": "title", "text": t, "outline": false}),
        );
        let byline: Vec<&str> = [meta.get("author"), date.as_ref()]
            .into_iter()
            .filter_map(|v| v.and_then(Value::as_str))
            .collect();
        if !byline.is_empty() {
            title_block.push(json!({"type": "paragraph", "color": "#555555", "space_after": 14, "text": byline.join(" · ")}));
        }
    }
    // A date that is a calendar date is also the PDF's creation date.
    if let Some(Value::String(d)) = &date {
        let b = d.as_bytes();
        let iso = b.len() >= 10
            && b[..10].iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if iso {
            meta.insert("created".into(), Value::String(d.clone()));
        }
    }
    // Explicit `metadata` in the front matter wins over the shorthand keys.
    if !meta.is_empty() {
        let entry = doc
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = entry {
            for (k, v) in meta {
                m.entry(k).or_insert(v);
            }
        }
    }
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A container of blocks being built.
enum Frame {
    Root(Vec<Value>),
    Quote(Vec<Value>),
    List {
        start: Option<u64>,
        items: Vec<Value>,
    },
    Item {
        blocks: Vec<Value>,
        task: Option<bool>,
    },
    Footnote {
        label: String,
        blocks: Vec<Value>,
    },
    Table {
        aligns: Vec<Alignment>,
        rows: Vec<Value>,
        header: usize,
    },
    Row(Vec<Value>),
}

/// The inline run being collected and where it goes.
#[derive(Clone, Copy, PartialEq)]
enum InlineKind {
    Paragraph,
    Heading(u8),
    Cell,
    /// Text of an item in a tight list (no paragraph events).
    Loose,
}

#[derive(Default, Clone)]
struct Marks {
    bold: u32,
    italic: u32,
    strike: u32,
    link: Vec<String>,
}

struct Conv<'a> {
    src: &'a str,
    first_line: usize,
    stack: Vec<Frame>,
    inline: Vec<Value>,
    inline_kind: Option<InlineKind>,
    heading_id: Option<String>,
    marks: Marks,
    /// Collecting an image's alt text: (destination, alt).
    image: Option<(String, String)>,
    code: Option<(String, String)>,
    footnote_numbers: BTreeMap<String, usize>,
    footnotes: BTreeMap<String, Vec<Value>>,
    /// Where each footnote is defined.
    footnote_lines: BTreeMap<String, usize>,
    anchors: BTreeSet<String>,
    links: Vec<(String, usize)>,
    warnings: Vec<Diagnostic>,
    html_warned: bool,
    line: usize,
    /// For each quote, list and item open: whether it has a frame of its own (those
    /// past [`MAX_CONTAINERS`] do not: their content joins the deepest one).
    containers: Vec<bool>,
    /// How many of `containers` have a frame of their own.
    framed: usize,
}

/// Quotes, lists and items nested deeper than this are flattened into the deepest one
/// (with a warning): each makes a level of nested blocks, which the model bounds.
const MAX_CONTAINERS: usize = 24;

impl<'a> Conv<'a> {
    fn new(src: &'a str, first_line: usize) -> Self {
        Conv {
            src,
            first_line,
            stack: vec![Frame::Root(Vec::new())],
            inline: Vec::new(),
            inline_kind: None,
            heading_id: None,
            marks: Marks::default(),
            image: None,
            code: None,
            footnote_numbers: BTreeMap::new(),
            footnotes: BTreeMap::new(),
            footnote_lines: BTreeMap::new(),
            anchors: BTreeSet::new(),
            links: Vec::new(),
            warnings: Vec::new(),
            html_warned: false,
            line: first_line,
            containers: Vec::new(),
            framed: 0,
        }
    }

    /// A quote, list or item starts: whether it gets a frame of its own.
    fn open_container(&mut self) -> bool {
        let own = self.framed < MAX_CONTAINERS;
        if !own && self.containers.len() == self.framed {
            self.warn(format!(
                "quotes and lists are nested more than {MAX_CONTAINERS} deep here; the deeper \
                 ones are shown at that depth"
            ));
        }
        self.containers.push(own);
        self.framed += usize::from(own);
        own
    }

    /// A quote, list or item ends: whether it had a frame of its own.
    fn close_container(&mut self) -> bool {
        let own = self.containers.pop().unwrap_or(true);
        self.framed -= usize::from(own && self.framed > 0);
        own
    }

    fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(Diagnostic {
            severity: Severity::Warning,
            span: Span {
                path: String::new(),
                line: Some(self.line),
                column: Some(1),
            },
            message: msg.into(),
            hints: vec![],
        });
    }

    fn run(&mut self) {
        let opts = Options::ENABLE_TABLES
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_HEADING_ATTRIBUTES
            | Options::ENABLE_SMART_PUNCTUATION;
        let src = self.src;
        // Where each line ends: an event's line is a binary search away, whatever order
        // the events' offsets come in (counting from the start each time was quadratic).
        let newlines: Vec<usize> = src
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        for (event, range) in Parser::new_ext(src, opts).into_offset_iter() {
            let start = range.start.min(src.len());
            self.line = self.first_line + newlines.partition_point(|&n| n < start);
            self.event(event);
        }
    }

    /// The blocks of the innermost block container.
    fn blocks(&mut self) -> &mut Vec<Value> {
        for f in self.stack.iter_mut().rev() {
            match f {
                Frame::Root(b)
                | Frame::Quote(b)
                | Frame::Item { blocks: b, .. }
                | Frame::Footnote { blocks: b, .. } => return b,
                _ => {}
            }
        }
        unreachable!("the root frame is never popped")
    }

    fn push_block(&mut self, b: Value) {
        self.blocks().push(b);
    }

    fn text(&mut self, t: &str) {
        if let Some((_, alt)) = &mut self.image {
            alt.push_str(t);
            return;
        }
        if let Some((_, code)) = &mut self.code {
            code.push_str(t);
            return;
        }
        if self.inline_kind.is_none() {
            // Text of a tight list item.
            self.inline_kind = Some(InlineKind::Loose);
        }
        let m = &self.marks;
        if m.bold == 0 && m.italic == 0 && m.strike == 0 && m.link.is_empty() {
            if let Some(Value::String(prev)) = self.inline.last_mut() {
                prev.push_str(t);
            } else {
                self.inline.push(Value::String(t.to_string()));
            }
            return;
        }
        let mut span = Map::new();
        span.insert("text".into(), t.into());
        if m.bold > 0 {
            span.insert("bold".into(), true.into());
        }
        if m.italic > 0 {
            span.insert("italic".into(), true.into());
        }
        if m.strike > 0 {
            span.insert("strike".into(), true.into());
        }
        if let Some(l) = m.link.last() {
            span.insert("link".into(), l.clone().into());
            span.insert("color".into(), "#1d4ed8".into());
            span.insert("underline".into(), true.into());
        }
        self.inline.push(Value::Object(span));
    }

    fn inline_span(&mut self, mut span: Map<String, Value>) {
        if self.inline_kind.is_none() {
            self.inline_kind = Some(InlineKind::Loose);
        }
        if self.marks.bold > 0 {
            span.insert("bold".into(), true.into());
        }
        if self.marks.italic > 0 {
            span.insert("italic".into(), true.into());
        }
        if let Some(l) = self.marks.link.last() {
            span.entry("link").or_insert_with(|| l.clone().into());
        }
        self.inline.push(Value::Object(span));
    }

    /// Ends the inline run, giving its content (None when empty).
    fn take_inline(&mut self) -> Option<Vec<Value>> {
        self.inline_kind = None;
        let mut content = std::mem::take(&mut self.inline);
        // Trim a trailing line break or space.
        if let Some(Value::String(s)) = content.last_mut() {
            let t = s.trim_end().len();
            s.truncate(t);
            if s.is_empty() {
                content.pop();
            }
        }
        let empty = content.iter().all(|v| match v {
            Value::String(s) => s.trim().is_empty(),
            _ => false,
        });
        (!empty).then_some(content)
    }

    fn paragraph_from(content: Vec<Value>) -> Value {
        match content.as_slice() {
            [Value::String(s)] => json!({"type": "paragraph", "text": s}),
            _ => json!({"type": "paragraph", "content": content}),
        }
    }

    /// Flushes a tight list item's text as a paragraph before a nested block.
    fn flush_loose(&mut self) {
        if self.inline_kind == Some(InlineKind::Loose)
            && let Some(c) = self.take_inline()
        {
            let c = self.with_task(c);
            self.push_block(Self::paragraph_from(c));
        }
    }

    /// Puts a task list item's box before its first text.
    fn with_task(&mut self, mut content: Vec<Value>) -> Vec<Value> {
        if let Some(Frame::Item { task, .. }) = self.stack.last_mut()
            && let Some(done) = task.take()
        {
            let mark = if done { "☑ " } else { "☐ " };
            match content.first_mut() {
                Some(Value::String(s)) => s.insert_str(0, mark),
                _ => content.insert(0, Value::String(mark.into())),
            }
        }
        content
    }

    fn event(&mut self, event: Event<'a>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(&t),
            Event::Code(t) => {
                if let Some((_, alt)) = &mut self.image {
                    alt.push_str(&t);
                    return;
                }
                let mut span = Map::new();
                span.insert("text".into(), t.to_string().into());
                span.insert("code".into(), true.into());
                self.inline_span(span);
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.text("\n"),
            Event::Rule => {
                self.flush_loose();
                self.push_block(json!({"type": "rule", "space_before": 6, "space_after": 10}));
            }
            Event::TaskListMarker(done) => {
                if let Some(Frame::Item { task, .. }) = self.stack.last_mut() {
                    *task = Some(done);
                }
            }
            Event::FootnoteReference(label) => {
                // A placeholder, replaced by the note's text once every definition
                // (which may come later in the file) has been read.
                self.footnote_number(&label);
                if self.inline_kind.is_none() {
                    self.inline_kind = Some(InlineKind::Loose);
                }
                self.inline.push(json!({FOOTNOTE_REF: label.to_string()}));
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                let tag = h.trim().to_ascii_lowercase();
                if matches!(tag.as_str(), "<br>" | "<br/>" | "<br />") {
                    self.text("\n");
                } else if !self.html_warned {
                    self.html_warned = true;
                    self.warn("raw HTML is left out of the PDF (this warning is given once)");
                }
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t),
        }
    }

    fn footnote_number(&mut self, label: &str) -> usize {
        let next = self.footnote_numbers.len() + 1;
        *self
            .footnote_numbers
            .entry(label.to_string())
            .or_insert(next)
    }

    fn start(&mut self, tag: Tag<'a>) {
        match tag {
            Tag::Paragraph => {
                self.flush_loose();
                self.inline_kind = Some(InlineKind::Paragraph);
            }
            Tag::Heading { level, id, .. } => {
                self.flush_loose();
                self.inline_kind = Some(InlineKind::Heading(heading_level(level)));
                self.heading_id = id.map(|i| i.to_string());
            }
            Tag::BlockQuote(_) => {
                self.flush_loose();
                if self.open_container() {
                    self.stack.push(Frame::Quote(Vec::new()));
                }
            }
            Tag::CodeBlock(kind) => {
                self.flush_loose();
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => l.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new()));
            }
            Tag::List(start) => {
                self.flush_loose();
                if self.open_container() {
                    self.stack.push(Frame::List {
                        start,
                        items: Vec::new(),
                    });
                }
            }
            Tag::Item if self.open_container() => self.stack.push(Frame::Item {
                blocks: Vec::new(),
                task: None,
            }),
            Tag::Item => {}
            Tag::FootnoteDefinition(label) => {
                self.flush_loose();
                self.footnote_lines.insert(label.to_string(), self.line);
                self.stack.push(Frame::Footnote {
                    label: label.to_string(),
                    blocks: Vec::new(),
                });
            }
            Tag::Table(aligns) => {
                self.flush_loose();
                self.stack.push(Frame::Table {
                    aligns,
                    rows: Vec::new(),
                    header: 0,
                });
            }
            Tag::TableHead | Tag::TableRow => self.stack.push(Frame::Row(Vec::new())),
            Tag::TableCell => self.inline_kind = Some(InlineKind::Cell),
            Tag::Emphasis => self.marks.italic += 1,
            Tag::Strong => self.marks.bold += 1,
            Tag::Strikethrough => self.marks.strike += 1,
            Tag::Link { dest_url, .. } => {
                let dest = link_target(&dest_url);
                if dest.starts_with('#') {
                    self.links.push((dest.clone(), self.line));
                }
                self.marks.link.push(dest);
            }
            Tag::Image { dest_url, .. } => {
                self.image = Some((dest_url.to_string(), String::new()));
            }
            Tag::HtmlBlock => {}
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                if let Some(c) = self.take_inline() {
                    let c = self.with_task(c);
                    self.push_block(Self::paragraph_from(c));
                }
            }
            TagEnd::Heading(level) => {
                let level = heading_level(level);
                let content = self.take_inline().unwrap_or_default();
                let plain = plain_text(&content);
                let id = match self.heading_id.take() {
                    Some(id) => id,
                    None => slug(&plain),
                };
                let mut id = if id.is_empty() { "section".into() } else { id };
                if self.anchors.contains(&id) {
                    let base = id.clone();
                    let mut n = 1;
                    while self.anchors.contains(&id) {
                        id = format!("{base}-{n}");
                        n += 1;
                    }
                }
                self.anchors.insert(id.clone());
                let mut h = json!({"type": "heading", "level": level, "anchor": id});
                match content.as_slice() {
                    [Value::String(s)] => h["text"] = s.clone().into(),
                    [] => h["text"] = "".into(),
                    _ => h["content"] = Value::Array(content),
                }
                self.push_block(h);
            }
            TagEnd::BlockQuote(_) => {
                self.flush_loose();
                if !self.close_container() {
                    return;
                }
                if let Some(Frame::Quote(blocks)) = self.stack.pop() {
                    let depth = self
                        .stack
                        .iter()
                        .filter(|f| matches!(f, Frame::Quote(_)))
                        .count()
                        + 1;
                    if !blocks.is_empty() {
                        let mut group = json!({
                            "type": "group", "keep_together": false,
                            "left_indent": 14 * depth, "color": "#4b5563"
                        });
                        // Moved in, not serialized again (json! would copy the tree).
                        group["content"] = Value::Array(blocks);
                        self.push_block(group);
                    }
                }
            }
            TagEnd::CodeBlock => {
                if let Some((_, code)) = self.code.take() {
                    self.push_block(code_block(&code));
                }
            }
            TagEnd::List(ordered) => {
                self.flush_loose();
                if !self.close_container() {
                    return;
                }
                if let Some(Frame::List { start, items }) = self.stack.pop() {
                    let mut l = json!({"type": "list", "ordered": ordered});
                    l["items"] = Value::Array(items);
                    if let Some(s) = start
                        && s != 1
                    {
                        l["start"] = s.min(1_000_000).into();
                    }
                    self.push_block(l);
                }
            }
            TagEnd::Item => {
                self.flush_loose();
                if !self.close_container() {
                    return;
                }
                if let Some(Frame::Item { blocks, .. }) = self.stack.pop() {
                    let item = match blocks.as_slice() {
                        [b] if b.get("text").is_some()
                            && b.get("type") == Some(&"paragraph".into()) =>
                        {
                            b["text"].clone()
                        }
                        [] => Value::String(String::new()),
                        _ => Value::Array(blocks),
                    };
                    if let Some(Frame::List { items, .. }) = self.stack.last_mut() {
                        items.push(item);
                    }
                }
            }
            TagEnd::FootnoteDefinition => {
                self.flush_loose();
                if let Some(Frame::Footnote { label, blocks }) = self.stack.pop() {
                    self.footnotes.insert(label, blocks);
                }
            }
            TagEnd::TableCell => {
                let content = self.take_inline().unwrap_or_default();
                let col = match self.stack.last() {
                    Some(Frame::Row(cells)) => cells.len(),
                    _ => 0,
                };
                let align = self.stack.iter().rev().find_map(|f| match f {
                    Frame::Table { aligns, .. } => aligns.get(col).copied(),
                    _ => None,
                });
                let mut cell = match content.as_slice() {
                    [Value::String(s)] => json!({"text": s}),
                    [] => json!({"text": ""}),
                    _ => json!({"content": [{"type": "paragraph", "content": content}]}),
                };
                match align {
                    Some(Alignment::Right) => cell["align"] = "right".into(),
                    Some(Alignment::Center) => cell["align"] = "center".into(),
                    _ => {}
                }
                if let Some(Frame::Row(cells)) = self.stack.last_mut() {
                    cells.push(cell);
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                let is_head = tag == TagEnd::TableHead;
                if let Some(Frame::Row(cells)) = self.stack.pop()
                    && let Some(Frame::Table { rows, header, .. }) = self.stack.last_mut()
                {
                    rows.push(Value::Array(cells));
                    if is_head {
                        *header += 1;
                    }
                }
            }
            TagEnd::Table => {
                if let Some(Frame::Table {
                    aligns,
                    rows,
                    header,
                }) = self.stack.pop()
                {
                    let columns: Vec<Value> = aligns.iter().map(|_| "auto".into()).collect();
                    if !columns.is_empty() {
                        let mut t = json!({
                            "type": "table", "columns": columns, "rows": rows,
                            "border": {"width": 0.5, "color": "#d1d5db"},
                            "padding": {"top": 3, "bottom": 3, "left": 5, "right": 5}
                        });
                        if header > 0 {
                            t["header_rows"] = header.into();
                            t["header_background"] = "#f3f4f6".into();
                        }
                        self.push_block(t);
                    }
                }
            }
            TagEnd::Emphasis => self.marks.italic = self.marks.italic.saturating_sub(1),
            TagEnd::Strong => self.marks.bold = self.marks.bold.saturating_sub(1),
            TagEnd::Strikethrough => self.marks.strike = self.marks.strike.saturating_sub(1),
            TagEnd::Link => {
                self.marks.link.pop();
            }
            TagEnd::Image => {
                if let Some((dest, alt)) = self.image.take() {
                    self.image_event(dest, alt);
                }
            }
            _ => {}
        }
    }

    fn image_event(&mut self, dest: String, alt: String) {
        let remote = dest.contains("://") || dest.starts_with("data:");
        let block_level = matches!(
            self.inline_kind,
            Some(InlineKind::Paragraph | InlineKind::Loose) | None
        );
        if remote || !block_level || dest.is_empty() {
            if remote {
                self.warn(format!(
                    "the image \"{dest}\" is not a local file; its description is shown instead"
                ));
            }
            let shown = if alt.is_empty() { dest } else { alt };
            let mut span = Map::new();
            span.insert("text".into(), shown.into());
            span.insert("italic".into(), true.into());
            self.inline_span(span);
            return;
        }
        // An image in a paragraph splits it: text before, the image, text after.
        let kind = self.inline_kind;
        if let Some(c) = self.take_inline() {
            let c = self.with_task(c);
            self.push_block(Self::paragraph_from(c));
        }
        let mut img = json!({"type": "image", "src": dest});
        if !alt.is_empty() {
            img["alt"] = alt.into();
        }
        self.push_block(img);
        self.inline_kind = kind;
    }

    /// The blocks, with footnotes in place and links to missing anchors unlinked.
    fn finish(&mut self) -> Vec<Value> {
        self.flush_loose();
        while self.stack.len() > 1 {
            // Unclosed containers cannot happen with pulldown-cmark's balanced events;
            // keep their content if they do.
            if let Some(f) = self.stack.pop() {
                let blocks = match f {
                    Frame::Quote(b) | Frame::Item { blocks: b, .. } => b,
                    Frame::Footnote { blocks: b, .. } => b,
                    _ => Vec::new(),
                };
                self.blocks().extend(blocks);
            }
        }
        let mut blocks = match self.stack.pop() {
            Some(Frame::Root(b)) => b,
            _ => Vec::new(),
        };
        // Footnotes go where they are referenced; the model numbers them and sets them
        // at the bottom of the page.
        let mut notes: BTreeMap<String, Value> = BTreeMap::new();
        for (label, body) in std::mem::take(&mut self.footnotes) {
            let mut inline = Vec::new();
            for (i, b) in body.iter().enumerate() {
                if i > 0 {
                    inline.push(Value::String("\n".into()));
                }
                match (b.get("text"), b.get("content")) {
                    (Some(Value::String(t)), _) => inline.push(Value::String(t.clone())),
                    (_, Some(Value::Array(c))) if b.get("type") == Some(&"paragraph".into()) => {
                        inline.extend(c.iter().cloned());
                    }
                    _ => inline.push(Value::String(plain_of(b))),
                }
            }
            // A note cannot hold a note.
            inline.retain(|v| v.get(FOOTNOTE_REF).is_none());
            notes.insert(label, Value::Array(inline));
        }
        for b in &mut blocks {
            place_notes(b, &notes);
        }
        for label in notes.keys() {
            if !self.footnote_numbers.contains_key(label) {
                self.line = self.footnote_lines.get(label).copied().unwrap_or(self.line);
                self.warn(format!(
                    "the footnote [^{label}] is never referenced; it is left out"
                ));
            }
        }
        // A link to an anchor no heading has would be an error in the model: keep the
        // text, drop the link, and say so.
        let missing: Vec<(String, usize)> = self
            .links
            .iter()
            .filter(|(l, _)| !self.anchors.contains(&l[1..]))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let gone: BTreeSet<&str> = missing.iter().map(|(l, _)| l.as_str()).collect();
            for b in &mut blocks {
                unlink(b, &gone);
            }
            for (l, line) in &missing {
                self.line = *line;
                self.warn(format!(
                    "the link to \"{l}\" leads nowhere: no heading has that anchor"
                ));
            }
        }
        blocks
    }
}

/// The key of a footnote reference's placeholder.
const FOOTNOTE_REF: &str = "$footnote_ref";

/// Replaces footnote placeholders with footnotes.
fn place_notes(v: &mut Value, notes: &BTreeMap<String, Value>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(label)) = o.get(FOOTNOTE_REF) {
                let note = notes
                    .get(label)
                    .cloned()
                    .unwrap_or_else(|| Value::String(format!("[^{label}]")));
                *v = json!({"footnote": note});
                return;
            }
            for (_, c) in o.iter_mut() {
                place_notes(c, notes);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| place_notes(c, notes)),
        _ => {}
    }
}

/// All the text in a converted block, for a note made of something else than a
/// paragraph.
fn plain_of(v: &Value) -> String {
    let mut out = String::new();
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => out.push_str(s),
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            Value::Object(o) => {
                for key in ["text", "content", "items", "rows", "cells"] {
                    if let Some(c) = o.get(key) {
                        if !out.is_empty() && !out.ends_with(['\n', ' ']) {
                            out.push(' ');
                        }
                        walk(c, out);
                    }
                }
            }
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

fn unlink(v: &mut Value, gone: &BTreeSet<&str>) {
    match v {
        Value::Object(o) => {
            if o.get("link")
                .and_then(Value::as_str)
                .is_some_and(|l| gone.contains(l))
            {
                o.remove("link");
                o.remove("underline");
                o.remove("color");
            }
            for (_, c) in o.iter_mut() {
                unlink(c, gone);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| unlink(c, gone)),
        _ => {}
    }
}

fn heading_level(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn link_target(dest: &CowStr) -> String {
    let d = dest.trim();
    if let Some(anchor) = d.strip_prefix('#') {
        return format!("#{anchor}");
    }
    if d.is_empty() {
        return "#".into();
    }
    d.to_string()
}

fn plain_text(content: &[Value]) -> String {
    content
        .iter()
        .map(|v| match v {
            Value::String(s) => s.as_str(),
            Value::Object(o) => o.get("text").and_then(Value::as_str).unwrap_or(""),
            _ => "",
        })
        .collect()
}

/// A heading's anchor as GitHub makes it: lowercase, punctuation dropped, spaces as
/// hyphens.
pub fn slug(text: &str) -> String {
    text.trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().next().unwrap_or(c))
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// A code block: monospace text on a tinted background, spaces kept.
fn code_block(code: &str) -> Value {
    let code = code.strip_suffix('\n').unwrap_or(code);
    let text: String = code
        .replace('\t', "    ")
        .chars()
        .map(|c| if c == ' ' { '\u{a0}' } else { c })
        .collect();
    let text = if text.is_empty() {
        "\u{a0}".to_string()
    } else {
        text
    };
    json!({
        "type": "table", "columns": ["1fr"],
        "border": {"lines": "none"},
        "padding": {"top": 5, "bottom": 5, "left": 7, "right": 7},
        "rows": [[{"background": "#f3f4f6", "content": [
            {"type": "paragraph", "font": "monospace", "size": 8.5, "line_height": 1.3, "space_after": 0, "text": text}
        ]}]]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_github() {
        assert_eq!(slug("Hello, World!"), "hello-world");
        assert_eq!(slug("Ünïcode café"), "ünïcode-café");
        assert_eq!(slug("a_b-c"), "a_b-c");
    }

    #[test]
    fn front_matter_needs_a_closing_line() {
        let (fm, body, line) = split_front_matter("---\ntitle: x\n---\n# Hi\n");
        assert_eq!(fm, Some(("title: x\n", 2)));
        assert_eq!(body, "# Hi\n");
        assert_eq!(line, 4);
        let (fm, body, _) = split_front_matter("---\nnot closed\n");
        assert!(fm.is_none());
        assert_eq!(body, "---\nnot closed\n");
    }
}
