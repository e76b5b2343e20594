//! Parsers for the per-process files of Linux `/proc` (`stat`, `status`,
//! `cgroup`, `cmdline`, `environ`) and for `/etc/passwd`. They take the
//! bytes as read and never touch the file system, so they build and are
//! tested on any OS, on text captured from real hosts
//! (`tests/fixtures/proc_pid_*`).
//!
//! Written by hand rather than with the `procfs` crate: that crate opens
//! its own paths (`/proc/<pid>/...` by name), whereas the collector must
//! read every file relative to one pinned directory descriptor; what is
//! left to parse is a few fixed layouts documented in `proc(5)`.

use std::collections::HashMap;

use crate::records::process::EnvFlags;
use crate::text::lossless_utf8;

/// `PF_KTHREAD` in the `flags` field of `stat`: set by the kernel on its
/// own threads and impossible for a user process to set.
pub const PF_KTHREAD: u64 = 0x0020_0000;

/// Why a `/proc` file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// `stat` has no `(comm)` part.
    #[error("stat: no parenthesised name")]
    NoComm,
    /// A numeric field is missing or not a number.
    #[error("stat: field {0} missing or not a number")]
    Field(usize),
}

/// The fields of `/proc/<pid>/stat` the collector keeps (`proc(5)`
/// numbering in the comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// (1) pid.
    pub pid: u32,
    /// (2) comm, raw bytes without the parentheses.
    pub comm: Vec<u8>,
    /// (3) state letter.
    pub state: char,
    /// (4) parent pid.
    pub ppid: u32,
    /// (5) process group.
    pub pgrp: u32,
    /// (6) session.
    pub session: u32,
    /// (7) controlling terminal device number.
    pub tty_nr: u64,
    /// (9) kernel flags (`PF_*`).
    pub flags: u64,
    /// (20) threads.
    pub num_threads: u32,
    /// (22) start, in clock ticks after boot.
    pub starttime: u64,
    /// (23) virtual size in bytes.
    pub vsize: u64,
    /// (24) resident set in pages.
    pub rss_pages: u64,
}

impl Stat {
    /// True for a kernel thread (`PF_KTHREAD`).
    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }
}

/// Parses `/proc/<pid>/stat`. The name is everything between the first
/// `(` and the last `)`, since a process may put spaces and parentheses in
/// its own name.
///
/// # Errors
///
/// [`ParseError`] when the layout is not the one in `proc(5)`.
pub fn parse_stat(bytes: &[u8]) -> Result<Stat, ParseError> {
    let open = bytes
        .iter()
        .position(|&b| b == b'(')
        .ok_or(ParseError::NoComm)?;
    let close = bytes
        .iter()
        .rposition(|&b| b == b')')
        .filter(|&c| c > open)
        .ok_or(ParseError::NoComm)?;
    let pid = std::str::from_utf8(&bytes[..open])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or(ParseError::Field(1))?;
    let comm = bytes[open + 1..close].to_vec();
    let rest = std::str::from_utf8(&bytes[close + 1..]).map_err(|_| ParseError::Field(3))?;
    // fields[0] is field 3 of proc(5).
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    let state = fields
        .first()
        .and_then(|s| s.chars().next())
        .ok_or(ParseError::Field(3))?;
    let num = |n: usize| -> Result<u64, ParseError> {
        fields
            .get(n - 3)
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(ParseError::Field(n))
    };
    let small = |n: usize| -> Result<u32, ParseError> {
        fields
            .get(n - 3)
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|v| u32::try_from(v).ok())
            .ok_or(ParseError::Field(n))
    };
    Ok(Stat {
        pid,
        comm,
        state,
        ppid: small(4)?,
        pgrp: small(5)?,
        session: small(6)?,
        tty_nr: num(7)?,
        flags: num(9)?,
        num_threads: small(20)?,
        starttime: num(22)?,
        vsize: num(23)?,
        rss_pages: num(24)?,
    })
}

/// The fields of `/proc/<pid>/status` the collector keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Thread group id (the process id a thread belongs to).
    pub tgid: Option<u32>,
    /// Real and effective uid.
    pub uid: Option<u32>,
    /// Effective uid.
    pub euid: Option<u32>,
    /// Real gid.
    pub gid: Option<u32>,
    /// The pid in each nested PID namespace, outermost (this /proc's) first.
    pub nspid: Vec<u32>,
    /// Effective capabilities, hex as the kernel prints them.
    pub cap_eff: Option<String>,
}

