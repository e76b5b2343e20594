//! Read-only access to `HKEY_LOCAL_MACHINE`.
//!
//! Keys are opened with `KEY_READ | KEY_WOW64_64KEY` (the native view) and
//! closed on drop. Buffer sizes follow the documented rules: subkey names
//! are at most 255 characters (registry element size limits) and
//! `RegEnumKeyExW` takes the buffer size with the NUL and returns the
//! length without it; `RegQueryValueExW` reports the size it needs in bytes
//! and answers `ERROR_MORE_DATA` when the value grew between two calls.

use std::io;

use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_MORE_DATA, ERROR_NO_MORE_ITEMS};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegEnumKeyExW, RegOpenKeyExW, RegQueryValueExW, HKEY, HKEY_LOCAL_MACHINE,
    KEY_READ, KEY_WOW64_64KEY, REG_DWORD, REG_EXPAND_SZ, REG_SZ,
};

use super::win32_error;
use crate::windows_formats::wide::{to_wide_nul, until_nul};

/// Longest key name (documented limit), plus the terminating NUL.
const MAX_KEY_NAME: usize = 256;
/// Bound on re-reads of a value that keeps growing.
const ATTEMPTS: usize = 3;

/// An open registry key.
pub(crate) struct RegKey(HKEY);

impl Drop for RegKey {
    fn drop(&mut self) {
        // SAFETY: the key was opened by RegOpenKeyExW and is closed once.
        unsafe { RegCloseKey(self.0) };
    }
}

impl RegKey {
    /// Opens `HKLM\<path>` for reading.
    ///
    /// # Errors
    ///
    /// The key is absent (`ERROR_FILE_NOT_FOUND`) or not readable.
    pub(crate) fn open_hklm(path: &str) -> io::Result<RegKey> {
        open(HKEY_LOCAL_MACHINE, &to_wide_nul(path))
    }

    /// Opens a subkey by its name as enumerated (UTF-16, no NUL).
    ///
    /// # Errors
    ///
    /// The subkey vanished or is not readable.
    pub(crate) fn open_subkey(&self, name: &[u16]) -> io::Result<RegKey> {
        let mut wide = name.to_vec();
        wide.push(0);
        open(self.0, &wide)
    }

    /// The names of every subkey (UTF-16, no NUL), in the order the
    /// registry gives them.
    ///
    /// # Errors
    ///
    /// Enumeration failed part-way; what was read is lost with it, so the
    /// caller records the whole key as a gap.
    pub(crate) fn subkey_names(&self) -> io::Result<Vec<Vec<u16>>> {
        let mut names = Vec::new();
        let mut buf = vec![0u16; MAX_KEY_NAME];
        for index in 0u32.. {
            let mut len = buf.len() as u32;
            // SAFETY: `buf` is writable for `len` characters (NUL
            // included); the class and time outputs are optional and null.
            let status = unsafe {
                RegEnumKeyExW(
                    self.0,
                    index,
                    buf.as_mut_ptr(),
                    &mut len,
                    std::ptr::null(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            match status {
                0 => names.push(buf[..(len as usize).min(buf.len())].to_vec()),
                ERROR_NO_MORE_ITEMS => break,
                other => return Err(win32_error(other)),
            }
        }
        Ok(names)
    }

    /// A `REG_DWORD` value; `None` when the value does not exist.
    ///
    /// # Errors
    ///
    /// The value has another type or could not be read.
    pub(crate) fn dword(&self, name: &str) -> io::Result<Option<u32>> {
        let wide = to_wide_nul(name);
        let mut data = 0u32;
        let mut size = size_of::<u32>() as u32;
        let mut kind = 0u32;
        // SAFETY: `data` is writable for `size` bytes (4, a DWORD); the
        // function writes at most that and sets `kind` and `size`.
        let status = unsafe {
            RegQueryValueExW(
                self.0,
                wide.as_ptr(),
                std::ptr::null(),
                &mut kind,
                (&mut data as *mut u32).cast(),
                &mut size,
            )
        };
        match status {
            0 if kind == REG_DWORD && size == 4 => Ok(Some(data)),
            0 => Err(io::Error::other(format!(
                "{name}: not a REG_DWORD (type {kind})"
            ))),
            ERROR_FILE_NOT_FOUND => Ok(None),
            other => Err(win32_error(other)),
        }
    }

    /// A `REG_SZ` or `REG_EXPAND_SZ` value as UTF-16 without the NUL
    /// (environment variables are not expanded); `None` when the value does
    /// not exist.
    ///
    /// # Errors
    ///
    /// The value has another type or could not be read.
    pub(crate) fn string(&self, name: &str) -> io::Result<Option<Vec<u16>>> {
        let wide = to_wide_nul(name);
        let mut size = 0u32;
        let mut kind = 0u32;
        for _ in 0..ATTEMPTS {
            // u16 units; the byte size is rounded up, and one more unit
            // leaves room for a NUL the value may lack.
            let mut buf = vec![0u16; (size as usize).div_ceil(2) + 1];
            let mut got = (buf.len() * 2) as u32;
            // SAFETY: `buf` is writable for `got` bytes; the function writes
            // at most that many, or answers ERROR_MORE_DATA with the size it
            // needs in `got`.
            let status = unsafe {
                RegQueryValueExW(
                    self.0,
                    wide.as_ptr(),
                    std::ptr::null(),
                    &mut kind,
                    buf.as_mut_ptr().cast(),
                    &mut got,
                )
            };
            match status {
                0 if kind == REG_SZ || kind == REG_EXPAND_SZ => {
                    buf.truncate((got as usize / 2).min(buf.len()));
                    return Ok(Some(until_nul(&buf).to_vec()));
                }
                0 => {
                    return Err(io::Error::other(format!(
                        "{name}: not a string value (type {kind})"
                    )))
                }
                ERROR_MORE_DATA => size = got,
                ERROR_FILE_NOT_FOUND => return Ok(None),
                other => return Err(win32_error(other)),
            }
        }
        Err(io::Error::other(format!("{name}: the value kept growing")))
    }
}

fn open(parent: HKEY, path_nul: &[u16]) -> io::Result<RegKey> {
    let mut key: HKEY = std::ptr::null_mut();
    // SAFETY: `path_nul` is NUL-terminated; on success the function stores
    // a key handle we own and close in Drop.
    let status = unsafe {
        RegOpenKeyExW(
            parent,
            path_nul.as_ptr(),
            0,
            KEY_READ | KEY_WOW64_64KEY,
            &mut key,
        )
    };
    if status != 0 {
        return Err(win32_error(status));
    }
    Ok(RegKey(key))
}
