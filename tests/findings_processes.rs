//! The process finding rules: on hand-built records (every branch, and the
//! look-alikes a clean host has that must not fire), then on real plants
//! collected from this host (a deleted binary, a binary in /dev/shm and in
//! a memfd, a fake kernel thread, an `LD_PRELOAD`, and a shell wired to a
//! TCP connection).

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

#[cfg(target_os = "linux")]
mod common;

use irdump::bundle::BundleFiles;
use irdump::findings::analyze;
use irdump::records::finding::{Finding, Severity};
use serde_json::{json, Value};

fn process(pid: u32, ppid: u32, name: &str, exe: Option<&str>, cmdline: &[&str]) -> Value {
    json!({
        "pid": pid, "ppid": ppid, "name": name, "cmdline": cmdline, "exe": exe,
        "exe_deleted": false, "sha256": null, "cwd": "/", "root": "/", "uid": 0, "euid": 0,
        "gid": 0, "user": "root", "start_time": "2026-12-04T04:00:00Z", "state": "S",
        "threads": 1, "rss_bytes": 1, "vsize_bytes": 1, "tty": null, "session": pid,
        "pgid": pid, "fd_count": 3,
        "std_fds": {"stdin": "/dev/null", "stdout": "/dev/null", "stderr": "/dev/null"},
        "namespaces": {"pid": 1, "net": 2, "mnt": 3, "user": 4}, "cgroup": "/",
        "container_id": null, "cap_eff": "0", "kernel_thread": false,
        "env_flags": {"ld_preload": null, "ld_library_path": null}
    })
}

fn socket(inode: u64, proto: &str, family: &str, remote: Option<(&str, u16)>) -> Value {
    json!({
        "proto": proto, "family": family,
        "local_addr": if family == "unix" { "/run/systemd/journal/stdout" } else { "10.0.0.5" },
        "local_port": if family == "unix" { None } else { Some(40000) },
        "remote_addr": remote.map(|r| r.0), "remote_port": remote.map(|r| r.1),
        "state": if remote.is_some() { "ESTABLISHED" } else { "UNCONN" },
        "inode": inode, "uid": 0, "netns": 2, "owners": [], "sources": ["netlink"],
        "recv_queue": 0, "send_queue": 0
    })
}

fn bundle(procs: &[Value], sockets: Option<&[Value]>) -> BundleFiles {
    let lines = |v: &[Value]| v.iter().map(|r| format!("{r}\n")).collect::<String>();
    let mut b = BundleFiles::default();
    b.files
        .insert("processes.jsonl".into(), lines(procs).into_bytes());
    if let Some(s) = sockets {
        b.files
            .insert("network.jsonl".into(), lines(s).into_bytes());
    }
    b
}

fn findings(procs: &[Value], sockets: Option<&[Value]>) -> Vec<Finding> {
    let (found, gaps) = analyze(&bundle(procs, sockets));
    assert!(gaps.is_empty(), "{gaps:?}");
    found
}

fn of_rule<'a>(found: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    found.iter().filter(|f| f.rule == rule).collect()
}

fn wired(mut p: Value, stdin: &str, stdout: &str, stderr: &str) -> Value {
    p["std_fds"] = json!({"stdin": stdin, "stdout": stdout, "stderr": stderr});
    p
}

#[test]
fn reverse_shell_names_pid_process_and_endpoint() {
    let procs = [
        process(
            1,
            0,
            "systemd",
            Some("/usr/lib/systemd/systemd"),
            &["/sbin/init"],
        ),
        process(
            700,
            1,
            "apache2",
            Some("/usr/sbin/apache2"),
            &["/usr/sbin/apache2"],
        ),
        wired(
            process(4242, 700, "bash", Some("/usr/bin/bash"), &["bash", "-i"]),
            "socket:[77]",
            "socket:[77]",
            "socket:[77]",
        ),
    ];
    let sockets = [socket(77, "tcp", "ipv4", Some(("203.0.113.7", 4444)))];
    let found = findings(&procs, Some(&sockets));
    let rs = of_rule(&found, "reverse-shell");
    assert_eq!(rs.len(), 1, "{found:#?}");
    assert_eq!(rs[0].severity, Severity::High);
    assert_eq!(rs[0].pids, vec![4242]);
    let s = &rs[0].summary;
    assert!(
        s.starts_with("PID 4242 (bash)") && s.contains("203.0.113.7:4444"),
        "{s}"
    );
    assert!(s.contains("stdin, stdout, stderr"), "{s}");
}

