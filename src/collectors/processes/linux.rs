//! Linux `processes` collector: every process in `/proc`, read without
//! running a host program.
//!
//! Enumeration cannot be filtered by a userland rootkit: `/proc` is listed
//! with the `getdents64` system call issued by rustix itself, never through
//! libc's `readdir`, and the release binary is static (musl), so neither an
//! `LD_PRELOAD` library nor `/etc/ld.so.preload` is loaded into irdump.
//! PIDs that exist but are missing from the listing (a kernel rootkit) are
//! probed for and recorded with `hidden_from_listing` (see `probe.rs`).
//!
//! Each process is read pinned by its `/proc/<pid>` directory descriptor
//! (`pinned.rs`); user names come from `/etc/passwd` read as a file (no
//! NSS, which would load libraries and may ask the network); descriptors
//! come from the shared `/proc/*/fd` scan when the sockets collector made
//! it, else are read here and the scan handed over to later collectors.
//! Hashing executables is left as deferred work, after every volatile
//! collector has run.
//!
//! Limitation: without root, other users' `exe`, `cwd`, `root`, `fd`,
//! `environ` and namespaces are unreadable; each such process gets one gap
//! naming what it lacks, and keeps everything else.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustix::fd::OwnedFd;
use rustix::fs::{Mode, OFlags};

use super::hashing::{self, HashJob, Source};
use super::pinned::{self, BootClock, Entry, ExeContent, Outcome, Reader};
use super::pool::Pool;
use super::probe::{self, Unlisted};
use super::procfs;
use crate::collector::{CollectError, Context, Output};
use crate::records::process::{ProcessRecord, FILE};
use crate::shared::{list_pids, FdScan, StartTicks};

/// A read of process memory still running after this long is declared
/// hung and its worker replaced.
const HUNG_AFTER: Duration = Duration::from_secs(1);

/// After this many hung reads, process memory is no longer read at all.
const MAX_HUNG: usize = 8;

/// `PID_MAX_LIMIT` on 64-bit kernels, assumed when `pid_max` is unreadable.
const PID_MAX_LIMIT: u32 = 4_194_304;

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let users = read_users(ctx, out);
    let proc_dir = open_proc().map_err(|source| CollectError::Io {
        what: "/proc".into(),
        source,
    })?;
    let clock = BootClock::now();
    let listing_ticks = clock.ticks_now();
    let mut listing_gaps = Vec::new();
    let pids = list_pids(&proc_dir, &mut listing_gaps);
    for g in listing_gaps {
        out.gap(g.what, g.cause);
    }
    if pids.is_empty() {
        return Err(CollectError::Other("/proc lists no process".into()));
    }
    let shared_scan_done = ctx.shared.fd_scan_if_done().is_some();
    let reader = Arc::new(Reader {
        proc_dir,
        clock,
        page_size: rustix::param::page_size() as u64,
        hash: !ctx.no_hash,
        exe_budget: AtomicUsize::new(exe_budget()),
        seen_exes: Mutex::new(HashSet::new()),
        shared: Arc::clone(&ctx.shared),
    });
    let pool = Pool {
        threads: workers(),
        hung_after: HUNG_AFTER,
        max_hung: MAX_HUNG,
        deadline: ctx.deadline,
    };

    let mut entries = BTreeMap::new();
    read_into(&pool, &reader, pids.clone(), &mut entries, out);

    let (hidden, unreadable) = probe_hidden(&reader, &pids, &entries, out);
    for record in unreadable {
        entries.insert(record.pid, Entry::bare(record));
    }
    if !hidden.is_empty() {
        let mut found = BTreeMap::new();
        read_into(&pool, &reader, hidden, &mut found, out);
        for (pid, mut e) in found {
            if e.start_ticks >= listing_ticks {
                log::debug!("pid {pid} started after the listing: new, not hidden");
                continue;
            }
            log::warn!("pid {pid} exists but is missing from the /proc listing");
            e.record.hidden_from_listing = true;
            entries.insert(pid, e);
        }
    }

    if !shared_scan_done {
        provide_scan(ctx, &entries);
    }
    for e in entries.values_mut() {
        e.record.user = e.record.uid.and_then(|u| users.get(&u).cloned());
        for (what, cause) in entry_gaps(e) {
            out.gap(what, cause);
        }
    }

    if ctx.no_hash {
        write(out, entries.into_values().map(|e| e.record));
        return Ok(());
    }
    let jobs = hash_jobs(&reader, &mut entries, out);
    out.defer(Box::new(move |ctx: &Context, out: &mut Output| {
        let hashed = hashing::hash_all(jobs, workers(), ctx.deadline, ctx.progress);
        for (label, cause) in hashed.failed {
            out.gap(format!("sha256 of {label}"), cause);
        }
        if !hashed.unfinished.is_empty() {
            out.mark_timed_out();
        }
        for label in hashed.unfinished {
            out.gap(
                format!("sha256 of {label}"),
                "not finished before the deadline",
            );
        }
        write(
            out,
            entries.into_values().map(|mut e| {
                e.record.sha256 = e.exe_key.and_then(|k| hashed.digests.get(&k).cloned());
                e.record
            }),
        );
    }));
    Ok(())
}

