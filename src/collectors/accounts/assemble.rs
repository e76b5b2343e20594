//! Turns the parsed account databases and sudoers rules into
//! `accounts.jsonl` records: group membership, password state (never the
//! hash), and every reason an account is an administrator.
//!
//! An account is an administrator when it has uid 0 (`uid0`), belongs to
//! one of the groups that Debian, Ubuntu and Red Hat family systems make
//! administrators through sudo and polkit (`group:sudo`, `group:wheel`,
//! `group:admin`, as primary or supplementary group), or when a sudoers
//! rule lets it run any command as root (`sudoers:<file>:<line>`). Group
//! membership counts even where sudo is absent: polkit and `su` (with
//! `pam_wheel`) still honour it.

use std::collections::HashSet;

use jiff::Timestamp;

use super::passwd::{days_to_date, GroupEntry, PasswdEntry, PasswordState, ShadowEntry};
use super::sudoers::{Principal, Sudoers};
use crate::records::account::{AccountRecord, AdminSource, SudoRule};

/// Groups whose members are administrators.
pub const ADMIN_GROUPS: &[&str] = &["sudo", "wheel", "admin"];

/// Parsed inputs, each with the host path and modification time of its
/// file.
pub struct Inputs<'a> {
    /// `/etc/passwd` entries.
    pub passwd: &'a [PasswdEntry],
    /// `/etc/passwd` modification time.
    pub passwd_mtime: Option<Timestamp>,
    /// `/etc/shadow` entries; `None` when it could not be read.
    pub shadow: Option<&'a [ShadowEntry]>,
    /// `/etc/group` entries (empty when it could not be read).
    pub groups: &'a [GroupEntry],
    /// `/etc/group` modification time.
    pub group_mtime: Option<Timestamp>,
    /// The sudoers tree; `None` when sudo is not installed.
    pub sudoers: Option<&'a Sudoers>,
}

/// Builds one record per passwd entry, in file order. Netgroups and other
/// sudoers members that cannot be resolved are added to `unresolved`.
pub fn build(inputs: &Inputs<'_>, unresolved: &mut HashSet<String>) -> Vec<AccountRecord> {
    let root = inputs
        .passwd
        .iter()
        .find(|p| p.uid == 0 && p.name == "root");
    let root_groups = root
        .map(|r| groups_of(inputs.groups, r))
        .unwrap_or_default();
    let root_principal = Principal {
        name: "root",
        uid: 0,
        groups: root_groups
            .iter()
            .map(|g| (g.name.as_str(), g.gid))
            .collect(),
    };
    inputs
        .passwd
        .iter()
        .map(|p| account(inputs, p, &root_principal, unresolved))
        .collect()
}

/// The account's groups: primary first (when a group has its gid), then
/// every group that lists it as a member, without repeats.
fn groups_of<'a>(groups: &'a [GroupEntry], p: &PasswdEntry) -> Vec<&'a GroupEntry> {
    let mut out: Vec<&GroupEntry> = Vec::new();
    if let Some(primary) = groups.iter().find(|g| g.gid == p.gid) {
        out.push(primary);
    }
    for g in groups.iter().filter(|g| g.members.contains(&p.name)) {
        if !out.iter().any(|o| o.gid == g.gid && o.name == g.name) {
            out.push(g);
        }
    }
    out
}

