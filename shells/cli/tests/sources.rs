//! `ode render` on templates with data, Markdown and mail merges, checked on the files
//! it writes with poppler's tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ode() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ode"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ode-cli-sources-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(args: &[&str]) -> Output {
    ode().current_dir(repo()).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> Output {
    let o = run(args);
    assert!(
        o.status.success(),
        "ode {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn pdf_text(pdf: &Path) -> String {
    let o = Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is needed by this test");
    assert!(o.status.success(), "pdftotext {}", pdf.display());
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn pages(pdf: &Path) -> usize {
    let o = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo");
    let info = String::from_utf8_lossy(&o.stdout).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo gives the page count")
}

fn write(name: &str, text: &str) -> PathBuf {
    let p = tmp(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_invoice_template_renders_with_its_data() {
    let out = tmp("invoice.pdf");
    ok(&[
        "render",
        "examples/invoice-template.json",
        "--data",
        "examples/invoice-data.json",
        "-o",
        out.to_str().unwrap(),
    ]);
    let text = pdf_text(&out);
    for want in [
        "INV-2024-0042",
        "15 March 2024",
        "Harrow & Finch",
        "€1,572.50",
        "€20,162.50",
        "€24,195.00",
        "Page 1 of 1",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
}

#[test]
fn data_can_be_yaml_or_csv() {
    let t = write(
        "rows.json",
        r#"{"ode": 1, "content": [{"type": "table", "columns": ["1fr", "auto"],
            "rows": [{"$each": "rows", "as": "r", "do": [["{{ r.name }}", "{{ r.amount | currency('EUR', locale='de') }}"]]}]}]}"#,
    );
    let csv = write("rows.csv", "name,amount\nAda,1234.5\n\"Lovelace, B.\",7\n");
    let out = tmp("rows.pdf");
    ok(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        csv.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let text = pdf_text(&out);
    assert!(
        text.contains("1.234,50") && text.contains("Lovelace, B."),
        "{text}"
    );

    let y = write("data.yaml", "rows:\n  - name: Yara\n    amount: 3\n");
    ok(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        y.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(pdf_text(&out).contains("Yara"));
}

#[test]
fn template_and_data_errors_name_files_paths_and_lines() {
    let t = write(
        "bad.json",
        r#"{"ode": 1, "content": [{"type": "paragraph", "text": "x"}, {"type": "list", "items": {"$each": "items", "do": "{{ item }}"}}]}"#,
    );
    let d = write("bad-data.json", r#"{"items": "pen"}"#);
    let o = run(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "-o",
        tmp("bad.pdf").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("bad.json: /content/1/items (each items): data field \"items\" is not an array (found a string at /items)"),
        "{}",
        stderr(&o)
    );
    let broken = write("broken.yaml", "items: [a, b\n");
    let o = run(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        broken.to_str().unwrap(),
        "-o",
        tmp("bad.pdf").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("broken.yaml: line "), "{}", stderr(&o));
    assert!(!tmp("bad.pdf").exists(), "no output for bad input");
}

#[test]
fn markdown_renders_with_front_matter_and_images() {
    let out = tmp("notes.pdf");
    let o = ok(&["render", "examples/notes.md", "-o", out.to_str().unwrap()]);
    let text = pdf_text(&out);
    assert!(text.contains("Field notes from the river survey"), "{text}");
    let info = Command::new("pdfinfo").arg(&out).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(
        info.contains("Author:") && info.contains("R. Ortiz"),
        "{info}"
    );
    let images = Command::new("pdfimages")
        .args(["-list", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&images.stdout).lines().count() > 2,
        "the chart is embedded"
    );
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
}

#[test]
fn merge_makes_one_pdf_with_numbering_per_record() {
    let t = write(
        "merge.json",
        r#"{"ode": 1, "page": {"size": "A5"},
            "footer": {"content": [{"type": "paragraph", "content": ["{{ name }} p", {"field": "page_number"}, "/", {"field": "page_count"}]}]},
            "content": [{"$each": "range(pages)", "do": [{"type": "paragraph", "text": "{{ name }} page {{ item + 1 }}"}, {"type": "page_break"}]}]}"#,
    );
    let d = write(
        "merge.jsonl",
        "{\"name\": \"A\", \"pages\": 2}\n{\"name\": \"B\", \"pages\": 3}\n",
    );
    let out = tmp("merged.pdf");
    ok(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--merge",
        "--restart-page-numbers",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(pages(&out), 5);
    let text = pdf_text(&out);
    let per_page: Vec<&str> = text.split('\u{c}').collect();
    assert!(per_page[1].contains("A p2/2"), "{}", per_page[1]);
    assert!(
        per_page[2].contains("A p1/3") || per_page[2].contains("B p1/3"),
        "{}",
        per_page[2]
    );
}

#[test]
fn out_dir_writes_one_named_file_per_record_in_parallel() {
    let dir = tmp("letters");
    let _ = std::fs::remove_dir_all(&dir);
    let o = ok(&[
        "render",
        "examples/letter-template.json",
        "--data",
        "examples/letters.jsonl",
        "--out-dir",
        dir.to_str().unwrap(),
        "--jobs",
        "2",
    ]);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 500, "{}", stderr(&o));
    assert_eq!(files[0], "letter-0001.pdf");
    let first = dir.join("letter-0001.pdf");
    assert_eq!(pages(&first), 1);
    let data: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(repo().join("examples/letters.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let text = pdf_text(&first);
    let last_name = data["last_name"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "Dear {} {last_name},",
            data["title"].as_str().unwrap()
        )),
        "{text}"
    );
    assert!(
        stderr(&o).contains("500 of 500 records written"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn out_dir_names_come_from_the_name_option_and_clashes_are_refused() {
    let t = write(
        "named.json",
        r#"{"ode": 1, "content": [{"type": "paragraph", "text": "{{ n }}"}]}"#,
    );
    let d = write(
        "named.jsonl",
        "{\"n\": \"x\"}\n{\"n\": \"y\"}\n{\"n\": \"x\"}\n",
    );
    let dir = tmp("named");
    let _ = std::fs::remove_dir_all(&dir);
    let o = run(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--out-dir",
        dir.to_str().unwrap(),
        "--name",
        "doc-{{ n }}",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("named.jsonl line 3: the file name \"doc-x.pdf\" is also the name of ")
            && stderr(&o).contains("named.jsonl line 1"),
        "{}",
        stderr(&o)
    );
    let d = write("named2.jsonl", "{\"n\": \"x\"}\n{\"n\": \"y\"}\n");
    ok(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--out-dir",
        dir.to_str().unwrap(),
        "--name",
        "doc-{{ n }}",
    ]);
    assert!(dir.join("doc-x.pdf").exists() && dir.join("doc-y.pdf").exists());
    let d = write("evil.jsonl", "{\"n\": \"../escape\"}\n");
    let o = run(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--out-dir",
        dir.to_str().unwrap(),
        "--name",
        "{{ n }}",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is not a plain file name"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_failing_record_does_not_stop_the_others() {
    let t = write(
        "strict.json",
        r#"{"ode": 1, "content": [{"type": "paragraph", "text": "{{ name }}"}]}"#,
    );
    let d = write(
        "strict.jsonl",
        "{\"name\": \"a\"}\n{\"nam\": \"b\"}\n{\"name\": \"c\"}\n",
    );
    let dir = tmp("strict");
    let _ = std::fs::remove_dir_all(&dir);
    let o = run(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("strict.jsonl line 2): /content/0/text: data field \"name\" is missing (at /), did you mean \"nam\"?"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "the good records are written"
    );
    // --lenient renders the missing value as empty.
    ok(&[
        "render",
        t.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--out-dir",
        dir.to_str().unwrap(),
        "--lenient",
    ]);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
}