fn open_proc() -> std::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(
        rustix::fs::CWD,
        "/proc",
        flags,
        Mode::empty(),
    )?)
}

/// Worker threads: one per core, at most four (the work is system calls).
fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
}

/// How many executables may be held open until hashing: half the
/// descriptor limit, at most 4096, so the rest of the run keeps room.
fn exe_budget() -> usize {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(1024);
    usize::try_from(limit / 2).unwrap_or(4096).min(4096)
}

fn read_users(ctx: &Context, out: &mut Output) -> HashMap<u32, String> {
    let path = ctx.host_path("/etc/passwd");
    match std::fs::read(&path) {
        Ok(bytes) => procfs::parse_passwd(&bytes),
        Err(e) => {
            out.gap(
                path.display().to_string(),
                format!("{e}; user names left null"),
            );
            HashMap::new()
        }
    }
}

/// Reads `pids` on the pool into `entries`; everything that could not be
/// read becomes a gap.
fn read_into(
    pool: &Pool,
    reader: &Arc<Reader>,
    pids: Vec<u32>,
    entries: &mut BTreeMap<u32, Entry>,
    out: &mut Output,
) {
    let r = Arc::clone(reader);
    let result = pool.run(pids, move |pid, guard| r.read(pid, guard));
    for outcome in result.done {
        match outcome {
            Outcome::Read(e) => {
                entries.insert(e.record.pid, *e);
            }
            Outcome::Gone { pid, cause } => out.gap(format!("/proc/{pid}"), cause),
        }
    }
    for outcome in result.hung {
        match outcome {
            Outcome::Read(mut e) => {
                e.notes.push(format!(
                    "cmdline, environ: the read blocked for over {} ms (the process \
                     is probably in uninterruptible sleep); abandoned",
                    HUNG_AFTER.as_millis()
                ));
                entries.insert(e.record.pid, *e);
            }
            Outcome::Gone { pid, cause } => out.gap(format!("/proc/{pid}"), cause),
        }
    }
    for (pid, message) in result.panicked {
        out.gap(
            format!("/proc/{pid}"),
            format!("reading it panicked: {message}"),
        );
    }
    if !result.not_started.is_empty() {
        out.mark_timed_out();
        out.gap(
            format!("{} processes", result.not_started.len()),
            format!(
                "not read before the deadline (PIDs {}..={})",
                result.not_started[0],
                result.not_started[result.not_started.len() - 1]
            ),
        );
    }
}

/// Probes for PIDs missing from the listing; returns the thread group
/// leaders among them (to be read), and a bare record for each one that
/// answers signals but cannot be read.
fn probe_hidden(
    reader: &Reader,
    listed: &[u32],
    entries: &BTreeMap<u32, Entry>,
    out: &mut Output,
) -> (Vec<u32>, Vec<ProcessRecord>) {
    let listed_set: BTreeSet<u32> = listed.iter().copied().collect();
    let threads: HashSet<u32> = entries
        .values()
        .flat_map(|e| e.tids.iter().copied())
        .collect();
    let named = entries.values().flat_map(|e| {
        let r = &e.record;
        [r.ppid, r.pgid, r.session].into_iter().flatten()
    });
    let pid_max = read_number("/proc/sys/kernel/pid_max").unwrap_or(PID_MAX_LIMIT);
    let last_pid = read_number("/proc/sys/kernel/ns_last_pid");
    let max_listed = listed.last().copied().unwrap_or(0);
    let ranges = probe::plan(max_listed, last_pid, pid_max);
    log::debug!("probing PIDs {ranges:?} for entries missing from the /proc listing");
    let candidates = probe::candidates(
        &ranges,
        named,
        &listed_set,
        &threads,
        workers(),
        probe::answers_signal,
    );
    let mut hidden = Vec::new();
    let mut unreadable = Vec::new();
    for pid in candidates {
        match probe::classify(&reader.proc_dir, pid) {
            Unlisted::Process => hidden.push(pid),
            Unlisted::Thread { tgid } => log::debug!("pid {pid} is a thread of {tgid}"),
            Unlisted::Gone => log::debug!("pid {pid} exited while probed"),
            Unlisted::Unreadable(e) => {
                out.gap(
                    format!("/proc/{pid}"),
                    format!("answers signal 0 but is missing from the listing and unreadable: {e}"),
                );
                // A record all the same, so that the finding names it.
                unreadable.push(ProcessRecord {
                    pid,
                    hidden_from_listing: true,
                    ..ProcessRecord::default()
                });
            }
        }
    }
    (hidden, unreadable)
}

