//! "Logged-in users" (utmp `USER_PROCESS` records and logind sessions),
//! then "Recent logins" (wtmp, newest first: logins and boots) with the
//! failed logins (btmp) under it. On Windows: the Remote Desktop (WTS)
//! sessions, and no login history (the Security event log is not read).

use jiff::Timestamp;

use super::table::Table;
use super::ReportWriter;
use crate::bundle::BundleFiles;
use crate::findings::platform::Platform;
use crate::records::session::{SessionRecord, FILE};

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("Logged-in users");
    let Some(records) = r.records::<SessionRecord>(bundle, FILE) else {
        r.not_collected(FILE);
        r.section("Recent logins");
        r.not_collected(FILE);
        return;
    };
    if r.platform == Platform::Windows {
        windows(r, &records);
        return;
    }
    let current: Vec<&SessionRecord> = records
        .iter()
        .filter(|s| (s.source == "current" && s.kind == "USER_PROCESS") || s.source == "logind")
        .collect();
    if current.is_empty() {
        r.line("  none recorded in utmp or by logind");
    } else {
        let mut t = Table::new(&[
            ("USER", 24),
            ("TTY", 16),
            ("FROM", 40),
            ("LOGIN (UTC)", 19),
            ("PID", 8),
            ("SOURCE", 24),
        ]);
        for s in current {
            let source = if s.source == "logind" {
                format!("logind {}", s.kind)
            } else {
                s.file.clone().unwrap_or_else(|| "utmp".into())
            };
            t.row(&[
                s.user.as_deref().unwrap_or("-"),
                s.tty.as_deref().unwrap_or("-"),
                &from(s),
                &time(s.time),
                &s.pid.map_or("-".into(), |p| p.to_string()),
                &source,
            ]);
        }
        r.table(&t);
    }

    r.section("Recent logins");
    log_table(r, &records, "recent", "wtmp");
    r.line("");
    r.line("  Failed logins:");
    log_table(r, &records, "failed", "btmp");
}

fn from(s: &SessionRecord) -> String {
    match (&s.host, &s.addr) {
        (Some(h), Some(a)) if h != a => format!("{h} [{a}]"),
        (Some(h), _) => h.clone(),
        (None, Some(a)) => a.clone(),
        (None, None) => "-".into(),
    }
}

fn time(t: Option<Timestamp>) -> String {
    t.map_or("-".into(), |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
}

/// Login and boot records of one source, newest first as collected, with
/// how many records the file holds and how many were zeroed.
fn log_table(r: &mut ReportWriter, records: &[SessionRecord], source: &str, name: &str) {
    let all: Vec<&SessionRecord> = records.iter().filter(|s| s.source == source).collect();
    if all.is_empty() {
        r.line(&format!(
            "  none: no {name} records (file absent, empty or unreadable; see gaps)"
        ));
        return;
    }
    let total = all
        .iter()
        .filter_map(|s| s.index)
        .max()
        .map_or(0, |i| i + 1);
    let file = all[0].file.clone().unwrap_or_else(|| name.into());
    r.line(&format!(
        "  newest {} of {total} records in {}:",
        all.len(),
        crate::text::display(&file)
    ));
    let zeroed = all.iter().filter(|s| s.kind == "EMPTY").count();
    if zeroed > 0 {
        r.line(&format!(
            "  {zeroed} of them are EMPTY (zeroed) records, which log wipers leave behind"
        ));
    }
    let mut t = Table::new(&[
        ("WHAT", 14),
        ("USER", 24),
        ("TTY", 16),
        ("FROM", 40),
        ("TIME (UTC)", 19),
        ("PID", 8),
    ]);
    for s in all
        .iter()
        .filter(|s| s.kind != "EMPTY" && s.kind != "DEAD_PROCESS")
    {
        let what = match s.kind.as_str() {
            // sshd writes failures as LOGIN_PROCESS, login(1) as USER_PROCESS.
            _ if source == "failed" => "failed",
            "USER_PROCESS" => "login",
            "BOOT_TIME" => "boot",
            "RUN_LVL" => "runlevel",
            other => other,
        };
        t.row(&[
            what,
            s.user.as_deref().unwrap_or("-"),
            s.tty.as_deref().unwrap_or("-"),
            &from(s),
            &time(s.time),
            &s.pid.map_or("-".into(), |p| p.to_string()),
        ]);
    }
    r.table(&t);
}

/// The Windows form: every WTS session that has a user, then a note that
/// the login history is not collected.
fn windows(r: &mut ReportWriter, records: &[SessionRecord]) {
    let with_user: Vec<&SessionRecord> = records
        .iter()
        .filter(|s| s.source == "current" && s.user.is_some())
        .collect();
    let without = records
        .iter()
        .filter(|s| s.source == "current" && s.user.is_none())
        .count();
    if with_user.is_empty() {
        r.line("  no session has a user");
    } else {
        let mut t = Table::new(&[
            ("USER", 40),
            ("SESSION", 7),
            ("STATION", 20),
            ("STATE", 14),
            ("CLIENT", 40),
            ("LOGON (UTC)", 19),
        ]);
        for s in with_user {
            t.row(&[
                s.user.as_deref().unwrap_or("-"),
                &s.session.map_or("-".into(), |n| n.to_string()),
                s.tty.as_deref().unwrap_or("-"),
                &s.kind,
                &from(s),
                &time(s.time),
            ]);
        }
        r.table(&t);
    }
    if without > 0 {
        r.line(&format!(
            "  {without} sessions without a user (services, listeners) are in {FILE}"
        ));
    }
    r.section("Recent logins");
    r.line("  not collected on Windows: irdump does not read the Security event log");
}
