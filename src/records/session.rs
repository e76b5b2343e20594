//! `sessions.jsonl`: who is logged in now (utmp), recent logins (wtmp),
//! and failed logins (btmp); Windows: WTS sessions.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The bundle file name.
pub const FILE: &str = "sessions.jsonl";

/// One session or login record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// `current` (utmp), `recent` (wtmp), `failed` (btmp).
    pub source: String,
    /// Record type (`USER_PROCESS`, `DEAD_PROCESS`, `BOOT_TIME`, ...; on
    /// Windows the WTS state).
    pub kind: String,
    /// User name.
    pub user: Option<String>,
    /// Terminal line (`pts/0`).
    pub tty: Option<String>,
    /// Remote host or address, as recorded.
    pub host: Option<String>,
    /// Login (or event) time.
    pub time: Option<Timestamp>,
    /// Process id of the login process.
    pub pid: Option<u32>,
    /// Session id.
    #[serde(default)]
    pub session: Option<u32>,
    /// Remote address as recorded in binary form (`ut_addr_v6`), null when
    /// all zero.
    #[serde(default)]
    pub addr: Option<String>,
    /// The `ut_id` field (inittab id or the tty suffix).
    #[serde(default)]
    pub line_id: Option<String>,
    /// File the record was read from (host path: `/run/utmp`,
    /// `/var/log/wtmp`, `/var/log/btmp`).
    #[serde(default)]
    pub file: Option<String>,
    /// Position of the record in its file (0-based); the newest wtmp record
    /// has the highest index, so `index + 1` of it is the file's record count.
    #[serde(default)]
    pub index: Option<u64>,
}
