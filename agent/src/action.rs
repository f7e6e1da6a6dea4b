//! What a parsed command does, as the model sees it beside its n-grams: the class of the verb
//! in the subcommand position of any tool, the class of its targets, force and no-confirm
//! flags, read-only markers, and whether it runs with privilege.
//!
//! The verb class is read from the words themselves (`dokku apps:destroy`, `qm destroy`,
//! `etcdctl del`, `aws ec2 terminate-instances`), so a tool never seen in training still says
//! what it does. Wrappers (`sudo`, `env`, `time`, `nice`, ...) are not features of their own:
//! privilege is one, which the scorer lets raise a risky score only (see `score.rs`).
//!
//! All work is linear in the command's words: each word is looked at a bounded number of times.
#![deny(clippy::indexing_slicing)]

use crate::parse::{Cmd, Parsed};

/// What a verb does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Reads, lists or shows (`ls`, `get`, `describe`, `plan`, `status`).
    Read,
    /// Creates or adds (`create`, `add`, `mkdir`, `install`).
    Create,
    /// Changes something in place (`set`, `update`, `chmod`, `mv`, `apply`).
    Modify,
    /// Publishes or deploys (`push`, `publish`, `deploy`, `upload`).
    Publish,
    /// Runs or builds (`run`, `exec`, `start`, `build`).
    Run,
    /// Deletes, wipes or resets (`rm`, `destroy`, `purge`, `prune`, `drop`, `format`).
    Delete,
    /// Stops, kills or powers off (`stop`, `kill`, `reboot`, `shutdown`, `drain`).
    Stop,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Read => "read",
            Verb::Create => "create",
            Verb::Modify => "modify",
            Verb::Publish => "publish",
            Verb::Run => "run",
            Verb::Delete => "delete",
            Verb::Stop => "stop",
        }
    }

    /// Whether the verb destroys or takes something down.
    pub fn destructive(self) -> bool {
        matches!(self, Verb::Delete | Verb::Stop)
    }
}

