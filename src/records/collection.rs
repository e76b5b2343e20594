//! `collection.json`: how, when, where and by whom the bundle was made, and
//! what each collector managed to read.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The bundle file name.
pub const FILE: &str = "collection.json";

/// A piece of evidence that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// What was missed: a path, a PID, a source.
    pub what: String,
    /// Why.
    pub cause: String,
}

/// How a collector ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Everything it looked for was read.
    Ok,
    /// Records were written but some evidence is a gap.
    Partial,
    /// Nothing could be collected.
    Failed,
    /// The deadline passed; what was read before it is kept.
    TimedOut,
    /// Not run (`--only`/`--skip`).
    Skipped,
}

/// One collector's line in `collection.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CollectorRun {
    /// Collector name.
    pub name: String,
    /// Status.
    pub status: Status,
    /// Start, null when skipped.
    pub started: Option<Timestamp>,
    /// End, null when skipped or abandoned.
    pub finished: Option<Timestamp>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Records written.
    pub records: u64,
    /// Files written.
    pub files: Vec<String>,
    /// Evidence that could not be read.
    pub gaps: Vec<Gap>,
}

/// Tool identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    /// Always `irdump`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

/// Local time zone at capture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimeZoneInfo {
    /// IANA name where known (`Europe/Paris`), else null.
    pub name: Option<String>,
    /// Offset from UTC at the start, as `+01:00`.
    pub utc_offset: String,
    /// Offset in seconds.
    pub utc_offset_seconds: i32,
}

/// Whether the system clock was synchronised, as the kernel says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClockState {
    /// True when the kernel considers the clock synchronised (NTP or PTP
    /// daemon disciplining it); null when unknown.
    pub synchronized: Option<bool>,
    /// Where the answer came from (`adjtimex`, ...).
    pub source: String,
    /// Estimated error in microseconds, when the kernel gives it.
    pub estimated_error_us: Option<i64>,
}

/// The whole `collection.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collection {
    /// Tool name and version.
    pub tool: Tool,
    /// The command line as it was run.
    pub command_line: Vec<String>,
    /// Case identifier (`--case`).
    pub case: Option<String>,
    /// Examiner (`--examiner`).
    pub examiner: Option<String>,
    /// Host name.
    pub hostname: String,
    /// `/etc/machine-id` (Linux) or the machine GUID (Windows).
    pub machine_id: Option<String>,
    /// Boot id: changes on every boot.
    pub boot_id: Option<String>,
    /// Start of the collection, UTC.
    pub started: Timestamp,
    /// Start in local time with its offset, RFC 3339.
    pub started_local: String,
    /// End of the collection, UTC.
    pub finished: Timestamp,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Local time zone.
    pub timezone: TimeZoneInfo,
    /// Clock synchronisation.
    pub clock: ClockState,
    /// Effective user id of irdump (Unix); null elsewhere.
    pub euid: Option<u32>,
    /// Whether irdump ran with full privileges (root, or elevated).
    pub privileged: bool,
    /// Bundle name (directory name, or top directory inside the archive).
    pub bundle_name: String,
    /// `directory`, `tar`, `tar.gz`, `stdout`, or `none` (`--upload`
    /// without `-o`: nothing written on the host).
    pub output_kind: String,
    /// False when some file could not be written; `incomplete_reason` says why.
    pub complete: bool,
    /// Why the bundle is incomplete.
    pub incomplete_reason: Option<String>,
    /// One entry per collector, in the order they ran.
    pub collectors: Vec<CollectorRun>,
    /// `--upload`: where the bundle was sent and how each file fared, as
    /// known when this file was written. Absent without `--upload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadRecord>,
}

/// The `upload` section of `collection.json`. It never holds a secret: no
/// credentials, session tokens or presigned query strings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadRecord {
    /// `s3`, `presigned` or `sftp`.
    pub kind: String,
    /// Where the bundle goes, without secrets: `s3://bucket/prefix/<bundle>/`
    /// (with the endpoint), the presigned URL without its query string, or
    /// `sftp://user@host:port/path/<bundle>/`.
    pub destination: String,
    /// The S3 endpoint (`https://s3.eu-west-1.amazonaws.com`), for `s3`.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// `objects` (one object or remote file per bundle file) or `tar` (one
    /// archive, sent whole at the end).
    pub layout: String,
    /// Every file handed to the upload before `collection.json` was written,
    /// in the order it was handed over, as known then (irdump waits up to
    /// 10 s for files in flight, then records them as `queued`). `collection.json`, `report.txt` and
    /// `SHA256SUMS` leave after it and are therefore not listed; the
    /// terminal summary and the exit code report them.
    #[serde(default)]
    pub files: Vec<UploadedFile>,
}

/// How one file fared on its way off the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedFile {
    /// Bundle file name.
    pub name: String,
    /// Outcome.
    pub status: UploadStatus,
    /// Size in bytes.
    pub bytes: u64,
    /// Attempts made (0 when not tried).
    #[serde(default)]
    pub attempts: u32,
    /// When it was stored, UTC.
    #[serde(default)]
    pub finished: Option<Timestamp>,
    /// Why it did not leave.
    #[serde(default)]
    pub cause: Option<String>,
}

/// Outcome of one file's upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    /// Stored, and its digest checked: by the server (S3 checksum header,
    /// `Content-MD5`) or by reading the stored copy back (SFTP).
    Uploaded,
    /// Tried, and every attempt failed.
    Failed,
    /// Not tried: an earlier file found the destination unusable.
    NotSent,
    /// Held for the single archive sent at the end (presigned URL).
    Pending,
    /// Handed over but still on its way when `collection.json` was
    /// written; the run's exit code and error line say how it ended.
    Queued,
}
