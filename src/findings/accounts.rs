//! Finding rules over the accounts, modules and persistence records:
//!
//! - `uid0-account` (high): an account other than `root` with uid 0.
//! - `empty-password` (high): an account whose password field is empty
//!   (anyone may log in without a password) and whose shell allows a login.
//! - `recent-admin` (medium): an administrator whose password was set, whose
//!   `authorized_keys` file changed, or whose granting sudoers file changed
//!   within [`RECENT_DAYS`] days before the capture started
//!   (`collection.json` `started`). `/etc/passwd` and `/etc/group` mtimes
//!   are not used: they change with every package that adds a system user.
//! - `kernel-taint`: a force-loaded or force-unloaded module (high); a
//!   proprietary, out-of-tree or unsigned module that the running kernel's
//!   module tree does not list, so it was loaded from elsewhere (high); a
//!   tainting flag that no loaded module carries any more (medium); the
//!   same flags from modules installed in the module tree, as DKMS and
//!   vendor drivers are (low).
//! - `hidden-module` (high): a module sysfs shows loaded that
//!   `/proc/modules` does not list, or the reverse, confirmed by a second
//!   look at collection time.
//! - `preload` (high): `/etc/ld.so.preload` names a library, which the
//!   dynamic loader then puts into every program (the process-environment
//!   half of `preload` lives with the process rules).

use jiff::{Timestamp, ToSpan};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::bundle::BundleFiles;
use crate::records::account::{self, AccountRecord};
use crate::records::collection::Gap;
use crate::records::finding::{Finding, Severity};
use crate::records::module::{self, KernelModules, ModuleRecord, ModulesLine};
use crate::records::persistence::{self, PersistenceRecord};

/// How recent a change must be, in days before the capture, to count for
/// `recent-admin`.
pub const RECENT_DAYS: i64 = 7;

pub(super) fn analyze(
    bundle: &BundleFiles,
    started: Option<Timestamp>,
    found: &mut Vec<Finding>,
    gaps: &mut Vec<Gap>,
) {
    if let Some(accounts) = load::<AccountRecord>(bundle, account::FILE, gaps) {
        uid0_accounts(&accounts, found);
        empty_passwords(&accounts, found);
        match started {
            Some(t) => recent_admins(&accounts, t, found),
            None => gaps.push(Gap {
                what: "recent-admin".into(),
                cause: "capture time unknown (collection.json absent or unreadable): rule not evaluated"
                    .into(),
            }),
        }
    }
    if let Some(lines) = load::<ModulesLine>(bundle, module::FILE, gaps) {
        let mut kernel = None;
        let mut modules = Vec::new();
        for line in lines {
            match line {
                ModulesLine::Kernel(k) => kernel = Some(k),
                ModulesLine::Module(m) => modules.push(m),
            }
        }
        if let Some(k) = &kernel {
            kernel_taint(k, &modules, found);
        }
        hidden_modules(&modules, found);
    }
    if let Some(records) = load::<PersistenceRecord>(bundle, persistence::FILE, gaps) {
        preload_file(&records, found);
    }
}

/// The records of `file`, `None` when the bundle has none; unreadable
/// lines become a gap.
fn load<T: DeserializeOwned>(
    bundle: &BundleFiles,
    file: &str,
    gaps: &mut Vec<Gap>,
) -> Option<Vec<T>> {
    let parsed = bundle.records::<T>(file)?;
    if let Some(p) = parsed.problem(file) {
        gaps.push(Gap {
            what: file.into(),
            cause: p,
        });
    }
    Some(parsed.records)
}

fn account_evidence(a: &AccountRecord) -> serde_json::Value {
    json!({
        "name": a.name, "uid": a.uid, "gid": a.gid, "home": a.home, "shell": a.shell,
        "password": a.password, "password_changed": a.password_changed,
        "admin_via": a.admin_via,
    })
}

