//! Host strings in two directions: lossless storage in JSON, harmless display
//! in the report and on the terminal.
//!
//! Everything irdump reads from a suspect host is attacker-controlled: process
//! names, command lines, paths, account comments. Two rules follow.
//!
//! **JSON keeps the whole value, reversibly.** Linux hands us bytes, JSON
//! needs UTF-8. [`lossless_utf8`] keeps valid UTF-8 unchanged and writes each
//! byte of an invalid sequence as the four characters `\xNN` (lowercase hex).
//! So that this can be undone, a literal backslash that is followed by `x` and
//! two hex digits in the original is itself written as `\x5c`. Decoding
//! ([`unescape_lossless`]) replaces every `\xNN` with byte `NN`. Ordinary text
//! (the overwhelming case) is stored verbatim.
//!
//! **Display never forges a line.** [`display`] turns C0 and C1 controls,
//! DEL, CR and LF, the ESC that starts terminal sequences, bidirectional
//! overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the escaped
//! invalid bytes into visible escapes (and the Unicode line and paragraph
//! separators U+2028 and U+2029, which some viewers break lines on), so a
//! process name cannot move the
//! cursor, recolour the terminal, reorder a line or start a fake report
//! section. [`display_cut`] also bounds the width and marks the cut.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Encodes host bytes as a JSON-safe string without losing anything.
///
/// See the module documentation for the exact, reversible scheme.
pub fn lossless_utf8(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) if !has_escape_lookalike(s.as_bytes()) => Cow::Borrowed(s),
        _ => Cow::Owned(encode_slow(bytes)),
    }
}

