//! The `vigil` client library: the wire protocol shared with the agent, the paths both sides
//! use, the blocking connection the hooks and commands use, the spool and the record format of
//! files on disk, what is recorded and how it is redacted, and the shells' history file formats.

pub mod channel;
pub mod connection;
pub mod disk;
pub mod frame;
pub mod history;
pub mod logfile;
pub mod offline;
pub mod paths;
pub mod printable;
pub mod privacy;
pub mod protocol;
pub mod redact;
pub mod spool;

/// Version of this crate, reported by `vigil --version` and compared with the agent's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
