//! Linux `sockets` collector: every TCP, UDP, raw and unix socket, in every
//! network namespace, from two sources, with the processes that hold it.
//!
//! Order of work, most volatile first:
//! 1. find every network namespace (`netns::discover`) and enter each once
//!    to open its sources (`handles`: a sock_diag socket and the
//!    `/proc/thread-self/net/*` files keep their namespace afterwards);
//! 2. dump every table of every namespace over netlink;
//! 3. start the shared descriptor scan (`ctx.shared.fd_scan()`, mapping
//!    socket inodes to `(pid, name, fd)`) on a second thread, and meanwhile
//!    read the procfs tables and reconcile them with the netlink dumps
//!    (`merge::reconcile`); socket inodes are unique on the kernel, so one
//!    owner map serves every namespace;
//! 4. read namespaces that appeared meanwhile (their owner lists are not
//!    called complete);
//! 5. dump again the tables holding sockets nobody held (listeners, bound
//!    UDP) that netlink had shown before the scan began: one still there
//!    existed during the whole scan, so nobody held it. That is what
//!    `owners_complete` records.
//!
//! Without root, sock_diag still lists every socket, but other users'
//! descriptors are unreadable: owners are known only for our own
//! processes, one aggregate gap says how many processes were not read,
//! and no owner list is called complete.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::handles::NsHandles;
use super::merge::{reconcile, Addr, Merged, Seen, Table};
use super::netns::{self, NetNs};
use crate::collector::{CollectError, Context, Output};
use crate::records::collection::Gap;
use crate::records::network::{SocketRecord, FILE};
use crate::shared::FdScan;
use crate::text::lossless_utf8;

/// One namespace being read.
struct NsRead {
    inode: u64,
    handles: NsHandles,
    /// The first netlink dump of each table (`None`: netlink unavailable).
    first_netlink: Vec<(Table, Option<Vec<Seen>>)>,
    /// Inodes netlink listed before the descriptor scan began.
    before_scan: HashSet<u64>,
    sockets: Vec<Merged>,
    gaps: Vec<Gap>,
}

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let clock = std::time::Instant::now();
    let mut gaps = Vec::new();
    let mut spaces = netns::discover(&mut gaps);
    for g in gaps {
        out.gap(g.what, g.cause);
    }
    let mut reads: Vec<NsRead> = Vec::new();
    for ns in spaces.values() {
        if ctx.expired() {
            out.gap(
                format!("net:[{}] and later namespaces", ns.inode),
                "deadline passed",
            );
            out.mark_timed_out();
            break;
        }
        let mut r = open_namespace(ns);
        dump_netlink(&mut r, true);
        reads.push(r);
    }

    log::debug!("sockets: netlink dumps done at {:?}", clock.elapsed());
    let scan = std::thread::scope(|s| {
        let scanning = s.spawn(|| ctx.shared.fd_scan());
        for r in &mut reads {
            read_procfs_and_reconcile(r);
        }
        log::debug!(
            "sockets: procfs read and reconciled at {:?}",
            clock.elapsed()
        );
        scanning.join()
    });
    let scan = match scan {
        Ok(scan) => scan,
        Err(_) => {
            out.gap("socket owners", "the descriptor scan panicked");
            for r in reads {
                write(out, r, &FdScan::default(), false, &HashSet::new());
            }
            return Ok(());
        }
    };
    log::debug!("sockets: descriptor scan joined at {:?}", clock.elapsed());
    let complete_scan = scan_is_complete(scan, out);

    for inode in netns::add_from_scan(&mut spaces, scan) {
        if ctx.expired() {
            out.gap(format!("net:[{inode}]"), "deadline passed");
            out.mark_timed_out();
            continue;
        }
        log::debug!("net:[{inode}] appeared during the descriptor scan");
        let mut r = open_namespace(&spaces[&inode]);
        dump_netlink(&mut r, false);
        read_procfs_and_reconcile(&mut r);
        reads.push(r);
    }

    if reads.iter().all(|r| r.sockets.is_empty()) && !reads.is_empty() {
        let causes: Vec<String> = reads
            .iter()
            .flat_map(|r| r.gaps.iter().map(|g| format!("{}: {}", g.what, g.cause)))
            .collect();
        if !causes.is_empty() {
            return Err(CollectError::Other(causes.join("; ")));
        }
    }
    for mut r in reads {
        let still_there = if complete_scan && !ctx.expired() {
            recheck_unowned(&mut r, scan)
        } else {
            HashSet::new()
        };
        write(out, r, scan, complete_scan, &still_there);
    }
    log::debug!("sockets: records written at {:?}", clock.elapsed());
    Ok(())
}

