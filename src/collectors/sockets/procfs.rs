//! Parsers of the kernel's socket tables as text: `/proc/net/{tcp,tcp6,udp,
//! udp6,raw,raw6}` ([`parse_inet`]) and `/proc/net/unix` ([`parse_unix`]).
//!
//! This is the second, independent source of sockets: it is printed by
//! different kernel code than netlink sock_diag, so a rootkit that filters
//! one and forgets the other shows up as a difference (see `merge`).
//! The parsers take the file's bytes and never touch the host, so they are
//! tested on captured fixture text on any OS.
//!
//! Format notes, from the kernel's `seq_show` functions:
//! - addresses are the `__be32` words of the address printed as host-order
//!   `%08X`: on a little-endian host `0100007F` is 127.0.0.1, and an IPv6
//!   address is four such words. [`parse_inet`] decodes them in the
//!   running host's byte order.
//! - the raw tables print the protocol number in the local port field.
//! - `/proc/net/unix` prints the bound path raw after the inode, with each
//!   NUL byte of an abstract name shown as `@`.
//!
//! Limitation: a unix socket path containing a newline splits its line in
//! two; the fragments do not parse and become gaps, and the socket keeps
//! only what netlink says of it (whose name is exact).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::merge::{inet_state, unix_kind, Addr, Seen, Table};
use crate::text::lossless_utf8;

/// One line of an inet table (`tcp`, `udp`, `raw`, and their `6` twins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetLine {
    /// Local address.
    pub local_addr: IpAddr,
    /// Local port (for raw sockets, the protocol number).
    pub local_port: u16,
    /// Remote address.
    pub remote_addr: IpAddr,
    /// Remote port.
    pub remote_port: u16,
    /// Kernel socket state (`TCP_ESTABLISHED` = 1 ... `TCP_CLOSING` = 11).
    pub state: u8,
    /// Send queue, bytes.
    pub tx_queue: u64,
    /// Receive queue, bytes (pending connections for a listener).
    pub rx_queue: u64,
    /// Owner uid.
    pub uid: u32,
    /// Socket inode; 0 for TIME_WAIT and SYN_RECV mini-sockets.
    pub inode: u64,
}

/// One line of `/proc/net/unix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixLine {
    /// `__SO_ACCEPTCON` (0x10000) is set on listening sockets.
    pub flags: u32,
    /// `SOCK_STREAM` (1), `SOCK_DGRAM` (2), `SOCK_SEQPACKET` (5).
    pub kind: u16,
    /// `socket->state`: 1 unconnected, 2 connecting, 3 connected,
    /// 4 disconnecting.
    pub state: u8,
    /// Socket inode.
    pub inode: u64,
    /// Bound name as printed: a path, or `@name` for an abstract socket.
    pub path: Option<Vec<u8>>,
}

/// `__SO_ACCEPTCON` in `/proc/net/unix` flags: the socket listens.
pub const UNIX_ACCEPTCON: u32 = 0x0001_0000;

/// A line that did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number in the file.
    pub line_no: usize,
    /// Why it did not parse.
    pub reason: &'static str,
    /// The line, encoded with [`lossless_utf8`] (cut at 200 bytes).
    pub text: String,
}

impl BadLine {
    fn new(line_no: usize, line: &[u8], reason: &'static str) -> Self {
        let cut = &line[..line.len().min(200)];
        BadLine {
            line_no,
            reason,
            text: lossless_utf8(cut).into_owned(),
        }
    }
}

/// Parses an inet table; `ipv6` selects the 32-hex-digit address form.
/// The header line is skipped; every other line is either an entry or a
/// [`BadLine`].
pub fn parse_inet(text: &[u8], ipv6: bool) -> (Vec<InetLine>, Vec<BadLine>) {
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate().skip(1) {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match inet_line(line, ipv6) {
            Ok(e) => entries.push(e),
            Err(reason) => bad.push(BadLine::new(i + 1, line, reason)),
        }
    }
    (entries, bad)
}

