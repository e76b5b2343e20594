//! One socket table as two sources saw it, reconciled into records.
//!
//! Netlink sock_diag and `/proc/net/*` are read one after the other, so a
//! socket opened or closed between the two reads is in one and not the
//! other without anything being hidden. [`reconcile`] therefore compares
//! by key (the inode, or the address 4-tuple for inode-0 TIME_WAIT and
//! SYN_RECV entries) and re-reads only the tables that disagree:
//!
//! 1. `A` = netlink, then `B` = procfs (the first reads);
//! 2. if they differ: `C` = netlink again, then `D` = procfs again.
//!
//! A socket in `A` and `C` in the same state existed during the whole of
//! `B` (a socket cannot come back with the same inode once closed): if `B`
//! lacks it, procfs did not show a socket that was there, and the record
//! says `unseen_by: ["procfs"]`. Symmetrically a socket in `B` and `D` in
//! the same state and missing from `C` (read in between) was hidden from
//! netlink. Anything else that differs is an ordinary race: the record
//! lists the sources that saw it and nothing more.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// The seven socket tables, each readable from both sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// TCP over IPv4.
    Tcp4,
    /// TCP over IPv6.
    Tcp6,
    /// UDP over IPv4.
    Udp4,
    /// UDP over IPv6.
    Udp6,
    /// Raw IPv4.
    Raw4,
    /// Raw IPv6.
    Raw6,
    /// Unix domain.
    Unix,
}

impl Table {
    /// Every table, in the order they are read.
    pub const ALL: [Table; 7] = [
        Table::Tcp4,
        Table::Tcp6,
        Table::Udp4,
        Table::Udp6,
        Table::Raw4,
        Table::Raw6,
        Table::Unix,
    ];

    /// `tcp`, `udp`, `raw` or `unix`.
    pub fn proto(self) -> &'static str {
        match self {
            Table::Tcp4 | Table::Tcp6 => "tcp",
            Table::Udp4 | Table::Udp6 => "udp",
            Table::Raw4 | Table::Raw6 => "raw",
            Table::Unix => "unix",
        }
    }

    /// `ipv4`, `ipv6` or `unix`.
    pub fn family(self) -> &'static str {
        match self {
            Table::Tcp4 | Table::Udp4 | Table::Raw4 => "ipv4",
            Table::Tcp6 | Table::Udp6 | Table::Raw6 => "ipv6",
            Table::Unix => "unix",
        }
    }

    /// The file name under `/proc/net`.
    pub fn procfs_name(self) -> &'static str {
        match self {
            Table::Tcp4 => "tcp",
            Table::Tcp6 => "tcp6",
            Table::Udp4 => "udp",
            Table::Udp6 => "udp6",
            Table::Raw4 => "raw",
            Table::Raw6 => "raw6",
            Table::Unix => "unix",
        }
    }
}

/// The source names used in records.
pub const NETLINK: &str = "netlink";
/// See [`NETLINK`].
pub const PROCFS: &str = "procfs";

/// A socket address: an IP address (formatted only when written), or a
/// unix socket's name as raw bytes (a path, or `@name` when abstract).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Addr {
    /// IPv4 or IPv6.
    Ip(IpAddr),
    /// A unix socket name.
    Name(Vec<u8>),
}

impl Addr {
    /// The address as bytes of text.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Addr::Ip(ip) => ip.to_string().into_bytes(),
            Addr::Name(n) => n.clone(),
        }
    }
}

/// One socket as one source saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The table it came from.
    pub table: Table,
    /// Local address; for unix sockets the path or `@name`.
    pub local_addr: Option<Addr>,
    /// Local port (none for unix and raw sockets).
    pub local_port: Option<u16>,
    /// Remote address (none for unix sockets: see `peer_inode`).
    pub remote_addr: Option<IpAddr>,
    /// Remote port.
    pub remote_port: Option<u16>,
    /// State name (`ESTABLISHED`, `LISTEN`, `UNCONN`, ...).
    pub state: &'static str,
    /// Socket inode (0 for TIME_WAIT and SYN_RECV entries).
    pub inode: u64,
    /// Owner uid.
    pub uid: Option<u32>,
    /// Receive queue.
    pub recv_queue: Option<u64>,
    /// Send queue.
    pub send_queue: Option<u64>,
    /// `stream`/`dgram`/`seqpacket` for unix, the protocol number for raw.
    pub kind: Option<String>,
    /// Connected peer's inode (unix).
    pub peer_inode: Option<u64>,
}

