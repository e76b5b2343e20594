//! Accounts and SIDs: `LookupAccountSidW`, `LookupAccountNameW`,
//! `CreateWellKnownSid`.

use std::ffi::c_void;
use std::io;

use windows_sys::Win32::Foundation::ERROR_INSUFFICIENT_BUFFER;
use windows_sys::Win32::Security::{
    CreateWellKnownSid, GetLengthSid, IsValidSid, LookupAccountNameW, LookupAccountSidW,
    SID_NAME_USE, WELL_KNOWN_SID_TYPE,
};

use super::last_error;
use crate::windows_formats::sid::format_sid;
use crate::windows_formats::wide::{to_wide_nul, utf16_lossless};

/// Bound on the buffer-growing retries below: the sizes only change if an
/// account is renamed between two calls.
const ATTEMPTS: usize = 3;

/// `SECURITY_MAX_SID_SIZE`: the largest possible SID (15 sub-authorities).
const MAX_SID_SIZE: usize = 68;

/// An account as the security database names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountName {
    /// The domain (or computer, or `BUILTIN`) that holds it.
    pub domain: String,
    /// The account name.
    pub name: String,
    /// `SID_NAME_USE`.
    pub usage: SID_NAME_USE,
}

impl AccountName {
    /// `DOMAIN\name`, or `name` when the domain is empty (well-known
    /// groups such as `Everyone`).
    pub fn qualified(&self) -> String {
        if self.domain.is_empty() {
            self.name.clone()
        } else {
            format!("{}\\{}", self.domain, self.name)
        }
    }
}

/// A SID copied out of memory the system owns, in text form.
///
/// # Safety
///
/// `sid` points to a SID that stays valid for the duration of the call.
pub(crate) unsafe fn sid_to_string(sid: *mut c_void) -> Option<String> {
    if sid.is_null() {
        return None;
    }
    // SAFETY: `sid` is a valid pointer (caller's contract); IsValidSid only
    // reads the structure and checks its revision and sub-authority count.
    if unsafe { IsValidSid(sid) } == 0 {
        return None;
    }
    // SAFETY: GetLengthSid is only defined for a valid SID, checked above;
    // it returns the SID's length in bytes.
    let len = unsafe { GetLengthSid(sid) } as usize;
    // SAFETY: a valid SID occupies exactly `len` readable bytes at `sid`.
    let bytes = unsafe { std::slice::from_raw_parts(sid.cast::<u8>(), len) };
    format_sid(bytes)
}

/// Names the account of a SID (`LookupAccountSidW` on the local system).
///
/// # Errors
///
/// `ERROR_NONE_MAPPED` for a SID no account has (a deleted account), or
/// whatever the look-up failed with.
///
/// # Safety
///
/// `sid` points to a valid SID that stays valid for the duration of the
/// call.
pub(crate) unsafe fn lookup_sid(sid: *mut c_void) -> io::Result<AccountName> {
    let mut name = vec![0u16; 256];
    let mut domain = vec![0u16; 256];
    for _ in 0..ATTEMPTS {
        let mut name_len = name.len() as u32;
        let mut domain_len = domain.len() as u32;
        let mut usage: SID_NAME_USE = 0;
        // SAFETY: both buffers are writable for the lengths passed in
        // characters; `sid` is valid (caller's contract). On
        // ERROR_INSUFFICIENT_BUFFER the function sets both lengths to the
        // sizes it needs, terminating NULs included (documented), and
        // writes nothing else.
        let ok = unsafe {
            LookupAccountSidW(
                std::ptr::null(),
                sid,
                name.as_mut_ptr(),
                &mut name_len,
                domain.as_mut_ptr(),
                &mut domain_len,
                &mut usage,
            )
        };
        if ok != 0 {
            // On success the lengths are the characters written, without
            // the terminating NUL.
            return Ok(AccountName {
                domain: utf16_lossless(&domain[..(domain_len as usize).min(domain.len())]),
                name: utf16_lossless(&name[..(name_len as usize).min(name.len())]),
                usage,
            });
        }
        let err = last_error();
        if err.raw_os_error() != Some(ERROR_INSUFFICIENT_BUFFER as i32) {
            return Err(err);
        }
        name.resize((name_len as usize).max(name.len()), 0);
        domain.resize((domain_len as usize).max(domain.len()), 0);
    }
    Err(io::Error::other(
        "LookupAccountSidW: the name kept growing between calls",
    ))
}

/// The SID (text form) and full name of an account, by name
/// (`LookupAccountNameW` on the local system).
///
/// # Errors
///
/// Whatever the look-up failed with (`ERROR_NONE_MAPPED` for an unknown
/// name).
pub(crate) fn lookup_name(account: &str) -> io::Result<(String, AccountName)> {
    let wide = to_wide_nul(account);
    let mut sid = vec![0u8; MAX_SID_SIZE];
    let mut domain = vec![0u16; 256];
    for _ in 0..ATTEMPTS {
        let mut sid_len = sid.len() as u32;
        let mut domain_len = domain.len() as u32;
        let mut usage: SID_NAME_USE = 0;
        // SAFETY: `wide` is NUL-terminated; the SID buffer is writable for
        // `sid_len` bytes and the domain buffer for `domain_len`
        // characters. On ERROR_INSUFFICIENT_BUFFER both sizes receive what
        // is needed (documented) and nothing else is written.
        let ok = unsafe {
            LookupAccountNameW(
                std::ptr::null(),
                wide.as_ptr(),
                sid.as_mut_ptr().cast(),
                &mut sid_len,
                domain.as_mut_ptr(),
                &mut domain_len,
                &mut usage,
            )
        };
        if ok != 0 {
            // SAFETY: on success `sid` holds a valid SID written by the call
            // and the buffer outlives this use.
            let text = unsafe { sid_to_string(sid.as_mut_ptr().cast()) }
                .ok_or_else(|| io::Error::other("LookupAccountNameW returned an invalid SID"))?;
            let name = account
                .rsplit_once('\\')
                .map_or(account, |(_, n)| n)
                .to_owned();
            return Ok((
                text,
                AccountName {
                    domain: utf16_lossless(&domain[..(domain_len as usize).min(domain.len())]),
                    name,
                    usage,
                },
            ));
        }
        let err = last_error();
        if err.raw_os_error() != Some(ERROR_INSUFFICIENT_BUFFER as i32) {
            return Err(err);
        }
        sid.resize((sid_len as usize).max(sid.len()), 0);
        domain.resize((domain_len as usize).max(domain.len()), 0);
    }
    Err(io::Error::other(
        "LookupAccountNameW: the sizes kept growing between calls",
    ))
}

/// A well-known SID (`WinBuiltinAdministratorsSid`, ...) in binary form,
/// in a buffer the caller owns.
///
/// # Errors
///
/// Whatever `CreateWellKnownSid` failed with.
pub(crate) fn well_known_sid(kind: WELL_KNOWN_SID_TYPE) -> io::Result<Vec<u8>> {
    let mut sid = vec![0u8; MAX_SID_SIZE];
    let mut len = sid.len() as u32;
    // SAFETY: the buffer is writable for `len` bytes, SECURITY_MAX_SID_SIZE,
    // which holds any SID; a null domain SID is allowed for the BUILTIN
    // SIDs this is used for.
    let ok = unsafe {
        CreateWellKnownSid(
            kind,
            std::ptr::null_mut(),
            sid.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    sid.truncate(len as usize);
    Ok(sid)
}
