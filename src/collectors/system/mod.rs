//! The `system` collector: host identity, OS release, kernel, boot time,
//! time zone, virtualisation hints, CPU and memory, and installed packages
//! (`system.json`, `packages.jsonl`).

pub mod parse;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod sys;
#[cfg(windows)]
#[path = "windows.rs"]
mod sys;
#[cfg(not(any(target_os = "linux", windows)))]
#[path = "unsupported.rs"]
mod sys;

use crate::collector::{CollectError, Collector, Context, Output};
use crate::records::system::{FILE, PACKAGES_FILE};

/// See the module documentation.
pub struct SystemCollector;

impl Collector for SystemCollector {
    fn name(&self) -> &'static str {
        "system"
    }

    fn files(&self) -> &'static [&'static str] {
        &[FILE, PACKAGES_FILE]
    }

    fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
        sys::collect(ctx, out)
    }
}
