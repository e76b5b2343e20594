//! The `sessions` collector: who is logged in now, recent and failed logins
//! (`sessions.jsonl`).
//!
//! The parsers are platform-neutral and public for tests and fuzz targets:
//! [`utmp`] (the binary utmp/wtmp/btmp records) and [`logind`] (systemd's
//! session files). The Linux reader lives in `linux.rs`.

pub mod logind;
pub mod utmp;

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
use crate::records::session;

/// See the module documentation.
pub struct SessionsCollector;

impl Collector for SessionsCollector {
    fn name(&self) -> &'static str {
        "sessions"
    }

    fn files(&self) -> &'static [&'static str] {
        &[session::FILE]
    }

    fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
        sys::collect(ctx, out)
    }

    fn volatile(&self) -> bool {
        true
    }
}
