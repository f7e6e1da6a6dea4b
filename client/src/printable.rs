//! Showing untrusted text on a terminal: commands, folders and warnings, with every control
//! character escaped.

/// `text` as one printable line of at most `max` characters, safe to write to a terminal.
///
/// Commands, folders and warnings are the person's (or an attacker's) bytes: an escape
/// sequence in them must not drive the terminal (`\e[8m` hides what follows, `\r` overwrites
/// the line, OSC sequences set the title or the clipboard). Every control character is shown
/// escaped instead, in one style: `\e`, `\r`, `\t`, `\x07` for the other C0 controls and DEL,
/// `\u{9b}` for C1 controls and for the invisible Unicode characters that reorder or hide text
/// (bidirectional overrides, zero-width characters, line separators). A newline is `⏎`, so
/// that a multi-line command stays one row. A backslash stays as it is: commands are full of
/// them, and the point is that the terminal cannot be driven, not that the text reads back
/// byte for byte. The text is cut whole escapes at a time, never inside one.
pub fn printable(text: &str, max: usize) -> String {
    let mut pieces = Vec::with_capacity(text.len());
    let mut width = 0usize;
    for c in text.chars() {
        let piece = escape_char(c);
        width += piece.as_ref().map_or(1, |p| p.chars().count());
        pieces.push((c, piece));
    }
    let mut s = String::with_capacity(text.len());
    if width <= max {
        for (c, piece) in &pieces {
            match piece {
                Some(p) => s.push_str(p),
                None => s.push(*c),
            }
        }
        return s;
    }
    let room = max.saturating_sub(1);
    let mut used = 0;
    for (c, piece) in &pieces {
        let n = piece.as_ref().map_or(1, |p| p.chars().count());
        if used + n > room {
            break;
        }
        used += n;
        match piece {
            Some(p) => s.push_str(p),
            None => s.push(*c),
        }
    }
    s.push('…');
    s
}

/// How [`printable`] shows `c`, or `None` when `c` is shown as itself.
fn escape_char(c: char) -> Option<String> {
    Some(match c {
        '\n' => "⏎".to_string(),
        '\x1b' => "\\e".to_string(),
        '\r' => "\\r".to_string(),
        '\t' => "\\t".to_string(),
        '\0'..='\x1f' | '\x7f' => format!("\\x{:02x}", c as u32),
        // C1 controls (U+0080..U+009F: U+009B is a one-character CSI on many terminals), and
        // the characters that reorder or hide text without showing themselves.
        '\u{80}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{feff}' => {
            format!("\\u{{{:x}}}", c as u32)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_and_shortens() {
        assert_eq!(printable("echo \x1b[31mred", 80), r"echo \e[31mred");
        assert_eq!(printable("abcdef", 4), "abc…");
        assert_eq!(printable("a\nb\tc", usize::MAX), r"a⏎b\tc");
        assert_eq!(printable("over\rwrite", 80), r"over\rwrite");
        assert_eq!(printable("bell\x07 nul\0 del\x7f us\x1f", 80), r"bell\x07 nul\x00 del\x7f us\x1f");
        // C1: U+009B is CSI by itself on terminals that take 8-bit controls.
        assert_eq!(printable("c1 \u{9b}2J \u{85}", 80), r"c1 \u{9b}2J \u{85}");
        // Text that reorders or hides itself: right-to-left override, zero-width space.
        assert_eq!(printable("ls \u{202e}txt.exe \u{200b}x \u{2066}", 80), r"ls \u{202e}txt.exe \u{200b}x \u{2066}");
        // What is printable stays as it is: backslashes, quotes, unicode text.
        assert_eq!(printable(r"printf 'a\n' 'ünïcødé ✓' \e", 80), r"printf 'a\n' 'ünïcødé ✓' \e");
    }

    #[test]
    fn printable_never_writes_a_raw_control_character() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        for max in [usize::MAX, 50, 7, 1, 0] {
            let shown = printable(&all, max);
            assert!(shown.chars().all(|c| escape_char(c).is_none()), "{max}: {shown:?}");
        }
    }

    #[test]
    fn printable_cuts_between_escapes() {
        // Room for "ab" and one 2-character escape, not for the 6-character one after it.
        assert_eq!(printable("ab\x1b\u{9b}cdef", 6), r"ab\e…");
        assert_eq!(printable("ab\x1b", 5), r"ab\e");
        assert_eq!(printable("\u{9b}\u{9b}", 7), r"\u{9b}…");
    }
}
