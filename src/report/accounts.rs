//! "Local administrators": every account that can act as root, each with
//! every reason (one per line), their SSH keys; then the other accounts
//! that have a login shell, sudo rules that grant less than root, and SSH
//! keys of accounts that are not administrators. On Windows (no uid, shell
//! or SSH keys): the members of the Administrators group with their SIDs,
//! then the other local accounts.

use super::table::Table;
use super::ReportWriter;
use crate::bundle::BundleFiles;
use crate::findings::platform::Platform;
use crate::records::account::{AccountRecord, AuthorizedKey, FILE};

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("Local administrators");
    let Some(accounts) = r.records::<AccountRecord>(bundle, FILE) else {
        r.not_collected(FILE);
        return;
    };
    if r.platform == Platform::Windows {
        windows(r, &accounts);
        return;
    }
    let admins: Vec<&AccountRecord> = accounts.iter().filter(|a| a.admin).collect();
    if admins.is_empty() {
        r.line(
            "  none found (no uid-0 account, no admin group member, no sudoers rule granting ALL)",
        );
    } else {
        let mut t = Table::new(&[
            ("NAME", 24),
            ("UID", 10),
            ("PASSWORD", 8),
            ("CHANGED", 10),
            ("SHELL", 24),
            ("KEYS", 4),
            ("ADMIN VIA (every reason)", 90),
        ]);
        for a in &admins {
            let first = a.admin_via.first().map(String::as_str).unwrap_or("-");
            t.row(&[
                a.name.as_str(),
                &opt_num(a.uid),
                a.password.as_deref().unwrap_or("unknown"),
                a.password_changed.as_deref().unwrap_or("-"),
                a.shell.as_deref().unwrap_or("-"),
                &a.authorized_keys.len().to_string(),
                &with_nopasswd(a, first),
            ]);
            for via in a.admin_via.iter().skip(1) {
                t.row(&["", "", "", "", "", "", &with_nopasswd(a, via)]);
            }
        }
        r.table(&t);
        keys(r, "SSH keys of administrators", &admins);
    }

    let others: Vec<&AccountRecord> = accounts
        .iter()
        .filter(|a| !a.admin && a.has_login_shell())
        .collect();
    r.line("");
    if others.is_empty() {
        r.line("  Other accounts with a login shell: none");
    } else {
        r.line(&format!(
            "  Other accounts with a login shell ({}):",
            others.len()
        ));
        let mut t = Table::new(&[
            ("NAME", 24),
            ("UID", 10),
            ("PASSWORD", 8),
            ("SHELL", 24),
            ("GROUPS", 60),
        ]);
        for a in &others {
            t.row(&[
                a.name.as_str(),
                &opt_num(a.uid),
                a.password.as_deref().unwrap_or("unknown"),
                a.shell.as_deref().unwrap_or("-"),
                &a.groups.join(","),
            ]);
        }
        r.table(&t);
    }

    let limited: Vec<&AccountRecord> = accounts
        .iter()
        .filter(|a| a.sudo_rules.iter().any(|s| !s.all_as_root))
        .collect();
    if !limited.is_empty() {
        r.line("");
        r.line("  sudo rules that grant less than any command as root:");
        let mut t = Table::new(&[("NAME", 24), ("RULE", 50), ("RUN AS", 20), ("COMMANDS", 90)]);
        for a in limited {
            for s in a.sudo_rules.iter().filter(|s| !s.all_as_root) {
                let commands = s.commands.join(", ");
                t.row(&[
                    a.name.as_str(),
                    &format!("{}:{}", s.file, s.line),
                    s.runas.as_deref().unwrap_or("(root)"),
                    &commands,
                ]);
            }
        }
        r.table(&t);
    }

    let keyed: Vec<&AccountRecord> = accounts
        .iter()
        .filter(|a| !a.admin && !a.authorized_keys.is_empty())
        .collect();
    if !keyed.is_empty() {
        keys(r, "SSH keys of other accounts", &keyed);
    }
}

fn opt_num(n: Option<u32>) -> String {
    n.map_or("-".into(), |n| n.to_string())
}

/// A reason, marked when the sudoers rule behind it needs no password.
fn with_nopasswd(a: &AccountRecord, via: &str) -> String {
    let nopasswd = a
        .sudo_rules
        .iter()
        .any(|s| s.nopasswd && s.all_as_root && via == format!("sudoers:{}:{}", s.file, s.line));
    if nopasswd {
        format!("{via} (NOPASSWD)")
    } else {
        via.to_owned()
    }
}

fn keys(r: &mut ReportWriter, title: &str, accounts: &[&AccountRecord]) {
    let all: Vec<(&str, &AuthorizedKey)> = accounts
        .iter()
        .flat_map(|a| a.authorized_keys.iter().map(|k| (a.name.as_str(), k)))
        .collect();
    if all.is_empty() {
        return;
    }
    r.line("");
    r.line(&format!("  {title} ({}):", all.len()));
    let mut t = Table::new(&[
        ("NAME", 24),
        ("TYPE", 20),
        ("FINGERPRINT", 50),
        ("COMMENT", 30),
        ("FILE CHANGED", 19),
        ("OPTIONS / FILE", 80),
    ]);
    for (name, k) in all {
        let changed = k
            .file_mtime
            .map_or("-".into(), |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string());
        let where_ = if k.options.is_empty() {
            k.file.clone()
        } else {
            format!("{} ({})", k.options.join(","), k.file)
        };
        t.row(&[
            name,
            k.key_type.as_str(),
            k.fingerprint.as_str(),
            k.comment.as_deref().unwrap_or("-"),
            &changed,
            &where_,
        ]);
    }
    r.table(&t);
}

/// The Windows form: SIDs instead of uids, no shells or keys.
fn windows(r: &mut ReportWriter, accounts: &[AccountRecord]) {
    let table = |rows: &[&AccountRecord]| {
        let mut t = Table::new(&[
            ("NAME", 32),
            ("SID", 48),
            ("PASSWORD", 8),
            ("CHANGED", 10),
            ("VIA / GROUPS", 90),
        ]);
        for a in rows {
            let via = if a.admin {
                a.admin_via.join(", ")
            } else {
                a.groups.join(", ")
            };
            t.row(&[
                a.name.as_str(),
                a.sid.as_deref().unwrap_or("-"),
                a.password.as_deref().unwrap_or("unknown"),
                a.password_changed.as_deref().unwrap_or("-"),
                &via,
            ]);
        }
        t
    };
    let admins: Vec<&AccountRecord> = accounts.iter().filter(|a| a.admin).collect();
    if admins.is_empty() {
        r.line("  none found in the Administrators group (S-1-5-32-544)");
    } else {
        r.table(&table(&admins));
    }
    let others: Vec<&AccountRecord> = accounts.iter().filter(|a| !a.admin).collect();
    r.line("");
    if others.is_empty() {
        r.line("  Other local accounts: none");
    } else {
        r.line(&format!("  Other local accounts ({}):", others.len()));
        r.table(&table(&others));
    }
}
