//! The `sessions` collector on utmp, wtmp and btmp files the tests write
//! themselves (records encoded here, independently of irdump's parser, and
//! records written by util-linux `utmpdump -r`), read through `--root`;
//! logind session files; truncated records and FIFOs planted where a file
//! should be.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

/// One glibc x86_64 `struct utmp` (384 bytes), laid out by hand from
/// `<bits/utmp.h>`.
struct Ut<'a> {
    kind: i16,
    pid: i32,
    line: &'a str,
    id: &'a str,
    user: &'a str,
    host: &'a str,
    session: i32,
    seconds: u32,
    micros: i32,
    addr: [u8; 16],
}

impl Default for Ut<'_> {
    fn default() -> Self {
        Ut {
            kind: 7,
            pid: 0,
            line: "",
            id: "",
            user: "",
            host: "",
            session: 0,
            seconds: 0,
            micros: 0,
            addr: [0; 16],
        }
    }
}

fn put(buf: &mut [u8], at: usize, len: usize, s: &[u8]) {
    let n = s.len().min(len);
    buf[at..at + n].copy_from_slice(&s[..n]);
}

fn encode(u: &Ut<'_>) -> Vec<u8> {
    let mut b = vec![0u8; 384];
    b[0..2].copy_from_slice(&u.kind.to_le_bytes());
    b[4..8].copy_from_slice(&u.pid.to_le_bytes());
    put(&mut b, 8, 32, u.line.as_bytes());
    put(&mut b, 40, 4, u.id.as_bytes());
    put(&mut b, 44, 32, u.user.as_bytes());
    put(&mut b, 76, 256, u.host.as_bytes());
    b[336..340].copy_from_slice(&u.session.to_le_bytes());
    b[340..344].copy_from_slice(&u.seconds.to_le_bytes());
    b[344..348].copy_from_slice(&u.micros.to_le_bytes());
    b[348..364].copy_from_slice(&u.addr);
    b
}

const BASE: u32 = 1_780_000_000; // 2026-05-28T20:26:40Z

fn ipv4(a: [u8; 4]) -> [u8; 16] {
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&a);
    addr
}