fn account(
    inputs: &Inputs<'_>,
    p: &PasswdEntry,
    root: &Principal<'_>,
    unresolved: &mut HashSet<String>,
) -> AccountRecord {
    let shadow = inputs
        .shadow
        .and_then(|s| s.iter().find(|e| e.name == p.name));
    let password = match p.password {
        PasswordState::Shadowed => shadow.and_then(|s| s.password.as_str()),
        other => other.as_str(),
    };
    let groups = groups_of(inputs.groups, p);
    let primary = groups.first().filter(|g| g.gid == p.gid);
    let mut rec = AccountRecord {
        name: p.name.clone(),
        uid: Some(p.uid),
        gid: Some(p.gid),
        home: Some(p.home.clone()),
        shell: Some(p.shell.clone()),
        groups: groups
            .iter()
            .skip(usize::from(primary.is_some()))
            .map(|g| g.name.clone())
            .collect(),
        password: password.map(str::to_owned),
        password_changed: shadow
            .and_then(|s| s.last_change_days)
            .and_then(days_to_date),
        primary_group: primary.map(|g| g.name.clone()),
        gecos: (!p.gecos.is_empty()).then(|| p.gecos.clone()),
        account_expires: shadow.and_then(|s| s.expire_days).and_then(days_to_date),
        ..AccountRecord::default()
    };

    let grant = |rec: &mut AccountRecord, reason: String, file: &str, line, mtime| {
        if !rec.admin_via.contains(&reason) {
            rec.admin_via.push(reason.clone());
            rec.admin_sources.push(AdminSource {
                reason,
                file: Some(file.to_owned()),
                line: Some(line),
                file_mtime: mtime,
            });
        }
    };
    if p.uid == 0 {
        grant(
            &mut rec,
            "uid0".into(),
            "/etc/passwd",
            p.line,
            inputs.passwd_mtime,
        );
    }
    for name in ADMIN_GROUPS {
        if let Some(g) = groups.iter().find(|g| g.name == *name) {
            grant(
                &mut rec,
                format!("group:{name}"),
                "/etc/group",
                g.line,
                inputs.group_mtime,
            );
        }
    }
    if let Some(sudoers) = inputs.sudoers {
        let who = Principal {
            name: &p.name,
            uid: p.uid,
            groups: groups.iter().map(|g| (g.name.as_str(), g.gid)).collect(),
        };
        for g in sudoers.rules_for(&who, root, unresolved) {
            if g.all_as_root {
                let reason = format!("sudoers:{}:{}", g.file, g.line);
                grant(&mut rec, reason, &g.file, g.line, g.file_mtime);
            }
            rec.sudo_rules.push(SudoRule {
                file: g.file,
                line: g.line,
                file_mtime: g.file_mtime,
                runas: g.runas,
                commands: g.commands,
                all_as_root: g.all_as_root,
                nopasswd: g.nopasswd,
            });
        }
    }
    rec.admin = !rec.admin_via.is_empty();
    rec
}

#[cfg(test)]
mod tests {
    use super::super::passwd::{parse_group, parse_passwd, parse_shadow};
    use super::*;

    #[test]
    fn reasons_and_password_states() {
        let passwd = parse_passwd(
            b"root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\nwill:x:1001:10::/home/w:\nlegacy::1002:1002::/:/bin/sh\n",
        );
        let shadow =
            parse_shadow(b"root:$6$h:20228:0:99999:7:::\ntoor:!:20000::::::\nalice:::::::19000:\n");
        let group = parse_group(b"root:x:0:\nwheel:x:10:\nsudo:x:27:alice\nalice:x:1000:\n");
        let inputs = Inputs {
            passwd: &passwd.entries,
            passwd_mtime: None,
            shadow: Some(&shadow.entries),
            groups: &group.entries,
            group_mtime: None,
            sudoers: None,
        };
        let recs = build(&inputs, &mut HashSet::new());
        let by = |n: &str| recs.iter().find(|r| r.name == n).unwrap();
        assert_eq!(by("root").admin_via, ["uid0"]);
        assert_eq!(by("root").password.as_deref(), Some("set"));
        assert_eq!(by("toor").password.as_deref(), Some("locked"));
        assert_eq!(by("alice").admin_via, ["group:sudo"]);
        assert_eq!(by("alice").password.as_deref(), Some("empty"));
        assert_eq!(by("alice").primary_group.as_deref(), Some("alice"));
        assert_eq!(by("alice").groups, ["sudo"]);
        assert_eq!(by("alice").account_expires.as_deref(), Some("2022-01-08"));
        assert_eq!(
            by("will").admin_via,
            ["group:wheel"],
            "primary group counts"
        );
        assert!(by("will").groups.is_empty());
        assert_eq!(by("will").password, None, "x but no shadow entry");
        assert_eq!(by("legacy").password.as_deref(), Some("empty"));
        assert!(!by("legacy").admin);
        let json = serde_json::to_string(&recs).unwrap();
        assert!(!json.contains("$6$"), "a hash leaked: {json}");
    }
}
