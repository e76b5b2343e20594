//! Windows host identity. Filled in by the Windows port; until then the
//! standard library's view.

use crate::records::collection::ClockState;

use super::HostIdentity;

pub(super) fn identity() -> HostIdentity {
    let hostname = std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown-host".into());
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
    None
}

pub(super) fn privileged() -> bool {
    false
}
