//! Where vigil keeps its socket, database, journal, spool, labels, config and logs, and the
//! ownership and permission checks on the socket's folder.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A Unix socket path must fit `sockaddr_un.sun_path` (108 bytes with its NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// Every file and folder vigil uses, resolved once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Folder holding the socket and the lock file (0700, the user's own).
    pub runtime_dir: PathBuf,
    /// The agent's socket.
    pub socket: PathBuf,
    /// Lock file held by the running agent; holds its pid.
    pub lock: PathBuf,
    /// Folder of the database, journal, spool and logs.
    pub data_dir: PathBuf,
    /// SQLite store.
    pub db: PathBuf,
    /// Folder of the agent's write-ahead journal segments.
    pub journal_dir: PathBuf,
    /// Events written by hooks while no agent answered.
    pub spool: PathBuf,
    /// Log files.
    pub log_dir: PathBuf,
    /// Folder of the label file and the config file.
    pub config_dir: PathBuf,
    /// The person's label file.
    pub labels: PathBuf,
    /// `config.toml`.
    pub config: PathBuf,
    /// Spool files that could not be taken in (unreadable, or the agent died on them): kept
    /// for the person, never retried, never deleted.
    pub quarantine: PathBuf,
    /// Why the socket is not in its usual folder (that folder is another user's, or the path
    /// would be too long), for `vigil doctor`.
    pub runtime_note: Option<String>,
}

/// Why the paths could not be worked out or used.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// Neither `VIGIL_HOME` nor a home folder is known.
    #[error("cannot find a home folder: set VIGIL_HOME or HOME")]
    NoHome,
    /// The socket path is too long for a Unix socket.
    #[error("socket path {path} is {len} bytes, over the {MAX_SOCKET_PATH}-byte limit of Unix sockets: set VIGIL_HOME (or XDG_RUNTIME_DIR) to a shorter folder")]
    SocketPathTooLong {
        /// The path.
        path: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The socket folder is unsafe to use.
    #[error("refusing to use {path}: {why}")]
    Insecure {
        /// The folder.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// A filesystem call failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

impl Paths {
    /// Resolves the paths from the process environment (see [`Paths::resolve`]).
    pub fn from_env() -> Result<Paths, PathError> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        Paths::resolve(var("VIGIL_HOME"), var("XDG_RUNTIME_DIR"))
    }

    /// With `vigil_home` set, everything lives directly under it. Otherwise the database in
    /// the data folder, labels and config in the config folder, and the socket in
    /// `$XDG_RUNTIME_DIR/vigil` or a private `/tmp/vigil-$UID`.
    ///
    /// When the socket's folder cannot be used (another user created it first, it is a
    /// symbolic link) or the socket path would pass the 107-byte limit, the socket goes to the
    /// first usable fallback: `run/` in the data folder, then `/tmp/vigil-$UID-HASH`. Hooks and
    /// the agent look at the same folders, so they agree; capture never stops for good.
    pub fn resolve(vigil_home: Option<PathBuf>, xdg_runtime: Option<PathBuf>) -> Result<Paths, PathError> {
        let uid = rustix::process::geteuid().as_raw();
        let (preferred, data_dir, config_dir) = match vigil_home {
            Some(home) => {
                let home = absolute(home);
                (home.clone(), home.clone(), home)
            }
            None => {
                let dirs = directories::ProjectDirs::from("", "", "vigil").ok_or(PathError::NoHome)?;
                let runtime = match xdg_runtime {
                    Some(dir) => dir.join("vigil"),
                    None => PathBuf::from(format!("/tmp/vigil-{uid}")),
                };
                (runtime, dirs.data_dir().to_path_buf(), dirs.config_dir().to_path_buf())
            }
        };
        let candidates = [
            preferred,
            data_dir.join("run"),
            PathBuf::from(format!("/tmp/vigil-{uid}-{:016x}", fnv1a(data_dir.as_os_str().as_encoded_bytes()))),
        ];
        let mut notes: Vec<String> = Vec::new();
        let mut chosen = None;
        for dir in &candidates {
            match usable_runtime_dir(dir) {
                Ok(()) => {
                    chosen = Some(dir.clone());
                    break;
                }
                Err(why) => notes.push(why),
            }
        }
        let runtime = chosen.unwrap_or_else(|| candidates[0].clone());
        let mut paths = Paths::laid_out(runtime, data_dir, config_dir);
        if !notes.is_empty() {
            paths.runtime_note = Some(format!("{}; the socket is at {}", notes.join("; "), paths.socket.display()));
        }
        Ok(paths)
    }

    /// The error to report when the socket path cannot be used at all.
    pub fn socket_error(&self) -> Option<PathError> {
        let len = self.socket.as_os_str().len();
        (len > MAX_SOCKET_PATH).then(|| PathError::SocketPathTooLong { path: self.socket.display().to_string(), len })
    }

    fn laid_out(runtime_dir: PathBuf, data_dir: PathBuf, config_dir: PathBuf) -> Paths {
        Paths {
            socket: runtime_dir.join("vigil.sock"),
            lock: runtime_dir.join("vigild.lock"),
            runtime_dir,
            db: data_dir.join("vigil.db"),
            journal_dir: data_dir.join("journal"),
            spool: data_dir.join("spool"),
            log_dir: data_dir.join("logs"),
            quarantine: data_dir.join("quarantine"),
            data_dir,
            labels: config_dir.join("labels.txt"),
            config: config_dir.join("config.toml"),
            config_dir,
            runtime_note: None,
        }
    }
}

/// Whether `dir` can hold the socket: its socket path fits, and it is missing (it will be
/// created 0700) or a private folder of ours.
fn usable_runtime_dir(dir: &Path) -> Result<(), String> {
    let len = dir.join("vigil.sock").as_os_str().len();
    if len > MAX_SOCKET_PATH {
        return Err(format!(
            "a socket in {} would be {len} bytes, over the {MAX_SOCKET_PATH}-byte limit",
            dir.display()
        ));
    }
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: {e}", dir.display())),
        Ok(_) => check_private_dir(dir).map_err(|e| e.to_string()),
    }
}

