//! `vigil hook relay`: the coprocess a bash shell starts once and then talks to with builtins
//! only (`printf` to its stdin, `read -t` from its stdout), so that a command costs the shell
//! no fork; zsh keeps one on standby for the messages the agent's socket cannot take. It reads the shell channel's messages (`vigil::channel`), hands each to the agent as
//! `vigil hook start|end` would, and answers every one, within its deadline, whatever the agent
//! does: an agent that is not there is started and the event spooled, an agent that does not
//! answer in time gets the events that follow spooled at once for a while (so a frozen agent
//! costs one command one deadline, not every command two), and the hard rules warn without it.
//!
//! Nothing is acknowledged before it is kept: a reply is written only once the agent answered
//! or the event is in the spool. The relay exits when the shell closes the channel.

use crate::args::{Args, UsageError};
use crate::hook::{check_line, log, settle, spool, warning, Delivery};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use vigil::channel::{self, ChannelRequest, Splitter};
use vigil::connection::{running_agent_pid, ClientError, Connection};
use vigil::offline::Offline;
use vigil::paths::Paths;
use vigil::protocol::{Request, Response};

/// The relay's deadline for connecting and for the reply, each, unless `VIGIL_HOOK_TIMEOUT_MS`
/// says otherwise: a frozen agent may cost one command this much.
const DEFAULT_TIMEOUT_MS: u64 = 15;

/// How long the first spell of spooling lasts after the agent timed out, unless
/// `VIGIL_HOOK_REST_SECS` says otherwise (0: no rest, every command tries the agent); each
/// timeout in a row doubles it, up to [`MAX_AWAY`].
const DEFAULT_REST_SECS: u64 = 1;
const MAX_AWAY: Duration = Duration::from_secs(30);

