//! Reading one Linux process, pinned: `/proc/<pid>` is opened once as a
//! directory and every file is read relative to that descriptor. The
//! descriptor holds the kernel's `struct pid` of the process it was opened
//! for, so once that process exits every read through it fails (`ESRCH` or
//! `ENOENT`) even if its number is given to a new process; a recycled PID
//! can never mix two processes into one record. The start time is read
//! again at the end and compared, and a process that exits part-way keeps
//! what was read, with a gap naming what was lost.
//!
//! `cmdline` and `environ` are read last, under the worker pool's watchdog
//! ([`super::pool`]), because they take the target's memory map lock and
//! can block forever on a process in uninterruptible sleep.
//!
//! The executable is identified by `stat` through `/proc/<pid>/exe` (device
//! and inode, and whether it was deleted), and, when hashing, opened there
//! once per distinct file: the open descriptor keeps even a deleted binary
//! readable until it is hashed, after the volatile collectors. It is opened
//! with `O_NOATIME` where the kernel allows it, so hashing does not change
//! the evidence's access time.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, Dir, Mode, OFlags};
use rustix::time::ClockId;

use super::hashing::FileKey;
use super::pool::{Guard, Risky};
use super::procfs::{self, Stat};
use crate::records::process::{Namespaces, ProcessRecord};
use crate::shared::{namespace_inode, read_fds, ProcessFds, SharedScans};
use crate::text::lossless_utf8;

/// Converts `stat` start times (clock ticks after boot) to UTC.
#[derive(Debug, Clone, Copy)]
pub(super) struct BootClock {
    /// Boot time, nanoseconds since the Unix epoch: `CLOCK_REALTIME` minus
    /// `CLOCK_BOOTTIME`, read back to back (the same derivation the kernel
    /// uses for `btime` in `/proc/stat`, without its rounding to seconds).
    boot_ns: i128,
    ticks_per_second: u64,
}

impl BootClock {
    pub(super) fn now() -> Self {
        let real = ns(rustix::time::clock_gettime(ClockId::Realtime));
        let boot = ns(rustix::time::clock_gettime(ClockId::Boottime));
        BootClock {
            boot_ns: real - boot,
            ticks_per_second: rustix::param::clock_ticks_per_second().max(1),
        }
    }

    /// UTC time of a start given in ticks, to the millisecond.
    pub(super) fn start_time(&self, ticks: u64) -> Option<Timestamp> {
        let offset = i128::from(ticks) * 1_000_000_000 / i128::from(self.ticks_per_second);
        let ms = (self.boot_ns + offset) / 1_000_000;
        Timestamp::from_millisecond(i64::try_from(ms).ok()?).ok()
    }

    /// The current time in ticks after boot (rounded down).
    pub(super) fn ticks_now(&self) -> u64 {
        let boot = ns(rustix::time::clock_gettime(ClockId::Boottime));
        u64::try_from(boot * i128::from(self.ticks_per_second) / 1_000_000_000).unwrap_or(0)
    }
}

fn ns(t: rustix::time::Timespec) -> i128 {
    i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec)
}

/// What every worker shares while reading processes.
pub(super) struct Reader {
    pub(super) proc_dir: OwnedFd,
    pub(super) clock: BootClock,
    pub(super) page_size: u64,
    /// Open executables for hashing (false with `--no-hash`).
    pub(super) hash: bool,
    /// How many more executables may be held open; past it, an
    /// executable is reopened through its process when hashed.
    pub(super) exe_budget: AtomicUsize,
    pub(super) seen_exes: Mutex<HashSet<FileKey>>,
    pub(super) shared: Arc<SharedScans>,
}

/// The outcome of reading one PID.
pub(super) enum Outcome {
    /// A record, complete or with problems.
    Read(Box<Entry>),
    /// Nothing could be read: the process was gone or `/proc/<pid>` could
    /// not be opened.
    Gone { pid: u32, cause: String },
}

/// How the executable is to be hashed.
pub(super) enum ExeContent {
    /// Held open since the process was read.
    Open(File),
    /// Too many files open already: reopen through the process.
    Reopen,
    /// Could not be opened.
    Failed(io::Error),
}

