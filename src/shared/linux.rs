//! The Linux descriptor scan: `/proc` is listed with `getdents64` (rustix
//! issues the system call itself, so neither an `LD_PRELOAD` library nor a
//! hooked libc `readdir` can hide an entry), each process directory is
//! opened once and its `stat` and `fd/` are read relative to that
//! descriptor, so a PID recycled mid-scan cannot mix two processes. The
//! processes are shared out among one thread per core.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Dir, Mode, OFlags};

use super::{namespace_inode, socket_inode, FdScan, ProcessFds, StartTicks};
use crate::collectors::processes::procfs::parse_stat;
use crate::records::collection::Gap;
use crate::records::process::StdFds;
use crate::text::lossless_utf8;

/// Processes a worker takes from the shared list at a time.
const BATCH: usize = 32;

/// What the scan learnt of one PID.
enum Scanned {
    Read {
        fds: ProcessFds,
        start_ticks: u64,
        fd_gap: Option<String>,
    },
    Gone(String),
}

pub(super) fn scan_fds() -> (FdScan, StartTicks) {
    let mut scan = FdScan::default();
    let mut start_ticks = StartTicks::new();
    let proc_dir = match open_dir(rustix::fs::CWD, "/proc") {
        Ok(fd) => fd,
        Err(e) => {
            scan.gaps.push(Gap {
                what: "/proc".into(),
                cause: e.to_string(),
            });
            return (scan, start_ticks);
        }
    };
    let pids = list_pids(&proc_dir, &mut scan.gaps);
    for (pid, result) in scan_all(&proc_dir, &pids) {
        match result {
            Scanned::Read {
                fds,
                start_ticks: ticks,
                fd_gap,
            } => {
                if let Some(cause) = fd_gap {
                    scan.gaps.push(Gap {
                        what: format!("/proc/{pid}/fd"),
                        cause,
                    });
                }
                scan.processes.insert(pid, fds);
                start_ticks.insert(pid, ticks);
            }
            Scanned::Gone(cause) => scan.gaps.push(Gap {
                what: format!("/proc/{pid}"),
                cause,
            }),
        }
    }
    scan.index_owners();
    (scan, start_ticks)
}

/// Scans `pids` on one thread per core (at most four: the work is system
/// calls, and more threads only contend in the kernel).
fn scan_all(proc_dir: &OwnedFd, pids: &[u32]) -> Vec<(u32, Scanned)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(pids.len().div_ceil(BATCH).max(1));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut out = Vec::new();
        loop {
            let start = next.fetch_add(BATCH, Ordering::Relaxed);
            let Some(batch) = pids.get(start..(start + BATCH).min(pids.len())) else {
                break;
            };
            if batch.is_empty() {
                break;
            }
            for &pid in batch {
                out.push((pid, scan_process(proc_dir, pid)));
            }
        }
        out
    };
    let mut all = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("irdump-fdscan".into())
                    .spawn_scoped(s, work)
                    .ok()
            })
            .collect();
        let mut all = work();
        for h in helpers {
            match h.join() {
                Ok(part) => all.extend(part),
                Err(_) => log::warn!("a descriptor scan thread panicked"),
            }
        }
        all
    });
    all.sort_unstable_by_key(|(pid, _)| *pid);
    all
}

/// Every numeric entry of `/proc`, read with `getdents64`, sorted.
pub(crate) fn list_pids(proc_dir: &OwnedFd, gaps: &mut Vec<Gap>) -> Vec<u32> {
    let mut pids = Vec::new();
    let mut dir = match Dir::read_from(proc_dir) {
        Ok(d) => d,
        Err(e) => {
            gaps.push(Gap {
                what: "/proc".into(),
                cause: e.to_string(),
            });
            return pids;
        }
    };
    for entry in dir.by_ref() {
        match entry {
            Ok(e) => {
                if let Some(pid) = std::str::from_utf8(e.file_name().to_bytes())
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                {
                    pids.push(pid);
                }
            }
            Err(e) => {
                gaps.push(Gap {
                    what: "/proc listing".into(),
                    cause: e.to_string(),
                });
                break;
            }
        }
    }
    pids.sort_unstable();
    pids
}

