//! Every finding rule the other live tests do not already plant, proven on
//! this host: a collection of the real thing, then the rules.
//!
//! Planted for real: a program posing as a system daemon through argv[0],
//! an account with an empty password in the sudo group (also a fresh
//! administrator), and `/etc/ld.so.preload` through a `--root` fixture
//! tree (never the real host's `/etc`). The rest of the rules are planted
//! in `tests/findings_processes.rs` (reverse shell, deleted binary, `/tmp`
//! and memfd executables, fake kernel thread, `LD_PRELOAD`) and
//! `tests/accounts.rs` (a second uid-0 account).
//!
//! Not plantable without a rootkit or a tainted kernel: a socket one kernel
//! source hides (`hidden-socket`), a listener no process holds
//! (`orphan-socket`), a process the `/proc` listing hides (`hidden-pid`),
//! a module hidden from `/proc/modules` and a tainted kernel
//! (`hidden-module`, `kernel-taint`; this VM's kernel loads no modules,
//! and writing `/proc/sys/kernel/tainted` would taint the shared test host
//! until reboot). For those the test takes a real collection of a real
//! plant (a listener, a child process, the running kernel's modules
//! record), alters the one field the rootkit's work would change, and
//! runs `irdump report` over the altered bundle. The collector's side of
//! each (the re-read that sets `unseen_by`, the owner scan that sets
//! `owners_complete`, the PID probe) is tested with the collectors.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// A child killed and reaped when the test ends, however it ends.
struct Plant(Child);

