//! Windows `sockets` collector: every TCP and UDP endpoint, IPv4 and IPv6,
//! from the IP Helper tables with owner PIDs (`GetExtendedTcpTable` with
//! `TCP_TABLE_OWNER_PID_ALL`, `GetExtendedUdpTable` with
//! `UDP_TABLE_OWNER_PID`), the owners named from a Toolhelp process
//! snapshot taken right after the tables. Records say `sources:
//! ["windows_api"]`; decoding is in [`crate::windows_formats::sockets`].
//!
//! Each table is read with the documented size loop: the first call
//! reports the size it needs (`ERROR_INSUFFICIENT_BUFFER` with the size in
//! `pdwSize`), the next call uses it; since connections come and go between
//! the calls, the buffer gets some headroom and the loop is bounded.
//!
//! Limitation: raw sockets and named pipes have no equivalent table and
//! are not listed. The tables name the owning PID only: a socket handle
//! duplicated into another process shows its creator, and the owner's `fd`
//! is 0 (Windows has no descriptor number here).
//! Limitation: under Wine every row names PID 0 (wineserver holds the
//! sockets), so owners are empty there; owner mapping is verified on the
//! decoding side by unit tests only.

use std::collections::{BTreeSet, HashMap};
use std::io;

use windows_sys::Win32::Foundation::{ERROR_INSUFFICIENT_BUFFER, FALSE, NO_ERROR};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetExtendedTcpTable, GetExtendedUdpTable, TCP_TABLE_OWNER_PID_ALL, UDP_TABLE_OWNER_PID,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};

use crate::collector::{CollectError, Context, Output};
use crate::records::network::FILE;
use crate::windows_api::buffer::AlignedBuffer;
use crate::windows_api::{snapshot, win32_error};
use crate::windows_formats::sockets::{parse_table, socket_record, TableKind, TableRow};

/// Calls per table before giving up on a table that keeps growing.
const ATTEMPTS: usize = 8;

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    // The tables first: they are the most volatile.
    let mut tables: Vec<(TableKind, Vec<TableRow>)> = Vec::new();
    for kind in [
        TableKind::Tcp4,
        TableKind::Tcp6,
        TableKind::Udp4,
        TableKind::Udp6,
    ] {
        let parsed = read_table(kind).and_then(|buf| {
            parse_table(kind, buf.bytes(buf.len())).map_err(|e| io::Error::other(e.to_string()))
        });
        match parsed {
            Ok(rows) => tables.push((kind, rows)),
            Err(e) => out.gap(kind.source(), e),
        }
    }
    if tables.is_empty() {
        return Err(CollectError::Other(
            "none of the four socket tables could be read".into(),
        ));
    }

    let names: Option<HashMap<u32, String>> = match snapshot::processes() {
        Ok(list) => Some(list.into_iter().map(|p| (p.pid, p.name)).collect()),
        Err(e) => {
            out.gap("CreateToolhelp32Snapshot (socket owner names)", e);
            None
        }
    };

    let mut unnamed = BTreeSet::new();
    for (kind, rows) in &tables {
        for row in rows {
            let owner = names.as_ref().and_then(|n| n.get(&row.pid));
            if row.pid != 0 && owner.is_none() && names.is_some() {
                unnamed.insert(row.pid);
            }
            out.record(FILE, &socket_record(*kind, row, owner.map(String::as_str)));
        }
        if ctx.expired() {
            out.mark_timed_out();
            return Ok(());
        }
    }
    for pid in unnamed {
        out.gap(
            format!("pid {pid}"),
            "owns sockets but was not in the process snapshot (it exited between the two reads)",
        );
    }
    Ok(())
}

/// Reads one table into an aligned buffer. On success the size output is
/// not documented to change, so the whole buffer is returned and the entry
/// count at its start bounds what the parser reads.
fn read_table(kind: TableKind) -> io::Result<AlignedBuffer> {
    let mut size: u32 = 16 * 1024;
    for _ in 0..ATTEMPTS {
        let mut buf = AlignedBuffer::new(size as usize);
        let mut len = buf.len() as u32;
        // SAFETY: `buf` is writable for `len` bytes and 8-byte aligned; the
        // function writes at most `len` bytes, or returns
        // ERROR_INSUFFICIENT_BUFFER and stores the size it needs in `len`
        // (documented for both functions). The address family and table
        // class are valid constants; `Reserved` must be zero.
        let status = unsafe {
            match kind {
                TableKind::Tcp4 | TableKind::Tcp6 => GetExtendedTcpTable(
                    buf.as_mut_ptr().cast(),
                    &mut len,
                    FALSE,
                    u32::from(family(kind)),
                    TCP_TABLE_OWNER_PID_ALL,
                    0,
                ),
                TableKind::Udp4 | TableKind::Udp6 => GetExtendedUdpTable(
                    buf.as_mut_ptr().cast(),
                    &mut len,
                    FALSE,
                    u32::from(family(kind)),
                    UDP_TABLE_OWNER_PID,
                    0,
                ),
            }
        };
        match status {
            NO_ERROR => return Ok(buf),
            ERROR_INSUFFICIENT_BUFFER => {
                // Headroom for connections opened before the next call.
                size = len.saturating_add(len / 4).saturating_add(4096);
                log::debug!("{}: needs {len} bytes, retrying with {size}", kind.source());
            }
            other => return Err(win32_error(other)),
        }
    }
    Err(io::Error::other(format!(
        "the table kept growing over {ATTEMPTS} attempts"
    )))
}

fn family(kind: TableKind) -> u16 {
    match kind {
        TableKind::Tcp4 | TableKind::Udp4 => AF_INET,
        TableKind::Tcp6 | TableKind::Udp6 => AF_INET6,
    }
}

#[cfg(test)]
mod windows_tests {
    use super::*;
    use crate::windows_formats::sockets::TCP_STATE_LISTEN;

    /// A listener and a bound UDP socket opened here are in the tables,
    /// owned by this process (on Windows; Wine names no owner).
    #[test]
    fn sockets_we_open_are_listed_with_our_pid() {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tcp_port = tcp.local_addr().unwrap().port();
        let udp_port = udp.local_addr().unwrap().port();

        let buf = read_table(TableKind::Tcp4).unwrap();
        let rows = parse_table(TableKind::Tcp4, buf.bytes(buf.len())).unwrap();
        let listen = rows
            .iter()
            .find(|r| r.local_port == tcp_port && r.state == Some(TCP_STATE_LISTEN))
            .expect("listener in the TCP table");
        let buf = read_table(TableKind::Udp4).unwrap();
        let rows = parse_table(TableKind::Udp4, buf.bytes(buf.len())).unwrap();
        let bound = rows
            .iter()
            .find(|r| r.local_port == udp_port)
            .expect("socket in the UDP table");
        if !crate::windows_api::is_wine() {
            assert_eq!(listen.pid, std::process::id());
            assert_eq!(bound.pid, std::process::id());
        }
    }
}
