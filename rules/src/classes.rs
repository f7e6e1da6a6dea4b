//! What a word names, for the rule tables: the target classes (`@root`, `@home`, `@system`,
//! `@block-device`, `@credential`, ...) and the value patterns built from them (`/etc/**`,
//! `of=@block-device`, `*.tfplan`).
#![deny(clippy::indexing_slicing)]

/// A class of words that a pattern names with `@name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// `/`, `/*`, `//`, `/.`.
    Root,
    /// The home folder, any user's (`~`, `$HOME`, `/home/alice`, `/root`).
    Home,
    /// A system folder itself (`/etc`, `/usr/lib`, `/var`), not what is below it.
    System,
    /// Everything in the current or parent folder (`*`, `.`, `./*`, `..`).
    EverythingHere,
    /// A block device (`/dev/sda`, `/dev/nvme0n1p2`, `/dev/mapper/x`).
    BlockDevice,
    /// A device, or a variable that may hold one (`/dev/...`, `$DEV`): not a regular file.
    DeviceOrUnknown,
    /// A file that holds credentials (`~/.ssh/id_rsa`, `.aws/credentials`, `.env`).
    Credential,
    /// A shell history file.
    HistoryFile,
    /// A system log (`/var/log/...`).
    SystemLog,
    /// A package the system cannot run without (libc6, systemd, coreutils, ...).
    CorePackage,
    /// A repository's `.git` folder.
    GitDir,
    /// The `.ssh` folder or its `authorized_keys`.
    SshAccess,
    /// A temporary folder or something below one (`/tmp/x`, `$TMPDIR/x`).
    Temporary,
}

impl Class {
    /// The class a table calls `name`.
    pub fn from_name(name: &str) -> Option<Class> {
        Some(match name {
            "root" => Class::Root,
            "home" => Class::Home,
            "system" => Class::System,
            "everything-here" => Class::EverythingHere,
            "block-device" => Class::BlockDevice,
            "device-or-unknown" => Class::DeviceOrUnknown,
            "credential" => Class::Credential,
            "history-file" => Class::HistoryFile,
            "system-log" => Class::SystemLog,
            "core-package" => Class::CorePackage,
            "git-dir" => Class::GitDir,
            "ssh-access" => Class::SshAccess,
            "temporary" => Class::Temporary,
            _ => return None,
        })
    }

    /// Whether `word` is of this class.
    pub fn has(self, word: &str) -> bool {
        match self {
            Class::Root => is_root(word),
            Class::Home => is_home(word),
            Class::System => is_system(word),
            Class::EverythingHere => is_everything_here(word),
            Class::BlockDevice => is_block_device(word),
            Class::DeviceOrUnknown => word.starts_with("/dev/") || word.starts_with('$'),
            Class::Credential => credential_path(word),
            Class::HistoryFile => is_history_file(word),
            Class::SystemLog => under(word, &["/var/log", "/var/adm", "/var/audit"]) || word.starts_with("/var/log"),
            Class::CorePackage => core_package(word),
            Class::GitDir => trim_path(word) == ".git" || trim_path(word).ends_with("/.git"),
            Class::SshAccess => word.contains(".ssh/authorized_keys") || trim_path(word).ends_with(".ssh"),
            Class::Temporary => is_temporary(word),
        }
    }
}

/// A pattern over one word, as written in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// `@class`, or `prefix@class`: the word starts with `prefix` and the rest is of the class.
    Class(String, Class),
    /// `/dir/**`: the folder or anything below it.
    Under(String),
    /// A glob where `*` stands for any text (no `*`: the exact word).
    Glob(String),
}

