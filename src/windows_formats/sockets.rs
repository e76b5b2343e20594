//! The tables `GetExtendedTcpTable` and `GetExtendedUdpTable` fill in, for
//! the owner-PID classes (`TCP_TABLE_OWNER_PID_ALL`, `UDP_TABLE_OWNER_PID`),
//! decoded from their bytes into [`SocketRecord`]s.
//!
//! Layouts (tcpmib.h, udpmib.h): a `DWORD dwNumEntries`, then the rows,
//! every field a `DWORD` or a byte array, so rows start at offset 4 with no
//! padding.
//!
//! | row | fields | bytes |
//! |---|---|---|
//! | `MIB_TCPROW_OWNER_PID` | state, local addr, local port, remote addr, remote port, pid | 24 |
//! | `MIB_TCP6ROW_OWNER_PID` | local addr\[16\], local scope, local port, remote addr\[16\], remote scope, remote port, state, pid | 56 |
//! | `MIB_UDPROW_OWNER_PID` | local addr, local port, pid | 12 |
//! | `MIB_UDP6ROW_OWNER_PID` | local addr\[16\], local scope, local port, pid | 28 |
//!
//! Addresses are in network byte order. A port is a `DWORD` "in network
//! byte order" of which only the lower 16 bits are used and the upper 16
//! may hold uninitialised data: in memory that is the first two bytes, big
//! endian. Other `DWORD`s are native (little-endian on every Windows
//! architecture).
//!
//! Limitation: the UDP tables have no remote endpoint, so a connected UDP
//! socket is shown as `UNCONN` without its peer; Windows keeps no
//! per-socket queue sizes or inode in these tables either.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::records::network::SocketRecord;

/// Which table a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// `GetExtendedTcpTable(AF_INET, TCP_TABLE_OWNER_PID_ALL)`.
    Tcp4,
    /// `GetExtendedTcpTable(AF_INET6, TCP_TABLE_OWNER_PID_ALL)`.
    Tcp6,
    /// `GetExtendedUdpTable(AF_INET, UDP_TABLE_OWNER_PID)`.
    Udp4,
    /// `GetExtendedUdpTable(AF_INET6, UDP_TABLE_OWNER_PID)`.
    Udp6,
}

impl TableKind {
    /// Size of one row in bytes.
    pub fn row_size(self) -> usize {
        match self {
            TableKind::Tcp4 => 24,
            TableKind::Tcp6 => 56,
            TableKind::Udp4 => 12,
            TableKind::Udp6 => 28,
        }
    }

    /// The source named in gaps: `GetExtendedTcpTable(AF_INET6)`, ...
    pub fn source(self) -> &'static str {
        match self {
            TableKind::Tcp4 => "GetExtendedTcpTable(AF_INET)",
            TableKind::Tcp6 => "GetExtendedTcpTable(AF_INET6)",
            TableKind::Udp4 => "GetExtendedUdpTable(AF_INET)",
            TableKind::Udp6 => "GetExtendedUdpTable(AF_INET6)",
        }
    }

    fn is_tcp(self) -> bool {
        matches!(self, TableKind::Tcp4 | TableKind::Tcp6)
    }
}

/// One decoded row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    /// Local address.
    pub local_addr: IpAddr,
    /// Local IPv6 scope id (0 for IPv4).
    pub local_scope: u32,
    /// Local port.
    pub local_port: u16,
    /// Remote address and port (TCP only).
    pub remote: Option<(IpAddr, u16)>,
    /// `MIB_TCP_STATE` value (TCP only).
    pub state: Option<u32>,
    /// Owning process id; 0 when the system names none.
    pub pid: u32,
}

/// Why a table buffer could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The buffer is shorter than its entry count says.
    #[error("table of {entries} rows needs {needed} bytes, buffer has {got}")]
    Truncated {
        /// Rows announced.
        entries: u32,
        /// Bytes those rows need.
        needed: usize,
        /// Bytes received.
        got: usize,
    },
}

