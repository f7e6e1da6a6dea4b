//! The messages between `vigil` and `vigild`: one enum of requests, one of responses, and
//! the values they carry, shared by the blocking client and the async agent. How they travel
//! (frames, versions, limits) is `frame`'s.

use serde::{Deserialize, Serialize};

pub use crate::frame::{encode_frame, read_message, write_message, FrameError, MAX_FRAME_LEN};

/// Version of the frame layout and of the types below. Bump it on any change to them.
pub const PROTOCOL_VERSION: u16 = 9;

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
    /// Events that pass a filter, newest first, one page at a time; answered with
    /// [`Response::Events`]. A page ends at `limit` events or at [`LIST_BUDGET`] bytes of
    /// text, whichever comes first: ask again with `before` set to the last event's
    /// `(started_at, id)` for the next.
    Search {
        /// Which events.
        filter: EventFilter,
        /// Most events in this page.
        limit: u32,
        /// Only events older than this `(started_at, id)`.
        before: Option<(i64, i64)>,
    },
    /// Delete recorded events, everywhere the store keeps their text; answered with
    /// [`Response::Forgotten`]. With `dry_run`, only counts.
    Forget {
        /// Which events.
        target: ForgetTarget,
        /// Count, delete nothing.
        dry_run: bool,
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
    /// Every hard rule in force; answered with [`Response::Rules`].
    Rules,
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
        /// One line to show once per shell session before any warning: what is wrong in the
        /// configuration (sent with the session's first command only).
        notice: Option<String>,
        /// What the prompt will show about this command once it ends (its risk is known now):
        /// a hook that has it need not wait for the end's answer.
        segment: Option<Segment>,
    },
    /// The command was closed; `segment` is what the next prompt shows about it, if anything.
    Ended {
        /// The last command's risk, for the prompt; `None` shows nothing.
        segment: Option<Segment>,
    },
    /// Scores, one per command of [`Request::Score`].
    Scores(Vec<ScoreRecord>),
    /// A training report, as JSON (its fields are in the README's Learning section), and whether the new model
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
    /// What `Forget` deleted (or would delete, on a dry run).
    Forgotten(ForgetReport),
    /// The outcome of one [`Request::Import`] batch.
    Imported(ImportSummary),
    /// The labelling queue, most instructive first.
    Review(Vec<ReviewItem>),
    /// The hard rules in force, in the order they are tried.
    Rules(Vec<RuleInfo>),
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
    /// What decided the verdict, with weights (`None` when nothing judged the command).
    pub explain: Option<Explain>,
}

/// What decided a verdict: its source and the strongest reasons, largest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explain {
    /// `rule`, `label` or `model`.
    pub source: String,
    /// For the model, its strongest per-feature contributions to the probability of unsafe
    /// (Saabas, along each tree's decision path); for a rule, its id; for a label, the label.
    pub contributions: Vec<Contribution>,
}

/// One reason and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// `verb:delete`, `target:home`, `terms:rm -f -r`, `rule:fs:rm-home`, `label:unsafe`.
    pub feature: String,
    /// Its share of the probability of unsafe (positive raises it).
    pub weight: f64,
}

/// One hard rule, as `vigil rules` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// `category:name`.
    pub id: String,
    /// The part of the id before the colon.
    pub category: String,
    /// `critical`, `high` or `medium`.
    pub severity: String,
    /// What a command that hits it does.
    pub message: String,
    /// `built-in` or `config`.
    pub source: String,
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
    /// The configuration file the agent read.
    pub config_path: String,
    /// What is wrong in it (`config.toml:LINE: KEY: what is wrong`); those keys take their
    /// defaults.
    pub config_problems: Vec<String>,
}

/// Longest command (or folder) text in a list reply (`recent`, `search`, `review`, `stats`),
/// in bytes; a longer one is cut and ends with [`clip`]'s marker. `export` writes the whole.
pub const LIST_TEXT_MAX: usize = 2000;

/// Most bytes of text in one list reply: far inside a frame, whatever the store holds.
pub const LIST_BUDGET: usize = MAX_FRAME_LEN / 4;

/// Cuts `text` to [`LIST_TEXT_MAX`] bytes (at a character boundary) with a marker saying how
/// much was left out; returns the bytes it now holds.
pub fn clip(text: &mut String) -> usize {
    if text.len() > LIST_TEXT_MAX {
        let mut cut = LIST_TEXT_MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let left = text.len() - cut;
        text.truncate(cut);
        text.push_str(&format!("… [{left} more bytes]"));
    }
    text.len()
}

/// Which events a search (or `forget --pattern`) selects. Every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Text the command contains (a regular expression with `regex`).
    pub pattern: Option<String>,
    /// `pattern` is a regular expression (Rust `regex` syntax).
    pub regex: bool,
    /// Run in this folder or below it.
    pub cwd: Option<String>,
    /// Ended with this exit code.
    pub exit_code: Option<i32>,
    /// In this shell (`bash`, `zsh`, `fish`).
    pub shell: Option<String>,
    /// In this session.
    pub session: Option<String>,
    /// With this verdict (`safe`, `unsafe`, `unknown`).
    pub label: Option<String>,
    /// Only those that looked risky (verdict `unsafe`, rule hits included).
    pub risky: bool,
    /// Started at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Started before this time (ms since the epoch).
    pub until_ms: Option<i64>,
}

/// What `vigil forget` deletes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ForgetTarget {
    /// One event, by its id (`vigil recent --json`).
    Id(i64),
    /// Every event of exactly this command.
    Command(String),
    /// Every event the filter selects (a pattern, with or without other filters).
    Filter(EventFilter),
}

/// What a `Forget` deleted, or would.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ForgetReport {
    /// Events.
    pub events: u64,
    /// Distinct commands among them.
    pub commands: u64,
    /// Rows of the labels table for those commands (labels.txt itself is the person's).
    pub labels: u64,
}
