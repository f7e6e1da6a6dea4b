//! The person's rc files and vigil's marked block in them (written by install.sh), and
//! `vigil uninstall`, which takes the blocks out, stops the agent and removes the binaries.

use crate::args::{Args, UsageError};
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

/// `text` without the marked block; `None` when there is none.
pub fn without_block(text: &str) -> Option<String> {
    if !text.lines().any(|l| l == BEGIN) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches('\n');
        if bare == BEGIN {
            inside = true;
        } else if inside && bare == END {
            inside = false;
        } else if !inside {
            out.push_str(line);
        }
    }
    Some(out)
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
        Some(rest) => std::fs::write(rc, rest).map(|()| true),
        None => Ok(false),
    }
}

/// Whether `exe` lies in a cargo build folder (`.../target/debug/vigil`): a developer's
/// build is not an installation to delete.
fn in_build_folder(exe: &Path) -> bool {
    exe.ancestors().any(|a| a.file_name().is_some_and(|n| n == "target"))
}

/// `vigil uninstall`
pub fn uninstall(mut args: Args) -> Result<ExitCode, UsageError> {
    let purge = args.flag(&["--purge"]);
    let keep_binaries = args.flag(&["--keep-binaries"]);
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
                eprintln!("vigil: cannot edit {}: {e}; remove the lines between {BEGIN:?} and {END:?} by hand", rc.display());
                failed = true;
            }
        }
    }
    if !keep_binaries {
        match std::env::current_exe() {
            Ok(exe) if in_build_folder(&exe) => println!("left {} in place: it is a build, not an installation", exe.display()),
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
        let mut folders = vec![paths.data_dir.clone(), paths.config_dir.clone(), paths.runtime_dir.clone()];
        folders.dedup();
        for dir in folders {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => println!("  deleted {}", dir.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    eprintln!("vigil: cannot delete {}: {e}", dir.display());
                    failed = true;
                }
            }
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
        assert_eq!(without_block(&text).as_deref(), Some("alias ll='ls -l'\nexport A=1\n"));
        assert_eq!(without_block("no block here\n"), None);
        // A file without a final newline keeps its last line.
        assert_eq!(without_block(&format!("{BEGIN}\nx\n{END}\nlast")).as_deref(), Some("last"));
    }

    #[test]
    fn build_folders_are_recognised() {
        assert!(in_build_folder(Path::new("/src/vigil/target/debug/vigil")));
        assert!(!in_build_folder(Path::new("/home/a/.local/bin/vigil")));
    }
}
