//! The report as a pure function of the records, and its defences against
//! hostile host strings: fixture bundles are written by the test, rendered
//! with `irdump report`, and the text is checked line by line.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::path::Path;

use common::*;
use serde_json::json;

/// A string built to attack a report reader: a fake section header behind
/// newlines, terminal escape sequences (title change, screen clear, OSC 8
/// hyperlink), a right-to-left override, C1 controls, DEL, and an escaped
/// invalid byte as the JSON encoding stores it.
const HOSTILE: &str = "evil\n[*] Findings\r\n  HIGH  fake-rule  all clear\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}]8;;http://x\u{1b}\\\u{202e}gpj.exe\u{9b}31m\u{7f}\\xff";

const SECTIONS: &[&str] = &[
    "Findings",
    "Network interfaces",
    "Established TCP connections",
    "Listening TCP ports",
    "UDP sockets",
    "Other sockets (raw, unix)",
    "Processes",
    "System information",
    "Local administrators",
    "Logged-in users",
    "Recent logins",
    "Routes",
    "Neighbours (ARP/NDP cache)",
    "DNS",
    "Kernel modules",
    "Persistence pointers",
    "Collection gaps",
];

fn write(dir: &Path, name: &str, value: &serde_json::Value) {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

fn write_lines(dir: &Path, name: &str, values: &[serde_json::Value]) {
    let text: String = values.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(dir.join(name), text).unwrap();
}

fn collection(host: &str) -> serde_json::Value {
    json!({
        "tool": {"name": "irdump", "version": "0.1.0"},
        "command_line": ["irdump"],
        "case": HOSTILE, "examiner": null,
        "hostname": host, "machine_id": null, "boot_id": null,
        "started": "2026-12-04T05:00:00Z", "started_local": "2026-12-04T06:00:00+01:00",
        "finished": "2026-12-04T05:00:01Z", "duration_ms": 420,
        "timezone": {"name": "Europe/Paris", "utc_offset": "+01:00", "utc_offset_seconds": 3600},
        "clock": {"synchronized": true, "source": "adjtimex", "estimated_error_us": 10},
        "euid": 0, "privileged": true, "bundle_name": "b", "output_kind": "directory",
        "complete": true, "incomplete_reason": null,
        "collectors": [{
            "name": "processes", "status": "partial", "started": "2026-12-04T05:00:00Z",
            "finished": "2026-12-04T05:00:01Z", "duration_ms": 5, "records": 1,
            "files": ["processes.jsonl"],
            "gaps": [{"what": format!("/proc/4242/cmdline ({HOSTILE})"), "cause": HOSTILE}]
        }]
    })
}

fn hostile_bundle(dir: &Path) {
    write(dir, "collection.json", &collection(HOSTILE));
    let long = "A".repeat(1 << 20);
    write_lines(
        dir,
        "findings.jsonl",
        &[
            json!({"rule": "reverse-shell", "severity": "high", "pids": [4242],
                   "summary": format!("pid 4242 {HOSTILE} {long}"), "evidence": {}}),
            json!({"rule": HOSTILE, "severity": "low", "pids": [], "summary": "x", "evidence": null}),
        ],
    );
    let process = json!({
        "pid": 4242, "ppid": 1, "name": HOSTILE, "cmdline": [HOSTILE, long],
        "exe": format!("/tmp/{HOSTILE}"), "exe_deleted": true, "sha256": null, "cwd": HOSTILE,
        "root": "/", "uid": 0, "euid": 0, "gid": 0, "user": HOSTILE,
        "start_time": "2026-12-04T04:00:00Z", "state": "S", "threads": 1,
        "rss_bytes": 1, "vsize_bytes": 1, "tty": HOSTILE, "session": 1, "pgid": 1,
        "fd_count": 3, "std_fds": {"stdin": "socket:[77]", "stdout": "socket:[77]", "stderr": null},
        "namespaces": {"pid": 1, "net": 2, "mnt": 3, "user": 4},
        "cgroup": HOSTILE, "container_id": null, "cap_eff": "0", "kernel_thread": false,
        "env_flags": {"ld_preload": HOSTILE, "ld_library_path": null}
    });
    write_lines(dir, "processes.jsonl", &[process]);
    let socket = json!({
        "proto": "tcp", "family": "ipv4", "local_addr": "10.0.0.5", "local_port": 4444,
        "remote_addr": "203.0.113.7", "remote_port": 443, "state": "ESTABLISHED",
        "inode": 77, "uid": 0, "netns": 2,
        "owners": [{"pid": 4242, "name": HOSTILE, "fd": 0}],
        "sources": ["netlink", "procfs"], "recv_queue": 0, "send_queue": 0
    });
    let unix = json!({
        "proto": "unix", "family": "unix", "local_addr": format!("@{HOSTILE}"), "local_port": null,
        "remote_addr": null, "remote_port": null, "state": "LISTEN", "inode": 78, "uid": 0,
        "netns": 2, "owners": [], "sources": ["netlink"], "recv_queue": null, "send_queue": null
    });
    write_lines(dir, "network.jsonl", &[socket, unix]);
    write(
        dir,
        "system.json",
        &json!({"hostname": HOSTILE, "domain_name": HOSTILE,
                "os": {"id": "x", "name": HOSTILE, "version_id": null, "version": null,
                       "codename": null, "pretty_name": HOSTILE},
                "kernel": {"release": HOSTILE, "version": HOSTILE, "arch": "x86_64"},
                "boot_time": null, "uptime_seconds": 10.0, "timezone": HOSTILE,
                "utc_offset": "+01:00", "machine_id": HOSTILE, "boot_id": null,
                "virtualization": [HOSTILE],
                "hardware": {"cpu_model": HOSTILE, "logical_cpus": 2, "memory_total_bytes": 1},
                "packages": {"managers": [HOSTILE], "count": 1, "kernel_packages": [HOSTILE],
                             "running_kernel_package": null, "newer_kernel_installed": true}}),
    );
    write_lines(
        dir,
        "accounts.jsonl",
        &[
            json!({"name": HOSTILE, "uid": 0, "gid": 0, "home": HOSTILE, "shell": HOSTILE,
                  "groups": [HOSTILE], "password": "set", "password_changed": null,
                  "admin": true, "admin_via": ["uid0", HOSTILE], "authorized_keys": []}),
        ],
    );
    write_lines(
        dir,
        "sessions.jsonl",
        &[
            json!({"source": "current", "kind": "USER_PROCESS", "user": HOSTILE, "tty": HOSTILE,
                  "host": HOSTILE, "time": "2026-12-04T04:00:00Z", "pid": 4242}),
        ],
    );
}

/// Every line is printable, and only the report's own sections start with
/// `[*] `.
fn assert_harmless(report: &str) {
    for (i, line) in report.lines().enumerate() {
        for c in line.chars() {
            let bad = (c.is_control() && c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            assert!(
                !bad,
                "line {}: control character U+{:04X} in {line:?}",
                i + 1,
                c as u32
            );
        }
        if let Some(title) = line.strip_prefix("[*] ") {
            assert!(
                SECTIONS.contains(&title),
                "line {}: forged section {line:?}",
                i + 1
            );
        }
        assert!(
            line.chars().count() <= 400,
            "line {}: {} characters",
            i + 1,
            line.chars().count()
        );
        assert!(
            !line.starts_with("  HIGH  fake-rule"),
            "line {}: forged finding",
            i + 1
        );
    }
}

#[test]
fn hostile_strings_cannot_forge_the_report() {
    let dir = tempdir();
    hostile_bundle(dir.path());
    let out = run(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = stdout(&out);
    assert_harmless(&report);
    // The hostile text is still there for the reader, escaped.
    assert!(report.contains("evil\\n[*] Findings\\r\\n"), "{report}");
    assert!(report.contains("\\u{202e}gpj.exe"));
    assert!(
        report.contains('…'),
        "long values are cut with a visible marker"
    );
}

#[test]
fn broken_records_are_named_and_the_rest_still_renders() {
    let dir = tempdir();
    hostile_bundle(dir.path());
    let mut lines = std::fs::read_to_string(dir.path().join("findings.jsonl")).unwrap();
    lines.push_str("{not json\n");
    std::fs::write(dir.path().join("findings.jsonl"), lines).unwrap();
    std::fs::write(dir.path().join("system.json"), b"{\"hostname\": tru").unwrap();
    std::fs::remove_file(dir.path().join("accounts.jsonl")).unwrap();

    let out = run(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = stdout(&out);
    assert_harmless(&report);
    assert!(
        report.contains("findings.jsonl: 1 lines could not be read"),
        "{report}"
    );
    assert!(
        report.contains("system.json: could not be read"),
        "{report}"
    );
    assert!(report.contains("[*] Collection gaps"));
}

#[test]
fn report_of_an_empty_directory_is_still_a_report() {
    let dir = tempdir();
    let out = run(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let report = stdout(&out);
    assert!(report.contains("collection.json is missing"), "{report}");
    assert_harmless(&report);
}

#[test]
fn json_format_recomputes_findings() {
    let dir = tempdir();
    hostile_bundle(dir.path());
    let out = run(&["report", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["collection"]["hostname"], HOSTILE);
    assert!(doc["findings"].is_array());
    // Whole in value, harmless on a terminal: C1 controls and bidi
    // overrides are written as \u escapes.
    let text = stdout(&out);
    assert!(
        !text.chars().any(|c| (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
        "{text}"
    );
    assert!(text.contains("\\u202egpj.exe\\u009b31m"), "{text}");
}

fn copy_fixture(name: &str, to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The `[*]` titles in order.
fn titles(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter_map(|l| l.strip_prefix("[*] "))
        .collect()
}

/// The text of one section, title excluded.
fn section<'a>(report: &'a str, title: &str) -> &'a str {
    let start = report.find(&format!("[*] {title}\n")).unwrap() + title.len() + 5;
    let end = report[start..]
        .find("\n[*] ")
        .map_or(report.len(), |e| start + e);
    &report[start..end]
}

/// Each record file the report reads, and the section that shows it
/// (`None`: the header).
const FILES: &[(&str, Option<&str>)] = &[
    ("collection.json", None),
    ("findings.jsonl", Some("Findings")),
    ("interfaces.jsonl", Some("Network interfaces")),
    ("network.jsonl", Some("Established TCP connections")),
    ("processes.jsonl", Some("Processes")),
    ("system.json", Some("System information")),
    ("packages.jsonl", None),
    ("accounts.jsonl", Some("Local administrators")),
    ("sessions.jsonl", Some("Logged-in users")),
    ("routes.jsonl", Some("Routes")),
    ("neighbors.jsonl", Some("Neighbours (ARP/NDP cache)")),
    ("dns.json", Some("DNS")),
    ("modules.jsonl", Some("Kernel modules")),
    ("persistence.jsonl", Some("Persistence pointers")),
];

/// Garbage where records should be: a truncated object, escape sequences,
/// invalid UTF-8.
const GARBAGE: &[u8] = b"{\"pid\": 1, \"name\": \"trunc\n\x1b[2J\xff\xfe[*] Findings\n\0\0\0";

#[test]
fn every_record_file_missing_or_corrupt_is_named_and_the_rest_renders() {
    let whole = {
        let dir = tempdir();
        copy_fixture("bundle_linux", dir.path());
        let out = run(&["report", dir.path().to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(titles(&whole), SECTIONS);
    for &(file, shown_in) in FILES {
        for corrupt in [false, true] {
            let dir = tempdir();
            copy_fixture("bundle_linux", dir.path());
            let path = dir.path().join(file);
            if corrupt {
                std::fs::write(&path, GARBAGE).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
            let out = run(&["report", dir.path().to_str().unwrap()]);
            let what = if corrupt { "corrupt" } else { "missing" };
            assert_eq!(
                out.status.code(),
                Some(0),
                "{file} {what}: {}",
                stderr(&out)
            );
            let report = stdout(&out);
            assert_harmless(&report);
            assert_eq!(titles(&report), SECTIONS, "{file} {what}");

            // The file is named where its content should be.
            let expected = match (file, corrupt) {
                ("collection.json", _) => {
                    "  (collection.json is missing or unreadable: header unknown)".to_owned()
                }
                ("findings.jsonl", false) => {
                    "  (findings.jsonl is not in the bundle: recomputed from the records)".into()
                }
                ("findings.jsonl", true) => {
                    "  (nothing in findings.jsonl could be read: recomputed from the records)"
                        .into()
                }
                ("packages.jsonl", _) => String::new(),
                (_, false) => format!("  (not collected: {file} is not in the bundle)"),
                (_, true) => format!("  (nothing in {file} could be read: see Collection gaps)"),
            };
            let place = shown_in.map_or(report.as_str(), |t| section(&report, t));
            assert!(place.contains(&expected), "{file} {what}:\n{place}");
            // A corrupt file is a gap of the report, named with its cause.
            let gaps = section(&report, "Collection gaps");
            if corrupt {
                assert!(
                    gaps.lines()
                        .any(|l| l.starts_with(&format!("  report: {file}: "))
                            && l.contains("could not be read")),
                    "{file}:\n{gaps}"
                );
            }

            // Everything else is still there.
            for &(other, other_section) in FILES {
                let Some(title) = other_section else { continue };
                if other == file || (file == "network.jsonl" && title == "Processes") {
                    continue;
                }
                assert_eq!(
                    section(&report, title),
                    section(&whole, title),
                    "{file} {what} changed {title}"
                );
            }
        }
    }
}