/// FNV-1a, 64 bits: a stable short name for a folder (not a security measure).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

fn absolute(p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        return p;
    }
    std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
}

/// Checks that `dir` is a real folder (not a symlink), owned by this user and closed to group
/// and others. Anything else could let another user read commands or impersonate the agent.
pub fn check_private_dir(dir: &Path) -> Result<(), PathError> {
    let meta =
        std::fs::symlink_metadata(dir).map_err(|source| PathError::Io { path: dir.display().to_string(), source })?;
    let insecure = |why: String| PathError::Insecure { path: dir.display().to_string(), why };
    if meta.file_type().is_symlink() {
        return Err(insecure("it is a symbolic link".into()));
    }
    if !meta.is_dir() {
        return Err(insecure("it is not a folder".into()));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(insecure(format!("it is owned by uid {}, not by you (uid {me})", meta.uid())));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(insecure(format!("its mode is {mode:03o}; it must be closed to group and others (chmod 700)")));
    }
    Ok(())
}

/// Creates `dir` (and its parents) as 0700 where missing, then checks it with
/// [`check_private_dir`].
pub fn ensure_private_dir(dir: &Path) -> Result<(), PathError> {
    match std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => {}
        Err(source) => return Err(PathError::Io { path: dir.display().to_string(), source }),
    }
    check_private_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vigil_home_holds_everything() {
        let p = Paths::resolve(Some("/tmp/vh".into()), Some("/run/user/1".into())).unwrap();
        assert_eq!(p.socket, PathBuf::from("/tmp/vh/vigil.sock"));
        assert_eq!(p.db, PathBuf::from("/tmp/vh/vigil.db"));
        assert_eq!(p.labels, PathBuf::from("/tmp/vh/labels.txt"));
        assert_eq!(p.config, PathBuf::from("/tmp/vh/config.toml"));
        assert_eq!(p.spool, PathBuf::from("/tmp/vh/spool"));
    }

    #[test]
    fn runtime_dir_holds_the_socket_without_vigil_home() {
        if std::env::var_os("HOME").is_none() {
            return;
        }
        let p = Paths::resolve(None, Some("/run/user/1000".into())).unwrap();
        assert_eq!(p.socket, PathBuf::from("/run/user/1000/vigil/vigil.sock"));
        assert!(p.db.ends_with("vigil/vigil.db"));
        let p = Paths::resolve(None, None).unwrap();
        assert!(p.socket.starts_with("/tmp"), "{:?}", p.socket);
    }

    #[test]
    fn a_long_home_gets_a_short_socket_folder() {
        let long = PathBuf::from(format!("/tmp/{}", "x".repeat(120)));
        let p = Paths::resolve(Some(long.clone()), None).unwrap();
        assert!(p.socket.as_os_str().len() <= MAX_SOCKET_PATH, "{:?}", p.socket);
        assert!(p.socket_error().is_none());
        assert_eq!(p.db, long.join("vigil.db"));
        assert!(p.runtime_note.as_deref().unwrap_or("").contains("over the 107-byte limit"), "{:?}", p.runtime_note);
        // Computed the same way twice (the hook and the agent must agree).
        assert_eq!(Paths::resolve(Some(long), None).unwrap().socket, p.socket);
    }

    #[test]
    fn a_socket_folder_that_is_not_ours_is_passed_over() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        ensure_private_dir(&home).unwrap();
        // A symbolic link where the socket's folder should be (as another user could plant).
        let elsewhere = t.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let squat = t.path().join("squat");
        std::os::unix::fs::symlink(&elsewhere, &squat).unwrap();
        assert!(usable_runtime_dir(&squat).is_err());
        assert!(usable_runtime_dir(&home).is_ok());
        assert!(usable_runtime_dir(&t.path().join("missing")).is_ok());
        let p = Paths::resolve(Some(squat), None).unwrap();
        assert!(p.runtime_dir.ends_with("run"), "{:?}", p.runtime_dir);
        assert!(p.runtime_note.unwrap().contains("symbolic link"));
    }

    #[test]
    fn private_dir_checks() {
        let t = tempfile::tempdir().unwrap();
        let good = t.path().join("good");
        ensure_private_dir(&good).unwrap();
        let open = t.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o770)).unwrap();
        assert!(check_private_dir(&open).unwrap_err().to_string().contains("closed to group"));
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        assert!(check_private_dir(&link).unwrap_err().to_string().contains("symbolic link"));
    }
}
