//! SVG files as tenants send them, used as an image: parsed under the engine's limits
//! (references, nesting, size), drawn into a PDF (krilla-svg), an SVG page (usvg's
//! writer) and a PNG page (resvg), at two sizes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ode_core::MemoryResources;

fn base() -> &'static MemoryResources {
    static RES: OnceLock<MemoryResources> = OnceLock::new();
    RES.get_or_init(ode_core_fuzz::resources)
}

fuzz_target!(|data: &[u8]| {
    let mut res = base().clone();
    res.insert("fuzzed.svg", data.to_vec());
    let doc = serde_json::json!({
        "ode": 1,
        "content": [
            {"type": "image", "src": "fuzzed.svg", "width": "3cm"},
            {"type": "image", "src": "fuzzed.svg", "width": "17cm", "height": "25cm", "fit": "cover"}
        ]
    });
    let Ok(doc) = ode_core::model::from_value(&doc) else {
        return;
    };
    let _ = ode_core_fuzz::render(&doc, &res, &ode_core_fuzz::options());
});
