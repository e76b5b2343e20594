//! Process access tokens: who a process runs as, and whether irdump itself
//! is elevated.

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

use windows_sys::Win32::Foundation::{ERROR_INSUFFICIENT_BUFFER, HANDLE};
use windows_sys::Win32::Security::{
    GetTokenInformation, TokenElevation, TokenUser, TOKEN_ELEVATION, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

use super::account::{lookup_sid, sid_to_string, AccountName};
use super::last_error;

/// Opens the access token of a process for `TOKEN_QUERY`.
fn open_token(process: HANDLE) -> io::Result<OwnedHandle> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: `process` is a process handle the caller holds open (or the
    // current-process pseudo handle); on success the function stores a new
    // token handle that we now own and close through OwnedHandle.
    if unsafe { OpenProcessToken(process, TOKEN_QUERY, &mut token) } == 0 {
        return Err(last_error());
    }
    // SAFETY: `token` is a freshly opened handle owned by nobody else.
    Ok(unsafe { OwnedHandle::from_raw_handle(token) })
}

/// The user a process runs as: its SID in text form and, when the SID
/// maps to an account, the account's name.
///
/// # Errors
///
/// The token could not be opened or queried (typically access denied for a
/// protected process or another user's process when not elevated). A SID
/// that maps to no account is not an error: the name is `None`.
pub(crate) fn process_user(process: &OwnedHandle) -> io::Result<(String, Option<AccountName>)> {
    let token = open_token(process.as_raw_handle())?;
    let mut needed = 0u32;
    // SAFETY: a zero-length query with a null buffer only reports the size
    // it needs in `needed` (ERROR_INSUFFICIENT_BUFFER, documented).
    unsafe {
        GetTokenInformation(
            token.as_raw_handle(),
            TokenUser,
            std::ptr::null_mut(),
            0,
            &mut needed,
        )
    };
    let err = last_error();
    if needed == 0 {
        return Err(err);
    }
    if err.raw_os_error() != Some(ERROR_INSUFFICIENT_BUFFER as i32) {
        return Err(err);
    }
    // TOKEN_USER holds a pointer (to the SID stored after it in the same
    // buffer): a u64 buffer gives the 8-byte alignment it needs.
    let mut buf = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: the buffer is writable for `needed` bytes, the size the first
    // call asked for, and aligned for TOKEN_USER.
    let ok = unsafe {
        GetTokenInformation(
            token.as_raw_handle(),
            TokenUser,
            buf.as_mut_ptr().cast(),
            needed,
            &mut needed,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    // SAFETY: on success the buffer starts with a TOKEN_USER whose SID
    // pointer points into the same buffer, which lives until the end of
    // this function.
    let sid = unsafe { (*buf.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    // SAFETY: as above, `sid` points to a valid SID inside `buf`.
    let text = unsafe { sid_to_string(sid) }
        .ok_or_else(|| io::Error::other("token user SID is invalid"))?;
    // SAFETY: as above.
    let name = unsafe { lookup_sid(sid) }.ok();
    Ok((text, name))
}

/// Whether irdump runs elevated (`TokenElevation` of its own token).
///
/// # Errors
///
/// The token could not be opened or queried.
pub(crate) fn current_process_elevated() -> io::Result<bool> {
    // SAFETY: GetCurrentProcess returns a pseudo handle that needs no
    // closing and is always valid in the calling process.
    let token = open_token(unsafe { GetCurrentProcess() })?;
    let mut elevation = TOKEN_ELEVATION { TokenIsElevated: 0 };
    let mut len = 0u32;
    // SAFETY: `elevation` is a TOKEN_ELEVATION, the fixed-size structure
    // this class writes, and the length passed is its size.
    let ok = unsafe {
        GetTokenInformation(
            token.as_raw_handle(),
            TokenElevation,
            (&mut elevation as *mut TOKEN_ELEVATION).cast(),
            size_of::<TOKEN_ELEVATION>() as u32,
            &mut len,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    Ok(elevation.TokenIsElevated != 0)
}
