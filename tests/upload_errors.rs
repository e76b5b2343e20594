//! `--upload` when things go wrong: an unreachable endpoint, wrong
//! credentials, a full bucket quota, an expired presigned URL, a server
//! whose TLS certificate is not trusted, bad arguments. Each is one error
//! line naming the destination (never a secret) and the cause; with `-o`
//! the local bundle is complete and the run exits 1, without it the run
//! exits 2 and names every file that did not leave.
//!
//! The unreachable-endpoint and argument tests need no server; the others
//! start Garage (skipped, with the reason printed, when it is missing) or
//! `openssl s_server`.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;
mod upload_support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;
use upload_support::garage::{self, Garage};
use upload_support::*;

/// A secret access key no output may contain.
const SECRET: &str = "irdumpTestSecret0123456789abcdefSECRET";

/// Collects with `env` and `args`, logging everything.
fn collect_env(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut c = irdump_clean();
    c.current_dir(cwd).env("IRDUMP_LOG", "trace");
    for (k, v) in env {
        c.env(k, v);
    }
    c.arg("collect").args(args);
    c.output().unwrap()
}

fn unreachable_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "GKirdumptestkeyid0001".into()),
        ("AWS_SECRET_ACCESS_KEY", SECRET.into()),
        ("AWS_SESSION_TOKEN", format!("{SECRET}TOKEN")),
        ("AWS_REGION", "garage".into()),
        // A port nobody listens on.
        (
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", free_port()),
        ),
    ]
}

fn assert_secret_nowhere(out: &Output, bundle: Option<&Path>, secret: &str) {
    assert_no_secret("stdout", &out.stdout, secret);
    assert_no_secret("stderr", &out.stderr, secret);
    if let Some(b) = bundle {
        for (name, data) in read_tree(b) {
            assert_no_secret(&name, &data, secret);
        }
    }
}