/// Decodes a whole table buffer.
///
/// # Errors
///
/// [`TableError::Truncated`] when the buffer is shorter than its header and
/// rows require (the caller records the table as a gap rather than read
/// past the end).
pub fn parse_table(kind: TableKind, buf: &[u8]) -> Result<Vec<TableRow>, TableError> {
    let header: [u8; 4] =
        buf.get(..4)
            .and_then(|h| h.try_into().ok())
            .ok_or(TableError::Truncated {
                entries: 0,
                needed: 4,
                got: buf.len(),
            })?;
    let entries = u32::from_ne_bytes(header);
    let needed = (entries as usize)
        .checked_mul(kind.row_size())
        .and_then(|n| n.checked_add(4))
        .unwrap_or(usize::MAX);
    if buf.len() < needed {
        return Err(TableError::Truncated {
            entries,
            needed,
            got: buf.len(),
        });
    }
    Ok(buf[4..needed]
        .chunks_exact(kind.row_size())
        .map(|row| parse_row(kind, row))
        .collect())
}

fn dword(row: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([row[at], row[at + 1], row[at + 2], row[at + 3]])
}

fn port(row: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([row[at], row[at + 1]])
}

fn v4(row: &[u8], at: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        row[at],
        row[at + 1],
        row[at + 2],
        row[at + 3],
    ))
}

fn v6(row: &[u8], at: usize) -> IpAddr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&row[at..at + 16]);
    IpAddr::V6(Ipv6Addr::from(a))
}

/// `row` has exactly `kind.row_size()` bytes.
fn parse_row(kind: TableKind, row: &[u8]) -> TableRow {
    match kind {
        TableKind::Tcp4 => TableRow {
            state: Some(dword(row, 0)),
            local_addr: v4(row, 4),
            local_scope: 0,
            local_port: port(row, 8),
            remote: Some((v4(row, 12), port(row, 16))),
            pid: dword(row, 20),
        },
        TableKind::Tcp6 => TableRow {
            local_addr: v6(row, 0),
            local_scope: dword(row, 16),
            local_port: port(row, 20),
            remote: Some((v6(row, 24), port(row, 44))),
            state: Some(dword(row, 48)),
            pid: dword(row, 52),
        },
        TableKind::Udp4 => TableRow {
            local_addr: v4(row, 0),
            local_scope: 0,
            local_port: port(row, 4),
            remote: None,
            state: None,
            pid: dword(row, 8),
        },
        TableKind::Udp6 => TableRow {
            local_addr: v6(row, 0),
            local_scope: dword(row, 16),
            local_port: port(row, 20),
            remote: None,
            state: None,
            pid: dword(row, 24),
        },
    }
}

/// `MIB_TCP_STATE_LISTEN`.
pub const TCP_STATE_LISTEN: u32 = 2;

/// The bundle's name for a `MIB_TCP_STATE` value. The names follow the
/// Linux contract (`ESTABLISHED`, `SYN_RECV`, `CLOSE`, ...);
/// `MIB_TCP_STATE_DELETE_TCB` (12) has no Linux twin and keeps its Windows
/// name `DELETE_TCB`; anything else is `UNKNOWN(<n>)`.
pub fn tcp_state_name(state: u32) -> String {
    let name = match state {
        1 => "CLOSE",
        2 => "LISTEN",
        3 => "SYN_SENT",
        4 => "SYN_RECV",
        5 => "ESTABLISHED",
        6 => "FIN_WAIT1",
        7 => "FIN_WAIT2",
        8 => "CLOSE_WAIT",
        9 => "CLOSING",
        10 => "LAST_ACK",
        11 => "TIME_WAIT",
        12 => "DELETE_TCB",
        other => return format!("UNKNOWN({other})"),
    };
    name.to_owned()
}

/// An address for the bundle: IPv6 link-local addresses carry their scope
/// as `%<id>` (the interface index), since the same `fe80::` address can
/// exist on several interfaces.
fn address_text(ip: IpAddr, scope: u32) -> String {
    match ip {
        IpAddr::V6(v6) if scope != 0 && v6.segments()[0] & 0xffc0 == 0xfe80 => {
            format!("{v6}%{scope}")
        }
        _ => ip.to_string(),
    }
}