/// What identifies a socket across reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A socket with an inode.
    Inode(Table, u64),
    /// An inode-0 mini-socket (TIME_WAIT, SYN_RECV), by its addresses.
    Tuple(
        Table,
        Option<IpAddr>,
        Option<u16>,
        Option<IpAddr>,
        Option<u16>,
    ),
}

impl Seen {
    /// Its key: the inode when it has one, else the 4-tuple.
    pub fn key(&self) -> Key {
        if self.inode != 0 {
            Key::Inode(self.table, self.inode)
        } else {
            let local = match &self.local_addr {
                Some(Addr::Ip(ip)) => Some(*ip),
                _ => None,
            };
            Key::Tuple(
                self.table,
                local,
                self.local_port,
                self.remote_addr,
                self.remote_port,
            )
        }
    }
}

/// A reconciled socket: the best view of it, who saw it, who should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The socket (netlink's view where both saw it: it is exact where
    /// procfs is lossy, e.g. unix names).
    pub seen: Seen,
    /// Sources that listed it.
    pub sources: Vec<&'static str>,
    /// Sources read while it provably existed that did not list it.
    pub unseen_by: Vec<&'static str>,
}

/// Second reads of one table, asked for only when the first reads differ.
pub trait Reread {
    /// Netlink again; `None` if the source failed this time.
    fn netlink(&mut self, table: Table) -> Option<Vec<Seen>>;
    /// Procfs again.
    fn procfs(&mut self, table: Table) -> Option<Vec<Seen>>;
}

/// TCP state name from the kernel's `TCP_*` number (12, the request-socket
/// state `TCP_NEW_SYN_RECV`, is shown as `SYN_RECV`). UDP and raw sockets
/// use the same numbers: `CLOSE` means unconnected, shown as `UNCONN`.
pub fn inet_state(table: Table, state: u8) -> &'static str {
    let connectionless = !matches!(table, Table::Tcp4 | Table::Tcp6);
    match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 | 12 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 if connectionless => "UNCONN",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
}

/// Unix socket type name from `SOCK_*`.
pub fn unix_kind(kind: u16) -> String {
    match kind {
        1 => "stream".into(),
        2 => "dgram".into(),
        5 => "seqpacket".into(),
        other => other.to_string(),
    }
}

/// Whether procfs is expected to list a socket netlink shows. Bound but
/// neither listening nor connected TCP sockets (`CLOSE`) are dumped by
/// recent kernels' sock_diag but live in no table `/proc/net/tcp` walks.
fn procfs_lists(seen: &Seen) -> bool {
    !(matches!(seen.table, Table::Tcp4 | Table::Tcp6) && seen.state == "CLOSE")
}

fn index(list: Vec<Seen>) -> HashMap<Key, Seen> {
    list.into_iter().map(|s| (s.key(), s)).collect()
}

