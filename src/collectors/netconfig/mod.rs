//! The `netconfig` collector: interfaces, routes, the neighbour (ARP/NDP) cache
//! and the resolver configuration.

pub mod dns;
#[cfg(target_os = "linux")]
mod rtnl;

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
use crate::records::netconfig;

/// See the module documentation.
pub struct NetconfigCollector;

impl Collector for NetconfigCollector {
    fn name(&self) -> &'static str {
        "netconfig"
    }

    fn files(&self) -> &'static [&'static str] {
        &[
            netconfig::INTERFACES_FILE,
            netconfig::ROUTES_FILE,
            netconfig::NEIGHBORS_FILE,
            netconfig::DNS_FILE,
        ]
    }

    fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
        sys::collect(ctx, out)
    }

    fn volatile(&self) -> bool {
        true
    }
}