/// Builds the bundle record for one row. `owner` is the owning process's
/// name from the process snapshot when the row names a PID (0 means the
/// system names no owner, as for `TIME_WAIT` sockets, and gives no owner);
/// the tables give no handle number, so the owner's `fd` is 0.
pub fn socket_record(kind: TableKind, row: &TableRow, owner: Option<&str>) -> SocketRecord {
    let family = match row.local_addr {
        IpAddr::V4(_) => "ipv4",
        IpAddr::V6(_) => "ipv6",
    };
    let listening = row.state == Some(TCP_STATE_LISTEN);
    let remote = if listening { None } else { row.remote };
    let owners = match (row.pid, owner) {
        (0, _) => Vec::new(),
        (pid, name) => vec![crate::records::network::SocketOwner {
            pid,
            name: name.unwrap_or_default().to_owned(),
            fd: 0,
        }],
    };
    SocketRecord {
        proto: if kind.is_tcp() { "tcp" } else { "udp" }.into(),
        family: family.into(),
        local_addr: Some(address_text(row.local_addr, row.local_scope)),
        local_port: Some(row.local_port),
        remote_addr: remote.map(|(ip, _)| ip.to_string()),
        remote_port: remote.map(|(_, p)| p),
        state: row
            .state
            .map(tcp_state_name)
            .unwrap_or_else(|| "UNCONN".into()),
        inode: None,
        uid: None,
        netns: None,
        owners,
        sources: vec!["windows_api".into()],
        recv_queue: None,
        send_queue: None,
        kind: None,
        peer_inode: None,
        // One source only: nothing to disagree with.
        unseen_by: Vec::new(),
        // The table names one owning PID per row, but PID 0 (sockets in
        // TIME_WAIT, or any socket under Wine) is not proof that nobody
        // holds it, so the orphan rule is not armed on Windows.
        owners_complete: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends a port `DWORD` the way the stack writes it: network order
    /// in the first two bytes, junk in the upper half.
    fn push_port(b: &mut Vec<u8>, port: u16) {
        b.extend_from_slice(&port.to_be_bytes());
        b.extend_from_slice(&[0xAA, 0x55]);
    }

    /// state, local address, local port, remote address, remote port, pid
    type Tcp4Row = (u32, [u8; 4], u16, [u8; 4], u16, u32);

    fn tcp4_table(rows: &[Tcp4Row]) -> Vec<u8> {
        let mut b = (rows.len() as u32).to_ne_bytes().to_vec();
        for &(state, la, lp, ra, rp, pid) in rows {
            b.extend_from_slice(&state.to_ne_bytes());
            b.extend_from_slice(&la);
            push_port(&mut b, lp);
            b.extend_from_slice(&ra);
            push_port(&mut b, rp);
            b.extend_from_slice(&pid.to_ne_bytes());
        }
        b
    }

    #[test]
    fn tcp4_rows_decode_with_network_order_ports() {
        let buf = tcp4_table(&[
            (2, [0, 0, 0, 0], 445, [0, 0, 0, 0], 0, 4),
            (5, [10, 0, 0, 5], 49_712, [203, 0, 113, 9], 4444, 6120),
        ]);
        let rows = parse_table(TableKind::Tcp4, &buf).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].local_port, 445, "upper-half junk ignored");
        assert_eq!(rows[0].state, Some(TCP_STATE_LISTEN));
        assert_eq!(rows[1].local_addr.to_string(), "10.0.0.5");
        assert_eq!(rows[1].remote, Some(("203.0.113.9".parse().unwrap(), 4444)));
        assert_eq!(rows[1].pid, 6120);

        let listen = socket_record(TableKind::Tcp4, &rows[0], Some("System"));
        assert_eq!(listen.state, "LISTEN");
        assert_eq!(listen.remote_addr, None, "a listener has no peer");
        assert_eq!(listen.owners[0].pid, 4);
        assert_eq!(listen.sources, vec!["windows_api"]);

        let est = socket_record(TableKind::Tcp4, &rows[1], Some("rundll32.exe"));
        assert_eq!(est.state, "ESTABLISHED");
        assert_eq!(est.remote_addr.as_deref(), Some("203.0.113.9"));
        assert_eq!(est.remote_port, Some(4444));
        assert_eq!(est.owners[0].name, "rundll32.exe");
        assert_eq!(est.family, "ipv4");
        assert_eq!(est.proto, "tcp");
    }

    #[test]
    fn tcp6_rows_keep_link_local_scope() {
        let mut b = 1u32.to_ne_bytes().to_vec();
        b.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
        b.extend_from_slice(&7u32.to_ne_bytes());
        push_port(&mut b, 3389);
        b.extend_from_slice(&"fe80::beef".parse::<Ipv6Addr>().unwrap().octets());
        b.extend_from_slice(&7u32.to_ne_bytes());
        push_port(&mut b, 51_000);
        b.extend_from_slice(&5u32.to_ne_bytes());
        b.extend_from_slice(&1234u32.to_ne_bytes());
        assert_eq!(b.len(), 4 + 56);
        let rows = parse_table(TableKind::Tcp6, &b).unwrap();
        let rec = socket_record(TableKind::Tcp6, &rows[0], Some("svchost.exe"));
        assert_eq!(rec.local_addr.as_deref(), Some("fe80::1%7"));
        assert_eq!(rec.local_port, Some(3389));
        assert_eq!(rec.remote_addr.as_deref(), Some("fe80::beef"));
        assert_eq!(rec.remote_port, Some(51_000));
        assert_eq!(rec.family, "ipv6");
        assert_eq!(rec.owners[0].pid, 1234);
    }

    #[test]
    fn udp_rows_are_unconnected() {
        let mut b = 1u32.to_ne_bytes().to_vec();
        b.extend_from_slice(&[127, 0, 0, 1]);
        push_port(&mut b, 53);
        b.extend_from_slice(&900u32.to_ne_bytes());
        let rows = parse_table(TableKind::Udp4, &b).unwrap();
        let rec = socket_record(TableKind::Udp4, &rows[0], Some("dns.exe"));
        assert_eq!(rec.state, "UNCONN");
        assert_eq!(rec.proto, "udp");
        assert_eq!(rec.local_port, Some(53));
        assert_eq!(rec.remote_addr, None);

        let mut b6 = 1u32.to_ne_bytes().to_vec();
        b6.extend_from_slice(&Ipv6Addr::UNSPECIFIED.octets());
        b6.extend_from_slice(&0u32.to_ne_bytes());
        push_port(&mut b6, 5353);
        b6.extend_from_slice(&77u32.to_ne_bytes());
        let rows6 = parse_table(TableKind::Udp6, &b6).unwrap();
        assert_eq!(rows6[0].local_port, 5353);
        assert_eq!(rows6[0].pid, 77);
        assert_eq!(
            socket_record(TableKind::Udp6, &rows6[0], None)
                .local_addr
                .as_deref(),
            Some("::")
        );
    }

    #[test]
    fn pid_zero_has_no_owner() {
        let buf = tcp4_table(&[(11, [10, 0, 0, 5], 50_000, [198, 51, 100, 1], 443, 0)]);
        let rows = parse_table(TableKind::Tcp4, &buf).unwrap();
        let rec = socket_record(TableKind::Tcp4, &rows[0], None);
        assert_eq!(rec.state, "TIME_WAIT");
        assert!(rec.owners.is_empty());
    }

    #[test]
    fn truncated_tables_are_errors_not_reads_past_the_end() {
        let mut buf = tcp4_table(&[(2, [0; 4], 80, [0; 4], 0, 1)]);
        buf.truncate(20);
        assert_eq!(
            parse_table(TableKind::Tcp4, &buf),
            Err(TableError::Truncated {
                entries: 1,
                needed: 28,
                got: 20
            })
        );
        assert!(parse_table(TableKind::Udp4, &[1, 0]).is_err());
        let huge = u32::MAX.to_ne_bytes();
        assert!(parse_table(TableKind::Tcp6, &huge).is_err());
        assert_eq!(
            parse_table(TableKind::Udp6, &0u32.to_ne_bytes()),
            Ok(vec![])
        );
    }

    #[test]
    fn state_names_follow_the_contract() {
        assert_eq!(tcp_state_name(1), "CLOSE");
        assert_eq!(tcp_state_name(4), "SYN_RECV");
        assert_eq!(tcp_state_name(12), "DELETE_TCB");
        assert_eq!(tcp_state_name(99), "UNKNOWN(99)");
    }
}