/// Reconciles one table's first reads (`None`: that source could not be
/// read), re-reading through `reread` where they differ. The output is in
/// netlink's order, then procfs-only sockets in procfs order.
pub fn reconcile(
    table: Table,
    netlink: Option<Vec<Seen>>,
    procfs: Option<Vec<Seen>>,
    reread: &mut dyn Reread,
) -> Vec<Merged> {
    let only = |list: Vec<Seen>, source| {
        list.into_iter()
            .map(|seen| Merged {
                seen,
                sources: vec![source],
                unseen_by: Vec::new(),
            })
            .collect()
    };
    let (a, b) = match (netlink, procfs) {
        (None, None) => return Vec::new(),
        (Some(a), None) => return only(a, NETLINK),
        (None, Some(b)) => return only(b, PROCFS),
        (Some(a), Some(b)) => (a, b),
    };
    let a_keys: HashSet<Key> = a.iter().map(Seen::key).collect();
    let b_order: Vec<Key> = b.iter().map(Seen::key).collect();
    let mut b_index = index(b);
    let only_a = a
        .iter()
        .any(|s| procfs_lists(s) && !b_index.contains_key(&s.key()));
    let only_b: Vec<&Key> = b_order.iter().filter(|k| !a_keys.contains(k)).collect();
    let (c, d) = if only_a || !only_b.is_empty() {
        log::debug!(
            "{}: netlink and procfs differ, reading both again",
            table.procfs_name()
        );
        let c = reread.netlink(table).map(index);
        let d = if only_b.is_empty() {
            None
        } else {
            reread.procfs(table).map(index)
        };
        (c, d)
    } else {
        (None, None)
    };

    let mut out = Vec::with_capacity(a.len() + b_index.len());
    for seen in a {
        let key = seen.key();
        let mut m = Merged {
            seen,
            sources: vec![NETLINK],
            unseen_by: Vec::new(),
        };
        match b_index.remove(&key) {
            Some(p) => {
                m.sources.push(PROCFS);
                fill_from(&mut m.seen, p);
            }
            None if procfs_lists(&m.seen) => {
                let stable = c
                    .as_ref()
                    .and_then(|c| c.get(&key))
                    .is_some_and(|again| again.state == m.seen.state);
                if stable {
                    m.unseen_by.push(PROCFS);
                }
            }
            None => {}
        }
        out.push(m);
    }
    for key in only_b {
        let Some(seen) = b_index.remove(key) else {
            continue;
        };
        let key = key.clone();
        let mut m = Merged {
            seen,
            sources: vec![PROCFS],
            unseen_by: Vec::new(),
        };
        match c.as_ref().and_then(|c| c.get(&key)) {
            // Opened after the first netlink read: netlink does show it.
            Some(again) => {
                let p = std::mem::replace(&mut m.seen, again.clone());
                fill_from(&mut m.seen, p);
                m.sources.insert(0, NETLINK);
            }
            None if c.is_some() => {
                let stable = d
                    .as_ref()
                    .and_then(|d| d.get(&key))
                    .is_some_and(|again| again.state == m.seen.state);
                if stable {
                    m.unseen_by.push(NETLINK);
                }
            }
            None => {}
        }
        out.push(m);
    }
    out
}

