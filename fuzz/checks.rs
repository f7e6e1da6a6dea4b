//! What each fuzz target asserts about one input, shared by the fuzz targets (`cargo fuzz run
//! NAME`) and by the suite's replay of the committed corpora (`tests/fuzz_corpora.rs`), so
//! that CI checks every input the fuzzers ever kept, on a stable toolchain.
//!
//! Each check must not panic and must not take more than linear work; the replay adds its
//! own deterministic mutations of every corpus file.

#![allow(dead_code)]

/// What a target asserts about one input (it panics if the assertion fails).
pub type Check = fn(&[u8]);

/// The names of the targets, each with its check; a corpus folder per name.
pub const TARGETS: &[(&str, Check)] = &[
    ("frame", frame),
    ("history", history),
    ("labels", labels),
    ("line", line),
    ("records", records),
    ("model", model),
];

/// Any bytes through the frame decoder: a value or an error, never a panic, and never an
/// allocation larger than the frame limit.
pub fn frame(data: &[u8]) {
    use vigil::protocol::{self, Request, Response};
    let _ = protocol::read_message::<Request>(&mut &data[..]);
    let _ = protocol::read_message::<Response>(&mut &data[..]);
    let _ = vigil::frame::decode_stream::<Request>(data);
}

/// Any bytes through the three history-file readers of `vigil import`: no panic, and every
/// entry has a command and a positive occurrence.
pub fn history(data: &[u8]) {
    for shell in vigil::history::SHELLS {
        for e in vigil::history::parse(shell, data, 1_700_000_000_000) {
            assert!(!e.command.trim().is_empty());
            assert!(e.occurrence >= 1);
        }
    }
}

/// Any text through the label-file parser: never a panic.
pub fn labels(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let set = vigil_agent::labels::parse(text);
        let _ = set.fingerprint();
    }
}

/// Any line through everything a typed command meets before it is stored: the parser, the
/// hard rules, the model's features, redaction and the do-not-record policy. A redacted
/// line is never longer than a bounded multiple of the input.
pub fn line(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = vigil_agent::parse::parse(&text);
    let _ = vigil_agent::features::ngrams(&parsed);
    let _ = vigil_agent::rules::check(&text);
    let redacted = vigil::redact::redact(&text);
    assert!(redacted.len() <= 16 * text.len() + 64, "redaction grew {} bytes to {}", text.len(), redacted.len());
    let _ = vigil::privacy::is_recorded(&text);
}

/// Any bytes as a journal segment or a spool file: records or problems, never a panic.
pub fn records(data: &[u8]) {
    let spool = vigil::disk::decode_all::<vigil::spool::Entry>(data);
    let journal = vigil::disk::decode_all::<vigil_agent::journal::Record>(data);
    assert!(spool.records.len() + journal.records.len() <= data.len());
}

/// Any bytes as a stored model: a model or an error, never a panic or a huge allocation.
pub fn model(data: &[u8]) {
    let _ = vigil_agent::model::Model::from_bytes(data);
}
