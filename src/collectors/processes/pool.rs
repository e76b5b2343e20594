//! Reading many processes on every core, with a watchdog for reads that
//! never return.
//!
//! Reading `/proc/<pid>/cmdline` or `environ` takes the target's memory
//! map lock; if the target is stuck in uninterruptible sleep while holding
//! it (a page fault on a dead NFS server, a hung FUSE daemon), the read
//! blocks, and no signal or timeout can interrupt it. So each worker
//! thread, before such a read, parks what it has read of the process so
//! far in its slot. The calling thread watches the slots: a read still
//! running after [`Pool::hung_after`] gets its worker abandoned (the thread
//! is left blocked and never joined) and a fresh worker takes over the
//! queue. If the slow read does return before the pool finishes, its
//! result is used after all; otherwise the parked partial result is
//! returned as hung, for the caller to record with a gap.
//!
//! Platform-neutral: the per-item reading function is the caller's.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How the pool runs.
#[derive(Debug, Clone)]
pub struct Pool {
    /// Worker threads at a time.
    pub threads: usize,
    /// A guarded read running longer than this is declared hung.
    pub hung_after: Duration,
    /// After this many hung reads, guarded reads are skipped altogether
    /// (each abandoned worker is a thread left blocked in the kernel).
    pub max_hung: usize,
    /// No new item is started after this instant.
    pub deadline: Instant,
}

/// What the pool produced.
#[derive(Debug)]
pub struct PoolOutput<T> {
    /// Items read to the end (in no particular order).
    pub done: Vec<T>,
    /// Partial results of items whose guarded read never returned.
    pub hung: Vec<T>,
    /// Items not started because the deadline passed.
    pub not_started: Vec<u32>,
    /// Items whose reading function panicked, with the panic message.
    pub panicked: Vec<(u32, String)>,
}

/// The outcome of [`Guard::risky`].
pub enum Risky<T, R> {
    /// The read returned: the partial result back and the read's value.
    Done(T, R),
    /// Not attempted: too many reads have hung already.
    Skipped(T),
    /// The watchdog gave up on this worker and took the partial result;
    /// whatever the worker does now is discarded.
    Abandoned,
}

/// One worker's slot, shared with the watching thread.
struct Slot<T> {
    state: Mutex<SlotState<T>>,
}

struct SlotState<T> {
    done: Vec<T>,
    panicked: Vec<(u32, String)>,
    in_flight: Option<(Instant, T)>,
    abandoned: bool,
    finished: bool,
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, SlotState<T>> {
        // A worker that panicked leaves consistent data behind (every
        // update is a single assignment), so a poisoned lock is used as is.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Handed to the reading function for the item it reads.
pub struct Guard<'a, T> {
    slot: &'a Slot<T>,
    skip: &'a AtomicBool,
}

impl<T> Guard<'_, T> {
    /// Runs `read`, a read that may block forever, with `partial` (what
    /// was read of the item so far) parked where the watchdog can take it.
    pub fn risky<R>(&self, partial: T, read: impl FnOnce() -> R) -> Risky<T, R> {
        if self.skip.load(Ordering::Relaxed) {
            return Risky::Skipped(partial);
        }
        self.slot.lock().in_flight = Some((Instant::now(), partial));
        let value = read();
        match self.slot.lock().in_flight.take() {
            Some((_, partial)) => Risky::Done(partial, value),
            None => Risky::Abandoned,
        }
    }
}

