//! The shell channel: the plain protocol a hook speaks with builtins only (`print`, `printf`,
//! `read -t`) over a channel it keeps open for the life of the shell, so that a command costs
//! the shell no fork and no exec. zsh speaks it to the agent's socket (`zsocket`); bash to a
//! `vigil relay` coprocess, which turns it into frames. Also here: what both peers send back
//! (the prompt segment, the escaped warning) and bash's `history 1` format, which the exec'd
//! `vigil hook start` reads too.
//!
//! A message from the shell is a verb and a fixed number of fields, each ended by a NUL byte
//! (a shell string cannot hold one, so no field needs escaping):
//!
//! ```text
//! start NUL SESSION NUL SEQ NUL SHELL NUL CWD NUL MODE NUL TEXT NUL EXPECTED NUL
//! end   NUL SESSION NUL SEQ NUL SHELL NUL EXIT NUL DURATION_MS NUL COLOR NUL
//! check NUL SESSION NUL SEQ NUL TEXT NUL
//! live  NUL SESSION NUL SEQ NUL TEXT NUL
//! rest  NUL SECONDS NUL
//! ```
//!
//! `rest` (to a relay only, unanswered) says that the agent just missed a deadline: for that
//! long the relay spools without asking it.
//!
//! `check` scores a line that is not run yet (the second Enter) and is answered at once; `live`
//! scores the line being typed, and is answered only after a pause: a newer `live`, or any other
//! message, before [`LIVE_PAUSE`] has passed replaces it, unanswered. Neither records anything.
//!
//! `MODE` is `line` (`TEXT` is the command line), `history` (`TEXT` is bash's `history 1`
//! output) or `history-expected` (the same, recorded only if the line equals `EXPECTED`).
//! `DURATION_MS` may be empty; `COLOR` is `1` or `0` (the shell's `NO_COLOR`).
//!
//! Each message gets one reply line, its fields separated by the unit separator (0x1F), which
//! the escaped texts in it cannot contain:
//!
//! ```text
//! started US SEQ US KEPT US NOTICE US WARNING US SEGMENT US PLAIN_SEGMENT LF
//! ended   US SEQ US SEGMENT LF
//! scored  US SEQ US VERDICT US WARNING LF
//! ```
//!
//! A command's risk is known when it starts, so the `started` reply already carries the prompt
//! segment its end will show (with colour, and without for `NO_COLOR`). A hook therefore need
//! not wait for the answer to an `end`: it writes the end, keeps it until the `ended` reply
//! for that `SEQ` goes by (replies come in the order of the messages, so it does before the
//! reply to the next message), and, when the channel breaks first, hands the same end over
//! again the next way (the relay, the exec'd client). An end delivered twice is closed once:
//! the second finds nothing running under its key.
//!
//! `VERDICT` is `rule` (a hard rule hit), `unsafe`, `unknown` or `safe`; `WARNING` is what would
//! be shown before the line runs, or empty.
//!
//! `KEPT` is `1` when the event was recorded, spooled or deliberately not recorded, and `0`
//! when the peer could not keep it: the hook then hands the same command to the exec'd client,
//! and the event's key (session and seq) keeps the two from becoming two events. A hook reads
//! replies until it sees its own `SEQ`, so a reply that came after the hook stopped waiting is
//! skipped, never taken for the next command's.

use crate::printable::printable;
use crate::privacy::is_recorded;
use crate::protocol::{CommandEnd, CommandStart, Label, Response, Segment};

/// Longest field a peer reads before giving up on the channel: the frame limit.
pub const MAX_FIELD_LEN: usize = crate::frame::MAX_FRAME_LEN;

/// The unit separator between the fields of a reply.
pub const SEPARATOR: char = '\x1f';

/// How long typing must pause before a `live` message is answered.
pub const LIVE_PAUSE: std::time::Duration = std::time::Duration::from_millis(150);

