//! The upload's background thread: files go out in the order they were
//! handed over (most volatile first), each with bounded retries, while the
//! runner carries on collecting. A slow or dead destination never delays a
//! collector; the runner waits for the thread only when it needs the
//! outcome (before writing `collection.json`, and at the very end).
//!
//! [`Queue::snapshot`] lets the runner record progress in
//! `collection.json` without letting the network hold the local bundle
//! hostage: it waits a bounded time for the files in flight and reports the
//! rest as still queued.
//!
//! The first file that cannot be delivered (after its retries, or at once
//! for a permanent failure) marks the destination as unusable: the files
//! after it are not tried and are reported as `not_sent` with that cause,
//! so an unreachable destination costs one file's retries, not every
//! file's.

use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::destination::Secrets;
use super::retry::{self, Failure, Policy};
use crate::records::collection::{UploadStatus, UploadedFile};

/// What became of one file handed to a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Stored at the destination, digest checked.
    Stored,
    /// Kept for a single transfer at the end (the presigned archive).
    Held,
}

/// A destination, driven by the background thread.
pub trait Store: Send {
    /// Delivers one file (or holds it for [`Store::finish`]).
    ///
    /// # Errors
    ///
    /// The attempt failed; [`Failure::transient`] says whether to retry.
    fn put(&mut self, name: &str, data: &[u8]) -> Result<Delivery, Failure>;

    /// Sends what was held and closes the connection.
    ///
    /// # Errors
    ///
    /// As [`Store::put`].
    fn finish(&mut self) -> Result<(), Failure>;
}

struct Job {
    name: String,
    data: Vec<u8>,
}

/// Outcomes so far, shared with the thread.
#[derive(Default)]
struct Progress {
    files: Mutex<Vec<UploadedFile>>,
    changed: Condvar,
}

impl Progress {
    fn push(&self, file: UploadedFile) {
        if let Ok(mut files) = self.files.lock() {
            files.push(file);
        }
        self.changed.notify_all();
    }
}

/// The handle to the background thread.
pub struct Queue {
    tx: mpsc::Sender<Job>,
    worker: JoinHandle<Vec<UploadedFile>>,
    progress: Arc<Progress>,
}

impl Queue {
    /// Starts the thread. `shown` names the destination in log lines;
    /// every failure is passed through `secrets` before it is kept.
    ///
    /// # Errors
    ///
    /// The thread could not be started.
    pub fn start(
        store: Box<dyn Store>,
        shown: String,
        secrets: Secrets,
        policy: Policy,
    ) -> std::io::Result<Queue> {
        let (tx, rx) = mpsc::channel();
        let progress = Arc::new(Progress::default());
        let shared = Arc::clone(&progress);
        let worker = std::thread::Builder::new()
            .name("upload".into())
            .spawn(move || work(&rx, store, &shown, &secrets, &policy, &shared))?;
        Ok(Queue {
            tx,
            worker,
            progress,
        })
    }

    /// Hands one file over. False if the thread is gone.
    pub fn send(&self, name: &str, data: Vec<u8>) -> bool {
        self.tx
            .send(Job {
                name: name.to_owned(),
                data,
            })
            .is_ok()
    }

    /// The outcomes of the files dealt with so far, after waiting at most
    /// `wait` for the first `handed` files to be dealt with.
    pub fn snapshot(&self, handed: usize, wait: Duration) -> Vec<UploadedFile> {
        let until = Instant::now() + wait;
        let Ok(mut files) = self.progress.files.lock() else {
            return Vec::new();
        };
        while files.len() < handed {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.progress.changed.wait_timeout(files, left) {
                Ok((guard, _)) => files = guard,
                Err(_) => return Vec::new(),
            }
        }
        files.clone()
    }

    /// Closes the queue, lets the thread send what it holds, and returns
    /// every file's outcome; `None` if the thread died.
    pub fn finish(self) -> Option<Vec<UploadedFile>> {
        drop(self.tx);
        self.worker.join().ok()
    }
}

