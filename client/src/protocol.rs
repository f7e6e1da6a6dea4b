//! The wire protocol between `vigil` and `vigild`: request and response types and the frame codec.
//!
//! A frame is a 4-byte big-endian length `N`, then `N` bytes: a 2-byte big-endian protocol
//! version followed by a postcard payload. The version sits outside the payload so that either
//! side can tell a peer of another version apart from garbage without decoding anything.
//! Files on disk (spool, journal) do not hold these frames: they carry format versions of
//! their own (see `disk`), so that a protocol change never makes kept events unreadable.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// Version of the frame layout and of the types below. Bump it on any change to them.
pub const PROTOCOL_VERSION: u16 = 6;

/// Largest frame either side accepts, header excluded. A command longer than this cannot be
/// recorded; a peer announcing a larger frame is cut off without reading it.
pub const MAX_FRAME_LEN: usize = 4 << 20;

/// Length prefix plus version.
pub const HEADER_LEN: usize = 6;

/// A request from the client (or the spool) to the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Ask the agent who it is; answered with [`Response::Pong`].
    Ping,
    /// A command is about to run in a shell; answered with [`Response::Started`].
    Start(CommandStart),
    /// The command running in a session has finished; answered with [`Response::Ended`].
    End(CommandEnd),
    /// The latest events, newest first; answered with [`Response::Events`].
    Recent {
        /// How many events at most.
        limit: u32,
    },
    /// Agent, store and model state; answered with [`Response::Status`].
    Status,
    /// Flush everything and exit; answered with [`Response::Ok`] before the agent stops.
    Shutdown,
    /// Score commands without recording them; answered with [`Response::Scores`], in order.
    Score {
        /// Command lines.
        commands: Vec<String>,
    },
    /// Retrain now and wait; answered with [`Response::Report`].
    Train,
    /// List model versions; answered with [`Response::Models`].
    Models,
    /// Make a model version current; answered with [`Response::Ok`].
    Rollback {
        /// The version.
        version: i64,
    },
    /// The effective configuration; answered with [`Response::Config`].
    Config,
    /// Write every event with its label to a CSV file; answered with [`Response::Exported`].
    Export {
        /// Absolute path of the file to write.
        path: String,
    },
    /// Store commands from a shell's history file, skipping those already stored; answered
    /// with [`Response::Imported`]. Sent in batches, in the file's order.
    Import {
        /// `bash`, `zsh` or `fish`.
        shell: String,
        /// The batch.
        entries: Vec<HistoryEntry>,
    },
    /// The labelling queue: recent distinct commands without a label, the most instructive
    /// first; answered with [`Response::Review`].
    Review {
        /// How many at most.
        limit: u32,
    },
    /// Usage and learning figures; answered with [`Response::Stats`].
    Stats {
        /// Days of the per-day chart, ending today.
        days: u32,
        /// Length of the top lists.
        top: u32,
    },
}

/// One command read from a history file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The command line (may span lines).
    pub command: String,
    /// When it ran, in milliseconds since the epoch; for a file without timestamps, a time
    /// that keeps the file's order.
    pub started_at: i64,
    /// Whether `started_at` came from the file.
    pub timed: bool,
    /// Wall time, when the file records it (zsh's extended history).
    pub duration_ms: Option<i64>,
    /// Which occurrence of this command this is in the file (1 for the first): for a timed
    /// entry, counted among entries of the same command and second; otherwise in the whole
    /// file. The entry is a duplicate when the store already holds that many.
    pub occurrence: u32,
}

/// Whether a command line is recorded at all: a command typed with a leading space is the
/// person's way of saying "not this one", and a blank line is nothing.
pub fn is_recorded(command: &str) -> bool {
    !command.starts_with([' ', '\t']) && !command.trim().is_empty()
}

/// A command about to run, as the preexec hook saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandStart {
    /// Shell-session id, unique per interactive shell.
    pub session: String,
    /// Position of this command in its session (the hook counts); `None` when the caller did
    /// not count, in which case the start time stands in.
    pub seq: Option<u64>,
    /// `bash`, `zsh`, `fish`, or what the caller said.
    pub shell: String,
    /// The command line exactly as typed.
    pub command: String,
    /// Working folder of the shell, if known.
    pub cwd: Option<String>,
    /// When the hook ran, in milliseconds since the Unix epoch.
    pub started_at_ms: i64,
}

