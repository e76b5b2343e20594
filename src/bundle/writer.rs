//! Writes the bundle: a new directory, a tar or tar.gz archive, or a tar
//! stream on stdout.
//!
//! Forensic rules enforced here: the output is created exclusively (an
//! existing path, even a dangling symlink, is refused); files inside a
//! directory bundle are created relative to the directory's own descriptor,
//! with `O_EXCL | O_NOFOLLOW`, so a symlink planted after `mkdir` cannot
//! redirect a write; the directory is 0700 and files 0600; nothing is written
//! outside the chosen output. Each file's SHA-256 is computed from the very
//! bytes written, and a file that could not be written whole is removed and
//! left out of the manifest, so `SHA256SUMS` never vouches for a torn file.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;

use super::manifest;

/// Where the bundle goes, as chosen by `-o`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A new directory.
    Dir(PathBuf),
    /// A new `.tar` file.
    Tar(PathBuf),
    /// A new `.tar.gz` (or `.tgz`) file.
    TarGz(PathBuf),
    /// A tar stream on standard output.
    Stdout,
}

impl Target {
    /// Interprets the `-o` argument; `None` means the default directory
    /// `./<default_name>`.
    pub fn from_arg(arg: Option<&Path>, default_name: &str) -> Target {
        let Some(p) = arg else {
            return Target::Dir(PathBuf::from(default_name));
        };
        let s = p.to_string_lossy();
        if s == "-" {
            Target::Stdout
        } else if s.ends_with(".tar.gz") || s.ends_with(".tgz") {
            Target::TarGz(p.to_path_buf())
        } else if s.ends_with(".tar") {
            Target::Tar(p.to_path_buf())
        } else {
            Target::Dir(p.to_path_buf())
        }
    }

    /// The bundle's name: the directory name, or the archive's name without
    /// its extension; `default_name` for stdout.
    pub fn bundle_name(&self, default_name: &str) -> String {
        let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        match self {
            Target::Stdout => default_name.to_owned(),
            Target::Dir(p) => file_name(p).unwrap_or_else(|| default_name.to_owned()),
            Target::Tar(p) | Target::TarGz(p) => {
                let n = file_name(p).unwrap_or_default();
                let stem = ["tar.gz", "tgz", "tar"]
                    .iter()
                    .find_map(|ext| n.strip_suffix(&format!(".{ext}")))
                    .unwrap_or(&n)
                    .to_owned();
                if stem.is_empty() {
                    default_name.to_owned()
                } else {
                    stem
                }
            }
        }
    }

    /// `directory`, `tar`, `tar.gz` or `stdout`, as in `collection.json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Dir(_) => "directory",
            Target::Tar(_) => "tar",
            Target::TarGz(_) => "tar.gz",
            Target::Stdout => "stdout",
        }
    }
}

/// Why the bundle could not be started or written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// `-o` names something that exists.
    #[error("output {path} already exists (irdump never overwrites; choose a new path)")]
    Exists {
        /// The refused path.
        path: String,
    },
    /// A tar stream on a terminal would be unreadable.
    #[error("refusing to write a tar stream to a terminal (redirect stdout: -o - > bundle.tar)")]
    StdoutIsTerminal,
    /// Creating or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: String,
        /// The cause.
        source: io::Error,
    },
}

fn io_err(path: impl Into<String>) -> impl FnOnce(io::Error) -> BundleError {
    let path = path.into();
    move |source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            BundleError::Exists { path }
        } else {
            BundleError::Io { path, source }
        }
    }
}

/// A stream that can be finished durably (flushed, compressed trailer
/// written, synced to disk).
trait FinishWrite: Write + Send {
    fn finish_stream(self: Box<Self>) -> io::Result<()>;
}

