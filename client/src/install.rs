//! The person's rc files and vigil's marked block in them (written by install.sh), and
//! `vigil uninstall`, which takes the blocks out, stops the agent and removes the binaries.

use crate::args::{unknown_arg, Arg, Args, UsageError};
use crate::manage::{fail, paths};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// First line of the block install.sh adds to an rc file (the script uses the same marks).
pub const BEGIN: &str = "# >>> vigil >>>";
/// Last line of that block.
pub const END: &str = "# <<< vigil <<<";

/// Help for `vigil uninstall`.
pub const UNINSTALL_USAGE: &str = "\
Usage: vigil uninstall [--purge] [--keep-binaries]

Stops the agent, removes exactly the marked vigil block from ~/.bashrc, ~/.zshrc and
~/.config/fish/config.fish (nothing else in them changes), and deletes the installed `vigil`
and `vigild`. Your history database, labels and config stay unless you add --purge.

  --purge           also delete vigil's data, labels and config
  --keep-binaries   leave `vigil` and `vigild` where they are

Example:
  vigil uninstall
";

/// The person's home folder (`$HOME`).
pub fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default()
}

/// The rc file of each shell.
pub fn rc_files() -> Vec<(&'static str, PathBuf)> {
    let h = home();
    let zdot = std::env::var_os("ZDOTDIR").map(PathBuf::from).unwrap_or_else(|| h.clone());
    let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from).unwrap_or_else(|| h.join(".config"));
    vec![("bash", h.join(".bashrc")), ("zsh", zdot.join(".zshrc")), ("fish", xdg.join("fish/config.fish"))]
}

/// `text` without the marked blocks; `Ok(None)` when there is none. A start marker without
/// its end line (or a second start before the end) is an error: removing "up to the end" would
/// drop the rest of the person's file.
pub fn without_block(text: &str) -> Result<Option<String>, String> {
    if !text.lines().any(|l| l == BEGIN) {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let mut inside: Option<usize> = None;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches('\n');
        match inside {
            Some(start) if bare == BEGIN => {
                return Err(format!("line {}: {BEGIN:?} again before the {END:?} of line {}", n + 1, start + 1))
            }
            Some(_) if bare == END => inside = None,
            Some(_) => {}
            None if bare == BEGIN => inside = Some(n),
            None => out.push_str(line),
        }
    }
    match inside {
        Some(start) => Err(format!("line {}: {BEGIN:?} has no {END:?} line after it", start + 1)),
        None => Ok(Some(out)),
    }
}

/// Removes the block from one rc file, writing it in place (its owner, mode and any link to
/// it stay as they are). Returns whether there was a block.
fn remove_block(rc: &Path) -> std::io::Result<bool> {
    let text = match std::fs::read_to_string(rc) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    match without_block(&text) {
        Ok(Some(rest)) => std::fs::write(rc, rest).map(|()| true),
        Ok(None) => Ok(false),
        Err(why) => {
            Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{why}; the file was left as it is")))
        }
    }
}

/// Every file and folder vigil creates, for `--purge`.
fn vigil_files(paths: &vigil::paths::Paths) -> Vec<PathBuf> {
    let mut v = vec![
        paths.socket.clone(),
        paths.lock.clone(),
        paths.journal_dir.clone(),
        paths.spool.clone(),
        paths.quarantine.clone(),
        paths.log_dir.clone(),
        paths.labels.clone(),
        paths.config.clone(),
        paths.data_dir.join("run"),
    ];
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut db = paths.db.clone().into_os_string();
        db.push(suffix);
        v.push(PathBuf::from(db));
    }
    v
}

/// Whether `exe` lies in a cargo build folder (`.../target/debug/vigil`, or one that
/// CARGO_TARGET_DIR names otherwise, which cargo marks with its cache-directory tag): a
/// developer's build is not an installation to delete.
fn in_build_folder(exe: &Path) -> bool {
    // A target folder of any name (CARGO_TARGET_DIR): cargo leaves its tag at the top, and a
    // `.cargo-lock` in each profile folder, which survives a profile folder copied elsewhere.
    exe.ancestors().any(|a| {
        a.file_name().is_some_and(|n| n == "target")
            || a.join(".cargo-lock").is_file()
            || std::fs::read_to_string(a.join("CACHEDIR.TAG")).is_ok_and(|t| t.contains("created by cargo"))
    })
}