fn open_dir<Fd: AsFd>(at: Fd, path: &str) -> io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    Ok(rustix::fs::openat(at, path, flags, Mode::empty())?)
}

/// Reads one process's name, start time, network namespace and
/// descriptors.
fn scan_process(proc_dir: &OwnedFd, pid: u32) -> Scanned {
    let pid_dir = match open_dir(proc_dir, &pid.to_string()) {
        Ok(d) => d,
        Err(e) => return Scanned::Gone(vanished_or(&e)),
    };
    let stat = match read_small(&pid_dir, "stat") {
        Ok(bytes) => bytes,
        Err(e) => return Scanned::Gone(vanished_or(&e)),
    };
    let stat = match parse_stat(&stat) {
        Ok(s) => s,
        Err(e) => return Scanned::Gone(format!("/proc/{pid}/stat: {e}")),
    };
    let net_ns = rustix::fs::readlinkat(&pid_dir, "ns/net", Vec::new())
        .ok()
        .and_then(|link| namespace_inode(link.as_bytes(), "net"));
    let mut fds = ProcessFds {
        name: lossless_utf8(&stat.comm).into_owned(),
        net_ns,
        ..ProcessFds::default()
    };
    let fd_gap = match read_fds(&pid_dir, &mut fds) {
        Ok(0) => None,
        Ok(denied) => Some(unreadable_links(denied)),
        Err(e) => Some(vanished_or(&e)),
    };
    Scanned::Read {
        fds,
        start_ticks: stat.starttime,
        fd_gap,
    }
}

/// Lists `fd/` of the process whose `/proc/<pid>` directory is `pid_dir`
/// and fills `out`'s descriptor count, standard descriptors and sockets.
///
/// # Errors
///
/// The error of opening or listing `fd/` (permission denied for another
/// user's process without root, gone when the process exited); `out` is
/// then left without a count.
///
/// On success, returns how many descriptor links could not be read
/// (permission denied): their targets, and so any socket they hold, are
/// unknown and the caller records that as a gap.
pub(crate) fn read_fds(pid_dir: &OwnedFd, out: &mut ProcessFds) -> io::Result<u32> {
    // `Dir::new` takes the descriptor over (`read_from` would reopen it).
    let mut dir = Dir::new(open_dir(pid_dir, "fd")?)?;
    let mut count = 0u32;
    let mut denied = 0u32;
    let mut std = StdFds::default();
    let mut sockets = Vec::new();
    let mut buf = Vec::with_capacity(64);
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let fd_dir = dir.fd()?;
        let name = entry.file_name();
        let Some(fd) = std::str::from_utf8(name.to_bytes())
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        count += 1;
        buf.clear();
        // A descriptor closed between listing and readlink is simply gone;
        // one we may not read is lost evidence (its socket shows no owner).
        let target = match rustix::fs::readlinkat(fd_dir, name, std::mem::take(&mut buf)) {
            Ok(t) => t,
            Err(rustix::io::Errno::ACCESS) | Err(rustix::io::Errno::PERM) => {
                denied += 1;
                continue;
            }
            Err(_) => continue,
        };
        let bytes = target.as_bytes();
        if let Some(inode) = socket_inode(bytes) {
            sockets.push((fd, inode));
        }
        if fd <= 2 {
            let shown = Some(lossless_utf8(bytes).into_owned());
            match fd {
                0 => std.stdin = shown,
                1 => std.stdout = shown,
                _ => std.stderr = shown,
            }
        }
        buf = target.into_bytes();
    }
    sockets.sort_unstable();
    out.count = Some(count);
    out.std = std;
    out.sockets = sockets;
    Ok(denied)
}

/// The gap cause for descriptor links that could not be read.
pub(crate) fn unreadable_links(denied: u32) -> String {
    format!("permission denied: {denied} descriptor links unreadable")
}

fn read_small(dir: &OwnedFd, name: &str) -> io::Result<Vec<u8>> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut buf = vec![0u8; 1024];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        match rustix::io::read(&fd, &mut buf[len..]) {
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

fn vanished_or(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ESRCH) => "process exited during the scan".into(),
        Some(libc::EACCES) | Some(libc::EPERM) => "permission denied".into(),
        _ => e.to_string(),
    }
}
