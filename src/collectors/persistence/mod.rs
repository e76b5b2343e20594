//! The `persistence` collector: pointers to what will run again (cron, systemd
//! units, rc.local, ld.so.preload, shell start-up files) (`persistence.jsonl`).
//!
//! The parsers are public for tests and fuzz targets: [`cron`] (crontab and
//! anacrontab lines) and [`systemd`] (unit files). The Linux reader lives
//! in `linux.rs`.

pub mod cron;
pub mod systemd;

#[cfg(target_os = "linux")]
mod linux_units;
#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod sys;
#[cfg(not(target_os = "linux"))]
#[path = "unsupported.rs"]
mod sys;

use crate::collector::{CollectError, Collector, Context, Output};
use crate::records::persistence;

/// See the module documentation.
pub struct PersistenceCollector;

impl Collector for PersistenceCollector {
    fn name(&self) -> &'static str {
        "persistence"
    }

    fn files(&self) -> &'static [&'static str] {
        &[persistence::FILE]
    }

    fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
        sys::collect(ctx, out)
    }
}