fn uid0_accounts(accounts: &[AccountRecord], found: &mut Vec<Finding>) {
    for a in accounts
        .iter()
        .filter(|a| a.uid == Some(0) && a.name != "root")
    {
        found.push(Finding {
            rule: "uid0-account".into(),
            severity: Severity::High,
            pids: Vec::new(),
            summary: format!(
                "account {} has uid 0: a second root (shell {}, password {})",
                a.name,
                a.shell.as_deref().unwrap_or("?"),
                a.password.as_deref().unwrap_or("unknown")
            ),
            evidence: account_evidence(a),
        });
    }
}

fn empty_passwords(accounts: &[AccountRecord], found: &mut Vec<Finding>) {
    for a in accounts
        .iter()
        .filter(|a| a.password.as_deref() == Some("empty") && a.has_login_shell())
    {
        let shell = match a.shell.as_deref() {
            Some("") | None => "/bin/sh (empty field)",
            Some(s) => s,
        };
        found.push(Finding {
            rule: "empty-password".into(),
            severity: Severity::High,
            pids: Vec::new(),
            summary: format!(
                "account {} (uid {}) has an empty password and the login shell {shell}: anyone may log in as it{}",
                a.name,
                a.uid.map_or("?".into(), |u| u.to_string()),
                if a.admin { ", and it is an administrator" } else { "" }
            ),
            evidence: account_evidence(a),
        });
    }
}

fn recent_admins(accounts: &[AccountRecord], started: Timestamp, found: &mut Vec<Finding>) {
    // Timestamps have no calendar: a day is 24 hours here.
    let Ok(since) = started.checked_sub((RECENT_DAYS * 24).hours()) else {
        return;
    };
    let since_date = since.to_zoned(jiff::tz::TimeZone::UTC).date();
    let recent = |t: &Option<Timestamp>| t.is_some_and(|t| t >= since);
    for a in accounts.iter().filter(|a| a.admin) {
        let mut why: Vec<String> = Vec::new();
        let mut evidence: Vec<serde_json::Value> = Vec::new();
        if let Some(changed) = &a.password_changed {
            if changed
                .parse::<jiff::civil::Date>()
                .is_ok_and(|d| d >= since_date)
            {
                why.push(format!("password set {changed}"));
                evidence.push(json!({"password_changed": changed}));
            }
        }
        let mut key_files: Vec<(&str, Timestamp)> = Vec::new();
        for k in &a.authorized_keys {
            if let Some(t) = k.file_mtime.filter(|_| recent(&k.file_mtime)) {
                if !key_files.iter().any(|(f, _)| *f == k.file) {
                    key_files.push((&k.file, t));
                }
            }
        }
        for (file, t) in key_files {
            why.push(format!("key file {file} modified {}", short(t)));
            evidence.push(json!({"file": file, "mtime": t}));
        }
        for s in a
            .admin_sources
            .iter()
            .filter(|s| s.reason.starts_with("sudoers:"))
        {
            if recent(&s.file_mtime) {
                let file = s.file.as_deref().unwrap_or("?");
                if let Some(t) = s.file_mtime {
                    why.push(format!("sudoers file {file} modified {}", short(t)));
                    evidence.push(json!({"reason": s.reason, "file": file, "mtime": t}));
                }
            }
        }
        if why.is_empty() {
            continue;
        }
        found.push(Finding {
            rule: "recent-admin".into(),
            severity: Severity::Medium,
            pids: Vec::new(),
            summary: format!(
                "administrator {} changed in the {RECENT_DAYS} days before capture: {}",
                a.name,
                why.join("; ")
            ),
            evidence: json!({"account": account_evidence(a), "changes": evidence}),
        });
    }
}

