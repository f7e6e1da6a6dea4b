//! Log files that cannot grow without bound: past a size limit the file is renamed to
//! `NAME.1` (replacing the previous one) and a new one is started, so a log holds at most
//! twice its limit on disk.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A log file with size-bounded rotation.
pub struct RotatingFile {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    limit: u64,
}

fn open(path: &Path) -> std::io::Result<(File, u64)> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok((f, meta.len()))
}

/// Opens `path` for appending (0600, no symlink followed), first moving it to `NAME.1` if it
/// already holds `limit` bytes: for a file that another process writes (the agent's stderr).
pub fn open_rotated(path: &Path, limit: u64) -> std::io::Result<File> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() >= limit) {
        let mut old = path.to_path_buf().into_os_string();
        old.push(".1");
        let _ = std::fs::rename(path, &old);
    }
    open(path).map(|(f, _)| f)
}

impl RotatingFile {
    /// Opens (or creates, 0600) `path`; it rotates once it holds `limit` bytes.
    pub fn open(path: &Path, limit: u64) -> std::io::Result<RotatingFile> {
        let (file, size) = open(path)?;
        Ok(RotatingFile { path: path.to_path_buf(), file: Some(file), size, limit: limit.max(1024) })
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file = None;
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, &old)?;
        let (file, size) = open(&self.path)?;
        self.file = Some(file);
        self.size = size;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.size >= self.limit {
            // A failed rotation (a read-only folder) keeps writing where it can.
            let _ = self.rotate();
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => {
                let (f, size) = open(&self.path)?;
                self.size = size;
                self.file.insert(f)
            }
        };
        let n = file.write(buf)?;
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), File::flush)
    }
}

/// Appends one line to a log that rotates at `limit` bytes (for short-lived processes: the
/// hook client opens, writes and closes).
pub fn append_line(path: &Path, line: &str, limit: u64) {
    if let Ok(mut f) = RotatingFile::open(path, limit) {
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_another_writer_is_rotated_before_it_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigild.stderr");
        std::fs::write(&path, vec![b'x'; 2048]).unwrap();
        let mut f = open_rotated(&path, 2048).unwrap();
        f.write_all(b"new\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
        assert_eq!(std::fs::metadata(dir.path().join("vigild.stderr.1")).unwrap().len(), 2048);
        // Below the limit it is appended to.
        drop(open_rotated(&path, 2048).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
    }

    #[test]
    fn rotates_at_the_limit_and_keeps_one_old_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("x.log");
        for i in 0..1000 {
            append_line(&p, &format!("line {i:04} {}", "x".repeat(40)), 4096);
        }
        let now = std::fs::metadata(&p).unwrap().len();
        let old = std::fs::metadata(t.path().join("x.log.1")).unwrap().len();
        assert!(now <= 4096 + 100 && old <= 4096 + 100, "{now} {old}");
        assert!(std::fs::read_to_string(&p).unwrap().ends_with(&format!("line 0999 {}\n", "x".repeat(40))));
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_fifo_in_place_of_the_log_does_not_block() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("x.log");
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(RotatingFile::open(&p, 4096).is_err());
        append_line(&p, "x", 4096);
    }
}
