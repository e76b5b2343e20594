//! Scans of the live host that more than one collector needs, done once.
//!
//! The sockets collector needs to know which process holds each socket
//! inode; the processes collector needs each process's open descriptors.
//! Both come from one pass over `/proc/*/fd` ([`FdScan`]), made by whichever
//! collector asks first and kept here for the other. A collector that reads
//! every process anyway (processes, when sockets did not run) may instead
//! make the pass itself and hand it over with [`SharedScans::provide_fd_scan`].
//!
//! The scan also notes each process's start time, so that a reader joining
//! the scan with its own later reads can tell a PID that was recycled in
//! between.

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod sys;
#[cfg(not(target_os = "linux"))]
#[path = "other.rs"]
mod sys;

#[cfg(target_os = "linux")]
pub(crate) use sys::{list_pids, read_fds, unreadable_links};

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use crate::records::collection::Gap;
use crate::records::network::SocketOwner;
use crate::records::process::StdFds;

/// Lazily computed scans shared by the collectors of one run.
#[derive(Default)]
pub struct SharedScans {
    fds: OnceLock<Scanned>,
}

/// Start time of each process the scan read, in clock ticks after boot
/// (`/proc/<pid>/stat` field 22), by PID.
pub type StartTicks = BTreeMap<u32, u64>;

struct Scanned {
    scan: FdScan,
    start_ticks: StartTicks,
}

impl SharedScans {
    /// The descriptor scan, made on first use.
    pub fn fd_scan(&self) -> &FdScan {
        &self.scanned().scan
    }

    /// The start time of each process in [`SharedScans::fd_scan`], to tell
    /// whether a PID read later is still the same process. Empty on
    /// platforms without `/proc`.
    pub fn fd_scan_start_ticks(&self) -> &StartTicks {
        &self.scanned().start_ticks
    }

    /// The descriptor scan and its start times if some collector already
    /// made or provided it; never starts one.
    pub fn fd_scan_if_done(&self) -> Option<(&FdScan, &StartTicks)> {
        self.fds.get().map(|s| (&s.scan, &s.start_ticks))
    }

    /// Hands over a scan made by a collector that read every process's
    /// descriptors anyway, for the collectors after it. Returns false (and
    /// drops it) when a scan was already made.
    pub fn provide_fd_scan(&self, scan: FdScan, start_ticks: StartTicks) -> bool {
        self.fds.set(Scanned { scan, start_ticks }).is_ok()
    }

    fn scanned(&self) -> &Scanned {
        self.fds.get_or_init(|| {
            let (scan, start_ticks) = sys::scan_fds();
            Scanned { scan, start_ticks }
        })
    }
}

/// One process's descriptors as the scan saw them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessFds {
    /// Process name (comm), encoded with [`crate::text::lossless_utf8`].
    pub name: String,
    /// Number of open descriptors; `None` when `fd/` was unreadable.
    pub count: Option<u32>,
    /// Targets of descriptors 0, 1 and 2.
    pub std: StdFds,
    /// `(fd, socket inode)` for every socket descriptor.
    pub sockets: Vec<(u32, u64)>,
    /// Inode of the process's network namespace (`ns/net`); `None` when
    /// unreadable or on platforms without one.
    pub net_ns: Option<u64>,
}

/// The result of one pass over every process's descriptors.
#[derive(Debug, Default)]
pub struct FdScan {
    /// Per PID.
    pub processes: BTreeMap<u32, ProcessFds>,
    /// Socket inode to the processes holding it, sorted by PID and fd.
    pub socket_owners: HashMap<u64, Vec<SocketOwner>>,
    /// What could not be read: a process that vanished, an `fd/` directory
    /// we may not list.
    pub gaps: Vec<Gap>,
}

impl FdScan {
    /// Builds the owner index from `processes`.
    pub fn index_owners(&mut self) {
        self.socket_owners.clear();
        for (&pid, p) in &self.processes {
            for &(fd, inode) in &p.sockets {
                self.socket_owners
                    .entry(inode)
                    .or_default()
                    .push(SocketOwner {
                        pid,
                        name: p.name.clone(),
                        fd,
                    });
            }
        }
        for owners in self.socket_owners.values_mut() {
            owners.sort();
        }
    }
}

impl FdScan {
    /// Each distinct network namespace, with the lowest PID that lives in
    /// it (a member whose `ns/net` can be entered or whose `net/` files can
    /// be read).
    pub fn network_namespaces(&self) -> BTreeMap<u64, u32> {
        let mut out = BTreeMap::new();
        for (&pid, p) in &self.processes {
            if let Some(ns) = p.net_ns {
                out.entry(ns).or_insert(pid);
            }
        }
        out
    }
}

/// Parses a namespace link target such as `net:[4026531840]` into the
/// inode, given the expected kind (`net`, `pid`, `mnt`, `user`).
pub fn namespace_inode(link: &[u8], kind: &str) -> Option<u64> {
    let inner = link
        .strip_prefix(kind.as_bytes())?
        .strip_prefix(b":[")?
        .strip_suffix(b"]")?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// Parses a descriptor link target `socket:[12345]` into the inode.
pub fn socket_inode(link: &[u8]) -> Option<u64> {
    let inner = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_links() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"socket:[x]"), None);
        assert_eq!(socket_inode(b"/tmp/socket:[1]"), None);
    }

    #[test]
    fn namespace_links() {
        assert_eq!(
            namespace_inode(b"net:[4026531840]", "net"),
            Some(4026531840)
        );
        assert_eq!(namespace_inode(b"pid:[4026531840]", "net"), None);
        assert_eq!(namespace_inode(b"net:[]", "net"), None);
    }

    #[test]
    fn a_provided_scan_is_kept_and_a_second_refused() {
        let shared = SharedScans::default();
        assert!(shared.fd_scan_if_done().is_none());
        let mut scan = FdScan::default();
        scan.processes.insert(7, ProcessFds::default());
        assert!(shared.provide_fd_scan(scan, BTreeMap::from([(7, 99)])));
        assert!(!shared.provide_fd_scan(FdScan::default(), BTreeMap::new()));
        assert!(shared.fd_scan().processes.contains_key(&7));
        assert_eq!(shared.fd_scan_start_ticks()[&7], 99);
    }

    #[test]
    fn owners_are_indexed_by_inode() {
        let mut scan = FdScan::default();
        let p = |name: &str, sockets| ProcessFds {
            name: name.into(),
            count: Some(3),
            std: StdFds::default(),
            sockets,
            net_ns: Some(1),
        };
        scan.processes.insert(20, p("b", vec![(4, 7)]));
        scan.processes.insert(10, p("a", vec![(3, 7), (5, 9)]));
        scan.index_owners();
        let owners = &scan.socket_owners[&7];
        assert_eq!(
            owners.iter().map(|o| o.pid).collect::<Vec<_>>(),
            vec![10, 20]
        );
        assert_eq!(scan.socket_owners[&9][0].fd, 5);
    }
}
