//! Records on disk (journal segments and spool entries): a sync mark, the file's own format
//! version, a length and a checksum before each payload, and readers for the formats earlier
//! vigils wrote, so that kept events survive upgrades and one bad record costs only itself.
//!
//! A record is `MARK` (4 bytes), the format version (u16, big-endian), the payload length
//! (u32, big-endian), the CRC-32 of the payload (u32, big-endian), then the payload (postcard).
//! The version is the file kind's own (journal, spool), not the wire protocol's: the protocol
//! can change without touching what is on disk. A reader that meets garbage looks for the
//! next mark, so a torn or flipped record never hides the records after it.
//!
//! Format 1 (vigil 0.1 up to protocol 5) had no mark: each record was a wire frame, a u32
//! length, the protocol version 5 and a bincode payload. [`legacy`] decodes those.

#![deny(clippy::indexing_slicing)]

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Starts every record: rare in text, so that a reader can find the next record after garbage.
pub const MARK: [u8; 4] = [0xA7, b'V', b'g', b'R'];

/// Mark, version, length, checksum.
pub const RECORD_HEADER: usize = 14;

/// Largest payload a record may hold (a command of the wire's frame limit, with room to spare).
pub const MAX_RECORD_LEN: usize = crate::protocol::MAX_FRAME_LEN + 4096;

/// Why a record could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The value does not encode, or is larger than [`MAX_RECORD_LEN`].
    #[error("cannot encode record: {0}")]
    Encode(String),
}

/// Encodes one record of `format`.
pub fn encode<T: Serialize>(format: u16, value: &T) -> Result<Vec<u8>, RecordError> {
    let header = vec![0u8; RECORD_HEADER];
    let mut buf = postcard::to_extend(value, header).map_err(|e| RecordError::Encode(e.to_string()))?;
    let len = buf.len() - RECORD_HEADER;
    if len > MAX_RECORD_LEN {
        return Err(RecordError::Encode(format!("{len} bytes, over the {MAX_RECORD_LEN}-byte limit")));
    }
    let crc = crc32fast::hash(buf.get(RECORD_HEADER..).unwrap_or(&[]));
    let mut head = Vec::with_capacity(RECORD_HEADER);
    head.extend_from_slice(&MARK);
    head.extend_from_slice(&format.to_be_bytes());
    head.extend_from_slice(&(len as u32).to_be_bytes());
    head.extend_from_slice(&crc.to_be_bytes());
    buf.splice(0..RECORD_HEADER, head);
    Ok(buf)
}

/// What a file held.
#[derive(Debug)]
pub struct Decoded<T> {
    /// The records that decoded, in file order.
    pub records: Vec<T>,
    /// What was skipped, and why, for the log and for `vigil status`.
    pub problems: Vec<String>,
    /// Whether the file ends in the middle of a record (an agent or hook killed while writing).
    pub torn_tail: bool,
}

/// How a reader turns payloads into values.
pub trait Format: Sized {
    /// The format version written today.
    const CURRENT: u16;
    /// Decodes a payload of `version` (an earlier version's too, if it can).
    fn decode(version: u16, payload: &[u8]) -> Result<Self, String>;
    /// Decodes the payload of a format-1 record (a protocol-5 frame), if this kind had one.
    fn decode_legacy(payload: &[u8]) -> Result<Self, String>;
}

/// Decodes with postcard, refusing trailing bytes.
pub fn postcard_exact<T: DeserializeOwned>(payload: &[u8]) -> Result<T, String> {
    let (v, rest) = postcard::take_from_bytes(payload).map_err(|e| e.to_string())?;
    if rest.is_empty() {
        Ok(v)
    } else {
        Err(format!("{} trailing bytes", rest.len()))
    }
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([*s.first()?, *s.get(1)?, *s.get(2)?, *s.get(3)?]))
}

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn find_mark(bytes: &[u8], from: usize) -> Option<usize> {
    let rest = bytes.get(from..)?;
    rest.windows(MARK.len()).position(|w| w == MARK).map(|p| p + from)
}

