//! What the API tells about one process, through a handle opened with
//! `PROCESS_QUERY_LIMITED_INFORMATION` (the right Windows grants even for
//! most protected processes and, when elevated, for other users'
//! processes).

use std::ffi::OsString;
use std::io;
use std::os::windows::ffi::OsStringExt;
use std::os::windows::io::{AsRawHandle, HandleOrNull, OwnedHandle};

use jiff::Timestamp;
use windows_sys::Wdk::System::Threading::{
    NtQueryInformationProcess, ProcessCommandLineInformation,
};
use windows_sys::Win32::Foundation::{
    ERROR_INSUFFICIENT_BUFFER, FALSE, FILETIME, STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL,
    STATUS_INFO_LENGTH_MISMATCH, UNICODE_STRING,
};
use windows_sys::Win32::System::RemoteDesktop::ProcessIdToSessionId;
use windows_sys::Win32::System::Threading::{
    GetProcessTimes, OpenProcess, QueryFullProcessImageNameW, PROCESS_NAME_WIN32,
    PROCESS_QUERY_LIMITED_INFORMATION,
};

use crate::windows_api::buffer::AlignedBuffer;
use crate::windows_api::last_error;
use crate::windows_formats::time::{filetime_from_parts, filetime_to_timestamp};

/// Longest path Windows supports (`\\?\` paths), in characters.
const MAX_PATH_CHARS: usize = 32_768;
/// Bound on command-line re-reads (it cannot change size, but the loop
/// must end).
const ATTEMPTS: usize = 4;

/// Opens a process for limited queries.
pub(super) fn open(pid: u32) -> io::Result<OwnedHandle> {
    // SAFETY: no pointers; on failure the function returns NULL, which
    // HandleOrNull turns into an error below.
    let raw = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid) };
    // SAFETY: `raw` is NULL or a new handle owned by nobody else.
    OwnedHandle::try_from(unsafe { HandleOrNull::from_raw_handle(raw) }).map_err(|_| last_error())
}

/// The image path in Win32 form, as UTF-16 and as an `OsString` to open the
/// file with later.
pub(super) fn image_path(process: &OwnedHandle) -> io::Result<Vec<u16>> {
    let mut buf = vec![0u16; 260];
    loop {
        let mut size = buf.len() as u32;
        // SAFETY: `buf` is writable for `size` characters; on success the
        // function writes the path and a NUL and sets `size` to the length
        // without the NUL. It reports no needed size on failure, so the
        // buffer is doubled up to the longest possible path.
        let ok = unsafe {
            QueryFullProcessImageNameW(
                process.as_raw_handle(),
                PROCESS_NAME_WIN32,
                buf.as_mut_ptr(),
                &mut size,
            )
        };
        if ok != 0 {
            buf.truncate((size as usize).min(buf.len()));
            return Ok(buf);
        }
        let err = last_error();
        if err.raw_os_error() != Some(ERROR_INSUFFICIENT_BUFFER as i32)
            || buf.len() >= MAX_PATH_CHARS
        {
            return Err(err);
        }
        buf.resize((buf.len() * 2).min(MAX_PATH_CHARS), 0);
    }
}

/// The path as an `OsString` for opening the file (exact, whatever the
/// UTF-16 holds).
pub(super) fn os_path(units: &[u16]) -> OsString {
    OsString::from_wide(units)
}

/// Creation time (`GetProcessTimes`).
pub(super) fn start_time(process: &OwnedHandle) -> io::Result<Option<Timestamp>> {
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: four caller-owned FILETIME outputs; the handle has the
    // PROCESS_QUERY_LIMITED_INFORMATION right the function requires.
    let ok = unsafe {
        GetProcessTimes(
            process.as_raw_handle(),
            &mut created,
            &mut exited,
            &mut kernel,
            &mut user,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    Ok(filetime_to_timestamp(filetime_from_parts(
        created.dwHighDateTime,
        created.dwLowDateTime,
    )))
}

/// Remote Desktop session of a process (`ProcessIdToSessionId`).
pub(super) fn session(pid: u32) -> io::Result<u32> {
    let mut session = 0u32;
    // SAFETY: one caller-owned output variable.
    if unsafe { ProcessIdToSessionId(pid, &mut session) } == 0 {
        return Err(last_error());
    }
    Ok(session)
}

/// An NTSTATUS failure, shown the way Windows documentation writes it.
#[derive(Debug, thiserror::Error)]
#[error("NtQueryInformationProcess(ProcessCommandLineInformation): NTSTATUS 0x{0:08X}")]
pub(super) struct NtStatusError(u32);

/// The command line (`NtQueryInformationProcess` with
/// `ProcessCommandLineInformation`, Windows 8.1 and later). The class is
/// not in the winternl.h documentation; it follows the documented
/// convention of `ProcessImageFileName`: the buffer receives a
/// `UNICODE_STRING` followed by the string it points to, and when the
/// buffer is too small the call fails with `STATUS_INFO_LENGTH_MISMATCH`
/// and sets the return length to the size it needs.
pub(super) fn command_line(process: &OwnedHandle) -> Result<Vec<u16>, NtStatusError> {
    let mut size = 1024usize;
    for _ in 0..ATTEMPTS {
        let mut buf = AlignedBuffer::new(size);
        let mut needed = 0u32;
        // SAFETY: `buf` is writable for `buf.len()` bytes and 8-byte
        // aligned (it starts with a UNICODE_STRING holding a pointer); the
        // function writes at most that many bytes and the needed size in
        // `needed`.
        let status = unsafe {
            NtQueryInformationProcess(
                process.as_raw_handle(),
                ProcessCommandLineInformation,
                buf.as_mut_ptr().cast(),
                buf.len() as u32,
                &mut needed,
            )
        };
        if status >= 0 {
            return Ok(unicode_string_in(&buf));
        }
        if status == STATUS_INFO_LENGTH_MISMATCH
            || status == STATUS_BUFFER_TOO_SMALL
            || status == STATUS_BUFFER_OVERFLOW
        {
            size = (needed as usize).max(size * 2);
            continue;
        }
        return Err(NtStatusError(status as u32));
    }
    Err(NtStatusError(STATUS_INFO_LENGTH_MISMATCH as u32))
}

/// The string of the `UNICODE_STRING` at the start of `buf`, read only if
/// it lies inside `buf` (anything else yields an empty string rather than
/// a read outside the buffer).
fn unicode_string_in(buf: &AlignedBuffer) -> Vec<u16> {
    if buf.len() < size_of::<UNICODE_STRING>() {
        return Vec::new();
    }
    // SAFETY: the buffer is at least a UNICODE_STRING long and 8-byte
    // aligned; the call succeeded, so it starts with one.
    let us = unsafe { &*buf.as_ptr().cast::<UNICODE_STRING>() };
    let start = buf.as_ptr() as usize;
    let text = us.Buffer as usize;
    let bytes = usize::from(us.Length);
    let inside = text >= start
        && text
            .checked_add(bytes)
            .is_some_and(|end| end <= start + buf.len())
        && text.is_multiple_of(2);
    if !inside || us.Buffer.is_null() {
        return Vec::new();
    }
    // SAFETY: checked just above that the `bytes / 2` units lie inside the
    // buffer, which stays alive for this borrow, and are 2-byte aligned.
    unsafe { std::slice::from_raw_parts(us.Buffer, bytes / 2) }.to_vec()
}