fn verify_ok(bundle: &Path) {
    let v = run(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
}

#[test]
fn unreachable_endpoint_keeps_the_local_bundle() {
    let dir = tempdir();
    let local = dir.path().join("host1");
    let env = unreachable_env();
    let endpoint = env[4].1.clone();
    let out = collect_env(
        dir.path(),
        &env,
        &[
            "--only",
            "system",
            "-o",
            local.to_str().unwrap(),
            "--upload",
            "s3://evidence/cases",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = error_line(&err);
    assert!(line.contains("upload to s3://evidence/cases/"), "{line}");
    assert!(
        line.contains(&format!("/ at {endpoint}/ incomplete")),
        "{line}"
    );
    assert!(
        line.contains("connection refused (after 5 attempts)"),
        "{line}"
    );
    assert!(
        line.contains("not uploaded: system.json, packages.jsonl, findings.jsonl, collection.json, report.txt, SHA256SUMS"),
        "{line}"
    );
    assert!(line.contains("the local bundle"), "{line}");
    assert_eq!(err.matches("retrying in").count(), 4, "{err}");
    // The summary (not -q) says so too.
    assert!(
        err.lines()
            .any(|l| l.starts_with("  upload     s3://evidence/cases/")
                && l.ends_with("(0 of 6 files) INCOMPLETE")),
        "{err}"
    );
    verify_ok(&local);
    let c = json(&local, "collection.json");
    let files = c["upload"]["files"].as_array().unwrap();
    assert_eq!(files[0]["status"], "failed");
    assert_eq!(files[0]["attempts"], 5);
    assert_eq!(files[1]["status"], "not_sent");
    assert_secret_nowhere(&out, Some(&local), SECRET);
    assert_secret_nowhere(&out, Some(&local), "GKirdumptestkeyid0001");
}

#[test]
fn unreachable_endpoint_without_output_exits_2_and_names_every_file() {
    let cwd = tempdir();
    let out = collect_env(
        cwd.path(),
        &unreachable_env(),
        &["-q", "--only", "system", "--upload", "s3://evidence"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let line = error_line(&err);
    assert!(
        line.contains("not uploaded: system.json, packages.jsonl, findings.jsonl, collection.json, report.txt, SHA256SUMS; 0 of 6 files uploaded; nothing was written on this host"),
        "{line}"
    );
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
    assert_secret_nowhere(&out, None, SECRET);
}

#[test]
fn wrong_credentials_are_one_line_and_never_shown() {
    if skip(garage::missing()) {
        return;
    }
    let g = Garage::start("evidence");
    let mut env = g.env();
    env[1].1 = SECRET.into();
    let dir = tempdir();
    let local = dir.path().join("host1");
    let out = collect_env(
        dir.path(),
        &env,
        &[
            "-q",
            "--only",
            "system",
            "-o",
            local.to_str().unwrap(),
            "--upload",
            "s3://evidence/x",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = error_line(&err);
    assert!(line.contains("upload to s3://evidence/x/"), "{line}");
    assert!(line.contains("HTTP 403"), "{line}");
    assert!(
        !err.contains("retrying"),
        "a permanent failure was retried: {err}"
    );
    verify_ok(&local);
    assert!(g.list("").is_empty());
    assert_secret_nowhere(&out, Some(&local), SECRET);
}

#[test]
fn full_bucket_quota_is_named() {
    if skip(garage::missing()) {
        return;
    }
    let g = Garage::start("evidence");
    g.cli(&["bucket", "set-quotas", "evidence", "--max-size", "4KB"]);
    let dir = tempdir();
    let local = dir.path().join("host1");
    let out = collect_env(
        dir.path(),
        &g.env(),
        &[
            "-q",
            "--only",
            "system",
            "-o",
            local.to_str().unwrap(),
            "--upload",
            "s3://evidence",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = error_line(&err);
    assert!(line.contains("upload to s3://evidence/"), "{line}");
    assert!(line.to_lowercase().contains("quota"), "{line}");
    assert!(line.contains("1 of 6 files uploaded"), "{line}");
    verify_ok(&local);
    let stored = g.list("");
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].ends_with("/system.json"), "{stored:?}");
}

#[test]
fn expired_presigned_url_is_named_without_its_query() {
    if skip(garage::missing()) {
        return;
    }
    let g = Garage::start("evidence");
    let url = g.presign_put("h.tar", Duration::from_secs(1));
    let signature = url.split("X-Amz-Signature=").nth(1).unwrap().to_owned();
    std::thread::sleep(Duration::from_secs(2));
    let dir = tempdir();
    let local = dir.path().join("host1");
    let out = collect_env(
        dir.path(),
        &[("IRDUMP_UPLOAD", url.clone())],
        &["-q", "--only", "system", "-o", local.to_str().unwrap()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = error_line(&err);
    let shown = url.split('?').next().unwrap();
    assert!(
        line.contains(&format!(
            "upload to {shown} incomplete: the presigned URL expired at"
        )),
        "{line}"
    );
    assert!(
        line.contains("HTTP 4"),
        "the server's answer is kept: {line}"
    );
    assert!(
        !err.contains("retrying"),
        "an expired URL was retried: {err}"
    );
    verify_ok(&local);
    assert_secret_nowhere(&out, Some(&local), &signature);
    assert_secret_nowhere(&out, Some(&local), &g.key_id);
}

#[test]
fn untrusted_tls_certificate_is_refused_at_once() {
    let Some(openssl) = find_program("openssl", &[]) else {
        skip(Some("openssl not found".into()));
        return;
    };
    let dir = tempdir();
    let d = dir.path();
    let made = Command::new(&openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("cert.pem"))
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = free_port();
    let server = Command::new(&openssl)
        .args(["s_server", "-quiet", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(d.join("cert.pem"))
        .arg("-key")
        .arg(d.join("key.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = ChildGuard(Some(server));
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < until, "s_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("https://127.0.0.1:{port}/h.tar?X-Amz-Signature=tlstestsignature0001");
    let local = d.join("host1");
    let out = collect_env(
        d,
        &[],
        &[
            "-q",
            "--only",
            "system",
            "-o",
            local.to_str().unwrap(),
            "--upload",
            &url,
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = error_line(&err);
    assert!(
        line.contains(&format!(
            "upload to https://127.0.0.1:{port}/h.tar incomplete: TLS"
        )),
        "{line}"
    );
    assert!(
        line.contains("invalid peer certificate: UnknownIssuer"),
        "{line}"
    );
    assert!(!err.contains("retrying"), "{err}");
    assert_secret_nowhere(&out, Some(&local), "tlstestsignature0001");
}

#[test]
fn bad_upload_arguments_are_refused_before_anything_is_written() {
    let dir = tempdir();
    let out_dir = dir.path().join("never");
    let o = out_dir.to_str().unwrap();
    let key = dir.path().join("encrypted_key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "a passphrase", "-f"])
        .arg(&key)
        .output();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--upload", "ftp://h/x?token=abcdefghijkl"],
            "give s3://",
        ),
        (vec!["--upload", "s3://evidence"], "AWS_ACCESS_KEY_ID"),
        (vec!["--upload", "s3://Bad_Name"], "not a bucket name"),
        (
            vec![
                "--upload",
                "https://h.example/x?sig=abcdefghijkl&sv=1",
                "--sftp-key",
                "/k",
            ],
            "apply to sftp:// destinations only",
        ),
        (
            vec!["--upload", "sftp://root@127.0.0.1/x"],
            "needs --sftp-key",
        ),
        (
            vec!["--upload", "sftp://root:pw@127.0.0.1/x"],
            "passwords are not accepted",
        ),
        (
            vec![
                "--upload",
                "sftp://root@127.0.0.1/x",
                "--sftp-key",
                "/nonexistent/key",
            ],
            "--sftp-key /nonexistent/key",
        ),
        (
            vec![
                "--upload",
                "sftp://root@127.0.0.1/x",
                "--sftp-key",
                "/nonexistent/key",
                "--host-key-fingerprint",
                "MD5:00:11",
            ],
            "--sftp-key",
        ),
    ];
    for (args, expected) in cases {
        let mut full = vec!["-q", "--only", "system", "-o", o];
        full.extend(args.iter());
        let out = collect_env(dir.path(), &[], &full);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        let line = error_line(&err);
        assert!(line.contains(expected), "{args:?}: {line}");
        assert!(!line.contains("abcdefghijkl"), "{line}");
        assert!(!out_dir.exists(), "{args:?} wrote the output");
    }
    if made.is_ok_and(|m| m.status.success()) {
        let out = collect_env(
            dir.path(),
            &[],
            &[
                "-q",
                "-o",
                o,
                "--upload",
                "sftp://root@127.0.0.1/x",
                "--sftp-key",
                key.to_str().unwrap(),
                "--host-key-fingerprint",
                "SHA256:cQeNzkng9Brcw0T5tCRxlAQ+SE3nI31Ajkb2oOd466M",
            ],
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(
            error_line(&stderr(&out)).contains("encrypted"),
            "{}",
            stderr(&out)
        );
        assert!(!out_dir.exists());
    }
}
