//! The `modules` collector: loaded kernel modules and the kernel taint value
//! (`modules.jsonl`).

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
