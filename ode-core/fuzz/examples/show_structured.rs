//! Prints the document that an input of the `render_structured` target stands for,
//! so that a crash found there can be kept as JSON:
//!
//! ```text
//! cargo run --example show_structured -- artifacts/render_structured/crash-…
//! ```
fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: show_structured <input file>");
    let data = std::fs::read(&path).expect("cannot read the input");
    let doc = ode_core_fuzz::generate(&data);
    println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
}