/// Why a message from a shell cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ChannelError {
    /// The first field is not a verb of this protocol.
    #[error("unknown verb {0:?}")]
    Verb(String),
    /// A field has the wrong number of fields or a bad value.
    #[error("bad {0} field")]
    Field(&'static str),
    /// A field is longer than [`MAX_FIELD_LEN`]: the channel cannot go on.
    #[error("a field longer than {MAX_FIELD_LEN} bytes")]
    TooLong,
    /// The channel closed inside a message.
    #[error("the channel closed inside a message")]
    Truncated,
}

/// One message as it came: its verb, then its fields.
pub type Message = Vec<Vec<u8>>;

/// Cuts a byte stream into messages, whatever pieces it arrives in: the one reader of the
/// agent's channel and of the relay. Words before a known verb are skipped.
#[derive(Debug, Default)]
pub struct Splitter {
    fields: Vec<Vec<u8>>,
    field: Vec<u8>,
    /// Fields still to come after the verb, once the verb is known.
    left: Option<usize>,
}

impl Splitter {
    /// Takes bytes from the front of `buf`, up to the end of the first message in it; returns
    /// how many it took and the message, if one ended.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(usize, Option<Message>), ChannelError> {
        let mut taken = 0;
        while taken < buf.len() {
            let rest = &buf[taken..];
            let Some(nul) = rest.iter().position(|b| *b == 0) else {
                self.field.extend_from_slice(rest);
                if self.field.len() > MAX_FIELD_LEN {
                    return Err(ChannelError::TooLong);
                }
                return Ok((buf.len(), None));
            };
            self.field.extend_from_slice(&rest[..nul]);
            taken += nul + 1;
            if self.field.len() > MAX_FIELD_LEN {
                return Err(ChannelError::TooLong);
            }
            let field = std::mem::take(&mut self.field);
            match self.left {
                None => match arity(&field) {
                    Some(n) => {
                        self.fields.push(field);
                        self.left = Some(n);
                    }
                    None => continue,
                },
                Some(n) => {
                    self.fields.push(field);
                    self.left = Some(n - 1);
                }
            }
            if self.left == Some(0) {
                self.left = None;
                return Ok((taken, Some(std::mem::take(&mut self.fields))));
            }
        }
        Ok((taken, None))
    }

    /// What the end of the stream means here: nothing when it came between two messages.
    pub fn finish(&self) -> Result<(), ChannelError> {
        if self.left.is_none() && self.field.is_empty() {
            Ok(())
        } else {
            Err(ChannelError::Truncated)
        }
    }
}

/// A message from a shell, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelRequest {
    /// A command is about to run. `start` is `None` for a line that is not recorded (a leading
    /// space, a line history dropped); the reply then only acknowledges `seq`.
    Start {
        /// The hook's sequence number, echoed in the reply.
        seq: u64,
        /// The event to record.
        start: Option<CommandStart>,
    },
    /// The command has ended.
    End {
        /// The hook's sequence number, echoed in the reply.
        seq: u64,
        /// The shell, for the segment's escapes.
        shell: String,
        /// Whether the segment may carry colour.
        color: bool,
        /// The event's end.
        end: CommandEnd,
    },
    /// The agent missed a deadline: do not ask it for `secs` seconds.
    Rest {
        /// How long.
        secs: u64,
    },
    /// Score a line without recording it: `check` (`live: false`) or `live`.
    Score {
        /// The hook's sequence number, echoed in the reply.
        seq: u64,
        /// The shell session.
        session: String,
        /// The line.
        text: String,
        /// Whether to answer only after a pause in typing.
        live: bool,
    },
}

/// How many fields follow `verb`, or `None` for a verb this protocol does not have.
pub fn arity(verb: &[u8]) -> Option<usize> {
    match verb {
        b"start" => Some(7),
        b"end" => Some(6),
        b"check" | b"live" => Some(3),
        b"rest" => Some(1),
        _ => None,
    }
}

