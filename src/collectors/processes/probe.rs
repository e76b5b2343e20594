//! The hidden-PID probe: PIDs that exist but are missing from the `/proc`
//! listing, the mark of a rootkit that filters `getdents64` on `/proc`
//! (most kernel-module rootkits hide processes that way and nothing else).
//!
//! A process exists for the kernel when it answers `kill(pid, 0)` (success
//! or `EPERM`); it is listed when `getdents64` on `/proc` returned it. Every
//! PID in the probed range that answers but was not listed is a candidate.
//! Candidates are also taken, whatever their number, from the parent,
//! process group and session ids of the listed processes: a hidden
//! process's children and group members still name it.
//!
//! Range: when `pid_max` is at most [`BUDGET`] (the kernel's default of
//! 32768), every PID. Otherwise (systemd raises it to 4194304) every PID
//! from 1 to the highest PID listed or last allocated
//! (`/proc/sys/kernel/ns_last_pid`) plus [`MARGIN`]; and when that is more
//! than [`BUDGET`] probes, the first and the last [`BUDGET`]`/2` PIDs of
//! it: the low ones hold what started at boot, the high ones what started
//! recently. At about a microsecond a probe, the budget costs well under a
//! tenth of a second on two cores.
//!
//! Limitation: a hidden process whose PID lies outside the probed range
//! and that leads no group and has no listed child is not found; neither
//! is one hidden by a rootkit that also filters signal delivery.
//!
//! Threads answer a probe and can be opened as `/proc/<tid>` but are never
//! listed: a candidate whose `status` names another thread group (`Tgid`)
//! is a thread, not a hidden process. A candidate that started after the
//! listing was taken is a new process, not a hidden one; the collector
//! checks that from its start time.

use std::collections::{BTreeSet, HashSet};
use std::io;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fd::OwnedFd;
use rustix::process::Pid;

use super::pinned::{open_dir, read_file};
use super::procfs::parse_status;

/// PIDs probed past the highest one known, for processes started (and
/// hidden) since the last allocation the kernel reports.
pub const MARGIN: u32 = 1024;

/// The most PIDs probed in one collection.
pub const BUDGET: u32 = 131_072;

/// The PID ranges to probe, given the highest listed PID, the last PID
/// the kernel allocated and `pid_max`.
pub fn plan(max_listed: u32, last_pid: Option<u32>, pid_max: u32) -> Vec<RangeInclusive<u32>> {
    let highest = pid_max.saturating_sub(1).max(1);
    if highest <= BUDGET {
        return vec![1..=highest];
    }
    let top = max_listed
        .max(last_pid.unwrap_or(0))
        .saturating_add(MARGIN)
        .min(highest);
    if top <= BUDGET {
        return vec![1..=top];
    }
    let half = BUDGET / 2;
    vec![1..=half, (top - half + 1)..=top]
}

/// True when the kernel has a task with this id (in irdump's PID
/// namespace): `kill(pid, 0)` succeeds or is refused for permission.
pub fn answers_signal(pid: u32) -> bool {
    let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return false;
    };
    match rustix::process::test_kill_process(p) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// Every PID in `ranges` or `extra` that is neither in `listed` nor in
/// `threads` and for which `alive` says yes, probed on `workers` threads,
/// sorted.
pub fn candidates(
    ranges: &[RangeInclusive<u32>],
    extra: impl IntoIterator<Item = u32>,
    listed: &BTreeSet<u32>,
    threads: &HashSet<u32>,
    workers: usize,
    alive: impl Fn(u32) -> bool + Sync,
) -> Vec<u32> {
    let mut todo: Vec<u32> = ranges
        .iter()
        .flat_map(|r| r.clone())
        .chain(extra)
        .filter(|p| *p != 0 && !listed.contains(p) && !threads.contains(p))
        .collect();
    todo.sort_unstable();
    todo.dedup();
    const BATCH: usize = 4096;
    let next = AtomicUsize::new(0);
    let work = || {
        let mut found = Vec::new();
        loop {
            let start = next.fetch_add(BATCH, Ordering::Relaxed);
            let Some(batch) = todo.get(start..(start + BATCH).min(todo.len())) else {
                break;
            };
            if batch.is_empty() {
                break;
            }
            found.extend(batch.iter().copied().filter(|&p| alive(p)));
        }
        found
    };
    let mut found = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..workers.max(1))
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(s, work).ok())
            .collect();
        let mut found = work();
        for h in helpers {
            match h.join() {
                Ok(part) => found.extend(part),
                Err(_) => log::warn!("a PID probe thread panicked"),
            }
        }
        found
    });
    found.sort_unstable();
    found
}

/// What an unlisted PID that answered the probe turned out to be.
#[derive(Debug)]
pub enum Unlisted {
    /// A thread group leader: a process absent from the listing.
    Process,
    /// A thread of process `tgid`.
    Thread {
        /// Its thread group.
        tgid: u32,
    },
    /// Gone by the time it was looked at.
    Gone,
    /// Still answers signals but `/proc/<pid>` cannot be read.
    Unreadable(io::Error),
}

/// Looks at an unlisted PID through `/proc/<pid>` (a lookup by name, which
/// a rootkit that filters only the listing does not hide).
pub fn classify(proc_dir: &OwnedFd, pid: u32) -> Unlisted {
    let status = open_dir(proc_dir, &pid.to_string()).and_then(|d| read_file(&d, "status", 2048));
    match status {
        Ok(bytes) => match parse_status(&bytes).tgid {
            Some(tgid) if tgid != pid => Unlisted::Thread { tgid },
            Some(_) => Unlisted::Process,
            None => Unlisted::Unreadable(io::Error::new(
                io::ErrorKind::InvalidData,
                "status has no Tgid line",
            )),
        },
        Err(_) if !answers_signal(pid) => Unlisted::Gone,
        Err(e) => Unlisted::Unreadable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_pid_spaces_are_probed_whole() {
        assert_eq!(plan(30386, Some(4821), 32768), vec![1..=32767]);
        assert_eq!(plan(500, Some(510), 4_194_304), vec![1..=1534]);
    }

    #[test]
    fn large_pid_spaces_probe_both_ends_within_budget() {
        let ranges = plan(3_000_000, Some(12), 4_194_304);
        let top = 3_000_000 + MARGIN;
        assert_eq!(ranges, vec![1..=BUDGET / 2, (top - BUDGET / 2 + 1)..=top]);
        let probes: u32 = ranges.iter().map(|r| r.end() - r.start() + 1).sum();
        assert_eq!(probes, BUDGET);
    }

    #[test]
    fn only_unlisted_live_non_threads_are_candidates() {
        let listed = BTreeSet::from([1, 2, 3, 10]);
        let threads = HashSet::from([11]);
        let alive = |p: u32| matches!(p, 1 | 2 | 3 | 7 | 10 | 11 | 900_000);
        let found = candidates(&[1..=20], [900_000, 0, 7], &listed, &threads, 2, alive);
        assert_eq!(found, vec![7, 900_000]);
    }
}
