//! The `accounts` collector on fixture trees read through `--root`
//! (passwd, shadow, group, a sudoers tree with includes, aliases, a
//! malformed line and an include loop, `sshd_config` with an `Include`,
//! keys made by `ssh-keygen`), on the live host against `getent` and `id`,
//! and, as root, with a sudo member and a second uid-0 account planted by
//! `useradd` and removed afterwards.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use common::*;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies a fixture tree to `dst` (a fresh directory), so the test can set
/// mtimes and add files without touching the repository.
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

fn set_mtime(path: &Path, t: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// Sets every regular file under `dir` to `t`.
fn age_tree(dir: &Path, t: SystemTime) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            age_tree(&entry.path(), t);
        } else if kind.is_file() {
            set_mtime(&entry.path(), t);
        }
    }
}

/// A key made by `ssh-keygen`, and what `ssh-keygen -lf` says of it.
struct Key {
    line: String,
    bits: u64,
    fingerprint: String,
}

fn keygen(dir: &Path, name: &str, kind: &str, bits: Option<&str>) -> Key {
    let file = dir.join(name);
    let mut c = Command::new("ssh-keygen");
    c.args(["-q", "-N", "", "-t", kind, "-C", name, "-f"])
        .arg(&file);
    if let Some(b) = bits {
        c.args(["-b", b]);
    }
    assert!(c.status().unwrap().success());
    let pubfile = file.with_extension("pub");
    let listed = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&pubfile)
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    let mut f = listed.split_whitespace();
    Key {
        line: std::fs::read_to_string(&pubfile).unwrap().trim().to_owned(),
        bits: f.next().unwrap().parse().unwrap(),
        fingerprint: f.next().unwrap().to_owned(),
    }
}

fn by_name<'a>(records: &'a [Value], name: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no account {name}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The line number of the first line of `file` that starts with `prefix`.
fn line_of(file: &Path, prefix: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.starts_with(prefix))
        .unwrap()
        + 1
}