/// The class of a word used as a verb, if it is one.
pub fn verb_class(word: &str) -> Option<Verb> {
    Some(match word {
        "ls" | "list" | "get" | "show" | "describe" | "status" | "info" | "inspect" | "view" | "cat" | "diff"
        | "log" | "logs" | "check" | "plan" | "search" | "find" | "help" | "version" | "top" | "whoami" | "print"
        | "query" | "explain" | "validate" | "lint" | "verify" | "tree" | "history" | "ps" | "stat" | "stats"
        | "du" | "df" | "head" | "tail" | "less" | "more" | "grep" | "rg" | "wc" | "which" | "man" | "echo"
        | "printf" | "pwd" | "id" | "uname" | "uptime" | "free" | "lsblk" | "blkid" | "ping" | "dig" | "fetch"
        | "audit" | "scan" | "blame" | "shortlog" | "preview" | "outdated" | "doctor" | "read" | "watch" | "test"
        | "lookup" | "current" | "whatis" | "dump" | "export" | "count" | "summary" | "details" | "detail"
        | "display" | "reveal" | "tldr" | "usage" | "ls-files" | "ls-tree" | "ls-remote" | "rev-parse" | "dry-run"
        | "output" | "graph" | "events" | "health" | "ping-pong" | "config-view" | "cluster-info" | "api-resources"
        | "top-node" | "whereis" | "lsof" | "netstat" | "ss" | "journalctl" | "dmesg" | "locate" | "fd" | "jq"
        | "yq" | "file" | "md5sum" | "sha256sum" | "cmp" => Verb::Read,
        "create" | "add" | "new" | "init" | "mk" | "mkdir" | "touch" | "put" | "insert" | "generate" | "gen"
        | "scaffold" | "clone" | "copy" | "cp" | "fork" | "register" | "allocate" | "provision" | "install"
        | "import" | "attach" | "mount" | "ln" | "tag" | "commit" | "branch" | "open" | "setup" | "bootstrap"
        | "grant" | "invite" | "backup" | "snapshot" | "archive" | "pack" | "tar" | "zip" | "download" | "pull"
        | "get-credentials" | "login" | "save" | "record" | "mkdirs" => Verb::Create,
        "set" | "update" | "edit" | "patch" | "rename" | "mv" | "move" | "chmod" | "chown" | "chgrp" | "upgrade"
        | "scale" | "apply" | "replace" | "merge" | "rebase" | "rewrite" | "amend" | "write" | "sync" | "restore"
        | "revert" | "rollback" | "migrate" | "modify" | "change" | "switch" | "checkout" | "annotate" | "taint"
        | "cordon" | "uncordon" | "enable" | "reload" | "resize" | "grow" | "shrink" | "sed" | "configure" | "tune"
        | "convert" | "encrypt" | "decrypt" | "chattr" | "setfacl" | "usermod" | "passwd" | "chpasswd" | "mod"
        | "swap" | "rotate" | "renew" | "assign" | "unassign" | "attach-policy" | "overwrite" | "fsck" | "repair"
        | "unmount" | "umount" | "detach" | "logout" | "unlock" | "lock" | "untag" | "undo" | "restart"
        | "redeploy" | "refresh" | "squash" | "filter-branch" | "filter-repo" | "cherry-pick" | "tee" => Verb::Modify,
        "push" | "publish" | "deploy" | "release" | "upload" | "promote" | "ship" | "send" | "submit" | "share"
        | "expose" | "open-port" | "allow" | "authorize" => Verb::Publish,
        "run" | "exec" | "start" | "up" | "serve" | "launch" | "invoke" | "execute" | "call" | "build" | "compile"
        | "bench" | "dev" | "spawn" | "source" | "eval" | "bash" | "sh" | "zsh" | "python" | "python3" | "node"
        | "perl" | "ruby" | "php" | "deno" => Verb::Run,
        "delete" | "del" | "remove" | "rm" | "rmi" | "rmdir" | "destroy" | "purge" | "prune" | "wipe" | "wipefs"
        | "reset" | "drop" | "uninstall" | "erase" | "clean" | "cleanup" | "clear" | "burn" | "format" | "mkfs"
        | "shred" | "unlink" | "truncate" | "flush" | "nuke" | "revoke" | "terminate" | "evict" | "zap" | "discard"
        | "obliterate" | "unpublish" | "deregister" | "unregister" | "expunge" | "deprovision" | "decommission"
        | "unset" | "rmmod" | "delgroup" | "deluser" | "userdel" | "groupdel" | "dropdb" | "dropuser"
        | "blkdiscard" | "rmtree" | "teardown" | "deinit" | "forget" | "trash" | "annihilate" | "scrub" | "dd"
        | "srm" | "unalias" | "delete-all" | "gc" | "vacuum" | "autoremove" | "delrole" | "remove-item" | "rmr" => {
            Verb::Delete
        }
        "stop" | "halt" | "shutdown" | "poweroff" | "reboot" | "kill" | "killall" | "pkill" | "suspend" | "disable"
        | "drain" | "down" | "pause" | "hibernate" | "abort" | "cancel" | "crash" | "panic" | "freeze" | "block"
        | "deny" | "isolate" | "kexec" | "telinit" | "init-0" | "xkill" | "skill" | "deactivate" | "offline"
        | "quiesce" => Verb::Stop,
        _ => return None,
    })
}