impl CommandStart {
    /// The event's identity: the same command reported twice (once live, once through the
    /// spool after a timeout) must become one event, never two.
    pub fn key(&self) -> String {
        match self.seq {
            Some(seq) => format!("{}#{}", self.session, seq),
            None => format!("{}@{}", self.session, self.started_at_ms),
        }
    }
}

/// The end of the command running in a session, as the precmd hook saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandEnd {
    /// Shell-session id, as in the matching [`CommandStart`].
    pub session: String,
    /// The matching [`CommandStart::seq`], when the hook counts.
    pub seq: Option<u64>,
    /// Exit status of the command (of the pipeline's last element).
    pub exit_code: i32,
    /// Wall time of the command as the shell measured it.
    pub duration_ms: Option<i64>,
    /// When the hook ran, in milliseconds since the Unix epoch.
    pub ended_at_ms: i64,
}

/// The agent's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Who the agent is.
    Pong(AgentInfo),
    /// The command was handled; `recorded` is false for commands that are not recorded
    /// (typed with a leading space, or empty).
    Started {
        /// Whether the event is kept.
        recorded: bool,
        /// One line to show on stderr before the command runs, if it looks risky.
        warning: Option<String>,
    },
    /// The command was closed; `segment` is what the next prompt shows about it, if anything.
    Ended {
        /// The last command's risk, for the prompt; `None` shows nothing.
        segment: Option<Segment>,
    },
    /// Scores, one per command of [`Request::Score`].
    Scores(Vec<ScoreRecord>),
    /// A training report, as JSON (its fields are in DESIGN.md), and whether the new model
    /// was made current.
    Report {
        /// The report.
        json: String,
        /// False when the guard held the model back.
        current: bool,
    },
    /// Model versions, newest first.
    Models(Vec<ModelInfo>),
    /// The effective configuration: (key, value, where it came from), sorted by key.
    Config(Vec<(String, String, String)>),
    /// Rows written by [`Request::Export`].
    Exported {
        /// Events written.
        rows: u64,
    },
    /// Events, newest first.
    Events(Vec<EventRecord>),
    /// The outcome of one [`Request::Import`] batch.
    Imported(ImportSummary),
    /// The labelling queue, most instructive first.
    Review(Vec<ReviewItem>),
    /// Usage and learning figures.
    Stats(StatsReport),
    /// Agent state.
    Status(StatusReport),
    /// The request was carried out.
    Ok,
    /// The request could not be carried out.
    Error(ErrorReply),
}

/// The label of a scored command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Judged safe.
    Safe,
    /// Judged unsafe (a rule, the person's label, or the model).
    Unsafe,
    /// No judgement: the model is unsure or absent.
    Unknown,
}

impl Label {
    /// `safe`, `unsafe` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Safe => "safe",
            Label::Unsafe => "unsafe",
            Label::Unknown => "unknown",
        }
    }
}

/// Class probabilities of a model score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probabilities {
    /// Probability of safe.
    pub safe: f64,
    /// Probability of unsafe.
    #[serde(rename = "unsafe")]
    pub unsafe_: f64,
}

/// One command's score, as `vigil score --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    /// The command as scored (after redaction).
    pub command: String,
    /// The verdict.
    pub label: Label,
    /// Probability that it is unsafe; `None` when nothing could judge it.
    pub p_unsafe: Option<f64>,
    /// How sure the verdict is, from 0.5 (a coin toss) to 1.
    pub confidence: Option<f64>,
    /// The model's class probabilities, when the model judged it.
    pub probabilities: Option<Probabilities>,
    /// `rule:<id>`, `label` (the person's own), `model`, or `none`.
    pub reason: String,
    /// The model version used, if any.
    pub model_version: Option<i64>,
    /// For a rule hit, what the command does, in a few words.
    pub explanation: Option<String>,
}