/// A timestamp to the second, for summaries.
fn short(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn kernel_taint(k: &KernelModules, modules: &[ModuleRecord], found: &mut Vec<Finding>) {
    let has = |letter: &str| k.taint_flags.iter().any(|f| f.letter == letter);
    let tainted_value = k.tainted.unwrap_or(0);
    let mut push = |severity, summary: String, mods: Vec<&ModuleRecord>| {
        found.push(Finding {
            rule: "kernel-taint".into(),
            severity,
            pids: Vec::new(),
            summary,
            evidence: json!({
                "tainted": k.tainted, "flags": k.taint_flags,
                "module_tree": k.module_tree,
                "modules": mods.iter().map(|m| json!({
                    "name": m.name, "taint": m.taint, "file": m.file, "hidden": m.hidden,
                })).collect::<Vec<_>>(),
            }),
        });
    };
    for (letter, what) in [
        (
            "F",
            "a module was force-loaded (its version magic did not match)",
        ),
        ("R", "a module was force-unloaded"),
    ] {
        if has(letter) {
            push(
                Severity::High,
                format!("kernel taint {tainted_value} has flag {letter}: {what}"),
                Vec::new(),
            );
        }
    }
    let module_letters = ["P", "O", "E"];
    let flagged: Vec<&str> = module_letters.iter().copied().filter(|l| has(l)).collect();
    if flagged.is_empty() {
        return;
    }
    let carriers: Vec<&ModuleRecord> = modules
        .iter()
        .filter(|m| {
            m.taint
                .as_deref()
                .is_some_and(|t| flagged.iter().any(|l| t.contains(l)))
        })
        .collect();
    let names = |ms: &[&ModuleRecord]| {
        ms.iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let flags = flagged.join("");
    if carriers.is_empty() {
        push(
            Severity::Medium,
            format!(
                "kernel taint {tainted_value} has flag(s) {flags} (proprietary, out-of-tree or unsigned module) but no listed module carries them: one was loaded and removed, or is hidden"
            ),
            Vec::new(),
        );
        return;
    }
    let outside: Vec<&ModuleRecord> = carriers
        .iter()
        .copied()
        .filter(|m| m.file.is_none())
        .collect();
    if k.module_tree.is_none() {
        push(
            Severity::Medium,
            format!(
                "kernel taint {tainted_value} ({flags}) from module(s) {}; the module tree could not be read to tell where they came from",
                names(&carriers)
            ),
            carriers,
        );
    } else if !outside.is_empty() {
        push(
            Severity::High,
            format!(
                "kernel taint {tainted_value} ({flags}): module(s) {} are not in {}: loaded from outside the module tree",
                names(&outside),
                k.module_tree.as_deref().unwrap_or("?")
            ),
            outside,
        );
    } else {
        push(
            Severity::Low,
            format!(
                "kernel taint {tainted_value} ({flags}) from module(s) installed in the module tree (DKMS or vendor drivers): {}",
                names(&carriers)
            ),
            carriers,
        );
    }
}

fn hidden_modules(modules: &[ModuleRecord], found: &mut Vec<Finding>) {
    for m in modules.iter().filter(|m| m.hidden) {
        let how = if m.in_proc_modules {
            "listed in /proc/modules but has no /sys/module entry"
        } else {
            "loaded according to /sys/module but missing from /proc/modules"
        };
        found.push(Finding {
            rule: "hidden-module".into(),
            severity: Severity::High,
            pids: Vec::new(),
            summary: format!(
                "kernel module {} is {how} (a rootkit hides itself so)",
                m.name
            ),
            evidence: serde_json::to_value(m).unwrap_or_default(),
        });
    }
}

fn preload_file(records: &[PersistenceRecord], found: &mut Vec<Finding>) {
    let entries: Vec<&PersistenceRecord> = records
        .iter()
        .filter(|r| r.kind == "ld.so.preload" && r.command.is_some())
        .collect();
    if entries.is_empty() {
        return;
    }
    let libs: Vec<&str> = entries
        .iter()
        .filter_map(|r| r.command.as_deref())
        .collect();
    found.push(Finding {
        rule: "preload".into(),
        severity: Severity::High,
        pids: Vec::new(),
        summary: format!(
            "/etc/ld.so.preload loads {} into every dynamically linked program",
            libs.join(", ")
        ),
        evidence: serde_json::to_value(&entries).unwrap_or_default(),
    });
}