#[test]
fn interpreters_are_recognised_by_name_executable_or_argv0() {
    let sockets = [socket(80, "tcp", "ipv6", Some(("2001:db8::1", 443)))];
    for (name, exe, argv0) in [
        ("python3.11", "/usr/bin/python3.11", "python3"),
        ("x", "/usr/bin/perl", "perl"),
        ("kworker", "/usr/bin/dash", "sh"),
        ("cron", "/usr/bin/nc.openbsd", "nc"),
        ("foo", "/opt/foo", "-bash"),
    ] {
        let procs = [wired(
            process(10, 5, name, Some(exe), &[argv0]),
            "/dev/null",
            "socket:[80]",
            "/dev/null",
        )];
        let found = findings(&procs, Some(&sockets));
        let rs = of_rule(&found, "reverse-shell");
        assert_eq!(rs.len(), 1, "{name} {exe}");
        assert!(
            rs[0].summary.contains("[2001:db8::1]:443"),
            "{}",
            rs[0].summary
        );
    }
}

#[test]
fn unix_sockets_on_stdout_are_normal() {
    // systemd wires services' output to the journal over a unix socket.
    let procs = [wired(
        process(
            300,
            1,
            "sh",
            Some("/usr/bin/dash"),
            &["/bin/sh", "/usr/lib/x/run"],
        ),
        "/dev/null",
        "socket:[90]",
        "socket:[90]",
    )];
    let sockets = [socket(90, "unix", "unix", None)];
    assert!(findings(&procs, Some(&sockets)).is_empty());
    // Without network.jsonl the socket's kind is unknown: no finding.
    assert!(findings(&procs, None).is_empty());
}

#[test]
fn any_process_with_one_tcp_socket_on_stdin_and_stdout_is_flagged() {
    let sockets = [socket(55, "tcp", "ipv4", Some(("198.51.100.9", 8443)))];
    let renamed = wired(
        process(900, 800, "svc", Some("/var/lib/svc/svc"), &["svc"]),
        "socket:[55]",
        "socket:[55]",
        "/dev/null",
    );
    let parent = process(800, 1, "evil", Some("/opt/evil"), &["evil"]);
    let found = findings(&[parent, renamed.clone()], Some(&sockets));
    let rs = of_rule(&found, "reverse-shell");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].severity, Severity::High);
    // Started by PID 1 with the socket as stdio is socket activation
    // (inetd style): still shown, at medium.
    let mut activated = renamed;
    activated["ppid"] = json!(1);
    let found = findings(&[activated], Some(&sockets));
    assert_eq!(
        of_rule(&found, "reverse-shell")[0].severity,
        Severity::Medium
    );
    // Nor is one whose stdin and stdout are one unix socket, whatever
    // its stderr.
    let mut with_unix = sockets.to_vec();
    with_unix.push(socket(56, "unix", "unix", None));
    let unix_stdio = wired(
        process(902, 800, "app", Some("/opt/app"), &["app"]),
        "socket:[56]",
        "socket:[56]",
        "socket:[55]",
    );
    assert!(of_rule(&findings(&[unix_stdio], Some(&with_unix)), "reverse-shell").is_empty());
    // A non-shell with only stderr on a TCP socket is not a reverse shell.
    let logger = wired(
        process(901, 800, "app", Some("/opt/app"), &["app"]),
        "/dev/null",
        "/dev/null",
        "socket:[55]",
    );
    assert!(of_rule(&findings(&[logger], Some(&sockets)), "reverse-shell").is_empty());
}

#[test]
fn a_shell_socket_missing_from_network_jsonl_is_a_gap_not_a_finding() {
    let procs = [wired(
        process(4242, 1, "bash", Some("/usr/bin/bash"), &["bash"]),
        "socket:[12345]",
        "socket:[12345]",
        "/dev/null",
    )];
    let (found, gaps) = analyze(&bundle(&procs, Some(&[])));
    assert!(found.is_empty());
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    assert!(gaps[0].cause.contains("12345"));
}