fn work(
    rx: &mpsc::Receiver<Job>,
    mut store: Box<dyn Store>,
    shown: &str,
    secrets: &Secrets,
    policy: &Policy,
    progress: &Progress,
) -> Vec<UploadedFile> {
    let scrub = |f: Failure| Failure {
        cause: secrets.scrub(&f.cause),
        ..f
    };
    let mut files: Vec<UploadedFile> = Vec::new();
    let mut down: Option<String> = None;
    for Job { name, data } in rx {
        let mut entry = UploadedFile {
            name,
            status: UploadStatus::NotSent,
            bytes: data.len() as u64,
            attempts: 0,
            finished: None,
            cause: None,
        };
        if let Some(cause) = &down {
            entry.cause = Some(format!("not tried: {cause}"));
            progress.push(entry.clone());
            files.push(entry);
            continue;
        }
        let mut first_cause: Option<String> = None;
        let (result, attempts) = retry::run(
            policy,
            |_| store.put(&entry.name, &data).map_err(scrub),
            |f, wait| {
                first_cause.get_or_insert_with(|| f.cause.clone());
                announce_retry(shown, &entry.name, f, wait);
            },
            std::thread::sleep,
        );
        entry.attempts = attempts;
        let result = result.map_err(|f| Failure {
            cause: match first_cause {
                Some(first) if first != f.cause => format!("{first}, then {}", f.cause),
                _ => f.cause,
            },
            ..f
        });
        match result {
            Ok(Delivery::Stored) => {
                log::debug!(
                    "uploaded {} ({} bytes) to {shown} in {attempts} attempt(s)",
                    entry.name,
                    entry.bytes
                );
                entry.status = UploadStatus::Uploaded;
                entry.finished = Some(Timestamp::now());
            }
            Ok(Delivery::Held) => entry.status = UploadStatus::Pending,
            Err(f) => {
                let cause = with_attempts(&f.cause, attempts);
                log::debug!("upload of {} to {shown} failed: {cause}", entry.name);
                down = Some(format!("{} failed: {cause}", entry.name));
                entry.status = UploadStatus::Failed;
                entry.cause = Some(cause);
            }
        }
        progress.push(entry.clone());
        files.push(entry);
    }

    let held = files.iter().any(|f| f.status == UploadStatus::Pending);
    let (finished, attempts) = match &down {
        Some(cause) => (Err(Failure::permanent(format!("not tried: {cause}"))), 0),
        None => retry::run(
            policy,
            |_| store.finish().map_err(scrub),
            |f, wait| announce_retry(shown, "the archive", f, wait),
            std::thread::sleep,
        ),
    };
    if held {
        let now = Timestamp::now();
        for f in files
            .iter_mut()
            .filter(|f| f.status == UploadStatus::Pending)
        {
            f.attempts = attempts;
            match &finished {
                Ok(()) => {
                    f.status = UploadStatus::Uploaded;
                    f.finished = Some(now);
                }
                Err(e) => {
                    f.status = if attempts == 0 {
                        UploadStatus::NotSent
                    } else {
                        UploadStatus::Failed
                    };
                    f.cause = Some(with_attempts(&e.cause, attempts));
                }
            }
        }
    } else if let Err(e) = finished {
        log::debug!("closing the upload to {shown}: {}", e.cause);
    }
    files
}

/// `cause`, saying how many attempts it took to give up.
fn with_attempts(cause: &str, attempts: u32) -> String {
    if attempts > 1 {
        format!("{cause} (after {attempts} attempts)")
    } else {
        cause.to_owned()
    }
}

