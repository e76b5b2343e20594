//! Windows `accounts` collector: the classic `net localgroup
//! administrators`, without running it, plus every local user.
//!
//! - The Administrators group is found by its well-known SID `S-1-5-32-544`
//!   (`CreateWellKnownSid`), named with `LookupAccountSidW`: its name is
//!   localised ("Administratoren", "Administrateurs").
//! - Its members come from `NetLocalGroupGetMembers` at level 2 (SID, use,
//!   `DOMAIN\name`), so an orphaned member whose account was deleted keeps
//!   its raw SID. Level 3 (names only) is read as well and any name it lists
//!   that level 2 did not is added, its SID looked up by name: the two
//!   levels agree on Windows, and Wine 8 fills only level 3.
//! - Local users come from `NetUserEnum` (level 0), each detailed with
//!   `NetUserGetInfo` level 1 (disabled flag, password age, home),
//!   `LookupAccountNameW` (SID) and `NetUserGetLocalGroups` (local groups,
//!   nested ones included, which reveals administrators through a nested
//!   domain group).
//!
//! Records are merged by [`crate::windows_formats::accounts`].
//!
//! Limitation: domain group members are not expanded (that needs a domain
//! controller); a domain group in Administrators is one record. Password
//! state is not read (it lives in the SAM), except that a disabled account
//! is `locked`.

#[path = "windows/netapi.rs"]
mod netapi;

use jiff::Timestamp;
use windows_sys::Win32::Security::WinBuiltinAdministratorsSid;
use windows_sys::Win32::System::SystemInformation::ComputerNameNetBIOS;

use crate::collector::{CollectError, Context, Output};
use crate::records::account::FILE;
use crate::windows_api::account::{lookup_name, lookup_sid, well_known_sid};
use crate::windows_api::computer_name;
use crate::windows_formats::accounts::{account_records, GroupMember, LocalUser};
use crate::windows_formats::names::sid_name_use;
use crate::windows_formats::sid::ADMINISTRATORS;

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let group = admin_group_name(out);
    let admins = match &group {
        Some(g) => admin_members(g, out),
        None => Vec::new(),
    };

    let users = match netapi::user_names() {
        Ok(names) => names,
        Err(e) => {
            out.gap("NetUserEnum", e);
            Vec::new()
        }
    };
    if group.is_none() && users.is_empty() {
        return Err(CollectError::Other(
            "neither the Administrators group nor the local users could be read".into(),
        ));
    }
    // Local accounts are looked up as COMPUTER\name, so that on a domain
    // member (or a domain controller) a domain account of the same name is
    // not picked instead.
    let computer = computer_name(ComputerNameNetBIOS);
    let mut locals = Vec::with_capacity(users.len());
    for user in users {
        if ctx.expired() {
            out.mark_timed_out();
            out.gap("local users", "deadline passed before every user was read");
            break;
        }
        locals.push(local_user(&user, computer.as_deref(), out));
    }

    for rec in account_records(&locals, &admins, group.as_deref(), Timestamp::now()) {
        out.record(FILE, &rec);
    }
    Ok(())
}

/// The localised name of the group whose SID is S-1-5-32-544.
fn admin_group_name(out: &mut Output) -> Option<String> {
    let what = format!("Administrators group ({ADMINISTRATORS})");
    let mut sid = match well_known_sid(WinBuiltinAdministratorsSid) {
        Ok(s) => s,
        Err(e) => {
            out.gap(what, format!("CreateWellKnownSid: {e}"));
            return None;
        }
    };
    // SAFETY: `sid` holds the SID CreateWellKnownSid wrote and outlives the
    // call.
    match unsafe { lookup_sid(sid.as_mut_ptr().cast()) } {
        Ok(name) => Some(name.name),
        Err(e) => {
            out.gap(what, format!("LookupAccountSidW: {e}"));
            None
        }
    }
}

/// Members at level 2, completed from level 3 (see the module doc).
fn admin_members(group: &str, out: &mut Output) -> Vec<GroupMember> {
    let mut members: Vec<GroupMember> = match netapi::group_members_with_sids(group) {
        Ok(list) => list
            .into_iter()
            .map(|m| {
                log::debug!(
                    "administrator: {} ({}, {})",
                    m.name,
                    m.sid.as_deref().unwrap_or("no SID"),
                    sid_name_use(m.usage)
                );
                GroupMember {
                    sid: m.sid,
                    name: (!m.name.is_empty()).then_some(m.name),
                }
            })
            .collect(),
        Err(e) => {
            out.gap(format!("NetLocalGroupGetMembers({group}, level 2)"), e);
            Vec::new()
        }
    };
    match netapi::group_member_names(group) {
        Ok(names) => {
            for name in names {
                let known = members.iter().any(|m| {
                    m.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&name))
                });
                if known || name.is_empty() {
                    continue;
                }
                log::debug!("administrator {name} listed only at level 3");
                let sid = match lookup_name(&name) {
                    Ok((sid, _)) => Some(sid),
                    Err(e) => {
                        out.gap(
                            format!("administrator {name}"),
                            format!("LookupAccountNameW: {e}"),
                        );
                        None
                    }
                };
                members.push(GroupMember {
                    sid,
                    name: Some(name),
                });
            }
        }
        Err(e) => out.gap(format!("NetLocalGroupGetMembers({group}, level 3)"), e),
    }
    members
}

/// One local user with its details; each detail that fails is a gap.
fn local_user(user: &str, computer: Option<&str>, out: &mut Output) -> LocalUser {
    let qualified = match computer {
        Some(c) => format!("{c}\\{user}"),
        None => user.to_owned(),
    };
    let mut local = LocalUser {
        name: qualified.clone(),
        ..LocalUser::default()
    };
    let mut missing = Vec::new();
    match lookup_name(&qualified) {
        Ok((sid, account)) => {
            local.sid = Some(sid);
            local.name = account.qualified();
        }
        Err(e) => missing.push(format!("SID: {e}")),
    }
    match netapi::user_details(user) {
        Ok((disabled, age, home)) => {
            local.disabled = Some(disabled);
            local.password_age_secs = Some(age);
            local.home = home;
        }
        Err(e) => missing.push(format!("NetUserGetInfo level 1: {e}")),
    }
    match netapi::user_local_groups(user) {
        Ok(groups) => local.groups = groups,
        Err(e) => missing.push(format!("local groups: {e}")),
    }
    if !missing.is_empty() {
        out.gap(format!("user {user}"), missing.join("; "));
    }
    local
}
