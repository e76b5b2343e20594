//! Linux `sockets` collector: every TCP, UDP, raw and unix socket, in every
//! network namespace, from two sources, with the processes that hold it.
//!
//! Order of work, most volatile first:
//! 1. find every network namespace (`netns::discover`);
//! 2. in each, read each table from netlink sock_diag and then from
//!    `/proc/thread-self/net/*`, reconciling the two (`merge::reconcile`);
//! 3. take the shared descriptor scan (`ctx.shared.fd_scan()`), which maps
//!    socket inodes to `(pid, name, fd)`; socket inodes are unique on the
//!    kernel, so one map serves every namespace;
//! 4. read namespaces that appeared meanwhile (their sockets were read
//!    after the scan, so their owner lists are not called complete);
//! 5. for sockets nobody holds (listeners, bound UDP), read their table
//!    again: one that is still there existed during the whole scan, so
//!    nobody held it; that is what `owners_complete` records.
//!
//! Without root, sock_diag still lists every socket, but other users'
//! descriptors are unreadable: owners are known only for our own
//! processes, one aggregate gap says how many processes were not read,
//! and no owner list is called complete.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::merge::{reconcile, Merged, Reread, Seen, Table};
use super::netns::{self, NetNs};
use super::procfs;
use super::sock_diag::SockDiag;
use crate::collector::{CollectError, Context, Output};
use crate::records::collection::Gap;
use crate::records::network::{SocketRecord, FILE};
use crate::shared::FdScan;
use crate::text::lossless_utf8;

/// At most this many unparsable lines of one file are named one by one.
const BAD_LINES_SHOWN: usize = 5;

/// The sockets of one namespace as read.
struct NsSockets {
    inode: u64,
    sockets: Vec<Merged>,
    gaps: Vec<Gap>,
    /// Read before the descriptor scan (owner lists can be complete).
    before_scan: bool,
}

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let mut gaps = Vec::new();
    let mut spaces = netns::discover(&mut gaps);
    for g in gaps {
        out.gap(g.what, g.cause);
    }
    let mut read: Vec<NsSockets> = Vec::new();
    for ns in spaces.values() {
        if ctx.expired() {
            out.gap(
                format!("net:[{}] and later namespaces", ns.inode),
                "deadline passed",
            );
            out.mark_timed_out();
            break;
        }
        read.push(read_namespace(ns, true));
    }
    if read.iter().all(|r| r.sockets.is_empty()) && !read.is_empty() {
        let causes: Vec<String> = read
            .iter()
            .flat_map(|r| r.gaps.iter().map(|g| format!("{}: {}", g.what, g.cause)))
            .collect();
        if !causes.is_empty() {
            return Err(CollectError::Other(causes.join("; ")));
        }
    }

    let scan = ctx.shared.fd_scan();
    let complete_scan = scan_is_complete(scan, out);
    for inode in netns::add_from_scan(&mut spaces, scan) {
        if ctx.expired() {
            out.gap(format!("net:[{inode}]"), "deadline passed");
            out.mark_timed_out();
            continue;
        }
        log::debug!("net:[{inode}] appeared during the descriptor scan");
        read.push(read_namespace(&spaces[&inode], false));
    }

    for ns in &mut read {
        let still_there = if complete_scan && ns.before_scan && !ctx.expired() {
            recheck_unowned(&spaces[&ns.inode], &ns.sockets, scan)
        } else {
            HashSet::new()
        };
        for g in ns.gaps.drain(..) {
            out.gap(g.what, g.cause);
        }
        for r in records(ns, scan, complete_scan, &still_there) {
            out.record(FILE, &r);
        }
    }
    Ok(())
}

/// Reads every table of one namespace, entering it if it is not ours.
fn read_namespace(ns: &NetNs, before_scan: bool) -> NsSockets {
    let mut gaps = Vec::new();
    let sockets = match netns::run_inside(ns, || read_tables(Path::new("/proc/thread-self/net"))) {
        Ok((sockets, g)) => {
            gaps.extend(g);
            sockets
        }
        Err(cause) => {
            gaps.push(Gap {
                what: format!("net:[{}] netlink", ns.inode),
                cause: format!("namespace not entered: {cause}"),
            });
            // The procfs source does not need to enter: a member's
            // /proc/<pid>/net shows its namespace.
            match ns.members.first() {
                Some(pid) => {
                    let dir = PathBuf::from(format!("/proc/{pid}/net"));
                    let (sockets, g) = read_procfs_only(&dir, ns.inode);
                    gaps.extend(g);
                    sockets
                }
                None => Vec::new(),
            }
        }
    };
    let mut gaps: Vec<Gap> = gaps;
    for g in &mut gaps {
        if !g.what.starts_with("net:[") {
            g.what = format!("net:[{}] {}", ns.inode, g.what);
        }
    }
    NsSockets {
        inode: ns.inode,
        sockets,
        gaps,
        before_scan,
    }
}