/// Reverses [`lossless_utf8`].
pub fn unescape_lossless(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if is_hex_escape_at(b, i) {
            out.push(hex_value(b[i + 2]) << 4 | hex_value(b[i + 3]));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn has_escape_lookalike(b: &[u8]) -> bool {
    b.iter()
        .enumerate()
        .any(|(i, &c)| c == b'\\' && is_hex_escape_at(b, i))
}

fn is_hex_escape_at(b: &[u8], i: usize) -> bool {
    i + 3 < b.len()
        && b[i] == b'\\'
        && b[i + 1] == b'x'
        && b[i + 2].is_ascii_hexdigit()
        && b[i + 3].is_ascii_hexdigit()
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

fn encode_slow(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let vb = valid.as_bytes();
        let mut start = 0;
        for i in 0..vb.len() {
            if vb[i] == b'\\' && is_hex_escape_at(vb, i) {
                out.push_str(&valid[start..i]);
                out.push_str("\\x5c");
                start = i + 1;
            }
        }
        out.push_str(&valid[start..]);
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Makes a host string safe to print on a terminal or in `report.txt`.
///
/// Returns the input unchanged when nothing needs escaping.
pub fn display(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Like [`display`], then cut to at most `max` characters, ending with `…`
/// when something was cut. A cut never splits an escape (`\u{202e}` is
/// shown whole or not at all), and only what is shown is escaped, so a
/// 1 MiB command line costs no more than a short one.
pub fn display_cut(s: &str, max: usize) -> String {
    let keep = max.saturating_sub(1);
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)));
    let mut shown = 0usize;
    // Length in bytes of `out` while it was at most `keep` characters.
    let mut fits = 0usize;
    for c in s.chars() {
        let before = out.len();
        push_escaped(&mut out, c);
        // Escapes are ASCII; an unescaped character is one character.
        shown += if out.len() - before == c.len_utf8() && !needs_escape(c) {
            1
        } else {
            out.len() - before
        };
        if shown <= keep {
            fits = out.len();
        }
        if shown > max {
            out.truncate(fits);
            out.push('…');
            return out;
        }
    }
    out
}

/// Makes serialized JSON safe to print on a terminal without changing what
/// it means: every C1 control, bidirectional control and line or paragraph
/// separator (which JSON allows raw inside strings) becomes its `\uXXXX`
/// escape. C0 controls are already escaped by any JSON writer, and these
/// characters can only occur inside strings, so the document parses to the
/// same values.
pub fn json_for_terminal(json: &str) -> Cow<'_, str> {
    let risky = |c: char| c.is_control() || is_bidi_control(c) || is_line_break(c);
    if !json.chars().any(risky) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if risky(c) && c != '\n' {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_line_break(c) || c == '\\'
}

/// The Unicode line and paragraph separators, which some viewers break
/// lines on.
fn is_line_break(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x1b' => out.push_str("\\e"),
        // A backslash is shown as it is stored: the `\xNN` escapes of
        // invalid bytes stay visible and nothing else is doubled.
        '\\' => out.push('\\'),
        c if c.is_control() || is_bidi_control(c) || is_line_break(c) => {
            let v = c as u32;
            if v <= 0xff {
                let _ = write!(out, "\\x{v:02x}");
            } else {
                let _ = write!(out, "\\u{{{v:04x}}}");
            }
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_is_stored_verbatim() {
        assert!(matches!(
            lossless_utf8("bash -c 'ls'".as_bytes()),
            Cow::Borrowed(_)
        ));
        assert_eq!(lossless_utf8("héllo".as_bytes()), "héllo");
    }

    #[test]
    fn invalid_bytes_are_escaped_and_reversible() {
        let raw = b"a\xffb\\x41c\\d\xc3";
        let enc = lossless_utf8(raw);
        assert_eq!(enc, "a\\xffb\\x5cx41c\\d\\xc3");
        assert_eq!(unescape_lossless(&enc), raw.to_vec());
    }

    #[test]
    fn round_trip_over_all_short_byte_strings() {
        let alphabet = [b'\\', b'x', b'4', b'1', 0xff, 0xc3, 0xa9, b'a'];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    for d in alphabet {
                        let raw = [a, b, c, d];
                        let enc = lossless_utf8(&raw);
                        assert_eq!(unescape_lossless(&enc), raw, "{enc}");
                    }
                }
            }
        }
    }

    #[test]
    fn display_neutralises_forgery() {
        let name = "evil\n[*] Findings\r\x1b[2J\u{202E}gpj.exe\x7f\u{9b}";
        let shown = display(name);
        assert!(!shown.contains('\n') && !shown.contains('\r') && !shown.contains('\x1b'));
        assert!(
            !shown.contains('\u{202E}') && !shown.contains('\x7f') && !shown.contains('\u{9b}')
        );
        assert_eq!(
            shown,
            "evil\\n[*] Findings\\r\\e[2J\\u{202e}gpj.exe\\x7f\\x9b"
        );
    }

    #[test]
    fn display_cut_never_splits_an_escape() {
        let s = "ab\u{202e}cd";
        // "ab\u{202e}cd" is 12 characters shown.
        assert_eq!(display_cut(s, 12), "ab\\u{202e}cd");
        assert_eq!(display_cut(s, 11), "ab\\u{202e}…");
        assert_eq!(display_cut(s, 10), "ab…");
        assert_eq!(display_cut("a\nb", 3), "a…");
        assert_eq!(display_cut("a\u{2028}b", 20), "a\\u{2028}b");
        let huge = "\x1b".repeat(1 << 20);
        let cut = display_cut(&huge, 160);
        assert!(cut.chars().count() <= 160 && cut.ends_with('…'));
        assert!(!cut.contains('\x1b'));
        assert_eq!(display_cut("", 0), "");
    }

    #[test]
    fn json_for_terminal_keeps_the_meaning() {
        let value = serde_json::json!({"name": "a\u{9b}31m\u{202e}b\u{2028}\u{1b}[2J", "n": 1});
        let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
        let safe = json_for_terminal(&pretty);
        assert!(!safe.chars().any(|c| c.is_control() && c != '\n'), "{safe}");
        assert!(
            safe.contains("a\\u009b31m\\u202eb\\u2028\\u001b[2J"),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap_or_default();
        assert_eq!(back, value);
        assert!(matches!(json_for_terminal("{\"a\": 1}"), Cow::Borrowed(_)));
    }

    #[test]
    fn display_cut_marks_the_cut() {
        let long = "a".repeat(100);
        let cut = display_cut(&long, 10);
        assert_eq!(cut.chars().count(), 10);
        assert!(cut.ends_with('…'));
        assert_eq!(display_cut("short", 10), "short");
    }
}
