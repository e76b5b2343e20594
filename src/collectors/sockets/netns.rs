//! Network namespaces: finding every one and running code inside it.
//!
//! A namespace is found through the `ns/net` link of any process in it
//! (`/proc/*/ns/net`) or through a bind mount under `/run/netns` (what
//! `ip netns add` makes: such a namespace may have no process at all).
//! Code runs inside one on a short-lived thread that `setns(2)`s into it:
//! only that thread changes namespace, and it ends with its work, so the
//! rest of irdump never leaves its own. Inside, the thread opens its own
//! netlink sockets and reads `/proc/thread-self/net/*`, both of which
//! describe the thread's namespace.
//!
//! A recycled PID cannot send us into the wrong namespace: the handle's
//! inode is checked against the namespace we meant before `setns`.
//!
//! Shared by the `sockets` and `netconfig` collectors.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{Dir, Mode, OFlags};
use rustix::thread::LinkNameSpaceType;

use crate::records::collection::Gap;
use crate::shared::{namespace_inode, FdScan};

/// Where `ip netns add` leaves its bind mounts.
const RUN_NETNS: &str = "/run/netns";

/// One network namespace and the ways into it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetNs {
    /// Its inode (the number in `net:[...]`).
    pub inode: u64,
    /// Some PIDs living in it (the lowest first); empty for a namespace
    /// held only by a bind mount.
    pub members: Vec<u32>,
    /// Bind mounts of it under `/run/netns`.
    pub mounts: Vec<PathBuf>,
    /// True for irdump's own namespace: read without entering.
    pub own: bool,
}

/// How many member PIDs are kept per namespace to try entering through.
const MEMBERS_KEPT: usize = 4;

/// The inode of the calling thread's network namespace.
///
/// # Errors
///
/// `/proc/thread-self/ns/net` could not be read.
pub fn own_inode() -> io::Result<u64> {
    Ok(std::fs::metadata("/proc/thread-self/ns/net")?.ino())
}

/// Every network namespace reachable from `/proc/*/ns/net` and
/// `/run/netns`. Unreadable `ns/net` links are expected for processes that
/// exit meanwhile and, without root, for other users' processes: they are
/// counted into a single gap rather than one per PID.
pub fn discover(gaps: &mut Vec<Gap>) -> BTreeMap<u64, NetNs> {
    let mut out: BTreeMap<u64, NetNs> = BTreeMap::new();
    match own_inode() {
        Ok(inode) => {
            out.insert(
                inode,
                NetNs {
                    inode,
                    own: true,
                    ..NetNs::default()
                },
            );
        }
        Err(e) => gaps.push(Gap {
            what: "/proc/thread-self/ns/net".into(),
            cause: e.to_string(),
        }),
    }
    let mut denied = 0usize;
    match list_proc() {
        Ok((proc_dir, pids)) => {
            for pid in pids {
                let link = format!("{pid}/ns/net");
                match rustix::fs::readlinkat(&proc_dir, link.as_str(), Vec::new()) {
                    Ok(target) => {
                        if let Some(inode) = namespace_inode(target.as_bytes(), "net") {
                            add_member(&mut out, inode, pid);
                        }
                    }
                    Err(rustix::io::Errno::NOENT) | Err(rustix::io::Errno::SRCH) => {}
                    Err(_) => denied += 1,
                }
            }
        }
        Err(e) => gaps.push(Gap {
            what: "/proc".into(),
            cause: e.to_string(),
        }),
    }
    if denied > 0 {
        gaps.push(Gap {
            what: format!("/proc/*/ns/net of {denied} processes"),
            cause: "permission denied: namespaces only they use are not read".into(),
        });
    }
    add_bind_mounts(&mut out, gaps);
    out
}

/// Adds namespaces and members the shared descriptor scan saw (processes
/// started after [`discover`]).
pub fn add_from_scan(map: &mut BTreeMap<u64, NetNs>, scan: &FdScan) -> Vec<u64> {
    let mut new = Vec::new();
    for (&pid, p) in &scan.processes {
        if let Some(inode) = p.net_ns {
            if !map.contains_key(&inode) {
                new.push(inode);
            }
            add_member(map, inode, pid);
        }
    }
    new
}