/// The class of a verb-position word: the word itself, the last part of a namespaced one
/// (`apps:destroy`, `db:drop`), or the first of a compound one (`delete-bucket`,
/// `terminate_instances`, `deleteObject`).
fn word_verb(word: &str) -> Option<Verb> {
    if word.is_empty() || word.len() > 48 {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    if let Some(v) = verb_class(&lower) {
        return Some(v);
    }
    if let Some((_, last)) = lower.rsplit_once(':') {
        if let Some(v) = verb_class(last).or_else(|| compound_verb(last, word)) {
            return Some(v);
        }
    }
    compound_verb(&lower, word)
}

/// The first part of a compound word (`delete-bucket`, `rm_rf`, `deleteObject`).
fn compound_verb(lower: &str, original: &str) -> Option<Verb> {
    let first = lower.split(['-', '_']).next().unwrap_or("");
    if first.len() < lower.len() {
        if let Some(v) = verb_class(first) {
            return Some(v);
        }
    }
    // camelCase: the lower-case run before the first capital.
    let head: String = original.chars().take_while(|c| c.is_ascii_lowercase()).collect();
    if head.len() < original.len() && original.chars().nth(head.len()).is_some_and(|c| c.is_ascii_uppercase()) {
        return verb_class(&head);
    }
    None
}

/// What a command's target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `/`, `/*`.
    Root,
    /// The home folder itself (`~`, `$HOME`, `/home`, `/root`).
    Home,
    /// A dotfile or dot folder in the home (`~/.ssh`, `~/.bashrc`).
    HomeDot,
    /// Something else under the home (`~/Documents`).
    HomeSub,
    /// A system folder (`/etc`, `/usr`, `/boot`, `/var`, ...).
    System,
    /// A device (`/dev/sda`), not `/dev/null`.
    Device,
    /// A remote or cloud resource (`s3://`, `https://`, `host:path`, `arn:`).
    Remote,
    /// A temporary folder (`/tmp/x`, `$TMPDIR/x`).
    Temp,
    /// An unexpanded variable (`$DIR/`): unknown until run.
    Variable,
    /// Everything here (`*`, `.`, `./*`) or a glob.
    Glob,
    /// A path relative to the project (`src/x`, `./build`, `notes.txt`).
    Project,
    /// Another absolute path (`/mnt/data`, `/srv/app`).
    Absolute,
    /// A bare name (a branch, a bucket, an app, a package).
    Name,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Root => "root",
            Target::Home => "home",
            Target::HomeDot => "home-dotfile",
            Target::HomeSub => "home-subfolder",
            Target::System => "system",
            Target::Device => "device",
            Target::Remote => "remote",
            Target::Temp => "temp",
            Target::Variable => "variable",
            Target::Glob => "glob",
            Target::Project => "project",
            Target::Absolute => "absolute",
            Target::Name => "name",
        }
    }

    const ALL: [Target; 13] = [
        Target::Root,
        Target::Home,
        Target::HomeDot,
        Target::HomeSub,
        Target::System,
        Target::Device,
        Target::Remote,
        Target::Temp,
        Target::Variable,
        Target::Glob,
        Target::Project,
        Target::Absolute,
        Target::Name,
    ];
}

