//! Linux host identity from the kernel: `uname(2)`, `/etc/machine-id`,
//! `/proc/sys/kernel/random/boot_id`, and `adjtimex(2)` for the clock.

use crate::records::collection::ClockState;

use super::HostIdentity;

pub(super) fn identity() -> HostIdentity {
    let uts = rustix::system::uname();
    let hostname = String::from_utf8_lossy(uts.nodename().to_bytes()).into_owned();
    HostIdentity {
        hostname: if hostname.is_empty() {
            "unknown-host".into()
        } else {
            hostname
        },
        machine_id: read_trimmed("/etc/machine-id"),
        boot_id: read_trimmed("/proc/sys/kernel/random/boot_id"),
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub(super) fn clock_state() -> ClockState {
    // SAFETY: `timex` is a plain C struct for which all-zero bytes are a
    // valid value; `modes == 0` asks adjtimex(2) to read, not change, the
    // kernel clock state.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: adjtimex(2) takes a pointer to a caller-owned, initialised
    // `struct timex` and only writes into it; `tx` lives across the call.
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return ClockState {
            synchronized: None,
            source: "adjtimex".into(),
            estimated_error_us: None,
        };
    }
    let unsync = state == libc::TIME_ERROR || tx.status & libc::STA_UNSYNC != 0;
    ClockState {
        synchronized: Some(!unsync),
        source: "adjtimex".into(),
        estimated_error_us: Some(tx.esterror),
    }
}

pub(super) fn effective_uid() -> Option<u32> {
    Some(rustix::process::geteuid().as_raw())
}

pub(super) fn privileged() -> bool {
    rustix::process::geteuid().is_root()
}