impl FinishWrite for BufWriter<File> {
    fn finish_stream(self: Box<Self>) -> io::Result<()> {
        let file = self.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

impl FinishWrite for GzEncoder<BufWriter<File>> {
    fn finish_stream(self: Box<Self>) -> io::Result<()> {
        let inner = self.finish()?;
        Box::new(inner).finish_stream()
    }
}

impl FinishWrite for BufWriter<io::Stdout> {
    fn finish_stream(mut self: Box<Self>) -> io::Result<()> {
        self.flush()
    }
}

enum Sink {
    Dir(DirSink),
    Tar(tar::Builder<Box<dyn FinishWrite>>),
}

/// Writes bundle files one at a time and finally the manifest.
pub struct BundleWriter {
    sink: Sink,
    name: String,
    location: String,
    mtime: u64,
    manifest: Vec<(String, String)>,
}

impl BundleWriter {
    /// Creates the output. `mtime` (seconds since the epoch) stamps tar
    /// entries.
    ///
    /// # Errors
    ///
    /// [`BundleError::Exists`] if the path exists (symlinks included),
    /// [`BundleError::StdoutIsTerminal`], or the I/O error that prevented
    /// creation.
    pub fn create(target: &Target, name: &str, mtime: u64) -> Result<Self, BundleError> {
        let (sink, location) = match target {
            Target::Dir(p) => (Sink::Dir(DirSink::create(p)?), p.display().to_string()),
            Target::Tar(p) => {
                let file = create_new_file(p).map_err(io_err(p.display().to_string()))?;
                let w: Box<dyn FinishWrite> = Box::new(BufWriter::with_capacity(1 << 16, file));
                (Sink::Tar(tar::Builder::new(w)), p.display().to_string())
            }
            Target::TarGz(p) => {
                let file = create_new_file(p).map_err(io_err(p.display().to_string()))?;
                let gz = GzEncoder::new(
                    BufWriter::with_capacity(1 << 16, file),
                    flate2::Compression::default(),
                );
                let w: Box<dyn FinishWrite> = Box::new(gz);
                (Sink::Tar(tar::Builder::new(w)), p.display().to_string())
            }
            Target::Stdout => {
                if io::stdout().is_terminal() {
                    return Err(BundleError::StdoutIsTerminal);
                }
                let w: Box<dyn FinishWrite> =
                    Box::new(BufWriter::with_capacity(1 << 16, io::stdout()));
                (Sink::Tar(tar::Builder::new(w)), "<stdout>".to_owned())
            }
        };
        let mut writer = BundleWriter {
            sink,
            name: name.to_owned(),
            location,
            mtime,
            manifest: Vec::new(),
        };
        if let Sink::Tar(builder) = &mut writer.sink {
            let mut header = tar_header(tar::EntryType::Directory, 0o700, 0, mtime);
            builder
                .append_data(&mut header, format!("{name}/"), io::empty())
                .map_err(io_err(writer.location.clone()))?;
        }
        Ok(writer)
    }

    /// Where the bundle is being written, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// True for tar output, where a failed write leaves the stream unusable.
    pub fn is_archive(&self) -> bool {
        matches!(self.sink, Sink::Tar(_))
    }

    /// The bundle's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes one file and records its digest in the manifest.
    ///
    /// # Errors
    ///
    /// The write error. In a directory bundle the torn file is removed; in an
    /// archive the stream is no longer usable and the caller should stop.
    pub fn add(&mut self, file: &str, data: &[u8]) -> Result<(), BundleError> {
        let display = format!("{}/{file}", self.location);
        match &mut self.sink {
            Sink::Dir(dir) => dir.write_file(file, data).map_err(io_err(display))?,
            Sink::Tar(builder) => {
                let mut header = tar_header(
                    tar::EntryType::Regular,
                    0o600,
                    data.len() as u64,
                    self.mtime,
                );
                builder
                    .append_data(&mut header, format!("{}/{file}", self.name), data)
                    .map_err(io_err(display))?;
            }
        }
        self.manifest
            .push((file.to_owned(), manifest::sha256_hex(data)));
        Ok(())
    }

    /// Names of the files written so far.
    pub fn written(&self) -> impl Iterator<Item = &str> {
        self.manifest.iter().map(|(n, _)| n.as_str())
    }

    /// Writes `SHA256SUMS` over every file written and closes the output.
    /// Returns the SHA-256 of the manifest itself: the one value to note in
    /// the case file.
    ///
    /// # Errors
    ///
    /// The error that prevented writing or closing the output.
    pub fn finish(mut self) -> Result<String, BundleError> {
        let text = manifest::render(&self.manifest);
        let digest = manifest::sha256_hex(text.as_bytes());
        let display = format!("{}/{}", self.location, manifest::FILE);
        match self.sink {
            Sink::Dir(mut dir) => {
                dir.write_file(manifest::FILE, text.as_bytes())
                    .map_err(io_err(display))?;
                dir.sync().map_err(io_err(self.location.clone()))?;
            }
            Sink::Tar(mut builder) => {
                let mut header = tar_header(
                    tar::EntryType::Regular,
                    0o600,
                    text.len() as u64,
                    self.mtime,
                );
                builder
                    .append_data(
                        &mut header,
                        format!("{}/{}", self.name, manifest::FILE),
                        text.as_bytes(),
                    )
                    .map_err(io_err(display))?;
                let inner = builder
                    .into_inner()
                    .map_err(io_err(self.location.clone()))?;
                inner
                    .finish_stream()
                    .map_err(io_err(self.location.clone()))?;
            }
        }
        self.manifest.clear();
        Ok(digest)
    }
}

fn tar_header(kind: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h
}

#[cfg(unix)]
fn create_new_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

#[cfg(not(unix))]
fn create_new_file(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// A bundle directory, held open by descriptor on Unix.
struct DirSink {
    path: PathBuf,
    #[cfg(unix)]
    fd: rustix::fd::OwnedFd,
}

impl DirSink {
    fn create(path: &Path) -> Result<Self, BundleError> {
        let shown = path.display().to_string();
        #[cfg_attr(not(unix), expect(unused_mut, reason = "the mode is set on Unix only"))]
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => BundleError::Io {
                path: shown.clone(),
                source: io::Error::new(io::ErrorKind::NotFound, "parent directory does not exist"),
            },
            _ => io_err(shown.clone())(e),
        })?;
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::open(path, flags, Mode::empty())
                .map_err(|e| io_err(shown.clone())(e.into()))?;
            Ok(DirSink {
                path: path.to_path_buf(),
                fd,
            })
        }
        #[cfg(not(unix))]
        Ok(DirSink {
            path: path.to_path_buf(),
        })
    }

    fn write_file(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let mut file = self.create_file(name)?;
        let result = file.write_all(data).and_then(|()| file.sync_all());
        if let Err(e) = result {
            drop(file);
            self.remove_torn(name);
            return Err(e);
        }
        Ok(())
    }

    #[cfg(unix)]
    fn create_file(&self, name: &str) -> io::Result<File> {
        use rustix::fs::{Mode, OFlags};
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o600))?;
        Ok(File::from(fd))
    }

    #[cfg(not(unix))]
    fn create_file(&self, name: &str) -> io::Result<File> {
        create_new_file(&self.path.join(name))
    }

    fn remove_torn(&self, name: &str) {
        #[cfg(unix)]
        let result = rustix::fs::unlinkat(&self.fd, name, rustix::fs::AtFlags::empty())
            .map_err(io::Error::from);
        #[cfg(not(unix))]
        let result = std::fs::remove_file(self.path.join(name));
        if let Err(e) = result {
            log::warn!(
                "could not remove torn file {}/{name}: {e}",
                self.path.display()
            );
        }
    }

    fn sync(&self) -> io::Result<()> {
        #[cfg(unix)]
        rustix::fs::fsync(&self.fd)?;
        Ok(())
    }
}