fn inet_line(line: &[u8], ipv6: bool) -> Result<InetLine, &'static str> {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    let mut f = fields(line);
    let _slot = f.next().ok_or("empty line")?;
    let (local_addr, local_port) = endpoint(f.next().ok_or("no local address")?, ipv6)?;
    let (remote_addr, remote_port) = endpoint(f.next().ok_or("no remote address")?, ipv6)?;
    let state = hex_u64(f.next().ok_or("no state")?).ok_or("bad state")?;
    let (tx, rx) = split_colon(f.next().ok_or("no queues")?).ok_or("bad queues")?;
    let _timer = f.next().ok_or("no timer")?;
    let _retransmits = f.next().ok_or("no retransmits")?;
    let uid = dec_u64(f.next().ok_or("no uid")?).ok_or("bad uid")?;
    let _timeout = f.next().ok_or("no timeout")?;
    let inode = dec_u64(f.next().ok_or("no inode")?).ok_or("bad inode")?;
    Ok(InetLine {
        local_addr,
        local_port,
        remote_addr,
        remote_port,
        state: u8::try_from(state).map_err(|_| "state out of range")?,
        tx_queue: hex_u64(tx).ok_or("bad send queue")?,
        rx_queue: hex_u64(rx).ok_or("bad receive queue")?,
        uid: u32::try_from(uid).map_err(|_| "uid out of range")?,
        inode,
    })
}

/// Parses `/proc/net/unix`.
pub fn parse_unix(text: &[u8]) -> (Vec<UnixLine>, Vec<BadLine>) {
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        match unix_line(line) {
            Ok(e) => entries.push(e),
            Err(reason) => bad.push(BadLine::new(i + 1, line, reason)),
        }
    }
    (entries, bad)
}

fn unix_line(line: &[u8]) -> Result<UnixLine, &'static str> {
    // "%pK: %08X %08X %08X %04X %02X %5lu" then optionally " " and the path.
    // The path is everything after the single space that follows the inode,
    // spaces included, so fields are taken one at a time.
    let mut rest = line;
    let mut take = || -> Option<&[u8]> {
        let start = rest.iter().position(|&b| b != b' ')?;
        let tail = &rest[start..];
        let end = tail.iter().position(|&b| b == b' ').unwrap_or(tail.len());
        let (field, after) = tail.split_at(end);
        rest = after;
        Some(field)
    };
    let num = take().ok_or("empty line")?;
    if num.last() != Some(&b':') {
        return Err("no slot field");
    }
    let _refcount = take().and_then(hex_u64).ok_or("bad refcount")?;
    let _protocol = take().and_then(hex_u64).ok_or("bad protocol")?;
    let flags = take().and_then(hex_u64).ok_or("bad flags")?;
    let kind = take().and_then(hex_u64).ok_or("bad type")?;
    let state = take().and_then(hex_u64).ok_or("bad state")?;
    let inode = take().and_then(dec_u64).ok_or("bad inode")?;
    let path = match rest.strip_prefix(b" ") {
        Some(p) if !p.is_empty() => Some(p.to_vec()),
        Some(_) => return Err("empty path"),
        None if rest.is_empty() => None,
        None => return Err("junk after inode"),
    };
    Ok(UnixLine {
        flags: u32::try_from(flags).map_err(|_| "flags out of range")?,
        kind: u16::try_from(kind).map_err(|_| "type out of range")?,
        state: u8::try_from(state).map_err(|_| "state out of range")?,
        inode,
        path,
    })
}

/// An inet table line as a [`Seen`] socket. The remote end of a listening
/// or unconnected socket (`0.0.0.0:0`) is none; a raw socket's "port" is
/// its protocol number, kept in `kind`.
pub fn inet_seen(table: Table, l: &InetLine) -> Seen {
    let raw = matches!(table, Table::Raw4 | Table::Raw6);
    let connected = !(l.remote_addr.is_unspecified() && l.remote_port == 0);
    Seen {
        table,
        local_addr: Some(Addr::Ip(l.local_addr)),
        local_port: (!raw).then_some(l.local_port),
        remote_addr: connected.then_some(l.remote_addr),
        remote_port: (connected && !raw).then_some(l.remote_port),
        state: inet_state(table, l.state),
        inode: l.inode,
        uid: Some(l.uid),
        recv_queue: Some(l.rx_queue),
        send_queue: Some(l.tx_queue),
        kind: raw.then(|| l.local_port.to_string()),
        peer_inode: None,
    }
}

