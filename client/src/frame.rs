//! How messages travel: frames, their protocol version, their size limit, and the one frame
//! reader the blocking client and the async agent share.
//!
//! A frame is a 4-byte big-endian length `N`, then `N` bytes: a 2-byte big-endian protocol
//! version followed by a postcard payload. The version sits outside the payload so that either
//! side can tell a peer of another version apart from garbage without decoding anything.
//! Files on disk (spool, journal) do not hold these frames: they carry format versions of
//! their own (see `disk`), so that a protocol change never makes kept events unreadable.

use serde::Serialize;
use std::io::{Read, Write};

use crate::protocol::PROTOCOL_VERSION;

/// Largest frame either side accepts, header excluded. A command longer than this cannot be
/// recorded; a peer announcing a larger frame is cut off without reading it.
pub const MAX_FRAME_LEN: usize = 4 << 20;

/// Length prefix plus version.
pub const HEADER_LEN: usize = 6;

/// Why a frame could not be read or decoded.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection at a frame boundary.
    #[error("connection closed")]
    Closed,
    /// The peer closed the connection mid-frame.
    #[error("frame truncated")]
    Truncated,
    /// The length prefix exceeds [`MAX_FRAME_LEN`].
    #[error("frame of {0} bytes exceeds the {MAX_FRAME_LEN}-byte limit")]
    TooLarge(u64),
    /// The length prefix is too small to hold a version.
    #[error("frame too short")]
    TooShort,
    /// The peer speaks another protocol version.
    #[error("protocol version {theirs}, expected {PROTOCOL_VERSION}")]
    Version {
        /// The version in the frame.
        theirs: u16,
    },
    /// The payload is not a valid message.
    #[error("undecodable frame: {0}")]
    Decode(String),
    /// Encoding failed (a message larger than the limit).
    #[error("cannot encode frame: {0}")]
    Encode(String),
    /// The transport failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Encodes `msg` as one complete frame (header included).
pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, FrameError> {
    let mut buf = vec![0u8; HEADER_LEN];
    buf = postcard::to_extend(msg, buf).map_err(|e| FrameError::Encode(e.to_string()))?;
    let body_len = buf.len() - 4;
    if body_len - 2 > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge(body_len as u64));
    }
    buf[0..4].copy_from_slice(&(body_len as u32).to_be_bytes());
    buf[4..6].copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    Ok(buf)
}

/// Checks a length prefix and returns the number of bytes that follow it (version + payload).
pub fn body_len(prefix: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(prefix) as u64;
    if len < 2 {
        return Err(FrameError::TooShort);
    }
    if len - 2 > MAX_FRAME_LEN as u64 {
        return Err(FrameError::TooLarge(len));
    }
    Ok(len as usize)
}

/// Splits a frame body into its version and payload, refusing another protocol version.
pub fn split_body(body: &[u8]) -> Result<&[u8], FrameError> {
    if body.len() < 2 {
        return Err(FrameError::TooShort);
    }
    let theirs = u16::from_be_bytes([body[0], body[1]]);
    if theirs != PROTOCOL_VERSION {
        return Err(FrameError::Version { theirs });
    }
    Ok(&body[2..])
}

/// Decodes a payload (the body without its version) into a message.
pub fn decode_payload<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    // A payload is at most MAX_FRAME_LEN bytes, and postcard never allocates more than the
    // input can hold, so a hostile length inside it cannot ask for gigabytes.
    let (msg, rest) = postcard::take_from_bytes(payload).map_err(|e| FrameError::Decode(e.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::Decode(format!("{} trailing bytes", rest.len())));
    }
    Ok(msg)
}

/// The reading of one frame's length prefix, whatever does the reading: the blocking client
/// and the async agent both fill [`Prefix::space`] and report each read to
/// [`Prefix::advance`], so that a peer closing at a frame boundary ([`FrameError::Closed`])
/// and one closing mid-frame ([`FrameError::Truncated`]) are told apart the same way on both
/// sides. Then the body is read into [`Prefix::body`] with a read-exact, whose end of file
/// [`body_read_error`] names.
#[derive(Debug, Default)]
pub struct Prefix {
    bytes: [u8; 4],
    got: usize,
}

impl Prefix {
    /// Where the next read goes.
    pub fn space(&mut self) -> &mut [u8] {
        self.bytes.get_mut(self.got..).unwrap_or_default()
    }

    /// Takes the result of one read into [`Prefix::space`] (`0`: the peer closed). Returns the
    /// body's buffer once the prefix is complete and valid.
    pub fn advance(&mut self, n: usize) -> Result<Option<Vec<u8>>, FrameError> {
        if n == 0 {
            return Err(if self.got == 0 { FrameError::Closed } else { FrameError::Truncated });
        }
        self.got = (self.got + n).min(4);
        if self.got < 4 {
            return Ok(None);
        }
        Ok(Some(vec![0u8; body_len(self.bytes)?]))
    }
}