/// One process as read, plus what the collector needs besides the record.
pub(super) struct Entry {
    pub(super) record: ProcessRecord,
    pub(super) start_ticks: u64,
    /// Thread ids other than the leader's (from `task/`).
    pub(super) tids: Vec<u32>,
    /// Set on the first process seen running a given executable.
    pub(super) exe_content: Option<(FileKey, ExeContent)>,
    /// The executable's identity (every process).
    pub(super) exe_key: Option<FileKey>,
    /// Descriptors read here because no shared scan covered this process.
    pub(super) own_fds: Option<ProcessFds>,
    /// Files that could not be read, with why.
    pub(super) unread: Vec<(&'static str, io::Error)>,
    /// Other problems, already phrased.
    pub(super) notes: Vec<String>,
    /// The process ended before the final check.
    pub(super) exited: bool,
}

impl Reader {
    /// Reads process `pid`; see the module documentation.
    pub(super) fn read(&self, pid: u32, guard: &Guard<'_, Outcome>) -> Option<Outcome> {
        let dir = match open_dir(&self.proc_dir, &pid.to_string()) {
            Ok(d) => d,
            Err(e) => {
                return Some(Outcome::Gone {
                    pid,
                    cause: describe(&e),
                })
            }
        };
        // `stat` stays open for the final check, which reads it again.
        let stat_file = match open_file(&dir, "stat") {
            Ok(f) => f,
            Err(e) => {
                return Some(Outcome::Gone {
                    pid,
                    cause: describe(&e),
                })
            }
        };
        let stat = match read_at_start(&stat_file, 512).map(|b| procfs::parse_stat(&b)) {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return Some(Outcome::Gone {
                    pid,
                    cause: format!("stat: {e}"),
                })
            }
            Err(e) => {
                return Some(Outcome::Gone {
                    pid,
                    cause: describe(&e),
                })
            }
        };
        let mut e = self.base(pid, &stat);
        let kernel = stat.is_kernel_thread();
        match read_file(&dir, "status", 2048) {
            Ok(bytes) => {
                let st = procfs::parse_status(&bytes);
                e.record.uid = st.uid;
                e.record.euid = st.euid;
                e.record.gid = st.gid;
                e.record.cap_eff = st.cap_eff;
                e.record.pid_in_namespace = st.nspid.last().copied();
            }
            Err(err) => e.unread.push(("status", err)),
        }
        if !kernel {
            self.exe(&dir, &mut e);
            e.record.cwd = e.link(&dir, "cwd");
            e.record.root = e.link(&dir, "root");
        }
        e.record.namespaces = Namespaces {
            pid: e.namespace(&dir, "pid"),
            net: e.namespace(&dir, "net"),
            mnt: e.namespace(&dir, "mnt"),
            user: e.namespace(&dir, "user"),
        };
        match read_file(&dir, "cgroup", 256) {
            Ok(bytes) => {
                e.record.cgroup = procfs::parse_cgroup(&bytes);
                e.record.container_id = e.record.cgroup.as_deref().and_then(procfs::container_id);
            }
            Err(err) => e.unread.push(("cgroup", err)),
        }
        if stat.num_threads > 1 {
            match list_numeric(&dir, "task") {
                Ok(tids) => e.tids = tids.into_iter().filter(|&t| t != pid).collect(),
                Err(err) => e.unread.push(("task", err)),
            }
        }
        self.fds(&dir, &mut e);

        let mut e = if kernel {
            // Kernel threads have no user memory: no arguments, no
            // environment, nothing that can block.
            e
        } else {
            let risky = guard.risky(Outcome::Read(Box::new(e)), || {
                let cmdline = read_file(&dir, "cmdline", 256);
                let environ = read_file(&dir, "environ", 4096);
                (cmdline, environ)
            });
            match risky {
                Risky::Done(Outcome::Read(mut e), (cmdline, environ)) => {
                    match cmdline {
                        Ok(b) => e.record.cmdline = procfs::split_cmdline(&b),
                        Err(err) => e.unread.push(("cmdline", err)),
                    }
                    match environ {
                        Ok(b) => e.record.env_flags = procfs::env_flags(&b),
                        Err(err) => e.unread.push(("environ", err)),
                    }
                    *e
                }
                Risky::Skipped(Outcome::Read(mut e)) => {
                    e.notes.push(
                        "cmdline, environ: not read (too many earlier reads of process \
                         memory hung)"
                            .into(),
                    );
                    *e
                }
                Risky::Done(gone @ Outcome::Gone { .. }, _)
                | Risky::Skipped(gone @ Outcome::Gone { .. }) => return Some(gone),
                Risky::Abandoned => return None,
            }
        };

