//! Both socket sources of one network namespace, opened once from inside
//! it and then read from any thread.
//!
//! A netlink socket belongs to the namespace it was created in, and a
//! `/proc/thread-self/net/*` file opened inside a namespace keeps showing
//! that namespace (the seq file holds it from `open`). So the namespace is
//! entered once, briefly, to open these handles; every read, re-read and
//! late re-check then happens on the collector's own thread, and can
//! overlap with the descriptor scan.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::merge::{Reread, Seen, Table};
use super::procfs;
use super::sock_diag::SockDiag;
use crate::records::collection::Gap;

/// At most this many unparsable lines of one file are named one by one.
const BAD_LINES_SHOWN: usize = 5;

/// Read size for `/proc/net` files. The kernel restarts its walk of the
/// socket hash at every `read(2)` (TCP's is a linear scan to the resume
/// point), so few large reads are much cheaper than many page-sized ones.
const PROCFS_CHUNK: usize = 1 << 20;

/// The open sources of one namespace.
pub struct NsHandles {
    diag: Option<SockDiag>,
    files: Vec<(Table, io::Result<File>)>,
    buf: Vec<u8>,
}

impl NsHandles {
    /// Opens both sources in the calling thread's namespace; procfs files
    /// come from `procfs_dir` (`/proc/thread-self/net` inside the
    /// namespace, or a member's `/proc/<pid>/net` from outside it, then
    /// without netlink).
    pub fn open(procfs_dir: &Path, netlink: bool, gaps: &mut Vec<Gap>) -> Self {
        let diag = if netlink {
            match SockDiag::open() {
                Ok(d) => Some(d),
                Err(e) => {
                    gaps.push(Gap {
                        what: "netlink sock_diag".into(),
                        cause: e.to_string(),
                    });
                    None
                }
            }
        } else {
            None
        };
        let files = Table::ALL
            .iter()
            .map(|&t| (t, File::open(procfs_dir.join(t.procfs_name()))))
            .collect();
        NsHandles {
            diag,
            files,
            buf: Vec::new(),
        }
    }

    /// Every socket of `table` from netlink; `None` (and a gap) when the
    /// source is not there or failed.
    pub fn netlink(&mut self, table: Table, gaps: &mut Vec<Gap>) -> Option<Vec<Seen>> {
        let diag = self.diag.as_mut()?;
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

    /// Every socket of `table` from `/proc/net`, read from the start.
    pub fn procfs(&mut self, table: Table, gaps: &mut Vec<Gap>) -> Option<Vec<Seen>> {
        let shown = format!("/proc/net/{}", table.procfs_name());
        let file = match self.files.iter_mut().find(|(t, _)| *t == table) {
            Some((_, Ok(f))) => f,
            Some((_, Err(e))) => {
                gaps.push(Gap {
                    what: shown,
                    cause: e.to_string(),
                });
                return None;
            }
            None => return None,
        };
        if let Err(e) = read_from_start(file, &mut self.buf) {
            gaps.push(Gap {
                what: shown,
                cause: e.to_string(),
            });
            return None;
        }
        let (seen, bad): (Vec<Seen>, Vec<procfs::BadLine>) = match table {
            Table::Unix => {
                let (lines, bad) = procfs::parse_unix(&self.buf);
                (lines.iter().map(procfs::unix_seen).collect(), bad)
            }
            _ => {
                let (lines, bad) = procfs::parse_inet(&self.buf, table.family() == "ipv6");
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
}

fn read_from_start(file: &mut File, buf: &mut Vec<u8>) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    buf.clear();
    loop {
        if buf.capacity() - buf.len() < PROCFS_CHUNK {
            buf.reserve(PROCFS_CHUNK);
        }
        let len = buf.len();
        let spare = buf.capacity() - len;
        buf.resize(len + spare, 0);
        let n = file.read(&mut buf[len..])?;
        buf.truncate(len + n);
        if n == 0 {
            return Ok(());
        }
    }
}

/// The second reads `merge::reconcile` asks for. Their problems are not
/// gaps: the first reads stand, and a failed re-read only leaves a
/// difference unexplained.
impl Reread for NsHandles {
    fn netlink(&mut self, table: Table) -> Option<Vec<Seen>> {
        NsHandles::netlink(self, table, &mut Vec::new())
    }

    fn procfs(&mut self, table: Table) -> Option<Vec<Seen>> {
        NsHandles::procfs(self, table, &mut Vec::new())
    }
}
