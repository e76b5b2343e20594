//! The NetApi enumerations behind the accounts collector. Each follows the
//! documented pattern: `MAX_PREFERRED_LENGTH` so the function allocates
//! what it needs, a resume handle, a loop while the answer is
//! `ERROR_MORE_DATA`, and the buffer freed with `NetApiBufferFree` even
//! after `ERROR_MORE_DATA` (done by [`NetBuffer`]'s drop).

use std::io;

use windows_sys::Win32::Foundation::ERROR_MORE_DATA;
use windows_sys::Win32::NetworkManagement::NetManagement::{
    NERR_Success, NetLocalGroupGetMembers, NetUserEnum, NetUserGetInfo, NetUserGetLocalGroups,
    FILTER_NORMAL_ACCOUNT, LG_INCLUDE_INDIRECT, LOCALGROUP_MEMBERS_INFO_2,
    LOCALGROUP_MEMBERS_INFO_3, LOCALGROUP_USERS_INFO_0, MAX_PREFERRED_LENGTH, UF_ACCOUNTDISABLE,
    USER_INFO_0, USER_INFO_1,
};
use windows_sys::Win32::Security::SID_NAME_USE;

use crate::windows_api::account::sid_to_string;
use crate::windows_api::netapi::NetBuffer;
use crate::windows_api::{wide_string, win32_error};
use crate::windows_formats::wide::to_wide_nul;

/// Bound on `ERROR_MORE_DATA` rounds (each returns as much as fits in the
/// memory the function chose; more than a few rounds means a loop).
const ROUNDS: usize = 10_000;

/// A member at level 2: SID, how it is used, and `DOMAIN\name` (empty for
/// an orphaned SID).
pub(super) struct MemberInfo {
    pub sid: Option<String>,
    pub usage: SID_NAME_USE,
    pub name: String,
}

/// Members of a local group with their SIDs (level 2).
pub(super) fn group_members_with_sids(group: &str) -> io::Result<Vec<MemberInfo>> {
    let group_w = to_wide_nul(group);
    let mut out = Vec::new();
    let mut resume: usize = 0;
    for _ in 0..ROUNDS {
        let mut buf = NetBuffer::new();
        let (mut read, mut total) = (0u32, 0u32);
        // SAFETY: the group name is NUL-terminated; the function allocates
        // the result (freed by NetBuffer) and writes the counts and resume
        // handle to caller-owned variables.
        let rc = unsafe {
            NetLocalGroupGetMembers(
                std::ptr::null(),
                group_w.as_ptr(),
                2,
                buf.slot(),
                MAX_PREFERRED_LENGTH,
                &mut read,
                &mut total,
                &mut resume,
            )
        };
        if rc != NERR_Success && rc != ERROR_MORE_DATA {
            return Err(win32_error(rc));
        }
        // SAFETY: level 2 returns an array of `read` LOCALGROUP_MEMBERS_INFO_2.
        for m in unsafe { buf.entries::<LOCALGROUP_MEMBERS_INFO_2>(read) } {
            out.push(MemberInfo {
                // SAFETY: the SID and name pointers point into `buf`, which
                // is alive for this loop.
                sid: unsafe { sid_to_string(m.lgrmi2_sid) },
                usage: m.lgrmi2_sidusage,
                // SAFETY: as above; a NUL-terminated string or null.
                name: unsafe { wide_string(m.lgrmi2_domainandname) },
            });
        }
        if rc != ERROR_MORE_DATA {
            return Ok(out);
        }
    }
    Err(io::Error::other("NetLocalGroupGetMembers did not finish"))
}

/// Members of a local group by name only (level 3, `DOMAIN\name`).
pub(super) fn group_member_names(group: &str) -> io::Result<Vec<String>> {
    let group_w = to_wide_nul(group);
    let mut out = Vec::new();
    let mut resume: usize = 0;
    for _ in 0..ROUNDS {
        let mut buf = NetBuffer::new();
        let (mut read, mut total) = (0u32, 0u32);
        // SAFETY: as in `group_members_with_sids`, at level 3.
        let rc = unsafe {
            NetLocalGroupGetMembers(
                std::ptr::null(),
                group_w.as_ptr(),
                3,
                buf.slot(),
                MAX_PREFERRED_LENGTH,
                &mut read,
                &mut total,
                &mut resume,
            )
        };
        if rc != NERR_Success && rc != ERROR_MORE_DATA {
            return Err(win32_error(rc));
        }
        // SAFETY: level 3 returns an array of `read` LOCALGROUP_MEMBERS_INFO_3.
        for m in unsafe { buf.entries::<LOCALGROUP_MEMBERS_INFO_3>(read) } {
            // SAFETY: a NUL-terminated string inside `buf`, or null.
            out.push(unsafe { wide_string(m.lgrmi3_domainandname) });
        }
        if rc != ERROR_MORE_DATA {
            return Ok(out);
        }
    }
    Err(io::Error::other("NetLocalGroupGetMembers did not finish"))
}

