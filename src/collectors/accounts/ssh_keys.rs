//! SSH keys that let someone log in: `authorized_keys` lines (sshd(8),
//! "AUTHORIZED_KEYS FILE FORMAT") and the `sshd_config` directives that say
//! where sshd looks for them (sshd_config(5)).
//!
//! Each key is reduced to its type, its size in bits and its fingerprint
//! exactly as `ssh-keygen -l` prints it (`SHA256:` and the unpadded base64
//! of the SHA-256 of the decoded key blob), its comment, and its options
//! (`command="..."`, `from="..."`), which are what an attacker's key often
//! carries. The key material itself is not kept.
//!
//! Limitation: for certificate keys (`*-cert-v01@openssh.com`) the
//! fingerprint is that of the whole certificate blob, whereas `ssh-keygen`
//! prints the fingerprint of the key inside it; `AuthorizedKeysCommand`
//! output cannot be read without running a program, so its use is
//! reported as a gap by the collector.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::text::lossless_utf8;

/// sshd's default `AuthorizedKeysFile`.
pub const DEFAULT_KEY_FILES: &[&str] = &[".ssh/authorized_keys", ".ssh/authorized_keys2"];

const BLOB: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One key line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey {
    /// Line number (1-based).
    pub line: u32,
    /// Key type as written.
    pub key_type: String,
    /// Size in bits, where the type has one `ssh-keygen` prints.
    pub bits: Option<u32>,
    /// `SHA256:...`.
    pub fingerprint: String,
    /// Comment, if any.
    pub comment: Option<String>,
    /// Options, each as written (`command="/bin/x"`, `no-pty`).
    pub options: Vec<String>,
}

/// A line that is not a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    /// Line number (1-based).
    pub line: u32,
    /// Why.
    pub reason: String,
}

/// Parses an `authorized_keys` file. Empty lines and `#` comments are
/// skipped; every other line is a key or a problem.
pub fn parse_authorized_keys(text: &[u8]) -> (Vec<ParsedKey>, Vec<KeyProblem>) {
    let mut keys = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = (i + 1) as u32;
        let l = lossless_utf8(raw.trim_ascii());
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        match parse_key_line(&l) {
            Ok(mut k) => {
                k.line = line;
                keys.push(k);
            }
            Err(reason) => problems.push(KeyProblem { line, reason }),
        }
    }
    (keys, problems)
}

/// Parses one line: `[options] type base64 [comment]`.
///
/// # Errors
///
/// Why the line is not a key.
pub fn parse_key_line(l: &str) -> Result<ParsedKey, String> {
    // Without options the line starts with the key type; otherwise the
    // options come first and may contain quoted spaces.
    let (options, rest) = match try_key(l) {
        Some(k) => return Ok(k),
        None => split_options(l)?,
    };
    let mut key = try_key(rest.trim_start())
        .ok_or_else(|| "no key type and base64 key after the options".to_owned())?;
    key.options = options;
    Ok(key)
}

fn try_key(l: &str) -> Option<ParsedKey> {
    let mut parts = l.splitn(3, [' ', '\t']);
    let key_type = parts.next()?;
    let b64 = parts.next()?.trim();
    let blob = BLOB.decode(b64).ok()?;
    let mut reader = BlobReader(&blob);
    if reader.string()? != key_type.as_bytes() {
        return None;
    }
    let comment = parts
        .next()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    Some(ParsedKey {
        line: 0,
        key_type: key_type.to_owned(),
        bits: key_bits(key_type, reader),
        fingerprint: fingerprint(&blob),
        comment,
        options: Vec::new(),
    })
}

/// `SHA256:` and the unpadded base64 of the SHA-256 of `blob`.
pub fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

fn key_bits(key_type: &str, mut rest: BlobReader<'_>) -> Option<u32> {
    match key_type {
        "ssh-rsa" => {
            let _e = rest.string()?;
            mpint_bits(rest.string()?)
        }
        "ssh-dss" => mpint_bits(rest.string()?),
        "ssh-ed25519" | "sk-ssh-ed25519@openssh.com" => Some(256),
        "ssh-ed448" => Some(456),
        "ecdsa-sha2-nistp256" | "sk-ecdsa-sha2-nistp256@openssh.com" => Some(256),
        "ecdsa-sha2-nistp384" => Some(384),
        "ecdsa-sha2-nistp521" => Some(521),
        _ => None,
    }
}

fn mpint_bits(n: &[u8]) -> Option<u32> {
    let first = n.iter().position(|&b| b != 0)?;
    let digits = &n[first..];
    Some((digits.len() as u32 - 1) * 8 + (8 - digits[0].leading_zeros()))
}

/// Reads SSH wire-format strings (RFC 4251: a big-endian u32 length, then
/// the bytes).
struct BlobReader<'a>(&'a [u8]);

impl<'a> BlobReader<'a> {
    fn string(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_be_bytes(self.0.get(..4)?.try_into().ok()?) as usize;
        let s = self.0.get(4..4 + len)?;
        self.0 = &self.0[4 + len..];
        Some(s)
    }
}

/// Splits the leading options (up to the first unquoted blank) into
/// comma-separated options, keeping quotes as written.
fn split_options(l: &str) -> Result<(Vec<String>, &str), String> {
    let mut options = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = l.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quoted => {
                current.push(c);
                if let Some((_, n)) = chars.next() {
                    current.push(n);
                }
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => options.push(std::mem::take(&mut current)),
            ' ' | '\t' if !quoted => {
                options.push(current);
                return Ok((options, &l[i..]));
            }
            c => current.push(c),
        }
    }
    Err(if quoted {
        "unterminated quote in the options".into()
    } else {
        "not a key line (no key type and base64 key)".into()
    })
}

