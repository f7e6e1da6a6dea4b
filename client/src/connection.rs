//! The blocking side of the socket: connect within a deadline, send a request, read the reply;
//! and starting, finding and stopping the agent process.

use crate::paths::{check_private_dir, PathError, Paths};
use crate::protocol::{self, AgentInfo, ErrorReply, FrameError, Request, Response, PROTOCOL_VERSION};
use std::io::{ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What can go wrong talking to the agent.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No agent listens on the socket.
    #[error("the agent is not running ({0})")]
    NotRunning(std::io::Error),
    /// The agent did not answer within the deadline.
    #[error("the agent did not answer in time")]
    Timeout,
    /// The agent speaks another protocol version.
    #[error("the agent speaks protocol {agent} and this vigil speaks {PROTOCOL_VERSION}: {}", if *.agent < PROTOCOL_VERSION { "the agent is older; restart it with `vigil agent stop && vigil agent start`" } else { "this vigil is older than the agent; reinstall vigil" })]
    ProtocolMismatch {
        /// The agent's protocol version.
        agent: u16,
    },
    /// The agent answered with an error.
    #[error("the agent says: {}", .0.message)]
    Agent(ErrorReply),
    /// The agent answered something that does not fit the request.
    #[error("unexpected reply from the agent: {0}")]
    Unexpected(String),
    /// A frame could not be read or written.
    #[error("talking to the agent: {0}")]
    Frame(FrameError),
    /// The paths are unusable.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The agent could not be started.
    #[error("cannot start the agent: {0}")]
    Spawn(String),
}

impl From<FrameError> for ClientError {
    fn from(e: FrameError) -> Self {
        match e {
            FrameError::Version { theirs } => ClientError::ProtocolMismatch { agent: theirs },
            FrameError::Io(io) if matches!(io.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                ClientError::Timeout
            }
            other => ClientError::Frame(other),
        }
    }
}

/// One connection to the agent.
pub struct Connection {
    stream: UnixStream,
}

impl Connection {
    /// Connects to the agent's socket, waiting at most `timeout` for it to accept, and sets
    /// the same deadline on every later read and write. The socket's folder is checked first:
    /// commands are never handed to a socket another user could have planted.
    pub fn connect(paths: &Paths, timeout: Duration) -> Result<Connection, ClientError> {
        if let Some(e) = paths.socket_error() {
            return Err(ClientError::Path(e));
        }
        check_private_dir(&paths.runtime_dir).map_err(|e| match e {
            PathError::Io { source, .. } if source.kind() == ErrorKind::NotFound => ClientError::NotRunning(source),
            other => ClientError::Path(other),
        })?;
        let stream = connect_within(&paths.socket, timeout).map_err(|e| match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => ClientError::Timeout,
            _ => ClientError::NotRunning(e),
        })?;
        let conn = Connection { stream };
        conn.set_timeout(Some(timeout))?;
        Ok(conn)
    }

    /// Sets the read and write deadline (`None`: wait for ever, for long requests like training).
    pub fn set_timeout(&self, timeout: Option<Duration>) -> Result<(), ClientError> {
        let io = |e| ClientError::Frame(FrameError::Io(e));
        // std refuses a zero duration; a zero deadline means "do not wait" to us.
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        self.stream.set_read_timeout(timeout).map_err(io)?;
        self.stream.set_write_timeout(timeout).map_err(io)?;
        Ok(())
    }

    /// Sends one request and reads its reply. An error reply becomes [`ClientError::Agent`].
    pub fn request(&mut self, req: &Request) -> Result<Response, ClientError> {
        let frame = protocol::encode_frame(req)?;
        self.stream.write_all(&frame).map_err(|e| ClientError::from(FrameError::Io(e)))?;
        match protocol::read_message::<Response>(&mut self.stream)? {
            Response::Error(e) => Err(ClientError::Agent(e)),
            other => Ok(other),
        }
    }

    /// Sends one message of the shell channel (`crate::channel`) and reads its reply line,
    /// within the connection's deadline: how the relay passes a `check` on.
    pub fn channel_exchange(&mut self, message: &[u8]) -> Result<String, ClientError> {
        use std::io::Read;
        let io = |e: std::io::Error| ClientError::from(FrameError::Io(e));
        self.stream.write_all(message).map_err(io)?;
        let mut line = Vec::new();
        let mut buf = [0u8; 512];
        while !line.ends_with(b"\n") {
            let n = self.stream.read(&mut buf).map_err(io)?;
            if n == 0 || line.len() + n > 64 * 1024 {
                return Err(ClientError::Unexpected("no reply line".into()));
            }
            line.extend_from_slice(&buf[..n]);
        }
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    /// Asks the agent who it is.
    pub fn ping(&mut self) -> Result<AgentInfo, ClientError> {
        match self.request(&Request::Ping)? {
            Response::Pong(info) => Ok(info),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }
}

/// Connects to the Unix socket at `path`, waiting at most `timeout` for the agent to accept.
/// A Unix socket's connect waits only when the listener's backlog is full (an agent that is
/// frozen or swamped), and Linux bounds that wait by the socket's send timeout: so the
/// timeout is set before connecting, which std's `UnixStream::connect` cannot do.
fn connect_within(path: &Path, timeout: Duration) -> std::io::Result<UnixStream> {
    use rustix::net::{sockopt, AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let fd = rustix::net::socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None)?;
    sockopt::set_socket_timeout(&fd, sockopt::Timeout::Send, Some(timeout.max(Duration::from_millis(1))))?;
    rustix::net::connect(&fd, &SocketAddrUnix::new(path)?)?;
    Ok(UnixStream::from(fd))
}

/// Finds the `vigild` binary: `$VIGIL_AGENT_BIN`, else beside this executable, else on `PATH`.
pub fn agent_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("VIGIL_AGENT_BIN").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        let beside = dir.join("vigild");
        if beside.is_file() {
            return beside;
        }
    }
    PathBuf::from("vigild")
}