/// `vigil hook relay`: serves the shell channel on stdin and stdout until stdin closes.
pub fn run(args: Args) -> Result<ExitCode, UsageError> {
    args.finish()?;
    let Ok(paths) = Paths::from_env() else {
        return Ok(ExitCode::FAILURE);
    };
    let ms = std::env::var("VIGIL_HOOK_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_MS);
    let rest = std::env::var("VIGIL_HOOK_REST_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_REST_SECS);
    let rest = Duration::from_secs(rest.min(MAX_AWAY.as_secs()));
    let timeout = Duration::from_millis(ms.clamp(1, 5_000));
    let mut relay =
        Relay { paths, timeout, away_until: None, rest, away: rest, conn: None, missed: None, offline: None };
    // Built before the first message: a relay stands in for an agent that does not answer,
    // and must then answer at once (the secret shapes and the rules take milliseconds).
    let _ = relay.offline().warning("curl -u warm:up https://x.invalid", None);
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    let mut splitter = Splitter::default();
    loop {
        let fields = match read_message(&mut input, &mut splitter) {
            Ok(Some(fields)) => fields,
            Ok(None) => return Ok(ExitCode::SUCCESS),
            Err(e) => {
                // The stream cannot be resynchronised: end, and the hook falls back to the
                // exec'd client (and starts a new relay).
                log(&relay.paths, &format!("relay: {e}"));
                return Ok(ExitCode::FAILURE);
            }
        };
        let reply = relay.handle(&fields);
        // An agent this relay started and that has since exited must not linger as a zombie.
        while let Ok(Some(_)) = rustix::process::waitpid(None, rustix::process::WaitOptions::NOHANG) {}
        let Some(reply) = reply else { continue };
        if output.write_all(reply.as_bytes()).and_then(|()| output.flush()).is_err() {
            // The shell is gone.
            return Ok(ExitCode::SUCCESS);
        }
    }
}

/// Reads one message; `None` when the shell closed the channel between two messages.
fn read_message(input: &mut impl BufRead, splitter: &mut Splitter) -> Result<Option<Vec<Vec<u8>>>, String> {
    loop {
        let buf = input.fill_buf().map_err(|e| e.to_string())?;
        if buf.is_empty() {
            return splitter.finish().map(|()| None).map_err(|e| e.to_string());
        }
        let (n, message) = splitter.feed(buf).map_err(|e| e.to_string())?;
        input.consume(n);
        if message.is_some() {
            return Ok(message);
        }
    }
}

/// The relay's state: where to deliver, and whether the agent is being given a rest.
struct Relay {
    paths: Paths,
    timeout: Duration,
    /// Until then, events go straight to the spool: the agent last timed out.
    away_until: Option<Instant>,
    /// The first spell's length (zero: never away).
    rest: Duration,
    /// The length of the next spell away.
    away: Duration,
    /// The connection to the agent, kept between commands (the agent closes it when idle).
    conn: Option<Connection>,
    /// The hard rules as config.toml said when they were built, and the file's time then.
    offline: Option<(Offline, Option<std::time::SystemTime>)>,
    /// The seq of a start the agent did not answer in time: that command's end is not offered
    /// to it either, so a frozen agent costs a command one deadline, not two.
    missed: Option<u64>,
}

impl Relay {
    /// The reply line to one message; `None` for a message too broken to name its seq.
    fn handle(&mut self, fields: &[Vec<u8>]) -> Option<String> {
        let request = match channel::decode(fields, vigil::now_ms()) {
            Ok(r) => r,
            Err(e) => {
                log(&self.paths, &format!("relay: {e}"));
                return channel::broken_reply(fields);
            }
        };
        Some(match request {
            ChannelRequest::Start { seq, start: None } => channel::started_line(seq, true, None, None, None),
            ChannelRequest::Start { seq, start: Some(start) } => {
                let shell = start.shell.clone();
                let req = Request::Start(start);
                self.missed = None;
                let delivery = self.deliver(&req);
                if matches!(delivery, Delivery::Spooled { timed_out: true }) {
                    self.missed = Some(seq);
                }
                let shown = warning(&req, &delivery, |c, cwd| self.offline().warning(c, cwd));
                let (notice, segment) = match &delivery {
                    Delivery::Live(Response::Started { notice, segment, .. }) => (notice.as_deref(), segment.as_ref()),
                    _ => (None, None),
                };
                let kept = !matches!(delivery, Delivery::Lost);
                channel::started_line(seq, kept, notice, shown.as_deref(), segment.map(|s| (s, shell.as_str())))
            }
            ChannelRequest::Score { seq, session, text, .. } => self.check(seq, &session, &text),
            ChannelRequest::Rest { secs } => {
                self.away_until = Some(Instant::now() + Duration::from_secs(secs.min(MAX_AWAY.as_secs())));
                return None;
            }
            ChannelRequest::End { seq, shell, color, end } => {
                let delivery = if self.missed == Some(seq) {
                    spool(&self.paths, &Request::End(end))
                } else {
                    self.deliver(&Request::End(end))
                };
                let reply = match &delivery {
                    Delivery::Live(r) => Some(r),
                    _ => None,
                };
                channel::ended_reply(seq, &shell, color, reply)
            }
        })
    }

    /// The hard rules, for warnings while the agent is away: built on first use, and again
    /// when config.toml changes.
    fn offline(&mut self) -> &Offline {
        cached(&mut self.offline, &self.paths.config)
    }

    /// Asks the agent over the kept connection, or a new one; a kept connection the agent
    /// closed meanwhile (idle, restarted) is replaced once. After a timeout the connection is
    /// out of step (a late reply may come): it is dropped.
    fn ask(&mut self, req: &Request) -> Result<Response, ClientError> {
        for _ in 0..2 {
            let (mut conn, kept) = match self.conn.take() {
                Some(c) => (c, true),
                None => (Connection::connect(&self.paths, self.timeout)?, false),
            };
            match conn.request(req) {
                Ok(reply) => {
                    self.conn = Some(conn);
                    return Ok(reply);
                }
                Err(ClientError::Frame(_)) if kept => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ClientError::Unexpected("the agent closed two connections in a row".into()))
    }

    /// The agent's verdict on a line not run yet, or the hard rules' while the agent rests.
    fn check(&mut self, seq: u64, session: &str, text: &str) -> String {
        let resting = self.away_until.is_some_and(|t| Instant::now() < t);
        let timeout = (!resting).then_some(self.timeout);
        let offline = &mut self.offline;
        let config = &self.paths.config;
        check_line(&self.paths, timeout, (session, seq, text), |t| cached(offline, config).warning(t, None))
    }

    /// Delivers live, or spools at once while the agent is being given a rest.
    fn deliver(&mut self, req: &Request) -> Delivery {
        let now = Instant::now();
        if self.away_until.is_some_and(|t| now < t) {
            // Resting: an agent that still holds its lock is frozen and gets nothing to wait
            // on (not even a connection, which would sit in its backlog); one that does not is
            // gone, and `deliver` starts a new one.
            if running_agent_pid(&self.paths).is_some() {
                return spool(&self.paths, req);
            }
        }
        let live = self.ask(req);
        let delivery = settle(&self.paths, req, live);
        match delivery {
            Delivery::Spooled { timed_out: true } if !self.rest.is_zero() => {
                self.away_until = Some(Instant::now() + self.away);
                self.away = (self.away * 2).min(MAX_AWAY);
            }
            Delivery::Live(_) => {
                self.away_until = None;
                self.away = self.rest;
            }
            _ => {}
        }
        delivery
    }
}

/// `slot`'s rules, built again when `config` changed since (or never built).
fn cached<'a>(slot: &'a mut Option<(Offline, Option<std::time::SystemTime>)>, config: &std::path::Path) -> &'a Offline {
    let stamp = std::fs::metadata(config).and_then(|m| m.modified()).ok();
    if slot.as_ref().is_none_or(|(_, built)| *built != stamp) {
        *slot = Some((Offline::load(config), stamp));
    }
    &slot.get_or_insert_with(|| (Offline::load(config), stamp)).0
}
