//! Reading evidence files of the examined system safely: under `--root`,
//! never blocking, never unbounded. Shared by the collectors that read
//! files rather than kernel interfaces (accounts, sessions, persistence).
//!
//! A file is opened with `O_NONBLOCK | O_NOCTTY | O_CLOEXEC` and must be a
//! regular file once open, so a FIFO or a device planted where a config
//! file should be cannot hang or disturb the collection; at most `cap`
//! bytes are read, and the caller learns whether there was more.
//!
//! Limitation: symbolic links are followed as the kernel resolves them, so
//! with `--root` an absolute symlink inside the image points into the live
//! host's tree rather than the image's.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use jiff::Timestamp;

/// A file's contents and what its inode says.
#[derive(Debug)]
pub struct HostFile {
    /// At most `cap` bytes.
    pub bytes: Vec<u8>,
    /// True when the file was longer than `cap`.
    pub truncated: bool,
    /// Metadata of the open file.
    pub meta: Metadata,
}

impl HostFile {
    /// Modification time.
    pub fn mtime(&self) -> Option<Timestamp> {
        mtime(&self.meta)
    }
}

/// Modification time from metadata, with nanoseconds.
pub fn mtime(meta: &Metadata) -> Option<Timestamp> {
    Timestamp::new(meta.mtime(), meta.mtime_nsec() as i32).ok()
}

/// Permission bits (and setuid/setgid/sticky) in octal, `0644`.
pub fn mode(meta: &Metadata) -> String {
    format!("{:04o}", meta.mode() & 0o7777)
}

/// Opens `path` without blocking and reads at most `cap` bytes.
///
/// # Errors
///
/// The I/O error (`NotFound` for an absent file), or `InvalidInput` when
/// the path is not a regular file.
pub fn read(path: &Path, cap: u64) -> io::Result<HostFile> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(cap) as usize);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    let truncated = bytes.len() as u64 > cap;
    bytes.truncate(cap as usize);
    Ok(HostFile {
        bytes,
        truncated,
        meta,
    })
}

/// Reads the last `tail` bytes of `path` (all of it when shorter), starting
/// at a multiple of `align` from the start of the file so that fixed-size
/// records stay whole. Returns the bytes, their offset in the file, and the
/// file's metadata.
///
/// # Errors
///
/// As [`read`].
pub fn read_tail(path: &Path, tail: u64, align: u64) -> io::Result<(Vec<u8>, u64, Metadata)> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let len = meta.len();
    let whole = len - len % align.max(1);
    let start = whole.saturating_sub(tail - tail % align.max(1));
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.take(len - start).read_to_end(&mut bytes)?;
    Ok((bytes, start, meta))
}
