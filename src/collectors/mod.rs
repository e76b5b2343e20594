//! Every collector, in the order the runner runs them: most volatile first
//! (sockets, processes, sessions, the neighbour cache), then the rest.
//!
//! Each collector is a module with one public type implementing
//! [`Collector`]; its OS-specific code sits in private `linux.rs`,
//! `windows.rs` (and `unsupported.rs`) files behind it.

pub mod system;

use std::sync::Arc;

use crate::collector::{CollectError, Collector, Context, Output};

/// All collectors in run order.
pub fn all() -> Vec<Arc<dyn Collector>> {
    vec![
        Arc::new(Planned {
            name: "sockets",
            files: &["network.jsonl"],
            volatile: true,
        }),
        Arc::new(Planned {
            name: "processes",
            files: &["processes.jsonl"],
            volatile: true,
        }),
        Arc::new(Planned {
            name: "sessions",
            files: &["sessions.jsonl"],
            volatile: true,
        }),
        Arc::new(Planned {
            name: "netconfig",
            files: &[
                "interfaces.jsonl",
                "routes.jsonl",
                "neighbors.jsonl",
                "dns.json",
            ],
            volatile: true,
        }),
        Arc::new(Planned {
            name: "modules",
            files: &["modules.jsonl"],
            volatile: false,
        }),
        Arc::new(system::SystemCollector),
        Arc::new(Planned {
            name: "accounts",
            files: &["accounts.jsonl"],
            volatile: false,
        }),
        Arc::new(Planned {
            name: "persistence",
            files: &["persistence.jsonl"],
            volatile: false,
        }),
    ]
}

/// Names of all collectors, in run order.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|c| c.name()).collect()
}

/// A collector whose implementation has not landed on this platform yet: it
/// records that, so the gap is visible rather than silent.
struct Planned {
    name: &'static str,
    files: &'static [&'static str],
    volatile: bool,
}

impl Collector for Planned {
    fn name(&self) -> &'static str {
        self.name
    }

    fn files(&self) -> &'static [&'static str] {
        &[]
    }

    fn collect(&self, _ctx: &Context, _out: &mut Output) -> Result<(), CollectError> {
        let _ = self.files;
        Err(CollectError::Unsupported)
    }

    fn volatile(&self) -> bool {
        self.volatile
    }
}