fn announce_retry(shown: &str, what: &str, f: &Failure, wait: Duration) {
    log::warn!(
        "upload of {what} to {shown}: {}; retrying in {:.1} s",
        f.cause,
        wait.as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::destination::Destination;

    /// A store that fails as scripted, recording what reached it.
    struct Scripted {
        /// Failures to return, in order, before succeeding.
        failures: Vec<Failure>,
        stored: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
        hold: bool,
    }

    impl Store for Scripted {
        fn put(&mut self, name: &str, _data: &[u8]) -> Result<Delivery, Failure> {
            if !self.failures.is_empty() {
                return Err(self.failures.remove(0));
            }
            self.stored.lock().unwrap().push(name.to_owned());
            Ok(if self.hold {
                Delivery::Held
            } else {
                Delivery::Stored
            })
        }

        fn finish(&mut self) -> Result<(), Failure> {
            Ok(())
        }
    }

    const FAST: Policy = Policy {
        attempts: 3,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
    };

    fn queue(
        failures: Vec<Failure>,
        hold: bool,
    ) -> (Queue, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        let stored = std::sync::Arc::default();
        let store = Scripted {
            failures,
            stored: std::sync::Arc::clone(&stored),
            hold,
        };
        let secrets = Destination::parse(
            "https://h.example/o?X-Amz-Signature=SIGNATURE123456",
            false,
            &|_| None,
        )
        .unwrap()
        .secrets();
        let q = Queue::start(Box::new(store), "dest".into(), secrets, FAST).unwrap();
        (q, stored)
    }

    #[test]
    fn files_leave_in_order_and_a_transient_failure_is_retried() {
        let (q, stored) = queue(vec![Failure::transient("HTTP 503")], false);
        assert!(q.send("network.jsonl", b"n".to_vec()));
        assert!(q.send("processes.jsonl", b"p".to_vec()));
        let snap = q.snapshot(2, Duration::from_secs(10));
        assert_eq!(snap.len(), 2);
        assert_eq!(snap[0].attempts, 2);
        let files = q.finish().unwrap();
        assert!(files.iter().all(|f| f.status == UploadStatus::Uploaded));
        assert_eq!(
            *stored.lock().unwrap(),
            ["network.jsonl", "processes.jsonl"]
        );
    }

    #[test]
    fn a_dead_destination_stops_the_rest_and_secrets_are_scrubbed() {
        let (q, stored) = queue(
            vec![Failure::permanent(
                "HTTP 403 AccessDenied for X-Amz-Signature=SIGNATURE123456",
            )],
            false,
        );
        q.send("network.jsonl", b"n".to_vec());
        q.send("processes.jsonl", b"p".to_vec());
        let files = q.finish().unwrap();
        assert_eq!(files[0].status, UploadStatus::Failed);
        assert_eq!(files[0].attempts, 1);
        let cause = files[0].cause.clone().unwrap();
        assert!(!cause.contains("SIGNATURE123456"), "{cause}");
        assert_eq!(files[1].status, UploadStatus::NotSent);
        assert!(files[1]
            .cause
            .clone()
            .unwrap()
            .contains("network.jsonl failed"));
        assert!(stored.lock().unwrap().is_empty());
    }

    /// A destination that takes its time.
    struct Slow;

    impl Store for Slow {
        fn put(&mut self, _name: &str, _data: &[u8]) -> Result<Delivery, Failure> {
            std::thread::sleep(Duration::from_millis(500));
            Ok(Delivery::Stored)
        }

        fn finish(&mut self) -> Result<(), Failure> {
            Ok(())
        }
    }

    #[test]
    fn snapshot_does_not_wait_past_its_bound() {
        let q = Queue::start(Box::new(Slow), "dest".into(), Secrets::default(), FAST).unwrap();
        q.send("a", b"a".to_vec());
        // Empty: it returned before the 500 ms put finished.
        assert!(q.snapshot(1, Duration::from_millis(50)).is_empty());
        assert_eq!(q.snapshot(1, Duration::from_secs(10)).len(), 1);
        assert_eq!(q.finish().unwrap()[0].status, UploadStatus::Uploaded);
    }

    #[test]
    fn held_files_are_uploaded_by_finish() {
        let (q, _) = queue(Vec::new(), true);
        q.send("a", b"a".to_vec());
        assert_eq!(
            q.snapshot(1, Duration::from_secs(10))[0].status,
            UploadStatus::Pending
        );
        let files = q.finish().unwrap();
        assert_eq!(files[0].status, UploadStatus::Uploaded);
    }
}