/// What the prompt shows about the last command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// The verdict.
    pub label: Label,
    /// Probability of unsafe, if known.
    pub p_unsafe: Option<f64>,
    /// Why (`rule:<id>`, `model`, ...).
    pub reason: String,
}

/// One stored model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Version.
    pub version: i64,
    /// When it was trained (ms since the epoch).
    pub created_at: i64,
    /// Training examples.
    pub n_train: i64,
    /// Whether it is in use.
    pub current: bool,
    /// Why it was trained, or why it was not made current.
    pub note: Option<String>,
    /// Its training report, JSON.
    pub report: String,
}

/// Identity of a running agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// Process id.
    pub pid: u32,
    /// Crate version of the agent binary.
    pub version: String,
    /// Protocol version it speaks.
    pub protocol: u16,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// Machine-readable class.
    pub kind: ErrorKind,
    /// One line for a person.
    pub message: String,
}

/// Classes of [`ErrorReply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The frame could not be decoded.
    BadFrame,
    /// The store or journal failed; the event was not kept.
    Storage,
    /// The agent is shutting down.
    ShuttingDown,
    /// Anything else.
    Internal,
}

/// One stored command, as `vigil recent --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Row id in the store.
    pub id: i64,
    /// Shell-session id.
    pub session: String,
    /// Shell name.
    pub shell: String,
    /// Command line.
    pub command: String,
    /// Working folder.
    pub cwd: Option<String>,
    /// Host the command ran on.
    pub hostname: Option<String>,
    /// Start, in milliseconds since the epoch.
    pub started_at: i64,
    /// Wall time, once the command ended.
    pub duration_ms: Option<i64>,
    /// Exit status, once the command ended.
    pub exit_code: Option<i32>,
    /// `safe`, `unsafe` or `unknown`, once scored.
    pub label: Option<String>,
    /// Probability that the command is unsafe, once scored.
    pub p_unsafe: Option<f64>,
    /// Why it got that score (`rule:<id>`, `label`, `model`).
    pub reason: Option<String>,
    /// Model version that scored it.
    pub model_version: Option<i64>,
}

/// What an import batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Commands stored.
    pub added: u64,
    /// Commands already in the store.
    pub duplicates: u64,
    /// Commands not recorded (leading space, blank, or matched by the `[redact]` ignores).
    pub ignored: u64,
    /// Stored commands judged unsafe.
    pub risky: u64,
}

/// One command in the labelling queue, as `vigil review --list --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// The command (as stored: redacted).
    pub command: String,
    /// Times it was run.
    pub count: u64,
    /// When it last ran (ms since the epoch).
    pub last_seen: i64,
    /// Its current verdict.
    pub label: Label,
    /// Probability of unsafe from the current model, if any.
    pub p_unsafe: Option<f64>,
    /// How unsure the model is, from 0 (certain) to 1 (a coin toss).
    pub uncertainty: f64,
    /// Why it got its score (`model`, `none`).
    pub reason: String,
}

/// Figures for `vigil stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsReport {
    /// Events stored.
    pub events: u64,
    /// Distinct commands stored.
    pub distinct: u64,
    /// Commands per local day, oldest first, days without commands included: (`YYYY-MM-DD`, count).
    pub per_day: Vec<(String, u64)>,
    /// The most frequent commands: (command, count).
    pub frequent: Vec<(String, u64)>,
    /// The riskiest commands: (command, p_unsafe, count, reason).
    pub riskiest: Vec<(String, f64, u64, String)>,
    /// Stored events by verdict: (label, count).
    pub verdicts: Vec<(String, u64)>,
    /// The person's labels in force by label: (label, count).
    pub labels: Vec<(String, u64)>,
    /// Model versions, oldest first: (version, trained at in ms, held-out macro F1, current).
    pub models: Vec<(i64, i64, Option<f64>, bool)>,
}

/// A problem found in the label file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelError {
    /// 1-based line number.
    pub line: u64,
    /// The offending text.
    pub text: String,
    /// What is wrong with it.
    pub error: String,
}