impl Drop for Plant {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns with stdio on `/dev/null`, retrying `ETXTBSY` (a binary copied
/// just now stays busy while another test thread forks).
fn spawn(cmd: &mut Command) -> Plant {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for _ in 0..50 {
        match cmd.spawn() {
            Ok(child) => return Plant(child),
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("spawn {cmd:?}: {e}"),
        }
    }
    panic!("spawn {cmd:?}: text file busy")
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn collect(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    let (bundle, out) = collect_into(dir, extra);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    bundle
}

/// Rewrites a JSON Lines file of the bundle through `edit`.
fn alter(bundle: &Path, file: &str, edit: impl Fn(&mut Vec<Value>)) {
    let mut records = jsonl(bundle, file);
    edit(&mut records);
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(bundle.join(file), text).unwrap();
}

/// The findings `irdump report --format json` computes over the bundle.
fn findings_of(bundle: &Path) -> Vec<Value> {
    let out = run(&["report", "--format", "json", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"].as_array().unwrap().clone()
}

/// The text report over the bundle (findings recomputed: the altered
/// bundle's `findings.jsonl` is removed).
fn report_of(bundle: &Path) -> String {
    let _ = std::fs::remove_file(bundle.join("findings.jsonl"));
    let out = run(&["report", bundle.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

fn the<'a>(found: &'a [Value], rule: &str, pred: impl Fn(&Value) -> bool) -> &'a Value {
    found
        .iter()
        .find(|f| f["rule"] == rule && pred(f))
        .unwrap_or_else(|| panic!("no {rule} finding: {found:#?}"))
}

fn summary(f: &Value) -> &str {
    f["summary"].as_str().unwrap()
}

/// The findings section of a text report.
fn findings_section(report: &str) -> &str {
    let start = report.find("[*] Findings\n").unwrap();
    let end = report[start..].find("\n[*] Network interfaces").unwrap();
    &report[start..start + end]
}

#[test]
fn a_socket_hidden_from_one_source_and_a_listener_nobody_holds() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let me = std::process::id();
    let dir = tempdir();
    let bundle = collect(dir.path(), &["--only", "sockets", "--no-hash"]);
    let ours = |r: &Value| r["proto"] == "tcp" && r["state"] == "LISTEN" && r["local_port"] == port;

    // The real record: both sources saw it, this process holds it, and
    // no rule fires on it.
    let real = jsonl(&bundle, "network.jsonl")
        .into_iter()
        .find(ours)
        .unwrap();
    assert_eq!(real["sources"], json!(["netlink", "procfs"]), "{real:#}");
    assert!(
        real["owners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["pid"] == me),
        "{real:#}"
    );
    let names_port = |f: &Value| summary(f).contains(&format!("127.0.0.1:{port}"));
    assert!(!findings_of(&bundle).iter().any(names_port));

    // What a rootkit filtering /proc/net/tcp leaves: netlink lists it,
    // procfs (read twice around it) did not.
    alter(&bundle, "network.jsonl", |recs| {
        for r in recs.iter_mut().filter(|r| ours(r)) {
            r["sources"] = json!(["netlink"]);
            r["unseen_by"] = json!(["procfs"]);
        }
    });
    let found = findings_of(&bundle);
    let f = the(&found, "hidden-socket", names_port);
    assert_eq!(f["severity"], "high");
    assert_eq!(f["pids"], json!([me]));
    assert!(summary(f).starts_with(&format!("PID {me} (")), "{f:#}");
    assert!(
        summary(f).contains(&format!("TCP 127.0.0.1:{port} (LISTEN)"))
            && summary(f).ends_with("listed by netlink but hidden from procfs"),
        "{f:#}"
    );
    let report = report_of(&bundle);
    assert!(
        findings_section(&report)
            .lines()
            .any(|l| l.starts_with("  HIGH    hidden-socket") && l.contains(&format!(":{port} "))),
        "{report}"
    );
    assert!(report
        .lines()
        .any(|l| l.contains(&format!("127.0.0.1:{port} ")) && l.ends_with("HIDDEN from procfs")));

    // What a process hidden from /proc leaves: a listener no descriptor
    // of any listed process points at, after a complete scan.
    alter(&bundle, "network.jsonl", |recs| {
        for r in recs.iter_mut().filter(|r| ours(r)) {
            r["sources"] = json!(["netlink", "procfs"]);
            r["unseen_by"] = json!([]);
            r["owners"] = json!([]);
            r["owners_complete"] = json!(true);
        }
    });
    let found = findings_of(&bundle);
    let f = the(&found, "orphan-socket", names_port);
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["pids"], json!([]));
    assert!(
        summary(f).starts_with(&format!("TCP 127.0.0.1:{port} (LISTEN) in net:[")),
        "{f:#}"
    );
    // With the scan incomplete, the same record is no finding.
    alter(&bundle, "network.jsonl", |recs| {
        for r in recs.iter_mut().filter(|r| ours(r)) {
            r["owners_complete"] = json!(false);
        }
    });
    assert!(!findings_of(&bundle).iter().any(names_port));
    drop(listener);
}

#[test]
fn a_process_missing_from_the_proc_listing() {
    let child = spawn(Command::new("sleep").arg("600"));
    let pid = child.0.id();
    wait_until("sleep", || {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "sleep\n")
    });
    let dir = tempdir();
    let bundle = collect(dir.path(), &["--only", "processes", "--no-hash"]);
    let ours = |r: &Value| r["pid"] == pid;
    let names_pid = |f: &Value| f["pids"] == json!([pid]);
    assert!(!findings_of(&bundle)
        .iter()
        .any(|f| f["rule"] == "hidden-pid" && names_pid(f)));

    // What the PID probe records for a process a rootkit hides.
    alter(&bundle, "processes.jsonl", |recs| {
        for r in recs.iter_mut().filter(|r| ours(r)) {
            r["hidden_from_listing"] = json!(true);
        }
    });
    let found = findings_of(&bundle);
    let f = the(&found, "hidden-pid", names_pid);
    assert_eq!(f["severity"], "high");
    assert!(
        summary(f).starts_with(&format!("PID {pid} (sleep) exists but is missing")),
        "{f:#}"
    );
    let report = report_of(&bundle);
    let line = report
        .lines()
        .find(|l| l.starts_with(&format!("  {pid:<8} ")))
        .unwrap();
    assert!(line.contains(" !H "), "{line}");
    drop(child);
}

#[test]
fn a_tainted_kernel_and_a_hidden_module() {
    let dir = tempdir();
    let bundle = collect(dir.path(), &["--only", "modules"]);
    let lines = jsonl(&bundle, "modules.jsonl");
    assert_eq!(lines[0]["record"], "kernel", "{:#}", lines[0]);
    let real_findings = findings_of(&bundle);
    assert!(
        !real_findings
            .iter()
            .any(|f| f["rule"] == "hidden-module" || f["rule"] == "kernel-taint"),
        "this host's own kernel: {real_findings:#?}"
    );

    // Diamorphine's traces: it unlinks itself from the module list (so
    // /proc/modules omits it) but keeps its /sys/module entry, and being
    // out of tree and unsigned it sets taint flags O and E.
    let tainted = 4096 | 8192;
    let flags: Vec<Value> = irdump::collectors::modules::procfs::decode_taint(tainted)
        .into_iter()
        .map(|f| json!({"bit": f.bit, "letter": f.letter, "meaning": f.meaning}))
        .collect();
    alter(&bundle, "modules.jsonl", |recs| {
        let kernel = &mut recs[0];
        kernel["tainted"] = json!(tainted);
        kernel["taint_flags"] = json!(flags);
        kernel["modules_supported"] = json!(true);
        let release = kernel["kernel_release"].as_str().unwrap().to_owned();
        kernel["module_tree"] = json!(format!("/lib/modules/{release}"));
        recs.push(json!({
            "record": "module", "name": "irdump_test_rootkit", "in_proc_modules": false,
            "in_sysfs": true, "builtin": false, "hidden": true, "size": null, "refcount": 0,
            "used_by": [], "state": null, "address": null, "taint": "OE", "initstate": "live",
            "srcversion": null, "version": null, "file": null
        }));
    });
    let found = findings_of(&bundle);
    let hidden = the(&found, "hidden-module", |_| true);
    assert_eq!(hidden["severity"], "high");
    assert!(
        summary(hidden).contains("irdump_test_rootkit"),
        "{hidden:#}"
    );
    let taint = the(&found, "kernel-taint", |_| true);
    assert_eq!(taint["severity"], "high");
    assert!(
        summary(taint).contains("irdump_test_rootkit")
            && summary(taint).contains("outside the module tree"),
        "{taint:#}"
    );
    let report = report_of(&bundle);
    assert!(report.contains("HIDDEN-MODULE CANDIDATES (1):"), "{report}");
}

#[test]
fn a_program_posing_as_a_system_daemon() {
    // A copy of sleep outside the system directories, started with the
    // argv[0] sshd gives its sessions.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let copy = dir.path().join("kupd");
    std::fs::copy("/usr/bin/sleep", &copy).unwrap();
    let plant = spawn(Command::new(&copy).arg0("sshd: root@pts/3").arg("600"));
    let pid = plant.0.id();
    wait_until("kupd", || {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "kupd\n")
    });
    let out = tempdir();
    let bundle = collect(out.path(), &["--only", "processes", "--no-hash"]);
    let found = jsonl(&bundle, "findings.jsonl");
    let f = the(&found, "masquerade", |f| f["pids"] == json!([pid]));
    assert_eq!(f["severity"], "high");
    assert_eq!(
        summary(f),
        format!(
            "PID {pid} (kupd) poses as system daemon sshd in argv[0] but runs {}",
            copy.display()
        )
    );
    drop(plant);
}

/// Removes the planted account even when the test fails.
struct PlantedUser(String);

impl Drop for PlantedUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").args(["-f", &self.0]).status();
    }
}

#[test]
fn an_administrator_without_a_password() {
    if !is_root() {
        eprintln!("skipped: needs root to add an account");
        return;
    }
    let name = format!("irdnopw{}", std::process::id());
    let out = Command::new("useradd")
        .args([
            "-M",
            "-N",
            "-G",
            "sudo",
            "-d",
            "/nonexistent",
            "-s",
            "/bin/bash",
            &name,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let guard = PlantedUser(name.clone());
    let out = Command::new("passwd").args(["-d", &name]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = tempdir();
    let bundle = collect(dir.path(), &["--only", "accounts"]);
    drop(guard);
    let found = jsonl(&bundle, "findings.jsonl");
    let named = |f: &Value| summary(f).contains(&format!(" {name} "));
    let empty = the(&found, "empty-password", named);
    assert_eq!(empty["severity"], "high");
    assert!(
        summary(empty).ends_with("anyone may log in as it, and it is an administrator"),
        "{empty:#}"
    );
    // useradd set the password date to today: a fresh administrator.
    let recent = the(&found, "recent-admin", named);
    assert_eq!(recent["severity"], "medium");
    assert!(summary(recent).contains("password set "), "{recent:#}");
    let gone = Command::new("getent")
        .args(["passwd", &name])
        .output()
        .unwrap();
    assert!(
        !gone.status.success(),
        "the planted account was not removed"
    );
}

#[test]
fn a_library_in_etc_ld_so_preload() {
    let dir = tempdir();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/ld.so.preload"),
        "# added by the attacker\n/usr/lib/x86_64-linux-gnu/libsystemd-helper.so\n",
    )
    .unwrap();
    let bundle = collect(
        dir.path(),
        &["--root", root.to_str().unwrap(), "--only", "persistence"],
    );
    let found = jsonl(&bundle, "findings.jsonl");
    let f = the(&found, "preload", |_| true);
    assert_eq!(f["severity"], "high");
    assert_eq!(
        summary(f),
        "/etc/ld.so.preload loads /usr/lib/x86_64-linux-gnu/libsystemd-helper.so into every \
         dynamically linked program"
    );
    let report = std::fs::read_to_string(bundle.join("report.txt")).unwrap();
    assert!(findings_section(&report)
        .lines()
        .any(|l| l.starts_with("  HIGH    preload") && l.contains("libsystemd-helper.so")));
}