/// The error for a failed read-exact of a frame body.
pub fn body_read_error(e: std::io::Error) -> FrameError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => FrameError::Truncated,
        _ => FrameError::Io(e),
    }
}

/// Reads one frame body (version + payload) from a blocking reader.
pub fn read_body(r: &mut impl Read) -> Result<Vec<u8>, FrameError> {
    let mut prefix = Prefix::default();
    let mut body = loop {
        match r.read(prefix.space()) {
            Ok(n) => {
                if let Some(body) = prefix.advance(n)? {
                    break body;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    };
    r.read_exact(&mut body).map_err(body_read_error)?;
    Ok(body)
}

/// Reads and decodes one message from a blocking reader.
pub fn read_message<T: serde::de::DeserializeOwned>(r: &mut impl Read) -> Result<T, FrameError> {
    let body = read_body(r)?;
    decode_payload(split_body(&body)?)
}

/// Encodes and writes one message to a blocking writer.
pub fn write_message<T: Serialize>(w: &mut impl Write, msg: &T) -> Result<(), FrameError> {
    let frame = encode_frame(msg)?;
    w.write_all(&frame)?;
    Ok(())
}

/// Decodes every complete frame in `bytes` (a capture of a conversation); stops at the first
/// truncated or undecodable frame and reports how many bytes were consumed cleanly.
pub fn decode_stream<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> (Vec<T>, usize, Option<FrameError>) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if rest.len() < 4 {
            return (out, pos, Some(FrameError::Truncated));
        }
        let len = match body_len([rest[0], rest[1], rest[2], rest[3]]) {
            Ok(len) => len,
            Err(e) => return (out, pos, Some(e)),
        };
        if rest.len() < 4 + len {
            return (out, pos, Some(FrameError::Truncated));
        }
        match split_body(&rest[4..4 + len]).and_then(decode_payload) {
            Ok(msg) => out.push(msg),
            Err(e) => return (out, pos, Some(e)),
        }
        pos += 4 + len;
    }
    (out, pos, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{CommandStart, Request};

    fn start() -> Request {
        Request::Start(CommandStart {
            session: "s1".into(),
            seq: Some(3),
            shell: "bash".into(),
            command: "echo 'héllo' | wc -c\nls".into(),
            cwd: Some("/tmp".into()),
            started_at_ms: 1_700_000_000_000,
        })
    }

    #[test]
    fn round_trip() {
        let frame = encode_frame(&start()).unwrap();
        let back: Request = read_message(&mut frame.as_slice()).unwrap();
        assert_eq!(back, start());
    }

    #[test]
    fn wrong_version_is_named() {
        let mut frame = encode_frame(&start()).unwrap();
        frame[4..6].copy_from_slice(&99u16.to_be_bytes());
        let err = read_message::<Request>(&mut frame.as_slice()).unwrap_err();
        assert!(matches!(err, FrameError::Version { theirs: 99 }), "{err}");
    }

    #[test]
    fn oversized_prefix_is_refused_before_reading() {
        let bytes = [0xff, 0xff, 0xff, 0xff, 0, 1];
        let err = read_message::<Request>(&mut bytes.as_slice()).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge(_)), "{err}");
    }

    #[test]
    fn truncated_and_garbage_are_errors() {
        let frame = encode_frame(&start()).unwrap();
        let err = read_message::<Request>(&mut &frame[..frame.len() - 3]).unwrap_err();
        assert!(matches!(err, FrameError::Truncated), "{err}");
        let mut garbage = vec![0, 0, 0, 8, 0, PROTOCOL_VERSION as u8];
        garbage.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 0xff, 0xff]);
        let err = read_message::<Request>(&mut garbage.as_slice()).unwrap_err();
        assert!(matches!(err, FrameError::Decode(_)), "{err}");
        assert!(matches!(read_message::<Request>(&mut [].as_slice()), Err(FrameError::Closed)));
    }

    #[test]
    fn stream_stops_at_torn_tail() {
        let mut bytes = encode_frame(&start()).unwrap();
        bytes.extend(encode_frame(&Request::Ping).unwrap());
        let whole = bytes.len();
        bytes.extend(&encode_frame(&start()).unwrap()[..5]);
        let (msgs, used, err) = decode_stream::<Request>(&bytes);
        assert_eq!(msgs, vec![start(), Request::Ping]);
        assert_eq!(used, whole);
        assert!(matches!(err, Some(FrameError::Truncated)));
    }

    #[test]
    fn keys_are_stable() {
        let Request::Start(mut s) = start() else { unreachable!() };
        assert_eq!(s.key(), "s1#3");
        s.seq = None;
        assert_eq!(s.key(), "s1@1700000000000");
    }
}