/// The class of an operand, if it names a target at all (numbers and empty words do not).
pub fn target_class(word: &str) -> Option<Target> {
    // key=value (`of=/dev/sda`, `--path=/etc`): the value.
    let w = match word.split_once('=') {
        Some((k, v)) if !k.is_empty() && !k.contains('/') && !v.is_empty() => v,
        _ => word,
    };
    let w = w.trim_matches(|c| c == '"' || c == '\'');
    if w.is_empty() || w.parse::<f64>().is_ok() {
        return None;
    }
    let t = w.trim_end_matches('/');
    let starts = |p: &str| w.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    if t.is_empty() || matches!(t, "/*" | "/." | "/.*") {
        return Some(Target::Root);
    }
    if matches!(
        t,
        "~" | "$HOME" | "${HOME}" | "~/*" | "$HOME/*" | "${HOME}/*" | "/home" | "/root" | "/Users" | "/home/*" | "~/.*"
    ) || (t.starts_with("/home/") || t.starts_with("/Users/")) && t.matches('/').count() == 2 && !t.ends_with('*')
    {
        return Some(Target::Home);
    }
    if [
        "s3://", "gs://", "az://", "http://", "https://", "ftp://", "sftp://", "ssh://", "rsync://", "git@", "arn:",
        "gcs://", "r2://", "b2://", "swift://", "wasb://", "abfs://", "hdfs://",
    ]
    .iter()
    .any(|p| starts(p))
        || t.starts_with("/dev/tcp/")
        || t.starts_with("/dev/udp/")
    {
        return Some(Target::Remote);
    }
    if let Some(dev) = t.strip_prefix("/dev/") {
        return match dev {
            "null" | "zero" | "urandom" | "random" | "stdin" | "stdout" | "stderr" | "tty" => None,
            d if d.starts_with("fd/") || d.starts_with("pts/") || d.starts_with("shm") => Some(Target::Temp),
            _ => Some(Target::Device),
        };
    }
    if ["/tmp", "/var/tmp", "$TMPDIR", "${TMPDIR}", "/private/tmp"]
        .iter()
        .any(|p| t == *p || t.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
    {
        return Some(Target::Temp);
    }
    for sys in [
        "/etc",
        "/boot",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/lib32",
        "/var",
        "/proc",
        "/sys",
        "/opt",
        "/srv",
        "/System",
        "/Library",
        "/Applications",
        "/efi",
        "/snap",
    ] {
        if t.strip_prefix(sys).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')) {
            return Some(Target::System);
        }
    }
    if let Some(rest) = t.strip_prefix("~/").or_else(|| t.strip_prefix("$HOME/")).or_else(|| t.strip_prefix("${HOME}/"))
    {
        return Some(if rest.starts_with('.') { Target::HomeDot } else { Target::HomeSub });
    }
    if t.starts_with("/home/") || t.starts_with("/Users/") || t.starts_with("/root/") {
        let skip = if t.starts_with("/root/") { 2 } else { 3 };
        let rest = t.split('/').nth(skip).unwrap_or("");
        return Some(if rest.starts_with('.') { Target::HomeDot } else { Target::HomeSub });
    }
    if t.starts_with('/') {
        return Some(Target::Absolute);
    }
    if w.starts_with('$') || w.contains("${") {
        return Some(Target::Variable);
    }
    if matches!(t, "*" | "." | ".." | "./*" | ".*" | "./.*" | "*.*") || t.contains('*') {
        return Some(Target::Glob);
    }
    // user@host:path, host:/path (scp, rsync), but not a `a:b` word without a path.
    if let Some((host, path)) = t.split_once(':') {
        if !host.is_empty()
            && !host.contains('/')
            && (path.starts_with('/') || path.starts_with('~') || host.contains('@'))
        {
            return Some(Target::Remote);
        }
    }
    if t.contains('/')
        || t.starts_with('.')
        || t.rsplit_once('.').is_some_and(|(a, ext)| {
            !a.is_empty() && (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
        })
    {
        return Some(Target::Project);
    }
    if t.chars().any(char::is_whitespace) {
        return None;
    }
    Some(Target::Name)
}

/// Flags that force or skip a confirmation.
fn is_force_flag(flag: &str) -> bool {
    matches!(
        flag,
        "-f" | "--force"
            | "-y"
            | "--yes"
            | "--assume-yes"
            | "--assumeyes"
            | "--noprompt"
            | "--no-prompt"
            | "--no-preserve-root"
            | "--no-confirm"
            | "--noconfirm"
            | "--non-interactive"
            | "--auto-approve"
            | "-auto-approve"
            | "--confirm"
            | "--accept-data-loss"
            | "--skip-confirmation"
            | "--hard"
            | "-force"
            | "--force-all"
            | "--yes-i-really-mean-it"
            | "--no-backup"
            | "--quiet-yes"
            | "--force-delete"
            | "--force-remove-essential"
            | "--nodeps"
            | "--skip-preflight-checks"
            | "--overwrite"
            | "--no-verify"
            | "--unsafe"
            | "--dangerous"
            | "--allow-root"
            | "--cascade"
            | "--grace-period=0"
            | "--now"
            | "--immediately"
            | "-F"
            | "--force-yes"
            | "--nuke"
    ) || flag.starts_with("--force")
        && !flag.starts_with("--force-with-lease")
        && !flag.starts_with("--force-if-includes")
}

/// Flags that say what is to be deleted (`--delete`, `-delete`, `--purge`, `--prune`).
fn flag_verb(flag: &str) -> Option<Verb> {
    let body = flag.trim_start_matches('-');
    if body.len() < 3 {
        return None;
    }
    let body = body.split('=').next().unwrap_or(body);
    let first = body.split(['-', '_']).next().unwrap_or(body);
    match verb_class(first) {
        // `--rm` (docker run) only cleans up after itself; `--clear`, `--reset` are often
        // options of reading tools: the n-grams decide those.
        Some(Verb::Delete) if !matches!(first, "rm" | "clear" | "clean" | "format" | "dd") => Some(Verb::Delete),
        Some(Verb::Stop) if matches!(first, "kill" | "shutdown" | "poweroff" | "reboot" | "halt") => Some(Verb::Stop),
        _ => None,
    }
}

/// Markers of a read-only form: help, version, dry-run, listing, diffing.
fn is_read_only_flag(flag: &str) -> bool {
    let name = flag.split('=').next().unwrap_or(flag);
    matches!(
        name,
        "--help"
            | "-help"
            | "--version"
            | "--dry-run"
            | "--dryrun"
            | "--dry_run"
            | "-dry-run"
            | "--check"
            | "--noop"
            | "--no-op"
            | "--simulate"
            | "--what-if"
            | "-whatif"
            | "--whatif"
            | "-WhatIf"
            | "--no-act"
            | "--just-print"
            | "--recon"
            | "--preview"
            | "--list"
            | "--detail"
            | "--details"
            | "--show"
            | "--print"
            | "--status"
            | "--info"
            | "--diff"
            | "--query"
            | "--stat"
            | "--describe"
            | "--plan"
            | "--validate"
            | "--verify"
            | "--test"
            | "--explain"
            | "--pretend"
            | "--report"
            | "--inspect"
            | "--summary"
            | "--backup"
            | "--export"
            | "--print-only"
            | "--list-only"
            | "--dump"
            | "--usage"
            | "--man"
            | "--show-only"
            | "--only-show"
            | "--no-write"
            | "--no-execute"
            | "--readonly"
            | "--read-only"
    )
}

/// How many positional words after the program are searched for its verb.
const VERB_SEARCH: usize = 4;

/// Names of the structural features, in column order (after the n-gram columns).
pub fn names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut v: Vec<String> = Vec::new();
        for verb in VERBS {
            v.push(format!("verb:{}", verb.name()));
        }
        v.push("verb:none".into());
        for t in Target::ALL {
            v.push(format!("target:{}", t.name()));
        }
        v.push("target:none".into());
        v.extend(
            [
                "flag:force",
                "flag:recursive",
                "flag:all",
                "flag:delete",
                "flag:stop",
                "read-only",
                "privileged",
                "pipe:into-shell",
                "redirect:device",
                "redirect:system",
                "redirect:home-dotfile",
                "redirect:truncate",
                "input:from-pipe",
                "commands",
                "known-terms",
            ]
            .map(String::from),
        );
        for verb in [Verb::Delete, Verb::Stop, Verb::Modify, Verb::Create, Verb::Publish] {
            for t in Target::ALL {
                v.push(format!("{}+target:{}", verb.name(), t.name()));
            }
            v.push(format!("{}+force", verb.name()));
            v.push(format!("{}+recursive", verb.name()));
            v.push(format!("{}+read-only", verb.name()));
        }
        v
    })
}

