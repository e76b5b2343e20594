//! Safe wrappers over the Windows API calls that more than one Windows back
//! end makes: account and SID look-ups, the registry, process tokens,
//! strings the system allocated. Each `unsafe` block states the API
//! contract it relies on; callers get owned Rust values and `io::Error`s.
//!
//! Windows only; the decoding of what these calls return lives in
//! [`crate::windows_formats`], which is platform-neutral and tested on
//! every OS.

pub(crate) mod account;
pub(crate) mod buffer;
pub(crate) mod netapi;
pub(crate) mod registry;
pub(crate) mod snapshot;
pub(crate) mod token;

use std::io;

use windows_sys::core::PCWSTR;
use windows_sys::Win32::Foundation::ERROR_MORE_DATA;
use windows_sys::Win32::System::SystemInformation::{GetComputerNameExW, COMPUTER_NAME_FORMAT};

use crate::windows_formats::wide::utf16_lossless;

/// The calling thread's last error as an `io::Error`.
pub(crate) fn last_error() -> io::Error {
    io::Error::last_os_error()
}

/// A Win32 error code (as the registry, NetApi and IP Helper functions
/// return them) as an `io::Error`.
pub(crate) fn win32_error(code: u32) -> io::Error {
    io::Error::from_raw_os_error(code as i32)
}

/// The UTF-16 units of a NUL-terminated string the system handed back,
/// without the NUL; empty for a null pointer.
///
/// # Safety
///
/// `ptr` is null or points to a NUL-terminated UTF-16 string that stays
/// valid and unchanged for the duration of the call.
pub(crate) unsafe fn wide_units(ptr: PCWSTR) -> Vec<u16> {
    if ptr.is_null() {
        return Vec::new();
    }
    let mut len = 0usize;
    // SAFETY: the caller guarantees a NUL-terminated string, so every unit
    // up to and including the NUL is readable.
    while unsafe { *ptr.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: the `len` units before the NUL were just read one by one.
    unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
}

/// A NUL-terminated string the system handed back, as a lossless
/// JSON-safe string (see [`crate::windows_formats::wide`]).
///
/// # Safety
///
/// As for [`wide_units`].
pub(crate) unsafe fn wide_string(ptr: PCWSTR) -> String {
    // SAFETY: forwarded from this function's own contract.
    utf16_lossless(&unsafe { wide_units(ptr) })
}

/// `GetComputerNameExW`: on ERROR_MORE_DATA the size it needs (in
/// characters, NUL included) comes back in `size`, documented; retried a
/// bounded number of times.
pub(crate) fn computer_name(format: COMPUTER_NAME_FORMAT) -> Option<String> {
    let mut buf = vec![0u16; 64];
    for _ in 0..3 {
        let mut size = buf.len() as u32;
        // SAFETY: `buf` is writable for `size` characters; on success the
        // function writes the name and a NUL and sets `size` to the length
        // without the NUL.
        let ok = unsafe { GetComputerNameExW(format, buf.as_mut_ptr(), &mut size) };
        if ok != 0 {
            return Some(utf16_lossless(&buf[..(size as usize).min(buf.len())]));
        }
        let err = last_error();
        if err.raw_os_error() != Some(ERROR_MORE_DATA as i32) {
            log::debug!("GetComputerNameExW({format}): {err}");
            return None;
        }
        buf.resize((size as usize).max(buf.len() + 1), 0);
    }
    None
}

/// True when running under Wine (which keeps its own settings under
/// `HKLM\Software\Wine`): tests use it to tell a Wine gap from a bug.
#[cfg(test)]
pub(crate) fn is_wine() -> bool {
    registry::RegKey::open_hklm(r"Software\Wine").is_ok()
}

#[cfg(test)]
mod windows_tests {
    use super::*;

    #[test]
    fn administrators_sid_agrees_with_the_portable_formatter() {
        use windows_sys::Win32::Security::{SidTypeAlias, WinBuiltinAdministratorsSid};
        let mut sid = account::well_known_sid(WinBuiltinAdministratorsSid).unwrap();
        assert_eq!(
            crate::windows_formats::sid::format_sid(&sid).as_deref(),
            Some("S-1-5-32-544")
        );
        // SAFETY: `sid` holds a valid SID written by CreateWellKnownSid.
        let via_api = unsafe { account::sid_to_string(sid.as_mut_ptr().cast()) };
        assert_eq!(via_api.as_deref(), Some("S-1-5-32-544"));
        // SAFETY: as above.
        let name = unsafe { account::lookup_sid(sid.as_mut_ptr().cast()) }.unwrap();
        assert_eq!(name.usage, SidTypeAlias);
        assert!(!name.name.is_empty());
    }

    #[test]
    fn the_snapshot_lists_this_process() {
        let me = std::process::id();
        let list = snapshot::processes().unwrap();
        let entry = list.iter().find(|p| p.pid == me).expect("own pid listed");
        assert!(
            entry.name.to_lowercase().ends_with(".exe"),
            "{}",
            entry.name
        );
        assert!(entry.threads >= 1);
    }

    #[test]
    fn registry_values_and_subkeys() {
        let key =
            registry::RegKey::open_hklm(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion").unwrap();
        let build = key
            .string("CurrentBuildNumber")
            .unwrap()
            .expect("build number");
        let build = String::from_utf16(&build).unwrap();
        assert!(build.parse::<u32>().is_ok(), "{build}");
        assert_eq!(key.dword("irdump-no-such-value").unwrap(), None);
        assert!(key.string("CurrentBuildNumber").is_ok());
        let software = registry::RegKey::open_hklm("SOFTWARE").unwrap();
        let names = software.subkey_names().unwrap();
        assert!(names
            .iter()
            .any(|n| String::from_utf16_lossy(n).eq_ignore_ascii_case("Microsoft")));
        assert!(registry::RegKey::open_hklm(r"SOFTWARE\irdump-no-such-key").is_err());
    }

    #[test]
    fn own_token_names_a_user() {
        use std::os::windows::io::{FromRawHandle, OwnedHandle};
        use windows_sys::Win32::Foundation::{DuplicateHandle, DUPLICATE_SAME_ACCESS};
        use windows_sys::Win32::System::Threading::GetCurrentProcess;
        let mut raw = std::ptr::null_mut();
        // SAFETY: duplicates the current-process pseudo handle into a real
        // handle that we own and close through OwnedHandle.
        let ok = unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                GetCurrentProcess(),
                GetCurrentProcess(),
                &mut raw,
                0,
                0,
                DUPLICATE_SAME_ACCESS,
            )
        };
        assert_ne!(ok, 0);
        // SAFETY: a fresh handle owned by nobody else.
        let me = unsafe { OwnedHandle::from_raw_handle(raw) };
        let (sid, name) = token::process_user(&me).unwrap();
        assert!(sid.starts_with("S-1-5-"), "{sid}");
        assert!(name.is_some());
        assert!(token::current_process_elevated().is_ok());
    }
}
