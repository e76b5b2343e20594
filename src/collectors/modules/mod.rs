//! The `modules` collector: loaded kernel modules and the kernel taint value
//! (`modules.jsonl`).
//!
//! The parsers are public for tests and fuzz targets: [`procfs`]
//! (`/proc/modules`, taint bits, `modules.dep`, and the join that finds
//! hidden modules) and [`sysfs`] (the `/sys/module` scan, given a
//! directory). The Linux reader lives in `linux.rs`.

pub mod procfs;
pub mod sysfs;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod sys;
#[cfg(not(target_os = "linux"))]
#[path = "unsupported.rs"]
mod sys;

use crate::collector::{CollectError, Collector, Context, Output};
use crate::records::module;

/// See the module documentation.
pub struct ModulesCollector;

impl Collector for ModulesCollector {
    fn name(&self) -> &'static str {
        "modules"
    }

    fn files(&self) -> &'static [&'static str] {
        &[module::FILE]
    }

    fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
        sys::collect(ctx, out)
    }
}