/// One `sshd_config` directive: lower-cased keyword, its arguments, and
/// whether it sits inside a `Match` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshdDirective {
    /// Keyword, lower case.
    pub keyword: String,
    /// Arguments as written (quotes removed).
    pub args: Vec<String>,
    /// After a `Match` line.
    pub in_match: bool,
}

/// Parses `sshd_config` text into directives (comments and blank lines
/// left out). `in_match` starts as given so that an included file inherits
/// its includer's context.
pub fn parse_sshd_config(text: &str, mut in_match: bool) -> Vec<SshdDirective> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (keyword, rest) = match l.find(|c: char| c.is_whitespace() || c == '=') {
            Some(at) => (
                &l[..at],
                l[at..].trim_start_matches(|c: char| c.is_whitespace() || c == '='),
            ),
            None => (l, ""),
        };
        let keyword = keyword.to_ascii_lowercase();
        if keyword == "match" {
            in_match = true;
        }
        out.push(SshdDirective {
            keyword,
            args: sshd_args(rest),
            in_match,
        });
    }
    out
}

fn sshd_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(current);
    }
    out
}

/// Where sshd looks for keys, from the (include-expanded) directives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFileSettings {
    /// Global `AuthorizedKeysFile` patterns (the first occurrence wins);
    /// `None` when not set (sshd's default applies).
    pub global: Option<Vec<String>>,
    /// Patterns set inside `Match` blocks (they apply to some logins).
    pub in_match: Vec<String>,
    /// `AuthorizedKeysCommand`, when set and not `none`.
    pub command: Option<String>,
}

/// Reduces directives to [`KeyFileSettings`].
pub fn key_file_settings(directives: &[SshdDirective]) -> KeyFileSettings {
    let mut s = KeyFileSettings::default();
    for d in directives {
        match d.keyword.as_str() {
            "authorizedkeysfile" if d.in_match => s.in_match.extend(d.args.iter().cloned()),
            "authorizedkeysfile" if s.global.is_none() => s.global = Some(d.args.clone()),
            "authorizedkeyscommand" if s.command.is_none() => {
                let cmd = d.args.join(" ");
                if !cmd.eq_ignore_ascii_case("none") {
                    s.command = Some(cmd);
                }
            }
            _ => {}
        }
    }
    s
}

/// Expands an `AuthorizedKeysFile` pattern for one account (`%%`, `%h`,
/// `%u`, `%U`; a relative path is relative to the home directory). `None`
/// for `none` or an unknown `%` token.
pub fn expand_key_file(pattern: &str, home: &str, user: &str, uid: u32) -> Option<String> {
    if pattern.eq_ignore_ascii_case("none") {
        return None;
    }
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            'h' => out.push_str(home),
            'u' => out.push_str(user),
            'U' => out.push_str(&uid.to_string()),
            _ => return None,
        }
    }
    if out.starts_with('/') {
        Some(out)
    } else {
        Some(format!("{}/{out}", home.trim_end_matches('/')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Generated with `ssh-keygen -t ed25519 -C test@host`; `ssh-keygen -lf`
    // printed the fingerprint below.
    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKENsPYyVZEna7LfXyAVPbcyZXg+2aL9tQv7mel209NJ test@host";
    const ED25519_FP: &str = "SHA256:jyY+6CmoWGvNfMI6npvq9PQjsyQTGAAzuinwpAXjcVc";

    #[test]
    fn key_with_and_without_options() {
        let (keys, problems) = parse_authorized_keys(
            format!("# comment\n{ED25519}\ncommand=\"/bin/echo a, b\",no-pty {ED25519}\n\ngarbage here\n").as_bytes(),
        );
        assert_eq!(keys.len(), 2);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 5);
        assert_eq!(keys[0].line, 2);
        assert_eq!(keys[0].bits, Some(256));
        assert_eq!(keys[0].comment.as_deref(), Some("test@host"));
        assert_eq!(keys[0].fingerprint, ED25519_FP);
        assert_eq!(
            keys[1].options,
            vec!["command=\"/bin/echo a, b\"", "no-pty"]
        );
        assert_eq!(keys[1].fingerprint, keys[0].fingerprint);
    }

    #[test]
    fn sshd_settings_first_wins_and_match() {
        let d = parse_sshd_config(
            "AuthorizedKeysFile .ssh/k1 /etc/keys/%u\nauthorizedkeysfile=other\nAuthorizedKeysCommand none\nMatch User x\n  AuthorizedKeysFile /m/%U\n",
            false,
        );
        let s = key_file_settings(&d);
        assert_eq!(
            s.global,
            Some(vec![".ssh/k1".to_owned(), "/etc/keys/%u".to_owned()])
        );
        assert_eq!(s.in_match, vec!["/m/%U"]);
        assert_eq!(s.command, None);
        assert_eq!(
            expand_key_file(".ssh/k1", "/home/a/", "a", 5).as_deref(),
            Some("/home/a/.ssh/k1")
        );
        assert_eq!(
            expand_key_file("/m/%U%%", "/h", "a", 5).as_deref(),
            Some("/m/5%")
        );
        assert_eq!(expand_key_file("/m/%z", "/h", "a", 5), None);
    }
}
