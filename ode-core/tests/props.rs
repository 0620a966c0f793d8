//! Property tests over generated documents: rendering is deterministic, nothing is
//! placed outside its page, and page breaks never lose or duplicate content.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Value, json};

use ode_core::frame::Item;
use ode_core::text::FontBook;

fn fonts() -> &'static FontBook {
    static BOOK: OnceLock<FontBook> = OnceLock::new();
    BOOK.get_or_init(FontBook::with_defaults)
}

/// Body words: each is counted exactly.
const WORDS: &[&str] = &[
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliett",
    "kilo",
    "lima",
    "Ωμέγα",
    "Привет",
    "naïve",
    "Zürich",
    "12.50",
    "(note)",
];
/// Header-cell words, which repeat on every page a table crosses.
const HEAD: &[&str] = &["HDRA", "HDRB", "HDRC"];

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 1..max).prop_map(|w| w.join(" "))
}

fn block() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (text(60), prop::sample::select(&["left", "right", "center", "justify"][..]))
            .prop_map(|(t, a)| json!({"type": "paragraph", "align": a, "text": t})),
        2 => (1u8..=6, text(8)).prop_map(|(l, t)| json!({"type": "heading", "level": l, "text": t})),
        1 => (any::<bool>(), prop::collection::vec(text(12), 1..8))
            .prop_map(|(o, items)| json!({"type": "list", "ordered": o, "items": items})),
        2 => (1usize..4, prop::collection::vec(prop::collection::vec(text(6), 3), 0..40), any::<bool>()).prop_map(|(cols, rows, header)| {
            let mut all: Vec<Value> = Vec::new();
            if header {
                all.push(json!(HEAD[..cols].to_vec()));
            }
            for r in rows {
                all.push(json!(r[..cols].to_vec()));
            }
            if all.is_empty() {
                all.push(json!(vec!["alpha"; cols]));
            }
            json!({"type": "table", "columns": vec!["1fr"; cols], "header_rows": u32::from(header), "rows": all})
        }),
        1 => Just(json!({"type": "page_break"})),
        1 => (0u32..400).prop_map(|h| json!({"type": "spacer", "height": h})),
        1 => prop::collection::vec(text(20), 1..4).prop_map(|ps| {
            let content: Vec<Value> = ps.into_iter().map(|t| json!({"type": "paragraph", "text": t})).collect();
            json!({"type": "group", "content": content})
        }),
    ]
}

/// Pages are at least 400pt wide so that every word fits a table column: words that
/// do not fit are broken by glyphs, which `a_word_longer_than_the_line_is_broken_rather_than_overflowing`
/// covers on its own.
fn document() -> impl Strategy<Value = Value> {
    (400u32..700, 200u32..900, 10u32..40, prop::collection::vec(block(), 1..25), any::<bool>()).prop_map(
        |(w, h, m, blocks, footer)| {
            let mut doc = json!({"ode": 1, "page": {"size": {"width": w, "height": h}, "margins": m}, "content": blocks});
            if footer {
                doc["page"]["margins"] = json!({"top": m, "left": m, "right": m, "bottom": m + 20});
                doc["footer"] = json!({"content": [{"type": "paragraph", "content": [{"field": "page_number"}, " / ", {"field": "page_count"}]}]});
            }
            doc
        },
    )
}

fn input_words(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "text" || k == "items" || k == "rows" || k == "content" {
                    input_words(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| input_words(v, out)),
        Value::String(s) => out.extend(s.split_whitespace().map(str::to_string)),
        _ => {}
    }
}

fn count(words: impl IntoIterator<Item = String>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for w in words {
        if WORDS.contains(&w.as_str()) || HEAD.contains(&w.as_str()) {
            *m.entry(w).or_default() += 1;
        }
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn the_same_input_gives_the_same_bytes(doc in document()) {
        let json = doc.to_string();
        let a = ode_core::render_pdf(&json, fonts()).unwrap();
        let b = ode_core::render_pdf(&json, fonts()).unwrap();
        prop_assert!(a == b);
        prop_assert_eq!(ode_core::render_svg(&json, fonts()).unwrap(), ode_core::render_svg(&json, fonts()).unwrap());
    }

    #[test]
    fn no_item_is_placed_outside_its_page(doc in document()) {
        let out = ode_core::compile(&doc.to_string(), fonts()).unwrap().output;
        for (p, page) in out.pages.iter().enumerate() {
            for item in &page.items {
                if matches!(item, Item::Link(_)) {
                    continue;
                }
                let b = item.bounds(fonts());
                prop_assert!(
                    b.x >= -0.5 && b.y >= -0.5 && b.right() <= page.size.width + 0.5 && b.bottom() <= page.size.height + 0.5,
                    "page {} item {:?} at {:?} outside {:?}", p, item, b, page.size
                );
            }
        }
    }

    #[test]
    fn page_breaks_never_lose_or_duplicate_content(doc in document()) {
        let out = ode_core::compile(&doc.to_string(), fonts()).unwrap().output;
        let mut words = Vec::new();
        input_words(&doc["content"], &mut words);
        let expected = count(words);
        let actual = count(out.text().split_whitespace().map(str::to_string));
        for (w, n) in &expected {
            let got = actual.get(w).copied().unwrap_or(0);
            if HEAD.contains(&w.as_str()) {
                prop_assert!(got >= *n, "header word {} shown {} times, given {}", w, got, n);
            } else {
                prop_assert_eq!(got, *n, "word {} shown {} times, given {}", w, got, n);
            }
        }
        prop_assert_eq!(expected.keys().collect::<Vec<_>>(), actual.keys().collect::<Vec<_>>());
    }
}
