//! Arbitrary bytes, read as UTF-8, through the model parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = std::str::from_utf8(data) {
        let _ = ode_core::model::parse(json);
    }
});