/// Decodes every record in a file's bytes, skipping what cannot be read.
pub fn decode_all<T: Format>(bytes: &[u8]) -> Decoded<T> {
    let mut out = Decoded { records: Vec::new(), problems: Vec::new(), torn_tail: false };
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = bytes.get(pos..).unwrap_or(&[]);
        if rest.starts_with(&MARK) {
            let (Some(version), Some(len), Some(crc)) = (be_u16(rest, 4), be_u32(rest, 6), be_u32(rest, 10)) else {
                out.torn_tail = true;
                break;
            };
            let len = len as usize;
            let payload = if len <= MAX_RECORD_LEN { rest.get(RECORD_HEADER..RECORD_HEADER + len) } else { None };
            match payload {
                Some(p) if crc32fast::hash(p) == crc => {
                    match T::decode(version, p) {
                        Ok(v) => out.records.push(v),
                        Err(e) => out.problems.push(format!("record at byte {pos} (format {version}): {e}")),
                    }
                    pos += RECORD_HEADER + len;
                    continue;
                }
                Some(_) => out.problems.push(format!("record at byte {pos}: checksum mismatch")),
                None if len > MAX_RECORD_LEN => {
                    out.problems.push(format!("record at byte {pos}: length {len} over the limit"))
                }
                None => {}
            }
            // A bad or cut record: go on at the next mark, if there is one.
            match find_mark(bytes, pos + 1) {
                Some(next) => pos = next,
                None => {
                    if payload.is_none() && len <= MAX_RECORD_LEN {
                        out.torn_tail = true;
                    }
                    break;
                }
            }
            continue;
        }
        // Format 1: a protocol-5 wire frame.
        if let (Some(len), Some(5)) = (be_u32(rest, 0), be_u16(rest, 4)) {
            let len = len as usize;
            if (2..=crate::protocol::MAX_FRAME_LEN + 2).contains(&len) {
                if let Some(body) = rest.get(6..4 + len) {
                    match T::decode_legacy(body) {
                        Ok(v) => out.records.push(v),
                        Err(e) => out.problems.push(format!("format-1 record at byte {pos}: {e}")),
                    }
                    pos += 4 + len;
                    continue;
                }
                if find_mark(bytes, pos + 1).is_none() {
                    out.torn_tail = true;
                    break;
                }
            }
        }
        match find_mark(bytes, pos + 1) {
            Some(next) => {
                out.problems.push(format!("{} unreadable bytes at byte {pos} skipped", next - pos));
                pos = next;
            }
            None => {
                if rest.len() < RECORD_HEADER {
                    out.torn_tail = true;
                } else {
                    out.problems.push(format!("{} unreadable bytes at byte {pos} skipped", rest.len()));
                }
                break;
            }
        }
    }
    out
}