/// Decodes one message: `fields[0]` is the verb, then exactly [`arity`] fields. `now_ms` is the
/// time the event gets.
pub fn decode(fields: &[Vec<u8>], now_ms: i64) -> Result<ChannelRequest, ChannelError> {
    let text = |i: usize| String::from_utf8_lossy(fields.get(i).map_or(&[][..], |f| f.as_slice())).into_owned();
    let verb = fields.first().ok_or(ChannelError::Verb(String::new()))?;
    let want = arity(verb).ok_or_else(|| ChannelError::Verb(text(0)))?;
    if fields.len() != want + 1 {
        return Err(ChannelError::Field("count"));
    }
    if verb == b"rest" {
        let secs = text(1).parse().map_err(|_| ChannelError::Field("SECONDS"))?;
        return Ok(ChannelRequest::Rest { secs });
    }
    let session = text(1);
    if session.is_empty() {
        return Err(ChannelError::Field("SESSION"));
    }
    let seq: u64 = text(2).parse().map_err(|_| ChannelError::Field("SEQ"))?;
    if verb == b"check" || verb == b"live" {
        return Ok(ChannelRequest::Score { seq, session, text: text(3), live: verb == b"live" });
    }
    let shell = text(3);
    if verb == b"start" {
        let cwd = Some(text(4)).filter(|c| !c.is_empty());
        let raw = text(6);
        let (command, expected) = match text(5).as_str() {
            "line" => (raw, None),
            "history" => (history_line_text(&raw).unwrap_or_default().to_string(), None),
            "history-expected" => (history_line_text(&raw).unwrap_or_default().to_string(), Some(text(7))),
            _ => return Err(ChannelError::Field("MODE")),
        };
        let recorded = is_recorded(&command) && expected.is_none_or(|e| e == command);
        let start =
            recorded.then_some(CommandStart { session, seq: Some(seq), shell, command, cwd, started_at_ms: now_ms });
        return Ok(ChannelRequest::Start { seq, start });
    }
    let exit_code: i32 = text(4).parse().map_err(|_| ChannelError::Field("EXIT"))?;
    let duration = text(5);
    let duration_ms = match duration.as_str() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| ChannelError::Field("DURATION_MS"))?),
    };
    let color = text(6) != "0";
    let end = CommandEnd { session, seq: Some(seq), exit_code, duration_ms, ended_at_ms: now_ms };
    Ok(ChannelRequest::End { seq, shell, color, end })
}

/// The reply to a message that could not be decoded (`fields` as they came): the verb's "not
/// kept" or "unknown" line, so that the hook stops waiting and falls back; `None` when the
/// message does not even name its seq.
pub fn broken_reply(fields: &[Vec<u8>]) -> Option<String> {
    let seq = fields.get(2).and_then(|f| std::str::from_utf8(f).ok()?.parse().ok())?;
    Some(match fields.first().map(Vec::as_slice) {
        Some(b"start") => started_line(seq, false, None, None, None),
        Some(b"end") => ended_reply(seq, "", false, None),
        _ => scored_line(seq, "unknown", None),
    })
}

/// Encodes a message as a hook writes it (for tests, the relay's own tests and benchmarks).
pub fn encode(fields: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        out.extend_from_slice(f.as_bytes());
        out.push(0);
    }
    out
}

/// The reply line to a start: `kept`, and what the agent's answer asks the shell (`shell`, for
/// the segment's escapes) to show.
pub fn started_reply(seq: u64, kept: bool, shell: &str, reply: Option<&Response>) -> String {
    match reply {
        Some(Response::Started { notice, warning, segment, .. }) => {
            started_line(seq, kept, notice.as_deref(), warning.as_deref(), segment.as_ref().map(|s| (s, shell)))
        }
        _ => started_line(seq, kept, None, None, None),
    }
}

/// The reply line to a start, from its parts; the texts are escaped here, and the segment
/// (with the shell it is for) rendered twice: with colour and without.
pub fn started_line(
    seq: u64,
    kept: bool,
    notice: Option<&str>,
    warning: Option<&str>,
    segment: Option<(&Segment, &str)>,
) -> String {
    let show = |t: Option<&str>| t.map(|t| printable(t, usize::MAX)).unwrap_or_default();
    let kept = if kept { "1" } else { "0" };
    let (color, plain) = segment
        .map(|(seg, shell)| (render_segment(seg, shell, true), render_segment(seg, shell, false)))
        .unwrap_or_default();
    let (notice, warning) = (show(notice), show(warning));
    format!("started{SEPARATOR}{seq}{SEPARATOR}{kept}{SEPARATOR}{notice}{SEPARATOR}{warning}{SEPARATOR}{color}{SEPARATOR}{plain}\n")
}

