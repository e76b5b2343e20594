//! The primary source of sockets: netlink sock_diag, asked for every
//! socket of a table in the calling thread's network namespace.
//!
//! - inet_diag (TCP, UDP, raw; IPv4 and IPv6) with every state bit set, so
//!   listeners, connections, TIME_WAIT and SYN_RECV entries and, on
//!   kernels that dump them, bound-only TCP sockets all come back.
//! - Raw sockets: the request's protocol must be `IPPROTO_RAW` (255) to
//!   reach the raw_diag handler; its dump then walks every raw socket of
//!   the family whatever its protocol (the `sdiag_raw_protocol` byte only
//!   narrows single-socket lookups), and each answer names the socket's
//!   protocol in `INET_DIAG_PROTOCOL` (or in the source "port", which for
//!   raw sockets is the protocol). Kernels built without
//!   `CONFIG_INET_RAW_DIAG` answer `ENOENT`: the table then comes from
//!   procfs alone, which the caller records.
//! - unix_diag with `UDIAG_SHOW_NAME | VFS | PEER | RQLEN | UID`.
//!
//! Limitation: UDP-Lite, SCTP, MPTCP, packet and netlink sockets are not
//! read.

use std::io;

use netlink_packet_core::Nla as _;
use netlink_packet_sock_diag::constants::{
    AF_INET, AF_INET6, IPPROTO_RAW, IPPROTO_TCP, IPPROTO_UDP,
};
use netlink_packet_sock_diag::inet::{self, ExtensionFlags, InetRequest, SocketId};
use netlink_packet_sock_diag::unix::nlas::UnixDiagName;
use netlink_packet_sock_diag::unix::{self, ShowFlags, UnixRequest};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::protocols::NETLINK_SOCK_DIAG;

use super::merge::{inet_state, unix_kind, Addr, Seen, Table};
use super::netlink_dump::{DumpError, Netlink};

/// `UNIX_DIAG_UID`: the socket owner's uid (Linux 5.3+), not described by
/// the crate, so asked for by number and read from the raw attribute.
const UNIX_DIAG_UID: u16 = 7;
const UDIAG_SHOW_UID: u32 = 1 << 6;

/// The result of dumping one table.
#[derive(Debug, Default)]
pub struct TableDump {
    /// The sockets.
    pub sockets: Vec<Seen>,
    /// Problems that lost part of the answer (undecodable messages, an
    /// interrupted dump).
    pub problems: Vec<String>,
}

/// A sock_diag socket in the current thread's network namespace.
pub struct SockDiag {
    netlink: Netlink,
}

impl SockDiag {
    /// Opens it.
    ///
    /// # Errors
    ///
    /// The netlink socket could not be created.
    pub fn open() -> io::Result<Self> {
        Ok(SockDiag {
            netlink: Netlink::open(NETLINK_SOCK_DIAG)?,
        })
    }

