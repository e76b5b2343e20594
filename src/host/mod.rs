//! Who and where we are: host name, machine and boot ids, clock state,
//! privileges. The collection runner needs these before any collector runs
//! (the bundle is named after the host), so they live apart from the
//! `system` collector, which reports them in full.
//!
//! Each function is a facade over one private module per OS.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::records::collection::{ClockState, TimeZoneInfo};

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod sys;
#[cfg(windows)]
#[path = "windows.rs"]
mod sys;
#[cfg(not(any(target_os = "linux", windows)))]
#[path = "other.rs"]
mod sys;

/// Identity of the host as the kernel reports it.
#[derive(Debug, Clone, Default)]
pub struct HostIdentity {
    /// Host name (nodename); `unknown-host` if the kernel gave none.
    pub hostname: String,
    /// Machine id, if the host has one.
    pub machine_id: Option<String>,
    /// Boot id, if the host has one.
    pub boot_id: Option<String>,
}

/// Reads the host identity. Never fails: missing parts are `None`.
pub fn identity() -> HostIdentity {
    sys::identity()
}

/// Reads whether the kernel considers the clock synchronised.
pub fn clock_state() -> ClockState {
    sys::clock_state()
}

/// Effective user id (Unix only).
pub fn effective_uid() -> Option<u32> {
    sys::effective_uid()
}

/// True when running as root (Unix) or elevated (Windows).
pub fn privileged() -> bool {
    sys::privileged()
}

/// The local time zone and its offset at `at`.
pub fn timezone_at(at: Timestamp) -> (TimeZone, TimeZoneInfo) {
    let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
    let offset = tz.to_offset(at);
    let secs = offset.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let info = TimeZoneInfo {
        name: tz.iana_name().map(str::to_owned),
        utc_offset: format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60),
        utc_offset_seconds: secs,
    };
    (tz, info)
}

/// A host name made safe to use as a file name: anything but ASCII letters,
/// digits, `-`, `_` and `.` becomes `_`, and it never starts with `.`.
pub fn file_safe_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, '_');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_host_names_become_safe_file_names() {
        assert_eq!(file_safe_name("web01.example"), "web01.example");
        assert_eq!(file_safe_name("../../etc"), "_.._.._etc");
        assert_eq!(file_safe_name(""), "_");
        assert_eq!(file_safe_name("a/b\nc"), "a_b_c");
    }
}
