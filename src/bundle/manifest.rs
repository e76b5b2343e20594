//! `SHA256SUMS`: the manifest in coreutils format, so that
//! `sha256sum -c SHA256SUMS` run inside the bundle checks it without irdump.

use sha2::{Digest, Sha256};

/// The manifest's file name.
pub const FILE: &str = "SHA256SUMS";

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lowercase hex of a byte slice.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Renders `(name, hex digest)` pairs as `sha256sum` output (text mode: two
/// spaces between digest and name), sorted by name.
pub fn render(entries: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .iter()
        .map(|(name, digest)| format!("{digest}  {name}\n"))
        .collect()
}

/// A manifest line that could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("SHA256SUMS line {line}: {reason}")]
pub struct ManifestError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Parses `sha256sum` output (text `  ` or binary ` *` separator).
///
/// # Errors
///
/// Fails on the first malformed line: a tampered manifest is not guessed at.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, ManifestError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let err = |reason| ManifestError {
            line: i + 1,
            reason,
        };
        if line.len() < 66 || !line.is_char_boundary(64) {
            return Err(err("too short"));
        }
        let (digest, rest) = line.split_at(64);
        if !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err("digest is not 64 hex digits"));
        }
        let name = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .ok_or_else(|| err("no separator after the digest"))?;
        if name.is_empty() {
            return Err(err("empty file name"));
        }
        out.push((name.to_owned(), digest.to_ascii_lowercase()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_sha256sum_prints() {
        let entries = vec![
            ("b.json".to_owned(), sha256_hex(b"")),
            ("a.txt".to_owned(), sha256_hex(b"abc")),
        ];
        let text = render(&entries);
        assert_eq!(
            text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.txt\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  b.json\n"
        );
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].0, "a.txt");
    }

    #[test]
    fn rejects_malformed_lines() {
        assert!(parse("nothex  a\n").is_err());
        assert!(parse(&format!("{}a.txt\n", "0".repeat(64))).is_err());
        assert!(parse(&format!("{} *a.txt\n", "0".repeat(64))).is_ok());
    }
}