/// Parses `/proc/<pid>/status`. Unknown or malformed lines are ignored:
/// the fields kept are all optional.
pub fn parse_status(bytes: &[u8]) -> Status {
    let mut st = Status::default();
    for line in bytes.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (key, value) = (&line[..colon], &line[colon + 1..]);
        // `Name:` is the only field a process controls; skip before decoding.
        if key == b"Name" {
            continue;
        }
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        let mut numbers = value
            .split_ascii_whitespace()
            .map(|v| v.parse::<u32>().ok());
        match key {
            b"Tgid" => st.tgid = numbers.next().flatten(),
            b"Uid" => {
                st.uid = numbers.next().flatten();
                st.euid = numbers.next().flatten();
            }
            b"Gid" => st.gid = numbers.next().flatten(),
            b"NSpid" => st.nspid = numbers.map_while(|n| n).collect(),
            b"CapEff" => st.cap_eff = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    st
}

/// The cgroup path from `/proc/<pid>/cgroup`: the cgroup v2 line (`0::`)
/// when there is one, else the first v1 line as written (`N:ctrl:path`).
pub fn parse_cgroup(bytes: &[u8]) -> Option<String> {
    let text = lossless_utf8(bytes);
    let lines = text.lines().filter(|l| !l.is_empty());
    let mut first = None;
    for line in lines {
        if let Some(path) = line.strip_prefix("0::") {
            return Some(path.to_owned());
        }
        first.get_or_insert(line);
    }
    first.map(str::to_owned)
}

/// The container id a cgroup path names, for the layouts of Docker
/// (`/docker/<id>`, `docker-<id>.scope`), containerd and CRI-O under
/// Kubernetes (`/kubepods/.../<id>`, `cri-containerd-<id>.scope`,
/// `crio-<id>.scope`), Podman (`libpod-<id>.scope`) and LXC
/// (`lxc.payload.<name>`, `/lxc/<name>`, given as `lxc:<name>`).
///
/// Limitation: a runtime that names its cgroups otherwise yields `None`;
/// the full path is still in the record's `cgroup`.
pub fn container_id(cgroup: &str) -> Option<String> {
    let parts: Vec<&str> = cgroup.rsplit(['/', ':']).collect();
    for (i, part) in parts.iter().enumerate() {
        if part.starts_with("libpod-conmon-") {
            // Podman's monitor runs beside the container, not inside it.
            continue;
        }
        let stem = part.strip_suffix(".scope").unwrap_or(part);
        let id = stem.rsplit('-').next().unwrap_or(stem);
        if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(id.to_ascii_lowercase());
        }
        if let Some(name) = part.strip_prefix("lxc.payload.") {
            return Some(format!("lxc:{name}"));
        }
        if !part.is_empty() && parts.get(i + 1) == Some(&"lxc") {
            return Some(format!("lxc:{part}"));
        }
    }
    None
}

/// Uid to user name from the text of `/etc/passwd`. When a uid appears
/// twice (a second uid-0 account is a classic backdoor) the first line
/// wins, as `getpwuid(3)` with the `files` source answers; the accounts
/// collector reports the duplicates.
pub fn parse_passwd(text: &[u8]) -> HashMap<u32, String> {
    let mut users = HashMap::new();
    for line in text.split(|&b| b == b'\n') {
        if line.is_empty() || line[0] == b'#' || line[0] == b'+' || line[0] == b'-' {
            continue;
        }
        let mut fields = line.split(|&b| b == b':');
        let (Some(name), Some(_), Some(uid)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let Some(uid) = std::str::from_utf8(uid).ok().and_then(|u| u.parse().ok()) else {
            continue;
        };
        users
            .entry(uid)
            .or_insert_with(|| lossless_utf8(name).into_owned());
    }
    users
}

/// Splits `/proc/<pid>/cmdline` into arguments. One trailing NUL ends the
/// last argument; any other NUL separates two (so empty arguments and the
/// padding some daemons leave after rewriting their title are kept). A
/// process that rewrote its title without NULs is one argument.
pub fn split_cmdline(bytes: &[u8]) -> Vec<String> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let body = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    body.split(|&b| b == 0)
        .map(|a| lossless_utf8(a).into_owned())
        .collect()
}