/// Names of the local user accounts (`NetUserEnum` level 0, normal
/// accounts).
pub(super) fn user_names() -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut resume: u32 = 0;
    for _ in 0..ROUNDS {
        let mut buf = NetBuffer::new();
        let (mut read, mut total) = (0u32, 0u32);
        // SAFETY: the function allocates the result (freed by NetBuffer)
        // and writes the counts and resume handle to caller-owned
        // variables.
        let rc = unsafe {
            NetUserEnum(
                std::ptr::null(),
                0,
                FILTER_NORMAL_ACCOUNT,
                buf.slot(),
                MAX_PREFERRED_LENGTH,
                &mut read,
                &mut total,
                &mut resume,
            )
        };
        if rc != NERR_Success && rc != ERROR_MORE_DATA {
            return Err(win32_error(rc));
        }
        // SAFETY: level 0 returns an array of `read` USER_INFO_0.
        for u in unsafe { buf.entries::<USER_INFO_0>(read) } {
            // SAFETY: a NUL-terminated string inside `buf`.
            out.push(unsafe { wide_string(u.usri0_name) });
        }
        if rc != ERROR_MORE_DATA {
            return Ok(out);
        }
    }
    Err(io::Error::other("NetUserEnum did not finish"))
}

/// Level-1 details of a user: disabled flag, password age in seconds, home
/// directory.
pub(super) fn user_details(user: &str) -> io::Result<(bool, u32, Option<String>)> {
    let user_w = to_wide_nul(user);
    let mut buf = NetBuffer::new();
    // SAFETY: the user name is NUL-terminated; the function allocates one
    // USER_INFO_1 (freed by NetBuffer).
    let rc = unsafe { NetUserGetInfo(std::ptr::null(), user_w.as_ptr(), 1, buf.slot()) };
    if rc != NERR_Success {
        return Err(win32_error(rc));
    }
    // SAFETY: level 1 returns one USER_INFO_1.
    let Some(info) = (unsafe { buf.entries::<USER_INFO_1>(1) }).first() else {
        return Err(io::Error::other("NetUserGetInfo returned no data"));
    };
    // SAFETY: a NUL-terminated string inside `buf`, or null.
    let home = unsafe { wide_string(info.usri1_home_dir) };
    Ok((
        info.usri1_flags & UF_ACCOUNTDISABLE != 0,
        info.usri1_password_age,
        (!home.is_empty()).then_some(home),
    ))
}

/// The local groups a user belongs to, directly or through nested groups.
pub(super) fn user_local_groups(user: &str) -> io::Result<Vec<String>> {
    let user_w = to_wide_nul(user);
    let mut buf = NetBuffer::new();
    let (mut read, mut total) = (0u32, 0u32);
    // SAFETY: as above; with MAX_PREFERRED_LENGTH the function allocates
    // room for every entry (this function has no resume handle).
    let rc = unsafe {
        NetUserGetLocalGroups(
            std::ptr::null(),
            user_w.as_ptr(),
            0,
            LG_INCLUDE_INDIRECT,
            buf.slot(),
            MAX_PREFERRED_LENGTH,
            &mut read,
            &mut total,
        )
    };
    if rc != NERR_Success {
        return Err(win32_error(rc));
    }
    // SAFETY: level 0 returns an array of `read` LOCALGROUP_USERS_INFO_0.
    let groups = unsafe { buf.entries::<LOCALGROUP_USERS_INFO_0>(read) }
        .iter()
        // SAFETY: NUL-terminated strings inside `buf`.
        .map(|g| unsafe { wide_string(g.lgrui0_name) })
        .collect();
    Ok(groups)
}
