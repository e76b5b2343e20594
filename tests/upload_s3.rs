//! `--upload` to a real S3-compatible store: a single-node Garage cluster
//! on loopback, started by each test. The uploaded bundle is downloaded
//! back with signed GETs and checked with `irdump verify`; the presigned-URL
//! archive likewise. Skipped (with the reason printed) when `garage` is not
//! installed; `.ci/steps/30-garage.sh` installs it and makes skipping fail.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;
mod upload_support;

use std::path::Path;
use std::time::Duration;

use common::*;
use upload_support::garage::{self, Garage};
use upload_support::*;

/// Runs `irdump collect -q` with the Garage environment and `args`.
fn collect_to(g: &Garage, cwd: &Path, args: &[&str]) -> std::process::Output {
    let mut c = irdump_clean();
    c.current_dir(cwd).envs(g.env()).env("IRDUMP_LOG", "trace");
    c.args(["collect", "-q"]).args(args);
    c.output().unwrap()
}

/// Every output of a run and every file of `bundles`, checked for `secret`.
fn assert_secret_nowhere(out: &std::process::Output, bundles: &[&Path], secret: &str) {
    assert_no_secret("stdout", &out.stdout, secret);
    assert_no_secret("stderr", &out.stderr, secret);
    for b in bundles {
        for (name, data) in read_tree(b) {
            assert_no_secret(&format!("{}/{name}", b.display()), &data, secret);
        }
    }
}

