//! Typography: text in many scripts with the Noto fonts Debian packages
//! (`fonts-noto-core`, `fonts-noto-cjk`; `scripts/test.sh` installs them) — shaping
//! (glyph ids from the shaper), bidi visual order in the frames, line breaking, and the
//! text extracted from the PDF by `pdftotext` — plus hyphenation, soft hyphens,
//! OpenType features and font fallback chains. The tests fail, not skip, when the
//! fonts are missing.

mod common;

use std::process::Command;

use ode_core::MemoryResources;
use ode_core::frame::{Item, PagedDocument, TextItem};
use ode_core::text::FontBook;

fn resources() -> MemoryResources {
    MemoryResources::new(common::noto_book())
}

fn render(res: &MemoryResources, json: &str) -> PagedDocument {
    let w = ode_core::compile(json, res).unwrap_or_else(|d| panic!("{d}"));
    w.output
}

fn texts(doc: &PagedDocument) -> Vec<&TextItem> {
    doc.pages
        .iter()
        .flat_map(|p| p.items.iter())
        .filter_map(|i| match i {
            Item::Text(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn pdftotext(res: &MemoryResources, json: &str, name: &str) -> String {
    let pdf = ode_core::render_pdf(json, res).unwrap();
    let dir = std::env::temp_dir().join(format!("ode-scripts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn doc(style: &str, content: &str) -> String {
    format!(
        r#"{{"ode": 1, "page": {{"size": "A5", "margins": 36}}, "styles": {{"default": {style}}}, "content": [{content}]}}"#
    )
}

/// A glyph placed on the page: absolute x, id, and the text it shows.
#[derive(Debug, Clone)]
struct Placed {
    x: f32,
    y: f32,
    id: u16,
    advance: f32,
    text: String,
}

/// Every glyph of the document in drawing order, with absolute x positions.
fn placed(doc: &PagedDocument) -> Vec<Placed> {
    let mut out = Vec::new();
    for t in texts(doc) {
        let mut x = t.origin.x;
        for g in &t.glyphs {
            out.push(Placed {
                x,
                y: t.origin.y,
                id: g.id,
                advance: g.x_advance,
                text: t.text[g.text_start as usize..g.text_end as usize].to_string(),
            });
            x += g.x_advance;
        }
    }
    out
}

/// Text without whitespace and bidi controls: `pdftotext` marks direction changes
/// with embedding controls and places spaces at direction boundaries by its own
/// rules, so the order of the characters is what is compared.
fn letters(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !('\u{200e}'..='\u{200f}').contains(c))
        .filter(|c| {
            !('\u{202a}'..='\u{202e}').contains(c) && !('\u{2066}'..='\u{2069}').contains(c)
        })
        .collect()
}

/// The x of the glyph showing the first character of `needle`.
fn x_of(glyphs: &[Placed], needle: char) -> f32 {
    glyphs
        .iter()
        .find(|g| g.text.starts_with(needle))
        .unwrap_or_else(|| panic!("no glyph shows {needle:?}"))
        .x
}

const ARABIC: &str = "مرحبا بالعالم ODE 2024 سلام";

#[test]
fn arabic_joins_and_reads_right_to_left() {
    let res = resources();
    let json = doc(
        r#"{"font": "Noto Sans Arabic", "font_fallback": ["DejaVu Sans"], "size": 14}"#,
        &format!(
            r#"{{"type": "paragraph", "text": "{ARABIC}"}}, {{"type": "paragraph", "text": "ب ببب"}}"#
        ),
    );
    let d = render(&res, &json);
    let g = placed(&d);
    // The letter beh isolated, initial, medial and final: four different glyphs.
    let last_y = g.last().unwrap().y;
    let behs: Vec<u16> = g
        .iter()
        .filter(|p| p.text == "ب" && p.y == last_y)
        .map(|p| p.id)
        .collect();
    assert_eq!(behs.len(), 4, "{g:?}");
    let mut distinct = behs.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "joining forms {behs:?}");
    // Visual order: words right to left, the Latin and the number left to right.
    assert!(x_of(&g, 'ح') > x_of(&g, 'ع'), "first word rightmost");
    assert!(x_of(&g, 'ع') > x_of(&g, 'O'));
    assert!(
        x_of(&g, 'O') < x_of(&g, '2'),
        "ODE 2024 keeps its own order"
    );
    assert!(x_of(&g, '2') > x_of(&g, 'س'), "last word leftmost");
    // Letters of a word: x decreases in logical order.
    let word: Vec<f32> = g
        .iter()
        .filter(|p| "مرحبا".contains(p.text.as_str()) && p.y == g[0].y)
        .map(|p| p.x)
        .collect();
    assert!(
        word.windows(2).all(|w| w[0] < w[1]),
        "drawn left to right: {word:?}"
    );
    // Right-to-left paragraphs align right by default.
    let t = texts(&d);
    let right = t
        .iter()
        .filter(|t| t.origin.y == t.origin.y.min(g[0].y))
        .map(|t| t.origin.x + t.width())
        .fold(0.0f32, f32::max);
    let page_right = 419.53 - 36.0;
    assert!((right - page_right).abs() < 0.5, "right edge {right}");
    // Extraction gives the logical text (lam-alef ligature included).
    let text = pdftotext(&res, &json, "arabic");
    assert_eq!(
        letters(text.lines().next().unwrap()),
        letters(ARABIC),
        "{text:?}"
    );
}

/// Lines of the document: glyphs grouped by baseline, in drawing order.
fn lines(g: &[Placed]) -> Vec<Vec<Placed>> {
    let mut out: Vec<Vec<Placed>> = Vec::new();
    for p in g {
        match out.last_mut() {
            Some(l) if (l[0].y - p.y).abs() < 0.01 => l.push(p.clone()),
            _ => out.push(vec![p.clone()]),
        }
    }
    out
}

const HEBREW: &str = "שלום עולם, זהו מבחן ODE 2 בשנת 2024 בעברית";

#[test]
fn hebrew_with_latin_and_numbers_is_reordered_per_line() {
    let res = resources();
    let json = doc(
        r#"{"font": "Noto Sans Hebrew", "font_fallback": ["DejaVu Sans"], "size": 12}"#,
        &format!(r#"{{"type": "paragraph", "text": "{HEBREW}"}}"#),
    );
    let g = placed(&render(&res, &json));
    // Hebrew words right to left; the Latin phrase and the number read left to right.
    let shin = g.iter().filter(|p| p.text == "ש").map(|p| p.x);
    assert!(
        shin.fold(0.0, f32::max) > x_of(&g, 'ז'),
        "the first word is rightmost"
    );
    assert!(x_of(&g, 'ז') > x_of(&g, 'ח'));
    assert!(x_of(&g, 'ח') > x_of(&g, 'O'));
    assert!(x_of(&g, 'O') < x_of(&g, 'E'));
    assert!(x_of(&g, 'O') > x_of(&g, '4'));
    assert!(x_of(&g, '0') < x_of(&g, '4'), "2024 left to right");
    assert!(x_of(&g, '4') > x_of(&g, 'ת'), "the last word is leftmost");
    let text = pdftotext(&res, &json, "hebrew");
    assert_eq!(letters(&text), letters(HEBREW), "{text:?}");
}

#[test]
fn a_long_rtl_paragraph_breaks_into_lines_each_reordered() {
    let res = resources();
    let words = "אחד שניים שלושה ארבעה חמישה שישה שבעה שמונה תשעה עשרה";
    let text = (0..4).map(|_| words).collect::<Vec<_>>().join(" ");
    let json = doc(
        r#"{"font": "Noto Sans Hebrew", "size": 12}"#,
        &format!(r#"{{"type": "paragraph", "text": "{text}", "align": "justify"}}"#),
    );
    let g = placed(&render(&res, &json));
    let ls = lines(&g);
    assert!(ls.len() >= 3, "{} lines", ls.len());
    let right = 419.53 - 36.0;
    for (i, l) in ls.iter().enumerate() {
        let end = l.last().unwrap();
        // Every line ends at the right margin (justified or, for the last, flush right).
        let last_x = end.x + 12.0 * 0.6;
        assert!(
            last_x > right - 12.0 && end.x < right,
            "line {i} ends at {}",
            end.x
        );
        // The line's first word (logically) is its rightmost.
        assert!(l.iter().rev().find(|p| p.text != " ").unwrap().x > l[0].x);
    }
    // Logical order survives line breaking and extraction.
    let out = pdftotext(&res, &json, "hebrew-lines");
    assert_eq!(letters(&out), letters(&text));
}

const HINDI: &str = "हिन्दी में क्षेत्र ODE 2024 का परीक्षण";

#[test]
fn devanagari_conjuncts_come_from_the_fallback_chain() {
    let res = resources();
    let json = doc(
        r#"{"font": "DejaVu Sans", "font_fallback": ["Noto Sans Devanagari"], "size": 12}"#,
        &format!(r#"{{"type": "paragraph", "text": "{HINDI}"}}"#),
    );
    let d = render(&res, &json);
    let runs = texts(&d);
    let noto = runs
        .iter()
        .filter(|t| res_family(&res, t.font) == "Noto Sans Devanagari")
        .count();
    let dejavu = runs
        .iter()
        .filter(|t| res_family(&res, t.font) == "DejaVu Sans")
        .count();
    assert!(
        noto >= 2 && dejavu >= 1,
        "{noto} Devanagari runs, {dejavu} Latin runs"
    );
    // क्ष (three characters: ka, virama, ssa) is one conjunct: fewer glyphs than chars.
    let g = placed(&d);
    let kssa: Vec<&Placed> = g.iter().filter(|p| p.text.contains('\u{94d}')).collect();
    assert!(!kssa.is_empty());
    let word_glyphs = g
        .iter()
        .filter(|p| "क्षेत्र".contains(p.text.as_str()) && !p.text.is_empty())
        .count();
    assert!(word_glyphs < "क्षेत्र".chars().count(), "{word_glyphs} glyphs");
    // The i-matra is drawn before (left of) its consonant but extracts after it.
    assert!(x_of(&g, 'ह') <= g.iter().find(|p| p.text == "हि").map_or(f32::MAX, |p| p.x));
    let text = pdftotext(&res, &json, "hindi");
    assert_eq!(letters(&text), letters(HINDI), "{text:?}");
}

fn res_family(res: &MemoryResources, id: ode_core::text::FontId) -> String {
    use ode_core::Resources;
    res.fonts().face(id).family.clone()
}

const THAI: &str = "ภาษาไทยเป็นภาษาที่สวยงามมาก ODE 2024 ทดสอบการตัดคำภาษาไทยโดยไม่มีพจนานุกรม";

#[test]
fn thai_breaks_between_clusters_without_a_dictionary() {
    let res = resources();
    let json = doc(
        r#"{"font": "Noto Sans Thai", "font_fallback": ["DejaVu Sans"], "size": 12}"#,
        &format!(r#"{{"type": "paragraph", "text": "{THAI}"}}"#),
    );
    let g = placed(&render(&res, &json));
    let ls = lines(&g);
    assert!(ls.len() >= 2, "a long Thai text breaks");
    let right = 419.53 - 36.0;
    for l in &ls {
        let last = l.last().unwrap();
        assert!(last.x <= right, "no overflow: {}", last.x);
        // A line never starts with a combining vowel or tone mark.
        let first = l[0].text.chars().next().unwrap();
        assert!(
            !matches!(first, '\u{e31}' | '\u{e34}'..='\u{e3a}' | '\u{e47}'..='\u{e4e}'),
            "line starts with mark {first:?}"
        );
    }
    let text = pdftotext(&res, &json, "thai");
    assert_eq!(letters(&text), letters(THAI));
}

/// Characters that must not start a line (kinsoku shori).
const NO_START: &[char] = &[
    '。', '、', '」', '』', '）', '，', '．', '？', '！', 'ー', 'ぁ', 'っ', 'ゃ',
];

fn cjk_case(family: &str, lang: &str, text: &str, name: &str) {
    let res = resources();
    let json = doc(
        &format!(
            r#"{{"font": "DejaVu Sans", "font_fallback": ["{family}"], "lang": "{lang}", "size": 11}}"#
        ),
        &format!(r#"{{"type": "paragraph", "text": "{text}"}}"#),
    );
    let d = render(&res, &json);
    assert!(texts(&d).iter().any(|t| res_family(&res, t.font) == family));
    let g = placed(&d);
    let ls = lines(&g);
    assert!(ls.len() >= 3, "{} lines", ls.len());
    let right = 419.53 - 36.0;
    for l in &ls {
        let first = l[0].text.chars().next().unwrap();
        assert!(!NO_START.contains(&first), "a line starts with {first:?}");
        assert!(l.last().unwrap().x <= right);
    }
    let out = pdftotext(&res, &json, name);
    assert_eq!(letters(&out), letters(text));
}

#[test]
fn chinese_breaks_between_ideographs_but_not_before_closing_punctuation() {
    let text = "排版引擎ODE在2024年支持中文。它可以在汉字之间换行，但句号、逗号和右引号」不会出现在行首。这是一个很长的段落，用来测试换行规则是否正确，包括数字12345和英文words的混排。";
    cjk_case("Noto Sans CJK SC", "zh", &text.repeat(2), "chinese");
}

#[test]
fn japanese_keeps_kinsoku_rules() {
    let text = "日本語の組版では「禁則処理」が大切です。句読点、閉じ括弧」や小さい「っ」「ゃ」は行頭に来ません。ODEは2024年版です。ひらがなとカタカナ、漢字、英語のwordsと数字123を混ぜて書きます。";
    cjk_case("Noto Sans CJK JP", "ja", &text.repeat(2), "japanese");
}

const LATIN: &str = "Hyphenation considerably improves the typographical appearance of justified paragraphs, particularly in narrow columns containing extraordinarily long international words.";

fn latin_lines(extra: &str, text: &str) -> (Vec<Vec<Placed>>, String) {
    let res = MemoryResources::new(FontBook::with_defaults());
    let json = format!(
        r#"{{"ode": 1, "metadata": {{"language": "en"}}, "page": {{"size": {{"width": 200, "height": 600}}, "margins": 20}}, "content": [{{"type": "paragraph", "text": "{text}", "align": "justify"{extra}}}]}}"#
    );
    let g = placed(&render(&res, &json));
    (
        lines(&g),
        pdftotext(&res, &json, &format!("latin{}", extra.len())),
    )
}

fn line_text(l: &[Placed]) -> String {
    l.iter().map(|p| p.text.as_str()).collect()
}

#[test]
fn hyphenation_is_off_unless_asked_and_then_fills_lines() {
    let (plain, _) = latin_lines("", LATIN);
    assert!(
        plain.iter().all(|l| !line_text(l).ends_with('-')),
        "no hyphen by default"
    );
    let (hyph, text) = latin_lines(r#", "hyphenate": true"#, LATIN);
    let hyphenated: Vec<String> = hyph
        .iter()
        .map(|l| line_text(l))
        .filter(|t| t.ends_with('-') && !t.ends_with(" -"))
        .collect();
    assert!(
        !hyphenated.is_empty(),
        "some line ends at a hyphenation point"
    );
    assert!(
        hyph.len() <= plain.len(),
        "{} vs {} lines",
        hyph.len(),
        plain.len()
    );
    // Less white space: justified lines (all but the last) are fuller before justification,
    // so the widest inter-word gap shrinks.
    let gap = |ls: &[Vec<Placed>]| {
        ls[..ls.len() - 1]
            .iter()
            .flat_map(|l| {
                l.windows(2)
                    .filter(|w| w[0].text == " ")
                    .map(|w| w[1].x - w[0].x)
            })
            .fold(0.0f32, f32::max)
    };
    assert!(
        gap(&hyph) < gap(&plain),
        "{} vs {}",
        gap(&hyph),
        gap(&plain)
    );
    // Hyphenated words stay whole in the text apart from the hyphen at the line end.
    let joined = text.replace("-\n", "").replace('\n', " ");
    assert_eq!(letters(&joined), letters(LATIN));
    // Lines stay inside the column.
    for l in &hyph {
        assert!(l.last().unwrap().x < 180.0);
    }
}

#[test]
fn soft_hyphens_break_only_where_needed_and_show_a_hyphen_there() {
    let word = "Donau\u{ad}dampf\u{ad}schiff\u{ad}fahrts\u{ad}gesellschaft";
    let text = format!("{word} {word} {word}");
    let (ls, _) = latin_lines("", &text);
    assert!(ls.len() >= 3);
    let mut broken = 0;
    for l in &ls[..ls.len() - 1] {
        let t = line_text(l);
        if !t.ends_with(' ') && !t.trim_end().ends_with("gesellschaft") {
            assert!(
                t.ends_with('-'),
                "a line broken at a soft hyphen shows one: {t:?}"
            );
            broken += 1;
        }
    }
    assert!(broken > 0);
    // Soft hyphens not at a line end take no room and draw nothing visible.
    let shy: Vec<&Placed> = ls.iter().flatten().filter(|p| p.text == "\u{ad}").collect();
    assert!(!shy.is_empty());
    assert!(shy.iter().all(|p| p.advance == 0.0), "{shy:?}");
}

#[test]
fn opentype_features_switch_ligatures_and_figures() {
    let res = MemoryResources::new(FontBook::with_defaults());
    let count = |features: &str| {
        let json = format!(
            r#"{{"ode": 1, "content": [{{"type": "paragraph", "font": "serif", "text": "office fit"{features}}}]}}"#
        );
        placed(&render(&res, &json)).len()
    };
    let on = count("");
    let off = count(r#", "features": {"liga": false}"#);
    let list = count(r#", "features": ["-liga"]"#);
    assert!(off > on, "without ligatures more glyphs: {off} vs {on}");
    assert_eq!(off, list, "the list form means the same");
    // A span can switch a feature too.
    let json = r#"{"ode": 1, "content": [{"type": "paragraph", "font": "serif", "content": ["fi ", {"text": "fi", "features": ["-liga"]}]}]}"#;
    assert_eq!(placed(&render(&res, json)).len(), 1 + 1 + 2);
}

#[test]
fn an_explicit_direction_overrides_the_first_strong_character() {
    let res = resources();
    let json = doc(
        r#"{"font": "DejaVu Sans", "size": 12}"#,
        r#"{"type": "paragraph", "text": "abc שלום", "dir": "rtl"}, {"type": "paragraph", "text": "שלום abc", "dir": "ltr"}, {"type": "paragraph", "text": "שלום abc", "dir": "rtl", "align": "left"}"#,
    );
    let ls = lines(&placed(&render(&res, json.as_str())));
    // rtl: "abc" is the first word, so it is on the right; the line is flush right.
    assert!(ls[0][0].text == "ש" || ls[0][0].text == "ם");
    assert!(ls[0].last().unwrap().x > 300.0);
    // ltr: the Hebrew word comes first, on the left.
    assert!(ls[1][0].text == "ם" && ls[1][0].x < 40.0);
    // an explicit alignment is kept.
    assert!(ls[2][0].x < 40.0);
}

#[test]
fn brackets_in_right_to_left_text_are_mirrored() {
    let res = resources();
    let json = doc(
        r#"{"font": "Noto Sans Hebrew", "font_fallback": ["DejaVu Sans"], "size": 12}"#,
        r#"{"type": "paragraph", "text": "שלום (עולם) טוב"}, {"type": "paragraph", "text": "a (b) c"}"#,
    );
    let g = placed(&render(&res, &json));
    let id = |t: &str, y_first: bool| {
        let y = if y_first { g[0].y } else { g.last().unwrap().y };
        g.iter()
            .find(|p| p.text == t && p.y == y)
            .unwrap_or_else(|| panic!("no {t:?}"))
            .clone()
    };
    // In the right-to-left line the opening bracket is drawn with the closing one's
    // glyph, on the right of the word it opens.
    assert_eq!(id("(", true).id, id(")", false).id);
    assert_eq!(id(")", true).id, id("(", false).id);
    assert!(id("(", true).x > id(")", true).x);
}

#[test]
fn an_overlong_right_to_left_word_breaks_between_clusters() {
    let res = resources();
    let word = "אבגדהוזחטיכלמנסעפצקרשת".repeat(4);
    let json = format!(
        r#"{{"ode": 1, "page": {{"size": {{"width": 150, "height": 400}}, "margins": 20}}, "content": [{{"type": "paragraph", "font": "Noto Sans Hebrew", "text": "{word}"}}]}}"#
    );
    let g = placed(&render(&res, &json));
    let ls = lines(&g);
    assert!(ls.len() >= 2, "the word is cut");
    for l in &ls {
        let last = l.last().unwrap();
        assert!(
            l[0].x >= 19.99 && last.x + last.advance <= 130.01,
            "inside the column"
        );
    }
    // The first line holds the word's start, drawn at the right.
    assert_eq!(ls[0].last().unwrap().text, "א");
    let text = pdftotext(&res, &json, "hebrew-long");
    assert_eq!(letters(&text), letters(&word));
}
