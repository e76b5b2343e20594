//! SHA-256 of each process's image file, read after every volatile
//! collector has finished (the runner's deferred work).
//!
//! Each distinct path is hashed once. Reading checks the deadline between
//! chunks, so a huge or slow file cannot hold the bundle back: what was not
//! hashed in time is a gap and the records are written without it.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};

use sha2::{Digest, Sha256};

use crate::collector::Context;

/// Chunk size between deadline checks.
const CHUNK: usize = 1 << 20;

/// Outcome of hashing one image.
#[derive(Debug, Clone)]
pub(super) enum HashResult {
    /// Hex SHA-256.
    Digest(String),
    /// The path no longer names a file (renamed or deleted after start).
    Missing,
    /// The deadline passed first.
    OutOfTime,
    /// Any other failure, as text.
    Failed(String),
}

/// Hashes with a per-path cache.
#[derive(Default)]
pub(super) struct ImageHasher {
    cache: HashMap<OsString, HashResult>,
}

impl ImageHasher {
    pub(super) fn hash(&mut self, ctx: &Context, path: &OsString) -> HashResult {
        if let Some(r) = self.cache.get(path) {
            return r.clone();
        }
        let result = if ctx.expired() {
            HashResult::OutOfTime
        } else {
            match hash_file(ctx, path) {
                Ok(Some(d)) => HashResult::Digest(d),
                Ok(None) => HashResult::OutOfTime,
                Err(e) if e.kind() == io::ErrorKind::NotFound => HashResult::Missing,
                Err(e) => HashResult::Failed(e.to_string()),
            }
        };
        self.cache.insert(path.clone(), result.clone());
        result
    }
}

/// `Ok(None)` when the deadline passed mid-file.
fn hash_file(ctx: &Context, path: &OsString) -> io::Result<Option<String>> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if ctx.expired() {
            return Ok(None);
        }
    }
    Ok(Some(
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    ))
}