type ReadFn<T> = dyn Fn(u32, &Guard<'_, T>) -> Option<T> + Send + Sync;

struct Shared<T> {
    items: Vec<u32>,
    next: AtomicUsize,
    skip: AtomicBool,
    deadline: Instant,
    read: Box<ReadFn<T>>,
    watcher: Thread,
}

impl Pool {
    /// Reads every item with `read` on [`Pool::threads`] workers and
    /// returns when each item is done, hung or past the deadline. `read`
    /// returns `None` for an item that yields nothing (it records why
    /// itself).
    pub fn run<T, F>(&self, items: Vec<u32>, read: F) -> PoolOutput<T>
    where
        T: Send + 'static,
        F: Fn(u32, &Guard<'_, T>) -> Option<T> + Send + Sync + 'static,
    {
        let shared = Arc::new(Shared {
            items,
            next: AtomicUsize::new(0),
            skip: AtomicBool::new(false),
            deadline: self.deadline,
            read: Box::new(read),
            watcher: thread::current(),
        });
        let mut slots: Vec<Arc<Slot<T>>> = Vec::new();
        let mut spawn_failures = 0;
        for _ in 0..self.threads.max(1) {
            match spawn_worker(&shared) {
                Some(slot) => slots.push(slot),
                None => spawn_failures += 1,
            }
        }
        if slots.is_empty() {
            log::warn!("no worker thread could be started; reading on this thread");
            slots.push(run_inline(&shared));
        } else if spawn_failures > 0 {
            log::debug!("{spawn_failures} worker threads could not be started");
        }

        let mut hung = 0;
        loop {
            thread::park_timeout(Duration::from_millis(20));
            let now = Instant::now();
            let mut running = 0;
            let mut replace = 0;
            for slot in &slots {
                let mut st = slot.lock();
                if st.finished || st.abandoned {
                    continue;
                }
                let stuck = st
                    .in_flight
                    .as_ref()
                    .is_some_and(|(since, _)| now.duration_since(*since) >= self.hung_after);
                if stuck {
                    st.abandoned = true;
                    hung += 1;
                    replace += 1;
                    log::warn!("a read of process memory hung; worker abandoned");
                    if hung >= self.max_hung {
                        shared.skip.store(true, Ordering::Relaxed);
                    }
                } else {
                    running += 1;
                }
            }
            for _ in 0..replace {
                if let Some(slot) = spawn_worker(&shared) {
                    slots.push(slot);
                    running += 1;
                }
            }
            if running == 0 {
                break;
            }
        }

        let mut out = PoolOutput {
            done: Vec::new(),
            hung: Vec::new(),
            not_started: Vec::new(),
            panicked: Vec::new(),
        };
        for slot in &slots {
            let mut st = slot.lock();
            out.done.append(&mut st.done);
            out.panicked.append(&mut st.panicked);
            if let Some((_, partial)) = st.in_flight.take() {
                out.hung.push(partial);
            }
        }
        let started = shared.next.load(Ordering::SeqCst).min(shared.items.len());
        out.not_started = shared.items[started..].to_vec();
        out
    }
}

fn new_slot<T>() -> Arc<Slot<T>> {
    Arc::new(Slot {
        state: Mutex::new(SlotState {
            done: Vec::new(),
            panicked: Vec::new(),
            in_flight: None,
            abandoned: false,
            finished: false,
        }),
    })
}

fn spawn_worker<T: Send + 'static>(shared: &Arc<Shared<T>>) -> Option<Arc<Slot<T>>> {
    let slot = new_slot();
    let (s, sl) = (Arc::clone(shared), Arc::clone(&slot));
    let spawned = thread::Builder::new()
        .name("irdump-proc".into())
        .spawn(move || work(&s, &sl));
    match spawned {
        Ok(_) => Some(slot),
        Err(e) => {
            log::debug!("could not start a worker thread: {e}");
            None
        }
    }
}

fn run_inline<T>(shared: &Arc<Shared<T>>) -> Arc<Slot<T>> {
    let slot = new_slot();
    work(shared, &slot);
    slot
}

fn work<T>(shared: &Shared<T>, slot: &Slot<T>) {
    let guard = Guard {
        slot,
        skip: &shared.skip,
    };
    loop {
        if slot.lock().abandoned || Instant::now() >= shared.deadline {
            break;
        }
        let i = shared.next.fetch_add(1, Ordering::SeqCst);
        let Some(&item) = shared.items.get(i) else {
            break;
        };
        let result = panic::catch_unwind(AssertUnwindSafe(|| (shared.read)(item, &guard)));
        let mut st = slot.lock();
        match result {
            Ok(Some(r)) => st.done.push(r),
            Ok(None) => {}
            Err(p) => {
                let message = p
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                st.in_flight = None;
                st.panicked.push((item, message));
            }
        }
        // An abandoned worker whose read came back late has delivered its
        // item (`risky` took the partial back) and stops here.
        if st.abandoned {
            break;
        }
    }
    let watcher = {
        let mut st = slot.lock();
        st.finished = true;
        shared.watcher.clone()
    };
    watcher.unpark();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

    use super::*;

    fn pool(hung_after_ms: u64) -> Pool {
        Pool {
            threads: 2,
            hung_after: Duration::from_millis(hung_after_ms),
            max_hung: 4,
            deadline: Instant::now() + Duration::from_secs(30),
        }
    }

    #[test]
    fn every_item_is_read_once() {
        let out = pool(1000).run((1..=500).collect(), |i, _| Some(i));
        let mut done = out.done;
        done.sort_unstable();
        assert_eq!(done, (1..=500).collect::<Vec<_>>());
        assert!(out.hung.is_empty() && out.not_started.is_empty());
    }

    /// A read that really blocks in the kernel: opening a FIFO nobody
    /// writes to. The item's partial result comes back as hung, every
    /// other item is read, and the pool returns.
    #[cfg(unix)]
    #[test]
    fn a_blocked_read_costs_only_its_own_item() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("cmdline");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let start = Instant::now();
        let out = pool(200).run((1..=50).collect(), move |i, guard| {
            let partial = (i, "base");
            match guard.risky(partial, || {
                if i == 7 {
                    std::fs::read(&fifo).map(|_| ()).map_err(|e| e.to_string())
                } else {
                    Ok(())
                }
            }) {
                Risky::Done((i, _), _) => Some((i, "whole")),
                Risky::Skipped(p) => Some(p),
                Risky::Abandoned => None,
            }
        });
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(out.hung, vec![(7, "base")]);
        assert_eq!(out.done.len(), 49);
        assert!(out.done.iter().all(|(i, s)| *i != 7 && *s == "whole"));
    }

    #[test]
    fn after_too_many_hangs_risky_reads_are_skipped() {
        let p = Pool {
            max_hung: 1,
            threads: 1,
            ..pool(50)
        };
        let out = p.run((1..=5).collect(), |i, guard| {
            match guard.risky(i, || {
                if i == 1 {
                    thread::sleep(Duration::from_secs(2));
                }
            }) {
                Risky::Done(i, ()) => Some(i * 10),
                Risky::Skipped(i) => Some(i),
                Risky::Abandoned => None,
            }
        });
        assert_eq!(out.hung, vec![1]);
        let mut done = out.done;
        done.sort_unstable();
        assert_eq!(done, vec![2, 3, 4, 5]);
    }

    /// Item 1's read outlives the hung limit, so its worker is replaced;
    /// it returns while the replacement is still busy with item 2, and its
    /// whole result is kept.
    #[test]
    fn a_slow_read_that_returns_before_the_end_is_kept() {
        let p = Pool {
            threads: 1,
            ..pool(30)
        };
        let out = p.run((1..=3).collect(), |i, guard| {
            if i == 2 {
                thread::sleep(Duration::from_millis(400));
            }
            match guard.risky(i, || {
                if i == 1 {
                    thread::sleep(Duration::from_millis(100));
                }
            }) {
                Risky::Done(i, ()) => Some(i),
                Risky::Skipped(i) => Some(i + 100),
                Risky::Abandoned => None,
            }
        });
        let mut done = out.done;
        done.sort_unstable();
        assert_eq!(done, vec![1, 2, 3]);
        assert!(out.hung.is_empty());
    }

    #[test]
    fn a_panicking_item_is_reported_and_the_rest_read() {
        let out = pool(1000).run((1..=20).collect(), |i, _| {
            assert_ne!(i, 13, "unlucky");
            Some(i)
        });
        assert_eq!(out.done.len(), 19);
        assert_eq!(out.panicked.len(), 1);
        assert_eq!(out.panicked[0].0, 13);
        assert!(out.panicked[0].1.contains("unlucky"));
    }

    #[test]
    fn items_after_the_deadline_are_not_started() {
        let p = Pool {
            deadline: Instant::now(),
            ..pool(1000)
        };
        let out = p.run(vec![1, 2, 3], |i, _| Some(i));
        assert!(out.done.is_empty());
        assert_eq!(out.not_started, vec![1, 2, 3]);
    }
}
