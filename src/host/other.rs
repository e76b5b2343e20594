//! Host identity on platforms without a dedicated implementation (macOS):
//! only what the standard library can tell.

use crate::records::collection::ClockState;

use super::HostIdentity;

pub(super) fn identity() -> HostIdentity {
    let hostname = std::env::var("HOSTNAME").unwrap_or_else(|_| "unknown-host".into());
    HostIdentity {
        hostname,
        machine_id: None,
        boot_id: None,
    }
}

pub(super) fn clock_state() -> ClockState {
    ClockState {
        synchronized: None,
        source: "unsupported".into(),
        estimated_error_us: None,
    }
}

pub(super) fn effective_uid() -> Option<u32> {
    #[cfg(unix)]
    {
        Some(rustix::process::geteuid().as_raw())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

pub(super) fn privileged() -> bool {
    effective_uid() == Some(0)
}