/// `vigil uninstall`
pub fn uninstall(mut args: Args) -> Result<ExitCode, UsageError> {
    let (mut purge, mut keep_binaries) = (false, false);
    while let Some(arg) = args.next()? {
        match arg {
            Arg::Opt(o) if o == "--purge" => purge = true,
            Arg::Opt(o) if o == "--keep-binaries" => keep_binaries = true,
            other => return Err(unknown_arg(other)),
        }
    }
    args.finish()?;
    let paths = match paths() {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let mut failed = false;
    if vigil::connection::running_agent_pid(&paths).is_some() {
        if vigil::connection::terminate_agent(&paths, Duration::from_secs(5)) {
            println!("stopped the agent");
        } else {
            eprintln!("vigil: the agent did not stop; `vigil agent stop` or kill it, then run this again");
            failed = true;
        }
    }
    for (_, rc) in rc_files() {
        match remove_block(&rc) {
            Ok(true) => println!("  {}: hook removed", rc.display()),
            Ok(false) => {}
            Err(e) => {
                eprintln!(
                    "vigil: cannot edit {}: {e}; remove the lines between {BEGIN:?} and {END:?} by hand",
                    rc.display()
                );
                failed = true;
            }
        }
    }
    if !keep_binaries {
        match std::env::current_exe() {
            Ok(exe) if in_build_folder(&exe) => {
                println!("left {} in place: it is a build, not an installation", exe.display())
            }
            Ok(exe) => {
                let agent = exe.with_file_name("vigild");
                for bin in [&exe, &agent] {
                    match std::fs::remove_file(bin) {
                        Ok(()) => println!("  removed {}", bin.display()),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            eprintln!("vigil: cannot remove {}: {e}", bin.display());
                            failed = true;
                        }
                    }
                }
            }
            Err(e) => eprintln!("vigil: cannot tell where this vigil is ({e}); remove `vigil` and `vigild` by hand"),
        }
    }
    if purge {
        // Only what vigil made: VIGIL_HOME may be a folder that holds other things too.
        for path in vigil_files(&paths) {
            let gone = if path.is_dir() && !path.is_symlink() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match gone {
                Ok(()) => println!("  deleted {}", path.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    eprintln!("vigil: cannot delete {}: {e}", path.display());
                    failed = true;
                }
            }
        }
        // The folders themselves, only if nothing else is left in them.
        for dir in [&paths.runtime_dir, &paths.data_dir, &paths.config_dir] {
            let _ = std::fs::remove_dir(dir);
        }
        println!("deleted vigil's data, labels and config");
    } else {
        println!("kept your data (history database, labels, config): `vigil uninstall --purge` deletes them");
    }
    Ok(if failed { fail("uninstall did not finish: see above") } else { ExitCode::SUCCESS })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_exactly_the_block() {
        let text = format!("alias ll='ls -l'\n{BEGIN}\neval \"$(vigil init bash)\"\n{END}\nexport A=1\n");
        assert_eq!(without_block(&text).unwrap().as_deref(), Some("alias ll='ls -l'\nexport A=1\n"));
        assert_eq!(without_block("no block here\n"), Ok(None));
        // A file without a final newline keeps its last line.
        assert_eq!(without_block(&format!("{BEGIN}\nx\n{END}\nlast")).unwrap().as_deref(), Some("last"));
        // A lone start marker: nothing is removed, the line is named.
        let lone = format!("a\n{BEGIN}\neval x\nmy own line\n");
        assert!(without_block(&lone).unwrap_err().contains("line 2"));
        assert!(without_block(&format!("{BEGIN}\n{BEGIN}\n{END}\n")).is_err());
    }

    #[test]
    fn build_folders_are_recognised() {
        assert!(in_build_folder(Path::new("/src/vigil/target/debug/vigil")));
        assert!(!in_build_folder(Path::new("/home/a/.local/bin/vigil")));
        // CARGO_TARGET_DIR=/work/builds: cargo's tag says what the folder is.
        let t = tempfile::tempdir().unwrap();
        let exe = t.path().join("builds/debug/vigil");
        assert!(!in_build_folder(&exe));
        std::fs::create_dir_all(t.path().join("builds/debug")).unwrap();
        std::fs::write(
            t.path().join("builds/CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cargo.\n",
        )
        .unwrap();
        assert!(in_build_folder(&exe));
        // A profile folder copied out of its target folder still has cargo's lock file.
        let copied = t.path().join("elsewhere/debug");
        std::fs::create_dir_all(&copied).unwrap();
        assert!(!in_build_folder(&copied.join("vigil")));
        std::fs::write(copied.join(".cargo-lock"), "").unwrap();
        assert!(in_build_folder(&copied.join("vigil")));
    }
}
