//! The spool: events that hooks keep while no agent answers, taken in by the agent at start
//! and every second after.
//!
//! The spool is a folder with one file per event. A hook writes its frame to a temporary name
//! and renames it into place, so the agent only ever sees whole files, and never one a hook is
//! still writing (with a single shared file, a hook could append to it just after the agent
//! had read it and removed it, and the event was lost). Names sort in the order events were
//! spooled.

use crate::protocol::{self, FrameError, Request};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

fn now_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// Keeps one request in the spool folder (created 0700; the file 0600).
pub fn append(dir: &Path, req: &Request) -> Result<(), FrameError> {
    let frame = protocol::encode_frame(req)?;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let name = format!("{:032}-{:010}", now_nanos(), std::process::id());
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut file = std::fs::OpenOptions::new().create_new(true).write(true).mode(0o600).open(&tmp)?;
        file.write_all(&frame)?;
    }
    std::fs::rename(&tmp, dir.join(format!("{name}.event")))?;
    Ok(())
}

/// One spooled file and what it holds.
pub struct Taken {
    /// The file; delete it once its request is safely journalled.
    pub file: PathBuf,
    /// The requests in it (one, unless it was written by an older vigil).
    pub requests: Vec<Request>,
    /// What stopped the reading early, if anything.
    pub error: Option<FrameError>,
}

/// Every complete spooled event, oldest first. Temporary files of hooks that died while
/// writing are removed once they are a minute old.
pub fn take(dir: &Path) -> std::io::Result<Vec<Taken>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".event") {
            files.push(e.path());
        } else if name.starts_with('.') && name.ends_with(".tmp") {
            let old = e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age.as_secs() > 60);
            if old {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file)?;
        let (requests, _, error) = protocol::decode_stream::<Request>(&bytes);
        out.push(Taken { file, requests, error });
    }
    Ok(out)
}

/// Whether anything waits in the spool.
pub fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map(|mut e| !e.any(|x| x.is_ok_and(|x| x.file_name().to_string_lossy().ends_with(".event")))).unwrap_or(true)
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
        assert!(!is_empty(&spool));
        let taken = take(&spool).unwrap();
        let all: Vec<Request> = taken.iter().flat_map(|t| t.requests.clone()).collect();
        assert_eq!(all, vec![Request::Ping, Request::Status]);
        for t in &taken {
            std::fs::remove_file(&t.file).unwrap();
        }
        assert!(is_empty(&spool));
        use std::os::unix::fs::PermissionsExt;
        append(&spool, &Request::Shutdown).unwrap();
        let again = take(&spool).unwrap();
        assert_eq!(std::fs::metadata(&again[0].file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&spool).unwrap().permissions().mode() & 0o777, 0o700);
        // A hook that died mid-write leaves only a temporary file, which is never read.
        std::fs::write(spool.join(".123-1.tmp"), b"\0\0\0\x09\0").unwrap();
        assert_eq!(take(&spool).unwrap().len(), 1);
    }
}