#[test]
fn deleted_executables_are_grouped_and_graded_by_place() {
    let mut upgraded = vec![];
    for pid in [100, 101, 102] {
        let mut p = process(pid, 1, "nginx", Some("/usr/sbin/nginx"), &["nginx"]);
        p["exe_deleted"] = json!(true);
        upgraded.push(p);
    }
    let mut dropped = process(200, 1, "x", Some("/home/bob/x"), &["./x"]);
    dropped["exe_deleted"] = json!(true);
    dropped["sha256"] = json!("ab".repeat(32));
    let mut memfd = process(300, 1, "memfd:x", Some("/memfd:x"), &["x"]);
    memfd["exe_deleted"] = json!(true);
    upgraded.push(dropped);
    upgraded.push(memfd);
    let found = findings(&upgraded, None);
    let del = of_rule(&found, "deleted-executable");
    assert_eq!(del.len(), 2, "{found:#?}");
    let home = del.iter().find(|f| f.pids == vec![200]).unwrap();
    assert_eq!(home.severity, Severity::High);
    assert!(home.summary.contains("sha256 abababab"), "{}", home.summary);
    let nginx = del.iter().find(|f| f.pids == vec![100, 101, 102]).unwrap();
    assert_eq!(nginx.severity, Severity::Medium);
    assert!(nginx.summary.starts_with("PID 100 (nginx) and 2 more"));
    // memfd is exe-in-temp's.
    let temp = of_rule(&found, "exe-in-temp");
    assert_eq!(temp.len(), 1);
    assert_eq!(
        (temp[0].pids.clone(), temp[0].severity),
        (vec![300], Severity::Medium)
    );
}

#[test]
fn executables_in_temporary_and_hidden_places() {
    let cases = [
        ("/tmp/x", Some(Severity::High)),
        ("/var/tmp/.a/b", Some(Severity::High)),
        ("/dev/shm/k", Some(Severity::High)),
        ("/run/user/1000/x", Some(Severity::Medium)),
        ("/home/bob/.cache/x", Some(Severity::Medium)),
        ("/usr/bin/.hidden", Some(Severity::Medium)),
        ("/usr/bin/sleep", None),
        ("/opt/tmp/x", None),
    ];
    for (exe, expected) in cases {
        let found = findings(&[process(5, 1, "x", Some(exe), &["x"])], None);
        let got = of_rule(&found, "exe-in-temp").first().map(|f| f.severity);
        assert_eq!(got, expected, "{exe}");
    }
}

#[test]
fn masquerading_as_a_kernel_thread_or_a_daemon() {
    let mut real = process(40, 2, "kworker/0:1-events", None, &[]);
    real["kernel_thread"] = json!(true);
    let fake_comm = process(
        50,
        1,
        "[kworker/0:1]",
        Some("/usr/bin/python3.11"),
        &["python3"],
    );
    let fake_argv = process(
        51,
        1,
        "sleep",
        Some("/usr/bin/sleep"),
        &["[kworker/1:2]", "600"],
    );
    let bare = process(52, 999, "ksoftirqd/3", None, &["ksoftirqd/3"]);
    let sshd = process(60, 1, "sshd", Some("/tmp/.x/miner"), &["sshd"]);
    let sshd_interp = process(61, 1, "x", Some("/usr/bin/python3.11"), &["sshd"]);
    let ok = [
        process(76, 1, "crond", Some("/bin/busybox"), &["crond", "-f"]),
        process(
            70,
            1,
            "sshd",
            Some("/usr/sbin/sshd"),
            &["sshd: /usr/sbin/sshd -D [listener]"],
        ),
        process(
            71,
            1,
            "systemd-udevd",
            Some("/usr/bin/udevadm"),
            &["/lib/systemd/systemd-udevd"],
        ),
        process(
            72,
            1,
            "systemd-journal",
            Some("/usr/lib/systemd/systemd-journald"),
            &["/lib/systemd/systemd-journald"],
        ),
        process(
            73,
            70,
            "sshd",
            Some("/usr/sbin/sshd"),
            &["sshd: root@pts/0"],
        ),
        process(
            74,
            1,
            "postgres",
            Some("/usr/lib/postgresql/15/bin/postgres"),
            &["postgres: checkpointer"],
        ),
        process(
            75,
            1,
            "unattended-upgr",
            Some("/usr/bin/python3.11"),
            &[
                "/usr/bin/python3",
                "/usr/share/unattended-upgrades/unattended-upgrade-shutdown",
            ],
        ),
    ];
    let mut procs = vec![real, fake_comm, fake_argv, bare, sshd, sshd_interp];
    procs.extend(ok);
    let found = findings(&procs, None);
    let m = of_rule(&found, "masquerade");
    let by_pid = |pid| m.iter().find(|f| f.pids == vec![pid]).map(|f| f.severity);
    assert_eq!(by_pid(50), Some(Severity::High));
    assert_eq!(by_pid(51), Some(Severity::High));
    assert_eq!(by_pid(52), Some(Severity::High));
    assert_eq!(by_pid(60), Some(Severity::High));
    assert_eq!(by_pid(61), Some(Severity::Medium));
    assert_eq!(m.len(), 5, "{m:#?}");
    assert!(m[0].summary.contains("PID"));
}