fn add_member(map: &mut BTreeMap<u64, NetNs>, inode: u64, pid: u32) {
    let ns = map.entry(inode).or_insert_with(|| NetNs {
        inode,
        ..NetNs::default()
    });
    if ns.members.len() < MEMBERS_KEPT && !ns.members.contains(&pid) {
        ns.members.push(pid);
        ns.members.sort_unstable();
    }
}

fn add_bind_mounts(map: &mut BTreeMap<u64, NetNs>, gaps: &mut Vec<Gap>) {
    let entries = match std::fs::read_dir(RUN_NETNS) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => {
            gaps.push(Gap {
                what: RUN_NETNS.into(),
                cause: e.to_string(),
            });
            return;
        }
    };
    for entry in entries {
        let path = match entry {
            Ok(e) => e.path(),
            Err(e) => {
                gaps.push(Gap {
                    what: RUN_NETNS.into(),
                    cause: e.to_string(),
                });
                break;
            }
        };
        // A bind-mounted namespace file lives on nsfs; an unmounted name
        // left behind is an empty regular file of the tmpfs, not a
        // namespace.
        match std::fs::metadata(&path) {
            Ok(m) if m.dev() != std::fs::metadata(RUN_NETNS).map(|r| r.dev()).unwrap_or(0) => {
                let ns = map.entry(m.ino()).or_insert_with(|| NetNs {
                    inode: m.ino(),
                    ..NetNs::default()
                });
                ns.mounts.push(path);
            }
            Ok(_) => log::debug!("{}: not a mounted namespace", path.display()),
            Err(e) => gaps.push(Gap {
                what: path.display().to_string(),
                cause: e.to_string(),
            }),
        }
    }
}

fn list_proc() -> io::Result<(OwnedFd, Vec<u32>)> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let proc_dir = rustix::fs::openat(rustix::fs::CWD, "/proc", flags, Mode::empty())?;
    let mut pids = Vec::new();
    for entry in Dir::read_from(&proc_dir)? {
        let entry = entry?;
        if let Some(pid) = std::str::from_utf8(entry.file_name().to_bytes())
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        {
            pids.push(pid);
        }
    }
    Ok((proc_dir, pids))
}

/// Opens a handle on `ns` and checks it is the namespace we meant.
fn open_handle(ns: &NetNs) -> Result<OwnedFd, String> {
    let mut causes = Vec::new();
    let candidates = ns
        .members
        .iter()
        .map(|pid| PathBuf::from(format!("/proc/{pid}/ns/net")))
        .chain(ns.mounts.iter().cloned());
    for path in candidates {
        let fd = match rustix::fs::open(&path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) => {
                causes.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        match rustix::fs::fstat(&fd) {
            Ok(st) if st.st_ino == ns.inode => return Ok(fd),
            Ok(_) => causes.push(format!("{}: now another namespace", path.display())),
            Err(e) => causes.push(format!("{}: {e}", path.display())),
        }
    }
    if causes.is_empty() {
        causes.push("no process or bind mount left to enter it through".into());
    }
    Err(causes.join("; "))
}

/// Runs `work` inside `ns`: on the calling thread for irdump's own
/// namespace, else on a new thread that enters it first.
///
/// # Errors
///
/// The namespace could not be entered (the cause names each way tried);
/// `work` did not run.
pub fn run_inside<T: Send>(ns: &NetNs, work: impl FnOnce() -> T + Send) -> Result<T, String> {
    if ns.own {
        return Ok(work());
    }
    let handle = open_handle(ns)?;
    std::thread::scope(|s| {
        let joined = std::thread::Builder::new()
            .name(format!("netns-{}", ns.inode))
            .spawn_scoped(s, move || {
                rustix::thread::move_into_link_name_space(
                    handle.as_fd(),
                    Some(LinkNameSpaceType::Network),
                )
                .map_err(|e| format!("setns into net:[{}]: {e}", ns.inode))?;
                Ok(work())
            })
            .map_err(|e| format!("thread: {e}"))?
            .join();
        joined.unwrap_or_else(|_| Err("the namespace worker panicked".into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_namespace_is_found_and_runs_in_place() {
        let mut gaps = Vec::new();
        let map = discover(&mut gaps);
        let own = own_inode().expect("own namespace");
        let ns = &map[&own];
        assert!(ns.own);
        assert!(ns.members.contains(&std::process::id()) || ns.members.len() == MEMBERS_KEPT);
        let here = std::thread::current().id();
        assert_eq!(run_inside(ns, || std::thread::current().id()), Ok(here));
    }
}
