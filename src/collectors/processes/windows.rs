//! Windows `processes` collector: the process table from a Toolhelp
//! snapshot (PID, parent, image name, threads), then per process, through
//! `OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION)`: the image path
//! (`QueryFullProcessImageNameW`), creation time (`GetProcessTimes`), the
//! user (token user SID named by `LookupAccountSidW`, as `DOMAIN\user`, or
//! the SID itself when no account has it), the Remote Desktop session
//! (`ProcessIdToSessionId`) and the command line
//! (`NtQueryInformationProcess`, Windows 8.1 and later). The image's SHA-256
//! is computed after the volatile collectors (skipped with `--no-hash`).
//!
//! Every process in the snapshot gets its row. A process that refuses
//! `OpenProcess` (protected processes; other users' processes when not
//! elevated) or one of the queries is a gap naming its PID and snapshot
//! name, listing what could not be read.
//!
//! Limitation: Windows has no uid, gid, state letter, terminal or
//! namespace; those fields are null. The command line needs Windows 8.1:
//! on older systems, and under Wine 8, which does not implement the class,
//! it is a gap. `exe_deleted` is set only when the image path no longer
//! names a file when the image is hashed (or, with `--no-hash`, checked).
//! Limitation: the PID 0 pseudo-process (`[System Process]`, the idle
//! loop) is listed from the snapshot without being opened: it has no image,
//! token or creation time.

#[path = "windows/hash.rs"]
mod hash;
#[path = "windows/query.rs"]
mod query;

use std::ffi::OsString;

use crate::collector::{CollectError, Context, Output};
use crate::records::process::{ProcessRecord, FILE};
use crate::windows_api::snapshot::{self, SnapshotEntry};
use crate::windows_api::token;
use crate::windows_formats::command_line::split_command_line;
use crate::windows_formats::wide::utf16_lossless;
use hash::{HashResult, ImageHasher};

/// A process read so far, with the exact image path to hash.
struct Pending {
    record: ProcessRecord,
    image: Option<OsString>,
}

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let list = snapshot::processes().map_err(|source| CollectError::Io {
        what: "CreateToolhelp32Snapshot".into(),
        source,
    })?;

    let mut pending = Vec::with_capacity(list.len());
    let mut skipped = 0usize;
    for entry in &list {
        if ctx.expired() {
            // Keep the snapshot's row for every process not yet opened.
            pending.push(Pending {
                record: base_record(entry),
                image: None,
            });
            skipped += 1;
            continue;
        }
        pending.push(read_process(entry, out));
    }
    if skipped > 0 {
        out.mark_timed_out();
        out.gap(
            "processes",
            format!("deadline passed: {skipped} processes listed from the snapshot only"),
        );
    }

    if ctx.no_hash {
        for p in &mut pending {
            if let Some(path) = &p.image {
                if matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
                {
                    p.record.exe_deleted = true;
                }
            }
            out.record(FILE, &p.record);
        }
        return Ok(());
    }
    out.defer(Box::new(move |ctx, out| {
        finish_with_hashes(ctx, out, pending)
    }));
    Ok(())
}

/// The snapshot's view of a process: what every row has.
fn base_record(entry: &SnapshotEntry) -> ProcessRecord {
    ProcessRecord {
        pid: entry.pid,
        // PID 0 is its own "parent" in the snapshot; System (4) names 0.
        ppid: (entry.pid != 0).then_some(entry.ppid),
        name: entry.name.clone(),
        threads: Some(entry.threads),
        ..ProcessRecord::default()
    }
}

/// Reads one process; failures become one gap listing each missing part.
fn read_process(entry: &SnapshotEntry, out: &mut Output) -> Pending {
    let mut record = base_record(entry);
    let mut image = None;
    if entry.pid == 0 {
        return Pending { record, image };
    }
    let mut missing: Vec<String> = Vec::new();

    match query::session(entry.pid) {
        Ok(s) => record.session = Some(s),
        Err(e) => missing.push(format!("session: {e}")),
    }

    let handle = match query::open(entry.pid) {
        Ok(h) => h,
        Err(e) => {
            out.gap(
                format!("pid {} ({})", entry.pid, entry.name),
                format!("OpenProcess: {e}; listed from the snapshot only"),
            );
            return Pending { record, image };
        }
    };

    match query::image_path(&handle) {
        Ok(units) => {
            record.exe = Some(utf16_lossless(&units));
            image = Some(query::os_path(&units));
        }
        Err(e) => missing.push(format!("image path: {e}")),
    }
    match query::start_time(&handle) {
        Ok(t) => record.start_time = t,
        Err(e) => missing.push(format!("start time: {e}")),
    }
    match token::process_user(&handle) {
        Ok((sid, name)) => {
            record.user = Some(name.map(|n| n.qualified()).unwrap_or(sid));
        }
        Err(e) => missing.push(format!("user: {e}")),
    }
    match query::command_line(&handle) {
        Ok(units) => {
            record.cmdline = split_command_line(&units)
                .iter()
                .map(|a| utf16_lossless(a))
                .collect();
            record.cmdline_raw = Some(utf16_lossless(&units));
        }
        Err(e) => missing.push(format!("command line: {e}")),
    }

    if !missing.is_empty() {
        out.gap(
            format!("pid {} ({})", entry.pid, entry.name),
            missing.join("; "),
        );
    }
    Pending { record, image }
}

/// The deferred step: hash each image, then write every row.
fn finish_with_hashes(ctx: &Context, out: &mut Output, pending: Vec<Pending>) {
    let mut hasher = ImageHasher::default();
    let mut out_of_time = 0usize;
    for mut p in pending {
        if let Some(path) = &p.image {
            match hasher.hash(ctx, path) {
                HashResult::Digest(d) => p.record.sha256 = Some(d),
                HashResult::Missing => {
                    p.record.exe_deleted = true;
                    out.gap(
                        format!("pid {} image", p.record.pid),
                        "the image path no longer names a file",
                    );
                }
                HashResult::OutOfTime => out_of_time += 1,
                HashResult::Failed(e) => out.gap(
                    format!(
                        "pid {} image {}",
                        p.record.pid,
                        p.record.exe.as_deref().unwrap_or("")
                    ),
                    format!("not hashed: {e}"),
                ),
            }
        }
        out.record(FILE, &p.record);
    }
    if out_of_time > 0 {
        out.mark_timed_out();
        out.gap(
            "image hashes",
            format!("deadline passed: {out_of_time} processes written without a hash"),
        );
    }
}

#[cfg(test)]
mod windows_tests {
    use super::*;

    #[test]
    fn this_process_reads_back() {
        let me = std::process::id();
        let handle = query::open(me).unwrap();
        let image = query::image_path(&handle).unwrap();
        let exe = std::env::current_exe().unwrap();
        assert_eq!(
            query::os_path(&image).to_string_lossy().to_lowercase(),
            exe.to_string_lossy().to_lowercase()
        );
        let started = query::start_time(&handle).unwrap().expect("creation time");
        assert!(started <= jiff::Timestamp::now());
        assert!(query::session(me).is_ok());
        match query::command_line(&handle) {
            Ok(units) => {
                let args = split_command_line(&units);
                assert!(!args.is_empty());
            }
            // Wine 8 does not implement ProcessCommandLineInformation.
            Err(e) => assert!(crate::windows_api::is_wine(), "{e}"),
        }
    }

    #[test]
    fn a_pid_that_does_not_exist_is_refused() {
        // PIDs are multiples of 4 on Windows; this one is never handed out.
        assert!(query::open(u32::MAX - 2).is_err());
    }
}
