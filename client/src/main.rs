//! `vigil`: the command people type and the one the shell hooks exec.
//!
//! `main` returns an exit code; errors print one line on stderr; a closed stdout (`| head`) is
//! not an error.

mod args;
#[macro_use]
mod filter;
mod completions;
mod doctor;
mod hook;
mod import;
mod init;
mod install;
mod learn;
mod manage;
mod relay;
mod review;
mod score;
mod search;
mod show;
mod stats;

use args::{Arg, Args, UsageError};
use completions::{file, flag, text, Opt, FILTERS, LABELS, SHELLS};
use std::process::ExitCode;

const USAGE: &str = "\
vigil: a learning safety net for your shell (advisory; nothing leaves this machine)

Usage:
  vigil init <bash|zsh|fish>          print the hook script: eval \"$(vigil init bash)\"
  vigil recent [-n N] [FILTERS] [--json]  latest commands
  vigil search [FILTERS] [--regex] PATTERN  search your history (filters: vigil search --help)
  vigil forget ID|--command C|--pattern P [--yes]  delete recorded commands everywhere
  vigil stats [--days N] [--json]     commands per day, most frequent, riskiest, models
  vigil import [bash|zsh|fish|auto]   bring your existing shell history in
  vigil review [--list] [--json]      label the commands the model is least sure of
  vigil status [--json]               agent, store, labels and model state
  vigil score [--json] [--stdin] [CMD]  score commands without recording them
  vigil label <safe|unsafe|unknown> CMD  label a command (appends to your label file)
  vigil train [--json]                retrain now and print the report
  vigil models [--json]               model versions and their metrics
  vigil rollback VERSION              make an earlier model current
  vigil export --csv PATH             every command with its label, as CSV
  vigil doctor                        check the installation, with a fix for each problem
  vigil config [--json]               the effective configuration, and where each value came from
  vigil rules [--json]                every hard rule: id, severity, message, source (built-in or config)
  vigil agent <start|stop|status>     the agent (the hooks also start it on demand)
  vigil uninstall [--purge]           remove the hooks and the binaries (data kept)
  vigil completions <bash|zsh|fish>   print a completion script: source <(vigil completions bash)
  vigil hook start|end ...            used by the shell hooks
  vigil --version

Run `vigil COMMAND --help` for a command's options and an example.
";

/// What a subcommand returns: an exit code, or a usage mistake to explain.
type Outcome = Result<ExitCode, UsageError>;

fn main() -> ExitCode {
    // A closed stdout must end us quietly, not with a panic message: restore the default
    // SIGPIPE action that Rust's runtime ignores.
    // SAFETY: resetting a signal disposition before any thread starts.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    // Lossy: a command line may hold bytes that are not UTF-8 (args() would panic on them).
    let mut argv: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    if argv.is_empty() {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    }
    let cmd = argv.remove(0);
    match cmd.as_str() {
        "-V" | "--version" | "version" => {
            println!("vigil {}", vigil::VERSION);
            return ExitCode::SUCCESS;
        }
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        "hook" => return hook_command(argv),
        _ => {}
    }
    let Some(spec) = Command::find(&cmd) else {
        eprintln!("vigil: unknown command {cmd:?} (run `vigil --help` for the list)");
        return ExitCode::from(2);
    };
    let asks_help = |a: &String| a == "-h" || a == "--help";
    if (spec.takes_command_line && argv.first().is_some_and(asks_help))
        || (!spec.takes_command_line && argv.iter().take_while(|a| *a != "--").any(asks_help))
    {
        print!("{}", spec.usage);
        return ExitCode::SUCCESS;
    }
    match (spec.run)(Args::new(argv)) {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            // One line naming the command and what is wrong; the help is one flag away.
            eprintln!("vigil {cmd}: {msg} (see `vigil {cmd} --help`)");
            ExitCode::from(2)
        }
    }
}