impl Pattern {
    /// Reads a pattern; an unknown `@class` is an error naming it.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        // `@` followed by a name is a class; `@*` (curl's upload form) is a glob.
        let class_name = |c: &str| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
        if let Some((prefix, class)) = text.split_once('@').filter(|(_, c)| class_name(c)) {
            return match Class::from_name(class) {
                Some(c) => Ok(Pattern::Class(prefix.to_string(), c)),
                None => Err(format!("unknown class @{class} in pattern {text:?}")),
            };
        }
        if let Some(dir) = text.strip_suffix("/**") {
            return Ok(Pattern::Under(dir.to_string()));
        }
        Ok(Pattern::Glob(text.to_string()))
    }

    /// Whether `word` matches.
    pub fn matches(&self, word: &str) -> bool {
        match self {
            Pattern::Class(prefix, class) => word.strip_prefix(prefix.as_str()).is_some_and(|rest| class.has(rest)),
            Pattern::Under(dir) => under(word, &[dir.as_str()]),
            Pattern::Glob(g) => glob(g, word),
        }
    }
}

/// `*` matches any text, `?` any one character, `#` any one digit, `\\x` the character x;
/// everything else matches itself. For the short patterns of the tables this is linear in
/// the word (one backtrack point at a time).
pub fn glob(pattern: &str, word: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let w: Vec<char> = word.chars().collect();
    let (mut pi, mut wi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while wi < w.len() {
        let c = w.get(wi).copied();
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, wi));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('#') if c.is_some_and(|c| c.is_ascii_digit()) => Some(1),
            Some('\\') if p.get(pi + 1).is_some() && p.get(pi + 1).copied() == c => Some(2),
            Some(&x) if x != '#' && x != '\\' && Some(x) == c => Some(1),
            _ => None,
        };
        match (step, star) {
            (Some(n), _) => {
                pi += n;
                wi += 1;
            }
            (None, Some((sp, sw))) => {
                pi = sp + 1;
                wi = sw + 1;
                star = Some((sp, sw + 1));
            }
            (None, None) => return false,
        }
    }
    p.get(pi..).unwrap_or(&[]).iter().all(|&c| c == '*')
}

/// A path without its trailing slashes (`/` stays `/`).
pub fn trim_path(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() && p.starts_with('/') {
        "/"
    } else {
        t
    }
}

fn is_root(p: &str) -> bool {
    matches!(p, "/" | "/*" | "//" | "/." | "/.*") || p.chars().all(|c| c == '/') && !p.is_empty()
}

fn is_home(p: &str) -> bool {
    let p = trim_path(p);
    let p = p.strip_suffix("/*").unwrap_or(p);
    let p = p.strip_suffix("/.*").unwrap_or(p);
    matches!(p, "~" | "$HOME" | "${HOME}" | "/home" | "/Users" | "/root" | "~root")
        || p.starts_with('~') && !p.contains('/') && p.len() > 1 && !p.contains('.')
        || (p.starts_with("/home/") || p.starts_with("/Users/")) && p.matches('/').count() == 2
}

const SYSTEM_DIRS: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/opt",
    "/proc",
    "/root",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/var",
    "/snap",
    "/usr/bin",
    "/usr/lib",
    "/usr/local",
    "/usr/sbin",
    "/usr/share",
    "/var/lib",
    "/var/log",
    "/System",
    "/Library",
    "/Applications",
    "/private",
];

fn is_system(p: &str) -> bool {
    let p = trim_path(p);
    let p = p.strip_suffix("/*").unwrap_or(p);
    SYSTEM_DIRS.contains(&p)
}

fn is_everything_here(p: &str) -> bool {
    matches!(trim_path(p), "*" | "./*" | ".*" | "." | "./" | ".." | "../" | "./.*" | "*.*" | "../*")
}

fn is_block_device(p: &str) -> bool {
    let Some(dev) = p.strip_prefix("/dev/") else {
        return false;
    };
    [
        "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "rdisk", "md", "dm-", "mapper/", "loop", "sr", "nbd", "zd",
        "bcache",
    ]
    .iter()
    .any(|pre| dev.starts_with(pre))
}

fn is_temporary(p: &str) -> bool {
    ["/tmp/", "/var/tmp/", "$TMPDIR/", "${TMPDIR}/", "/private/tmp/"].iter().any(|t| p.starts_with(t))
}

