//! The Linux processes collector against the real kernel: the parsers on
//! captured `/proc` text, `ps` as an oracle, and live plants (a deleted
//! executable, a renamed process, a spoofed argv[0], a zombie, a PID
//! namespace, `LD_PRELOAD`, a readdir-hooking preload library that hides a
//! process from `ps`, hostile names, a huge command line, an unprivileged
//! run). Every test asserts only on the processes it started itself.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use irdump::collectors::processes::{probe, procfs};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The system's Python (not a version manager's shim, which is a shell
/// script that runs it as a child).
const PYTHON: &str = "/usr/bin/python3";

/// A child killed and reaped when the test ends, however it ends.
struct Plant(Child);

impl Plant {
    /// Spawns with stdio closed to `/dev/null`. A binary copied just now
    /// can fail with `ETXTBSY` while another test thread forks with the
    /// copy's write descriptor still open (it closes at that child's
    /// exec): retried.
    fn spawn(cmd: &mut Command) -> Self {
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

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Plant {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `cond` holds, for up to ten seconds.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn comm(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/comm")).unwrap_or_default();
    String::from_utf8_lossy(raw.strip_suffix(b"\n").unwrap_or(&raw)).into_owned()
}

/// Runs `irdump collect --only processes` and returns the bundle and the
/// records by PID.
fn collect(dir: &Path, extra: &[&str]) -> (PathBuf, BTreeMap<u64, Value>) {
    let mut args = vec!["--only", "processes"];
    args.extend_from_slice(extra);
    let (bundle, out) = collect_into(dir, &args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        out.status.code(),
        stderr(&out)
    );
    let records = jsonl(&bundle, "processes.jsonl")
        .into_iter()
        .map(|r| (r["pid"].as_u64().unwrap(), r))
        .collect();
    (bundle, records)
}

fn record(records: &BTreeMap<u64, Value>, pid: u32) -> &Value {
    records
        .get(&u64::from(pid))
        .unwrap_or_else(|| panic!("pid {pid} not in processes.jsonl"))
}

fn sha256_file(path: &Path) -> String {
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn parsers_read_captured_proc_files() {
    let kthreadd = procfs::parse_stat(&fixture("proc_pid_stat_kthreadd_linux6.txt")).unwrap();
    assert_eq!((kthreadd.pid, kthreadd.ppid), (2, 0));
    assert_eq!(kthreadd.comm, b"kthreadd");
    assert!(kthreadd.is_kernel_thread());
    assert_eq!(kthreadd.starttime, 25);

    let bash = procfs::parse_stat(&fixture("proc_pid_stat_bash_debian12.txt")).unwrap();
    assert_eq!(
        (bash.pid, bash.ppid, bash.pgrp, bash.session),
        (1121, 1120, 1121, 1121)
    );
    assert!(!bash.is_kernel_thread());
    assert_eq!(bash.tty_nr, 0);
    assert_eq!(
        (bash.starttime, bash.vsize, bash.rss_pages),
        (2909, 5386240, 1040)
    );

    let status = procfs::parse_status(&fixture("proc_pid_status_bash_debian12.txt"));
    assert_eq!(status.tgid, Some(1121));
    assert_eq!(
        (status.uid, status.euid, status.gid),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(status.nspid, vec![1121]);
    assert_eq!(status.cap_eff.as_deref(), Some("000001fffeffffff"));

    let nested = procfs::parse_status(&fixture("proc_pid_status_pid_namespace_debian12.txt"));
    assert_eq!(nested.nspid, vec![8106, 1]);

    let cgroup = procfs::parse_cgroup(&fixture("proc_pid_cgroup_hybrid_v1_debian12.txt"));
    assert_eq!(cgroup.as_deref(), Some("/"));

    let args = procfs::split_cmdline(&fixture("proc_pid_cmdline_sleep_debian12.bin"));
    assert_eq!(args, vec!["sleep", "100"]);
}

/// `ps` row: ppid, euid, comm, args.
type PsRow = (u32, u32, String, String);

fn ps_snapshot() -> HashMap<u32, PsRow> {
    let out = Command::new("ps")
        .args(["-eww", "-o", "pid=,ppid=,uid=,comm=,args="])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut rows = HashMap::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(pid), Some(ppid), Some(uid), Some(comm)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let args = f.collect::<Vec<_>>().join(" ");
        rows.insert(
            pid.parse().unwrap(),
            (
                ppid.parse().unwrap(),
                uid.parse().unwrap(),
                comm.to_owned(),
                args,
            ),
        );
    }
    rows
}

/// `ps -eo pid,ppid,uid,comm,args` as the oracle: every process alive
/// and unchanged across both `ps` snapshots agrees with irdump on these
/// fields, and the children started here agree exactly.
#[test]
fn agrees_with_ps() {
    let mine: Vec<Plant> = (0..3)
        .map(|i| Plant::spawn(Command::new("sleep").arg(format!("{}", 600 + i))))
        .collect();
    let before = ps_snapshot();
    let dir = tempdir();
    let (_, records) = collect(dir.path(), &["--no-hash"]);
    let after = ps_snapshot();

    let mut compared = 0;
    for (pid, row) in &before {
        if after.get(pid) != Some(row) {
            continue;
        }
        let Some(r) = records.get(&u64::from(*pid)) else {
            continue;
        };
        let (ppid, uid, ps_comm, ps_args) = row;
        let name = r["name"].as_str().unwrap();
        let args: Vec<&str> = r["cmdline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let printable = |s: &str| s.chars().all(|c| c.is_ascii_graphic() || c == ' ');
        assert_eq!(r["ppid"].as_u64(), Some(u64::from(*ppid)), "pid {pid}");
        assert_eq!(r["euid"].as_u64(), Some(u64::from(*uid)), "pid {pid}");
        // A kernel worker's name carries the work item it runs right now
        // (`kworker/0:1-events`), which may change between ps's snapshots
        // and ours even when both ps snapshots agree: compare the worker.
        let worker = |s: &str| s.split('-').next().unwrap_or_default().to_owned();
        if r["kernel_thread"] == true && name.starts_with("kworker/") {
            assert_eq!(worker(name), worker(ps_comm), "pid {pid}");
        } else if printable(name) {
            // ps cuts names at 15 characters (kernel workers are longer).
            assert!(
                name == ps_comm || (ps_comm.len() >= 15 && name.starts_with(ps_comm.as_str())),
                "pid {pid}: {name:?} vs ps {ps_comm:?}"
            );
        }
        let joined = args.join(" ");
        if !args.is_empty() && printable(&joined) && !joined.contains("  ") {
            assert_eq!(&joined, ps_args, "pid {pid}");
        }
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} processes compared");
    for (i, p) in mine.iter().enumerate() {
        let r = record(&records, p.pid());
        assert_eq!(r["name"], "sleep");
        assert_eq!(
            r["cmdline"],
            serde_json::json!(["sleep", format!("{}", 600 + i)])
        );
        assert_eq!(r["ppid"].as_u64(), Some(u64::from(std::process::id())));
        assert_eq!(
            r["euid"].as_u64(),
            Some(u64::from(rustix::process::geteuid().as_raw()))
        );
        assert_eq!(r["exe"], "/usr/bin/sleep");
        assert_eq!(r["exe_deleted"], false);
        assert_eq!(r["kernel_thread"], false);
        assert_eq!(r["std_fds"]["stdin"], "/dev/null");
        assert!(r["start_time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(r["hidden_from_listing"], false);
    }
}

#[test]
fn a_deleted_executable_is_flagged_and_still_hashed() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let copy = dir.path().join("irdump-deleted-sleep");
    std::fs::copy("/usr/bin/sleep", &copy).unwrap();
    let original = sha256_file(&copy);
    let plant = Plant::spawn(Command::new(&copy).arg("600"));
    wait_for("the copy runs", || comm(plant.pid()) == "irdump-deleted-");
    std::fs::remove_file(&copy).unwrap();

    let out = tempdir();
    let (_, records) = collect(out.path(), &[]);
    let r = record(&records, plant.pid());
    assert_eq!(r["exe_deleted"], true, "{r:#}");
    assert_eq!(r["exe"], copy.to_str().unwrap());
    assert_eq!(r["sha256"], original.as_str());
    assert!(r["exe_inode"].as_u64().is_some());
}

#[test]
fn a_renamed_process_keeps_its_command_line() {
    let plant = Plant::spawn(Command::new(PYTHON).args([
        "-c",
        "import ctypes, time\n\
         ctypes.CDLL(None).prctl(15, b'irdump-renamed', 0, 0, 0)\n\
         time.sleep(600)",
    ]));
    wait_for("prctl", || comm(plant.pid()) == "irdump-renamed");
    let dir = tempdir();
    let (_, records) = collect(dir.path(), &["--no-hash"]);
    let r = record(&records, plant.pid());
    assert_eq!(r["name"], "irdump-renamed");
    assert_eq!(r["cmdline"][0], PYTHON);
    let real = std::fs::canonicalize(PYTHON).unwrap();
    assert_eq!(r["exe"], real.to_str().unwrap(), "{r:#}");
}

#[test]
fn a_spoofed_argv0_is_recorded_as_given() {
    let plant =
        Plant::spawn(Command::new("bash").args(["-c", "exec -a irdump-fake-argv0 sleep 600"]));
    wait_for("exec", || comm(plant.pid()) == "sleep");
    let dir = tempdir();
    let (_, records) = collect(dir.path(), &["--no-hash"]);
    let r = record(&records, plant.pid());
    assert_eq!(
        r["cmdline"],
        serde_json::json!(["irdump-fake-argv0", "600"])
    );
    assert_eq!(r["name"], "sleep");
    assert_eq!(r["exe"], "/usr/bin/sleep");
}

#[test]
fn a_zombie_is_recorded() {
    // The shell forks `true`, then becomes `sleep`, which never reaps it.
    let plant = Plant::spawn(Command::new("sh").args(["-c", "/bin/true & exec /bin/sleep 600"]));
    let parent = plant.pid();
    let mut zombie = 0;
    wait_for("a zombie child", || {
        let kids = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        zombie = kids
            .split_whitespace()
            .next()
            .and_then(|k| k.parse().ok())
            .unwrap_or(0);
        zombie != 0
            && std::fs::read_to_string(format!("/proc/{zombie}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
    });
    let dir = tempdir();
    let (bundle, records) = collect(dir.path(), &["--no-hash"]);
    let r = record(&records, zombie);
    assert_eq!(r["state"], "Z");
    assert_eq!(r["ppid"].as_u64(), Some(u64::from(parent)));
    assert_eq!(r["cmdline"], serde_json::json!([]));
    assert_eq!(r["exe"], Value::Null);
    // A zombie's missing executable is not a gap.
    let c = json(&bundle, "collection.json");
    let gaps = c["collectors"][1]["gaps"].to_string();
    assert!(!gaps.contains(&format!("/proc/{zombie} ")), "{gaps}");
}

#[test]
fn a_process_in_a_new_pid_namespace_shows_its_host_pid() {
    if !is_root() {
        eprintln!("skipped: unshare --pid needs root");
        return;
    }
    let plant = Plant::spawn(Command::new("unshare").args([
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "sleep",
        "600",
    ]));
    let outer = plant.pid();
    let mut inner = 0;
    wait_for("the namespaced sleep", || {
        let kids = std::fs::read_to_string(format!("/proc/{outer}/task/{outer}/children"))
            .unwrap_or_default();
        inner = kids
            .split_whitespace()
            .next()
            .and_then(|k| k.parse().ok())
            .unwrap_or(0);
        inner != 0 && comm(inner) == "sleep"
    });
    let dir = tempdir();
    let (_, records) = collect(dir.path(), &["--no-hash"]);
    let r = record(&records, inner);
    assert_eq!(r["pid_in_namespace"], 1);
    assert_eq!(r["ppid"].as_u64(), Some(u64::from(outer)));
    let ns_link = std::fs::read_link(format!("/proc/{inner}/ns/pid")).unwrap();
    let ns: u64 = ns_link
        .to_str()
        .unwrap()
        .trim_start_matches("pid:[")
        .trim_end_matches(']')
        .parse()
        .unwrap();
    assert_eq!(r["namespaces"]["pid"], ns);
    let own = record(&records, outer);
    assert_ne!(own["namespaces"]["pid"], ns, "the namespace is new");
}

#[test]
fn loader_variables_are_kept_and_the_rest_of_the_environment_is_not() {
    let plant = Plant::spawn(
        Command::new("sleep")
            .arg("600")
            .env("LD_PRELOAD", "/usr/lib/irdump-test-absent.so")
            .env("LD_LIBRARY_PATH", "/opt/irdump-test/lib")
            .env("IRDUMP_TEST_SECRET", "hunter2-do-not-store"),
    );
    wait_for("sleep", || comm(plant.pid()) == "sleep");
    let dir = tempdir();
    let (bundle, records) = collect(dir.path(), &["--no-hash"]);
    let r = record(&records, plant.pid());
    assert_eq!(
        r["env_flags"]["ld_preload"],
        "/usr/lib/irdump-test-absent.so"
    );
    assert_eq!(r["env_flags"]["ld_library_path"], "/opt/irdump-test/lib");
    for file in ["processes.jsonl", "report.txt", "findings.jsonl"] {
        let text = std::fs::read_to_string(bundle.join(file)).unwrap();
        assert!(
            !text.contains("hunter2-do-not-store"),
            "{file} holds the secret"
        );
    }
}

#[test]
fn hostile_names_and_huge_command_lines_are_kept_whole() {
    let hostile = Plant::spawn(Command::new(PYTHON).args([
        "-c",
        "import ctypes, time\n\
         ctypes.CDLL(None).prctl(15, b'x\\n[*] F\\x1b[2J\\xff', 0, 0, 0)\n\
         time.sleep(600)",
    ]));
    let chunk = "A".repeat(100 * 1024);
    let long = Plant::spawn(Command::new("bash").args([
        "-c",
        "sleep 600; :",
        "irdump-long",
        &chunk,
        &chunk,
    ]));
    wait_for("prctl", || comm(hostile.pid()).starts_with("x\n"));
    let dir = tempdir();
    let (bundle, records) = collect(dir.path(), &["--no-hash"]);
    let r = record(&records, hostile.pid());
    assert_eq!(r["name"], "x\n[*] F\u{1b}[2J\\xff");
    let l = record(&records, long.pid());
    let args = l["cmdline"].as_array().unwrap();
    assert_eq!(args.len(), 6);
    assert_eq!(args[3], "irdump-long");
    assert_eq!(args[4].as_str().unwrap(), chunk);
    assert_eq!(args[5].as_str().unwrap(), chunk);

    let report = std::fs::read_to_string(bundle.join("report.txt")).unwrap();
    let line = report
        .lines()
        .find(|l| l.starts_with(&format!("  {:<8} ", hostile.pid())))
        .unwrap();
    assert!(line.contains("x\\n[*] F\\e[2J\\xff"), "{line}");
    for l in report.lines() {
        assert!(!l.chars().any(|c| c.is_control()), "{l:?}");
        assert!(l.chars().count() <= 400, "{} chars", l.chars().count());
    }
}

/// A preload library that hooks libc's `readdir` to drop one `/proc`
/// entry, as userland rootkits do.
const HIDE_SO: &str = r#"
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static int hide(const char *name) {
    const char *pid = getenv("IRDUMP_TEST_HIDE_PID");
    return pid && strcmp(name, pid) == 0;
}

struct dirent *readdir(DIR *d) {
    static struct dirent *(*real)(DIR *);
    if (!real) real = dlsym(RTLD_NEXT, "readdir");
    struct dirent *e;
    do e = real(d); while (e && hide(e->d_name));
    return e;
}

struct dirent64 *readdir64(DIR *d) {
    static struct dirent64 *(*real)(DIR *);
    if (!real) real = dlsym(RTLD_NEXT, "readdir64");
    struct dirent64 *e;
    do e = real(d); while (e && hide(e->d_name));
    return e;
}
"#;

fn pids_listed_by(bin: &Path, args: &[&str], so: &Path, hide: u32) -> (bool, String) {
    let out = Command::new(bin)
        .args(args)
        .env("LD_PRELOAD", so)
        .env("IRDUMP_TEST_HIDE_PID", hide.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A static musl build of irdump: `IRDUMP_MUSL_BIN` when set (CI builds
/// the release binary before the tests), else built here when the target
/// is installed.
fn musl_irdump() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("IRDUMP_MUSL_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let libdir = Command::new("rustc")
        .args([
            "--print",
            "target-libdir",
            "--target",
            "x86_64-unknown-linux-musl",
        ])
        .output()
        .map_err(|e| format!("rustc: {e}"))?;
    let libdir = String::from_utf8_lossy(&libdir.stdout).trim().to_owned();
    if libdir.is_empty() || !Path::new(&libdir).exists() {
        return Err("the x86_64-unknown-linux-musl target is not installed".into());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = root.join("target/musl-for-tests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--target",
            "x86_64-unknown-linux-musl",
            "--bin",
            "irdump",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if !built.success() {
        return Err("cargo build for musl failed".into());
    }
    Ok(target_dir.join("x86_64-unknown-linux-musl/debug/irdump"))
}

#[test]
fn a_readdir_hooking_preload_hides_a_process_from_ps_but_not_from_irdump() {
    let dir = tempdir();
    let src = dir.path().join("hide.c");
    let so = dir.path().join("libhide.so");
    std::fs::write(&src, HIDE_SO).unwrap();
    let cc = Command::new("gcc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&so)
        .arg(&src)
        .arg("-ldl")
        .status()
        .unwrap();
    assert!(cc.success(), "gcc failed");
    let plant = Plant::spawn(Command::new("sleep").arg("600"));
    let pid = plant.pid();
    wait_for("sleep", || comm(pid) == "sleep");

    // The hook works: ps no longer sees the process.
    let (ok, ps) = pids_listed_by(Path::new("/usr/bin/ps"), &["-e", "-o", "pid="], &so, pid);
    assert!(ok);
    let listed: HashSet<u32> = ps
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    assert!(listed.len() > 5, "ps listed nothing: {ps}");
    assert!(
        !listed.contains(&pid),
        "the hook did not hide {pid} from ps"
    );

    // irdump lists /proc with getdents64 itself: the hook cannot touch it,
    // even in the dynamically linked test build.
    let mut binaries = vec![PathBuf::from(env!("CARGO_BIN_EXE_irdump"))];
    match musl_irdump() {
        Ok(bin) => binaries.push(bin),
        Err(why) => eprintln!("static musl build not tested: {why}"),
    }
    for (i, bin) in binaries.iter().enumerate() {
        let bundle = dir.path().join(format!("bundle{i}"));
        let b = bundle.to_str().unwrap();
        let args = ["collect", "-q", "--no-hash", "--only", "processes", "-o", b];
        let (_, _) = pids_listed_by(bin, &args, &so, pid);
        let records = jsonl(&bundle, "processes.jsonl");
        let r = records
            .iter()
            .find(|r| r["pid"].as_u64() == Some(u64::from(pid)))
            .unwrap_or_else(|| panic!("{} missed pid {pid}", bin.display()));
        assert_eq!(r["name"], "sleep");
        assert_eq!(r["hidden_from_listing"], false);
    }
}

/// The probe finds a live process missing from a listing (what a rootkit
/// that filters `/proc` leaves), and tells its threads, which are never
/// listed, from hidden processes.
#[test]
fn the_hidden_pid_probe_finds_an_unlisted_process_and_not_its_threads() {
    let plant = Plant::spawn(Command::new(PYTHON).args([
        "-c",
        "import threading, time\n\
         for _ in range(3): threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n\
         time.sleep(600)",
    ]));
    let pid = plant.pid();
    let task = format!("/proc/{pid}/task");
    wait_for("threads", || {
        std::fs::read_dir(&task).map(|d| d.count()).unwrap_or(0) == 4
    });
    let tids: Vec<u32> = std::fs::read_dir(&task)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .filter(|&t| t != pid)
        .collect();
    let listed: std::collections::BTreeSet<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.parse().ok())
        .filter(|&p| p != pid)
        .collect();
    let range = [pid.saturating_sub(50)..=pid + 50];
    let found = probe::candidates(
        &range,
        [],
        &listed,
        &HashSet::new(),
        2,
        probe::answers_signal,
    );
    assert!(found.contains(&pid), "{found:?}");
    for t in &tids {
        assert!(
            found.contains(t),
            "thread {t} answers signals too: {found:?}"
        );
    }
    let proc_dir = rustix::fs::open(
        "/proc",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    assert!(matches!(
        probe::classify(&proc_dir, pid),
        probe::Unlisted::Process
    ));
    for &t in &tids {
        match probe::classify(&proc_dir, t) {
            probe::Unlisted::Thread { tgid } => assert_eq!(tgid, pid),
            other => panic!("thread {t}: {other:?}"),
        }
    }

    // A whole collection lists it, and its threads raise nothing.
    let dir = tempdir();
    let (bundle, records) = collect(dir.path(), &["--no-hash"]);
    assert_eq!(record(&records, pid)["threads"], 4);
    let ours: HashSet<u64> = tids.iter().chain([&pid]).map(|&t| u64::from(t)).collect();
    for f in jsonl(&bundle, "findings.jsonl") {
        let named = f["pids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| ours.contains(&p.as_u64().unwrap()));
        assert!(!(f["rule"] == "hidden-pid" && named), "{f:#}");
    }
    for r in records.values() {
        let p = r["pid"].as_u64().unwrap();
        assert!(
            p == u64::from(pid) || !ours.contains(&p),
            "thread {p} recorded as a process"
        );
    }
}

#[test]
fn an_unprivileged_run_records_gaps_and_keeps_what_it_can_read() {
    if !is_root() {
        eprintln!("skipped: needs root to drop to nobody");
        return;
    }
    let root_plant = Plant::spawn(Command::new("sleep").arg("600"));
    wait_for("sleep", || comm(root_plant.pid()) == "sleep");
    let dir = tempdir();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let bundle = dir.path().join("bundle");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_irdump"))
        .args(["collect", "-q", "--only", "processes", "-o"])
        .arg(&bundle)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: BTreeMap<u64, Value> = jsonl(&bundle, "processes.jsonl")
        .into_iter()
        .map(|r| (r["pid"].as_u64().unwrap(), r))
        .collect();
    let r = record(&records, root_plant.pid());
    assert_eq!(r["name"], "sleep");
    assert_eq!(r["cmdline"], serde_json::json!(["sleep", "600"]));
    assert_eq!(r["uid"], 0);
    assert_eq!(r["exe"], Value::Null, "another user's exe is unreadable");
    assert_eq!(r["env_flags"]["ld_preload"], Value::Null);
    let c = json(&bundle, "collection.json");
    let run = c["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "processes")
        .unwrap();
    assert_eq!(run["status"], "partial");
    let gap = run["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["what"] == format!("/proc/{} (sleep)", root_plant.pid()))
        .unwrap_or_else(|| panic!("no gap for the root sleep: {run:#}"));
    let cause = gap["cause"].as_str().unwrap();
    assert!(cause.starts_with("permission denied: exe"), "{cause}");
    assert!(cause.contains("environ") && cause.contains("fd"), "{cause}");
}