    /// Every socket of `table`.
    ///
    /// # Errors
    ///
    /// [`DumpError`] when the kernel refused or the answer broke off.
    pub fn dump(&mut self, table: Table) -> Result<TableDump, DumpError> {
        let mut out = TableDump::default();
        let request = match table {
            Table::Unix => SockDiagMessage::UnixRequest(UnixRequest {
                state_flags: unix::StateFlags::from_bits_retain(u32::MAX),
                inode: 0,
                show_flags: ShowFlags::NAME
                    | ShowFlags::VFS
                    | ShowFlags::PEER
                    | ShowFlags::RQLEN
                    | ShowFlags::from_bits_retain(UDIAG_SHOW_UID),
                cookie: [0xff; 8],
            }),
            _ => {
                let (family, protocol, id) = match table {
                    Table::Tcp4 => (AF_INET, IPPROTO_TCP, SocketId::new_v4()),
                    Table::Tcp6 => (AF_INET6, IPPROTO_TCP, SocketId::new_v6()),
                    Table::Udp4 => (AF_INET, IPPROTO_UDP, SocketId::new_v4()),
                    Table::Udp6 => (AF_INET6, IPPROTO_UDP, SocketId::new_v6()),
                    Table::Raw4 => (AF_INET, IPPROTO_RAW, SocketId::new_v4()),
                    _ => (AF_INET6, IPPROTO_RAW, SocketId::new_v6()),
                };
                SockDiagMessage::InetRequest(InetRequest {
                    family,
                    protocol,
                    extensions: ExtensionFlags::empty(),
                    states: inet::StateFlags::from_bits_retain(u32::MAX),
                    socket_id: id,
                })
            }
        };
        let end = self.netlink.dump(request, |msg| match msg {
            SockDiagMessage::InetResponse(r) => out.sockets.push(inet_seen(table, &r)),
            SockDiagMessage::UnixResponse(r) => out.sockets.push(unix_seen(&r)),
            other => out.problems.push(format!("unexpected message {other:?}")),
        })?;
        if end.interrupted {
            out.problems
                .push("the kernel marked the dump interrupted: entries may be missing".into());
        }
        for reason in end.undecodable {
            out.problems
                .push(format!("a socket message could not be decoded: {reason}"));
        }
        Ok(out)
    }
}

fn inet_seen(table: Table, r: &inet::InetResponse) -> Seen {
    let h = &r.header;
    let id = &h.socket_id;
    let raw = matches!(table, Table::Raw4 | Table::Raw6);
    let connected = !(id.destination_address.is_unspecified() && id.destination_port == 0);
    let protocol = r.nlas.iter().find_map(|n| match n {
        inet::nlas::Nla::Protocol(p) => Some(u16::from(*p)),
        _ => None,
    });
    Seen {
        table,
        local_addr: Some(Addr::Ip(id.source_address)),
        local_port: (!raw).then_some(id.source_port),
        remote_addr: connected.then_some(id.destination_address),
        remote_port: (connected && !raw).then_some(id.destination_port),
        state: inet_state(table, h.state),
        inode: u64::from(h.inode),
        uid: Some(h.uid),
        recv_queue: Some(u64::from(h.recv_queue)),
        send_queue: Some(u64::from(h.send_queue)),
        kind: raw.then(|| protocol.unwrap_or(id.source_port).to_string()),
        peer_inode: None,
    }
}

fn unix_seen(r: &unix::UnixResponse) -> Seen {
    let name = r.name().map(|n| match n {
        UnixDiagName::Pathname(p) => {
            use std::os::unix::ffi::OsStrExt;
            p.as_bytes().to_vec()
        }
        UnixDiagName::Abstract(a) => {
            // Shown as procfs and ss do: `@` for the leading NUL and for
            // every NUL inside the name.
            let mut v = Vec::with_capacity(a.len() + 1);
            v.push(b'@');
            v.extend(a.iter().map(|&b| if b == 0 { b'@' } else { b }));
            v
        }
    });
    let mut uid = None;
    let mut queues = None;
    for nla in &r.nlas {
        match nla {
            unix::nlas::Nla::ReceiveQueueLength(rq, wq) => queues = Some((*rq, *wq)),
            unix::nlas::Nla::Other(o) if o.kind() == UNIX_DIAG_UID && o.value_len() == 4 => {
                let mut b = [0u8; 4];
                o.emit_value(&mut b);
                uid = Some(u32::from_ne_bytes(b));
            }
            _ => {}
        }
    }
    Seen {
        table: Table::Unix,
        local_addr: name.map(Addr::Name),
        local_port: None,
        remote_addr: None,
        remote_port: None,
        state: inet_state(Table::Unix, r.header.state),
        inode: u64::from(r.header.inode),
        uid,
        recv_queue: queues.map(|q| u64::from(q.0)),
        send_queue: queues.map(|q| u64::from(q.1)),
        kind: Some(unix_kind(u16::from(r.header.kind))),
        peer_inode: r.peer().map(u64::from),
    }
}
