//! The contract between the collection runner and each collector.
//!
//! A collector reads one kind of evidence and turns it into records. It never
//! writes files itself: it hands records to an [`Output`], which serialises
//! them into the bundle files the collector declared. Anything it could not
//! read becomes a [`Gap`] with what was missed and why; a collector never
//! skips evidence silently.
//!
//! Collectors run on their own thread with a deadline. A long-running one
//! checks [`Context::expired`] between items, stops early and calls
//! [`Output::mark_timed_out`]; one that does not return at all is abandoned
//! by the runner and recorded as `timed_out`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::records::collection::Gap;
use crate::shared::SharedScans;

/// Everything a collector may consult while it runs.
#[derive(Clone)]
pub struct Context {
    /// Root of the file system that file-based collectors read (`--root`).
    /// Kernel interfaces (`/proc`, netlink) always describe the live host.
    pub root: PathBuf,
    /// `--no-hash`: do not hash executables.
    pub no_hash: bool,
    /// When this collector must have finished.
    pub deadline: Instant,
    /// Show progress on stderr (it is a terminal and `--quiet` is off).
    pub progress: bool,
    /// Scans of the live host shared between collectors (one pass over
    /// `/proc` serves sockets and processes).
    pub shared: Arc<SharedScans>,
}

impl Context {
    /// True once the deadline has passed; long loops stop and record it.
    pub fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Path of `p` (an absolute host path such as `/etc/passwd`) under the
    /// configured root.
    pub fn host_path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }
}

/// Work a collector leaves for later: it runs after the volatile collectors
/// have finished (for example hashing executables) and may still add records
/// and gaps before the collector's files are written.
pub type Deferred = Box<dyn FnOnce(&Context, &mut Output) + Send>;

/// Records, gaps and deferred work produced by one collector.
#[derive(Default)]
pub struct Output {
    files: Vec<(&'static str, Vec<u8>)>,
    records: u64,
    gaps: Vec<Gap>,
    timed_out: bool,
    deferred: Option<Deferred>,
}

impl Output {
    /// An output pre-populated with the collector's files, so that a file
    /// with no records is still written (an empty `.jsonl` means "looked,
    /// found nothing", which differs from "did not look").
    pub fn for_files(names: &[&'static str]) -> Self {
        Output {
            files: names.iter().map(|n| (*n, Vec::new())).collect(),
            ..Output::default()
        }
    }

    /// Appends one record as a JSON line to `file`.
    pub fn record<T: Serialize>(&mut self, file: &'static str, record: &T) {
        let buf = self.buffer(file);
        match serde_json::to_writer(&mut *buf, record) {
            Ok(()) => {
                buf.push(b'\n');
                self.records += 1;
            }
            Err(e) => self.gap(
                format!("record for {file}"),
                format!("serialisation failed: {e}"),
            ),
        }
    }

    /// Writes `file` as a single pretty-printed JSON document.
    pub fn document<T: Serialize>(&mut self, file: &'static str, doc: &T) {
        match serde_json::to_vec_pretty(doc) {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                *self.buffer(file) = bytes;
                self.records += 1;
            }
            Err(e) => self.gap(file, format!("serialisation failed: {e}")),
        }
    }

    /// Records evidence that could not be read: `what` names it (a path, a
    /// PID, a source), `cause` says why.
    pub fn gap(&mut self, what: impl Into<String>, cause: impl ToString) {
        let gap = Gap {
            what: what.into(),
            cause: cause.to_string(),
        };
        log::debug!("gap: {}: {}", gap.what, gap.cause);
        self.gaps.push(gap);
    }

    /// Says the collector stopped early because its deadline passed.
    pub fn mark_timed_out(&mut self) {
        self.timed_out = true;
    }

    /// Leaves work for after the volatile collectors; see [`Deferred`].
    pub fn defer(&mut self, work: Deferred) {
        self.deferred = Some(work);
    }

    /// Gives back the deferred work, if any, leaving none.
    pub fn take_deferred(&mut self) -> Option<Deferred> {
        self.deferred.take()
    }

    /// A copy of the records and gaps so far, without deferred work: what
    /// the runner keeps if the deferred work never returns.
    pub fn snapshot(&self) -> Output {
        Output {
            files: self.files.clone(),
            records: self.records,
            gaps: self.gaps.clone(),
            timed_out: self.timed_out,
            deferred: None,
        }
    }

    /// Number of records so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The gaps recorded so far.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// Whether the collector stopped at its deadline.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// The files and their contents, in declaration order.
    pub fn into_files(self) -> Vec<(&'static str, Vec<u8>)> {
        self.files
    }

    fn buffer(&mut self, file: &'static str) -> &mut Vec<u8> {
        let pos = match self.files.iter().position(|(n, _)| *n == file) {
            Some(pos) => pos,
            None => {
                self.files.push((file, Vec::new()));
                self.files.len() - 1
            }
        };
        &mut self.files[pos].1
    }
}

/// One kind of evidence.
pub trait Collector: Send + Sync {
    /// Name used in `--only`, `--skip` and `collection.json`.
    fn name(&self) -> &'static str;

    /// The bundle files this collector writes.
    fn files(&self) -> &'static [&'static str];

    /// Reads the evidence into `out`.
    ///
    /// # Errors
    ///
    /// Returns an error only when the collector could produce nothing at all
    /// (its status becomes `failed`); partial failures are gaps.
    fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError>;

    /// True for collectors of volatile evidence (sockets, processes,
    /// sessions): they run first, and deferred work waits until they are
    /// all done.
    fn volatile(&self) -> bool {
        false
    }
}

/// Why a collector produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The source could not be read at all.
    #[error("{what}: {source}")]
    Io {
        /// The path or interface that failed.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// This platform has no implementation of the collector.
    #[error("not supported on this platform")]
    Unsupported,
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}