/// Starts the agent detached from the terminal (its own session, no standard streams but a
/// file for its last words) and returns at once. Another agent already holding the lock makes
/// the new one exit quietly, so racing hooks may all call this.
pub fn spawn_agent(paths: &Paths, wait_for_lock: bool) -> Result<u32, ClientError> {
    use std::os::unix::fs::DirBuilderExt;
    use std::os::unix::process::CommandExt;
    crate::paths::ensure_private_dir(&paths.data_dir)?;
    let _ = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&paths.log_dir);
    // The agent's last words (a panic's line, a start-up error): bounded like the other logs.
    let stderr = crate::logfile::open_rotated(&paths.log_dir.join("vigild.stderr"), 1 << 20)
        .map(std::process::Stdio::from)
        .unwrap_or_else(|_| std::process::Stdio::null());
    let mut cmd = std::process::Command::new(agent_binary());
    cmd.arg("--quiet-if-running");
    if wait_for_lock {
        cmd.arg("--wait-lock");
    }
    cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(stderr);
    // In `/`: an agent must not keep the folder of the shell that started it busy (a mount
    // that cannot be unmounted).
    cmd.current_dir("/");
    // SAFETY: the closure runs between fork and exec, so it may only make async-signal-safe
    // system calls: setsid, close_range and fcntl are, and touch no memory of the parent.
    // close_range has no wrapper in rustix, hence libc here.
    unsafe {
        cmd.pre_exec(|| {
            let _ = rustix::process::setsid();
            // Descriptors the shell left open without close-on-exec (bash's 255, a terminal,
            // a file a script holds) stay the shell's: the agent gets only 0, 1 and 2. Marked
            // close-on-exec rather than closed, so that std's own exec-error pipe still works.
            const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;
            if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, CLOSE_RANGE_CLOEXEC) != 0 {
                for fd in 3..1024 {
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                }
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|e| ClientError::Spawn(format!("{}: {e}", agent_binary().display())))?;
    Ok(child.id())
}

/// The pid written in the agent's lock file, if an agent holds the lock now. A pid left in
/// a stale file may belong to any process by now: it is never returned, so never signalled.
pub fn running_agent_pid(paths: &Paths) -> Option<u32> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&paths.lock)
        .ok()?;
    // A shared lock is refused while the agent holds its exclusive one; taking it means no
    // agent runs (closing the file releases it).
    if file.try_lock_shared().is_ok() {
        return None;
    }
    let text = std::fs::read_to_string(&paths.lock).ok()?;
    let pid = rustix::process::Pid::from_raw(text.trim().parse().ok()?)?;
    rustix::process::test_kill_process(pid).is_ok().then_some(pid.as_raw_nonzero().get() as u32)
}

/// Waits until the agent answers a ping, up to `deadline`.
pub fn wait_until_up(paths: &Paths, deadline: Duration) -> Result<AgentInfo, ClientError> {
    let until = Instant::now() + deadline;
    loop {
        let attempt = Connection::connect(paths, Duration::from_millis(200)).and_then(|mut c| c.ping());
        match attempt {
            Ok(info) => return Ok(info),
            Err(e @ (ClientError::ProtocolMismatch { .. } | ClientError::Path(_))) => return Err(e),
            Err(e) if Instant::now() >= until => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Sends SIGTERM to the agent named in the lock file and waits up to `deadline` for it to
/// exit. Returns whether an agent was stopped.
pub fn terminate_agent(paths: &Paths, deadline: Duration) -> bool {
    let Some(pid) = running_agent_pid(paths).and_then(|p| rustix::process::Pid::from_raw(p as i32)) else {
        return false;
    };
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        if rustix::process::test_kill_process(pid).is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}