        // The final check: still the same process? (Reading the open
        // `stat` again from offset 0 makes the kernel render it afresh.)
        match read_at_start(&stat_file, 512).map(|b| procfs::parse_stat(&b)) {
            Ok(Ok(again)) if again.starttime == stat.starttime => {
                e.record.state = Some(again.state.to_string());
            }
            Ok(Ok(_)) => e
                .notes
                .push("start time changed during the read: the PID was reused".into()),
            Ok(Err(err)) => e.notes.push(format!("stat (final check): {err}")),
            Err(_) => e.exited = true,
        }
        Some(Outcome::Read(Box::new(e)))
    }

    fn base(&self, pid: u32, stat: &Stat) -> Entry {
        let record = ProcessRecord {
            pid,
            ppid: Some(stat.ppid),
            name: lossless_utf8(&stat.comm).into_owned(),
            start_time: self.clock.start_time(stat.starttime),
            state: Some(stat.state.to_string()),
            threads: Some(stat.num_threads),
            rss_bytes: Some(stat.rss_pages.saturating_mul(self.page_size)),
            vsize_bytes: Some(stat.vsize),
            tty: procfs::tty_name(stat.tty_nr),
            session: Some(stat.session),
            pgid: Some(stat.pgrp),
            kernel_thread: stat.is_kernel_thread(),
            ..ProcessRecord::default()
        };
        Entry {
            start_ticks: stat.starttime,
            ..Entry::bare(record)
        }
    }

    /// The executable: its path, whether it was deleted, its identity and,
    /// when hashing, its content.
    fn exe(&self, dir: &OwnedFd, e: &mut Entry) {
        let link = match rustix::fs::readlinkat(dir, "exe", Vec::new()) {
            Ok(l) => l.into_bytes(),
            Err(err) => {
                e.unread.push(("exe", err.into()));
                return;
            }
        };
        let (path, suffix) = procfs::strip_deleted(&link);
        let st = match rustix::fs::statat(dir, "exe", AtFlags::empty()) {
            Ok(st) => st,
            Err(err) => {
                e.record.exe = Some(lossless_utf8(path).into_owned());
                e.record.exe_deleted = suffix;
                e.unread.push(("exe (stat)", err.into()));
                return;
            }
        };
        let key: FileKey = (st.st_dev, st.st_ino);
        // ` (deleted)` is also what a file literally named so looks like:
        // when the file is still linked, see whether that name is it.
        let deleted = suffix && (st.st_nlink == 0 || !same_file(&link, key));
        let shown = if deleted { path } else { &link[..] };
        e.record.exe = Some(lossless_utf8(shown).into_owned());
        e.record.exe_deleted = deleted;
        e.record.exe_inode = Some(st.st_ino);
        e.record.exe_device = Some(format!(
            "{}:{}",
            rustix::fs::major(st.st_dev),
            rustix::fs::minor(st.st_dev)
        ));
        e.exe_key = Some(key);
        if !self.hash {
            return;
        }
        let first = self
            .seen_exes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key);
        if !first {
            return;
        }
        let budget = self
            .exe_budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        let content = if budget.is_err() {
            ExeContent::Reopen
        } else {
            match open_exe(dir) {
                Ok(f) => ExeContent::Open(f),
                Err(err) => ExeContent::Failed(err),
            }
        };
        e.exe_content = Some((key, content));
    }

    /// Descriptors: from the shared scan when it read this very process,
    /// else read here.
    fn fds(&self, dir: &OwnedFd, e: &mut Entry) {
        let pid = e.record.pid;
        if let Some((scan, ticks)) = self.shared.fd_scan_if_done() {
            if ticks.get(&pid) == Some(&e.start_ticks) {
                if let Some(p) = scan.processes.get(&pid) {
                    e.record.fd_count = p.count;
                    e.record.std_fds = p.std.clone();
                    return;
                }
            }
        }
        let mut fds = ProcessFds {
            name: e.record.name.clone(),
            net_ns: e.record.namespaces.net,
            ..ProcessFds::default()
        };
        match read_fds(dir, &mut fds) {
            Ok(0) => {}
            Ok(denied) => e.unread.push((
                "fd",
                std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    crate::shared::unreadable_links(denied),
                ),
            )),
            Err(err) => e.unread.push(("fd", err)),
        }
        e.record.fd_count = fds.count;
        e.record.std_fds = fds.std.clone();
        e.own_fds = Some(fds);
    }
}

impl Entry {
    /// An entry holding only `record` (a PID that could not be read).
    pub(super) fn bare(record: ProcessRecord) -> Self {
        Entry {
            record,
            start_ticks: 0,
            tids: Vec::new(),
            exe_content: None,
            exe_key: None,
            own_fds: None,
            unread: Vec::new(),
            notes: Vec::new(),
            exited: false,
        }
    }