/// Decoders for format 1, whose payloads were bincode 2 (standard configuration: variable-length
/// integers, zig-zag for signed ones, little-endian floats), written up to protocol 5. The
/// bincode crate is gone (unmaintained); these few types are read by hand, with every length
/// checked against the input.
pub mod legacy {
    /// A cursor over a format-1 payload.
    pub struct Reader<'a> {
        bytes: &'a [u8],
        pos: usize,
    }

    impl<'a> Reader<'a> {
        /// Reads from the start of `bytes`.
        pub fn new(bytes: &'a [u8]) -> Reader<'a> {
            Reader { bytes, pos: 0 }
        }

        fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
            let s = self.bytes.get(self.pos..self.pos.saturating_add(n)).ok_or("truncated")?;
            self.pos += n;
            Ok(s)
        }

        fn le(&mut self, n: usize) -> Result<u128, String> {
            Ok(self.take(n)?.iter().rev().fold(0u128, |acc, b| (acc << 8) | u128::from(*b)))
        }

        /// An unsigned variable-length integer.
        pub fn varint(&mut self) -> Result<u64, String> {
            let first = *self.take(1)?.first().ok_or("truncated")?;
            let v = match first {
                0..=250 => u128::from(first),
                251 => self.le(2)?,
                252 => self.le(4)?,
                253 => self.le(8)?,
                _ => return Err(format!("integer tag {first}")),
            };
            u64::try_from(v).map_err(|_| "integer out of range".to_string())
        }

        /// A signed (zig-zag) variable-length integer.
        pub fn signed(&mut self) -> Result<i64, String> {
            let v = self.varint()?;
            Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
        }

        /// A 32-bit signed integer.
        pub fn i32(&mut self) -> Result<i32, String> {
            i32::try_from(self.signed()?).map_err(|_| "i32 out of range".to_string())
        }

        /// A string: its length, then UTF-8 bytes.
        pub fn string(&mut self) -> Result<String, String> {
            let len = usize::try_from(self.varint()?).map_err(|_| "length out of range")?;
            let bytes = self.take(len)?;
            String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string())
        }

        /// An f64, little-endian.
        pub fn f64(&mut self) -> Result<f64, String> {
            let b = self.take(8)?;
            let arr: [u8; 8] = b.try_into().map_err(|_| "truncated")?;
            Ok(f64::from_le_bytes(arr))
        }

        /// An option: a 0 or 1 byte, then the value.
        pub fn option<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<Option<T>, String> {
            match *self.take(1)?.first().ok_or("truncated")? {
                0 => Ok(None),
                1 => f(self).map(Some),
                t => Err(format!("option tag {t}")),
            }
        }

        /// Fails unless every byte was read.
        pub fn finish(&self) -> Result<(), String> {
            match self.bytes.len() - self.pos.min(self.bytes.len()) {
                0 => Ok(()),
                n => Err(format!("{n} trailing bytes")),
            }
        }
    }

    /// Reads a whole payload with `f`.
    pub fn read<T>(payload: &[u8], f: impl FnOnce(&mut Reader) -> Result<T, String>) -> Result<T, String> {
        let mut r = Reader::new(payload);
        let v = f(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Note(String);

    impl Format for Note {
        const CURRENT: u16 = 2;
        fn decode(version: u16, payload: &[u8]) -> Result<Self, String> {
            match version {
                2 => postcard_exact(payload),
                v => Err(format!("unknown format {v}")),
            }
        }
        fn decode_legacy(payload: &[u8]) -> Result<Self, String> {
            legacy::read(payload, |r| r.string()).map(Note)
        }
    }

    fn rec(s: &str) -> Vec<u8> {
        encode(Note::CURRENT, &Note(s.into())).unwrap()
    }

    #[test]
    fn round_trip_and_one_bad_record_costs_only_itself() {
        let mut bytes = [rec("a"), rec("b"), rec("c")].concat();
        let all = decode_all::<Note>(&bytes);
        assert_eq!(all.records, [Note("a".into()), Note("b".into()), Note("c".into())]);
        assert!(all.problems.is_empty() && !all.torn_tail);
        // Flip a byte in b's payload: a and c stay.
        let b_at = rec("a").len();
        bytes[b_at + RECORD_HEADER] ^= 0xff;
        let got = decode_all::<Note>(&bytes);
        assert_eq!(got.records, [Note("a".into()), Note("c".into())]);
        assert_eq!(got.problems.len(), 1, "{:?}", got.problems);
        // Garbage between records, and a torn tail.
        let mut mixed = [rec("a"), b"garbage here".to_vec(), rec("c")].concat();
        let torn = rec("d");
        mixed.extend_from_slice(&torn[..torn.len() - 1]);
        let got = decode_all::<Note>(&mixed);
        assert_eq!(got.records, [Note("a".into()), Note("c".into())]);
        assert!(got.torn_tail);
        // A huge length is refused without allocating.
        let mut huge = rec("x");
        huge[6..10].copy_from_slice(&u32::MAX.to_be_bytes());
        let got = decode_all::<Note>(&[huge, rec("y")].concat());
        assert_eq!(got.records, [Note("y".into())]);
    }

    #[test]
    fn format_one_frames_are_read() {
        // A protocol-5 frame: length, version 5, bincode string "hi".
        let frame = [0, 0, 0, 5, 0, 5, 2, b'h', b'i'];
        let got = decode_all::<Note>(&[frame.to_vec(), rec("new")].concat());
        assert_eq!(got.records, [Note("hi".into()), Note("new".into())]);
    }

    #[test]
    fn every_truncation_and_random_bytes_are_harmless() {
        let bytes = [rec("alpha"), rec("beta")].concat();
        for cut in 0..bytes.len() {
            let got = decode_all::<Note>(&bytes[..cut]);
            assert!(got.records.len() <= 2);
        }
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..2000 {
            let len = (x % 200) as usize;
            let mut buf = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                buf.push((x >> 24) as u8);
            }
            if x.is_multiple_of(3) {
                buf.extend_from_slice(&rec("tail"));
            }
            let _ = decode_all::<Note>(&buf);
        }
    }

    #[test]
    fn legacy_integers() {
        let mut r = legacy::Reader::new(&[7, 251, 0x10, 0x27, 3, 1, 9, 0]);
        assert_eq!(r.varint().unwrap(), 7);
        assert_eq!(r.varint().unwrap(), 10_000);
        assert_eq!(r.signed().unwrap(), -2);
        assert_eq!(r.option(|r| r.varint()).unwrap(), Some(9));
        assert_eq!(r.option(|r| r.varint()).unwrap(), None);
        assert!(r.finish().is_ok());
    }
}
