//! Windows `sessions` collector: the Remote Desktop Services sessions of
//! this machine (console, RDP, disconnected ones included) from
//! `WTSEnumerateSessionsW`, each described with
//! `WTSQuerySessionInformationW`: user and domain (`WTSUserName`,
//! `WTSDomainName`, full length, unlike the truncated arrays of
//! `WTSINFOW`), logon time (`WTSSessionInfo`), and for remote sessions the
//! client's address (`WTSClientAddress`) or name (`WTSClientName`).
//! Records have `source: "current"`, `kind` the session state (`Active`,
//! `Disconnected`, `Listen`, ...), `tty` the window station (`Console`,
//! `RDP-Tcp#3`), `session` the id. Buffers are freed with `WTSFreeMemory`.
//!
//! Limitation: the client address is what the RDP client itself reported
//! (behind NAT or a gateway it is not the connecting address); the
//! connection's real peer is in `network.jsonl` (port 3389). Past logons
//! live in the Security event log, which is not read.
//! Limitation: Wine 8 enumerates no session, so this collector was checked
//! under Wine only for not failing.

use std::net::IpAddr;

use windows_sys::core::PWSTR;
use windows_sys::Win32::System::RemoteDesktop::{
    WTSClientAddress, WTSClientName, WTSDomainName, WTSEnumerateSessionsW, WTSFreeMemory,
    WTSQuerySessionInformationW, WTSSessionInfo, WTSUserName, WTSINFOW, WTS_CLIENT_ADDRESS,
    WTS_CURRENT_SERVER_HANDLE, WTS_INFO_CLASS, WTS_SESSION_INFOW,
};

use crate::collector::{CollectError, Context, Output};
use crate::records::session::{SessionRecord, FILE};
use crate::windows_api::{last_error, wide_string};
use crate::windows_formats::names::wts_state;
use crate::windows_formats::sockaddr::parse_wts_client_address;
use crate::windows_formats::time::filetime_to_timestamp;

/// Memory the WTS functions allocated; freed with `WTSFreeMemory`.
struct WtsBuffer {
    ptr: *mut u8,
    bytes: u32,
}

impl Drop for WtsBuffer {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: allocated by a WTS function, freed exactly once.
            unsafe { WTSFreeMemory(self.ptr.cast()) };
        }
    }
}

impl WtsBuffer {
    /// The buffer as one `T`, when it is at least that large.
    ///
    /// # Safety
    ///
    /// The information class that filled the buffer documents it as a `T`.
    unsafe fn as_struct<T>(&self) -> Option<&T> {
        if self.ptr.is_null() || (self.bytes as usize) < size_of::<T>() {
            return None;
        }
        // SAFETY: per the caller's contract and the size check, the buffer
        // holds a `T`; WTSQuerySessionInformationW allocates it aligned for
        // its structures, and it lives as long as `self`.
        Some(unsafe { &*self.ptr.cast::<T>() })
    }
}

fn query(session: u32, class: WTS_INFO_CLASS) -> std::io::Result<WtsBuffer> {
    let mut ptr: PWSTR = std::ptr::null_mut();
    let mut bytes = 0u32;
    // SAFETY: the function allocates the result (freed by WtsBuffer) and
    // writes its pointer and size to caller-owned variables.
    let ok = unsafe {
        WTSQuerySessionInformationW(
            WTS_CURRENT_SERVER_HANDLE,
            session,
            class,
            &mut ptr,
            &mut bytes,
        )
    };
    if ok == 0 {
        return Err(last_error());
    }
    Ok(WtsBuffer {
        ptr: ptr.cast(),
        bytes,
    })
}

fn query_string(session: u32, class: WTS_INFO_CLASS) -> std::io::Result<String> {
    let buf = query(session, class)?;
    if buf.bytes < 2 {
        return Ok(String::new());
    }
    // SAFETY: the string classes return a NUL-terminated string.
    Ok(unsafe { wide_string(buf.ptr.cast()) })
}

pub(super) fn collect(_ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let mut list: *mut WTS_SESSION_INFOW = std::ptr::null_mut();
    let mut count = 0u32;
    // SAFETY: Reserved must be 0 and Version 1 (documented); the function
    // allocates the array and writes its pointer and length.
    let ok =
        unsafe { WTSEnumerateSessionsW(WTS_CURRENT_SERVER_HANDLE, 0, 1, &mut list, &mut count) };
    if ok == 0 {
        return Err(CollectError::Io {
            what: "WTSEnumerateSessionsW".into(),
            source: last_error(),
        });
    }
    let guard = WtsBuffer {
        ptr: list.cast(),
        bytes: count.saturating_mul(size_of::<WTS_SESSION_INFOW>() as u32),
    };
    let sessions: Vec<(u32, String, i32)> = if list.is_null() || count == 0 {
        Vec::new()
    } else {
        // SAFETY: on success `list` points to `count` WTS_SESSION_INFOW,
        // alive until `guard` drops at the end of this function.
        unsafe { std::slice::from_raw_parts(list, count as usize) }
            .iter()
            .map(|s| {
                // SAFETY: the station name is a NUL-terminated string in
                // the same allocation.
                (
                    s.SessionId,
                    unsafe { wide_string(s.pWinStationName) },
                    s.State,
                )
            })
            .collect()
    };
    drop(guard);

    for (id, station, state) in sessions {
        let record = describe(id, station, state, out);
        out.record(FILE, &record);
    }
    Ok(())
}

fn describe(id: u32, station: String, state: i32, out: &mut Output) -> SessionRecord {
    let mut missing = Vec::new();
    let user = query_string(id, WTSUserName)
        .map_err(|e| missing.push(format!("user: {e}")))
        .unwrap_or_default();
    let domain = query_string(id, WTSDomainName)
        .map_err(|e| missing.push(format!("domain: {e}")))
        .unwrap_or_default();
    let logon = match query(id, WTSSessionInfo) {
        // SAFETY: WTSSessionInfo returns a WTSINFOW.
        Ok(buf) => unsafe { buf.as_struct::<WTSINFOW>() }
            .and_then(|info| u64::try_from(info.LogonTime).ok())
            .and_then(filetime_to_timestamp),
        Err(e) => {
            missing.push(format!("logon time: {e}"));
            None
        }
    };
    let address: Option<IpAddr> = match query(id, WTSClientAddress) {
        // SAFETY: WTSClientAddress returns a WTS_CLIENT_ADDRESS.
        Ok(buf) => unsafe { buf.as_struct::<WTS_CLIENT_ADDRESS>() }
            .and_then(|a| parse_wts_client_address(a.AddressFamily, &a.Address)),
        Err(e) => {
            missing.push(format!("client address: {e}"));
            None
        }
    };
    let client_name = query_string(id, WTSClientName)
        .map_err(|e| missing.push(format!("client name: {e}")))
        .unwrap_or_default();
    if !missing.is_empty() {
        out.gap(format!("session {id} ({station})"), missing.join("; "));
    }

    let user = match (domain.is_empty(), user.is_empty()) {
        (_, true) => None,
        (true, false) => Some(user),
        (false, false) => Some(format!("{domain}\\{user}")),
    };
    let addr = address.map(|a| a.to_string());
    let host = addr
        .clone()
        .or_else(|| (!client_name.is_empty()).then_some(client_name));
    SessionRecord {
        source: "current".into(),
        kind: wts_state(state),
        user,
        tty: (!station.is_empty()).then_some(station),
        host,
        time: logon,
        pid: None,
        session: Some(id),
        addr,
        ..SessionRecord::default()
    }
}
