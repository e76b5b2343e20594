//! irdump: a live-response collector that preserves volatile evidence from a
//! suspect host without running any host program.
//!
//! The crate is laid out along the path evidence takes:
//!
//! - [`collectors`] read one kind of evidence each (sockets, processes,
//!   system identity, ...) through the kernel's own interfaces, behind one
//!   facade per capability with a private module per OS;
//! - [`runner`] runs them most volatile first, each with a deadline, and
//!   streams their files into the bundle as soon as each finishes;
//! - [`bundle`] writes the bundle (directory, tar, tar.gz or stdout) and its
//!   `SHA256SUMS` manifest, and reads bundles back;
//! - [`findings`] and [`report`] turn the records into what a responder
//!   reads first, as pure functions of the bundle;
//! - [`verify`] checks a bundle against its manifest;
//! - [`upload`] streams each file off the host as it is written
//!   (`--upload`: S3, a presigned URL, SFTP).
//! - [`windows_formats`] decodes what the Windows API returns (tables,
//!   SIDs, FILETIMEs, UTF-16), platform-neutral so it is tested everywhere;
//!   the Windows-only calls themselves share small safe wrappers in
//!   `windows_api`.
//!
//! The bundle's file names and fields are a contract, documented in
//! `docs/bundle.md`; [`records`] holds their types.

pub mod bundle;
pub mod collector;
pub mod collectors;
pub mod findings;
pub mod host;
pub mod records;
pub mod report;
pub mod runner;
pub mod shared;
pub mod text;
pub mod upload;
pub mod verify;
#[cfg(windows)]
mod windows_api;
pub mod windows_formats;