const VERBS: [Verb; 7] = [Verb::Read, Verb::Create, Verb::Modify, Verb::Publish, Verb::Run, Verb::Delete, Verb::Stop];

/// Column of a named feature among [`names`] (the list is small and the lookups are of
/// constants, done once each per command).
fn col(name: &str) -> Option<usize> {
    static INDEX: std::sync::OnceLock<std::collections::HashMap<&'static str, usize>> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| names().iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect()).get(name).copied()
}

/// Column of the privilege feature.
pub fn privileged_col() -> usize {
    col("privileged").unwrap_or(0)
}

/// Column of the share of the line's n-grams that the vocabulary knows.
pub fn known_terms_col() -> usize {
    col("known-terms").unwrap_or(0)
}

/// What one command does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CmdAction {
    /// The program.
    pub tool: String,
    /// The verb word found (the program itself, or the word in the subcommand position).
    pub verb_word: Option<String>,
    /// Its class.
    pub verb: Option<Verb>,
    /// A read-only marker is present.
    pub read_only: bool,
    /// It asks for help or a version (`--help`, `help`, `--version`): it only prints.
    pub help: bool,
}

/// The structural features of a line: dense values by column of [`names`], the privilege
/// bit left out (the caller sets it, see [`privileged_col`]), and each command's action.
pub fn features(parsed: &Parsed) -> (Vec<f32>, bool, Vec<CmdAction>) {
    let mut x = vec![0.0f32; names().len()];
    let mut set = |name: &str, x: &mut Vec<f32>| {
        if let Some(v) = col(name).and_then(|i| x.get_mut(i)) {
            *v = 1.0;
        }
    };
    let mut privileged = false;
    let mut actions = Vec::new();
    let mut n_commands = 0usize;
    for pipeline in &parsed.pipelines {
        let mut feeder: Option<&Cmd> = None;
        for cmd in pipeline {
            n_commands += 1;
            if cmd.wrappers.iter().any(|w| matches!(w.as_str(), "sudo" | "doas" | "runuser" | "su" | "chroot"))
                || matches!(cmd.name(), "pkexec")
            {
                privileged = true;
            }
            let a = one(cmd, feeder.is_some(), &mut x, &mut set);
            if let Some(f) = feeder {
                let shell = matches!(
                    cmd.name(),
                    "bash"
                        | "sh"
                        | "zsh"
                        | "dash"
                        | "ksh"
                        | "fish"
                        | "python"
                        | "python3"
                        | "perl"
                        | "ruby"
                        | "node"
                        | "php"
                );
                if shell
                    && cmd.args().iter().all(|a| a.starts_with('-'))
                    && !matches!(f.name(), "echo" | "printf" | "cat")
                    || shell && matches!(f.name(), "curl" | "wget")
                {
                    set("pipe:into-shell", &mut x);
                }
            }
            actions.push(a);
            feeder = Some(cmd);
        }
    }
    if let Some(v) = col("commands").and_then(|i| x.get_mut(i)) {
        *v = n_commands.min(16) as f32;
    }
    (x, privileged, actions)
}

