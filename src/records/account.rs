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
}
