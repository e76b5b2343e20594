//! The process list from a Toolhelp snapshot (`CreateToolhelp32Snapshot`
//! with `TH32CS_SNAPPROCESS`, then `Process32FirstW`/`Process32NextW`).

use std::io;
use std::os::windows::io::{AsRawHandle, HandleOrInvalid, OwnedHandle};

use windows_sys::Win32::Foundation::ERROR_NO_MORE_FILES;
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, PROCESSENTRY32W, TH32CS_SNAPPROCESS,
};

use super::last_error;
use crate::windows_formats::wide::{until_nul, utf16_lossless};

/// One process as the snapshot saw it.
#[derive(Debug, Clone)]
pub(crate) struct SnapshotEntry {
    /// Process id.
    pub pid: u32,
    /// Parent process id (the creator's id at creation; it may since have
    /// exited and the id been reused).
    pub ppid: u32,
    /// Threads.
    pub threads: u32,
    /// Image name (`szExeFile`), lossless.
    pub name: String,
}

/// Takes a snapshot of every process.
///
/// # Errors
///
/// The snapshot could not be taken, or walking it failed part-way (the
/// entries read before are lost with it: a partial list would hide
/// processes without saying so).
pub(crate) fn processes() -> io::Result<Vec<SnapshotEntry>> {
    // SAFETY: no pointers are passed; on failure the function returns
    // INVALID_HANDLE_VALUE, which HandleOrInvalid turns into an error.
    let raw = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    // SAFETY: `raw` is either INVALID_HANDLE_VALUE or a new handle owned by
    // nobody else, the two cases HandleOrInvalid distinguishes.
    let snapshot = OwnedHandle::try_from(unsafe { HandleOrInvalid::from_raw_handle(raw) })
        .map_err(|_| last_error())?;

    // SAFETY: PROCESSENTRY32W is plain data; all-zero is a valid value.
    let mut entry: PROCESSENTRY32W = unsafe { std::mem::zeroed() };
    entry.dwSize = size_of::<PROCESSENTRY32W>() as u32;
    let mut out = Vec::with_capacity(256);
    // SAFETY: `entry.dwSize` is set to the structure's size as required;
    // the function fills `entry`.
    let mut ok = unsafe { Process32FirstW(snapshot.as_raw_handle(), &mut entry) };
    while ok != 0 {
        out.push(SnapshotEntry {
            pid: entry.th32ProcessID,
            ppid: entry.th32ParentProcessID,
            threads: entry.cntThreads,
            name: utf16_lossless(until_nul(&entry.szExeFile)),
        });
        // SAFETY: as for Process32FirstW; `dwSize` is left as set.
        ok = unsafe { Process32NextW(snapshot.as_raw_handle(), &mut entry) };
    }
    let err = last_error();
    if err.raw_os_error() != Some(ERROR_NO_MORE_FILES as i32) {
        return Err(err);
    }
    Ok(out)
}
