//! Any text through the label-file parser and the command parser: never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let set = vigil_agent::labels::parse(text);
        let _ = set.fingerprint();
        let _ = vigil_agent::parse::parse(text);
        let _ = vigil_agent::rules::check(text);
    }
});