fn read_number(path: &str) -> Option<u32> {
    match std::fs::read_to_string(path) {
        Ok(s) => s.trim().parse().ok(),
        Err(e) => {
            log::debug!("{path}: {e}");
            None
        }
    }
}

/// Hands the descriptors read here to the shared scan, for collectors
/// that run later.
fn provide_scan(ctx: &Context, entries: &BTreeMap<u32, Entry>) {
    let mut scan = FdScan::default();
    let mut ticks = StartTicks::new();
    for (&pid, e) in entries {
        if let Some(fds) = &e.own_fds {
            scan.processes.insert(pid, fds.clone());
            ticks.insert(pid, e.start_ticks);
        }
    }
    scan.index_owners();
    if !ctx.shared.provide_fd_scan(scan, ticks) {
        log::debug!("a descriptor scan was made meanwhile; ours is dropped");
    }
}

/// The gaps of one process: at most one for what it lost by exiting, one
/// for what it refused, and one for each other failure. Files a zombie or
/// kernel thread has not got are no gap.
fn entry_gaps(e: &mut Entry) -> Vec<(String, String)> {
    let what = format!("/proc/{} ({})", e.record.pid, e.record.name);
    let dead = e.is_dead() || e.record.kernel_thread;
    let mut gone = Vec::new();
    let mut denied = Vec::new();
    let mut gaps = Vec::new();
    for (file, err) in e.unread.drain(..) {
        match err.raw_os_error() {
            Some(libc::ENOENT | libc::ESRCH) if dead => {}
            Some(libc::ENOENT | libc::ESRCH) if e.exited => gone.push(file),
            Some(libc::EACCES | libc::EPERM) => denied.push(file),
            _ => gaps.push((what.clone(), format!("{file}: {err}"))),
        }
    }
    if e.exited {
        let lost = if gone.is_empty() {
            String::new()
        } else {
            format!("; not read: {}", gone.join(", "))
        };
        gaps.push((
            what.clone(),
            format!("exited during the read, record kept{lost}"),
        ));
    }
    if !denied.is_empty() {
        gaps.push((
            what.clone(),
            format!("permission denied: {}", denied.join(", ")),
        ));
    }
    for note in e.notes.drain(..) {
        gaps.push((what.clone(), note));
    }
    gaps
}

/// One hashing job per distinct executable.
fn hash_jobs(
    reader: &Arc<Reader>,
    entries: &mut BTreeMap<u32, Entry>,
    out: &mut Output,
) -> Vec<HashJob> {
    let mut jobs = Vec::new();
    for e in entries.values_mut() {
        let Some((key, content)) = e.exe_content.take() else {
            continue;
        };
        let label = e.record.exe.clone().unwrap_or_default();
        let source = match content {
            ExeContent::Open(f) => Source::Open(f),
            ExeContent::Reopen => {
                let (r, pid, start) = (Arc::clone(reader), e.record.pid, e.start_ticks);
                Source::Later(Box::new(move || {
                    pinned::reopen_exe(&r.proc_dir, pid, start, key)
                }))
            }
            ExeContent::Failed(err) => {
                out.gap(
                    format!("sha256 of {label} (pid {})", e.record.pid),
                    format!("could not open it: {err}"),
                );
                continue;
            }
        };
        jobs.push(HashJob { key, label, source });
    }
    jobs
}

fn write(out: &mut Output, records: impl Iterator<Item = ProcessRecord>) {
    for r in records {
        out.record(FILE, &r);
    }
}
