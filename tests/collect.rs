//! The collection core end to end: the bundle, its manifest, `verify`,
//! the output rules (never overwrite, never follow a symlink, nothing on
//! the host with `-o -`), privileges and a full disk.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::io::Read;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::*;

fn sha256sum_check(bundle: &Path) -> std::process::Output {
    Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(bundle)
        .output()
        .expect("sha256sum runs")
}

/// `irdump collect -q --only system -o PATH`: the quickest whole run.
fn collect_system_to(path: &Path) -> std::process::Output {
    run(&[
        "collect",
        "-q",
        "--only",
        "system",
        "-o",
        path.to_str().unwrap(),
    ])
}

#[test]
fn bundle_is_written_and_verifies() {
    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "system", "--case", "C-42"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let check = sha256sum_check(&bundle);
    assert!(check.status.success(), "sha256sum -c: {}", stdout(&check));
    let listed = std::fs::read_to_string(bundle.join("SHA256SUMS")).unwrap();
    for f in [
        "collection.json",
        "report.txt",
        "findings.jsonl",
        "system.json",
        "packages.jsonl",
    ] {
        assert!(
            listed.contains(&format!("  {f}\n")),
            "{f} not in the manifest:\n{listed}"
        );
    }

    let v = run(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert!(stdout(&v).starts_with("intact: 5 files"), "{}", stdout(&v));

    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&bundle), 0o700);
    for entry in std::fs::read_dir(&bundle).unwrap() {
        assert_eq!(mode(&entry.unwrap().path()), 0o600);
    }

    let c = json(&bundle, "collection.json");
    assert_eq!(c["tool"]["name"], "irdump");
    assert_eq!(c["case"], "C-42");
    assert_eq!(c["complete"], true);
    let started = c["started"].as_str().unwrap();
    assert!(started.ends_with('Z'), "{started}");
    let uname = Command::new("uname").arg("-n").output().unwrap();
    assert_eq!(c["hostname"], String::from_utf8_lossy(&uname.stdout).trim());
    let runs = c["collectors"].as_array().unwrap();
    let system = runs.iter().find(|r| r["name"] == "system").unwrap();
    assert_eq!(system["status"], "ok");
    assert!(runs
        .iter()
        .filter(|r| r["name"] != "system" && r["name"] != "findings")
        .all(|r| r["status"] == "skipped"));

    let s = json(&bundle, "system.json");
    let release = Command::new("uname").arg("-r").output().unwrap();
    assert_eq!(
        s["kernel"]["release"],
        String::from_utf8_lossy(&release.stdout).trim()
    );
    if Path::new("/var/lib/dpkg/status").exists() {
        let dpkg = Command::new("dpkg-query")
            .args(["-f", "${db:Status-Abbrev}\n", "-W"])
            .output()
            .unwrap();
        let installed = String::from_utf8_lossy(&dpkg.stdout)
            .lines()
            .filter(|l| l.starts_with("ii"))
            .count();
        let pkgs = jsonl(&bundle, "packages.jsonl");
        let ours = pkgs
            .iter()
            .filter(|p| p["status"] == "install ok installed")
            .count();
        assert_eq!(
            ours, installed,
            "dpkg-query and irdump disagree on installed packages"
        );
    }
}

#[test]
fn report_is_rebuilt_identically_from_the_records() {
    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "system"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let again = run(&["report", bundle.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0));
    let live = std::fs::read_to_string(bundle.join("report.txt")).unwrap();
    assert_eq!(stdout(&again), live);
    assert!(live.contains("[*] System information"));
}

#[test]
fn verify_names_each_kind_of_tampering() {
    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "system"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let victim = bundle.join("system.json");
    let mut data = std::fs::read(&victim).unwrap();
    data[10] ^= 0x01;
    std::fs::write(&victim, data).unwrap();
    std::fs::remove_file(bundle.join("packages.jsonl")).unwrap();
    std::fs::write(bundle.join("planted.txt"), b"not evidence").unwrap();

    let v = run(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1));
    let text = stdout(&v);
    assert!(text.contains("MODIFIED    system.json"), "{text}");
    assert!(text.contains("MISSING     packages.jsonl"), "{text}");
    assert!(text.contains("UNEXPECTED  planted.txt"), "{text}");
    assert!(!sha256sum_check(&bundle).status.success());
}

#[test]
fn existing_output_is_refused_and_left_alone() {
    let dir = tempdir();
    let victim = dir.path().join("evidence");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("keep.txt"), b"earlier evidence").unwrap();
    let out = collect_system_to(&victim);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("already exists"), "{err}");
    let names: Vec<_> = std::fs::read_dir(&victim)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("keep.txt")]);
    assert_eq!(
        std::fs::read(victim.join("keep.txt")).unwrap(),
        b"earlier evidence"
    );

    let file = dir.path().join("old.tar");
    std::fs::write(&file, b"old archive").unwrap();
    let out = collect_system_to(&file);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&file).unwrap(), b"old archive");
}

