//! "Persistence pointers": what will run again, `/etc/ld.so.preload` first,
//! then cron, systemd, rc.local and SysV links, XDG autostart, and the
//! shell start-up files (pointers only).

use super::table::Table;
use super::ReportWriter;
use crate::bundle::BundleFiles;
use crate::records::persistence::{PersistenceRecord, FILE};

/// Display order of the kinds; unknown kinds come last.
const ORDER: &[&str] = &[
    "ld.so.preload",
    "rc.local",
    "crontab",
    "cron.d",
    "user-crontab",
    "anacrontab",
    "cron-periodic",
    "at-job",
    "systemd",
    "systemd-dropin",
    "sysv-init",
    "xdg-autostart",
    "shell-startup",
];

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("Persistence pointers");
    let Some(mut records) = r.records::<PersistenceRecord>(bundle, FILE) else {
        r.not_collected(FILE);
        return;
    };
    if records.is_empty() {
        r.line("  none found");
        return;
    }
    let rank = |k: &str| ORDER.iter().position(|o| *o == k).unwrap_or(ORDER.len());
    // Stable: within a kind, the collection order (file order) stays.
    records.sort_by_key(|p| rank(&p.kind));
    let mut t = Table::new(&[
        ("KIND", 14),
        ("CHANGED (UTC)", 19),
        ("RUNS AS", 16),
        ("SCHEDULE", 28),
        ("COMMAND", 70),
        ("FILE", 70),
        ("ENABLED BY", 70),
    ]);
    for p in &records {
        let changed = p
            .mtime
            .map_or("-".into(), |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string());
        let file = match p.line {
            Some(l) => format!("{}:{l}", p.path),
            None => p.path.clone(),
        };
        let command = match (&p.command, &p.unit, &p.target) {
            (Some(c), _, _) => c.clone(),
            (None, Some(u), _) => format!("({u})"),
            (None, None, Some(t)) => format!("-> {t}"),
            (None, None, None) => "-".into(),
        };
        t.row(&[
            p.kind.as_str(),
            &changed,
            p.user.as_deref().unwrap_or("-"),
            p.schedule.as_deref().unwrap_or("-"),
            &command,
            &file,
            p.enabled_via.as_deref().unwrap_or("-"),
        ]);
    }
    r.table(&t);
}
