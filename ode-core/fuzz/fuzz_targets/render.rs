//! Arbitrary bytes through the whole pipeline: parse, then (when the document is valid)
//! layout with at most 50 pages, PDF export and SVG export.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ode_core::MemoryResources;

fn resources() -> &'static MemoryResources {
    static RES: OnceLock<MemoryResources> = OnceLock::new();
    RES.get_or_init(ode_core_fuzz::resources)
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = ode_core::model::parse(json) else {
        return;
    };
    let _ = ode_core_fuzz::render(&doc, resources(), &ode_core_fuzz::options());
});