fn gaps_of(bundle: &Path, collector: &str) -> Vec<(String, String)> {
    let c = json(bundle, "collection.json");
    let run = c["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == collector)
        .unwrap()
        .clone();
    run["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["what"].as_str().unwrap().to_owned(),
                g["cause"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn sudoers_fixture_tree_gives_every_admin_reason() {
    let dir = tempdir();
    let root = dir.path().join("root");
    copy_tree(&fixture("root_debian12_sudoers"), &root);
    let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_836_800); // 2020-01-01
    age_tree(&root, long_ago);
    set_mtime(
        &root.join("etc/sudoers.d/10-operators"),
        SystemTime::now() - Duration::from_secs(86_400),
    );

    // Keys: alice's in her home (with options and a broken line), bob's in
    // the central directory sshd_config.d names.
    let keys_dir = dir.path().join("keys");
    std::fs::create_dir(&keys_dir).unwrap();
    let ed = keygen(&keys_dir, "alice-ed25519", "ed25519", None);
    let rsa = keygen(&keys_dir, "alice-rsa", "rsa", Some("3072"));
    let ec = keygen(&keys_dir, "bob-ecdsa", "ecdsa", Some("384"));
    std::fs::create_dir_all(root.join("home/alice/.ssh")).unwrap();
    std::fs::write(
        root.join("home/alice/.ssh/authorized_keys"),
        format!(
            "# alice's keys\ncommand=\"/usr/bin/rsync --server, -e\",no-pty,from=\"10.0.0.0/8\" {}\n{}\nssh-ed25519 not-base64 broken\n",
            ed.line, rsa.line
        ),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("etc/ssh/keys")).unwrap();
    std::fs::write(root.join("etc/ssh/keys/bob"), format!("{}\n", ec.line)).unwrap();
    set_mtime(&root.join("etc/ssh/keys/bob"), long_ago);

    let (bundle, out) = collect_into(
        dir.path(),
        &["--root", root.to_str().unwrap(), "--only", "accounts"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "gaps expected: {}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(bundle.join("accounts.jsonl")).unwrap();
    assert!(
        !text.contains("notarealhash"),
        "a password hash reached the bundle"
    );
    let accounts = jsonl(&bundle, "accounts.jsonl");
    assert_eq!(
        accounts.len(),
        11,
        "the malformed passwd line is no account"
    );

    let sudoers = root.join("etc/sudoers");
    let root_line = line_of(&sudoers, "root\tALL");
    let sudo_line = line_of(&sudoers, "%sudo\tALL");
    let frank_line = line_of(&root.join("etc/sudoers.local"), "#1005");
    let expect: BTreeMap<&str, Vec<String>> = [
        (
            "root",
            vec!["uid0".into(), format!("sudoers:/etc/sudoers:{root_line}")],
        ),
        ("toor", vec!["uid0".into()]),
        (
            "alice",
            vec![
                "group:sudo".into(),
                format!("sudoers:/etc/sudoers:{sudo_line}"),
            ],
        ),
        ("bob", vec!["group:wheel".into()]),
        (
            "carol",
            vec!["sudoers:/etc/sudoers.d/10-operators:1".into()],
        ),
        (
            "frank",
            vec![format!("sudoers:/etc/sudoers.local:{frank_line}")],
        ),
        ("daemon", vec![]),
        ("dave", vec![]),
        ("eve", vec![]),
        ("nopw", vec![]),
        ("svc", vec![]),
    ]
    .into_iter()
    .collect();
    for (name, via) in &expect {
        let a = by_name(&accounts, name);
        assert_eq!(&strings(&a["admin_via"]), via, "{name}: {a:#}");
        assert_eq!(a["admin"], !via.is_empty(), "{name}");
    }

    assert_eq!(by_name(&accounts, "root")["password"], "set");
    assert_eq!(by_name(&accounts, "bob")["password"], "locked");
    assert_eq!(by_name(&accounts, "nopw")["password"], "empty");
    assert_eq!(by_name(&accounts, "root")["password_changed"], "2023-05-23");
    assert_eq!(strings(&by_name(&accounts, "eve")["groups"]), ["ops"]);
    assert_eq!(by_name(&accounts, "bob")["primary_group"], "wheel");

    let dave = &by_name(&accounts, "dave")["sudo_rules"][0];
    assert_eq!(dave["file"], "/etc/sudoers.local");
    assert_eq!(dave["all_as_root"], false);
    assert_eq!(dave["nopasswd"], true);
    assert_eq!(dave["runas"], "(operator)");
    assert_eq!(
        strings(&dave["commands"]),
        [
            "/usr/bin/systemctl restart nginx",
            "NOPASSWD: /usr/bin/journalctl"
        ]
    );
    let carol = &by_name(&accounts, "carol")["sudo_rules"][0];
    assert_eq!(carol["nopasswd"], true);

    // Keys, compared with `ssh-keygen -lf`.
    let alice_keys = by_name(&accounts, "alice")["authorized_keys"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(alice_keys.len(), 2, "{alice_keys:#?}");
    for (k, want) in alice_keys.iter().zip([&ed, &rsa]) {
        assert_eq!(k["fingerprint"], want.fingerprint.as_str());
        assert_eq!(k["bits"], want.bits);
        assert_eq!(k["file"], "/home/alice/.ssh/authorized_keys");
    }
    assert_eq!(alice_keys[0]["key_type"], "ssh-ed25519");
    assert_eq!(alice_keys[0]["comment"], "alice-ed25519");
    assert_eq!(
        strings(&alice_keys[0]["options"]),
        [
            "command=\"/usr/bin/rsync --server, -e\"",
            "no-pty",
            "from=\"10.0.0.0/8\""
        ]
    );
    let bob_keys = &by_name(&accounts, "bob")["authorized_keys"];
    assert_eq!(bob_keys[0]["fingerprint"], ec.fingerprint.as_str());
    assert_eq!(bob_keys[0]["bits"], 384);
    assert_eq!(bob_keys[0]["file"], "/etc/ssh/keys/bob");

    // Every problem is a gap with its file and line; skipped files are not.
    let gaps = gaps_of(&bundle, "accounts");
    let whats: Vec<&str> = gaps.iter().map(|g| g.0.as_str()).collect();
    for want in [
        "/etc/passwd:12",
        "/etc/sudoers.d/10-operators:2",
        "/etc/sudoers.loop:1",
        "/home/alice/.ssh/authorized_keys:4",
    ] {
        assert!(whats.contains(&want), "no gap for {want}: {gaps:#?}");
    }
    let loop_gap = gaps.iter().find(|g| g.0 == "/etc/sudoers.loop:1").unwrap();
    assert!(loop_gap.1.contains("loop"), "{loop_gap:?}");
    assert!(!whats
        .iter()
        .any(|w| w.contains("skipped.conf") || w.contains("old~")));

    // Findings.
    let findings = jsonl(&bundle, "findings.jsonl");
    let fired =
        |rule: &str| -> Vec<&Value> { findings.iter().filter(|f| f["rule"] == rule).collect() };
    let uid0 = fired("uid0-account");
    assert_eq!(uid0.len(), 1, "{findings:#?}");
    assert_eq!(uid0[0]["severity"], "high");
    assert!(uid0[0]["summary"].as_str().unwrap().contains("toor"));
    let empty = fired("empty-password");
    assert_eq!(empty.len(), 1, "svc has nologin: {findings:#?}");
    assert!(empty[0]["summary"].as_str().unwrap().contains("nopw"));
    let recent: BTreeSet<String> = fired("recent-admin")
        .iter()
        .map(|f| {
            f["evidence"]["account"]["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let want: BTreeSet<String> = ["alice", "carol"].iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        recent, want,
        "fresh key file (alice), fresh sudoers file (carol)"
    );

    // The report names every admin with every reason, one per line.
    let report = std::fs::read_to_string(bundle.join("report.txt")).unwrap();
    let section = report
        .split("[*] Local administrators")
        .nth(1)
        .unwrap()
        .split("\n[*] ")
        .next()
        .unwrap();
    for (name, via) in &expect {
        if via.is_empty() {
            continue;
        }
        assert!(
            section.contains(&format!("  {name} ")),
            "{name} missing:\n{section}"
        );
        for v in via {
            assert!(section.contains(v.as_str()), "{v} missing:\n{section}");
        }
    }
    assert!(section.contains("sudoers:/etc/sudoers.d/10-operators:1 (NOPASSWD)"));
    assert!(
        section.contains("/usr/bin/journalctl"),
        "dave's limited rule:\n{section}"
    );
}

#[test]
fn missing_shadow_group_and_sudoers_are_gaps_not_crashes() {
    let dir = tempdir();
    let root = fixture("root_minimal_container");
    let (bundle, out) = collect_into(
        dir.path(),
        &["--root", root.to_str().unwrap(), "--only", "accounts"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let accounts = jsonl(&bundle, "accounts.jsonl");
    assert_eq!(accounts.len(), 2);
    assert_eq!(by_name(&accounts, "root")["password"], Value::Null);
    assert_eq!(strings(&by_name(&accounts, "root")["admin_via"]), ["uid0"]);
    let whats: Vec<String> = gaps_of(&bundle, "accounts")
        .into_iter()
        .map(|g| g.0)
        .collect();
    assert_eq!(
        whats,
        ["/etc/shadow", "/etc/group"],
        "sudo absent is no gap"
    );
}

#[test]
fn accounts_and_groups_match_getent_and_id() {
    let getent = |db: &str| -> BTreeMap<String, Vec<String>> {
        let out = Command::new("getent").arg(db).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let f: Vec<String> = l.split(':').map(str::to_owned).collect();
                (f[0].clone(), f)
            })
            .collect()
    };
    let before = getent("passwd");
    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "accounts"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let after = getent("passwd");
    let accounts = jsonl(&bundle, "accounts.jsonl");

    // Accounts another test adds or removes meanwhile are left out.
    let stable: Vec<&String> = before
        .keys()
        .filter(|n| after.get(*n) == before.get(*n))
        .collect();
    assert!(stable.len() >= 5, "{stable:?}");
    let mut compared = 0;
    for name in stable {
        let g = &before[name];
        let a = by_name(&accounts, name);
        assert_eq!(a["uid"].as_u64().unwrap().to_string(), g[2], "{name}");
        assert_eq!(a["gid"].as_u64().unwrap().to_string(), g[3], "{name}");
        assert_eq!(a["home"], g[5].as_str(), "{name}");
        assert_eq!(a["shell"], g[6].as_str(), "{name}");

        let id = Command::new("id").args(["-Gn", name]).output().unwrap();
        if !id.status.success() {
            continue; // removed between the snapshots and now
        }
        let from_id: BTreeSet<String> = String::from_utf8_lossy(&id.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let mut ours: BTreeSet<String> = strings(&a["groups"]).into_iter().collect();
        if let Some(p) = a["primary_group"].as_str() {
            ours.insert(p.to_owned());
        }
        assert_eq!(ours, from_id, "{name}");
        compared += 1;
    }
    assert!(compared >= 5);
    let root = by_name(&accounts, "root");
    assert!(strings(&root["admin_via"]).contains(&"uid0".to_owned()));
}

/// Removes the planted accounts even when the test fails.
struct PlantedUsers(Vec<String>);

impl Drop for PlantedUsers {
    fn drop(&mut self) {
        for name in &self.0 {
            // -f: the uid-0 account "is used by" every root process.
            let _ = Command::new("userdel").args(["-f", name]).status();
        }
    }
}

#[test]
fn planted_sudo_member_and_second_root_are_admins() {
    if !is_root() {
        eprintln!("skipped: needs root to add accounts");
        return;
    }
    let pid = std::process::id();
    let member = format!("irdsudo{pid}");
    let second_root = format!("irdroot{pid}");
    let mut guard = PlantedUsers(Vec::new());
    let add = |args: &[&str]| {
        let out = Command::new("useradd").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "useradd {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    add(&[
        "-M",
        "-N",
        "-G",
        "sudo",
        "-d",
        "/nonexistent",
        "-s",
        "/bin/bash",
        &member,
    ]);
    guard.0.push(member.clone());
    let home = format!("/nonexistent-irdump-{pid}");
    add(&[
        "-M",
        "-N",
        "-o",
        "-u",
        "0",
        "-g",
        "0",
        "-d",
        &home,
        "-s",
        "/bin/sh",
        &second_root,
    ]);
    guard.0.push(second_root.clone());

    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "accounts"]);
    drop(guard);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));

    let accounts = jsonl(&bundle, "accounts.jsonl");
    let m = by_name(&accounts, &member);
    assert_eq!(m["admin"], true);
    assert!(
        strings(&m["admin_via"]).contains(&"group:sudo".to_owned()),
        "{m:#}"
    );
    let r = by_name(&accounts, &second_root);
    assert_eq!(r["admin"], true);
    assert_eq!(strings(&r["admin_via"])[0], "uid0", "{r:#}");

    let findings = jsonl(&bundle, "findings.jsonl");
    assert!(
        findings.iter().any(|f| f["rule"] == "uid0-account"
            && f["summary"].as_str().unwrap().contains(&second_root)),
        "{findings:#?}"
    );
    let gone = Command::new("getent")
        .args(["passwd", &second_root])
        .output()
        .unwrap();
    assert!(
        !gone.status.success(),
        "the planted account was not removed"
    );
}

#[test]
fn unreadable_shadow_is_a_gap_for_a_non_root_run() {
    if !is_root() {
        eprintln!("skipped: needs root to run irdump as another user");
        return;
    }
    let dir = tempdir();
    let root = dir.path().join("root");
    copy_tree(&fixture("root_debian12_sudoers"), &root);
    let chmod = |mode: &str, p: &Path| {
        assert!(Command::new("chmod")
            .arg(mode)
            .arg(p)
            .status()
            .unwrap()
            .success());
    };
    chmod("0755", dir.path());
    assert!(Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&root)
        .status()
        .unwrap()
        .success());
    chmod("0600", &root.join("etc/shadow"));
    chmod("0440", &root.join("etc/sudoers"));
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    chmod("0777", &out_dir);

    let bundle = out_dir.join("bundle");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_irdump"))
        .args(["collect", "-q", "-o"])
        .arg(&bundle)
        .arg("--root")
        .arg(&root)
        .args(["--only", "accounts"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let gaps = gaps_of(&bundle, "accounts");
    for file in ["/etc/shadow", "/etc/sudoers"] {
        let g = gaps.iter().find(|g| g.0 == file);
        assert!(
            g.is_some_and(|g| g.1.contains("Permission denied")),
            "{file}: {gaps:#?}"
        );
    }
    let accounts = jsonl(&bundle, "accounts.jsonl");
    assert_eq!(accounts.len(), 11);
    assert_eq!(by_name(&accounts, "root")["password"], Value::Null);
    assert_eq!(
        strings(&by_name(&accounts, "bob")["admin_via"]),
        ["group:wheel"]
    );
}

/// Every parser of the accounts, sessions, modules and persistence
/// collectors takes hostile input: random lines built from the characters
/// their grammars care about (quotes, escapes, separators, multi-byte
/// UTF-8) must never make one panic.
#[test]
fn parsers_survive_hostile_input() {
    use irdump::collectors::{accounts, modules, persistence, sessions};
    const ALPHABET: &[&str] = &[
        "a",
        "Z",
        "0",
        "#",
        "@",
        "%",
        "!",
        "\\",
        "\"",
        "'",
        ",",
        ":",
        "=",
        "(",
        ")",
        " ",
        "\t",
        "\n",
        "é",
        "€",
        "\u{202e}",
        "ALL",
        "NOPASSWD:",
        "sha256:",
        "@include",
        "#include",
        "ssh-ed25519",
        "AAAA",
        "*",
        "/",
        "~",
        "\0",
        "\r",
        "[Service]",
        "ExecStart=",
        "\\\n",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let len = (next() % 40) as usize;
        let text: String = (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
            .collect();
        let bytes = text.as_bytes();
        for l in accounts::sudoers::parse::logical_lines(&text) {
            let _ = accounts::sudoers::parse::parse_statement(&l.text);
        }
        let _ = accounts::sudoers::parse::parse_statement(&text);
        let _ = accounts::ssh_keys::parse_authorized_keys(bytes);
        let _ = accounts::ssh_keys::parse_sshd_config(&text, false);
        let _ = accounts::passwd::parse_passwd(bytes);
        let _ = accounts::passwd::parse_shadow(bytes);
        let _ = accounts::passwd::parse_group(bytes);
        let _ = persistence::cron::parse_crontab(&text, true);
        let _ = persistence::cron::parse_crontab(&text, false);
        let _ = persistence::cron::parse_anacrontab(&text);
        let _ = persistence::systemd::parse_unit(&text);
        let _ = modules::procfs::parse_proc_modules(&text);
        let _ = modules::procfs::parse_modules_dep(&text);
        let _ = sessions::logind::parse_session("1", &text);
        let mut padded = bytes.to_vec();
        padded.resize(384 * 2 + len, 0xff);
        for e in sessions::utmp::parse(&padded, 0).entries {
            let _ = sessions::utmp::to_record(&e, "recent", "/var/log/wtmp");
        }
        let _ = accounts::ssh_keys::expand_key_file(&text, "/home/a", "a", 1);
    }
}
