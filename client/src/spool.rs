//! The spool: frames that hooks append while no agent answers, taken in by the agent at start
//! and whenever the file reappears.
//!
//! Each record is one protocol frame written with a single `O_APPEND` write, so records from
//! concurrent hooks never interleave and a hook killed mid-write leaves at most a torn tail,
//! which the reader drops.

use crate::protocol::{self, FrameError, Request};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Appends one request to the spool file (created 0600).
pub fn append(path: &Path, req: &Request) -> Result<(), FrameError> {
    let frame = protocol::encode_frame(req)?;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    file.write_all(&frame)?;
    Ok(())
}

/// What [`take`] found.
pub struct Taken {
    /// The claimed file; delete it once its requests are safely journalled.
    pub file: PathBuf,
    /// The requests, in the order they were spooled.
    pub requests: Vec<Request>,
    /// What stopped the reading early, if anything (a torn tail, a frame of another version).
    pub error: Option<FrameError>,
}

/// Claims the spool by renaming it aside (hooks then start a fresh file), and reads what it
/// holds. Files claimed earlier but never deleted (the agent died before journalling them) are
/// returned too, oldest first; replaying them is harmless because events are keyed.
pub fn take(path: &Path) -> std::io::Result<Vec<Taken>> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let claimed_prefix = format!("{base}.claimed.");
    if path.exists() {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        std::fs::rename(path, dir.join(format!("{claimed_prefix}{stamp:032}")))?;
    }
    let mut claimed: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(&claimed_prefix))
            .map(|e| e.path())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    claimed.sort();
    let mut out = Vec::new();
    for file in claimed {
        let bytes = std::fs::read(&file)?;
        let (requests, _, error) = protocol::decode_stream::<Request>(&bytes);
        out.push(Taken { file, requests, error });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_then_take_in_order() {
        let t = tempfile::tempdir().unwrap();
        let spool = t.path().join("spool");
        append(&spool, &Request::Ping).unwrap();
        append(&spool, &Request::Status).unwrap();
        let taken = take(&spool).unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].requests, vec![Request::Ping, Request::Status]);
        assert!(!spool.exists());
        // A claimed file that was never deleted is offered again.
        append(&spool, &Request::Shutdown).unwrap();
        let again = take(&spool).unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(again[1].requests, vec![Request::Shutdown]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&again[1].file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
