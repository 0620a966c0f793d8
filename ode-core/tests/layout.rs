//! Layout behaviour, checked on the frames every exporter draws from.

use std::sync::OnceLock;

use ode_core::frame::{Item, LinkTarget, PagedDocument};
use ode_core::text::FontBook;
use ode_core::{MemoryResources, Resources, Warned};

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

fn page_text(doc: &PagedDocument, page: usize) -> String {
    let mut s = String::new();
    fn walk(items: &[Item], s: &mut String) {
        for i in items {
            match i {
                Item::Text(t) => {
                    s.push_str(&t.text);
                    s.push(' ');
                }
                Item::Group(g) => walk(&g.items, s),
                _ => {}
            }
        }
    }
    walk(&doc.pages[page].items, &mut s);
    s
}

/// The glyph runs of a page, in drawing order.
fn text_items(doc: &PagedDocument, page: usize) -> Vec<ode_core::frame::TextItem> {
    doc.pages[page]
        .items
        .iter()
        .filter_map(|i| {
            if let Item::Text(t) = i {
                Some(t.clone())
            } else {
                None
            }
        })
        .collect()
}

/// Text runs of a page with their baseline y, top to bottom.
fn runs(doc: &PagedDocument, page: usize) -> Vec<(f32, f32, String)> {
    doc.pages[page]
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Text(t) => Some((t.origin.x, t.origin.y, t.text.clone())),
            _ => None,
        })
        .collect()
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