/// Programs that act on the terminal only (`clear`, `reset`, `tput clear`, `stty sane`): their
/// words are capabilities and settings, never verbs that touch data.
fn terminal_only(program: &str) -> bool {
    matches!(program, "clear" | "reset" | "tput" | "tset" | "stty" | "setterm" | "tabs")
}

/// Whether a stream editor is told to edit its files in place (`sed -i`, `-i.bak`, `-ni`,
/// `--in-place`); without that it only writes to its output.
fn edits_in_place(args: &[String]) -> bool {
    args.iter().take_while(|a| *a != "--").any(|a| {
        a.starts_with("--in-place")
            || !a.starts_with("--")
                && a.strip_prefix('-')
                    .is_some_and(|body| body.chars().take_while(char::is_ascii_alphabetic).any(|c| c == 'i'))
    })
}

fn one(cmd: &Cmd, piped: bool, x: &mut Vec<f32>, set: &mut impl FnMut(&str, &mut Vec<f32>)) -> CmdAction {
    let name = cmd.name();
    let lower_name = name.to_ascii_lowercase();
    // The program itself is the verb (`rm`, `shred`, `mkfs.ext4`, `reboot`), or the verb is
    // in the subcommand position. What a command does, not how it looks: a terminal program
    // only reads and redraws, and sed without -i only prints.
    let program_verb = if terminal_only(&lower_name) || lower_name == "sed" && !edits_in_place(cmd.args()) {
        Some(Verb::Read)
    } else {
        verb_class(&lower_name).or_else(|| lower_name.split('.').next().and_then(verb_class))
    };
    let mut action = CmdAction { tool: lower_name.clone(), ..Default::default() };
    let mut positional = 0usize;
    let mut verb_at: Option<usize> = None;
    let (mut force, mut bundle_force, mut recursive, mut read_only) = (false, false, false, false);
    let mut targets: Vec<Target> = Vec::new();
    let mut after_dashes = false;
    if let Some(v) = program_verb {
        action.verb = Some(v);
        action.verb_word = Some(lower_name.clone());
    }
    for (i, a) in cmd.args().iter().enumerate() {
        if !after_dashes && a == "--" {
            after_dashes = true;
            continue;
        }
        if !after_dashes && a.starts_with('-') && a.len() > 1 && !a.starts_with("-/") {
            let long = a.starts_with("--");
            let flag = if long { a.split('=').next().unwrap_or(a) } else { a.as_str() };
            if (is_force_flag(flag) || is_force_flag(a)) && !matches!(a.as_str(), "-f" | "-F") {
                force = true;
            } else if matches!(a.as_str(), "-f" | "-F") {
                bundle_force = true;
            }
            if is_read_only_flag(a) {
                read_only = true;
            }
            if matches!(flag, "--help" | "-help" | "--version" | "--usage") || (a == "-h" && cmd.args().len() == 1) {
                action.help = true;
            }
            if matches!(flag, "--recursive" | "-recursive" | "-R" | "-r") {
                recursive = true;
            }
            if matches!(flag, "--all" | "-a" | "-A" | "--all-namespaces" | "--everything" | "--all-databases") {
                set("flag:all", x);
            }
            match flag_verb(flag) {
                Some(Verb::Delete) => set("flag:delete", x),
                Some(Verb::Stop) => set("flag:stop", x),
                _ => {}
            }
            if !long {
                // A bundle of short flags: -rf, -fy, -qy (what -f means is the tool's own:
                // it counts as force only beside a verb that changes something).
                let body = a.get(1..).unwrap_or("");
                // Upper-case words are names, not bundles: `kill -TERM`, `-HUP`, `-KILL`.
                let a_name = body.len() >= 3 && !body.chars().any(|c| c.is_ascii_lowercase());
                if !a_name && body.len() <= 5 && body.chars().all(|c| c.is_ascii_alphabetic()) {
                    bundle_force |= body.contains('f') || body.contains('y');
                    recursive |= body.contains('r') || body.contains('R');
                }
            }
            if let Some((_, v)) = a.split_once('=') {
                if let Some(t) = target_class(v) {
                    targets.push(t);
                }
            }
            continue;
        }
        if a == "help" && positional <= VERB_SEARCH {
            read_only = true;
            action.help = true;
        }
        if action.verb.is_none() && positional < VERB_SEARCH {
            if let Some(v) = word_verb(a) {
                action.verb = Some(v);
                action.verb_word = Some(a.to_ascii_lowercase());
                verb_at = Some(i);
                positional += 1;
                continue;
            }
        }
        positional += 1;
        if verb_at.is_some() || program_verb.is_some() || positional > 1 {
            if let Some(t) = target_class(a) {
                targets.push(t);
            }
        } else if let Some(t) = target_class(a).filter(|t| !matches!(t, Target::Name)) {
            // Before the verb: a path is still a target (`git -C /etc ...` aside).
            targets.push(t);
        }
    }
    for (op, target) in &cmd.redirects {
        if op.contains('>') {
            match target_class(target) {
                Some(Target::Device) => set("redirect:device", x),
                Some(Target::System) => set("redirect:system", x),
                Some(Target::HomeDot) => set("redirect:home-dotfile", x),
                _ => {}
            }
            if name == ":" || (op == ">" && cmd.argv.len() <= 1) {
                set("redirect:truncate", x);
            }
        }
    }
    if cmd.wrappers.iter().any(|w| w == "xargs") || piped {
        set("input:from-pipe", x);
    }
    if bundle_force && action.verb.is_some_and(|v| !matches!(v, Verb::Read | Verb::Run)) {
        force = true;
    }
    match action.verb {
        Some(v) => set(&format!("verb:{}", v.name()), x),
        None => set("verb:none", x),
    }
    if targets.is_empty() {
        set("target:none", x);
    }
    for t in &targets {
        set(&format!("target:{}", t.name()), x);
    }
    if force {
        set("flag:force", x);
    }
    if recursive {
        set("flag:recursive", x);
    }
    if read_only {
        set("read-only", x);
    }
    if let Some(v) =
        action.verb.filter(|v| matches!(v, Verb::Delete | Verb::Stop | Verb::Modify | Verb::Create | Verb::Publish))
    {
        for t in &targets {
            set(&format!("{}+target:{}", v.name(), t.name()), x);
        }
        if force {
            set(&format!("{}+force", v.name()), x);
        }
        if recursive {
            set(&format!("{}+recursive", v.name()), x);
        }
        if read_only {
            set(&format!("{}+read-only", v.name()), x);
        }
    }
    action.read_only = read_only || action.help;
    action
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn verbs(line: &str) -> Vec<(String, Option<Verb>)> {
        features(&parse(line)).2.into_iter().map(|a| (a.tool, a.verb)).collect()
    }

    fn has(line: &str, feature: &str) -> bool {
        let (x, _, _) = features(&parse(line));
        x[col(feature).unwrap()] > 0.0
    }

    #[test]
    fn verbs_of_tools_never_seen() {
        for (line, verb) in [
            ("frobctl apps:destroy web", Verb::Delete),
            ("zq destroy 100 --purge", Verb::Delete),
            ("kvstore del my/key", Verb::Delete),
            ("nodectl reset", Verb::Delete),
            ("blobs rm docs/folder", Verb::Delete),
            ("cloudy env rm staging", Verb::Delete),
            ("aws ec2 terminate-instances --instance-ids i-1", Verb::Delete),
            ("gsutil -m ls gs://b", Verb::Read),
            ("svc stop web", Verb::Stop),
            ("mkfs.ext4 /dev/sdb1", Verb::Delete),
            ("widget list --all", Verb::Read),
            ("git push origin feature-delete-button", Verb::Publish),
        ] {
            assert_eq!(verbs(line)[0].1, Some(verb), "{line}");
        }
        assert_eq!(verbs("frob --x y")[0].1, None);
    }

    #[test]
    fn targets_flags_and_privilege() {
        assert!(has("rm -rf /", "target:root"));
        assert!(has("rm -rf /", "delete+target:root"));
        assert!(has("rm -rf /", "delete+force"));
        assert!(has("sudo rm -rf ~", "target:home"));
        assert!(features(&parse("sudo rm -rf ~")).1);
        assert!(!features(&parse("rm -rf ~")).1);
        assert!(has("dd if=/dev/zero of=/dev/sdb", "target:device"));
        assert!(has("aws s3 rm s3://bucket/x", "delete+target:remote"));
        assert!(has("rm -rf /tmp/build", "delete+target:temp"));
        assert!(has("rm -f notes/todo.txt", "delete+target:project"));
        assert!(has("terraform plan -destroy", "verb:read"));
        assert!(has("vgremove --help", "read-only"));
        assert!(features(&parse("git help reset")).2[0].help);
        assert!(features(&parse("frobctl destroy --help")).2[0].help);
        assert!(!features(&parse("frobctl destroy x")).2[0].help);
        assert!(has("npm unpublish --dry-run", "delete+read-only"));
        assert!(has("apt-get install -y git", "flag:force"));
        assert!(!has("git push --force-with-lease", "flag:force"));
        assert!(has("git push --force", "flag:force"));
        assert!(has("find . -delete", "flag:delete"));
        assert!(!has("docker run --rm -it alpine", "flag:delete"));
        assert!(has("curl -sL https://x | bash", "pipe:into-shell"));
        assert!(has("echo x > /dev/sda", "redirect:device"));
        // A word inside another is not a target: `feature-master` is a name.
        assert!(!has("git push origin feature-master", "target:device"));
        assert_eq!(target_class("feature-master"), Some(Target::Name));
        assert_eq!(target_class("user@host:/var/www"), Some(Target::Remote));
        assert_eq!(target_class("/home/bob"), Some(Target::Home));
        assert_eq!(target_class("/home/bob/.ssh"), Some(Target::HomeDot));
        assert_eq!(target_class("/dev/null"), None);
    }

    #[test]
    fn what_it_does_not_how_it_looks() {
        for line in ["clear", "reset", "tput reset", "tput clear", "stty sane", "sed -n 1,10p /etc/passwd"] {
            assert_eq!(verbs(line)[0].1, Some(Verb::Read), "{line}");
        }
        assert!(!has("sed 's/#.*//' /etc/fstab", "modify+target:system"));
        for line in
            ["sed -i 's/a/b/' /etc/hosts", "sed -i.bak 's/a/b/' x", "sed -ni 's/a/b/p' x", "sed --in-place=.b 'd' x"]
        {
            assert_eq!(verbs(line)[0].1, Some(Verb::Modify), "{line}");
        }
        assert!(has("sed -i 's/a/b/' /etc/hosts", "modify+target:system"));
        assert!(!has("kill -TERM 21384", "flag:recursive"));
        assert!(has("rm -Rf build", "flag:recursive"));
    }

    #[test]
    fn names_are_unique() {
        let n = names();
        let set: std::collections::HashSet<&String> = n.iter().collect();
        assert_eq!(set.len(), n.len());
    }
}