#[test]
fn symlink_output_is_refused_and_its_target_untouched() {
    let dir = tempdir();
    let target_dir = dir.path().join("elsewhere");
    std::fs::create_dir(&target_dir).unwrap();
    let link = dir.path().join("out");
    symlink(&target_dir, &link).unwrap();
    let out = collect_system_to(&link);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&target_dir).unwrap().count(), 0);

    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"do not touch").unwrap();
    let tar_link = dir.path().join("out.tar");
    symlink(&victim, &tar_link).unwrap();
    let out = collect_system_to(&tar_link);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&victim).unwrap(), b"do not touch");

    let dangling = dir.path().join("dangling.tar.gz");
    symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let out = collect_system_to(&dangling);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("nowhere").exists());
}

#[test]
fn stdout_stream_is_a_valid_tar_and_writes_nothing_on_the_host() {
    let cwd = tempdir();
    let out = run_in(
        cwd.path(),
        &["collect", "-q", "--only", "system", "-o", "-"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "the working directory changed"
    );

    let mut archive = tar::Archive::new(&out.stdout[..]);
    let mut names = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut sink = Vec::new();
        entry.read_to_end(&mut sink).unwrap();
        names.push(name);
    }
    let top = names[0].trim_end_matches('/').to_owned();
    assert!(names.iter().all(|n| n.starts_with(&top)), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("/SHA256SUMS")));
    assert!(
        names.last().unwrap().ends_with("/SHA256SUMS"),
        "the manifest must come last"
    );

    let saved = tempdir();
    let tar_path = saved.path().join("b.tar");
    std::fs::write(&tar_path, &out.stdout).unwrap();
    let v = run(&["verify", tar_path.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
}

#[test]
fn archives_verify_and_tampered_archives_do_not() {
    let dir = tempdir();
    for name in ["b.tar", "b.tar.gz"] {
        let path = dir.path().join(name);
        let out = collect_system_to(&path);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let v = run(&["verify", path.to_str().unwrap()]);
        assert_eq!(v.status.code(), Some(0), "{name}: {}", stdout(&v));
        let r = run(&["report", path.to_str().unwrap()]);
        assert!(stdout(&r).contains("[*] System information"));
    }
    // Change one byte inside the first file's data in the plain tar
    // (block 0 is the directory header, block 1 the first file's header).
    let path = dir.path().join("b.tar");
    let mut data = std::fs::read(&path).unwrap();
    data[1024 + 3] ^= 0x20;
    std::fs::write(&path, data).unwrap();
    let v = run(&["verify", path.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(1), "{}", stdout(&v));
    assert!(stdout(&v).contains("MODIFIED"));
}

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    let dir = tempdir();
    let out_arg = dir.path().join("x");
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "collect",
            "--only",
            "nosuch",
            "-o",
            out_arg.to_str().unwrap(),
        ],
        vec![
            "collect",
            "--skip",
            "sockets,bogus",
            "-o",
            out_arg.to_str().unwrap(),
        ],
        vec!["collect", "--timeout", "0", "-o", out_arg.to_str().unwrap()],
        vec!["collect", "-o", "/nonexistent-dir/for-sure/bundle"],
        vec!["verify", "/nonexistent-bundle"],
    ];
    for args in cases {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("irdump: error: "), "{args:?}: {err}");
    }
    assert!(!out_arg.exists(), "a refused run created its output");
    let out = run(&["collect", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("Exit codes:"));
}

#[test]
fn unprivileged_run_ends_with_gaps_not_a_crash() {
    if !is_root() {
        eprintln!("skipped: needs root to drop privileges");
        return;
    }
    let dir = tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let bundle = dir.path().join("bundle");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_irdump"))
        .args(["collect", "-q", "-o"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let c = json(&bundle, "collection.json");
    assert_eq!(c["privileged"], false);
    assert_eq!(c["euid"], 65534);
    let gaps: usize = c["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["gaps"].as_array().unwrap().len())
        .sum();
    assert!(gaps > 0, "an unprivileged run recorded no gaps");
    assert!(sha256sum_check(&bundle).status.success());
}

#[test]
fn full_disk_is_a_clear_error_and_never_a_false_manifest() {
    if !is_root() {
        eprintln!("skipped: needs root to mount a tmpfs");
        return;
    }
    let dir = tempdir();
    let mnt = dir.path().join("tiny");
    std::fs::create_dir(&mnt).unwrap();
    // Large enough for the directory and the small files, too small for the
    // package list.
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32k", "tmpfs"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(mounted.success());
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);

    let bundle = mnt.join("bundle");
    let out = collect_system_to(&bundle);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("No space left") && err.contains("packages.jsonl"),
        "{err}"
    );

    // Whatever the manifest lists must be whole; nothing torn may remain.
    if bundle.join("SHA256SUMS").exists() {
        assert!(sha256sum_check(&bundle).status.success());
    }
    if let Ok(text) = std::fs::read_to_string(bundle.join("collection.json")) {
        let c: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(c["complete"], false);
    }
    assert!(
        !bundle.join("packages.jsonl").exists(),
        "a torn file was left behind"
    );

    let tar = mnt.join("b.tar");
    let out = collect_system_to(&tar);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