#[test]
fn preload_is_grouped_by_value_and_graded_by_library_place() {
    let mut a = process(10, 1, "a", Some("/usr/bin/a"), &["a"]);
    a["env_flags"]["ld_preload"] = json!("/usr/lib/libjemalloc.so.2");
    let mut b = a.clone();
    b["pid"] = json!(11);
    let mut c = process(12, 1, "c", Some("/usr/bin/c"), &["c"]);
    c["env_flags"]["ld_preload"] = json!("/lib/x.so:/dev/shm/.k.so");
    let mut empty = process(13, 1, "d", Some("/usr/bin/d"), &["d"]);
    empty["env_flags"]["ld_preload"] = json!("");
    let found = findings(&[a, b, c, empty], None);
    let p = of_rule(&found, "preload");
    assert_eq!(p.len(), 2);
    let jem = p.iter().find(|f| f.pids == vec![10, 11]).unwrap();
    assert_eq!(jem.severity, Severity::Medium);
    let shm = p.iter().find(|f| f.pids == vec![12]).unwrap();
    assert_eq!(shm.severity, Severity::High);
}

#[test]
fn hidden_pids_are_high() {
    let mut hidden = process(31337, 1, "backdoor", Some("/usr/sbin/cron"), &["cron"]);
    hidden["hidden_from_listing"] = json!(true);
    let listed = process(
        1,
        0,
        "systemd",
        Some("/usr/lib/systemd/systemd"),
        &["/sbin/init"],
    );
    let found = findings(&[listed, hidden], None);
    let h = of_rule(&found, "hidden-pid");
    assert_eq!(h.len(), 1);
    assert_eq!(
        (h[0].pids.clone(), h[0].severity),
        (vec![31337], Severity::High)
    );
    assert!(h[0].summary.contains("PID 31337 (backdoor)"));
}

#[test]
fn older_bundles_without_the_new_fields_still_read() {
    let mut old = process(5, 1, "x", Some("/usr/bin/x"), &["x"]);
    let obj = old.as_object_mut().unwrap();
    obj.remove("std_fds");
    let found = findings(&[old], None);
    assert!(found.is_empty());
}

#[cfg(target_os = "linux")]
mod live {
    use std::os::fd::OwnedFd;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use super::common::*;
    use serde_json::Value;

    const PYTHON: &str = "/usr/bin/python3";

    struct Plant(Child);

    impl Drop for Plant {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Spawns with stdio on `/dev/null`, retrying `ETXTBSY`: a binary
    /// copied just now stays busy while another test thread forks with
    /// the copy's write descriptor open.
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

    fn wait_comm(pid: u32, expected: &str) {
        let start = Instant::now();
        loop {
            let raw = std::fs::read(format!("/proc/{pid}/comm")).unwrap_or_default();
            if raw.strip_suffix(b"\n") == Some(expected.as_bytes()) {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "comm of {pid}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Collects `collectors` and returns the findings naming `pid`.
    fn findings_for(pid: u32, collectors: &str, extra: &[&str]) -> Vec<Value> {
        let dir = tempdir();
        let mut args = vec!["--only", collectors];
        args.extend_from_slice(extra);
        let (bundle, out) = collect_into(dir.path(), &args);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        jsonl(&bundle, "findings.jsonl")
            .into_iter()
            .filter(|f| {
                f["pids"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|v| v.as_u64() == Some(u64::from(pid))))
            })
            .collect()
    }

    fn rule<'a>(found: &'a [Value], name: &str) -> &'a Value {
        found
            .iter()
            .find(|f| f["rule"] == name)
            .unwrap_or_else(|| panic!("no {name} finding: {found:#?}"))
    }

    #[test]
    fn a_deleted_binary_is_flagged() {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let copy = dir.path().join("irdump-gone");
        std::fs::copy("/usr/bin/sleep", &copy).unwrap();
        let plant = spawn(Command::new(&copy).arg("600"));
        wait_comm(plant.0.id(), "irdump-gone");
        std::fs::remove_file(&copy).unwrap();
        let found = findings_for(plant.0.id(), "processes", &[]);
        let f = rule(&found, "deleted-executable");
        assert_eq!(f["severity"], "high");
        assert!(f["summary"].as_str().unwrap().contains("irdump-gone"));
    }