/// A `/proc/net/unix` line as a [`Seen`] socket. Its state is read from
/// `socket->state` and the listening flag, which can differ in detail from
/// the `sk_state` netlink reports; where both saw a socket, netlink's wins.
pub fn unix_seen(l: &UnixLine) -> Seen {
    let state = if l.flags & UNIX_ACCEPTCON != 0 {
        "LISTEN"
    } else {
        match l.state {
            1 => "UNCONN",
            2 => "SYN_SENT",
            3 => "ESTABLISHED",
            4 => "CLOSING",
            _ => "UNKNOWN",
        }
    };
    Seen {
        table: Table::Unix,
        local_addr: l.path.clone().map(Addr::Name),
        local_port: None,
        remote_addr: None,
        remote_port: None,
        state,
        inode: l.inode,
        uid: None,
        recv_queue: None,
        send_queue: None,
        kind: Some(unix_kind(l.kind)),
        peer_inode: None,
    }
}

fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
}

fn split_colon(f: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = f.iter().position(|&b| b == b':')?;
    Some((&f[..i], &f[i + 1..]))
}

fn endpoint(f: &[u8], ipv6: bool) -> Result<(IpAddr, u16), &'static str> {
    let (addr, port) = split_colon(f).ok_or("address without port")?;
    let port = hex_u64(port)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("bad port")?;
    let addr = if ipv6 {
        if addr.len() != 32 {
            return Err("IPv6 address is not 32 hex digits");
        }
        let mut bytes = [0u8; 16];
        for (i, word) in addr.chunks(8).enumerate() {
            let w = hex_u64(word).ok_or("bad IPv6 address")? as u32;
            bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        if addr.len() != 8 {
            return Err("IPv4 address is not 8 hex digits");
        }
        let w = hex_u64(addr).ok_or("bad IPv4 address")? as u32;
        IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes()))
    };
    Ok((addr, port))
}

fn hex_u64(f: &[u8]) -> Option<u64> {
    if f.is_empty() || f.len() > 16 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(f).ok()?, 16).ok()
}

fn dec_u64(f: &[u8]) -> Option<u64> {
    if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(f).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_line_with_trailing_spaces_parses() {
        let text = b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1389 0100007F:9AF6 08 00000002:00000001 00:00000000 00000000  1000        0 65194 1 00000000e1c6dc6e 20 4 0 10 -1   \n";
        let (e, bad) = parse_inet(text, false);
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].local_addr, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(e[0].local_port, 5001);
        assert_eq!(e[0].remote_port, 0x9AF6);
        assert_eq!(e[0].state, 8);
        assert_eq!((e[0].tx_queue, e[0].rx_queue), (2, 1));
        assert_eq!((e[0].uid, e[0].inode), (1000, 65194));
    }

    #[test]
    fn broken_inet_lines_become_bad_lines() {
        let text =
            b"header\n   0: 0100007F:1389\n   1: 0100007G:1389 00000000:0000 0A 0:0 0:0 0 0 0 1\n";
        let (e, bad) = parse_inet(text, false);
        assert!(e.is_empty());
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].line_no, 2);
        assert_eq!(bad[0].reason, "no remote address");
        assert_eq!(bad[1].reason, "bad IPv4 address");
    }

    #[test]
    fn unix_path_keeps_spaces_and_hostile_bytes() {
        let text = b"Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00010000 0001 01 12345 /tmp/a b\x1b[31m\n0000000000000000: 00000002 00000000 00000000 0002 01  9999\n";
        let (e, bad) = parse_unix(text);
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(e[0].path.as_deref(), Some(&b"/tmp/a b\x1b[31m"[..]));
        assert_eq!(e[0].flags, UNIX_ACCEPTCON);
        assert_eq!(e[1].inode, 9999);
        assert_eq!(e[1].path, None);
    }
}