#[test]
fn a_table_taller_than_the_page_repeats_its_header_on_every_page() {
    let rows: Vec<String> = (0..120)
        .map(|i| format!(r#"["row {i}", "{}"]"#, i * 3))
        .collect();
    let json = doc(&format!(
        r#"{{"type": "table", "columns": ["1fr", "1fr"], "header_rows": 1, "rows": [["Name", "Value"], {}]}}"#,
        rows.join(",")
    ));
    let out = compile(&json).output;
    assert!(out.pages.len() >= 3, "{} pages", out.pages.len());
    for p in 0..out.pages.len() {
        let r = runs(&out, p);
        assert_eq!(r[0].2, "Name", "page {p} starts with {:?}", r[0]);
    }
    // No row lost or doubled.
    let all: String = (0..out.pages.len()).map(|p| page_text(&out, p)).collect();
    for i in 0..120 {
        assert_eq!(all.matches(&format!("row {i} ")).count(), 1, "row {i}");
    }
}

#[test]
fn a_cell_taller_than_a_page_splits_across_pages_without_losing_lines() {
    let lines: Vec<String> = (0..150).map(|i| format!("line{i}")).collect();
    let json = doc(&format!(
        r#"{{"type": "table", "columns": ["1fr", "1fr"], "rows": [["short", "{}"]]}}"#,
        lines.join("\\n")
    ));
    let w = compile(&json);
    let out = w.output;
    assert!(out.pages.len() >= 3, "{} pages", out.pages.len());
    let all: String = (0..out.pages.len()).map(|p| page_text(&out, p)).collect();
    for i in 0..150 {
        assert_eq!(
            all.matches(&format!("line{i} ")).count(),
            1,
            "line{i} in {all}"
        );
    }
    // Every page's content stays inside the page.
    for (p, page) in out.pages.iter().enumerate() {
        for item in &page.items {
            let b = item.bounds(fonts());
            assert!(
                b.bottom() <= page.size.height + 0.5 && b.y >= -0.5,
                "page {p}: {b:?}"
            );
        }
    }
}

#[test]
fn a_paragraph_split_by_a_page_leaves_at_least_two_lines_on_each_side() {
    // Fill a page so that only one line of the next paragraph would fit.
    let first = words(600, 1);
    let json = doc(&format!(
        r#"{{"type": "paragraph", "text": "{first}"}}, {{"type": "paragraph", "text": "{}"}}"#,
        words(200, 2)
    ));
    let out = compile(&json).output;
    for p in 0..out.pages.len() {
        let r = runs(&out, p);
        let lines_of_second: Vec<_> = r
            .iter()
            .filter(|(_, _, t)| t.starts_with("gamma") || t.contains("zeta"))
            .collect();
        let _ = lines_of_second;
    }
    // Count lines per page per paragraph via baselines: the second paragraph starts after
    // a gap larger than the line pitch.
    let mut pieces = Vec::new();
    for p in 0..out.pages.len() {
        let ys: Vec<f32> = runs(&out, p).iter().map(|r| r.1).collect();
        let mut count = 1;
        for w in ys.windows(2) {
            if w[1] - w[0] > 14.0 {
                pieces.push(count);
                count = 0;
            }
            count += 1;
        }
        pieces.push(count);
    }
    assert!(
        pieces.iter().all(|n| *n >= 2),
        "a page holds a lone line: {pieces:?}"
    );
}

#[test]
fn a_heading_is_never_the_last_thing_on_a_page() {
    let mut blocks = Vec::new();
    for i in 0..40 {
        blocks.push(format!(
            r#"{{"type": "heading", "level": 2, "text": "Section {i}"}}"#
        ));
        blocks.push(format!(
            r#"{{"type": "paragraph", "text": "{}"}}"#,
            words(40 + i * 3, i)
        ));
    }
    let out = compile(&doc(&blocks.join(","))).output;
    for p in 0..out.pages.len() {
        let r = runs(&out, p);
        let last = &r.last().unwrap().2;
        assert!(
            !last.starts_with("Section"),
            "page {p} ends with heading {last}"
        );
    }
}

#[test]
fn page_x_of_y_is_filled_on_every_page_and_body_fields_too() {
    let paras: Vec<String> = (0..30)
        .map(|i| format!(r#"{{"type": "paragraph", "text": "{}"}}"#, words(80, i)))
        .collect();
    let json = format!(
        r#"{{"ode": 1, "page": {{"size": "A5"}}, "metadata": {{"title": "The Title"}},
            "footer": {{"content": [{{"type": "paragraph", "align": "center", "content": ["Page ", {{"field": "page_number"}}, " of ", {{"field": "page_count"}}]}}]}},
            "content": [{{"type": "paragraph", "content": ["This is ", {{"field": "title"}}, " with ", {{"field": "page_count"}}, " pages"]}}, {}]}}"#,
        paras.join(",")
    );
    let out = compile(&json).output;
    let n = out.pages.len();
    assert!(n >= 5, "{n} pages");
    for p in 0..n {
        let t = page_text(&out, p);
        assert!(
            t.contains(&format!("Page {} of {n}", p + 1)),
            "page {p}: {t}"
        );
    }
    let first: String = page_text(&out, 0)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        first.contains(&format!("This is The Title with {n} pages")),
        "{first}"
    );
}

#[test]
fn a_character_no_font_has_is_reported_with_its_place() {
    let w = compile(&doc(
        r#"{"type": "paragraph", "content": ["ok ", "\u4e2d"]}"#,
    ));
    let msgs: Vec<String> = w.warnings.iter().map(|d| d.to_string()).collect();
    assert!(
        msgs.iter().any(|m| m
            .starts_with("/content/0/content/1: warning: no font has a glyph for '中' (U+4E2D)")),
        "{msgs:?}"
    );
    // Drawn anyway (as the font's missing-glyph box), never dropped.
    assert!(page_text(&w.output, 0).contains('中'));
}

#[test]
fn an_unknown_font_family_falls_back_with_a_warning() {
    let w = compile(&doc(
        r#"{"type": "paragraph", "font": "Helvetica Neue", "text": "x"}"#,
    ));
    assert!(
        w.warnings
            .iter()
            .any(|d| d.message.contains("unknown font family \"Helvetica Neue\"")),
        "{:?}",
        w.warnings
    );
}

#[test]
fn a_missing_image_is_an_error_at_its_src() {
    let err = ode_core::compile(
        &doc(r#"{"type": "paragraph", "text": "x"}, {"type": "image", "src": "nope.png"}"#),
        fonts(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "/content/1/src: image \"nope.png\" not found"
    );
}

fn png(width: u32, height: u32) -> Vec<u8> {
    // A minimal valid PNG: one gray pixel row repeated, stored uncompressed in zlib.
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for b in data {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend(data);
        out.extend(&c);
        out.extend(crc(&c).to_be_bytes());
    }
    let mut raw = Vec::new();
    for _ in 0..height {
        raw.push(0u8);
        raw.extend(std::iter::repeat_n(128u8, width as usize));
    }
    let mut z = vec![0x78, 0x01];
    for (i, block) in raw.chunks(65_535).enumerate() {
        let last = (i + 1) * 65_535 >= raw.len();
        z.push(u8::from(last));
        z.extend((block.len() as u16).to_le_bytes());
        z.extend((!(block.len() as u16)).to_le_bytes());
        z.extend(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for x in &raw {
        a = (a + u32::from(*x)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend(((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn an_image_wider_than_the_page_is_scaled_to_fit_with_a_warning() {
    let mut res = MemoryResources::new(fonts().clone());
    res.insert("big.png", png(3000, 1000));
    let w = ode_core::compile(&doc(r#"{"type": "image", "src": "big.png"}"#), &res).unwrap();
    assert!(
        w.warnings.iter().any(|d| d.message.contains("scaled down")),
        "{:?}",
        w.warnings
    );
    let img = w.output.pages[0]
        .items
        .iter()
        .find_map(|i| {
            if let Item::Image(i) = i {
                Some(i.rect)
            } else {
                None
            }
        })
        .unwrap();
    let page = w.output.pages[0].size;
    assert!(img.right() <= page.width - 36.0 + 0.01, "{img:?}");
    assert!(
        (img.width / img.height - 3.0).abs() < 0.01,
        "ratio kept: {img:?}"
    );
    // And it reaches the PDF.
    let pdf = ode_core::export::pdf(&w.output, res.fonts(), &Default::default()).unwrap();
    assert!(pdf.windows(9).any(|w| w == b"/Subtype ") || pdf.len() > 1000);
}

#[test]
fn a_keep_together_group_moves_whole_to_the_next_page() {
    let filler = words(700, 3);
    let group: Vec<String> = (0..6)
        .map(|i| format!(r#"{{"type": "paragraph", "text": "kept{i}"}}"#))
        .collect();
    let json = doc(&format!(
        r#"{{"type": "paragraph", "text": "{filler}"}}, {{"type": "group", "content": [{}]}}"#,
        group.join(",")
    ));
    let out = compile(&json).output;
    let page_of = |needle: &str| {
        (0..out.pages.len())
            .find(|p| page_text(&out, *p).contains(needle))
            .unwrap()
    };
    let first = page_of("kept0");
    for i in 1..6 {
        assert_eq!(page_of(&format!("kept{i}")), first);
    }
}

#[test]
fn a_page_break_starts_a_new_page() {
    let out = compile(&doc(r#"{"type": "paragraph", "text": "one"}, {"type": "page_break"}, {"type": "paragraph", "text": "two"}"#)).output;
    assert_eq!(out.pages.len(), 2);
    assert!(page_text(&out, 1).starts_with("two"));
}

#[test]
fn justified_lines_reach_the_right_edge_except_the_last() {
    let json = doc(&format!(
        r#"{{"type": "paragraph", "align": "justify", "text": "{}"}}"#,
        words(120, 5)
    ));
    let out = compile(&json).output;
    let right = out.pages[0].size.width - 36.0;
    let lines: Vec<f32> = text_items(&out, 0)
        .iter()
        .map(|t| t.origin.x + t.width())
        .collect();
    assert!(lines.len() > 4);
    for end in &lines[..lines.len() - 1] {
        assert!(
            (end - right).abs() < 0.05,
            "line ends at {end}, edge at {right}"
        );
    }
    assert!(lines[lines.len() - 1] < right - 5.0);
}

#[test]
fn right_and_centered_text_sit_where_they_should() {
    let out = compile(&doc(r#"{"type": "paragraph", "align": "right", "text": "R"}, {"type": "paragraph", "align": "center", "text": "C"}"#)).output;
    let w = out.pages[0].size.width;
    let t: Vec<_> = text_items(&out, 0);
    assert!((t[0].origin.x + t[0].width() - (w - 36.0)).abs() < 0.01);
    assert!((t[1].origin.x + t[1].width() / 2.0 - w / 2.0).abs() < 0.01);
}

#[test]
fn colspan_and_rowspan_cells_cover_the_columns_and_rows_they_span() {
    let json = doc(r#"{"type": "table", "columns": [100, 100, 100], "rows": [
            [{"text": "wide", "colspan": 2}, {"text": "tall", "rowspan": 2}],
            ["a", "b"]
        ]}"#);
    let out = compile(&json).output;
    let rects: Vec<_> = out.pages[0]
        .items
        .iter()
        .filter_map(|i| {
            if let Item::Rect(r) = i {
                r.stroke.map(|_| r.rect)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(rects.len(), 4, "{rects:?}");
    assert!((rects[0].width - 200.0).abs() < 0.01);
    assert!(
        (rects[1].height - (rects[0].height + rects[2].height)).abs() < 0.01,
        "{rects:?}"
    );
}

#[test]
fn a_row_with_more_cells_than_columns_is_an_error() {
    let err = ode_core::compile(
        &doc(r#"{"type": "table", "columns": [100], "rows": [["a", "b"]]}"#),
        fonts(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/content/0/rows/0: row 0 has more cells than the table's 1 columns"),
        "{err}"
    );
}

#[test]
fn links_anchors_and_the_outline_point_at_the_right_pages() {
    let json = doc(&format!(
        r##"{{"type": "heading", "level": 1, "text": "Intro"}},
            {{"type": "paragraph", "content": [{{"text": "see there", "link": "#there"}}, " or ", {{"text": "the web", "link": "https://example.com/x"}}]}},
            {{"type": "page_break"}},
            {{"type": "heading", "level": 2, "text": "There", "anchor": "there"}},
            {{"type": "paragraph", "text": "{}"}}"##,
        words(10, 0)
    ));
    let out = compile(&json).output;
    assert_eq!(out.anchors["there"].page, 1);
    let titles: Vec<_> = out
        .outline
        .iter()
        .map(|e| (e.level, e.title.as_str(), e.location.page))
        .collect();
    assert_eq!(titles, vec![(1, "Intro", 0), (2, "There", 1)]);
    let links: Vec<_> = out.pages[0]
        .items
        .iter()
        .filter_map(|i| {
            if let Item::Link(l) = i {
                Some(l.target.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        links,
        vec![
            LinkTarget::Anchor("there".into()),
            LinkTarget::Url("https://example.com/x".into())
        ]
    );
}

#[test]
fn a_word_longer_than_the_line_is_broken_rather_than_overflowing() {
    let long = "x".repeat(400);
    let out = compile(&doc(&format!(
        r#"{{"type": "paragraph", "text": "{long}"}}"#
    )))
    .output;
    let texts: Vec<_> = text_items(&out, 0);
    assert!(texts.len() > 1);
    assert_eq!(texts.iter().map(|t| t.text.len()).sum::<usize>(), 400);
    for t in &texts {
        assert!(
            t.origin.x + t.width() <= out.pages[0].size.width - 36.0 + 0.01,
            "{} + {} > {}",
            t.origin.x,
            t.width(),
            out.pages[0].size.width - 36.0
        );
    }
}

#[test]
fn ordered_lists_count_from_their_start_and_nest() {
    let out = compile(&doc(
        r#"{"type": "list", "ordered": true, "start": 4, "items": ["a", ["b-text", {"type": "list", "marker": "lower-roman", "items": ["x", "y"]}]]}"#
            .replace("[\"b-text\",", "[{\"type\": \"paragraph\", \"text\": \"b\"},")
            .as_str(),
    ))
    .output;
    let t = page_text(&out, 0);
    for m in ["4. ", "5. ", "i. ", "ii. "] {
        assert!(t.contains(m), "{m:?} in {t:?}");
    }
}

#[test]
fn the_same_input_gives_byte_identical_pdf_and_svg() {
    let json = doc(&format!(
        r#"{{"type": "heading", "level": 1, "text": "Same"}}, {{"type": "paragraph", "text": "{}"}},
           {{"type": "table", "columns": ["auto", "1fr"], "header_rows": 1, "rows": [["a", "b"], ["c", "d"]]}}"#,
        words(300, 4)
    ));
    let a = ode_core::render_pdf(&json, fonts()).unwrap();
    let b = ode_core::render_pdf(&json, fonts()).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        ode_core::render_svg(&json, fonts()).unwrap(),
        ode_core::render_svg(&json, fonts()).unwrap()
    );
}

#[test]
fn an_overlong_spacer_is_shortened_with_a_warning() {
    let w = compile(&doc(
        r#"{"type": "spacer", "height": 5000}, {"type": "paragraph", "text": "after"}"#,
    ));
    assert!(
        w.warnings.iter().any(|d| d
            .to_string()
            .starts_with("/content/0/height: warning: spacer of 5000pt")),
        "{:?}",
        w.warnings
    );
    assert!(w.output.pages.len() <= 2);
}

#[test]
fn a_watermark_and_background_are_drawn_behind_the_content() {
    let json = r##"{"ode": 1, "page": {"background": "#fafafa"}, "watermark": {"text": "DRAFT"}, "content": [{"type": "paragraph", "text": "body"}]}"##;
    let out = compile(json).output;
    let items = &out.pages[0].items;
    assert!(matches!(items[0], Item::Rect(_)));
    assert!(
        matches!(&items[1], Item::Group(g) if matches!(&g.items[0], Item::Text(t) if t.text == "DRAFT"))
    );
}

#[test]
fn a_hyphenated_compound_may_break_after_its_hyphens() {
    let json = doc(&format!(
        r#"{{"type": "paragraph", "text": "{}"}}"#,
        ["state-of-the-art"; 40].join(" ")
    ));
    let out = compile(&json).output;
    let lines: Vec<String> = runs(&out, 0).into_iter().map(|r| r.2).collect();
    assert!(lines.iter().any(|l| l.ends_with('-')), "{lines:?}");
    assert_eq!(
        lines
            .concat()
            .replace(' ', "")
            .matches("state-of-the-art")
            .count(),
        40
    );
}

#[test]
fn a_cell_may_name_its_own_style() {
    let json = doc(
        r##"{"type": "table", "columns": ["1fr"], "rows": [[{"text": "styled", "style": "note"}], ["plain"]]}"##,
    )
    .replace(r#""content""#, r##""styles": {"note": {"color": "#336699", "italic": true}}, "content""##);
    let out = compile(&json).output;
    let texts: Vec<_> = text_items(&out, 0);
    assert_eq!(texts[0].color.to_hex(), "#336699");
    assert!(fonts().face(texts[0].font).italic);
    assert_eq!(texts[1].color.to_hex(), "#000000");
}

#[test]
fn a_number_where_a_cell_belongs_is_refused_with_a_hint() {
    let err = ode_core::model::parse(&doc(
        r#"{"type": "table", "columns": ["1fr"], "rows": [[12.5]]}"#,
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"/content/0/rows/0/0: expected a cell (a string or an object), found a number, write it as a string: "12.5""#
    );
}

#[test]
fn streaming_pages_to_the_pdf_writer_gives_the_same_file_as_laying_out_first() {
    let rows: Vec<String> = (0..200)
        .map(|i| format!(r#"["row {i}", "{}"]"#, words(6, i)))
        .collect();
    let with_count = format!(
        r##"{{"ode": 1, "page": {{"size": "A5"}},
            "footer": {{"content": [{{"type": "paragraph", "content": [{{"field": "page_number"}}, " / ", {{"field": "page_count"}}]}}]}},
            "content": [{{"type": "paragraph", "content": [{{"text": "to the end", "link": "#end"}}]}},
              {{"type": "table", "columns": ["1fr", "2fr"], "header_rows": 1, "rows": [["A", "B"], {}]}},
              {{"type": "heading", "level": 1, "text": "End", "anchor": "end"}}]}}"##,
        rows.join(",")
    );
    let without = doc(&format!(
        r#"{{"type": "paragraph", "text": "{}"}}"#,
        words(2500, 1)
    ));
    for json in [with_count, without] {
        let parsed = ode_core::model::parse(&json).unwrap();
        let laid = ode_core::layout::layout(&parsed, fonts(), &Default::default())
            .unwrap()
            .output;
        let whole = ode_core::export::pdf(&laid, fonts(), &Default::default()).unwrap();
        let streamed =
            ode_core::pdf_document(&parsed, fonts(), &Default::default(), &Default::default())
                .unwrap();
        assert!(laid.pages.len() > 2);
        assert_eq!(streamed.output.page_count, laid.pages.len());
        assert!(whole == streamed.output.bytes, "streamed PDF differs");
    }
}

#[test]
fn every_missing_image_is_reported_not_only_the_first() {
    let err = ode_core::compile(&doc(r#"{"type": "image", "src": "a.png"}, {"type": "paragraph", "text": "x"}, {"type": "image", "src": "b.png"}"#), fonts())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(r#"/content/0/src: image "a.png" not found"#)
            && err.contains(r#"/content/2/src: image "b.png" not found"#),
        "{err}"
    );
}

#[test]
fn anchors_and_headings_inside_table_cells_are_found() {
    let json = doc(
        r##"{"type": "paragraph", "content": [{"text": "to the cell", "link": "#cell"}]}, {"type": "page_break"},
            {"type": "table", "columns": ["1fr"], "rows": [[{"content": [{"type": "heading", "level": 3, "text": "In a cell", "anchor": "cell"}]}]]}"##,
    );
    let out = compile(&json).output;
    assert_eq!(out.anchors["cell"].page, 1);
    assert_eq!(
        out.outline
            .iter()
            .map(|e| (e.title.as_str(), e.location.page))
            .collect::<Vec<_>>(),
        vec![("In a cell", 1)]
    );
}

#[test]
fn keep_with_next_holds_an_image_to_its_caption() {
    let mut res = MemoryResources::new(fonts().clone());
    res.insert("pic.png", png(400, 200));
    // With about 350 words before it, the image fits at the bottom of the first page but
    // its caption does not: without the property they part.
    let pages = |keep: bool, filler: usize| {
        let json = doc(&format!(
            r#"{{"type": "paragraph", "text": "{}"}}, {{"type": "image", "src": "pic.png", "width": 200, "keep_with_next": {keep}}}, {{"type": "paragraph", "text": "Caption"}}"#,
            words(filler, 0)
        ));
        let out = ode_core::compile(&json, &res).unwrap().output;
        let image = out
            .pages
            .iter()
            .position(|p| p.items.iter().any(|i| matches!(i, Item::Image(_))))
            .unwrap();
        let caption = (0..out.pages.len())
            .find(|p| page_text(&out, *p).contains("Caption"))
            .unwrap();
        (image, caption)
    };
    let parted: Vec<usize> = (340..370)
        .filter(|n| pages(false, *n).0 != pages(false, *n).1)
        .collect();
    assert!(!parted.is_empty(), "no case puts the image last on a page");
    for n in parted {
        let (image, caption) = pages(true, n);
        assert_eq!(image, caption, "with {n} filler words");
    }
}

#[test]
fn right_to_left_words_lay_out_without_a_panic_and_keep_their_text() {
    // Found by the structured fuzzer: right-to-left runs list glyphs in visual order,
    // which broke the mapping from glyphs to text.
    let hebrew = "שלום\u{a0}עולם זה טקסט בעברית שצריך לשבור על פני כמה שורות";
    let json = doc(&format!(
        r#"{{"type": "paragraph", "align": "justify", "text": "{hebrew} {hebrew}"}},
           {{"type": "table", "columns": [40], "rows": [["בעבריתבעבריתבעבריתבעברית"]]}}"#
    ));
    let out = compile(&json).output;
    let text = out.text();
    for word in hebrew.split([' ', '\u{a0}']) {
        assert!(text.contains(word), "{word} in {text}");
    }
}

#[test]
fn lists_nested_past_the_width_stop_indenting_instead_of_setting_one_letter_per_line() {
    // Found by the structured fuzzer: twenty nested lists in a narrow cell made a few
    // kilobytes of text into hundreds of pages.
    let mut list = format!(r#"{{"type": "list", "items": ["{}"]}}"#, words(200, 3));
    for _ in 0..20 {
        list = format!(r#"{{"type": "list", "items": [[{list}]]}}"#);
    }
    let json = doc(&format!(
        r#"{{"type": "table", "columns": [120, "1fr"], "rows": [[{{"content": [{list}]}}, "x"]]}}"#
    ));
    let w = compile(&json);
    assert!(
        w.warnings
            .iter()
            .any(|d| d.message.contains("list nested too deep for its width")),
        "{:?}",
        w.warnings
    );
    assert!(w.output.pages.len() <= 12, "{} pages", w.output.pages.len());
    for page in &w.output.pages {
        for item in &page.items {
            assert!(item.bounds(fonts()).x >= -0.01);
        }
    }
}

#[test]
fn a_font_book_without_faces_is_an_error_not_a_panic() {
    let empty = FontBook::new();
    let err = ode_core::compile(
        r#"{"ode": 1, "content": [{"type": "paragraph", "text": "Hello"}]}"#,
        &empty,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "/: no fonts are available to set the text, add a font (or build with the embed-fonts feature)"
    );
}

#[test]
fn the_guard_stops_a_layout_between_blocks_and_pages() {
    let rows: Vec<serde_json::Value> = (0..5000)
        .map(|i| serde_json::json!([format!("row {i}")]))
        .collect();
    let doc = ode_core::model::from_value(&serde_json::json!({"ode": 1, "content": [
        {"type": "table", "columns": ["1fr"], "rows": rows}
    ]}))
    .unwrap();
    let pages = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = pages.clone();
    let options = ode_core::layout::LayoutOptions {
        guard: ode_core::Guard::new(move || {
            if seen.load(std::sync::atomic::Ordering::Relaxed) >= 3 {
                Err("the render took longer than its budget".into())
            } else {
                Ok(())
            }
        }),
        ..Default::default()
    };
    let mut handed = 0;
    let e = ode_core::layout::layout_pages(&doc, fonts(), &options, &mut |_, _, _| {
        handed += 1;
        pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap_err();
    assert_eq!(e.to_string(), "/: the render took longer than its budget");
    assert_eq!(handed, 3, "no page after the guard said stop");
}
