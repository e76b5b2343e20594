//! The glibc `struct utmp` as x86_64 Linux writes it to `/run/utmp`,
//! `/var/log/wtmp` and `/var/log/btmp` (utmp(5)), parsed in-process: 384
//! bytes per record, little-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | `ut_type` (then 2 bytes padding) |
//! | 4 | 4 | `ut_pid` |
//! | 8 | 32 | `ut_line` (tty) |
//! | 40 | 4 | `ut_id` |
//! | 44 | 32 | `ut_user` |
//! | 76 | 256 | `ut_host` |
//! | 332 | 4 | `ut_exit` (termination, exit status) |
//! | 336 | 4 | `ut_session` |
//! | 340 | 8 | `ut_tv` (seconds, microseconds: 32 bits each) |
//! | 348 | 16 | `ut_addr_v6` |
//! | 364 | 20 | reserved |
//!
//! Strings end at the first NUL or fill their field. `ut_tv.tv_sec` is
//! read as unsigned 32 bits, so records written after January 2038 keep
//! their date (nothing in these files predates 1970).
//!
//! Limitation: the layout is that of 64-bit glibc; 32-bit and musl-built
//! login programs write the same 384 bytes on x86_64, but other
//! architectures' files are not recognised. Since Debian 13, logins are
//! kept in wtmpdb (SQLite), which is not read.

use std::net::{Ipv4Addr, Ipv6Addr};

use jiff::Timestamp;

use crate::records::session::SessionRecord;
use crate::text::lossless_utf8;

/// Size of one record.
pub const RECORD_SIZE: usize = 384;

/// One raw record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtmpEntry {
    /// Position in the file (0-based).
    pub index: u64,
    /// `ut_type`.
    pub ut_type: i16,
    /// `ut_pid`.
    pub pid: i32,
    /// `ut_line`.
    pub line: Vec<u8>,
    /// `ut_id`.
    pub id: Vec<u8>,
    /// `ut_user`.
    pub user: Vec<u8>,
    /// `ut_host`.
    pub host: Vec<u8>,
    /// `ut_session`.
    pub session: i32,
    /// `ut_tv.tv_sec`.
    pub seconds: u32,
    /// `ut_tv.tv_usec`.
    pub micros: i32,
    /// `ut_addr_v6`, as stored (network byte order).
    pub addr: [u8; 16],
}

/// Records parsed from a buffer, and the length of a trailing partial
/// record (a file cut mid-write or truncated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Whole records, in file order.
    pub entries: Vec<UtmpEntry>,
    /// Bytes after the last whole record.
    pub trailing: usize,
}

/// Parses consecutive records; `first_index` is the index of the record
/// at the start of `bytes` (non-zero when only the file's tail was read).
pub fn parse(bytes: &[u8], first_index: u64) -> Parsed {
    let chunks = bytes.chunks_exact(RECORD_SIZE);
    let trailing = chunks.remainder().len();
    let entries = chunks
        .enumerate()
        .map(|(i, r)| parse_one(r, first_index + i as u64))
        .collect();
    Parsed { entries, trailing }
}

fn parse_one(r: &[u8], index: u64) -> UtmpEntry {
    let i32_at = |o: usize| i32::from_le_bytes([r[o], r[o + 1], r[o + 2], r[o + 3]]);
    let mut addr = [0u8; 16];
    addr.copy_from_slice(&r[348..364]);
    UtmpEntry {
        index,
        ut_type: i16::from_le_bytes([r[0], r[1]]),
        pid: i32_at(4),
        line: cstr(&r[8..40]),
        id: cstr(&r[40..44]),
        user: cstr(&r[44..76]),
        host: cstr(&r[76..332]),
        session: i32_at(336),
        seconds: u32::from_le_bytes([r[340], r[341], r[342], r[343]]),
        micros: i32_at(344),
        addr,
    }
}

fn cstr(field: &[u8]) -> Vec<u8> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field[..end].to_vec()
}

/// The `ut_type` constant's name (`USER_PROCESS`), or `UNKNOWN(n)`.
pub fn type_name(t: i16) -> String {
    let name = match t {
        0 => "EMPTY",
        1 => "RUN_LVL",
        2 => "BOOT_TIME",
        3 => "NEW_TIME",
        4 => "OLD_TIME",
        5 => "INIT_PROCESS",
        6 => "LOGIN_PROCESS",
        7 => "USER_PROCESS",
        8 => "DEAD_PROCESS",
        9 => "ACCOUNTING",
        other => return format!("UNKNOWN({other})"),
    };
    name.to_owned()
}

/// The binary address as text: IPv4 when only the first word is set, IPv6
/// otherwise, `None` when all zero.
pub fn address(addr: &[u8; 16]) -> Option<String> {
    if addr.iter().all(|&b| b == 0) {
        return None;
    }
    if addr[4..].iter().all(|&b| b == 0) {
        return Some(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string());
    }
    Some(Ipv6Addr::from(*addr).to_string())
}

fn text(b: &[u8]) -> Option<String> {
    (!b.is_empty()).then(|| lossless_utf8(b).into_owned())
}

/// The bundle record for an entry read from `file` (`source` is `current`,
/// `recent` or `failed`).
pub fn to_record(e: &UtmpEntry, source: &str, file: &str) -> SessionRecord {
    let time = if e.seconds == 0 {
        None
    } else {
        let nanos = e.micros.clamp(0, 999_999) * 1000;
        Timestamp::new(i64::from(e.seconds), nanos).ok()
    };
    SessionRecord {
        source: source.to_owned(),
        kind: type_name(e.ut_type),
        user: text(&e.user),
        tty: text(&e.line),
        host: text(&e.host),
        time,
        pid: u32::try_from(e.pid).ok().filter(|&p| p != 0),
        session: u32::try_from(e.session).ok().filter(|&s| s != 0),
        addr: address(&e.addr),
        line_id: text(&e.id),
        file: Some(file.to_owned()),
        index: Some(e.index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let mut a = [0u8; 16];
        assert_eq!(address(&a), None);
        a[..4].copy_from_slice(&[203, 0, 113, 7]);
        assert_eq!(address(&a).as_deref(), Some("203.0.113.7"));
        a[15] = 1;
        assert!(address(&a).unwrap().contains(':'));
    }

    #[test]
    fn trailing_bytes_are_counted() {
        let p = parse(&[0u8; RECORD_SIZE * 2 + 10], 5);
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.entries[1].index, 6);
        assert_eq!(p.trailing, 10);
        assert_eq!(type_name(p.entries[0].ut_type), "EMPTY");
        assert_eq!(type_name(42), "UNKNOWN(42)");
    }
}
