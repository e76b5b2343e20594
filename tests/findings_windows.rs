//! The finding rules on Windows-shaped records, as the Windows collectors
//! write them: socket owners with `fd` 0 (the IP Helper tables name no
//! handle), no `std_fds`, no inodes or namespaces, `C:\` paths, the PID 0
//! pseudo-process called `[System Process]`. Nothing built for Linux may
//! misfire on them, and the Windows variants (a shell holding a
//! connection, a system program's name outside System32, the Windows drop
//! locations) fire where they should. A Windows host cannot be planted on
//! from this Linux test host: the records are built here, shaped after the
//! collectors' code (`src/windows_formats/sockets.rs`,
//! `src/collectors/processes/windows.rs`).

#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

use irdump::bundle::BundleFiles;
use irdump::findings::analyze;
use irdump::findings::platform::Platform;
use irdump::records::finding::{Finding, Severity};
use serde_json::{json, Value};

fn process(pid: u32, ppid: u32, name: &str, exe: Option<&str>) -> Value {
    json!({
        "pid": pid, "ppid": ppid, "name": name,
        "cmdline": exe.map_or(vec![], |e| vec![e.to_owned()]),
        "cmdline_raw": exe, "exe": exe, "exe_deleted": false, "sha256": null,
        "cwd": null, "root": null, "uid": null, "euid": null, "gid": null,
        "user": "WS-0042\\alice", "start_time": "2026-03-14T09:00:00Z", "state": null,
        "threads": 3, "rss_bytes": null, "vsize_bytes": null, "tty": null, "session": 1,
        "pgid": null, "fd_count": null,
        "std_fds": {"stdin": null, "stdout": null, "stderr": null},
        "namespaces": {"pid": null, "net": null, "mnt": null, "user": null},
        "cgroup": null, "container_id": null, "cap_eff": null, "kernel_thread": false,
        "env_flags": {"ld_preload": null, "ld_library_path": null},
        "hidden_from_listing": false
    })
}

fn socket(
    local: (&str, u16),
    remote: Option<(&str, u16)>,
    state: &str,
    owner: Option<(u32, &str)>,
) -> Value {
    json!({
        "proto": "tcp", "family": "ipv4", "local_addr": local.0, "local_port": local.1,
        "remote_addr": remote.map(|r| r.0), "remote_port": remote.map(|r| r.1),
        "state": state, "inode": null, "uid": null, "netns": null,
        "owners": owner.map_or(vec![], |(pid, name)| vec![json!({"pid": pid, "name": name, "fd": 0})]),
        "sources": ["windows_api"], "recv_queue": null, "send_queue": null,
        "kind": null, "peer_inode": null, "unseen_by": [], "owners_complete": false
    })
}

fn bundle(procs: &[Value], sockets: &[Value]) -> BundleFiles {
    let lines = |v: &[Value]| v.iter().map(|r| format!("{r}\n")).collect::<String>();
    let mut b = BundleFiles::default();
    b.files
        .insert("processes.jsonl".into(), lines(procs).into_bytes());
    b.files
        .insert("network.jsonl".into(), lines(sockets).into_bytes());
    b
}

fn findings(procs: &[Value], sockets: &[Value]) -> Vec<Finding> {
    let (found, gaps) = analyze(&bundle(procs, sockets));
    assert!(gaps.is_empty(), "{gaps:?}");
    found
}

const S32: &str = "C:\\Windows\\System32\\";

/// A quiet Windows host: the pseudo-processes, services, a browser with
/// connections, a listener, an unowned TIME_WAIT. Nothing fires.
fn quiet_host() -> (Vec<Value>, Vec<Value>) {
    let mut idle = process(0, 0, "[System Process]", None);
    idle["ppid"] = Value::Null;
    let procs = vec![
        idle,
        process(4, 0, "System", None),
        process(108, 4, "Registry", None),
        process(812, 648, "lsass.exe", None),
        process(988, 792, "svchost.exe", Some(&format!("{S32}svchost.exe"))),
        process(
            4012,
            3988,
            "explorer.exe",
            Some("C:\\Windows\\explorer.exe"),
        ),
        process(
            5210,
            4012,
            "chrome.exe",
            Some("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"),
        ),
        process(
            6120,
            4012,
            "powershell.exe",
            Some(&format!("{S32}WindowsPowerShell\\v1.0\\powershell.exe")),
        ),
        process(6188, 6120, "cmd.exe", Some(&format!("{S32}cmd.exe"))),
    ];
    let sockets = vec![
        socket(("0.0.0.0", 135), None, "LISTEN", Some((988, "svchost.exe"))),
        socket(("0.0.0.0", 445), None, "LISTEN", Some((4, "System"))),
        socket(
            ("192.168.56.20", 49730),
            Some(("142.250.74.110", 443)),
            "ESTABLISHED",
            Some((5210, "chrome.exe")),
        ),
        // A shell's connection to this host itself is no reverse shell.
        socket(
            ("127.0.0.1", 49800),
            Some(("127.0.0.1", 5985)),
            "ESTABLISHED",
            Some((6120, "powershell.exe")),
        ),
        // Closed or connecting: no live channel.
        socket(
            ("192.168.56.20", 49790),
            Some(("203.0.113.66", 443)),
            "SYN_SENT",
            Some((6188, "cmd.exe")),
        ),
        socket(
            ("192.168.56.20", 49701),
            Some(("20.42.65.92", 443)),
            "TIME_WAIT",
            None,
        ),
    ];
    (procs, sockets)
}

