//! Windows host identity: the DNS host name (`GetComputerNameExW`), the
//! machine GUID (`HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid`, set at
//! installation), the clock's adjustment state (`GetSystemTimeAdjustment`)
//! and whether irdump runs elevated (`TokenElevation` of its own token).
//!
//! Limitation: Windows has no documented boot id, so `boot_id` is null; the
//! boot time in `system.json` tells boots apart.
//! Limitation: Windows does not say whether its clock is synchronised. When
//! a periodic adjustment is in effect, a time service (w32time or another
//! synchroniser) is disciplining the clock and it is reported as
//! synchronised; when none is, the system may still correct the clock by
//! its own means, so the answer is null (unknown), not false.

use windows_sys::Win32::Foundation::FALSE;
use windows_sys::Win32::System::SystemInformation::{
    ComputerNameDnsHostname, ComputerNameNetBIOS, GetSystemTimeAdjustment,
};

use super::HostIdentity;
use crate::records::collection::ClockState;
use crate::windows_api::registry::RegKey;
use crate::windows_api::{computer_name, last_error, token};
use crate::windows_formats::wide::utf16_lossless;

pub(super) fn identity() -> HostIdentity {
    let hostname = computer_name(ComputerNameDnsHostname)
        .or_else(|| computer_name(ComputerNameNetBIOS))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    HostIdentity {
        hostname,
        machine_id: machine_guid(),
        boot_id: None,
    }
}

fn machine_guid() -> Option<String> {
    let key = RegKey::open_hklm(r"SOFTWARE\Microsoft\Cryptography")
        .map_err(|e| log::debug!("HKLM\\SOFTWARE\\Microsoft\\Cryptography: {e}"))
        .ok()?;
    match key.string("MachineGuid") {
        Ok(Some(units)) if !units.is_empty() => Some(utf16_lossless(&units)),
        Ok(_) => None,
        Err(e) => {
            log::debug!("MachineGuid: {e}");
            None
        }
    }
}

pub(super) fn clock_state() -> ClockState {
    let mut adjustment = 0u32;
    let mut increment = 0u32;
    let mut disabled = FALSE;
    // SAFETY: three caller-owned output variables of the documented types;
    // the function only writes them.
    let ok = unsafe { GetSystemTimeAdjustment(&mut adjustment, &mut increment, &mut disabled) };
    let synchronized = if ok == 0 {
        log::debug!("GetSystemTimeAdjustment: {}", last_error());
        None
    } else if disabled == FALSE {
        Some(true)
    } else {
        None
    };
    ClockState {
        synchronized,
        source: "GetSystemTimeAdjustment".into(),
        estimated_error_us: None,
    }
}

pub(super) fn effective_uid() -> Option<u32> {
    None
}

pub(super) fn privileged() -> bool {
    token::current_process_elevated().unwrap_or_else(|e| {
        log::debug!("TokenElevation: {e}");
        false
    })
}