/// Fills what netlink did not give from procfs's view of the same socket.
fn fill_from(best: &mut Seen, other: Seen) {
    if best.local_addr.is_none() {
        best.local_addr = other.local_addr;
    }
    best.uid = best.uid.or(other.uid);
    best.recv_queue = best.recv_queue.or(other.recv_queue);
    best.send_queue = best.send_queue.or(other.send_queue);
    best.kind = best.kind.take().or(other.kind);
    best.peer_inode = best.peer_inode.or(other.peer_inode);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(inode: u64, state: &'static str) -> Seen {
        Seen {
            table: Table::Tcp4,
            local_addr: Some(Addr::Ip(IpAddr::from([127, 0, 0, 1]))),
            local_port: Some(inode as u16),
            remote_addr: None,
            remote_port: None,
            state,
            inode,
            uid: Some(0),
            recv_queue: Some(0),
            send_queue: Some(0),
            kind: None,
            peer_inode: None,
        }
    }

    struct Fixed {
        netlink: Vec<Seen>,
        procfs: Vec<Seen>,
        asked: Vec<&'static str>,
    }

    impl Reread for Fixed {
        fn netlink(&mut self, _: Table) -> Option<Vec<Seen>> {
            self.asked.push(NETLINK);
            Some(self.netlink.clone())
        }
        fn procfs(&mut self, _: Table) -> Option<Vec<Seen>> {
            self.asked.push(PROCFS);
            Some(self.procfs.clone())
        }
    }

    fn fixed(netlink: Vec<Seen>, procfs: Vec<Seen>) -> Fixed {
        Fixed {
            netlink,
            procfs,
            asked: Vec::new(),
        }
    }

    #[test]
    fn agreeing_sources_need_no_second_read() {
        let mut r = fixed(vec![], vec![]);
        let a = vec![tcp(1, "LISTEN"), tcp(2, "ESTABLISHED")];
        let out = reconcile(Table::Tcp4, Some(a.clone()), Some(a), &mut r);
        assert!(r.asked.is_empty());
        assert!(out.iter().all(|m| m.sources == [NETLINK, PROCFS]));
        assert!(out.iter().all(|m| m.unseen_by.is_empty()));
    }

    #[test]
    fn a_socket_present_before_and_after_procfs_is_hidden_from_it() {
        let mut r = fixed(vec![tcp(1, "LISTEN"), tcp(9, "LISTEN")], vec![]);
        let out = reconcile(
            Table::Tcp4,
            Some(vec![tcp(1, "LISTEN"), tcp(9, "LISTEN")]),
            Some(vec![tcp(1, "LISTEN")]),
            &mut r,
        );
        assert_eq!(r.asked, [NETLINK]);
        assert_eq!(out[1].sources, [NETLINK]);
        assert_eq!(out[1].unseen_by, [PROCFS]);
        assert!(out[0].unseen_by.is_empty());
    }

    #[test]
    fn a_socket_closed_between_reads_is_not_hidden() {
        let mut r = fixed(vec![tcp(1, "LISTEN")], vec![]);
        let out = reconcile(
            Table::Tcp4,
            Some(vec![tcp(1, "LISTEN"), tcp(9, "ESTABLISHED")]),
            Some(vec![tcp(1, "LISTEN")]),
            &mut r,
        );
        assert_eq!(out[1].sources, [NETLINK]);
        assert!(out[1].unseen_by.is_empty());
    }

    #[test]
    fn a_state_change_between_reads_is_not_hidden() {
        let mut r = fixed(vec![tcp(9, "CLOSE_WAIT")], vec![]);
        let out = reconcile(
            Table::Tcp4,
            Some(vec![tcp(9, "ESTABLISHED")]),
            Some(vec![]),
            &mut r,
        );
        assert!(out[0].unseen_by.is_empty());
    }

    #[test]
    fn a_socket_opened_after_the_netlink_read_is_seen_by_both() {
        let mut r = fixed(vec![tcp(1, "LISTEN"), tcp(5, "LISTEN")], vec![]);
        let out = reconcile(
            Table::Tcp4,
            Some(vec![tcp(1, "LISTEN")]),
            Some(vec![tcp(1, "LISTEN"), tcp(5, "LISTEN")]),
            &mut r,
        );
        assert_eq!(out[1].sources, [NETLINK, PROCFS]);
        assert!(out[1].unseen_by.is_empty());
    }

    #[test]
    fn a_socket_only_procfs_keeps_showing_is_hidden_from_netlink() {
        let mut r = fixed(vec![tcp(1, "LISTEN")], vec![tcp(7, "LISTEN")]);
        let out = reconcile(
            Table::Tcp4,
            Some(vec![tcp(1, "LISTEN")]),
            Some(vec![tcp(1, "LISTEN"), tcp(7, "LISTEN")]),
            &mut r,
        );
        assert_eq!(r.asked, [NETLINK, PROCFS]);
        assert_eq!(out[1].sources, [PROCFS]);
        assert_eq!(out[1].unseen_by, [NETLINK]);
    }

    #[test]
    fn bound_only_tcp_sockets_are_not_expected_in_procfs() {
        let mut r = fixed(vec![tcp(3, "CLOSE")], vec![]);
        let out = reconcile(
            Table::Tcp4,
            Some(vec![tcp(3, "CLOSE")]),
            Some(vec![]),
            &mut r,
        );
        assert!(r.asked.is_empty());
        assert!(out[0].unseen_by.is_empty());
    }

    #[test]
    fn one_missing_source_keeps_the_other() {
        let mut r = fixed(vec![], vec![]);
        let out = reconcile(Table::Raw4, None, Some(vec![tcp(4, "UNCONN")]), &mut r);
        assert_eq!(out[0].sources, [PROCFS]);
        assert!(r.asked.is_empty());
    }

    #[test]
    fn time_wait_entries_match_by_addresses() {
        let mut tw = tcp(0, "TIME_WAIT");
        tw.remote_addr = Some(IpAddr::from([127, 0, 0, 1]));
        tw.remote_port = Some(80);
        let mut r = fixed(vec![], vec![]);
        let out = reconcile(Table::Tcp4, Some(vec![tw.clone()]), Some(vec![tw]), &mut r);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].sources, [NETLINK, PROCFS]);
    }
}