/// Both sources, table by table, in the current thread's namespace.
fn read_tables(procfs_dir: &Path) -> (Vec<Merged>, Vec<Gap>) {
    let mut gaps = Vec::new();
    let mut diag = match SockDiag::open() {
        Ok(d) => Some(d),
        Err(e) => {
            gaps.push(Gap {
                what: "netlink sock_diag".into(),
                cause: e.to_string(),
            });
            None
        }
    };
    let mut sockets = Vec::new();
    for table in Table::ALL {
        let first_netlink = diag
            .as_mut()
            .and_then(|d| netlink_table(d, table, &mut gaps));
        let first_procfs = procfs_table(procfs_dir, table, &mut gaps);
        let mut reread = Again {
            diag: diag.as_mut(),
            procfs_dir,
        };
        sockets.extend(reconcile(table, first_netlink, first_procfs, &mut reread));
    }
    (sockets, gaps)
}

fn read_procfs_only(dir: &Path, inode: u64) -> (Vec<Merged>, Vec<Gap>) {
    let mut gaps = Vec::new();
    let mut sockets = Vec::new();
    for table in Table::ALL {
        let seen = procfs_table(dir, table, &mut gaps);
        let mut none = Again {
            diag: None,
            procfs_dir: dir,
        };
        sockets.extend(reconcile(table, None, seen, &mut none));
    }
    log::debug!("net:[{inode}]: {} sockets from procfs alone", sockets.len());
    (sockets, gaps)
}

/// The second reads `reconcile` asks for. Their problems are not gaps:
/// the first reads already stand, and a failed re-read only means a
/// difference stays unexplained.
struct Again<'a> {
    diag: Option<&'a mut SockDiag>,
    procfs_dir: &'a Path,
}

impl Reread for Again<'_> {
    fn netlink(&mut self, table: Table) -> Option<Vec<Seen>> {
        let mut ignored = Vec::new();
        netlink_table(self.diag.as_deref_mut()?, table, &mut ignored)
    }

    fn procfs(&mut self, table: Table) -> Option<Vec<Seen>> {
        let mut ignored = Vec::new();
        procfs_table(self.procfs_dir, table, &mut ignored)
    }
}

fn netlink_table(diag: &mut SockDiag, table: Table, gaps: &mut Vec<Gap>) -> Option<Vec<Seen>> {
    let what = || format!("netlink sock_diag {}", table.procfs_name());
    match diag.dump(table) {
        Ok(dump) => {
            for p in dump.problems {
                gaps.push(Gap {
                    what: what(),
                    cause: p,
                });
            }
            Some(dump.sockets)
        }
        Err(e) => {
            gaps.push(Gap {
                what: what(),
                cause: format!("{e} (this table comes from procfs alone)"),
            });
            None
        }
    }
}

fn procfs_table(dir: &Path, table: Table, gaps: &mut Vec<Gap>) -> Option<Vec<Seen>> {
    let path = dir.join(table.procfs_name());
    let shown = format!("/proc/net/{}", table.procfs_name());
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => {
            gaps.push(Gap {
                what: shown,
                cause: e.to_string(),
            });
            return None;
        }
    };
    let (seen, bad): (Vec<Seen>, Vec<procfs::BadLine>) = match table {
        Table::Unix => {
            let (lines, bad) = procfs::parse_unix(&text);
            (lines.iter().map(procfs::unix_seen).collect(), bad)
        }
        _ => {
            let ipv6 = table.family() == "ipv6";
            let (lines, bad) = procfs::parse_inet(&text, ipv6);
            (
                lines.iter().map(|l| procfs::inet_seen(table, l)).collect(),
                bad,
            )
        }
    };
    for b in bad.iter().take(BAD_LINES_SHOWN) {
        gaps.push(Gap {
            what: format!("{shown} line {}", b.line_no),
            cause: format!("does not parse ({}): {}", b.reason, b.text),
        });
    }
    if bad.len() > BAD_LINES_SHOWN {
        gaps.push(Gap {
            what: shown,
            cause: format!("{} more lines do not parse", bad.len() - BAD_LINES_SHOWN),
        });
    }
    Some(seen)
}