fn gaps(bundle: &Path) -> Vec<(String, String)> {
    let c = json(bundle, "collection.json");
    c["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "sessions")
        .unwrap()["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["what"].as_str().unwrap().into(),
                g["cause"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

#[test]
fn written_utmp_wtmp_btmp_and_logind_files_are_read() {
    let dir = tempdir();
    let root = dir.path().join("root");
    for d in ["run/systemd/sessions", "var/log"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }

    let mut utmp = Vec::new();
    utmp.extend(encode(&Ut {
        kind: 2,
        line: "~",
        id: "~~",
        user: "reboot",
        host: "6.1.0-28-amd64",
        seconds: BASE,
        ..Ut::default()
    }));
    utmp.extend(encode(&Ut {
        kind: 6,
        pid: 610,
        line: "tty1",
        id: "tty1",
        user: "LOGIN",
        seconds: BASE + 5,
        ..Ut::default()
    }));
    utmp.extend(encode(&Ut {
        kind: 7,
        pid: 4242,
        line: "pts/0",
        id: "ts/0",
        user: "alice",
        host: "203.0.113.7",
        session: 4242,
        seconds: BASE + 100,
        micros: 250_000,
        addr: ipv4([203, 0, 113, 7]),
    }));
    utmp.extend(encode(&Ut {
        kind: 7,
        pid: 4343,
        line: "pts/1",
        user: "evil\n[*] Findings",
        host: "x",
        seconds: BASE + 200,
        ..Ut::default()
    }));
    utmp.extend(encode(&Ut {
        kind: 8,
        pid: 4000,
        line: "pts/2",
        seconds: BASE + 300,
        ..Ut::default()
    }));
    std::fs::write(root.join("run/utmp"), &utmp).unwrap();

    let mut wtmp = Vec::new();
    for i in 0..250u32 {
        wtmp.extend(encode(&Ut {
            pid: 1000 + i as i32,
            line: "pts/3",
            user: &format!("u{i}"),
            host: "198.51.100.9",
            seconds: BASE + i * 60,
            ..Ut::default()
        }));
    }
    wtmp.extend([0x55u8; 100]); // a record cut mid-write
    std::fs::write(root.join("var/log/wtmp"), &wtmp).unwrap();

    let mut btmp = Vec::new();
    for (i, user) in ["admin", "oracle", "root"].iter().enumerate() {
        btmp.extend(encode(&Ut {
            kind: 6,
            pid: 9000 + i as i32,
            line: "ssh:notty",
            user,
            host: "192.0.2.66",
            seconds: BASE + 1000 + i as u32,
            ..Ut::default()
        }));
    }
    std::fs::write(root.join("var/log/btmp"), &btmp).unwrap();

    std::fs::write(
        root.join("run/systemd/sessions/7"),
        "# This is private data. Do not parse.\nUID=1000\nUSER=alice\nACTIVE=1\nSTATE=active\nREMOTE=1\nTYPE=tty\nCLASS=user\nTTY=pts/0\nSERVICE=sshd\nLEADER=4242\nREMOTE_HOST=203.0.113.7\nREALTIME=1780000100250000\n",
    )
    .unwrap();
    mkfifo(&root.join("run/systemd/sessions/7.ref"));
    mkfifo(&root.join("run/systemd/sessions/9"));

    let (bundle, out) = collect_into(
        dir.path(),
        &["--root", root.to_str().unwrap(), "--only", "sessions"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records = jsonl(&bundle, "sessions.jsonl");
    let of = |source: &str| -> Vec<&Value> {
        records.iter().filter(|r| r["source"] == source).collect()
    };

    let current = of("current");
    assert_eq!(current.len(), 5);
    let kinds: Vec<&str> = current
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "BOOT_TIME",
            "LOGIN_PROCESS",
            "USER_PROCESS",
            "USER_PROCESS",
            "DEAD_PROCESS"
        ]
    );
    let alice = current[2];
    assert_eq!(alice["user"], "alice");
    assert_eq!(alice["tty"], "pts/0");
    assert_eq!(alice["host"], "203.0.113.7");
    assert_eq!(alice["addr"], "203.0.113.7");
    assert_eq!(alice["pid"], 4242);
    assert_eq!(alice["session"], 4242);
    assert_eq!(alice["line_id"], "ts/0");
    assert_eq!(alice["time"], "2026-05-28T20:28:20.25Z");
    assert_eq!(alice["file"], "/run/utmp");
    assert_eq!(
        current[3]["user"], "evil\n[*] Findings",
        "JSON keeps the value whole"
    );

    let recent = of("recent");
    assert_eq!(recent.len(), 200, "the newest 200 wtmp records");
    assert_eq!(recent[0]["user"], "u249", "newest first");
    assert_eq!(recent[0]["index"], 249);
    assert_eq!(recent[199]["user"], "u50");
    let failed = of("failed");
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0]["user"], "root");
    assert_eq!(failed[0]["host"], "192.0.2.66");

    let logind = of("logind");
    assert_eq!(logind.len(), 1, "{logind:#?}");
    assert_eq!(logind[0]["user"], "alice");
    assert_eq!(logind[0]["pid"], 4242);
    assert_eq!(logind[0]["host"], "203.0.113.7");

    let gaps = gaps(&bundle);
    let truncated = gaps
        .iter()
        .find(|g| g.0 == "/var/log/wtmp (last record)")
        .unwrap();
    assert!(truncated.1.contains("100 of 384"), "{truncated:?}");
    let fifo = gaps
        .iter()
        .find(|g| g.0 == "/run/systemd/sessions/9")
        .unwrap();
    assert!(fifo.1.contains("not a regular file"), "{fifo:?}");

    let report = std::fs::read_to_string(bundle.join("report.txt")).unwrap();
    let logged_in = report
        .split("[*] Logged-in users")
        .nth(1)
        .unwrap()
        .split("[*] Recent logins")
        .next()
        .unwrap();
    assert!(logged_in.contains("alice"));
    assert!(
        logged_in.contains("evil\\n[*] Findings"),
        "escaped:\n{logged_in}"
    );
    assert!(!report.contains("\n[*] Findings\n  x"), "no forged section");
    assert!(
        report.contains("newest 200 of 250 records in /var/log/wtmp"),
        "{report}"
    );
    let failed_section = report.split("Failed logins:").nth(1).unwrap();
    let root_row = failed_section.lines().find(|l| l.contains("root")).unwrap();
    assert!(
        root_row.trim_start().starts_with("failed"),
        "{failed_section}"
    );
    assert!(root_row.contains("192.0.2.66"));
}

/// A wtmp file written by `utmpdump -r` (util-linux) is read as
/// `utmpdump` reads it back, field for field.
#[test]
fn utmpdump_is_an_oracle_both_ways() {
    let dir = tempdir();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("var/log")).unwrap();
    let text = "\
[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0-28-amd64      ] [0.0.0.0        ] [2026-12-01T08:00:00,000000+00:00]
[7] [01234] [ts/0] [alice   ] [pts/0       ] [203.0.113.7         ] [203.0.113.7    ] [2026-12-01T09:10:11,123456+00:00]
[7] [02345] [ts/1] [bob     ] [pts/1       ] [2001:db8::7         ] [2001:db8::7    ] [2026-12-01T10:00:00,000000+00:00]
[8] [01234] [ts/0] [        ] [pts/0       ] [                    ] [0.0.0.0        ] [2026-12-01T11:00:00,000000+00:00]
";
    let wtmp = root.join("var/log/wtmp");
    let mut child = Command::new("utmpdump")
        .arg("-r")
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&wtmp).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert_eq!(std::fs::metadata(&wtmp).unwrap().len(), 4 * 384);

    let (bundle, out) = collect_into(
        dir.path(),
        &["--root", root.to_str().unwrap(), "--only", "sessions"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut ours: Vec<Value> = jsonl(&bundle, "sessions.jsonl");
    ours.reverse(); // file order, as utmpdump prints

    let dumped = Command::new("utmpdump")
        .arg(&wtmp)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let dumped = String::from_utf8(dumped.stdout).unwrap();
    let lines: Vec<&str> = dumped.lines().collect();
    assert_eq!(lines.len(), ours.len());
    for (line, rec) in lines.iter().zip(&ours) {
        let f: Vec<&str> = line
            .split("] [")
            .map(|s| s.trim_matches(|c| c == '[' || c == ']').trim())
            .collect();
        let kind = match f[0] {
            "2" => "BOOT_TIME",
            "7" => "USER_PROCESS",
            "8" => "DEAD_PROCESS",
            other => panic!("type {other}"),
        };
        assert_eq!(rec["kind"], kind, "{line}");
        let opt = |s: &str| {
            if s.is_empty() {
                Value::Null
            } else {
                Value::from(s)
            }
        };
        assert_eq!(
            rec["pid"],
            f[1].parse::<u32>()
                .ok()
                .filter(|&p| p != 0)
                .map_or(Value::Null, Value::from),
            "{line}"
        );
        // `utmpdump -r` stores the id padded with spaces, as typed.
        let id = rec["line_id"]
            .as_str()
            .map(str::trim_end)
            .unwrap_or_default();
        assert_eq!(id, f[2], "{line}");
        assert_eq!(rec["user"], opt(f[3]), "{line}");
        assert_eq!(rec["tty"], opt(f[4]), "{line}");
        assert_eq!(rec["host"], opt(f[5]), "{line}");
        let addr = if f[6] == "0.0.0.0" {
            Value::Null
        } else {
            Value::from(f[6])
        };
        assert_eq!(rec["addr"], addr, "{line}");
        let t: jiff::Timestamp = f[7].replace(',', ".").parse().unwrap();
        let ours_t: jiff::Timestamp = rec["time"].as_str().unwrap().parse().unwrap();
        assert_eq!(ours_t, t, "{line}");
    }
}

#[test]
fn absent_files_are_no_gap_and_a_fifo_cannot_hang_the_collector() {
    let dir = tempdir();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("var/log")).unwrap();
    std::fs::create_dir_all(root.join("run")).unwrap();
    let (bundle, out) = collect_into(
        dir.path(),
        &["--root", root.to_str().unwrap(), "--only", "sessions"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(jsonl(&bundle, "sessions.jsonl").is_empty());

    mkfifo(&root.join("var/log/wtmp"));
    let dir2 = tempdir();
    let (bundle, out) = collect_into(
        dir2.path(),
        &[
            "--root",
            root.to_str().unwrap(),
            "--only",
            "sessions",
            "--timeout",
            "5",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let g = gaps(&bundle);
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].0, "/var/log/wtmp");
    assert!(g[0].1.contains("not a regular file"));
}