/// Agent, store, label and model state, as `vigil status --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Agent process id.
    pub pid: u32,
    /// Socket path.
    pub socket: String,
    /// Agent crate version.
    pub version: String,
    /// Protocol version.
    pub protocol: u16,
    /// Database path.
    pub database: String,
    /// Events stored.
    pub events: u64,
    /// Events accepted and journalled but not yet in the database.
    pub pending: u64,
    /// Bytes in the journal.
    pub journal_bytes: u64,
    /// The last storage error, if the store is failing right now.
    pub storage_error: Option<String>,
    /// Labels in force.
    pub labels: u64,
    /// Problems in the label file.
    pub label_errors: Vec<LabelError>,
    /// Current model version, if any.
    pub model_version: Option<i64>,
    /// When the current model was trained (ms since the epoch).
    pub trained_at: Option<i64>,
    /// The last training's outcome, in a line (including a guard that held a model back).
    pub last_training: Option<String>,
    /// Seconds since the agent started.
    pub uptime_secs: u64,
    /// What the agent met and set aside: quarantined spool files, files that are not regular
    /// where events should be, damaged journal records, a socket folder it could not use.
    pub problems: Vec<String>,
    /// Spool files in quarantine (never deleted by vigil; see `vigil doctor`).
    pub quarantined: u64,
}

/// Why a frame could not be read or decoded.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection at a frame boundary.
    #[error("connection closed")]
    Closed,
    /// The peer closed the connection mid-frame.
    #[error("frame truncated")]
    Truncated,
    /// The length prefix exceeds [`MAX_FRAME_LEN`].
    #[error("frame of {0} bytes exceeds the {MAX_FRAME_LEN}-byte limit")]
    TooLarge(u64),
    /// The length prefix is too small to hold a version.
    #[error("frame too short")]
    TooShort,
    /// The peer speaks another protocol version.
    #[error("protocol version {theirs}, expected {PROTOCOL_VERSION}")]
    Version {
        /// The version in the frame.
        theirs: u16,
    },
    /// The payload is not a valid message.
    #[error("undecodable frame: {0}")]
    Decode(String),
    /// Encoding failed (a message larger than the limit).
    #[error("cannot encode frame: {0}")]
    Encode(String),
    /// The transport failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Encodes `msg` as one complete frame (header included).
pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let mut buf = vec![0u8; HEADER_LEN];
    buf = postcard::to_extend(msg, buf).map_err(|e| FrameError::Encode(e.to_string()))?;
    let body_len = buf.len() - 4;
    if body_len - 2 > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge(body_len as u64));
    }
    buf[0..4].copy_from_slice(&(body_len as u32).to_be_bytes());
    buf[4..6].copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    Ok(buf)
}

/// Checks a length prefix and returns the number of bytes that follow it (version + payload).
pub fn body_len(prefix: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(prefix) as u64;
    if len < 2 {
        return Err(FrameError::TooShort);
    }
    if len - 2 > MAX_FRAME_LEN as u64 {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len as usize)
}

/// Splits a frame body into its version and payload, refusing another protocol version.
pub fn split_body(body: &[u8]) -> Result<&[u8], FrameError> {
    if body.len() < 2 {
        return Err(FrameError::TooShort);
    }
    let theirs = u16::from_be_bytes([body[0], body[1]]);
    if theirs != PROTOCOL_VERSION {
        return Err(FrameError::Version { theirs });
    }
    Ok(&body[2..])
}

/// Decodes a payload (the body without its version) into a message.
pub fn decode_payload<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    // A payload is at most MAX_FRAME_LEN bytes, and postcard never allocates more than the
    // input can hold, so a hostile length inside it cannot ask for gigabytes.
    let (msg, rest) = postcard::take_from_bytes(payload).map_err(|e| FrameError::Decode(e.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::Decode(format!("{} trailing bytes", rest.len())));
    }
    Ok(msg)
}

/// Reads one frame body (version + payload) from a blocking reader.
pub fn read_body(r: &mut impl Read) -> Result<Vec<u8>, FrameError> {
    let mut prefix = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut prefix[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = body_len(prefix)?;
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => FrameError::Truncated,
        _ => FrameError::Io(e),
    })?;
    Ok(body)
}

/// Reads and decodes one message from a blocking reader.
pub fn read_message<T: serde::de::DeserializeOwned>(r: &mut impl Read) -> Result<T, FrameError> {
    let body = read_body(r)?;
    decode_payload(split_body(&body)?)
}

