//! The evidence bundle: writing it ([`writer`]), its manifest
//! ([`manifest`]), and reading one back ([`BundleFiles`]) for `verify` and
//! `report`, from a directory or a tar/tar.gz archive alike.

pub mod manifest;
pub mod writer;

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A bundle's files held in memory, by name relative to the bundle's root.
#[derive(Debug, Default, Clone)]
pub struct BundleFiles {
    /// File contents by name (`network.jsonl`, `SHA256SUMS`, ...).
    pub files: BTreeMap<String, Vec<u8>>,
    /// Entries that are not regular files (directories inside the bundle,
    /// symlinks, devices): a bundle never contains them, so `verify`
    /// reports them as unexpected.
    pub odd_entries: Vec<String>,
    /// Records already parsed by [`BundleFiles::shared_records`].
    parsed: ParseCache,
}

/// Parsed JSON Lines files, so that findings and every report section
/// that read `network.jsonl` (tens of thousands of sockets on a busy host)
/// parse it once. An entry is keyed by the file's name, the record type and
/// the identity of its bytes (address and length), so a file replaced in
/// [`BundleFiles::files`] is parsed afresh, never served stale.
#[derive(Default)]
struct ParseCache(Mutex<HashMap<CacheKey, Arc<dyn Any + Send + Sync>>>);

type CacheKey = (String, TypeId, usize, usize);

impl Clone for ParseCache {
    fn clone(&self) -> Self {
        ParseCache::default()
    }
}

impl std::fmt::Debug for ParseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParseCache")
    }
}

/// The records of one JSON Lines file, and what could not be read of it.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    /// Lines that parsed.
    pub records: Vec<T>,
    /// Lines that did not.
    pub bad_lines: usize,
    /// The first parse error, for messages.
    pub first_error: Option<String>,
}

impl<T> Parsed<T> {
    /// A one-line description of the unreadable lines, if any.
    pub fn problem(&self, file: &str) -> Option<String> {
        let e = self.first_error.as_ref()?;
        Some(format!(
            "{file}: {} lines could not be read (first: {e})",
            self.bad_lines
        ))
    }
}

/// Why a bundle could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// The archive holds files outside a single top directory.
    #[error("{path}: not an irdump archive ({reason})")]
    NotABundle {
        /// The archive.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl BundleFiles {
    /// Reads a bundle from a directory or an archive (tar, or tar.gz by its
    /// gzip magic bytes).
    ///
    /// # Errors
    ///
    /// [`ReadError`] when the path cannot be read or is not a bundle.
    pub fn load(path: &Path) -> Result<Self, ReadError> {
        let shown = path.display().to_string();
        let io = |source| ReadError::Io {
            path: shown.clone(),
            source,
        };
        let meta = std::fs::symlink_metadata(path).map_err(io)?;
        if meta.is_dir() {
            Self::load_dir(path)
        } else {
            let mut file = BufReader::new(File::open(path).map_err(io)?);
            let mut magic = [0u8; 2];
            let n = file.read(&mut magic).map_err(io)?;
            let head = io::Cursor::new(magic[..n].to_vec()).chain(file);
            if magic == [0x1f, 0x8b] {
                Self::load_tar(flate2::read::GzDecoder::new(head), &shown)
            } else {
                Self::load_tar(head, &shown)
            }
        }
    }

    fn load_dir(dir: &Path) -> Result<Self, ReadError> {
        let mut out = BundleFiles::default();
        let io = |p: &Path| {
            let path = p.display().to_string();
            move |source| ReadError::Io { path, source }
        };
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().map_err(io(&entry.path()))?;
            if kind.is_file() {
                let data = std::fs::read(entry.path()).map_err(io(&entry.path()))?;
                out.files.insert(name, data);
            } else {
                out.odd_entries.push(name);
            }
        }
        Ok(out)
    }

    fn load_tar(reader: impl Read, shown: &str) -> Result<Self, ReadError> {
        let io = |source| ReadError::Io {
            path: shown.to_owned(),
            source,
        };
        let not_bundle = |reason: String| ReadError::NotABundle {
            path: shown.to_owned(),
            reason,
        };
        let mut out = BundleFiles::default();
        let mut top: Option<String> = None;
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries().map_err(io)? {
            let mut entry = entry.map_err(io)?;
            let path = entry.path().map_err(io)?.to_string_lossy().into_owned();
            let mut parts = path.trim_end_matches('/').splitn(2, '/');
            let first = parts.next().unwrap_or_default().to_owned();
            let rest = parts.next().map(str::to_owned);
            match &top {
                None => top = Some(first.clone()),
                Some(t) if *t != first => {
                    return Err(not_bundle(format!("entries under both {t}/ and {first}/")))
                }
                Some(_) => {}
            }
            let Some(rest) = rest else { continue };
            if entry.header().entry_type().is_file() {
                let mut data = Vec::with_capacity(entry.size() as usize);
                entry.read_to_end(&mut data).map_err(io)?;
                if out.files.insert(rest.clone(), data).is_some() {
                    out.odd_entries.push(format!("{rest} (a second copy)"));
                }
            } else {
                out.odd_entries.push(rest);
            }
        }
        if top.is_none() {
            return Err(not_bundle("the archive is empty".into()));
        }
        Ok(out)
    }

    /// Parses `file` as JSON Lines; `None` when the bundle has no such file.
    /// Lines that do not parse are counted, never guessed at.
    pub fn records<T: serde::de::DeserializeOwned>(&self, file: &str) -> Option<Parsed<T>> {
        let data = self.files.get(file)?;
        let mut parsed = Parsed {
            records: Vec::new(),
            bad_lines: 0,
            first_error: None,
        };
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice(line) {
                Ok(v) => parsed.records.push(v),
                Err(e) => {
                    parsed.bad_lines += 1;
                    parsed.first_error.get_or_insert(e.to_string());
                }
            }
        }
        Some(parsed)
    }

    /// Like [`BundleFiles::records`], but parsed at most once per bundle and
    /// record type and shared: what findings and the report use for the
    /// large files.
    pub fn shared_records<T>(&self, file: &str) -> Option<Arc<Parsed<T>>>
    where
        T: serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        let data = self.files.get(file)?;
        let key = (
            file.to_owned(),
            TypeId::of::<T>(),
            data.as_ptr() as usize,
            data.len(),
        );
        let cached = self
            .parsed
            .0
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
            .and_then(|any| any.downcast::<Parsed<T>>().ok());
        if let Some(hit) = cached {
            return Some(hit);
        }
        let fresh = Arc::new(self.records::<T>(file)?);
        if let Ok(mut c) = self.parsed.0.lock() {
            c.insert(key, Arc::clone(&fresh) as Arc<dyn Any + Send + Sync>);
        }
        Some(fresh)
    }

    /// A file's contents as text, if present and UTF-8.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.files
            .get(name)
            .and_then(|b| std::str::from_utf8(b).ok())
    }
}
