//! Linux `sessions` collector: who is logged in now (`/run/utmp` and
//! logind's `/run/systemd/sessions/`), recent logins (`/var/log/wtmp`,
//! newest [`RECENT_RECORDS`] first) and failed logins (`/var/log/btmp`,
//! likewise). All are files, read under `--root` like every other file of
//! the examined system; only the tail of wtmp and btmp is read, so a
//! years-long wtmp costs no more than a fresh one.
//!
//! An absent file is no gap (containers and minimal systems keep no utmp);
//! an unreadable one (btmp without root) is, and so is a trailing partial
//! record, with its size.

use std::io;

use super::{logind, utmp};
use crate::collector::{CollectError, Context, Output};
use crate::collectors::accounts::host_file;
use crate::records::session::FILE;
use crate::text::lossless_utf8;

/// Records read from the end of wtmp and of btmp.
pub const RECENT_RECORDS: u64 = 200;
/// Records read from utmp at most (one per terminal line in use).
const CURRENT_RECORDS: u64 = 4096;
/// logind session files read at most.
const LOGIND_SESSIONS: usize = 4096;

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let utmp_file = if ctx.host_path("/run/utmp").exists() {
        "/run/utmp"
    } else {
        "/var/run/utmp"
    };
    read_utmp(ctx, out, utmp_file, "current", CURRENT_RECORDS, false);
    logind_sessions(ctx, out);
    read_utmp(ctx, out, "/var/log/wtmp", "recent", RECENT_RECORDS, true);
    read_utmp(ctx, out, "/var/log/btmp", "failed", RECENT_RECORDS, true);
    Ok(())
}

/// Reads the last `limit` records of `path`; `newest_first` reverses file
/// order (wtmp and btmp are appended to).
fn read_utmp(
    ctx: &Context,
    out: &mut Output,
    path: &str,
    source: &str,
    limit: u64,
    newest_first: bool,
) {
    let size = utmp::RECORD_SIZE as u64;
    let (bytes, offset, meta) = match host_file::read_tail(&ctx.host_path(path), limit * size, size)
    {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            log::debug!("{path}: absent");
            return;
        }
        Err(e) => {
            out.gap(path, e);
            return;
        }
    };
    let parsed = utmp::parse(&bytes, offset / size);
    if parsed.trailing > 0 {
        out.gap(
            format!("{path} (last record)"),
            format!(
                "truncated: {} of {} bytes after record {}",
                parsed.trailing,
                size,
                offset / size + parsed.entries.len() as u64
            ),
        );
    }
    if offset > 0 && !newest_first {
        out.gap(
            path,
            format!(
                "more than {limit} records: the first {} were not read",
                offset / size
            ),
        );
    }
    log::debug!(
        "{path}: {} records read of {} bytes",
        parsed.entries.len(),
        meta.len()
    );
    let mut entries = parsed.entries;
    if newest_first {
        entries.reverse();
    }
    for e in &entries {
        out.record(FILE, &utmp::to_record(e, source, path));
    }
}

fn logind_sessions(ctx: &Context, out: &mut Output) {
    let dir = "/run/systemd/sessions";
    let entries = match std::fs::read_dir(ctx.host_path(dir)) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return,
        Err(e) => {
            out.gap(dir, e);
            return;
        }
    };
    let mut ids = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let name = entry.file_name().to_string_lossy().into_owned();
                // `<id>.ref` files are FIFOs logind holds open.
                if !name.contains('.') {
                    ids.push(name);
                }
            }
            Err(e) => out.gap(dir, e),
        }
    }
    ids.sort_by_key(|id| (id.parse::<u64>().ok(), id.clone()));
    if ids.len() > LOGIND_SESSIONS {
        out.gap(
            dir,
            format!(
                "{} sessions: only the first {LOGIND_SESSIONS} were read",
                ids.len()
            ),
        );
        ids.truncate(LOGIND_SESSIONS);
    }
    for id in ids {
        let path = format!("{dir}/{id}");
        match host_file::read(&ctx.host_path(&path), 64 << 10) {
            Ok(f) => {
                let mut rec = logind::parse_session(&id, &lossless_utf8(&f.bytes));
                rec.file = Some(path);
                out.record(FILE, &rec);
            }
            // Closed between listing and reading: the session ended.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                log::debug!("{path}: session ended while reading");
            }
            Err(e) => out.gap(path, e),
        }
    }
}