/// Encodes and writes one message to a blocking writer.
pub fn write_message<T: Serialize>(w: &mut impl Write, msg: &T) -> Result<(), FrameError> {
    let frame = encode_frame(msg)?;
    w.write_all(&frame)?;
    Ok(())
}

/// Decodes every complete frame in `bytes` (a spool or journal file); stops at the first
/// truncated or undecodable frame and reports how many bytes were consumed cleanly.
pub fn decode_stream<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> (Vec<T>, usize, Option<FrameError>) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.len() < 4 {
            return (out, pos, Some(FrameError::Truncated));
        }
        let len = match body_len([rest[0], rest[1], rest[2], rest[3]]) {
            Ok(len) => len,
            Err(e) => return (out, pos, Some(e)),
        };
        if rest.len() < 4 + len {
            return (out, pos, Some(FrameError::Truncated));
        }
        match split_body(&rest[4..4 + len]).and_then(decode_payload) {
            Ok(msg) => out.push(msg),
            Err(e) => return (out, pos, Some(e)),
        }
        pos += 4 + len;
    }
    (out, pos, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Request {
        Request::Start(CommandStart {
            session: "s1".into(),
            seq: Some(3),
            shell: "bash".into(),
            command: "echo 'héllo' | wc -c\nls".into(),
            cwd: Some("/tmp".into()),
            started_at_ms: 1_700_000_000_000,
        })
    }

    #[test]
    fn round_trip() {
        let frame = encode_frame(&start()).unwrap();
        let back: Request = read_message(&mut frame.as_slice()).unwrap();
        assert_eq!(back, start());
    }

    #[test]
    fn wrong_version_is_named() {
        let mut frame = encode_frame(&start()).unwrap();
        frame[4..6].copy_from_slice(&99u16.to_be_bytes());
        let err = read_message::<Request>(&mut frame.as_slice()).unwrap_err();
        assert!(matches!(err, FrameError::Version { theirs: 99 }), "{err}");
    }

    #[test]
    fn oversized_prefix_is_refused_before_reading() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 0, 1];
        let err = read_message::<Request>(&mut bytes.as_slice()).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge(_)), "{err}");
    }

    #[test]
    fn truncated_and_garbage_are_errors() {
        let frame = encode_frame(&start()).unwrap();
        let err = read_message::<Request>(&mut &frame[..frame.len() - 3]).unwrap_err();
        assert!(matches!(err, FrameError::Truncated), "{err}");
        let mut garbage = vec![0, 0, 0, 8, 0, PROTOCOL_VERSION as u8];
        garbage.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 0xff, 0xff]);
        let err = read_message::<Request>(&mut garbage.as_slice()).unwrap_err();
        assert!(matches!(err, FrameError::Decode(_)), "{err}");
        assert!(matches!(read_message::<Request>(&mut [].as_slice()), Err(FrameError::Closed)));
    }

    #[test]
    fn stream_stops_at_torn_tail() {
        let mut bytes = encode_frame(&start()).unwrap();
        bytes.extend(encode_frame(&Request::Ping).unwrap());
        let whole = bytes.len();
        bytes.extend(&encode_frame(&start()).unwrap()[..5]);
        let (msgs, used, err) = decode_stream::<Request>(&bytes);
        assert_eq!(msgs, vec![start(), Request::Ping]);
        assert_eq!(used, whole);
        assert!(matches!(err, Some(FrameError::Truncated)));
    }

    #[test]
    fn leading_space_and_blank_are_not_recorded() {
        assert!(is_recorded("ls -la"));
        assert!(is_recorded("ls\n  two"));
        assert!(!is_recorded(" ls"));
        assert!(!is_recorded("\tls"));
        assert!(!is_recorded("   "));
        assert!(!is_recorded(""));
    }

    #[test]
    fn keys_are_stable() {
        let Request::Start(mut s) = start() else { unreachable!() };
        assert_eq!(s.key(), "s1#3");
        s.seq = None;
        assert_eq!(s.key(), "s1@1700000000000");
    }
}
