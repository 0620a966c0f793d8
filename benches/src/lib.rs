//! Benchmarks of ODE against peer engines.
//!
//! The crate has no library code: the benchmarks are in `benches/render.rs`, the corpus
//! converter is `convert.py` and the end-to-end script `run.sh`. See `README.md`.
