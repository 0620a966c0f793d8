//! Cross-references, tables of contents, footnotes and absolutely placed blocks,
//! checked on the frames every exporter draws from.

use std::sync::OnceLock;

use ode_core::frame::{Item, LinkTarget, PagedDocument, TextItem};
use ode_core::text::FontBook;
use ode_core::{Diagnostics, Warned};

fn fonts() -> &'static FontBook {
    static BOOK: OnceLock<FontBook> = OnceLock::new();
    BOOK.get_or_init(FontBook::with_defaults)
}

fn compile(json: &str) -> Warned<PagedDocument> {
    match ode_core::compile(json, fonts()) {
        Ok(w) => w,
        Err(d) => panic!("unexpected errors:\n{d}"),
    }
}

fn errors(json: &str) -> Diagnostics {
    match ode_core::compile(json, fonts()) {
        Ok(_) => panic!("expected errors"),
        Err(d) => d,
    }
}

fn texts(doc: &PagedDocument, page: usize) -> Vec<TextItem> {
    fn walk(items: &[Item], out: &mut Vec<TextItem>) {
        for i in items {
            match i {
                Item::Text(t) => out.push(t.clone()),
                Item::Group(g) => walk(&g.items, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&doc.pages[page].items, &mut out);
    out
}

fn page_text(doc: &PagedDocument, page: usize) -> String {
    texts(doc, page)
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(n: usize, seed: usize) -> String {
    const W: [&str; 12] = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
        "lambda", "mu",
    ];
    (0..n)
        .map(|i| W[(i * 7 + seed) % W.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

fn doc(content: &str) -> String {
    format!(r#"{{"ode": 1, "page": {{"size": "A5", "margins": 36}}, "content": [{content}]}}"#)
}

fn paragraphs(n: usize, len: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!(r#"{{"type": "paragraph", "text": "{}"}}"#, words(len, i)))
        .collect()
}

/// The page (from 0) holding a text run equal to `text`.
fn page_of_text(doc: &PagedDocument, text: &str) -> Option<usize> {
    (0..doc.pages.len()).find(|&p| texts(doc, p).iter().any(|t| t.text == text))
}

#[test]
fn page_of_shows_the_page_of_its_anchor_and_links_there() {
    let mut blocks = vec![
        r##"{"type": "paragraph", "content": ["The results are on page ", {"field": "page_of", "anchor": "results"}, "."]}"##.to_string(),
    ];
    blocks.extend(paragraphs(30, 60));
    blocks
        .push(r#"{"type": "heading", "level": 2, "text": "Results", "anchor": "results"}"#.into());
    blocks.extend(paragraphs(3, 20));
    let out = compile(&doc(&blocks.join(","))).output;
    let target = out.anchors["results"].page;
    assert!(
        target >= 2,
        "the anchor should be a few pages on, found page {target}"
    );
    assert_eq!(page_of_text(&out, "Results"), Some(target));
    let first = page_text(&out, 0);
    assert!(
        first.contains(&format!("{}", target + 1)),
        "page 1 says {first:?}, the anchor is on page {}",
        target + 1
    );
    let number = texts(&out, 0)
        .into_iter()
        .find(|t| t.text == (target + 1).to_string())
        .expect("the number is a run of its own");
    // The number is a link to the anchor.
    let link = out.pages[0]
        .items
        .iter()
        .find_map(|i| match i {
            Item::Link(l) if l.target == LinkTarget::Anchor("results".into()) => Some(l.rect),
            _ => None,
        })
        .expect("a link to the anchor");
    assert!(
        link.x <= number.origin.x + 0.01 && link.right() >= number.origin.x + number.width() - 0.01
    );
}

#[test]
fn page_of_counts_two_digit_pages_and_restarted_sections() {
    // The reference comes first and the anchor lands past page 9: the number's width is
    // only known after a counting pass.
    let mut blocks = vec![
        r##"{"type": "paragraph", "content": ["See page ", {"field": "page_of", "anchor": "far"}, " and page ", {"field": "page_of", "anchor": "appendix"}, "."]}"##.to_string(),
    ];
    blocks.extend(paragraphs(120, 60));
    blocks.push(r#"{"type": "paragraph", "text": "Far away.", "anchor": "far"}"#.into());
    let section = format!(
        r#"{{"type": "section", "restart_page_numbers": true, "content": [{}, {{"type": "paragraph", "text": "Appendix text.", "anchor": "appendix"}}]}}"#,
        paragraphs(20, 60).join(",")
    );
    blocks.push(section);
    let out = compile(&doc(&blocks.join(","))).output;
    let far = out.anchors["far"].page + 1;
    assert!(far >= 10, "the anchor should be past page 9, found {far}");
    let appendix_page = out.anchors["appendix"].page;
    // The section starts on the page after "Far away."; its pages count from 1.
    let far_page = page_of_text(&out, "Far away.").expect("far text");
    let shown_appendix = appendix_page - (far_page + 1) + 1;
    let runs = texts(&out, 0);
    let first: String = runs
        .iter()
        .filter(|t| t.origin.y == runs[0].origin.y)
        .map(|t| t.text.as_str())
        .collect();
    assert!(
        first.contains(&format!("See page {far} and page {shown_appendix}.")),
        "page 1 says {first:?}; far is on page {far}, the appendix on its section's page {shown_appendix}"
    );
}

#[test]
fn an_unknown_or_missing_anchor_is_an_error_with_its_path() {
    let d = errors(&doc(
        r#"{"type": "paragraph", "anchor": "results", "content": [{"field": "page_of", "anchor": "result"}]}"#,
    ));
    let s = d.to_string();
    assert!(s.contains("/content/0/content/0/anchor"), "{s}");
    assert!(s.contains("unknown anchor \"result\""), "{s}");
    assert!(s.contains("did you mean \"results\""), "{s}");
    let d = errors(&doc(
        r#"{"type": "paragraph", "content": [{"field": "page_of"}]}"#,
    ));
    assert!(
        d.to_string()
            .contains("/content/0/content/0: a page_of field needs an \"anchor\""),
        "{d}"
    );
    let d = errors(&doc(
        r#"{"type": "paragraph", "anchor": "a", "content": [{"field": "page_number", "anchor": "a"}]}"#,
    ));
    assert!(d.to_string().contains("/content/0/content/0/anchor"), "{d}");
}

/// The entries of a table of contents: (title, number shown) in drawing order, read
/// from the runs of `pages`: a title run, then (after the leader dots) the number.
fn toc_entries(
    out: &PagedDocument,
    pages: std::ops::Range<usize>,
    titles: &[String],
) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    for p in pages {
        let runs = texts(out, p);
        for (i, t) in runs.iter().enumerate() {
            if !titles.contains(&t.text) {
                continue;
            }
            let number = runs[i + 1..]
                .iter()
                .find(|r| {
                    (r.origin.y - t.origin.y).abs() < 0.1
                        && r.text.chars().all(|c| c.is_ascii_digit())
                })
                .unwrap_or_else(|| panic!("no number after {:?}", t.text));
            found.push((t.text.clone(), number.text.parse().unwrap()));
        }
    }
    found
}

#[test]
fn a_two_page_table_of_contents_shows_the_pages_its_headings_land_on() {
    let mut blocks = vec![
        r#"{"type": "toc", "title": "Contents", "levels": 3}"#.to_string(),
        r#"{"type": "page_break"}"#.to_string(),
    ];
    let mut titles = Vec::new();
    for c in 1..=6 {
        let t = format!("Chapter {c}");
        blocks.push(format!(
            r#"{{"type": "heading", "level": 1, "text": "{t}"}}"#
        ));
        titles.push(t);
        for s in 1..=5 {
            let t = format!("Section {c}.{s}");
            blocks.push(format!(
                r#"{{"type": "heading", "level": 2, "text": "{t}"}}"#
            ));
            titles.push(t);
            blocks.extend(paragraphs(1, 60 + 20 * s));
            if s % 2 == 0 {
                let t = format!("Part {c}.{s}.1");
                blocks.push(format!(
                    r#"{{"type": "heading", "level": 3, "text": "{t}"}}"#
                ));
                titles.push(t);
                blocks.extend(paragraphs(1, 30));
            }
            // Not listed: below the table's levels.
            blocks.push(r#"{"type": "heading", "level": 4, "text": "Deep"}"#.into());
        }
    }
    let out = compile(&doc(&blocks.join(","))).output;
    // The table takes two pages (the headings start on the third).
    let first_heading = out.outline.iter().find(|e| e.title == "Chapter 1").unwrap();
    assert_eq!(
        first_heading.location.page, 2,
        "the contents should fill two pages"
    );
    let entries = toc_entries(&out, 0..2, &titles);
    assert_eq!(entries.len(), titles.len(), "one entry per listed heading");
    assert!(entries.iter().all(|(t, _)| t != "Deep"));
    for ((title, shown), expected) in entries.iter().zip(&titles) {
        assert_eq!(title, expected, "entries are in document order");
        let e = out.outline.iter().find(|e| &e.title == title).unwrap();
        assert_eq!(
            *shown,
            e.location.page + 1,
            "{title} is on page {}",
            e.location.page + 1
        );
        assert!(e.location.page >= 2);
        assert!(
            texts(&out, e.location.page)
                .iter()
                .any(|t| &t.text == title)
        );
    }
    assert!(entries.last().unwrap().1 > 9, "numbers reach two digits");
    // Every entry links to where its heading is.
    let mut links = 0;
    for p in 0..2 {
        for item in &out.pages[p].items {
            if let Item::Link(l) = item
                && let LinkTarget::Anchor(name) = &l.target
            {
                let loc = out.anchors.get(name).expect("the target exists");
                assert!(loc.page >= 2);
                links += 1;
            }
        }
    }
    assert!(links >= titles.len());
    // Deeper entries are indented; numbers are flush right, dots lead to them.
    let runs = texts(&out, 0);
    let x_of = |t: &str| runs.iter().find(|r| r.text == t).unwrap().origin.x;
    assert!(x_of("Section 1.1") > x_of("Chapter 1"));
    assert!(x_of("Part 1.2.1") > x_of("Section 1.1"));
    let right = |r: &TextItem| r.origin.x + r.width();
    let numbers: Vec<f32> = runs
        .iter()
        .filter(|r| r.text.chars().all(|c| c.is_ascii_digit()))
        .map(right)
        .collect();
    assert!(
        numbers.windows(2).all(|w| (w[0] - w[1]).abs() < 0.05),
        "{numbers:?}"
    );
    assert!(runs.iter().any(|r| r.text.starts_with("....")));
}

#[test]
fn a_toc_in_a_table_cell_or_list_item_is_an_error() {
    let d = errors(&doc(
        r#"{"type": "table", "columns": ["1fr"], "rows": [[{"content": [{"type": "toc"}]}]]}"#,
    ));
    let s = d.to_string();
    assert!(
        s.contains(
            "/content/0/rows/0/0/content/0/type: a table of contents cannot be inside a table cell"
        ),
        "{s}"
    );
    let d = errors(&doc(
        r#"{"type": "list", "items": [[{"type": "toc", "levels": 9}]]}"#,
    ));
    let s = d.to_string();
    assert!(
        s.contains("/content/0/items/0/0/type: a table of contents cannot be inside a list item"),
        "{s}"
    );
    assert!(s.contains("/content/0/items/0/0/levels"), "{s}");
}

/// Superscript reference numbers of a page's body, and the labels of its notes.
fn notes_on(out: &PagedDocument, page: usize) -> (Vec<String>, Vec<String>) {
    let runs = texts(out, page);
    let refs = runs
        .iter()
        .filter(|t| (t.size - 7.0).abs() < 0.01 && t.text.chars().all(|c| c.is_ascii_digit()))
        .map(|t| t.text.clone())
        .collect();
    let labels = runs
        .iter()
        .filter(|t| (t.size - 8.0).abs() < 0.01 && t.text.chars().all(|c| c.is_ascii_digit()))
        .map(|t| t.text.clone())
        .collect();
    (refs, labels)
}

#[test]
fn footnotes_sit_at_the_bottom_of_the_page_of_their_reference() {
    let mut blocks = Vec::new();
    for i in 0..40 {
        blocks.push(format!(
            r#"{{"type": "paragraph", "content": ["{}", {{"footnote": "Note {} says {}."}}, " {}"]}}"#,
            words(25, i),
            i + 1,
            words(6 + (i % 5) * 8, i + 3),
            words(20, i + 1)
        ));
    }
    let json = format!(
        r#"{{"ode": 1, "page": {{"size": "A5", "margins": 36}},
            "footer": {{"content": [{{"type": "paragraph", "text": "FOOTER"}}]}},
            "content": [{}]}}"#,
        blocks.join(",")
    );
    let out = compile(&json).output;
    assert!(out.pages.len() >= 4);
    let mut all = Vec::new();
    for p in 0..out.pages.len() {
        let (refs, labels) = notes_on(&out, p);
        assert_eq!(refs, labels, "page {}: references and notes differ", p + 1);
        all.extend(refs);
        let runs = texts(&out, p);
        // The notes are below the body and above the footer; a short rule separates them.
        let rule = out.pages[p].items.iter().find_map(|i| match i {
            Item::Line(l) if (l.from.y - l.to.y).abs() < 0.01 && l.to.x - l.from.x < 150.0 => {
                Some(l.from.y)
            }
            _ => None,
        });
        let body_bottom = runs
            .iter()
            .filter(|t| t.size == 10.0 || (t.size - 7.0).abs() < 0.01)
            .map(|t| t.origin.y)
            .fold(0.0, f32::max);
        let footer = runs.iter().find(|t| t.text == "FOOTER").unwrap().origin.y;
        if let Some(rule) = rule {
            assert!(
                body_bottom < rule,
                "page {}: body text below the rule",
                p + 1
            );
            for t in runs.iter().filter(|t| (t.size - 8.0).abs() < 0.01) {
                assert!(
                    t.origin.y > rule && t.origin.y < footer,
                    "page {}: note at {}",
                    p + 1,
                    t.origin.y
                );
                assert!(t.origin.y <= 595.0 - 36.0 + 0.01, "note in the margin");
            }
        }
    }
    let expected: Vec<String> = (1..=40).map(|n| n.to_string()).collect();
    assert_eq!(
        all, expected,
        "notes are numbered through the document, once each"
    );
}

#[test]
fn a_note_too_long_for_the_page_continues_on_the_next() {
    let mut blocks = paragraphs(4, 40);
    blocks.push(format!(
        r#"{{"type": "paragraph", "content": ["Reference here", {{"footnote": "{}"}}, " and more text."]}}"#,
        words(900, 1)
    ));
    blocks.extend(paragraphs(12, 40));
    let out = compile(&doc(&blocks.join(","))).output;
    let p = page_of_text(&out, "Reference here").expect("the reference");
    let (refs, labels) = notes_on(&out, p);
    assert_eq!(refs, vec!["1"]);
    assert_eq!(labels, vec!["1"]);
    // The note's last words are on a later page, in its footnote area.
    let tail = words(900, 1);
    let last_word = tail.split(' ').next_back().unwrap();
    let later: Vec<usize> = (p + 1..out.pages.len())
        .filter(|&q| {
            texts(&out, q)
                .iter()
                .any(|t| (t.size - 8.0).abs() < 0.01 && t.text.contains(last_word))
        })
        .collect();
    assert!(!later.is_empty(), "the note continues after page {}", p + 1);
    // No note text is lost or repeated: the note's words, in order, across the pages.
    let mut note_words = Vec::new();
    for q in p..out.pages.len() {
        for t in texts(&out, q)
            .iter()
            .filter(|t| (t.size - 8.0).abs() < 0.01)
        {
            note_words.extend(t.text.split_whitespace().map(str::to_string));
        }
    }
    let note_words: Vec<String> = note_words.into_iter().filter(|w| w != "1").collect();
    assert_eq!(note_words.join(" "), tail);
}

#[test]
fn the_line_with_a_reference_moves_on_when_its_note_does_not_fit() {
    // Space fills the page down to `h`, then one line references a note of several
    // lines: once the line fits but the note does not, the line moves to the next page.
    let note = words(60, 2);
    let mut moved = Vec::new();
    for h in (430..=510).step_by(5) {
        let json = doc(&format!(
            r#"{{"type": "spacer", "height": {h}}},
               {{"type": "paragraph", "content": ["Marked line", {{"footnote": "{note}"}}]}},
               {}"#,
            paragraphs(2, 12).join(",")
        ));
        let out = compile(&json).output;
        let p = page_of_text(&out, "Marked line").expect("the reference");
        let (refs, labels) = notes_on(&out, p);
        assert_eq!(refs, labels, "spacer {h}");
        let runs = texts(&out, p);
        let rule = out.pages[p].items.iter().find_map(|i| match i {
            Item::Line(l) => Some(l.from.y),
            _ => None,
        });
        let body = runs
            .iter()
            .filter(|t| t.size == 10.0)
            .map(|t| t.origin.y)
            .fold(0.0, f32::max);
        assert!(
            rule.is_some_and(|r| body < r),
            "spacer {h}: body text below the rule"
        );
        let line_bottom = 36.0 + h as f32 + 12.5;
        if p == 1 {
            moved.push(h);
            assert!(line_bottom <= 595.0 - 36.0 + 0.01 || h > 500, "spacer {h}");
        }
    }
    // The line alone fits up to a spacer of about 510pt; with its note (three lines
    // and the separator) only up to about 470pt.
    assert!(!moved.is_empty() && moved[0] <= 480, "moved at {moved:?}");
    assert!(moved.contains(&500), "{moved:?}");
}

#[test]
fn a_footnote_in_a_footnote_or_a_header_is_an_error() {
    let d = errors(&doc(
        r#"{"type": "paragraph", "content": [{"footnote": ["a", {"footnote": "b"}]}]}"#,
    ));
    assert!(
        d.to_string()
            .contains("/content/0/content/0/footnote/1: a footnote cannot contain a footnote"),
        "{d}"
    );
    let d = errors(
        r#"{"ode": 1, "header": {"content": [{"type": "paragraph", "content": [{"footnote": "x"}]}]}, "content": []}"#,
    );
    assert!(
        d.to_string()
            .contains("/header/content/0/content/0: a footnote cannot be in a header or footer"),
        "{d}"
    );
    let d = errors(&doc(
        r#"{"type": "paragraph", "content": [{"footnote": 3}]}"#,
    ));
    assert!(
        d.to_string().contains("/content/0/content/0/footnote"),
        "{d}"
    );
}

#[test]
fn an_absolute_block_is_drawn_where_it_says_and_takes_no_room() {
    let body = paragraphs(3, 30).join(",");
    let plain = compile(&doc(&body)).output;
    let with = compile(&doc(&format!(
        r#"{{"type": "absolute", "x": "100mm", "y": "10mm", "width": "40mm", "content": [{{"type": "paragraph", "text": "CORNER", "align": "right"}}]}}, {body}"#
    )))
    .output;
    let corner = texts(&with, 0)
        .into_iter()
        .find(|t| t.text == "CORNER")
        .unwrap();
    let mm = 72.0 / 25.4;
    assert!(corner.origin.y > 10.0 * mm && corner.origin.y < 10.0 * mm + 12.0);
    let right = corner.origin.x + corner.width();
    assert!(
        (right - 140.0 * mm).abs() < 0.5,
        "right-aligned in its 40mm box: {right}"
    );
    // The flow is the same as without it.
    let a: Vec<(f32, String)> = texts(&plain, 0)
        .into_iter()
        .map(|t| (t.origin.y, t.text))
        .collect();
    let b: Vec<(f32, String)> = texts(&with, 0)
        .into_iter()
        .filter(|t| t.text != "CORNER")
        .map(|t| (t.origin.y, t.text))
        .collect();
    assert_eq!(a, b);
    let d = errors(&doc(
        r#"{"type": "table", "columns": ["1fr"], "rows": [[{"content": [{"type": "absolute", "x": 0, "y": 0, "content": []}]}]]}"#,
    ));
    assert!(
        d.to_string().contains(
            "/content/0/rows/0/0/content/0/type: an absolute block cannot be inside a table cell"
        ),
        "{d}"
    );
}

#[test]
fn the_handbook_example_has_true_contents_notes_and_cross_references() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/handbook.json");
    let json = std::fs::read_to_string(path).unwrap();
    let Warned {
        output: out,
        warnings,
    } = compile(&json);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(out.pages.len() >= 6, "{} pages", out.pages.len());
    // Contents: each listed heading's number is the page it is on.
    let titles: Vec<String> = out
        .outline
        .iter()
        .filter(|e| e.level <= 2)
        .map(|e| e.title.clone())
        .collect();
    let toc_pages = 0..out.outline[0].location.page;
    let entries = toc_entries(&out, toc_pages, &titles);
    assert_eq!(entries.len(), titles.len());
    for ((title, shown), e) in entries
        .iter()
        .zip(out.outline.iter().filter(|e| e.level <= 2))
    {
        assert_eq!(title, &e.title);
        assert_eq!(*shown, e.location.page + 1, "{title}");
    }
    // Footnotes: every page's references have their notes, numbered in order.
    let mut all = Vec::new();
    for p in 0..out.pages.len() {
        let (refs, labels) = notes_on(&out, p);
        let refs_set: Vec<&String> = refs.iter().collect();
        // A note continued from the previous page has no label here.
        assert!(
            labels.iter().all(|l| refs_set.contains(&l)),
            "page {}",
            p + 1
        );
        assert_eq!(refs.len(), labels.len(), "page {}", p + 1);
        all.extend(refs);
    }
    let n = all.len();
    assert!(n >= 10, "{n} notes");
    assert_eq!(all, (1..=n).map(|i| i.to_string()).collect::<Vec<_>>());
    // Cross-references on the title page name the pages of their anchors.
    let first: String = texts(&out, 0).iter().map(|t| t.text.as_str()).collect();
    let production = out.anchors["production"].page + 1;
    let glossary = out.anchors["glossary"].page + 1;
    assert!(
        first.contains(&format!(
            "starts on page {production}; the glossary is on page {glossary}."
        )),
        "{first}"
    );
}

#[test]
fn contents_and_notes_are_tagged_as_toc_and_note_and_pass_pdf_ua() {
    use ode_core::export::PdfOptions;
    use ode_core::layout::LayoutOptions;
    use ode_core::model::PdfStandard;
    let json = r#"{"ode": 1, "metadata": {"title": "Tags", "language": "en"},
      "content": [
        {"type": "toc", "title": "Contents"},
        {"type": "heading", "level": 1, "text": "Alpha chapter"},
        {"type": "paragraph", "content": ["Bravo text", {"footnote": "Charlie note."}, " after."]},
        {"type": "heading", "level": 2, "text": "Delta section"}
      ]}"#;
    let doc = ode_core::model::parse(json).unwrap();
    let res = ode_core::MemoryResources::new(fonts().clone());
    let options = PdfOptions {
        standards: vec![PdfStandard::Ua1],
        ..PdfOptions::default()
    };
    let pdf = ode_core::pdf_document(&doc, &res, &LayoutOptions::default(), &options)
        .unwrap_or_else(|d| panic!("PDF/UA-1 fails: {d}"))
        .output
        .bytes;
    let dir = std::env::temp_dir().join(format!("ode-references-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tags.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdfinfo")
        .arg("-struct-text")
        .arg(&path)
        .output()
        .expect("pdfinfo is needed (scripts/test.sh installs poppler-utils)");
    let tree = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = tree.lines().map(str::trim).collect();
    let at = |p: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(p))
            .unwrap_or_else(|| panic!("no {p} in\n{tree}"))
    };
    assert!(at("TOC") < at("TOCI"));
    assert!(tree.contains("Alpha chapter") && tree.contains("Delta section"));
    assert!(at("TOCI") < at("H1"));
    let note = at("Note");
    assert!(
        lines[note..].iter().any(|l| l.contains("Charlie note.")),
        "{tree}"
    );
}

#[test]
fn columns_flow_down_then_across_then_on_and_balance_at_the_end() {
    let paras: Vec<String> = (0..14)
        .map(|i| {
            format!(
                r#"{{"type": "paragraph", "text": "P{i}start {} P{i}end"}}"#,
                words(40, i)
            )
        })
        .collect();
    let json = doc(&format!(
        r#"{{"type": "paragraph", "text": "Intro above the columns."}},
           {{"type": "columns", "count": 2, "gap": "8mm", "content": [{}]}},
           {{"type": "paragraph", "text": "After the columns."}}"#,
        paras.join(",")
    ));
    let out = compile(&json).output;
    assert!(out.pages.len() >= 2, "{} pages", out.pages.len());
    let mm = 72.0 / 25.4;
    let width = 148.0 * mm - 72.0;
    let col_w = (width - 8.0 * mm) / 2.0;
    let right_x = 36.0 + col_w + 8.0 * mm;
    // Every paragraph is there once, in reading order: column 1, column 2, next page.
    let mut seen = Vec::new();
    for p in 0..out.pages.len() {
        for t in texts(&out, p) {
            for w in t.text.split_whitespace() {
                if w.starts_with('P') && (w.ends_with("start") || w.ends_with("end")) {
                    seen.push(w.to_string());
                }
            }
        }
    }
    let expected: Vec<String> = (0..14)
        .flat_map(|i| [format!("P{i}start"), format!("P{i}end")])
        .collect();
    assert_eq!(seen, expected);
    // Page 1: the columns start under the intro; both columns are used.
    let first = texts(&out, 0);
    let intro_y = first
        .iter()
        .find(|t| t.text.starts_with("Intro"))
        .unwrap()
        .origin
        .y;
    assert!(
        first
            .iter()
            .filter(|t| !t.text.starts_with("Intro"))
            .all(|t| t.origin.y > intro_y)
    );
    assert!(first.iter().any(|t| (t.origin.x - right_x).abs() < 0.1));
    let xs = |p: usize| -> Vec<f32> { texts(&out, p).iter().map(|t| t.origin.x).collect() };
    assert!(
        xs(0)
            .iter()
            .all(|x| *x < 36.0 + col_w || *x >= right_x - 0.1)
    );
    // The last page: the columns end at about the same height, and the next
    // paragraph comes below both.
    let last = out.pages.len() - 1;
    let runs = texts(&out, last);
    let after = runs
        .iter()
        .find(|t| t.text == "After the columns.")
        .unwrap();
    let bottom = |left: bool| {
        runs.iter()
            .filter(|t| t.text != "After the columns." && ((t.origin.x < right_x - 0.1) == left))
            .map(|t| t.origin.y)
            .fold(0.0, f32::max)
    };
    let (l, r) = (bottom(true), bottom(false));
    assert!(r > 0.0, "the right column is used on the last page");
    assert!(
        (l - r).abs() <= 12.5 + 6.0 + 0.1,
        "balanced: left ends at {l}, right at {r}"
    );
    assert!(after.origin.y > l.max(r));
}

#[test]
fn a_column_count_out_of_range_is_an_error() {
    let d = errors(&doc(r#"{"type": "columns", "count": 5, "content": []}"#));
    assert!(d.to_string().contains("/content/0/count"), "{d}");
    let d = errors(&doc(
        r#"{"type": "columns", "count": 2, "content": [{"type": "toc"}]}"#,
    ));
    assert!(
        d.to_string()
            .contains("/content/0/content/0/type: a table of contents cannot be inside columns"),
        "{d}"
    );
}

#[test]
fn headings_in_columns_are_listed_and_notes_in_columns_and_absolute_blocks_are_set() {
    let json = doc(r#"{"type": "toc"},
           {"type": "absolute", "x": 200, "y": 10, "content": [
             {"type": "paragraph", "content": ["Stamp", {"footnote": "Absolute note."}]}]},
           {"type": "columns", "count": 3, "content": [
             {"type": "heading", "level": 2, "text": "Inside columns"},
             {"type": "paragraph", "content": ["Column text", {"footnote": "Column note."}, " more."]},
             {"type": "paragraph", "content": ["See page ", {"field": "page_of", "anchor": "end"}]}
           ]},
           {"type": "page_break"},
           {"type": "paragraph", "text": "The end.", "anchor": "end"}"#);
    let out = compile(&json).output;
    let runs = texts(&out, 0);
    let all: String = runs
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("|");
    assert!(all.contains("Inside columns|1|"), "{all}");
    assert!(all.contains("See page |2"), "{all}");
    let (refs, labels) = notes_on(&out, 0);
    assert_eq!(refs, vec!["1", "2"]);
    assert_eq!(labels, vec!["1", "2"]);
    assert!(all.contains("Absolute note.") && all.contains("Column note."));
}

#[test]
fn a_float_goes_to_the_top_of_its_page_or_the_next_and_text_fills_the_gap() {
    let figure = |label: &str, h: u32| {
        format!(
            r#"{{"type": "float", "space_after": 10, "content": [
                 {{"type": "spacer", "height": {h}}},
                 {{"type": "paragraph", "text": "{label}"}}]}}"#
        )
    };
    let mut blocks = paragraphs(3, 30);
    blocks.push(figure("FIG-A", 100));
    blocks.extend(paragraphs(3, 30));
    blocks.push(figure("FIG-B", 300));
    blocks.push(r#"{"type": "paragraph", "text": "AFTERB comes after the second float."}"#.into());
    blocks.extend(paragraphs(12, 30));
    let out = compile(&doc(&blocks.join(","))).output;
    let y_of = |p: usize, text: &str| {
        texts(&out, p)
            .into_iter()
            .find(|t| t.text == text)
            .map(|t| t.origin.y)
    };
    // FIG-A fits on page 1: it goes to the top, above the text that came before it.
    let a = y_of(0, "FIG-A").expect("FIG-A on page 1");
    let first_text = texts(&out, 0)
        .into_iter()
        .filter(|t| t.text != "FIG-A")
        .map(|t| t.origin.y)
        .fold(f32::MAX, f32::min);
    assert!(
        a < first_text,
        "the float is above the text: {a} vs {first_text}"
    );
    assert!(a > 36.0 + 100.0 && a < 36.0 + 100.0 + 15.0);
    // FIG-B does not fit on what is left of page 1: it opens page 2, and the text after
    // it fills page 1 first.
    assert_eq!(y_of(0, "FIG-B"), None);
    let b = y_of(1, "FIG-B").expect("FIG-B on page 2");
    assert!(b > 36.0 + 300.0 && b < 36.0 + 300.0 + 15.0);
    assert!(
        texts(&out, 0).iter().any(|t| t.text.starts_with("AFTERB")),
        "the paragraph after FIG-B starts on page 1"
    );
    let d = errors(&doc(
        r#"{"type": "float", "content": [{"type": "paragraph", "content": ["x", {"footnote": "n"}]}]}"#,
    ));
    assert!(
        d.to_string()
            .contains("/content/0/content/0/content/1: a footnote cannot be in a float"),
        "{d}"
    );
    let d = errors(&doc(
        r#"{"type": "list", "items": [[{"type": "float", "content": []}]]}"#,
    ));
    assert!(
        d.to_string()
            .contains("a float cannot be inside a list item"),
        "{d}"
    );
}

#[test]
fn an_absolute_block_off_the_page_is_reported() {
    let w = compile(&doc(
        r#"{"type": "absolute", "x": "20cm", "y": 10, "content": [{"type": "paragraph", "text": "lost"}]}"#,
    ));
    let s = w
        .warnings
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(s.contains("/content/0: warning: the absolute block at 566.9pt, 10pt starts outside the 419.5pt × 595.3pt page"), "{s}");
}