/// The reply line to an end: the prompt segment the agent's answer asks for, if any.
pub fn ended_reply(seq: u64, shell: &str, color: bool, reply: Option<&Response>) -> String {
    let segment = match reply {
        Some(Response::Ended { segment: Some(seg) }) => render_segment(seg, shell, color),
        _ => String::new(),
    };
    format!("ended{SEPARATOR}{seq}{SEPARATOR}{segment}\n")
}

/// The reply line to a `check` or `live`: the verdict and the warning, escaped.
pub fn scored_line(seq: u64, verdict: &str, warning: Option<&str>) -> String {
    let warning = warning.map(|w| printable(w, usize::MAX)).unwrap_or_default();
    format!("scored{SEPARATOR}{seq}{SEPARATOR}{verdict}{SEPARATOR}{warning}\n")
}

/// The prompt segment for the last command, for `shell`: nothing for a safe or unscored
/// command, a yellow `?` for one the model is unsure of, a red `⚠` for an unsafe one. Colour
/// codes are wrapped so that the shell does not count them as printed width.
pub fn render_segment(seg: &Segment, shell: &str, color: bool) -> String {
    let pct = seg.p_unsafe.map(|p| format!("{:.0}%", p * 100.0)).unwrap_or_default();
    let (code, text) = match seg.label {
        Label::Unsafe => ("31", format!("⚠ {pct}")),
        Label::Unknown if seg.p_unsafe.is_some() => ("33", format!("? {pct}")),
        _ => return String::new(),
    };
    let (start, end) = (format!("\x1b[{code}m"), "\x1b[0m".to_string());
    let wrap = |esc: &str| match shell {
        "bash" => format!("\x01{esc}\x02"),
        "zsh" => format!("%{{{esc}%}}"),
        _ => esc.to_string(),
    };
    // zsh expands % in prompts.
    let text = if shell == "zsh" { text.replace('%', "%%") } else { text };
    if color {
        format!("{}{text}{} ", wrap(&start), wrap(&end))
    } else {
        format!("{text} ")
    }
}

