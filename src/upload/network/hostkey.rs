//! Whether to trust an SFTP server's host key: a pinned `SHA256:`
//! fingerprint, or a `known_hosts` file in OpenSSH's format.
//!
//! There is never a prompt and never "trust on first use": a key that is
//! not known is refused with a one-line error that shows the key's
//! fingerprint, so the responder can compare it out of band and pin it.
//! A pinned fingerprint is the better choice on a suspect host, whose own
//! `~/.ssh/known_hosts` an intruder may have edited.
//!
//! `ssh-key` parses each line; matching a line to a host is written here
//! because no maintained crate exposes it as a library function (russh's
//! own checker ignores negations, wildcards and `@revoked`, and treats an
//! unreadable file as empty). The rules follow sshd(8), "SSH_KNOWN_HOSTS
//! FILE FORMAT": comma-separated patterns with `*` and `?`, `!` negations,
//! `[host]:port` for ports other than 22, hashed names (`|1|salt|hash`,
//! HMAC-SHA1 of the name), `@revoked` lines that refuse a key outright.
//!
//! Limitation: `@cert-authority` lines (host certificates) are not
//! supported; such lines are skipped and a certificate is refused.

use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_key::known_hosts::{Entry, HostPatterns, Marker};
use russh::keys::{HashAlg, PublicKey};
use sha1::Sha1;

/// What the server's host key is checked against.
#[derive(Debug, Clone)]
pub enum HostTrust {
    /// `--host-key-fingerprint SHA256:...`.
    Fingerprint(String),
    /// A `known_hosts` file, read when the upload was prepared.
    KnownHosts {
        /// The file, for messages.
        path: PathBuf,
        /// Parsed lines with their line numbers.
        entries: Vec<(usize, Entry)>,
    },
}

impl HostTrust {
    /// A pinned fingerprint, as `ssh-keygen -lf` prints it.
    ///
    /// # Errors
    ///
    /// The value is not `SHA256:` followed by 43 base64 characters.
    pub fn fingerprint(value: &str) -> Result<HostTrust, String> {
        let body = value
            .strip_prefix("SHA256:")
            .ok_or("give the SHA-256 fingerprint as ssh-keygen -lf prints it: SHA256:...")?;
        let valid = body.len() == 43
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
        if !valid {
            return Err("a SHA256: fingerprint has 43 base64 characters after the prefix".into());
        }
        Ok(HostTrust::Fingerprint(value.to_owned()))
    }

    /// Reads a `known_hosts` file. Lines that do not parse are skipped
    /// (logged at debug level), as OpenSSH does.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or has no usable line.
    pub fn known_hosts_file(path: &Path) -> Result<HostTrust, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let entries = parse_known_hosts(&text);
        if entries.is_empty() {
            return Err("no host key in the file".into());
        }
        Ok(HostTrust::KnownHosts {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// Checks `key`, offered by `host` on `port`.
    ///
    /// # Errors
    ///
    /// Why the key is refused, in one line that includes its fingerprint.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> Result<(), String> {
        let offered = key.fingerprint(HashAlg::Sha256).to_string();
        let algorithm = key.algorithm().to_string();
        match self {
            HostTrust::Fingerprint(pinned) if *pinned == offered => Ok(()),
            HostTrust::Fingerprint(pinned) => Err(format!(
                "host key {algorithm} {offered} does not match the pinned {pinned}"
            )),
            HostTrust::KnownHosts { path, entries } => check_entries(entries, host, port, key)
                .map_err(|refusal| {
                    let file = path.display();
                    match refusal {
                        Refusal::Revoked(line) => {
                            format!(
                                "host key {algorithm} {offered} is revoked in {file} line {line}"
                            )
                        }
                        Refusal::Changed(line) => format!(
                            "host key {algorithm} {offered} differs from the one in {file} line \
                             {line}: the key changed or someone is intercepting the connection"
                        ),
                        Refusal::Unknown => format!(
                            "host key {algorithm} {offered} of {} is not in {file}",
                            lookup_name(host, port)
                        ),
                    }
                }),
        }
    }

    /// Key algorithms to ask the server for: those `known_hosts` lists for
    /// this host, so that a server with several host keys offers one that
    /// can be checked. Empty means no preference.
    pub fn algorithms_for(&self, host: &str, port: u16) -> Vec<russh::keys::Algorithm> {
        let HostTrust::KnownHosts { entries, .. } = self else {
            return Vec::new();
        };
        let name = lookup_name(host, port);
        let mut algorithms: Vec<russh::keys::Algorithm> = Vec::new();
        for (_, entry) in entries {
            if entry.marker().is_none() && patterns_match(entry.host_patterns(), &name) {
                let a = entry.public_key().algorithm();
                if !algorithms.contains(&a) {
                    algorithms.push(a);
                }
            }
        }
        algorithms
    }
}

/// Why a key was refused.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// An `@revoked` line lists it.
    Revoked(usize),
    /// Lines name the host with another key of the same type.
    Changed(usize),
    /// No line names the host with a key of this type.
    Unknown,
}

fn parse_known_hosts(text: &str) -> Vec<(usize, Entry)> {
    let mut entries = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.parse::<Entry>() {
            Ok(entry) => entries.push((index + 1, entry)),
            Err(e) => log::debug!("known_hosts line {} skipped: {e}", index + 1),
        }
    }
    entries
}

