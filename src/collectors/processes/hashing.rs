//! SHA-256 of executables, each distinct file once, on every core, after
//! the volatile collectors have finished.
//!
//! The caller hands over files it already opened (on Linux through
//! `/proc/<pid>/exe`, which still reads a deleted binary) or a way to open
//! them. Workers are detached threads: a read that hangs (an executable on
//! a dead network file system) is abandoned at the deadline and its file
//! reported as not hashed, and the collection goes on. Progress goes to
//! stderr, only when asked for and only once hashing has run for a second.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Identifies one file: device and inode.
pub type FileKey = (u64, u64);

/// How to get at one file's content.
pub enum Source {
    /// A descriptor opened while the process was pinned.
    Open(File),
    /// Opened when its turn comes (for when too many files are open).
    Later(Box<dyn FnOnce() -> io::Result<File> + Send>),
}

/// One file to hash.
pub struct HashJob {
    /// Its identity.
    pub key: FileKey,
    /// How it is shown in gaps (its path).
    pub label: String,
    /// Its content.
    pub source: Source,
}

/// What hashing produced.
#[derive(Debug, Default)]
pub struct Hashed {
    /// Lowercase hex SHA-256 by file.
    pub digests: HashMap<FileKey, String>,
    /// Files that could not be read, with the cause.
    pub failed: Vec<(String, String)>,
    /// Files not finished before the deadline.
    pub unfinished: Vec<String>,
}

/// Bytes read per call; large enough that a 100 MiB binary is a few
/// hundred reads.
const CHUNK: usize = 256 * 1024;

/// Hashes every job on up to `threads` workers, returning by `deadline`
/// whatever state the workers are in.
pub fn hash_all(jobs: Vec<HashJob>, threads: usize, deadline: Instant, progress: bool) -> Hashed {
    let total = jobs.len();
    let labels: HashMap<FileKey, String> = jobs.iter().map(|j| (j.key, j.label.clone())).collect();
    let queue = Arc::new(Mutex::new(jobs));
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<(FileKey, io::Result<String>)>();
    for _ in 0..threads.clamp(1, total.max(1)) {
        let (queue, stop, tx) = (Arc::clone(&queue), Arc::clone(&stop), tx.clone());
        let spawned = std::thread::Builder::new()
            .name("irdump-hash".into())
            .spawn(move || loop {
                let job = queue.lock().unwrap_or_else(PoisonError::into_inner).pop();
                let Some(job) = job else { break };
                let result = hash_source(job.source, &stop);
                if tx.send((job.key, result)).is_err() {
                    break;
                }
            });
        if let Err(e) = spawned {
            log::debug!("could not start a hashing thread: {e}");
        }
    }
    drop(tx);

    let start = Instant::now();
    let mut out = Hashed::default();
    let mut shown = false;
    let mut received = std::collections::HashSet::new();
    while received.len() < total {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let wait = deadline
            .saturating_duration_since(now)
            .min(Duration::from_millis(250));
        match rx.recv_timeout(wait) {
            Ok((key, result)) => {
                received.insert(key);
                match result {
                    Ok(digest) => {
                        out.digests.insert(key, digest);
                    }
                    Err(e) => {
                        let label = labels.get(&key).cloned().unwrap_or_default();
                        out.failed.push((label, e.to_string()));
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Every worker is gone (none could start, or all finished).
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if progress && start.elapsed() >= Duration::from_secs(1) {
            let mut err = io::stderr().lock();
            let _ = write!(
                err,
                "\rirdump: hashing executables {}/{total}",
                received.len()
            );
            let _ = err.flush();
            shown = true;
        }
    }
    stop.store(true, Ordering::Relaxed);
    if shown {
        let _ = writeln!(io::stderr().lock());
    }
    for (key, label) in labels {
        if !received.contains(&key) {
            out.unfinished.push(label);
        }
    }
    out.unfinished.sort();
    out
}

fn hash_source(source: Source, stop: &AtomicBool) -> io::Result<String> {
    let mut file = match source {
        Source::Open(f) => f,
        Source::Later(open) => open()?,
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("stopped at the deadline"));
        }
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

    use super::*;

    #[test]
    fn known_digests_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"abc").unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        let jobs = vec![
            HashJob {
                key: (1, 1),
                label: "a".into(),
                source: Source::Open(File::open(&a).unwrap()),
            },
            HashJob {
                key: (1, 2),
                label: "empty".into(),
                source: Source::Later(Box::new(move || File::open(empty))),
            },
            HashJob {
                key: (1, 3),
                label: "missing".into(),
                source: Source::Later(Box::new(|| File::open("/nonexistent/irdump"))),
            },
        ];
        let out = hash_all(jobs, 2, Instant::now() + Duration::from_secs(10), false);
        assert_eq!(
            out.digests[&(1, 1)],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            out.digests[&(1, 2)],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(out.failed.len(), 1);
        assert_eq!(out.failed[0].0, "missing");
        assert!(out.unfinished.is_empty());
    }

    /// A file whose read blocks forever (a FIFO with no writer) is
    /// reported unfinished at the deadline instead of stalling the run.
    #[cfg(unix)]
    #[test]
    fn a_hung_read_ends_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("exe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let jobs = vec![HashJob {
            key: (9, 9),
            label: "fifo".into(),
            source: Source::Later(Box::new(move || File::open(fifo))),
        }];
        let start = Instant::now();
        let out = hash_all(jobs, 1, Instant::now() + Duration::from_millis(300), false);
        assert!(start.elapsed() < Duration::from_secs(3));
        assert_eq!(out.unfinished, vec!["fifo".to_owned()]);
    }
}