/// The command line of bash's `history 1` output (`  NUMBER* LINE`, `*` marking an edited
/// entry), without its trailing newline; `None` if it is not in that form.
pub fn history_line_text(raw: &str) -> Option<&str> {
    let rest = raw.trim_start();
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let text = rest[digits..].strip_prefix(['*', ' '])?.strip_prefix(' ')?;
    Some(text.strip_suffix('\n').unwrap_or(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(msg: &[u8]) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = msg.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
        assert_eq!(v.pop(), Some(Vec::new()), "every field ends with a NUL");
        v
    }

    #[test]
    fn the_splitter_takes_messages_in_any_pieces() {
        let mut bytes = encode(&["noise", "end", "s", "1", "bash", "0", "", "1"]);
        bytes.extend(encode(&["start", "s", "2", "bash", "/", "line", "ls", ""]));
        for piece in [1, 2, 3, 7, bytes.len()] {
            let mut splitter = Splitter::default();
            let mut got = Vec::new();
            for chunk in bytes.chunks(piece) {
                let mut at = 0;
                while at < chunk.len() {
                    let (n, msg) = splitter.feed(&chunk[at..]).unwrap_or_default();
                    assert!(n > 0);
                    at += n;
                    got.extend(msg);
                }
            }
            assert_eq!(splitter.finish(), Ok(()));
            assert_eq!(got.len(), 2, "{piece}");
            assert_eq!((got[0].len(), got[0][0].as_slice()), (7, &b"end"[..]));
            assert_eq!((got[1].len(), got[1][6].as_slice()), (8, &b"ls"[..]));
        }
        let mut cut = Splitter::default();
        let _ = cut.feed(b"start\0s\x002\0bash");
        assert_eq!(cut.finish(), Err(ChannelError::Truncated));
    }

    #[test]
    fn a_start_decodes_in_each_mode() {
        let line = encode(&["start", "zsh-1", "3", "zsh", "/tmp", "line", "rm -rf build\nls", ""]);
        let Ok(ChannelRequest::Start { seq: 3, start: Some(s) }) = decode(&fields(&line), 7) else { panic!() };
        assert_eq!(
            (s.command.as_str(), s.cwd.as_deref(), s.seq, s.started_at_ms),
            ("rm -rf build\nls", Some("/tmp"), Some(3), 7)
        );
        let hist = encode(&["start", "b", "4", "bash", "", "history", "  12  git status\n", ""]);
        let Ok(ChannelRequest::Start { start: Some(s), .. }) = decode(&fields(&hist), 0) else { panic!() };
        assert_eq!((s.command.as_str(), s.cwd), ("git status", None));
        // history-expected: recorded only when the entry is the expected text.
        let same = encode(&["start", "b", "5", "bash", "/", "history-expected", "  12  ls\n", "ls"]);
        assert!(matches!(decode(&fields(&same), 0), Ok(ChannelRequest::Start { start: Some(_), .. })));
        let other = encode(&["start", "b", "5", "bash", "/", "history-expected", "  12  ls\n", "secret"]);
        assert_eq!(decode(&fields(&other), 0), Ok(ChannelRequest::Start { seq: 5, start: None }));
        // A leading space: acknowledged, not recorded.
        let quiet = encode(&["start", "z", "6", "zsh", "/", "line", " mysql -p", ""]);
        assert_eq!(decode(&fields(&quiet), 0), Ok(ChannelRequest::Start { seq: 6, start: None }));
    }

    #[test]
    fn an_end_decodes() {
        let msg = encode(&["end", "z", "9", "zsh", "130", "", "0"]);
        let Ok(ChannelRequest::End { seq: 9, shell, color: false, end }) = decode(&fields(&msg), 5) else { panic!() };
        assert_eq!((shell.as_str(), end.exit_code, end.duration_ms, end.ended_at_ms), ("zsh", 130, None, 5));
        let timed = encode(&["end", "z", "9", "zsh", "0", "42", "1"]);
        assert!(matches!(
            decode(&fields(&timed), 0),
            Ok(ChannelRequest::End { color: true, end: CommandEnd { duration_ms: Some(42), .. }, .. })
        ));
    }

    #[test]
    fn checks_and_live_lines_decode_and_are_answered_on_one_line() {
        let msg = encode(&["live", "z", "12", "rm -rf ~/"]);
        let want = ChannelRequest::Score { seq: 12, session: "z".into(), text: "rm -rf ~/".into(), live: true };
        assert_eq!(decode(&fields(&msg), 0), Ok(want));
        assert_eq!(decode(&fields(&encode(&["rest", "4"])), 0), Ok(ChannelRequest::Rest { secs: 4 }));
        assert_eq!(decode(&fields(&encode(&["rest", "soon"])), 0), Err(ChannelError::Field("SECONDS")));
        let msg = encode(&["check", "z", "13", ""]);
        assert!(matches!(decode(&fields(&msg), 0), Ok(ChannelRequest::Score { seq: 13, live: false, .. })));
        assert_eq!(scored_line(3, "rule", Some("vigil: x\ny")), "scored\x1f3\x1frule\x1fvigil: x⏎y\n");
        assert_eq!(scored_line(4, "safe", None), "scored\x1f4\x1fsafe\x1f\n");
    }

    #[test]
    fn bad_messages_are_named() {
        assert_eq!(decode(&fields(&encode(&["stop", "z"])), 0), Err(ChannelError::Verb("stop".into())));
        assert_eq!(decode(&fields(&encode(&["end", "z", "1"])), 0), Err(ChannelError::Field("count")));
        assert_eq!(
            decode(&fields(&encode(&["end", "", "1", "zsh", "0", "", "1"])), 0),
            Err(ChannelError::Field("SESSION"))
        );
        assert_eq!(
            decode(&fields(&encode(&["end", "z", "x", "zsh", "0", "", "1"])), 0),
            Err(ChannelError::Field("SEQ"))
        );
        assert_eq!(
            decode(&fields(&encode(&["end", "z", "1", "zsh", "ok", "", "1"])), 0),
            Err(ChannelError::Field("EXIT"))
        );
        assert_eq!(
            decode(&fields(&encode(&["end", "z", "1", "zsh", "0", "1s", "1"])), 0),
            Err(ChannelError::Field("DURATION_MS"))
        );
        let mode = encode(&["start", "z", "1", "zsh", "/", "argv", "ls", ""]);
        assert_eq!(decode(&fields(&mode), 0), Err(ChannelError::Field("MODE")));
        assert_eq!(decode(&[], 0), Err(ChannelError::Verb(String::new())));
    }

    #[test]
    fn replies_are_one_line_whatever_the_text() {
        let warning = "vigil: rm -rf /\n\x1b[8m hidden\x1f";
        let seg = Segment { label: Label::Unsafe, p_unsafe: Some(0.9), reason: "model".into() };
        let line = started_line(4, true, Some("config.toml:3: x"), Some(warning), Some((&seg, "zsh")));
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.ends_with('\n'));
        let parts: Vec<&str> = line.trim_end_matches('\n').split(SEPARATOR).collect();
        assert_eq!(
            parts,
            [
                "started",
                "4",
                "1",
                "config.toml:3: x",
                r"vigil: rm -rf /⏎\e[8m hidden\x1f",
                "%{\x1b[31m%}⚠ 90%%%{\x1b[0m%} ",
                "⚠ 90%% "
            ]
        );
        assert_eq!(started_reply(5, false, "bash", None), "started\x1f5\x1f0\x1f\x1f\x1f\x1f\n");
        // The agent's answer carries the segment the end will show.
        let answer = Response::Started { recorded: true, warning: None, notice: None, segment: Some(seg.clone()) };
        assert_eq!(
            started_reply(6, true, "fish", Some(&answer)),
            "started\x1f6\x1f1\x1f\x1f\x1f\x1b[31m⚠ 90%\x1b[0m \x1f⚠ 90% \n"
        );
        let ended = ended_reply(6, "bash", true, Some(&Response::Ended { segment: Some(seg) }));
        assert_eq!(ended, "ended\x1f6\x1f\x01\x1b[31m\x02⚠ 90%\x01\x1b[0m\x02 \n");
        assert_eq!(ended_reply(7, "zsh", true, None), "ended\x1f7\x1f\n");
    }

    #[test]
    fn segments_render_per_shell() {
        let unsafe_ = Segment { label: Label::Unsafe, p_unsafe: Some(0.87), reason: "model".into() };
        assert_eq!(render_segment(&unsafe_, "bash", true), "\x01\x1b[31m\x02⚠ 87%\x01\x1b[0m\x02 ");
        assert_eq!(render_segment(&unsafe_, "zsh", true), "%{\x1b[31m%}⚠ 87%%%{\x1b[0m%} ");
        assert_eq!(render_segment(&unsafe_, "fish", false), "⚠ 87% ");
        let safe = Segment { label: Label::Safe, p_unsafe: Some(0.02), reason: "model".into() };
        assert_eq!(render_segment(&safe, "bash", true), "");
        let unsure = Segment { label: Label::Unknown, p_unsafe: Some(0.5), reason: "model".into() };
        assert!(render_segment(&unsure, "fish", true).contains("? 50%"));
        let unscored = Segment { label: Label::Unknown, p_unsafe: None, reason: "none".into() };
        assert_eq!(render_segment(&unscored, "zsh", true), "");
    }

    #[test]
    fn history_lines_parse() {
        assert_eq!(history_line_text("   36  echo one\n"), Some("echo one"));
        assert_eq!(history_line_text("  7* git commit -m 'x'\n"), Some("git commit -m 'x'"));
        assert_eq!(
            history_line_text("123456  for i in 1; do\n echo $i\ndone\n"),
            Some("for i in 1; do\n echo $i\ndone")
        );
        assert_eq!(history_line_text("   37   leading space kept\n"), Some(" leading space kept"));
        assert_eq!(history_line_text(""), None);
        assert_eq!(history_line_text("no number"), None);
    }
}
