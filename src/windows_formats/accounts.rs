//! Local accounts and the members of the Administrators group
//! (`S-1-5-32-544`) merged into `accounts.jsonl` records: every local user
//! once, every administrator once, administrators marked with the reason
//! `group:S-1-5-32-544`.
//!
//! Members are matched to users by SID. A member that is no local user (a
//! domain account or group, a well-known group, or an orphaned SID whose
//! account was deleted) gets a record of its own; an orphan's name is its
//! SID, since nothing else is left of it.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use crate::records::account::AccountRecord;

/// The reason recorded for members of the Administrators group
/// ([`super::sid::ADMINISTRATORS`]).
pub const ADMIN_REASON: &str = "group:S-1-5-32-544";

/// A local user as `NetUserEnum`/`NetUserGetInfo` describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalUser {
    /// `DOMAIN\name` (the domain is the computer for local accounts).
    pub name: String,
    /// SID in text form, when the name could be looked up.
    pub sid: Option<String>,
    /// `UF_ACCOUNTDISABLE`, when the user's flags were read.
    pub disabled: Option<bool>,
    /// Seconds since the password was last changed.
    pub password_age_secs: Option<u32>,
    /// Home directory, when set.
    pub home: Option<String>,
    /// Local groups, direct and nested (`NetUserGetLocalGroups`).
    pub groups: Vec<String>,
}

/// A member of the Administrators group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupMember {
    /// SID in text form.
    pub sid: Option<String>,
    /// `DOMAIN\name`; `None` for an orphaned SID.
    pub name: Option<String>,
}

/// Builds the records, sorted by name.
pub fn account_records(
    users: &[LocalUser],
    admins: &[GroupMember],
    admin_group_name: Option<&str>,
    now: Timestamp,
) -> Vec<AccountRecord> {
    let admin_sids: Vec<&str> = admins.iter().filter_map(|m| m.sid.as_deref()).collect();
    let admin_names: Vec<String> = admins
        .iter()
        .filter_map(|m| m.name.as_deref())
        .map(str::to_lowercase)
        .collect();
    let mut records: BTreeMap<String, AccountRecord> = BTreeMap::new();

    for user in users {
        let direct = user.sid.as_deref().is_some_and(|s| admin_sids.contains(&s))
            || admin_names.contains(&user.name.to_lowercase());
        let nested = admin_group_name
            .is_some_and(|g| user.groups.iter().any(|ug| ug.eq_ignore_ascii_case(g)));
        let admin = direct || nested;
        let rec = AccountRecord {
            name: user.name.clone(),
            home: user.home.clone(),
            groups: user.groups.clone(),
            // Windows gives no password state without reading the SAM; a
            // disabled account cannot log on, which is what `locked` says.
            password: (user.disabled == Some(true)).then(|| "locked".to_owned()),
            password_changed: user
                .password_age_secs
                .and_then(|age| {
                    now.checked_sub(SignedDuration::from_secs(i64::from(age)))
                        .ok()
                })
                .map(|t| t.strftime("%Y-%m-%d").to_string()),
            admin,
            admin_via: if admin {
                vec![ADMIN_REASON.to_owned()]
            } else {
                Vec::new()
            },
            sid: user.sid.clone(),
            ..AccountRecord::default()
        };
        records.insert(user.name.to_lowercase(), rec);
    }

    for member in admins {
        let already = records.values().any(|r| {
            (member.sid.is_some() && r.sid == member.sid)
                || member
                    .name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&r.name))
        });
        if already {
            continue;
        }
        let name = member
            .name
            .clone()
            .or_else(|| member.sid.clone())
            .unwrap_or_else(|| "(unnamed member)".to_owned());
        records.insert(
            name.to_lowercase(),
            AccountRecord {
                name,
                admin: true,
                admin_via: vec![ADMIN_REASON.to_owned()],
                sid: member.sid.clone(),
                ..AccountRecord::default()
            },
        );
    }
    records.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2024-06-10T12:00:00Z".parse().unwrap()
    }

    fn user(name: &str, sid: &str, groups: &[&str]) -> LocalUser {
        LocalUser {
            name: name.into(),
            sid: Some(sid.into()),
            disabled: Some(false),
            password_age_secs: Some(86_400 * 10),
            home: None,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    #[test]
    fn members_and_users_merge_by_sid() {
        let users = [
            user(
                "HOST\\Administrator",
                "S-1-5-21-1-2-3-500",
                &["Administrators"],
            ),
            user("HOST\\alice", "S-1-5-21-1-2-3-1001", &["Users"]),
            LocalUser {
                disabled: Some(true),
                ..user("HOST\\Guest", "S-1-5-21-1-2-3-501", &["Guests"])
            },
        ];
        let admins = [
            GroupMember {
                sid: Some("S-1-5-21-1-2-3-500".into()),
                name: Some("HOST\\Administrator".into()),
            },
            GroupMember {
                sid: Some("S-1-5-21-9-9-9-512".into()),
                name: Some("CORP\\Domain Admins".into()),
            },
            GroupMember {
                sid: Some("S-1-5-21-1-2-3-1005".into()),
                name: None,
            },
        ];
        let recs = account_records(&users, &admins, Some("Administrators"), now());
        let summary: Vec<(&str, bool)> = recs.iter().map(|r| (r.name.as_str(), r.admin)).collect();
        assert_eq!(
            summary,
            vec![
                ("CORP\\Domain Admins", true),
                ("HOST\\Administrator", true),
                ("HOST\\alice", false),
                ("HOST\\Guest", false),
                ("S-1-5-21-1-2-3-1005", true),
            ]
        );
        let orphan = &recs[4];
        assert_eq!(orphan.sid.as_deref(), Some("S-1-5-21-1-2-3-1005"));
        assert_eq!(orphan.admin_via, vec![ADMIN_REASON]);
        assert!(recs[2].admin_via.is_empty());
        assert_eq!(recs[3].password.as_deref(), Some("locked"));
        assert_eq!(recs[1].password, None);
        assert_eq!(recs[1].password_changed.as_deref(), Some("2024-05-31"));
    }

    #[test]
    fn nested_membership_counts_and_localised_names_match() {
        // A German system names the group "Administratoren"; membership
        // through a nested domain group shows only in the user's groups.
        let users = [user("PC\\bob", "S-1-5-21-4-5-6-1002", &["Administratoren"])];
        let recs = account_records(&users, &[], Some("Administratoren"), now());
        assert!(recs[0].admin);
        assert_eq!(recs[0].admin_via, vec![ADMIN_REASON]);
    }

    #[test]
    fn a_member_known_only_by_name_matches_its_user() {
        let users = [LocalUser {
            sid: None,
            ..user("VM\\root", "x", &[])
        }];
        let admins = [GroupMember {
            sid: None,
            name: Some("vm\\ROOT".into()),
        }];
        let recs = account_records(&users, &admins, None, now());
        assert_eq!(recs.len(), 1);
        assert!(recs[0].admin);
    }
}
