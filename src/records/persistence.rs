//! `persistence.jsonl`: pointers to what will run again (cron, systemd
//! units and timers, rc.local, `/etc/ld.so.preload`, shell start-up files).
//!
//! Pointers, not copies: each record names the file, who owns it, when it
//! changed, and the one line that matters (the command, the `ExecStart`, the
//! library), so the responder knows what to image or read next.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The bundle file name.
pub const FILE: &str = "persistence.jsonl";

/// One persistence pointer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersistenceRecord {
    /// What mechanism: `crontab`, `cron.d`, `user-crontab`, `cron-periodic`,
    /// `anacrontab`, `at-job`, `systemd`, `rc.local`, `sysv-init`,
    /// `ld.so.preload`, `shell-startup`, `xdg-autostart`.
    pub kind: String,
    /// The file that holds it (host path).
    pub path: String,
    /// Line in that file (1-based), for line-based entries.
    pub line: Option<u32>,
    /// The file's owner uid.
    pub owner_uid: Option<u32>,
    /// The owner's name, from the passwd file read under the same root.
    pub owner: Option<String>,
    /// Permission bits in octal (`0644`).
    pub mode: Option<String>,
    /// The file's modification time.
    pub mtime: Option<Timestamp>,
    /// The file's size in bytes.
    pub size: Option<u64>,
    /// The account it runs as (cron.d user field, crontab owner, `User=`).
    pub user: Option<String>,
    /// When it runs: cron schedule (`*/5 * * * *`, `@reboot`), timer
    /// `OnCalendar=`/`OnBootSec=`..., anacron period.
    pub schedule: Option<String>,
    /// What runs: the command line, the first `ExecStart=`, the preloaded
    /// library.
    pub command: Option<String>,
    /// systemd unit name.
    pub unit: Option<String>,
    /// The symlink that enables it (`.../multi-user.target.wants/x.service`).
    pub enabled_via: Option<String>,
    /// A symlink's target as written.
    pub target: Option<String>,
    /// Modification time of the enabling symlink: when the unit was
    /// enabled (systemd), or the link was made (sysv).
    #[serde(default)]
    pub link_mtime: Option<Timestamp>,
    /// Further lines that matter, as `Key=value` (other `Exec*=`, `Unit=`,
    /// drop-in overrides).
    #[serde(default)]
    pub details: Vec<String>,
}
