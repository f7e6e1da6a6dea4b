//! The lock file that keeps one agent per vigil home and names its pid.
//!
//! The file is never deleted: deleting it would let a waiting agent lock the old inode while a
//! new one locks a fresh file, and two agents would run. On exit it is only emptied.

use std::fs::File;
use std::io::{Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Lock errors.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another agent holds the lock.
    #[error("another vigild{} is already running for {}", .pid.map(|p| format!(" (pid {p})")).unwrap_or_default(), .path.display())]
    Held {
        /// Its pid, if the file names one.
        pid: Option<u32>,
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be opened or written.
    #[error("lock file {}: {source}", .path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// The held lock; released when dropped.
pub struct AgentLock {
    file: File,
}

impl AgentLock {
    /// Takes the lock and writes this process's pid into it. With `wait`, keeps trying that
    /// long (an older agent being replaced is still flushing).
    pub fn acquire(path: &Path, wait: Option<Duration>) -> Result<AgentLock, LockError> {
        let io = |source| LockError::Io { path: path.to_path_buf(), source };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        let until = Instant::now() + wait.unwrap_or_default();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(err)) => return Err(io(err)),
            }
            if Instant::now() >= until {
                let pid = std::fs::read_to_string(path).ok().and_then(|t| t.trim().parse().ok());
                return Err(LockError::Held { pid, path: path.to_path_buf() });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(AgentLock { file })
    }
}

impl Drop for AgentLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        // Closing the descriptor releases the flock.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_pid() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("vigild.lock");
        let held = AgentLock::acquire(&path, None).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), std::process::id().to_string());
        let err = AgentLock::acquire(&path, Some(Duration::from_millis(50))).err().unwrap();
        assert!(matches!(err, LockError::Held { pid: Some(p), .. } if p == std::process::id()), "{err}");
        drop(held);
        assert!(AgentLock::acquire(&path, None).is_ok());
    }
}