/// The commands a person types. A new one is a variant, an entry in [`Command::ALL`], an arm
/// in [`Command::spec`] (the compiler asks for the arm) with the options its help lists (a
/// test asks for those), and a line in [`USAGE`] (whose words `vigil completions` shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Init,
    Recent,
    Stats,
    Import,
    Review,
    Status,
    Score,
    Label,
    Train,
    Models,
    Rollback,
    Export,
    Doctor,
    Config,
    Rules,
    Agent,
    Uninstall,
    Search,
    Forget,
    Completions,
}

/// A command's name, help text and entry point, and what `vigil completions` offers for it.
struct Spec {
    name: &'static str,
    usage: &'static str,
    run: fn(Args) -> Outcome,
    /// Its own words are a command line (`vigil label safe tool -h`): only a first `-h` asks
    /// for help.
    takes_command_line: bool,
    /// The options its help lists (a test holds the two together).
    options: &'static [Opt],
    /// It takes the filters of filter.rs too.
    filters: bool,
    /// The words it takes as its first argument (`init bash`).
    words: &'static [&'static str],
}

const fn spec(name: &'static str, usage: &'static str, run: fn(Args) -> Outcome) -> Spec {
    Spec { name, usage, run, takes_command_line: false, options: &[], filters: false, words: &[] }
}

impl Spec {
    const fn options(self, options: &'static [Opt]) -> Spec {
        Spec { options, ..self }
    }
    const fn filters(self) -> Spec {
        Spec { filters: true, ..self }
    }
    const fn words(self, words: &'static [&'static str]) -> Spec {
        Spec { words, ..self }
    }
    const fn command_line(self) -> Spec {
        Spec { takes_command_line: true, ..self }
    }
}

const JSON: &[Opt] = &[flag("--json")];

impl Command {
    /// Every command, in the order of the help text.
    const ALL: &'static [Command] = &[
        Command::Init,
        Command::Recent,
        Command::Stats,
        Command::Import,
        Command::Review,
        Command::Status,
        Command::Score,
        Command::Label,
        Command::Train,
        Command::Models,
        Command::Rollback,
        Command::Export,
        Command::Doctor,
        Command::Config,
        Command::Rules,
        Command::Agent,
        Command::Uninstall,
        Command::Search,
        Command::Forget,
        Command::Completions,
    ];

    /// Its name, help and entry point.
    const fn spec(self) -> Spec {
        match self {
            Command::Init => spec("init", INIT_USAGE, init_command).words(SHELLS),
            Command::Recent => spec("recent", show::RECENT_USAGE, show::recent)
                .options(const { &[text("-n"), flag("--json")] })
                .filters(),
            Command::Stats => spec("stats", stats::STATS_USAGE, stats::stats)
                .options(const { &[text("--days"), text("--top"), flag("--json")] }),
            Command::Import => spec("import", import::IMPORT_USAGE, import::import)
                .options(const { &[file("--file"), flag("--json")] })
                .words(&["bash", "zsh", "fish", "auto"]),
            Command::Review => spec("review", review::REVIEW_USAGE, review::review)
                .options(const { &[text("-n"), flag("--list"), flag("--json")] }),
            Command::Status => spec("status", show::STATUS_USAGE, show::status).options(JSON),
            Command::Score => spec("score", score::SCORE_USAGE, score::score)
                .command_line()
                .options(const { &[flag("--json"), flag("--stdin")] }),
            Command::Label => spec("label", learn::LABEL_USAGE, learn::label).command_line().words(LABELS),
            Command::Train => spec("train", learn::TRAIN_USAGE, learn::train).options(JSON),
            Command::Models => spec("models", learn::MODELS_USAGE, learn::models).options(JSON),
            Command::Rollback => spec("rollback", learn::ROLLBACK_USAGE, learn::rollback),
            Command::Export => spec("export", learn::EXPORT_USAGE, learn::export).options(const { &[file("--csv")] }),
            Command::Doctor => spec("doctor", doctor::DOCTOR_USAGE, doctor::doctor),
            Command::Config => spec("config", show::CONFIG_USAGE, show::config).options(JSON).words(&["check"]),
            Command::Rules => spec("rules", show::RULES_USAGE, show::rules).options(JSON),
            Command::Agent => spec("agent", manage::AGENT_USAGE, manage::agent).words(&["start", "stop", "status"]),
            Command::Uninstall => spec("uninstall", install::UNINSTALL_USAGE, install::uninstall)
                .options(const { &[flag("--purge"), flag("--keep-binaries")] }),
            Command::Search => spec("search", search::SEARCH_USAGE, search::search)
                .options(const { &[flag("--regex"), text("-n"), flag("--json")] })
                .filters(),
            Command::Forget => spec("forget", search::FORGET_USAGE, search::forget)
                .options(const { &[text("--command"), text("--pattern"), flag("--regex"), flag("--yes")] })
                .filters(),
            Command::Completions => {
                spec("completions", COMPLETIONS_USAGE, completions_command).words(&["bash", "zsh", "fish"])
            }
        }
    }

    /// The command called `name`.
    fn find(name: &str) -> Option<Spec> {
        Command::ALL.iter().map(|c| c.spec()).find(|s| s.name == name)
    }
}

