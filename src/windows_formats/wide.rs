//! UTF-16 from the Windows API into JSON-safe strings, losing nothing.
//!
//! Windows strings are sequences of 16-bit units that need not be valid
//! UTF-16: a process can be named with an unpaired surrogate. Valid text
//! becomes UTF-8; each unpaired surrogate is first written as its
//! three-byte generalised UTF-8 form (as WTF-8 does), which is invalid
//! UTF-8, so [`crate::text::lossless_utf8`] then stores those bytes as
//! reversible `\xNN` escapes. The bundle keeps one convention for every
//! platform: decode the `\xNN` escapes to get the bytes back, and those
//! bytes (WTF-8) map one-to-one to the original UTF-16.

use crate::text::lossless_utf8;

/// Converts UTF-16 units to a lossless JSON-safe string (see the module
/// documentation).
pub fn utf16_lossless(units: &[u16]) -> String {
    let mut bytes = Vec::with_capacity(units.len());
    for decoded in char::decode_utf16(units.iter().copied()) {
        match decoded {
            Ok(c) => {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            Err(e) => {
                let s = e.unpaired_surrogate();
                bytes.extend_from_slice(&[
                    0xE0 | (s >> 12) as u8,
                    0x80 | ((s >> 6) & 0x3F) as u8,
                    0x80 | (s & 0x3F) as u8,
                ]);
            }
        }
    }
    lossless_utf8(&bytes).into_owned()
}

/// The units before the first NUL (all of them when there is none): for
/// fixed-size arrays such as `PROCESSENTRY32W.szExeFile`.
pub fn until_nul(units: &[u16]) -> &[u16] {
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    &units[..end]
}

/// `s` as NUL-terminated UTF-16, for passing names to the API.
pub fn to_wide_nul(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::unescape_lossless;

    fn w(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    #[test]
    fn valid_text_is_kept_verbatim() {
        assert_eq!(utf16_lossless(&w("svchost.exe")), "svchost.exe");
        assert_eq!(utf16_lossless(&w("Администратор")), "Администратор");
        assert_eq!(utf16_lossless(&w("emoji \u{1F600}")), "emoji \u{1F600}");
    }

    #[test]
    fn unpaired_surrogates_are_escaped_and_reversible() {
        let units = [0x0061, 0xD800, 0x0062, 0xDC00];
        let s = utf16_lossless(&units);
        assert_eq!(s, "a\\xed\\xa0\\x80b\\xed\\xb0\\x80");
        // Decoding gives WTF-8, which maps back to the same units.
        let wtf8 = unescape_lossless(&s);
        assert_eq!(wtf8, b"a\xed\xa0\x80b\xed\xb0\x80");
    }

    #[test]
    fn a_backslash_that_looks_like_an_escape_stays_reversible() {
        let s = utf16_lossless(&w(r"C:\x41\evil.exe"));
        assert_eq!(unescape_lossless(&s), br"C:\x41\evil.exe");
    }

    #[test]
    fn fixed_arrays_end_at_nul() {
        let mut buf = [0u16; 8];
        buf[..3].copy_from_slice(&w("cmd"));
        assert_eq!(until_nul(&buf), w("cmd").as_slice());
        assert_eq!(until_nul(&w("full")), w("full").as_slice());
        assert_eq!(to_wide_nul("ab"), vec![0x61, 0x62, 0]);
    }
}
