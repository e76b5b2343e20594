//! The Linux descriptor scan: `/proc` is listed with `getdents64` (rustix
//! issues the system call itself, so neither an `LD_PRELOAD` library nor a
//! hooked libc `readdir` can hide an entry), each process directory is
//! opened once and its `comm` and `fd/` are read relative to that
//! descriptor, so a PID recycled mid-scan cannot mix two processes.

use std::io;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Dir, Mode, OFlags};

use super::{namespace_inode, socket_inode, FdScan, ProcessFds};
use crate::records::collection::Gap;
use crate::text::lossless_utf8;

pub(super) fn scan_fds() -> FdScan {
    let mut scan = FdScan::default();
    let proc_dir = match open_dir(rustix::fs::CWD, "/proc") {
        Ok(fd) => fd,
        Err(e) => {
            scan.gaps.push(Gap {
                what: "/proc".into(),
                cause: e.to_string(),
            });
            return scan;
        }
    };
    for pid in list_pids(&proc_dir, &mut scan.gaps) {
        match scan_process(&proc_dir, pid) {
            Ok((fds, gap)) => {
                if let Some(cause) = gap {
                    scan.gaps.push(Gap {
                        what: format!("/proc/{pid}/fd"),
                        cause,
                    });
                }
                scan.processes.insert(pid, fds);
            }
            Err(e) => scan.gaps.push(Gap {
                what: format!("/proc/{pid}"),
                cause: vanished_or(e),
            }),
        }
    }
    scan.index_owners();
    scan
}

/// Every numeric entry of `/proc`, read with `getdents64`.
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

/// Reads one process's name and descriptors. The second value is the cause
/// when `fd/` could not be listed (the name is still returned).
fn scan_process(proc_dir: &OwnedFd, pid: u32) -> io::Result<(ProcessFds, Option<String>)> {
    let pid_dir = open_dir(proc_dir, &pid.to_string())?;
    let comm = read_small(&pid_dir, "comm")?;
    let name = lossless_utf8(comm.strip_suffix(b"\n").unwrap_or(&comm)).into_owned();
    let net_ns = rustix::fs::readlinkat(&pid_dir, "ns/net", Vec::new())
        .ok()
        .and_then(|link| namespace_inode(link.as_bytes(), "net"));
    let mut out = ProcessFds {
        name,
        net_ns,
        ..ProcessFds::default()
    };
    let fd_dir = match open_dir(&pid_dir, "fd") {
        Ok(d) => d,
        Err(e) => return Ok((out, Some(vanished_or(e)))),
    };
    let mut dir = Dir::read_from(&fd_dir)?;
    let mut count = 0u32;
    let mut denied = 0u32;
    let mut buf = Vec::with_capacity(64);
    for entry in dir.by_ref() {
        let entry = entry?;
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
        let target = match rustix::fs::readlinkat(&fd_dir, name, std::mem::take(&mut buf)) {
            Ok(t) => t,
            Err(rustix::io::Errno::ACCESS) | Err(rustix::io::Errno::PERM) => {
                denied += 1;
                continue;
            }
            Err(_) => continue,
        };
        let bytes = target.as_bytes();
        if let Some(inode) = socket_inode(bytes) {
            out.sockets.push((fd, inode));
        }
        if fd <= 2 {
            let shown = Some(lossless_utf8(bytes).into_owned());
            match fd {
                0 => out.std.stdin = shown,
                1 => out.std.stdout = shown,
                _ => out.std.stderr = shown,
            }
        }
        buf = target.into_bytes();
    }
    out.count = Some(count);
    let gap =
        (denied > 0).then(|| format!("permission denied: {denied} descriptor links unreadable"));
    Ok((out, gap))
}

fn read_small(dir: &OwnedFd, name: &str) -> io::Result<Vec<u8>> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut buf = vec![0u8; 256];
    let n = rustix::io::read(&fd, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

fn vanished_or(e: io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ESRCH) => "process exited during the scan".into(),
        Some(libc::EACCES) | Some(libc::EPERM) => "permission denied".into(),
        _ => e.to_string(),
    }
}
