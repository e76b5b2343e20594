//! Finding rules over the processes records (and, for `reverse-shell`, the
//! sockets they hold): `reverse-shell` (`super::reverse_shell`),
//! `deleted-executable`, `exe-in-temp` (`super::places`), `masquerade`
//! (`super::masquerade`), `preload` (the per-process half) and
//! `hidden-pid`. `docs/findings.md` says what each looks for, why, its
//! severities and where it is known to be wrong.
//!
//! Processes that share what a rule flags (one deleted binary, one preload
//! library) make one finding naming all their PIDs, so that a hundred
//! workers of an upgraded daemon are one line, not a hundred. Every
//! summary starts with `PID <pid> (<name>)`.

use std::collections::BTreeMap;

use serde_json::json;

use crate::bundle::BundleFiles;
use crate::records::collection::Gap;
use crate::records::finding::{Finding, Severity};
use crate::records::network::{self, SocketRecord};
use crate::records::process::{self, ProcessRecord};

use super::masquerade::masquerade;
use super::places::{exe_in_temp, in_system_dir, is_memfd, temp_place};
use super::platform::{basename, Platform};
use super::reverse_shell::reverse_shell;

pub(super) fn analyze(
    bundle: &BundleFiles,
    platform: Platform,
    found: &mut Vec<Finding>,
    gaps: &mut Vec<Gap>,
) {
    let Some(parsed) = bundle.shared_records::<ProcessRecord>(process::FILE) else {
        return;
    };
    if let Some(problem) = parsed.problem(process::FILE) {
        gaps.push(Gap {
            what: process::FILE.into(),
            cause: problem,
        });
    }
    // Unreadable lines of network.jsonl are the network rules' to report.
    let sockets = bundle.shared_records::<SocketRecord>(network::FILE);
    let procs = &parsed.records;
    reverse_shell(
        procs,
        sockets.as_ref().map(|s| s.records.as_slice()),
        found,
        gaps,
    );
    deleted_executable(procs, found);
    exe_in_temp(procs, found);
    masquerade(procs, platform, found);
    preload(procs, found);
    hidden_pid(procs, found);
}

/// argv[0] as a program name: its first word, without a path or a
/// trailing `:` (as in `postgres: checkpointer`).
pub(super) fn argv0_name(p: &ProcessRecord) -> Option<&str> {
    let first = p.cmdline.first()?.split_whitespace().next()?;
    Some(basename(first).trim_end_matches(':'))
}

/// The executable's file name.
pub(super) fn exe_name(p: &ProcessRecord) -> Option<&str> {
    p.exe.as_deref().map(basename)
}

/// What a finding keeps of a process as evidence.
pub(super) fn process_evidence(p: &ProcessRecord) -> serde_json::Value {
    json!({
        "pid": p.pid, "ppid": p.ppid, "name": p.name, "exe": p.exe,
        "exe_deleted": p.exe_deleted, "sha256": p.sha256, "cmdline": p.cmdline,
        "user": p.user, "uid": p.uid, "start_time": p.start_time, "std_fds": p.std_fds,
    })
}

/// Groups processes by a key, keeping the first-seen order of keys stable
/// (sorted), for one finding per key.
pub(super) fn group_by<K: Ord>(
    procs: &[ProcessRecord],
    key: impl Fn(&ProcessRecord) -> Option<K>,
) -> BTreeMap<K, Vec<&ProcessRecord>> {
    let mut groups: BTreeMap<K, Vec<&ProcessRecord>> = BTreeMap::new();
    for p in procs {
        if let Some(k) = key(p) {
            groups.entry(k).or_default().push(p);
        }
    }
    groups
}

/// The subject of a grouped finding with its verb: `PID 12 (sshd) runs`
/// or `PID 12 (sshd) and 3 more run`.
pub(super) fn who(group: &[&ProcessRecord], one: &str, many: &str) -> String {
    let Some(first) = group.first() else {
        return format!("no process {one}");
    };
    match group.len() {
        1 => format!("PID {} ({}) {one}", first.pid, first.name),
        n => format!(
            "PID {} ({}) and {} more {many}",
            first.pid,
            first.name,
            n - 1
        ),
    }
}

pub(super) fn group_finding(
    rule: &str,
    severity: Severity,
    group: &[&ProcessRecord],
    summary: String,
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        pids: group.iter().map(|p| p.pid).collect(),
        summary,
        evidence: json!({
            "processes": group.iter().map(|p| process_evidence(p)).collect::<Vec<_>>(),
        }),
    }
}

/// `deleted-executable`: running from a file deleted since it started.
/// memfd executables are always "deleted" and are `exe-in-temp`'s.
fn deleted_executable(procs: &[ProcessRecord], found: &mut Vec<Finding>) {
    let groups = group_by(procs, |p| {
        let exe = p.exe.as_deref()?;
        (p.exe_deleted && !is_memfd(exe)).then(|| exe.to_owned())
    });
    for (exe, group) in groups {
        let (severity, why) = if in_system_dir(&exe) {
            (
                Severity::Medium,
                "often a package upgrade not yet restarted",
            )
        } else {
            (Severity::High, "binary removed after start")
        };
        // The first 16 characters (a hostile bundle may hold anything).
        let hash = group[0].sha256.as_deref().map_or(String::new(), |h| {
            format!(", sha256 {}", h.chars().take(16).collect::<String>())
        });
        let summary = format!(
            "{} {exe}, deleted since it started ({why}{hash})",
            who(&group, "runs", "run")
        );
        found.push(group_finding(
            "deleted-executable",
            severity,
            &group,
            summary,
        ));
    }
}

/// `preload`: `LD_PRELOAD` set in a process's environment, one finding
/// per distinct value.
fn preload(procs: &[ProcessRecord], found: &mut Vec<Finding>) {
    let groups = group_by(procs, |p| {
        p.env_flags
            .ld_preload
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
    });
    for (value, group) in groups {
        // ld.so splits the list on spaces and colons.
        let risky = value
            .split([' ', ':'])
            .filter(|l| !l.is_empty())
            .any(|lib| temp_place(lib).is_some());
        let severity = if risky {
            Severity::High
        } else {
            Severity::Medium
        };
        let summary = format!("{} with LD_PRELOAD={value}", who(&group, "runs", "run"));
        found.push(group_finding("preload", severity, &group, summary));
    }
}

/// `hidden-pid`: a process the kernel has but the `/proc` listing hides.
fn hidden_pid(procs: &[ProcessRecord], found: &mut Vec<Finding>) {
    for p in procs.iter().filter(|p| p.hidden_from_listing) {
        let name = if p.name.is_empty() {
            "unreadable".to_owned()
        } else {
            p.name.clone()
        };
        found.push(Finding {
            rule: "hidden-pid".into(),
            severity: Severity::High,
            pids: vec![p.pid],
            summary: format!(
                "PID {} ({name}) exists but is missing from the /proc listing: \
                 something filters it (a rootkit)",
                p.pid
            ),
            evidence: json!({"process": process_evidence(p)}),
        });
    }
}
