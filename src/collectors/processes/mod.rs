//! The `processes` collector: the full process table (`processes.jsonl`).
//!
//! On Linux every process is read from `/proc`, pinned by its directory
//! descriptor (see `pinned.rs`), on every core, with hanging reads of
//! process memory isolated ([`pool`]); PIDs missing from the listing are
//! probed for (`probe.rs`); executables are hashed once each after the
//! volatile collectors ([`hashing`]). The parsers ([`procfs`]) are
//! platform-neutral so that they build and are tested everywhere.

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod sys;
#[cfg(windows)]
#[path = "windows.rs"]
mod sys;
#[cfg(not(any(target_os = "linux", windows)))]
#[path = "unsupported.rs"]
mod sys;

pub mod hashing;
#[cfg(target_os = "linux")]
mod pinned;
pub mod pool;
#[cfg(target_os = "linux")]
pub mod probe;
pub mod procfs;

use crate::collector::{CollectError, Collector, Context, Output};
use crate::records::process;

/// See the module documentation.
pub struct ProcessesCollector;

impl Collector for ProcessesCollector {
    fn name(&self) -> &'static str {
        "processes"
    }

    fn files(&self) -> &'static [&'static str] {
        &[process::FILE]
    }

    fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
        sys::collect(ctx, out)
    }

    fn volatile(&self) -> bool {
        true
    }
}