/// The one-line description of `name` in [`USAGE`] (what follows its synopsis).
fn about(name: &str) -> &'static str {
    let synopsis = format!("vigil {name} ");
    USAGE
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(&synopsis) || *l == synopsis.trim_end())
        .and_then(|l| l.split_once("  "))
        .map_or("", |(_, about)| about.trim())
}

/// Every command as the completion scripts see it.
fn completion_table() -> Vec<completions::Entry> {
    Command::ALL
        .iter()
        .map(|c| {
            let s = c.spec();
            let filters: &[Opt] = if s.filters { FILTERS } else { &[] };
            completions::Entry {
                name: s.name,
                about: about(s.name),
                options: s.options.iter().chain(filters).copied().collect(),
                words: s.words,
            }
        })
        .collect()
}

const COMPLETIONS_USAGE: &str = "\
Usage: vigil completions <bash|zsh|fish>

Prints a completion script for a shell: the commands, their options and the values these take.
  bash (~/.bashrc):                  source <(vigil completions bash)
  zsh  (~/.zshrc, after compinit):   source <(vigil completions zsh)
  fish (~/.config/fish/config.fish): vigil completions fish | source
Or save the script where the shell looks for completions: for bash
~/.local/share/bash-completion/completions/vigil, for zsh a file _vigil in a folder of $fpath,
for fish ~/.config/fish/completions/vigil.fish.
";

fn completions_command(mut args: Args) -> Outcome {
    let shell = match args.next()? {
        Some(Arg::Value(v)) => v,
        Some(other) => return Err(args::unknown_arg(other)),
        None => return Err(UsageError("which shell? bash, zsh or fish".into())),
    };
    args.finish()?;
    match completions::script(&shell, &completion_table()) {
        Some(text) => {
            use std::io::Write;
            // A closed pipe ends us quietly.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(ExitCode::SUCCESS)
        }
        None => Err(UsageError(format!("unsupported shell {shell:?}: use bash, zsh or fish"))),
    }
}

const INIT_USAGE: &str = "\
Usage: vigil init <bash|zsh|fish>

Prints the hook script for a shell. Add it to the shell's rc file:
  bash (~/.bashrc):                eval \"$(vigil init bash)\"
  zsh  (~/.zshrc):                 eval \"$(vigil init zsh)\"
  fish (~/.config/fish/config.fish): vigil init fish | source
";