#[test]
fn bundle_streams_to_garage_and_verifies_after_download() {
    if skip(garage::missing()) {
        return;
    }
    let g = Garage::start("evidence");
    let dir = tempdir();
    let local = dir.path().join("host1");
    let out = collect_to(
        &g,
        dir.path(),
        &[
            "-o",
            local.to_str().unwrap(),
            "--upload",
            "s3://evidence/cases/42",
        ],
    );
    let err = stderr(&out);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    assert!(!err.contains("irdump: error:"), "{err}");

    // One object per local file, under <prefix>/<host>-<UTC time>/ (not
    // the local name: bundles of many hosts never collide), nothing else.
    let c = json(&local, "collection.json");
    let bundle = g.only_bundle("cases/42/");
    let started = c["started"].as_str().unwrap().replace(['-', ':'], "");
    let second = &started[..15]; // YYYYMMDDTHHMMSS
    assert!(
        bundle.ends_with(&format!("-{second}Z")),
        "{bundle} {started}"
    );
    let mut keys = g.list("cases/42/");
    keys.sort();
    let mut expected: Vec<String> = read_tree(&local)
        .keys()
        .map(|n| format!("cases/42/{bundle}/{n}"))
        .collect();
    expected.sort();
    assert_eq!(keys, expected);

    // Downloaded back, the bundle verifies and is the local one byte for
    // byte (the upload's own SHA256SUMS equals the local manifest).
    let back = dir.path().join("downloaded");
    g.download_into(&format!("cases/42/{bundle}/"), &back);
    assert_eq!(read_tree(&back), read_tree(&local));
    let v = run(&["verify", back.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));

    // collection.json says where it went and how each earlier file fared.
    let up = &c["upload"];
    assert_eq!(up["kind"], "s3");
    assert_eq!(up["layout"], "objects");
    assert_eq!(
        up["destination"],
        format!("s3://evidence/cases/42/{bundle}/")
    );
    assert_eq!(up["endpoint"], format!("{}/", g.endpoint));
    let files = up["files"].as_array().unwrap();
    assert!(!files.is_empty());
    for f in files {
        assert_eq!(f["status"], "uploaded", "{f}");
        assert_eq!(f["attempts"], 1, "{f}");
    }
    // The most volatile file left first: the order is the write order.
    let first_collector_file = c["collectors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["files"].as_array().unwrap().iter())
        .next()
        .cloned()
        .unwrap();
    assert_eq!(files[0]["name"], first_collector_file);

    assert_secret_nowhere(&out, &[&local, &back], &g.secret);
}

#[test]
fn upload_without_output_writes_nothing_on_the_host() {
    if skip(garage::missing()) {
        return;
    }
    let g = Garage::start("evidence");
    let cwd = tempdir();
    let out = collect_to(&g, cwd.path(), &["--upload", "s3://evidence"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "something was written on the host"
    );

    // The default bundle name, <host>-<UTC time>, is the object prefix.
    let keys = g.list("");
    let bundle = keys[0].split('/').next().unwrap().to_owned();
    assert!(keys.iter().all(|k| k.starts_with(&format!("{bundle}/"))));
    let back = tempdir();
    let n = g.download_into(&format!("{bundle}/"), back.path());
    assert!(n >= 4, "{keys:?}");
    let v = run(&["verify", back.path().to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    let c = json(back.path(), "collection.json");
    assert_eq!(c["output_kind"], "none");
    assert_eq!(c["bundle_name"], bundle);
}

#[test]
fn garage_rejects_a_body_that_does_not_match_its_checksum() {
    if skip(garage::missing()) {
        return;
    }
    // irdump relies on the server to verify x-amz-checksum-sha256 (S3) and
    // Content-MD5 (presigned URLs): prove this server does, with the very
    // header values irdump computes.
    let g = Garage::start("evidence");
    let right = irdump::upload::network::s3::checksum_sha256(b"evidence");
    let wrong = irdump::upload::network::s3::checksum_sha256(b"tampered");
    let (status, _) = g.put_raw("k1", b"evidence", &[("x-amz-checksum-sha256", &right)]);
    assert_eq!(status, 200);
    let (status, body) = g.put_raw("k2", b"evidence", &[("x-amz-checksum-sha256", &wrong)]);
    assert_eq!(status, 400, "{body}");
    let wrong_md5 = irdump::upload::network::presigned::content_md5(b"tampered");
    let (status, body) = g.put_raw("k3", b"evidence", &[("content-md5", &wrong_md5)]);
    assert_eq!(status, 400, "{body}");
    let keys = g.list("");
    assert_eq!(keys, ["k1"], "a rejected body was stored");
}

#[test]
fn presigned_url_upload_is_one_verifiable_tar() {
    if skip(garage::missing()) {
        return;
    }
    let g = Garage::start("evidence");
    let url = g.presign_put("incoming/host1.tar", Duration::from_secs(600));
    let signature = url
        .split("X-Amz-Signature=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let dir = tempdir();
    let local = dir.path().join("host1");
    // The URL on the command line (recorded in collection.json, scrubbed).
    let mut c = irdump_clean();
    c.current_dir(dir.path()).env("IRDUMP_LOG", "trace");
    c.args([
        "collect",
        "-q",
        "-o",
        local.to_str().unwrap(),
        "--upload",
        &url,
    ]);
    let out = c.output().unwrap();
    let err = stderr(&out);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    assert!(!err.contains("irdump: error:"), "{err}");

    let tar = dir.path().join("downloaded.tar");
    std::fs::write(&tar, g.get("incoming/host1.tar")).unwrap();
    let v = run(&["verify", tar.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    let from_tar = irdump::bundle::BundleFiles::load(&tar).unwrap();
    assert_eq!(from_tar.files, read_tree(&local));

    let col = json(&local, "collection.json");
    assert_eq!(col["upload"]["kind"], "presigned");
    assert_eq!(col["upload"]["layout"], "tar");
    let shown = col["upload"]["destination"].as_str().unwrap();
    assert!(shown.ends_with("/evidence/incoming/host1.tar"), "{shown}");
    assert!(col["upload"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["status"] == "pending"));
    let argv = col["command_line"].to_string();
    assert!(argv.contains("[redacted]"), "{argv}");
    assert_secret_nowhere(&out, &[&local], &signature);
    assert_no_secret(
        "the uploaded archive",
        &std::fs::read(&tar).unwrap(),
        &signature,
    );
}

#[test]
fn presigned_url_can_come_from_the_environment() {
    if skip(garage::missing()) {
        return;
    }
    let g = Garage::start("evidence");
    let url = g.presign_put("h.tar", Duration::from_secs(600));
    let cwd = tempdir();
    let mut c = irdump_clean();
    c.current_dir(cwd.path()).env("IRDUMP_UPLOAD", &url);
    c.args(["collect", "-q", "--only", "system"]);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
    let elsewhere = tempdir();
    let tar = elsewhere.path().join("h.tar");
    std::fs::write(&tar, g.get("h.tar")).unwrap();
    let v = run(&["verify", tar.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
}

#[test]
fn a_full_local_disk_loses_nothing_that_could_leave() {
    if skip(garage::missing()) {
        return;
    }
    if !is_root() {
        eprintln!("skipped: needs root to mount a tmpfs");
        return;
    }
    let g = Garage::start("evidence");
    let dir = tempdir();
    let mnt = dir.path().join("tiny");
    std::fs::create_dir(&mnt).unwrap();
    // Room for the small files, not for the package list.
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32k", "tmpfs"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(mounted.success());
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);

    let local = mnt.join("host1");
    let out = collect_to(
        &g,
        dir.path(),
        &[
            "--only",
            "system",
            "-o",
            local.to_str().unwrap(),
            "--upload",
            "s3://evidence",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let line = error_line(&err);
    assert!(line.contains("No space left"), "{line}");
    let bundle = g.only_bundle("");
    assert!(
        line.contains(&format!(
            "every file, SHA256SUMS included, was uploaded to s3://evidence/{bundle}/"
        )),
        "{line}"
    );
    assert!(!local.join("packages.jsonl").exists());

    // The uploaded copy has what the disk could not hold, and verifies on
    // its own manifest.
    let back = dir.path().join("downloaded");
    g.download_into(&format!("{bundle}/"), &back);
    assert!(back.join("packages.jsonl").exists());
    let v = run(&["verify", back.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
}
