//! Runs JSON documents through what the `render` target does (parse, layout with at
//! most 50 pages, PDF and SVG export), outside the fuzzer, and says how each one ends.
//! Useful to check a reproducer in a plain build, where integer overflow is not checked
//! and there is no sanitizer:
//!
//! ```text
//! cargo run --release --example run_json -- regressions/*.json
//! ```
use std::time::Instant;

fn main() {
    let res = ode_core_fuzz::resources();
    let mut failed = 0;
    for path in std::env::args().skip(1) {
        let json = std::fs::read_to_string(&path).expect("cannot read the document");
        let start = Instant::now();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(
                || match ode_core::model::parse(&json) {
                    Err(e) => format!("refused by the parser: {e}"),
                    Ok(doc) => match ode_core_fuzz::render(&doc, &res, &ode_core_fuzz::options()) {
                        Ok(pages) => format!("rendered {pages} pages"),
                        Err(e) => e,
                    },
                },
            ));
        let ms = start.elapsed().as_millis();
        match outcome {
            Ok(what) => println!("{path}: {what} in {ms} ms"),
            Err(_) => {
                failed += 1;
                println!("{path}: PANICKED after {ms} ms (message above)");
            }
        }
    }
    std::process::exit(i32::from(failed > 0));
}
