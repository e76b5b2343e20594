//! `irdump collect --upload DEST`: the bundle leaves the host while it is
//! being collected.
//!
//! Every file the runner writes is handed to [`Upload::send`] at once and
//! goes out on a background thread ([`queue`]), most volatile first, while
//! the next collector runs; `SHA256SUMS` leaves last. Three destinations:
//!
//! - `s3://bucket/prefix` (`network::s3`): one object per file under
//!   `<prefix>/<host>-<UTC time>/`, each with a signed `x-amz-checksum-sha256`
//!   the server verifies;
//! - a presigned `https://` PUT URL (`network::presigned`): one tar
//!   archive, built in memory and sent at the end with a `Content-MD5` the
//!   server verifies;
//! - `sftp://user@host[:port]/path` (`network::sftp`): a new directory with
//!   one file per bundle file, each read back and compared before it gets
//!   its final name; the server's host key is checked first
//!   (`network::hostkey`).
//!
//! The upload keeps its own manifest of what it was handed and sends it as
//! `SHA256SUMS`, so the uploaded copy verifies on its own even when the
//! local copy could not be written whole (a full disk): `irdump verify` on
//! the downloaded copy names any file that did not arrive.
//!
//! Failures are retried with backoff ([`retry`]); a destination that stays
//! unreachable costs one file's retries, and every file that did not leave
//! is named in [`UploadOutcome`]. No credential, session token or presigned
//! query string appears in a log line, a record or a message: every cause
//! passes through [`Secrets::scrub`], and the messages built from transport
//! errors never include a URL.
//!
//! The transports live in `network` (see there for the crates and why);
//! builds for Apple targets use `unsupported.rs` instead, which refuses
//! `--upload` with a clear error.
//!
//! Network footprint: nothing is sent, and no name is resolved, before the
//! first file is handed over, i.e. after the sockets collector finished, so
//! irdump's own upload connection never appears in `network.jsonl`. The
//! destination's host name is resolved through the host's resolver; give
//! an address to avoid a DNS query.

pub mod destination;
#[cfg(not(target_vendor = "apple"))]
pub mod network;
#[cfg(target_vendor = "apple")]
#[path = "unsupported.rs"]
pub mod network;
pub mod queue;
pub mod retry;

use std::path::PathBuf;
use std::time::Duration;

use crate::bundle::manifest;
use crate::records::collection::{UploadRecord, UploadStatus, UploadedFile};

pub use destination::{Destination, Secrets};

use queue::Queue;
use retry::Policy;

/// How long writing `collection.json` waits for files still in flight: long
/// enough for the retries of a refused connection (7.5 s), short enough that
/// a dead network never holds the local bundle up for long.
pub const RECORD_WAIT: Duration = Duration::from_secs(10);

/// `--upload` and the options that go with it.
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// `--upload DEST`.
    pub destination: String,
    /// `--sftp-key FILE`.
    pub sftp_key: Option<PathBuf>,
    /// `--known-hosts FILE`.
    pub known_hosts: Option<PathBuf>,
    /// `--host-key-fingerprint SHA256:...`.
    pub host_key_fingerprint: Option<String>,
    /// `--s3-path-style`.
    pub s3_path_style: bool,
}