    /// Removes a directory under /dev/shm when the test ends.
    struct ShmDir(std::path::PathBuf);

    impl Drop for ShmDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn binaries_in_dev_shm_and_in_memory_are_flagged() {
        if !Path::new("/dev/shm").is_dir() {
            eprintln!("skipped: no /dev/shm");
            return;
        }
        let shm = ShmDir(Path::new("/dev/shm").join(format!("irdump-test-{}", std::process::id())));
        std::fs::create_dir_all(&shm.0).unwrap();
        let exe = shm.0.join("irdump-shm");
        std::fs::copy("/usr/bin/sleep", &exe).unwrap();
        let in_shm = spawn(Command::new(&exe).arg("600"));
        let in_memfd = spawn(Command::new(PYTHON).args([
            "-c",
            "import os\n\
             fd = os.memfd_create('irdump-memfd', 0)\n\
             data = open('/usr/bin/sleep', 'rb').read()\n\
             while data: data = data[os.write(fd, data):]\n\
             os.execv('/proc/self/fd/%d' % fd, ['sleep', '600'])",
        ]));
        wait_comm(in_shm.0.id(), "irdump-shm");
        let start = Instant::now();
        while !std::fs::read_link(format!("/proc/{}/exe", in_memfd.0.id()))
            .is_ok_and(|l| l.to_string_lossy().contains("memfd:irdump-memfd"))
        {
            assert!(start.elapsed() < Duration::from_secs(10), "memfd exec");
            std::thread::sleep(Duration::from_millis(20));
        }
        let found = findings_for(in_shm.0.id(), "processes", &["--no-hash"]);
        assert_eq!(rule(&found, "exe-in-temp")["severity"], "high");
        let found = findings_for(in_memfd.0.id(), "processes", &["--no-hash"]);
        let f = rule(&found, "exe-in-temp");
        assert_eq!(f["severity"], "medium");
        assert!(f["summary"].as_str().unwrap().contains("memfd"), "{f}");
    }

    #[test]
    fn a_fake_kernel_thread_is_flagged() {
        let renamed = spawn(Command::new(PYTHON).args([
            "-c",
            "import ctypes, time\n\
             ctypes.CDLL(None).prctl(15, b'[kworker/0:1]', 0, 0, 0)\n\
             time.sleep(600)",
        ]));
        let spoofed = spawn(Command::new("bash").args(["-c", "exec -a '[kworker/1:2]' sleep 600"]));
        wait_comm(renamed.0.id(), "[kworker/0:1]");
        wait_comm(spoofed.0.id(), "sleep");
        for pid in [renamed.0.id(), spoofed.0.id()] {
            let found = findings_for(pid, "processes", &["--no-hash"]);
            let f = rule(&found, "masquerade");
            assert_eq!(f["severity"], "high");
            assert!(f["summary"]
                .as_str()
                .unwrap()
                .contains(&format!("PID {pid}")));
        }
    }

    #[test]
    fn ld_preload_is_flagged() {
        let lib = format!("/usr/lib/irdump-test-absent-{}.so", std::process::id());
        let plant = spawn(Command::new("sleep").arg("600").env("LD_PRELOAD", &lib));
        wait_comm(plant.0.id(), "sleep");
        let found = findings_for(plant.0.id(), "processes", &["--no-hash"]);
        let f = rule(&found, "preload");
        assert_eq!(f["severity"], "medium");
        assert!(f["summary"].as_str().unwrap().contains(&lib));
    }

    /// A shell whose stdin, stdout and stderr are a TCP connection to a
    /// local listener: the reverse shell of the classic scenario.
    #[test]
    fn a_shell_on_a_tcp_connection_is_a_reverse_shell() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_accepted, _) = listener.accept().unwrap();
        let fd = |s: &std::net::TcpStream| Stdio::from(OwnedFd::from(s.try_clone().unwrap()));
        let shell = Plant(
            Command::new("sh")
                .args(["-c", "sleep 600; :"])
                .stdin(fd(&stream))
                .stdout(fd(&stream))
                .stderr(fd(&stream))
                .spawn()
                .unwrap(),
        );
        let pid = shell.0.id();
        let found = findings_for(pid, "sockets,processes", &["--no-hash"]);
        let f = rule(&found, "reverse-shell");
        assert_eq!(f["severity"], "high");
        let summary = f["summary"].as_str().unwrap();
        assert!(summary.contains(&format!("PID {pid}")), "{summary}");
        assert!(summary.contains(&format!("127.0.0.1:{port}")), "{summary}");
    }
}