fn is_history_file(p: &str) -> bool {
    p.contains(".bash_history")
        || p.contains(".zsh_history")
        || p.contains("fish_history")
        || p.ends_with(".history")
        || p.ends_with("/.histfile")
}

/// Whether `p` is one of `dirs` or below one.
pub fn under(p: &str, dirs: &[&str]) -> bool {
    dirs.iter().any(|d| p.strip_prefix(d).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

const CREDENTIAL_FILES: &[&str] = &[
    ".ssh/id_",
    ".ssh/identity",
    ".aws/credentials",
    ".aws/config",
    "/etc/shadow",
    "/etc/gshadow",
    ".netrc",
    ".kube/config",
    ".docker/config.json",
    ".git-credentials",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".config/gcloud",
    ".azure/",
    ".gnupg",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    "credentials.json",
    ".vault-token",
];

/// A file that holds credentials; `@file` and `name=@file` (curl's upload forms) count.
pub fn credential_path(p: &str) -> bool {
    let p = p.trim_start_matches('@').trim_start_matches("file=@");
    let p = p.split_once("=@").map(|(_, v)| v).unwrap_or(p);
    let base = p.rsplit('/').next().unwrap_or(p);
    // .env holds secrets; .env.example and friends are templates.
    if base.starts_with(".env") {
        return !["example", "sample", "template", "dist", "defaults"].iter().any(|t| base.ends_with(t));
    }
    CREDENTIAL_FILES.iter().any(|f| p.contains(f)) && !p.ends_with(".pub")
}

const CORE_PACKAGES: &[&str] = &[
    "libc6",
    "libc-bin",
    "glibc",
    "systemd",
    "systemd-sysv",
    "init",
    "bash",
    "coreutils",
    "sudo",
    "openssh-server",
    "openssh",
    "apt",
    "dpkg",
    "rpm",
    "yum",
    "dnf",
    "pacman",
    "grub",
    "grub2",
    "grub-pc",
    "grub-efi",
    "linux-image",
    "linux-generic",
    "kernel",
    "kernel-core",
    "base-files",
    "base-passwd",
    "login",
    "passwd",
    "util-linux",
    "python3",
    "perl-base",
    "libpam",
    "libpam-modules",
    "e2fsprogs",
    "mount",
    "sed",
    "grep",
    "tar",
    "gzip",
    "busybox",
    "libstdc++6",
    "zlib1g",
];

fn core_package(p: &str) -> bool {
    let base = p.split(['=', ':']).next().unwrap_or(p).trim_end_matches('*');
    CORE_PACKAGES.iter().any(|c| {
        base == *c || base.starts_with(&format!("{c}-")) && matches!(*c, "linux-image" | "grub" | "kernel" | "libpam")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("mkfs*", "mkfs.ext4"));
        assert!(glob("*.tfplan", "x.tfplan"));
        assert!(!glob("*.tfplan", "x.tf"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXbYY"));
        assert!(glob("delete-*", "delete-stack"));
        assert!(glob("x", "x") && !glob("x", "xy"));
        assert!(glob("4###", "4755") && !glob("4###", "4ever"));
        assert!(glob("+?*", "+main") && !glob("+?*", "+"));
        assert!(glob(r"*/\*", "gs://b/*") && !glob(r"*/\*", "gs://b/x"));
        assert!(Pattern::parse("@*").is_ok_and(|p| p.matches("@~/.ssh/id_rsa")));
    }

    #[test]
    fn patterns() {
        let p = |s: &str| Pattern::parse(s).unwrap();
        assert!(p("of=@block-device").matches("of=/dev/sda"));
        assert!(!p("of=@block-device").matches("of=disk.img"));
        assert!(p("/etc/**").matches("/etc/passwd") && p("/etc/**").matches("/etc"));
        assert!(!p("/etc/**").matches("/etcx"));
        assert!(Pattern::parse("@nonsense").is_err());
        assert!(Class::Temporary.has("/tmp/build") && !Class::Temporary.has("/tmpx"));
    }
}