/// Why the upload could not be set up. Raised before anything is collected
/// or written, like any other bad argument.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// `--upload DEST` is not usable.
    #[error("--upload {shown}: {reason}")]
    Destination {
        /// The destination without secrets.
        shown: String,
        /// What is wrong.
        reason: String,
    },
    /// An option that does not fit the destination, or is missing.
    #[error("{0}")]
    Option(String),
    /// `--sftp-key` cannot be used.
    #[error("--sftp-key {path}: {reason}")]
    Key {
        /// The key file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The known-hosts file cannot be used.
    #[error("known hosts file {path}: {reason}")]
    KnownHosts {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// `--host-key-fingerprint` is malformed.
    #[error("--host-key-fingerprint: {0}")]
    Fingerprint(String),
}

/// A checked upload configuration, ready to start.
pub struct Prepared {
    destination: Destination,
    auth: network::Auth,
    policy: Policy,
}

/// Checks the options and reads what they name (key file, known hosts);
/// touches no network.
///
/// # Errors
///
/// [`UploadError`] naming the option and the cause, never a secret.
pub fn prepare(opts: &UploadOptions) -> Result<Prepared, UploadError> {
    let destination = Destination::parse(&opts.destination, opts.s3_path_style, &|name| {
        std::env::var(name).ok()
    })?;
    let is_sftp = matches!(destination, Destination::Sftp(_));
    if !is_sftp
        && (opts.sftp_key.is_some()
            || opts.known_hosts.is_some()
            || opts.host_key_fingerprint.is_some())
    {
        return Err(UploadError::Option(
            "--sftp-key, --known-hosts and --host-key-fingerprint apply to sftp:// destinations only"
                .into(),
        ));
    }
    if opts.s3_path_style && !matches!(destination, Destination::S3(_)) {
        return Err(UploadError::Option(
            "--s3-path-style applies to s3:// destinations only".into(),
        ));
    }
    if let Destination::S3(s) = &destination {
        if s.endpoint.scheme() == "http" && !is_loopback(&s.endpoint) {
            log::warn!(
                "the S3 endpoint {} is plain HTTP: evidence crosses the network unencrypted",
                s.endpoint
            );
        }
    }
    if let Destination::Presigned(p) = &destination {
        if let Some(when) = p.expires.filter(|w| jiff::Timestamp::now() > *w) {
            log::warn!("the presigned URL expired at {when}: the server will refuse the upload");
        }
    }
    let auth = network::prepare_auth(&destination, opts)?;
    Ok(Prepared {
        destination,
        auth,
        policy: Policy::DEFAULT,
    })
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

impl Prepared {
    /// The destination, for messages.
    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    /// Starts the background thread for the bundle `bundle` (`mtime` stamps
    /// the presigned archive's entries). Nothing is sent yet.
    pub fn start(self, bundle: &str, mtime: u64) -> Upload {
        let shown = self.destination.shown(bundle);
        let secrets = self.destination.secrets();
        let (layout, endpoint) = match &self.destination {
            Destination::S3(s) => ("objects", Some(s.endpoint.to_string())),
            Destination::Presigned(_) => ("tar", None),
            Destination::Sftp(_) => ("objects", None),
        };
        let store = network::open_store(&self.destination, self.auth, bundle, mtime);
        let thread_secrets = secrets.clone();
        let queue = store.and_then(|store| {
            Queue::start(store, shown.clone(), thread_secrets, self.policy)
                .map_err(|e| format!("could not start the upload thread: {e}"))
        });
        let (queue, broken) = match queue {
            Ok(q) => (Some(q), None),
            Err(cause) => (None, Some(secrets.scrub(&cause))),
        };
        Upload {
            secrets,
            kind: self.destination.kind(),
            layout,
            destination: shown,
            endpoint,
            queue,
            broken,
            handed: Vec::new(),
        }
    }
}

/// A running upload.
pub struct Upload {
    secrets: Secrets,
    kind: &'static str,
    layout: &'static str,
    destination: String,
    endpoint: Option<String>,
    queue: Option<Queue>,
    /// Why the upload never started, if it did not.
    broken: Option<String>,
    /// Every file handed over: name, size, SHA-256 (the upload's manifest).
    handed: Vec<(String, u64, String)>,
}

impl Upload {
    /// Where the bundle goes, without secrets.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// `text` without the destination's secrets (for the command line
    /// recorded in `collection.json`).
    pub fn scrub(&self, text: &str) -> String {
        self.secrets.scrub(text)
    }

    /// A bundle file with every secret of the destination replaced by
    /// `[redacted]`. irdump's own command line (in `processes.jsonl`, and
    /// in the shell that started it) carries the presigned URL or key it
    /// was given; no copy of the bundle may hold it. Files that are not
    /// UTF-8 never carry our secrets verbatim and are returned unchanged.
    pub fn scrub_file(&self, data: Vec<u8>) -> Vec<u8> {
        match std::str::from_utf8(&data) {
            Ok(text) if self.secrets.appears_in(text) => self.secrets.scrub(text).into_bytes(),
            _ => data,
        }
    }

    /// Hands one file to the background thread; returns at once.
    pub fn send(&mut self, name: &str, data: &[u8]) {
        self.handed.push((
            name.to_owned(),
            data.len() as u64,
            manifest::sha256_hex(data),
        ));
        if let Some(q) = &self.queue {
            if !q.send(name, data.to_vec()) {
                self.broken = Some("the upload thread stopped".into());
            }
        }
    }

    /// The `upload` section of `collection.json`. Waits up to
    /// [`RECORD_WAIT`] for the files handed over so far; those still in
    /// flight then are recorded as `queued`.
    pub fn record(&self) -> UploadRecord {
        let files = match &self.queue {
            Some(q) => {
                let mut files = q.snapshot(self.handed.len(), RECORD_WAIT);
                for (name, bytes, _) in self.handed.iter().skip(files.len()) {
                    files.push(UploadedFile {
                        name: name.clone(),
                        status: UploadStatus::Queued,
                        bytes: *bytes,
                        attempts: 0,
                        finished: None,
                        cause: None,
                    });
                }
                files
            }
            None => self.unsent(self.broken.as_deref()),
        };
        UploadRecord {
            kind: self.kind.into(),
            destination: self.destination.clone(),
            endpoint: self.endpoint.clone(),
            layout: self.layout.into(),
            files,
        }
    }

    /// Sends `SHA256SUMS` over every file handed over, waits for the
    /// background thread to finish, and says how every file fared.
    pub fn finish(mut self) -> UploadOutcome {
        let entries: Vec<(String, String)> = self
            .handed
            .iter()
            .map(|(name, _, digest)| (name.clone(), digest.clone()))
            .collect();
        let text = manifest::render(&entries);
        self.send(manifest::FILE, text.as_bytes());
        let files = match self.queue.take() {
            Some(q) => q
                .finish()
                .unwrap_or_else(|| self.unsent(Some("the upload thread failed"))),
            None => self.unsent(self.broken.as_deref()),
        };
        UploadOutcome {
            destination: self.destination,
            endpoint: self.endpoint,
            files,
        }
    }

    /// Every file handed over, marked not sent for `cause`.
    fn unsent(&self, cause: Option<&str>) -> Vec<UploadedFile> {
        self.handed
            .iter()
            .map(|(name, bytes, _)| UploadedFile {
                name: name.clone(),
                status: UploadStatus::NotSent,
                bytes: *bytes,
                attempts: 0,
                finished: None,
                cause: Some(cause.unwrap_or("the upload did not start").to_owned()),
            })
            .collect()
    }
}

/// How the whole upload went.
#[derive(Debug, Clone)]
pub struct UploadOutcome {
    /// Where, without secrets.
    pub destination: String,
    /// The S3 endpoint, for `s3://` destinations.
    pub endpoint: Option<String>,
    /// Every file, `SHA256SUMS` last.
    pub files: Vec<UploadedFile>,
}

impl UploadOutcome {
    /// True when every file was stored.
    pub fn is_complete(&self) -> bool {
        self.files
            .iter()
            .all(|f| f.status == UploadStatus::Uploaded)
    }

    /// Names of the files that did not leave.
    pub fn not_uploaded(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| f.status != UploadStatus::Uploaded)
            .map(|f| f.name.as_str())
            .collect()
    }

    /// The one-line error for an incomplete upload; `local` says where
    /// the data is on the host ("the local bundle X is complete", "nothing
    /// was written on this host").
    pub fn error_line(&self, local: &str) -> Option<String> {
        if self.is_complete() {
            return None;
        }
        let cause = self
            .files
            .iter()
            .find(|f| f.status == UploadStatus::Failed)
            .or_else(|| self.files.iter().find(|f| f.cause.is_some()))
            .and_then(|f| f.cause.clone())
            .unwrap_or_else(|| "unknown cause".into());
        let missing = self.not_uploaded();
        let sent = self.files.len() - missing.len();
        let at = self
            .endpoint
            .as_ref()
            .map(|e| format!(" at {e}"))
            .unwrap_or_default();
        Some(format!(
            "upload to {}{at} incomplete: {cause}; not uploaded: {}; {sent} of {} files uploaded; {local}",
            self.destination,
            missing.join(", "),
            self.files.len()
        ))
    }
}
