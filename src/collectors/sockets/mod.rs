//! The `sockets` collector: every TCP, UDP, raw and unix socket with the processes
//! that own it (`network.jsonl`).

pub mod merge;
pub mod procfs;

#[cfg(target_os = "linux")]
mod handles;
#[cfg(target_os = "linux")]
pub mod netlink_dump;
#[cfg(target_os = "linux")]
pub mod netns;
#[cfg(target_os = "linux")]
mod sock_diag;

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
use crate::records::network;

/// See the module documentation.
pub struct SocketsCollector;

impl Collector for SocketsCollector {
    fn name(&self) -> &'static str {
        "sockets"
    }

    fn files(&self) -> &'static [&'static str] {
        &[network::FILE]
    }

    fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
        sys::collect(ctx, out)
    }

    fn volatile(&self) -> bool {
        true
    }
}
