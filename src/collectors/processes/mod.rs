//! The `processes` collector: the full process table (`processes.jsonl`).

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
