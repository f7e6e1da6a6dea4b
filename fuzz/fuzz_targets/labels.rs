//! Fuzz target `labels`: see `checks::labels`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::labels(data));