/// Whether every live process's descriptors were read. A process whose
/// `fd/` or descriptor links were unreadable and that is still alive makes
/// the scan partial (one that exited took its descriptors with it); one
/// gap names how many, and the first few PIDs.
fn scan_is_complete(scan: &FdScan, out: &mut Output) -> bool {
    let mut unread: Vec<u32> = scan
        .processes
        .iter()
        .filter(|(_, p)| p.count.is_none())
        .map(|(&pid, _)| pid)
        .chain(scan.gaps.iter().filter_map(|g| {
            g.what
                .strip_prefix("/proc/")?
                .strip_suffix("/fd")?
                .parse::<u32>()
                .ok()
        }))
        .filter(|pid| Path::new(&format!("/proc/{pid}")).exists())
        .collect();
    unread.sort_unstable();
    unread.dedup();
    if unread.is_empty() {
        return !scan.processes.is_empty();
    }
    let shown: Vec<String> = unread.iter().take(10).map(u32::to_string).collect();
    out.gap(
        format!("socket owners in {} processes", unread.len()),
        format!(
            "their descriptors could not be read (PIDs {}{}): sockets they hold show no owner",
            shown.join(", "),
            if unread.len() > 10 { ", ..." } else { "" }
        ),
    );
    false
}

/// Sockets a process would hold (listeners, bound UDP) that nobody held in
/// the scan.
fn unowned_candidates<'a>(sockets: &'a [Merged], scan: &FdScan) -> Vec<&'a Seen> {
    sockets
        .iter()
        .map(|m| &m.seen)
        .filter(|s| s.inode != 0 && !scan.socket_owners.contains_key(&s.inode))
        .filter(|s| {
            (s.state == "LISTEN" && s.table != Table::Unix)
                || (s.table.proto() == "udp" && s.local_port.is_some_and(|p| p != 0))
        })
        .collect()
}

/// Reads again the tables holding unowned candidates; returns the inodes
/// still there, in the same state.
fn recheck_unowned(ns: &NetNs, sockets: &[Merged], scan: &FdScan) -> HashSet<u64> {
    let candidates = unowned_candidates(sockets, scan);
    if candidates.is_empty() {
        return HashSet::new();
    }
    let tables: HashSet<Table> = candidates.iter().map(|s| s.table).collect();
    let wanted: HashMap<u64, &'static str> =
        candidates.iter().map(|s| (s.inode, s.state)).collect();
    let again = netns::run_inside(ns, || {
        let mut found = Vec::new();
        let mut diag = SockDiag::open().ok();
        let dir = Path::new("/proc/thread-self/net");
        let mut ignored = Vec::new();
        for &t in &tables {
            let seen = match diag
                .as_mut()
                .and_then(|d| netlink_table(d, t, &mut ignored))
            {
                Some(s) => Some(s),
                None => procfs_table(dir, t, &mut ignored),
            };
            found.extend(seen.unwrap_or_default());
        }
        found
    });
    match again {
        Ok(found) => found
            .into_iter()
            .filter(|s| wanted.get(&s.inode) == Some(&s.state))
            .map(|s| s.inode)
            .collect(),
        Err(cause) => {
            log::debug!("net:[{}]: unowned sockets not re-read: {cause}", ns.inode);
            HashSet::new()
        }
    }
}

fn records(
    ns: &NsSockets,
    scan: &FdScan,
    complete_scan: bool,
    still_there: &HashSet<u64>,
) -> Vec<SocketRecord> {
    // Unix sockets name their peer by inode: show the peer's bound name.
    let names: BTreeMap<u64, &[u8]> = ns
        .sockets
        .iter()
        .filter(|m| m.seen.table == Table::Unix)
        .filter_map(|m| Some((m.seen.inode, m.seen.local_addr.as_deref()?)))
        .collect();
    ns.sockets
        .iter()
        .map(|m| {
            let s = &m.seen;
            let owners = if s.inode == 0 {
                Vec::new()
            } else {
                scan.socket_owners
                    .get(&s.inode)
                    .cloned()
                    .unwrap_or_default()
            };
            let owners_complete = complete_scan
                && ns.before_scan
                && (!owners.is_empty() || still_there.contains(&s.inode));
            let remote = match (&s.remote_addr, s.peer_inode) {
                (Some(a), _) => Some(a.as_slice()),
                (None, Some(peer)) => names.get(&peer).copied(),
                (None, None) => None,
            };
            SocketRecord {
                proto: s.table.proto().into(),
                family: s.table.family().into(),
                local_addr: s.local_addr.as_deref().map(text),
                local_port: s.local_port,
                remote_addr: remote.map(text),
                remote_port: s.remote_port,
                state: s.state.into(),
                inode: (s.inode != 0).then_some(s.inode),
                uid: s.uid,
                netns: Some(ns.inode),
                owners,
                sources: m.sources.iter().map(|&x| x.into()).collect(),
                recv_queue: s.recv_queue,
                send_queue: s.send_queue,
                kind: s.kind.clone(),
                peer_inode: s.peer_inode,
                unseen_by: m.unseen_by.iter().map(|&x| x.into()).collect(),
                owners_complete,
            }
        })
        .collect()
}

fn text(bytes: &[u8]) -> String {
    lossless_utf8(bytes).into_owned()
}
