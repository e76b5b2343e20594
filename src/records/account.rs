//! `accounts.jsonl`: local accounts and why each may be an administrator.

use serde::{Deserialize, Serialize};

/// The bundle file name.
pub const FILE: &str = "accounts.jsonl";

/// One key of an account's `authorized_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizedKey {
    /// File it came from.
    pub file: String,
    /// Key type (`ssh-ed25519`, ...).
    pub key_type: String,
    /// `SHA256:` fingerprint as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// Comment.
    pub comment: Option<String>,
    /// Options such as `command="..."`, `from="..."`.
    pub options: Vec<String>,
    /// The file's modification time.
    pub file_mtime: Option<jiff::Timestamp>,
    /// Line of the key in its file (1-based).
    #[serde(default)]
    pub line: Option<u32>,
    /// Key size in bits as `ssh-keygen -l` prints it (RSA modulus, ECDSA
    /// curve, 256 for Ed25519); null for types it does not know.
    #[serde(default)]
    pub bits: Option<u32>,
}

/// Where one of an account's `admin_via` reasons comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSource {
    /// The reason, exactly as in `admin_via`.
    pub reason: String,
    /// The file that grants it (`/etc/passwd`, `/etc/group`, a sudoers file).
    pub file: Option<String>,
    /// Line in that file (1-based), where known.
    pub line: Option<u32>,
    /// The file's modification time.
    pub file_mtime: Option<jiff::Timestamp>,
}

/// A sudoers rule that applies to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SudoRule {
    /// Sudoers file (host path).
    pub file: String,
    /// Line where the rule starts (1-based).
    pub line: u32,
    /// The file's modification time.
    pub file_mtime: Option<jiff::Timestamp>,
    /// Run-as specification as written (`(ALL:ALL)`), null when absent
    /// (sudo's default: root).
    pub runas: Option<String>,
    /// Commands as written, aliases unresolved; those that need no
    /// password are prefixed with `NOPASSWD: `.
    pub commands: Vec<String>,
    /// The rule lets the account run any command as root.
    pub all_as_root: bool,
    /// At least one command needs no password (`NOPASSWD:`).
    pub nopasswd: bool,
}

/// One local account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// Login name (Windows: `DOMAIN\name`).
    pub name: String,
    /// Uid; null on Windows.
    pub uid: Option<u32>,
    /// Primary gid.
    pub gid: Option<u32>,
    /// Home directory.
    pub home: Option<String>,
    /// Login shell.
    pub shell: Option<String>,
    /// Supplementary groups by name.
    pub groups: Vec<String>,
    /// `locked`, `empty`, `set`, or null when unknown (never the hash).
    pub password: Option<String>,
    /// Date of the last password change (`YYYY-MM-DD`).
    pub password_changed: Option<String>,
    /// Whether the account can act as an administrator.
    pub admin: bool,
    /// Each reason: `uid0`, `group:sudo`, `sudoers:/etc/sudoers:27`,
    /// `group:S-1-5-32-544` (Windows).
    pub admin_via: Vec<String>,
    /// SSH keys that let someone log in as this account.
    pub authorized_keys: Vec<AuthorizedKey>,
    /// Security identifier (Windows).
    #[serde(default)]
    pub sid: Option<String>,
    /// Name of the primary group (`gid`), null when no group has that gid.
    #[serde(default)]
    pub primary_group: Option<String>,
    /// Full name / comment field (GECOS).
    #[serde(default)]
    pub gecos: Option<String>,
    /// Date the account expires (`YYYY-MM-DD`), from the shadow file.
    #[serde(default)]
    pub account_expires: Option<String>,
    /// For each `admin_via` reason, the file and line that grant it.
    #[serde(default)]
    pub admin_sources: Vec<AdminSource>,
    /// Every sudoers rule that applies to the account, including those that
    /// do not make it an administrator (specific commands, other run-as
    /// users).
    #[serde(default)]
    pub sudo_rules: Vec<SudoRule>,
}

impl AccountRecord {
    /// Whether the shell lets someone log in interactively. An empty shell
    /// field means `/bin/sh` (passwd(5)); `nologin`, `false`, and the
    /// `sync`/`shutdown`/`halt` pseudo-shells do not.
    pub fn has_login_shell(&self) -> bool {
        match self.shell.as_deref() {
            None => false,
            Some(shell) => is_login_shell(shell),
        }
    }
}

/// See [`AccountRecord::has_login_shell`].
pub fn is_login_shell(shell: &str) -> bool {
    let shell = shell.trim();
    if shell.is_empty() {
        return true;
    }
    let base = shell.rsplit('/').next().unwrap_or(shell);
    !matches!(base, "nologin" | "false" | "sync" | "shutdown" | "halt")
}
