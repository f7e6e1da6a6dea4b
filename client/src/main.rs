//! `vigil`: the command people type and the one the shell hooks exec.
//!
//! `main` returns an exit code; errors print one line on stderr; a closed stdout (`| head`) is
//! not an error.

mod args;
mod doctor;
mod hook;
mod import;
mod init;
mod install;
mod learn;
mod manage;
mod review;
mod score;
mod show;
mod stats;

use args::{Args, UsageError};
use std::process::ExitCode;

const USAGE: &str = "\
vigil: a learning safety net for your shell (advisory; nothing leaves this machine)

Usage:
  vigil init <bash|zsh|fish>          print the hook script: eval \"$(vigil init bash)\"
  vigil recent [-n N] [--json]        latest commands
  vigil stats [--days N] [--json]     commands per day, most frequent, riskiest, models
  vigil import [bash|zsh|fish|auto]   bring your existing shell history in
  vigil review [--list] [--json]      label the commands the model is least sure of
  vigil status [--json]               agent, store, labels and model state
  vigil score [--json] [--stdin] [CMD] score commands without recording them
  vigil label <safe|unsafe|unknown> CMD  label a command (appends to your label file)
  vigil train [--json]                retrain now and print the report
  vigil models [--json]               model versions and their metrics
  vigil rollback VERSION              make an earlier model current
  vigil export --csv PATH             every command with its label, as CSV
  vigil doctor                        check the installation, with a fix for each problem
  vigil config [--json]               the effective configuration, and where each value came from
  vigil agent <start|stop|status>     the agent (the hooks also start it on demand)
  vigil uninstall [--purge]           remove the hooks and the binaries (data kept)
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
    let Some((_, usage, run)) = COMMANDS.iter().find(|(name, _, _)| *name == cmd) else {
        eprintln!("vigil: unknown command {cmd:?}\n\n{USAGE}");
        return ExitCode::from(2);
    };
    // A command's own words may hold -h (`vigil label safe tool -h`): only the first
    // argument asks for help there.
    let takes_command = matches!(cmd.as_str(), "label" | "score");
    let asks_help = |a: &String| a == "-h" || a == "--help";
    if (takes_command && argv.first().is_some_and(asks_help)) || (!takes_command && argv.iter().take_while(|a| *a != "--").any(asks_help)) {
        print!("{usage}");
        return ExitCode::SUCCESS;
    }
    match run(Args::new(argv)) {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            eprintln!("vigil {cmd}: {msg}\n\n{usage}");
            ExitCode::from(2)
        }
    }
}

/// A command a person types: name, help text, entry point.
type Command = (&'static str, &'static str, fn(Args) -> Outcome);

/// The commands a person types.
const COMMANDS: &[Command] = &[
    ("init", INIT_USAGE, init_command),
    ("recent", show::RECENT_USAGE, show::recent),
    ("stats", stats::STATS_USAGE, stats::stats),
    ("import", import::IMPORT_USAGE, import::import),
    ("review", review::REVIEW_USAGE, review::review),
    ("status", show::STATUS_USAGE, show::status),
    ("score", score::SCORE_USAGE, score::score),
    ("label", learn::LABEL_USAGE, learn::label),
    ("train", learn::TRAIN_USAGE, learn::train),
    ("models", learn::MODELS_USAGE, learn::models),
    ("rollback", learn::ROLLBACK_USAGE, learn::rollback),
    ("export", learn::EXPORT_USAGE, learn::export),
    ("doctor", doctor::DOCTOR_USAGE, doctor::doctor),
    ("config", show::CONFIG_USAGE, show::config),
    ("agent", manage::AGENT_USAGE, manage::agent),
    ("uninstall", install::UNINSTALL_USAGE, install::uninstall),
];

const INIT_USAGE: &str = "\
Usage: vigil init <bash|zsh|fish>

Prints the hook script for a shell. Add it to the shell's rc file:
  bash (~/.bashrc):                eval \"$(vigil init bash)\"
  zsh  (~/.zshrc):                 eval \"$(vigil init zsh)\"
  fish (~/.config/fish/config.fish): vigil init fish | source
";

fn init_command(mut args: Args) -> Outcome {
    let shell = args.positional().ok_or_else(|| UsageError("which shell? bash, zsh or fish".into()))?;
    args.finish()?;
    let bin = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "vigil".into());
    match init::script(&shell, &bin) {
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
