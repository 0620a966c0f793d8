//! Documents built from the fuzzer's bytes by a generator (`ode_core_fuzz::generate`)
//! that writes only accepted values, many of them at the edges of their ranges, so that
//! every input reaches layout and export rather than stopping at the parser.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ode_core::MemoryResources;

fn resources() -> &'static MemoryResources {
    static RES: OnceLock<MemoryResources> = OnceLock::new();
    RES.get_or_init(ode_core_fuzz::resources)
}

fuzz_target!(|data: &[u8]| {
    let json = ode_core_fuzz::generate(data).to_string();
    let doc = match ode_core::model::parse(&json) {
        Ok(doc) => doc,
        Err(e) => {
            // The generator means to write only valid documents; a refusal is a
            // generator bug (or a decoder one), worth seeing while developing it.
            if std::env::var_os("ODE_FUZZ_DEBUG").is_some() {
                eprintln!("generated document refused: {e}\n{json}");
            }
            return;
        }
    };
    let _ = ode_core_fuzz::render(&doc, resources(), &ode_core_fuzz::options());
});