/// Enters `ns` (unless it is ours) to open its sources. If it cannot be
/// entered, procfs is still read through a member's `/proc/<pid>/net`.
fn open_namespace(ns: &NetNs) -> NsRead {
    let mut gaps = Vec::new();
    let opened = netns::run_inside(ns, || {
        let mut g = Vec::new();
        let h = NsHandles::open(Path::new("/proc/thread-self/net"), true, &mut g);
        (h, g)
    });
    let handles = match opened {
        Ok((h, g)) => {
            gaps.extend(g);
            h
        }
        Err(cause) => {
            gaps.push(Gap {
                what: "netlink".into(),
                cause: format!("namespace not entered: {cause}"),
            });
            let dir = match ns.members.first() {
                Some(pid) => PathBuf::from(format!("/proc/{pid}/net")),
                None => PathBuf::from("/nonexistent: no member process"),
            };
            NsHandles::open(&dir, false, &mut gaps)
        }
    };
    NsRead {
        inode: ns.inode,
        handles,
        first_netlink: Vec::new(),
        before_scan: HashSet::new(),
        sockets: Vec::new(),
        gaps,
    }
}

fn dump_netlink(r: &mut NsRead, before_scan: bool) {
    for table in Table::ALL {
        let dump = r.handles.netlink(table, &mut r.gaps);
        if before_scan {
            if let Some(d) = &dump {
                r.before_scan
                    .extend(d.iter().map(|s| s.inode).filter(|&i| i != 0));
            }
        }
        r.first_netlink.push((table, dump));
    }
}

fn read_procfs_and_reconcile(r: &mut NsRead) {
    for (table, first_netlink) in std::mem::take(&mut r.first_netlink) {
        let first_procfs = r.handles.procfs(table, &mut r.gaps);
        r.sockets.extend(reconcile(
            table,
            first_netlink,
            first_procfs,
            &mut r.handles,
        ));
    }
}

fn write(
    out: &mut Output,
    mut r: NsRead,
    scan: &FdScan,
    complete_scan: bool,
    still_there: &HashSet<u64>,
) {
    for g in r.gaps.drain(..) {
        out.gap(format!("net:[{}] {}", r.inode, g.what), g.cause);
    }
    for rec in records(&r, scan, complete_scan, still_there) {
        out.record(FILE, &rec);
    }
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

/// Dumps again the tables holding unowned candidates that netlink showed
/// before the scan; returns the inodes still there, in the same state.
fn recheck_unowned(r: &mut NsRead, scan: &FdScan) -> HashSet<u64> {
    let candidates: Vec<&Seen> = unowned_candidates(&r.sockets, scan)
        .into_iter()
        .filter(|s| r.before_scan.contains(&s.inode))
        .collect();
    if candidates.is_empty() {
        return HashSet::new();
    }
    let tables: HashSet<Table> = candidates.iter().map(|s| s.table).collect();
    let wanted: HashMap<u64, &'static str> =
        candidates.iter().map(|s| (s.inode, s.state)).collect();
    let mut found = HashSet::new();
    for t in tables {
        for s in r.handles.netlink(t, &mut Vec::new()).unwrap_or_default() {
            if wanted.get(&s.inode) == Some(&s.state) {
                found.insert(s.inode);
            }
        }
    }
    log::debug!(
        "net:[{}]: {} of {} unowned sockets outlived the scan",
        r.inode,
        found.len(),
        wanted.len()
    );
    found
}

fn records(
    ns: &NsRead,
    scan: &FdScan,
    complete_scan: bool,
    still_there: &HashSet<u64>,
) -> Vec<SocketRecord> {
    // Unix sockets name their peer by inode: show the peer's bound name.
    let names: BTreeMap<u64, &Addr> = ns
        .sockets
        .iter()
        .filter(|m| m.seen.table == Table::Unix)
        .filter_map(|m| Some((m.seen.inode, m.seen.local_addr.as_ref()?)))
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
            let owners_complete =
                complete_scan && (!owners.is_empty() || still_there.contains(&s.inode));
            let remote = match (&s.remote_addr, s.peer_inode) {
                (Some(ip), _) => Some(ip.to_string()),
                (None, Some(peer)) => names.get(&peer).map(|a| text(&a.to_bytes())),
                (None, None) => None,
            };
            SocketRecord {
                proto: s.table.proto().into(),
                family: s.table.family().into(),
                local_addr: s.local_addr.as_ref().map(|a| match a {
                    Addr::Ip(ip) => ip.to_string(),
                    Addr::Name(n) => text(n),
                }),
                local_port: s.local_port,
                remote_addr: remote,
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
