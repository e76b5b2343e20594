//! `processes.jsonl`: the full process table, one record per process.
//!
//! Strings that come from the host (name, command line, paths) are stored
//! with [`crate::text::lossless_utf8`]: valid UTF-8 verbatim, other bytes as
//! reversible `\xNN` escapes.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The bundle file name.
pub const FILE: &str = "processes.jsonl";

/// Namespace inodes of a process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespaces {
    /// PID namespace.
    pub pid: Option<u64>,
    /// Network namespace.
    pub net: Option<u64>,
    /// Mount namespace.
    pub mnt: Option<u64>,
    /// User namespace.
    pub user: Option<u64>,
}

/// The only environment values irdump keeps: the ones that inject code.
/// The rest of the environment holds secrets and is never recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvFlags {
    /// `LD_PRELOAD`, when set.
    pub ld_preload: Option<String>,
    /// `LD_LIBRARY_PATH`, when set.
    pub ld_library_path: Option<String>,
}

/// What a process's descriptors 0, 1 and 2 point at (`socket:[123]`,
/// `/dev/pts/0`, `pipe:[456]`), for spotting shells wired to a socket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StdFds {
    /// Descriptor 0.
    pub stdin: Option<String>,
    /// Descriptor 1.
    pub stdout: Option<String>,
    /// Descriptor 2.
    pub stderr: Option<String>,
}

/// One process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessRecord {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: Option<u32>,
    /// Name (comm on Linux, image name on Windows).
    pub name: String,
    /// Arguments; empty for kernel threads and zombies. On Windows, the
    /// command line split by the C runtime's rules (see `cmdline_raw`).
    pub cmdline: Vec<String>,
    /// The command line exactly as the OS holds it where that is one
    /// string (Windows); null on Linux, where `cmdline` is already exact.
    #[serde(default)]
    pub cmdline_raw: Option<String>,
    /// Executable path.
    pub exe: Option<String>,
    /// The executable was deleted (or replaced) after the process started.
    pub exe_deleted: bool,
    /// SHA-256 of the executable's content (read through the process, so a
    /// deleted binary is still hashed); null with `--no-hash` or when it
    /// could not be read.
    pub sha256: Option<String>,
    /// Working directory.
    pub cwd: Option<String>,
    /// Root directory (differs from `/` in chroots and containers).
    pub root: Option<String>,
    /// Real uid.
    pub uid: Option<u32>,
    /// Effective uid.
    pub euid: Option<u32>,
    /// Real gid.
    pub gid: Option<u32>,
    /// User name for `uid` (from `/etc/passwd` read directly; Windows:
    /// `DOMAIN\user`).
    pub user: Option<String>,
    /// Start time, UTC.
    pub start_time: Option<Timestamp>,
    /// State letter (`R`, `S`, `D`, `Z`, `T`, ...).
    pub state: Option<String>,
    /// Thread count.
    pub threads: Option<u32>,
    /// Resident set size in bytes.
    pub rss_bytes: Option<u64>,
    /// Virtual size in bytes.
    pub vsize_bytes: Option<u64>,
    /// Controlling terminal (`pts/0`), null when none.
    pub tty: Option<String>,
    /// Session id (Linux session; Windows session id).
    pub session: Option<u32>,
    /// Process group id.
    pub pgid: Option<u32>,
    /// Open descriptors.
    pub fd_count: Option<u32>,
    /// What descriptors 0–2 point at.
    #[serde(default)]
    pub std_fds: StdFds,
    /// Namespace inodes.
    pub namespaces: Namespaces,
    /// cgroup path (v2 unified, or the first v1 line).
    pub cgroup: Option<String>,
    /// Container id derived from the cgroup, where one can be.
    pub container_id: Option<String>,
    /// Effective capabilities, hex as in `/proc/<pid>/status`.
    pub cap_eff: Option<String>,
    /// A kernel thread (no executable, child of kthreadd).
    pub kernel_thread: bool,
    /// `LD_PRELOAD` and `LD_LIBRARY_PATH` only.
    pub env_flags: EnvFlags,
    /// Found by probing PIDs, not in the `/proc` directory listing: the
    /// mark of a rootkit that filters the listing (see `docs/bundle.md`).
    #[serde(default)]
    pub hidden_from_listing: bool,
    /// The process's id inside its own PID namespace (the last `NSpid`
    /// value); equal to `pid` outside containers.
    #[serde(default)]
    pub pid_in_namespace: Option<u32>,
    /// Inode of the executable (of the deleted file, when `exe_deleted`),
    /// for finding it on a disk image.
    #[serde(default)]
    pub exe_inode: Option<u64>,
    /// Device holding the executable, `major:minor`.
    #[serde(default)]
    pub exe_device: Option<String>,
}
