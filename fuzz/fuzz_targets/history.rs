//! Any bytes through the three history-file readers of `vigil import`: no panic, and every
//! entry has a command and a positive occurrence.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for shell in vigil::history::SHELLS {
        for e in vigil::history::parse(shell, data, 1_700_000_000_000) {
            assert!(!e.command.trim().is_empty());
            assert!(e.occurrence >= 1);
        }
    }
});