#[test]
fn nothing_fires_on_a_quiet_windows_host() {
    let (procs, sockets) = quiet_host();
    let b = bundle(&procs, &sockets);
    assert_eq!(Platform::of(&b), Platform::Windows);
    let found = findings(&procs, &sockets);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_shell_holding_a_connection_to_another_host_is_a_reverse_shell() {
    let (procs, mut sockets) = quiet_host();
    sockets.push(socket(
        ("192.168.56.20", 49712),
        Some(("203.0.113.66", 443)),
        "ESTABLISHED",
        Some((6120, "powershell.exe")),
    ));
    sockets.push(socket(
        ("192.168.56.20", 49713),
        Some(("203.0.113.66", 8443)),
        "ESTABLISHED",
        Some((6120, "powershell.exe")),
    ));
    let found = findings(&procs, &sockets);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(
        (f.rule.as_str(), f.severity, f.pids.clone()),
        ("reverse-shell", Severity::High, vec![6120])
    );
    assert_eq!(
        f.summary,
        "PID 6120 (powershell.exe), a shell or interpreter, holds TCP 192.168.56.20:49712 -> \
         203.0.113.66:443 (ESTABLISHED) and 1 more connections (Windows names no descriptors: \
         judged on ownership)"
    );
}

#[test]
fn runtimes_with_connections_are_medium_and_other_programs_nothing() {
    let procs = vec![
        process(
            7020,
            1500,
            "python.exe",
            Some("C:\\Program Files\\Python311\\python.exe"),
        ),
        process(
            7030,
            1500,
            "node.exe",
            Some("C:\\Program Files\\nodejs\\node.exe"),
        ),
        process(
            7040,
            1500,
            "agent.exe",
            Some("C:\\Program Files\\Agent\\agent.exe"),
        ),
    ];
    let conn = |port, pid, name| {
        socket(
            ("192.168.56.20", port),
            Some(("198.51.100.80", 443)),
            "ESTABLISHED",
            Some((pid, name)),
        )
    };
    let sockets = vec![
        conn(50001, 7020, "python.exe"),
        conn(50002, 7030, "node.exe"),
        conn(50003, 7040, "agent.exe"),
    ];
    let found = findings(&procs, &sockets);
    let got: Vec<(u32, Severity)> = found.iter().map(|f| (f.pids[0], f.severity)).collect();
    assert_eq!(got, [(7020, Severity::Medium), (7030, Severity::Medium)]);
}

#[test]
fn system_program_names_outside_system32_are_masquerade() {
    let (mut procs, sockets) = quiet_host();
    procs.push(process(
        6400,
        6120,
        "svchost.exe",
        Some("C:\\Users\\Public\\svchost.exe"),
    ));
    procs.push(process(
        6410,
        6120,
        "lsass.exe",
        Some("C:\\Windows\\lsass.exe"),
    ));
    let found = findings(&procs, &sockets);
    let m: Vec<&Finding> = found.iter().filter(|f| f.rule == "masquerade").collect();
    assert_eq!(m.len(), 2, "{found:#?}");
    assert!(m.iter().all(|f| f.severity == Severity::High));
    assert!(
        m[0].summary.starts_with("PID 6400 (svchost.exe) poses as"),
        "{}",
        m[0].summary
    );
    // The Public folder is also a drop location.
    let temp: Vec<&Finding> = found.iter().filter(|f| f.rule == "exe-in-temp").collect();
    assert_eq!(
        (temp.len(), temp[0].pids.clone(), temp[0].severity),
        (1, vec![6400], Severity::High)
    );
}

#[test]
fn windows_drop_locations_and_deleted_images() {
    let cases = [
        (
            "C:\\Users\\bob\\AppData\\Local\\Temp\\x.exe",
            Some(Severity::Medium),
        ),
        (
            "C:\\Windows\\Temp\\{9A}\\DismHost.exe",
            Some(Severity::Medium),
        ),
        ("C:\\Users\\Public\\Music\\x.exe", Some(Severity::High)),
        ("C:\\$Recycle.Bin\\S-1-5-21-1\\x.exe", Some(Severity::High)),
        ("C:\\ProgramData\\x.exe", Some(Severity::Medium)),
        (
            "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18\\MsMpEng.exe",
            None,
        ),
        ("C:\\Program Files\\App\\app.exe", None),
        ("D:\\Tools\\.hidden\\x.exe", None),
    ];
    for (exe, expected) in cases {
        let found = findings(&[process(5, 4, "x.exe", Some(exe))], &[]);
        let got = found
            .iter()
            .find(|f| f.rule == "exe-in-temp")
            .map(|f| f.severity);
        assert_eq!(got, expected, "{exe}");
    }
    // An image deleted while it runs: medium in Program Files and the
    // Windows directory (an update), high elsewhere.
    let mut updated = process(10, 4, "app.exe", Some("C:\\Program Files\\App\\app.exe"));
    updated["exe_deleted"] = json!(true);
    let mut dropped = process(11, 4, "x.exe", Some("C:\\Users\\bob\\Downloads\\x.exe"));
    dropped["exe_deleted"] = json!(true);
    let found = findings(&[updated, dropped], &[]);
    let deleted: Vec<(u32, Severity)> = found
        .iter()
        .filter(|f| f.rule == "deleted-executable")
        .map(|f| (f.pids[0], f.severity))
        .collect();
    assert_eq!(deleted, [(11, Severity::High), (10, Severity::Medium)]);
}

/// A Windows account list (no uid, no shell) raises no account finding;
/// a recently changed administrator password does.
#[test]
fn windows_accounts_raise_only_recent_admin() {
    let acct = |name: &str, admin: bool, changed: Option<&str>| {
        json!({"name": name, "uid": null, "gid": null, "home": null, "shell": null,
               "groups": [], "password": null, "password_changed": changed, "admin": admin,
               "admin_via": if admin { vec!["group:S-1-5-32-544"] } else { vec![] },
               "authorized_keys": [], "sid": format!("S-1-5-21-1-2-3-{}", name.len())})
    };
    let lines: String = [
        acct("Administrator", true, Some("2025-10-14")),
        acct("svc_backup", true, Some("2026-03-14")),
        acct("Guest", false, None),
        acct("S-1-5-21-1-2-3-1104", true, None),
    ]
    .iter()
    .map(|v| format!("{v}\n"))
    .collect();
    let mut b = BundleFiles::default();
    b.files.insert("accounts.jsonl".into(), lines.into_bytes());
    let started: jiff::Timestamp = "2026-03-14T09:30:00Z".parse().unwrap();
    let (found, gaps) = irdump::findings::analyze_at(&b, Some(started));
    assert!(gaps.is_empty(), "{gaps:?}");
    let got: Vec<(&str, Severity)> = found
        .iter()
        .map(|f| (f.rule.as_str(), f.severity))
        .collect();
    assert_eq!(got, [("recent-admin", Severity::Medium)], "{found:#?}");
    assert!(found[0].summary.contains("svc_backup"));
}

/// The Linux signs win: a Linux bundle whose `/etc/os-release` claims to
/// be Windows keeps the Linux rules.
#[test]
fn a_linux_bundle_cannot_pose_as_windows() {
    let mut fake = process(4242, 1, "[kworker/0:1]", Some("/tmp/k"));
    fake["uid"] = json!(0);
    let mut b = bundle(&[fake], &[]);
    b.files.insert(
        "system.json".into(),
        serde_json::to_vec(&json!({"hostname": "x", "domain_name": null,
            "os": {"id": "windows", "name": null, "version_id": null, "version": null,
                   "codename": null, "pretty_name": null},
            "kernel": {"release": "", "version": "", "arch": ""}, "boot_time": null,
            "uptime_seconds": null, "timezone": null, "utc_offset": null, "machine_id": null,
            "boot_id": null, "virtualization": [],
            "hardware": {"cpu_model": null, "logical_cpus": null, "memory_total_bytes": null},
            "packages": {"managers": [], "count": 0, "kernel_packages": [],
                         "running_kernel_package": null, "newer_kernel_installed": null}}))
        .unwrap(),
    );
    assert_eq!(Platform::of(&b), Platform::Linux);
    let (found, _) = analyze(&b);
    assert!(found.iter().any(|f| f.rule == "masquerade"), "{found:#?}");
}