/// Picks `LD_PRELOAD` and `LD_LIBRARY_PATH` out of `/proc/<pid>/environ`.
/// Nothing else of the environment is kept: it holds secrets (tokens,
/// passwords, keys) that have no place in an evidence bundle copied
/// around a case team.
pub fn env_flags(environ: &[u8]) -> EnvFlags {
    let mut flags = EnvFlags::default();
    for entry in environ.split(|&b| b == 0) {
        if let Some(v) = entry.strip_prefix(b"LD_PRELOAD=") {
            flags.ld_preload = Some(lossless_utf8(v).into_owned());
        } else if let Some(v) = entry.strip_prefix(b"LD_LIBRARY_PATH=") {
            flags.ld_library_path = Some(lossless_utf8(v).into_owned());
        }
    }
    flags
}

/// The name of a controlling terminal from `stat`'s `tty_nr`: `pts/N`,
/// `ttyN`, `ttySN`, `console`, or `major:minor` for other devices; `None`
/// for no terminal.
pub fn tty_name(tty_nr: u64) -> Option<String> {
    if tty_nr == 0 {
        return None;
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    Some(match (major, minor) {
        (136..=143, m) => format!("pts/{}", (major - 136) * 256 + m),
        (4, m) if m < 64 => format!("tty{m}"),
        (4, m) if m < 256 => format!("ttyS{}", m - 64),
        (5, 0) => "tty".into(),
        (5, 1) => "console".into(),
        (5, 2) => "ptmx".into(),
        (maj, m) => format!("{maj}:{m}"),
    })
}

/// Splits the kernel's ` (deleted)` suffix off an `exe` link target.
/// Returns the path and whether the suffix was there; the caller confirms
/// with the file's link count, since a file may be named `x (deleted)`.
pub fn strip_deleted(link: &[u8]) -> (&[u8], bool) {
    match link.strip_suffix(b" (deleted)") {
        Some(path) => (path, true),
        None => (link, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_a_hostile_name() {
        let line = b"4242 (a) b) (c\n) S 1 4242 4242 34816 4242 4194560 1 0 0 0 0 0 0 0 20 0 1 0 \
                     12345 9000 7 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        let st = parse_stat(line).unwrap();
        assert_eq!(st.pid, 4242);
        assert_eq!(st.comm, b"a) b) (c\n");
        assert_eq!(st.state, 'S');
        assert_eq!(st.ppid, 1);
        assert_eq!(st.tty_nr, 34816);
        assert_eq!(st.num_threads, 1);
        assert_eq!(st.starttime, 12345);
        assert_eq!(st.vsize, 9000);
        assert_eq!(st.rss_pages, 7);
        assert!(!st.is_kernel_thread());
        assert_eq!(tty_name(st.tty_nr).as_deref(), Some("pts/0"));
    }

    #[test]
    fn stat_errors_name_the_field() {
        assert_eq!(parse_stat(b"12 comm S 1"), Err(ParseError::NoComm));
        assert_eq!(parse_stat(b"12 (x) S 1 2"), Err(ParseError::Field(6)));
        assert_eq!(parse_stat(b"12 (x)"), Err(ParseError::Field(3)));
    }

    #[test]
    fn tty_numbers() {
        assert_eq!(tty_name(0), None);
        assert_eq!(tty_name((136 << 8) | 3).as_deref(), Some("pts/3"));
        assert_eq!(tty_name((137 << 8) | 1).as_deref(), Some("pts/257"));
        // pts/300: minor 300 = 0x12c spills into the high minor bits.
        assert_eq!(
            tty_name((136 << 8) | 0x2c | (0x1 << 20)).as_deref(),
            Some("pts/300")
        );
        assert_eq!(tty_name((4 << 8) | 1).as_deref(), Some("tty1"));
        assert_eq!(tty_name((4 << 8) | 64).as_deref(), Some("ttyS0"));
        assert_eq!(tty_name((5 << 8) | 1).as_deref(), Some("console"));
        assert_eq!(tty_name((204 << 8) | 64).as_deref(), Some("204:64"));
    }

    #[test]
    fn status_fields() {
        let st = parse_status(
            b"Name:\tUid:\t0\nTgid:\t77\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\n\
              NSpid:\t77\t1\nCapEff:\t000001ffffffffff\n",
        );
        assert_eq!(st.tgid, Some(77));
        assert_eq!((st.uid, st.euid, st.gid), (Some(1000), Some(0), Some(100)));
        assert_eq!(st.nspid, vec![77, 1]);
        assert_eq!(st.cap_eff.as_deref(), Some("000001ffffffffff"));
    }

    #[test]
    fn cgroup_lines() {
        assert_eq!(
            parse_cgroup(b"0::/system.slice/ssh.service\n").as_deref(),
            Some("/system.slice/ssh.service")
        );
        assert_eq!(
            parse_cgroup(b"12:pids:/user.slice\n0::/init.scope\n").as_deref(),
            Some("/init.scope")
        );
        assert_eq!(
            parse_cgroup(b"4:memory:/docker/x\n3:cpu:/docker/x\n").as_deref(),
            Some("4:memory:/docker/x")
        );
        assert_eq!(parse_cgroup(b""), None);
    }

    #[test]
    fn container_ids() {
        let id = "4f1a".repeat(16);
        let cases = [
            format!("/docker/{id}"),
            format!("4:memory:/docker/{id}"),
            format!("/system.slice/docker-{id}.scope"),
            format!("/kubepods/burstable/pod1b2c-33/{id}"),
            format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1b2c.slice/cri-containerd-{id}.scope"),
            format!("/machine.slice/libpod-{id}.scope/container"),
            format!("/system.slice/crio-{id}.scope"),
        ];
        for c in &cases {
            assert_eq!(container_id(c).as_deref(), Some(id.as_str()), "{c}");
        }
        assert_eq!(
            container_id("/lxc.payload.web01/system.slice").as_deref(),
            Some("lxc:web01")
        );
        assert_eq!(container_id("/lxc/web02").as_deref(), Some("lxc:web02"));
        assert_eq!(container_id("/system.slice/ssh.service"), None);
        assert_eq!(
            container_id(&format!("/machine.slice/libpod-conmon-{id}.scope")),
            None
        );
        assert_eq!(container_id("/"), None);
    }

    #[test]
    fn passwd_first_line_wins_and_junk_is_skipped() {
        let users = parse_passwd(
            b"root:x:0:0:root:/root:/bin/bash\n# comment\n+nis\nbad line\n\
              toor:x:0:0::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\nbob:x:notnum:1::/:\n",
        );
        assert_eq!(users[&0], "root");
        assert_eq!(users[&1000], "alice");
        assert_eq!(users.len(), 2);
    }

    #[test]
    fn cmdline_arguments() {
        assert!(split_cmdline(b"").is_empty());
        assert_eq!(split_cmdline(b"sleep\x0060\x00"), vec!["sleep", "60"]);
        assert_eq!(split_cmdline(b"a\x00\x00"), vec!["a", ""]);
        assert_eq!(
            split_cmdline(b"nginx: master process"),
            vec!["nginx: master process"]
        );
        assert_eq!(split_cmdline(b"x\xff\x00"), vec!["x\\xff"]);
    }

    #[test]
    fn only_the_two_loader_variables_are_kept() {
        let flags = env_flags(
            b"HOME=/root\x00AWS_SECRET_ACCESS_KEY=hunter2\x00LD_PRELOAD=/tmp/x.so\x00\
              LD_LIBRARY_PATH=/opt/lib\x00NOT_LD_PRELOAD=1\x00",
        );
        assert_eq!(flags.ld_preload.as_deref(), Some("/tmp/x.so"));
        assert_eq!(flags.ld_library_path.as_deref(), Some("/opt/lib"));
        assert_eq!(env_flags(b"PATH=/bin\x00"), EnvFlags::default());
    }

    #[test]
    fn deleted_suffix() {
        assert_eq!(strip_deleted(b"/tmp/x (deleted)"), (&b"/tmp/x"[..], true));
        assert_eq!(
            strip_deleted(b"/usr/bin/sleep"),
            (&b"/usr/bin/sleep"[..], false)
        );
    }
}