fn check_entries(
    entries: &[(usize, Entry)],
    host: &str,
    port: u16,
    key: &PublicKey,
) -> Result<(), Refusal> {
    let name = lookup_name(host, port);
    let same_key = |e: &Entry| e.public_key().key_data() == key.key_data();
    if let Some((line, _)) = entries
        .iter()
        .find(|(_, e)| e.marker() == Some(&Marker::Revoked) && same_key(e))
    {
        return Err(Refusal::Revoked(*line));
    }
    let mut changed = None;
    for (line, entry) in entries {
        if entry.marker().is_some() || !patterns_match(entry.host_patterns(), &name) {
            continue;
        }
        if same_key(entry) {
            return Ok(());
        }
        if entry.public_key().algorithm() == key.algorithm() {
            changed.get_or_insert(*line);
        }
    }
    Err(changed.map_or(Refusal::Unknown, Refusal::Changed))
}

/// The name a `known_hosts` line uses for `host:port`.
fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

fn patterns_match(patterns: &HostPatterns, name: &str) -> bool {
    match patterns {
        HostPatterns::HashedName { salt, hash } => {
            let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(salt) else {
                return false;
            };
            mac.update(name.as_bytes());
            mac.verify_slice(hash).is_ok()
        }
        HostPatterns::Patterns(list) => {
            let mut matched = false;
            for pattern in list {
                if let Some(negated) = pattern.strip_prefix('!') {
                    if wildcard_match(negated, name) {
                        return false;
                    }
                } else if wildcard_match(pattern, name) {
                    matched = true;
                }
            }
            matched
        }
    }
}

/// `*` matches any run of characters, `?` exactly one; host names compare
/// without regard to case.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let n: Vec<char> = name.to_lowercase().chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two ed25519 public keys made with `ssh-keygen -t ed25519` for these
    /// tests; their fingerprints are what `ssh-keygen -lf` printed.
    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF/UDWpTv1WLOeOXOgGAP3oYetPW6/4TdvgHNPc5ZL3c";
    const KEY_A_FP: &str = "SHA256:cQeNzkng9Brcw0T5tCRxlAQ+SE3nI31Ajkb2oOd466M";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGWTqzJzFbCOZecb/f1dL7NPL++rDq0PxTade0k/24gt";

    fn key(text: &str) -> PublicKey {
        PublicKey::from_openssh(text).unwrap()
    }

    fn trust(text: &str) -> HostTrust {
        HostTrust::KnownHosts {
            path: "known_hosts".into(),
            entries: parse_known_hosts(text),
        }
    }

    #[test]
    fn pinned_fingerprint() {
        let t = HostTrust::fingerprint(KEY_A_FP).unwrap();
        assert!(t.check("h", 22, &key(KEY_A)).is_ok());
        let e = t.check("h", 22, &key(KEY_B)).unwrap_err();
        assert!(e.contains("does not match the pinned"), "{e}");
        assert!(HostTrust::fingerprint("MD5:aa:bb").is_err());
        assert!(HostTrust::fingerprint("SHA256:short").is_err());
    }

    #[test]
    fn plain_names_ports_and_wildcards() {
        let t = trust(&format!(
            "# comment\n\
             evidence.example,10.0.0.5 {KEY_A}\n\
             [127.0.0.1]:2222 {KEY_A}\n\
             *.lab.example,!bad.lab.example {KEY_A}\n\
             not a valid line\n"
        ));
        let k = key(KEY_A);
        assert!(t.check("evidence.example", 22, &k).is_ok());
        assert!(t.check("EVIDENCE.example", 22, &k).is_ok());
        assert!(t.check("10.0.0.5", 22, &k).is_ok());
        assert!(t.check("127.0.0.1", 2222, &k).is_ok());
        assert!(t
            .check("127.0.0.1", 22, &k)
            .unwrap_err()
            .contains("is not in"));
        assert!(t.check("x.lab.example", 22, &k).is_ok());
        assert!(t.check("bad.lab.example", 22, &k).is_err());
        assert!(t.check("evidence.example", 2222, &k).is_err());
    }

    #[test]
    fn changed_and_revoked_keys_are_refused() {
        let t = trust(&format!("h.example {KEY_A}\n@revoked * {KEY_B}\n"));
        let e = t.check("h.example", 22, &key(KEY_B)).unwrap_err();
        assert!(e.contains("revoked in known_hosts line 2"), "{e}");
        let t = trust(&format!("h.example {KEY_A}\n"));
        let e = t.check("h.example", 22, &key(KEY_B)).unwrap_err();
        assert!(
            e.contains("differs from the one in known_hosts line 1"),
            "{e}"
        );
        assert!(e.contains("SHA256:"), "{e}");
    }

    #[test]
    fn hashed_names() {
        // `ssh-keygen -H` output for "[127.0.0.1]:2222" with KEY_A.
        let line = format!("|1|Vsl3PFsH+8ih4pYzEZnWXGfvuL4=|8yS3t/RB/hQgtypUluQaJ0An+sw= {KEY_A}");
        let t = trust(&line);
        assert!(t.check("127.0.0.1", 2222, &key(KEY_A)).is_ok());
        assert!(t.check("127.0.0.2", 2222, &key(KEY_A)).is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(wildcard_match("*.ex*.com", "a.b.example.com"));
        assert!(!wildcard_match("*.example.com", "example.com"));
    }
}
