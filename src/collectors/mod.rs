//! Every collector, in the order the runner runs them: most volatile first
//! (sockets, processes, sessions, the neighbour cache), then the rest.
//!
//! Each collector is a module with one public type implementing
//! [`Collector`]; its OS-specific code sits in private `linux.rs`,
//! `windows.rs` and `unsupported.rs` files behind it, chosen by `cfg` in the
//! module's own `mod.rs` and nowhere else.

pub mod accounts;
pub mod modules;
pub mod netconfig;
pub mod persistence;
pub mod processes;
pub mod sessions;
pub mod sockets;
pub mod system;

use std::sync::Arc;

use crate::collector::Collector;

/// All collectors in run order.
pub fn all() -> Vec<Arc<dyn Collector>> {
    vec![
        Arc::new(sockets::SocketsCollector),
        Arc::new(processes::ProcessesCollector),
        Arc::new(sessions::SessionsCollector),
        Arc::new(netconfig::NetconfigCollector),
        Arc::new(modules::ModulesCollector),
        Arc::new(system::SystemCollector),
        Arc::new(accounts::AccountsCollector),
        Arc::new(persistence::PersistenceCollector),
    ]
}

/// Names of all collectors, in run order.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|c| c.name()).collect()
}