    fn link(&mut self, dir: &OwnedFd, name: &'static str) -> Option<String> {
        match rustix::fs::readlinkat(dir, name, Vec::new()) {
            Ok(l) => Some(lossless_utf8(l.as_bytes()).into_owned()),
            Err(err) => {
                self.unread.push((name, err.into()));
                None
            }
        }
    }

    fn namespace(&mut self, dir: &OwnedFd, kind: &'static str) -> Option<u64> {
        let name = match kind {
            "pid" => "ns/pid",
            "net" => "ns/net",
            "mnt" => "ns/mnt",
            _ => "ns/user",
        };
        match rustix::fs::readlinkat(dir, name, Vec::new()) {
            Ok(l) => namespace_inode(l.as_bytes(), kind),
            Err(err) => {
                self.unread.push((name, err.into()));
                None
            }
        }
    }

    /// True when the process is a zombie or being reaped: it has no
    /// memory, executable, directories or namespaces left to read.
    pub(super) fn is_dead(&self) -> bool {
        matches!(self.record.state.as_deref(), Some("Z" | "X" | "x"))
    }
}

/// Whether the path named by an `exe` link (taken literally) is the file
/// `key`.
fn same_file(link: &[u8], key: FileKey) -> bool {
    let Ok(path) = std::str::from_utf8(link) else {
        return false;
    };
    rustix::fs::stat(path).is_ok_and(|st| (st.st_dev, st.st_ino) == key)
}

fn open_exe(dir: &OwnedFd) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(dir, "exe", flags | OFlags::NOATIME, Mode::empty()) {
        // O_NOATIME needs ownership of the file or CAP_FOWNER.
        Err(rustix::io::Errno::PERM) => rustix::fs::openat(dir, "exe", flags, Mode::empty())?,
        other => other?,
    };
    Ok(File::from(fd))
}

/// Opens `/proc/<pid>/exe` of the process `pid` if it is still the one that
/// started at `start_ticks` and still runs the file `key`.
pub(super) fn reopen_exe(
    proc_dir: &OwnedFd,
    pid: u32,
    start_ticks: u64,
    key: FileKey,
) -> io::Result<File> {
    let dir = open_dir(proc_dir, &pid.to_string())?;
    let stat = procfs::parse_stat(&read_file(&dir, "stat", 512)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if stat.starttime != start_ticks {
        return Err(io::Error::other("the process exited before hashing"));
    }
    let file = open_exe(&dir)?;
    let st = rustix::fs::fstat(&file)?;
    if (st.st_dev, st.st_ino) != key {
        return Err(io::Error::other(
            "the process changed executable before hashing",
        ));
    }
    Ok(file)
}

pub(super) fn open_dir(at: &OwnedFd, path: &str) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    Ok(rustix::fs::openat(at, path, flags, Mode::empty())?)
}

fn open_file(dir: &OwnedFd, name: &str) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Reads a whole `/proc` file relative to `dir`, starting with a buffer of
/// `initial` bytes and growing it as needed.
pub(super) fn read_file(dir: &OwnedFd, name: &str, initial: usize) -> io::Result<Vec<u8>> {
    read_at_start(&open_file(dir, name)?, initial)
}

/// Reads an open `/proc` file whole from offset 0 (`pread`, so the same
/// descriptor can be read again).
fn read_at_start(fd: &OwnedFd, initial: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; initial.max(64)];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        match rustix::io::pread(fd, &mut buf[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                // procfs answers a read with all that fits (seq_file, and
                // the cmdline and environ readers loop until the buffer is
                // full), so a short read is the end: no extra read for EOF.
                if len < buf.len() {
                    break;
                }
            }
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

/// The numeric entries of a directory relative to `dir` (`task/`).
fn list_numeric(dir: &OwnedFd, name: &str) -> io::Result<Vec<u32>> {
    let mut out = Vec::new();
    for entry in Dir::new(open_dir(dir, name)?)? {
        let entry = entry?;
        if let Some(n) = std::str::from_utf8(entry.file_name().to_bytes())
            .ok()
            .and_then(|s| s.parse().ok())
        {
            out.push(n);
        }
    }
    Ok(out)
}

/// Says why a process could not be read, in the words of the gaps.
pub(super) fn describe(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ESRCH) => "exited before it could be read".into(),
        Some(libc::EACCES) | Some(libc::EPERM) => "permission denied".into(),
        _ => e.to_string(),
    }
}