fn init_command(mut args: Args) -> Outcome {
    let shell = match args.next()? {
        Some(Arg::Value(v)) => v,
        Some(other) => return Err(args::unknown_arg(other)),
        None => return Err(UsageError("which shell? bash, zsh or fish".into())),
    };
    args.finish()?;
    let bin = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "vigil".into());
    // The socket as this shell's environment places it (VIGIL_HOME, XDG_RUNTIME_DIR), and
    // what the hook takes from config.toml.
    let paths = vigil::paths::Paths::from_env().ok();
    let socket = paths.as_ref().map(|p| p.socket.display().to_string()).unwrap_or_default();
    let settings = paths.as_ref().map(|p| init::HookSettings::read(&p.config)).unwrap_or_default();
    match init::script(&shell, &bin, &socket, &settings) {
        Some(text) => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        None => Err(UsageError(format!("unsupported shell {shell:?}: use bash, zsh or fish"))),
    }
}

/// The hooks' entry point: a usage mistake here is a bug in a hook script, so it is logged
/// rather than printed into the person's shell.
fn hook_command(mut argv: Vec<String>) -> ExitCode {
    // Nothing may reach the person's terminal from a hook, not even a panic message.
    std::panic::set_hook(Box::new(|info| {
        if let Ok(paths) = vigil::paths::Paths::from_env() {
            hook::log(&paths, &format!("hook panicked: {info}"));
        }
    }));
    let which = if argv.is_empty() { String::new() } else { argv.remove(0) };
    let args = Args::new(argv);
    let outcome = match which.as_str() {
        "start" => hook::start(args),
        "end" => hook::end(args),
        "scratch" => hook::scratch(args),
        "relay" => relay::run(args),
        "check" => hook::check(args),
        other => Err(UsageError(format!("unknown hook {other:?}"))),
    };
    match outcome {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            if let Ok(paths) = vigil::paths::Paths::from_env() {
                hook::log(&paths, &format!("hook {which}: {msg}"));
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{about, completion_table, Command, USAGE};
    use std::collections::BTreeSet;

    /// The options a help text names before its examples (`--json`, `-n`), leaving out those of
    /// other commands it refers to (`vigil recent --json`, in backquotes).
    fn options_in(usage: &str) -> BTreeSet<String> {
        let before_examples = usage.split("\nExample").next().unwrap_or(usage);
        let own: String = before_examples
            .split('`')
            .enumerate()
            .filter(|(i, part)| i % 2 == 0 || !part.starts_with("vigil"))
            .map(|(_, part)| part)
            .collect::<Vec<_>>()
            .join(" ");
        own.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.trim_start_matches('-').starts_with(|c: char| c.is_ascii_alphabetic()) && w.starts_with('-'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn completions_offer_what_each_help_lists() {
        for entry in completion_table() {
            let spec = Command::find(entry.name).map(|s| s.usage).unwrap_or_default();
            let offered: BTreeSet<String> = entry.options.iter().map(|o| o.name.to_string()).collect();
            assert_eq!(
                offered,
                options_in(spec),
                "vigil {}: the options offered are not the ones its help lists",
                entry.name
            );
            for w in entry.words {
                assert!(spec.contains(w), "vigil {}: {w} is not in its help", entry.name);
            }
            assert!(!entry.about.is_empty(), "vigil {} has no line in the help", entry.name);
            let plain = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            assert!(plain(entry.name) && entry.words.iter().all(|w| plain(w)), "the scripts quote none of these");
            assert!(entry.options.iter().all(|o| plain(o.name)));
        }
        assert_eq!(about("score"), "score commands without recording them");
        assert!(USAGE.contains("vigil completions <bash|zsh|fish>"));
    }

    #[test]
    fn the_scanner_finds_options() {
        let found =
            options_in("Usage: vigil x [-n N] [--json]\n  --keep-binaries  (with --json: one)\nExample:\n  rm -rf x\n");
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["--json", "--keep-binaries", "-n"]);
    }

    #[test]
    fn every_command_is_found_by_its_name_and_names_are_unique() {
        let mut names: Vec<&str> = Command::ALL.iter().map(|c| c.spec().name).collect();
        for n in &names {
            assert_eq!(Command::find(n).map(|s| s.name), Some(*n));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Command::ALL.len());
    }
}
