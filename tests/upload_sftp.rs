//! `--upload sftp://...` against a real OpenSSH server started by each test
//! on loopback: the upload verifies, a wrong host key is refused before any
//! credential is sent, and a server killed mid-upload leaves the local
//! bundle complete with a clear error. Skipped (with the reason printed)
//! when not root or without sshd; `.ci/steps/31-sftp.sh` makes skipping
//! fail.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;
mod upload_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use upload_support::sshd::{self, SlowNetns, Sshd};
use upload_support::*;

/// The one bundle directory under `dir`.
fn only_dir(dir: &Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

fn sftp_collect(cwd: &Path, args: &[&str]) -> std::process::Output {
    let mut c = irdump_clean();
    c.current_dir(cwd).env("IRDUMP_LOG", "debug");
    c.args(["collect", "-q"]).args(args);
    c.output().unwrap()
}

#[test]
fn bundle_uploads_over_sftp_and_verifies() {
    if skip(sshd::missing()) {
        return;
    }
    let server = Sshd::start();
    let dir = tempdir();
    let local = dir.path().join("host1");
    let out = sftp_collect(
        dir.path(),
        &[
            "-o",
            local.to_str().unwrap(),
            "--upload",
            &server.url(),
            "--sftp-key",
            server.client_key.to_str().unwrap(),
            "--known-hosts",
            server.known_hosts.to_str().unwrap(),
        ],
    );
    let err = stderr(&out);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{err}\n{}",
        server.log()
    );
    assert!(!err.contains("irdump: error:"), "{err}\n{}", server.log());

    let remote = only_dir(&server.remote);
    assert_eq!(read_tree(&remote), read_tree(&local), "remote copy differs");
    let v = run(&["verify", remote.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&remote), 0o700);
    for name in read_tree(&remote).keys() {
        assert_eq!(mode(&remote.join(name)), 0o600, "{name}");
    }
    let c = json(&local, "collection.json");
    assert_eq!(c["upload"]["kind"], "sftp");
    let name = remote.file_name().unwrap().to_str().unwrap();
    assert_eq!(
        c["upload"]["destination"],
        format!("{}/{name}/", server.url())
    );
}

#[test]
fn pinned_fingerprint_works_and_upload_only_leaves_nothing_local() {
    if skip(sshd::missing()) {
        return;
    }
    let server = Sshd::start();
    let cwd = tempdir();
    let out = sftp_collect(
        cwd.path(),
        &[
            "--only",
            "system",
            "--upload",
            &server.url(),
            "--sftp-key",
            server.client_key.to_str().unwrap(),
            "--host-key-fingerprint",
            &server.fingerprint,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stderr(&out),
        server.log()
    );
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
    let remote = only_dir(&server.remote);
    let v = run(&["verify", remote.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
}

#[test]
fn wrong_host_key_is_refused_with_one_clear_line() {
    if skip(sshd::missing()) {
        return;
    }
    let server = Sshd::start();
    let dir = tempdir();

    // A pinned fingerprint of another key.
    let local = dir.path().join("pinned");
    let out = sftp_collect(
        dir.path(),
        &[
            "--only",
            "system",
            "-o",
            local.to_str().unwrap(),
            "--upload",
            &server.url(),
            "--sftp-key",
            server.client_key.to_str().unwrap(),
            "--host-key-fingerprint",
            &server.other_fingerprint,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line = error_line(&stderr(&out));
    assert!(line.contains(&server.url()), "{line}");
    assert!(line.contains(&server.fingerprint), "{line}");
    assert!(
        line.contains(&format!(
            "does not match the pinned {}",
            server.other_fingerprint
        )),
        "{line}"
    );
    assert!(line.contains("the local bundle"), "{line}");
    assert!(
        !stderr(&out).contains("retrying"),
        "a refused key was retried"
    );
    let v = run(&["verify", local.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));

    // A known_hosts file that names the server with another key.
    let kh = dir.path().join("known_hosts");
    std::fs::write(
        &kh,
        format!("[127.0.0.1]:{} {}", server.port, server.other_public),
    )
    .unwrap();
    let local = dir.path().join("known");
    let out = sftp_collect(
        dir.path(),
        &[
            "--only",
            "system",
            "-o",
            local.to_str().unwrap(),
            "--upload",
            &server.url(),
            "--sftp-key",
            server.client_key.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line = error_line(&stderr(&out));
    assert!(line.contains("differs from the one in"), "{line}");
    assert!(line.contains("line 1"), "{line}");

    // Nothing reached the server, not even the bundle directory.
    assert_eq!(std::fs::read_dir(&server.remote).unwrap().count(), 0);
    // The refusal came before authentication: the server never saw the key.
    assert!(
        !server.log().contains("Accepted publickey"),
        "{}",
        server.log()
    );
}

#[test]
fn server_killed_mid_upload_keeps_the_data_locally() {
    if skip(sshd::missing()) {
        return;
    }
    // A loopback limited to 256 kbit/s makes the upload take seconds, so
    // the server can be killed after the first file arrived.
    let ns = match SlowNetns::create("kill", "256kbit") {
        Ok(ns) => ns,
        Err(reason) => {
            skip(Some(format!(
                "cannot make a rate-limited namespace: {reason}"
            )));
            return;
        }
    };
    let mut server = Sshd::start_in(Some(&ns.name));
    let dir = tempdir();
    let local = dir.path().join("host1");
    let mut child = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(irdump_bin())
        .args(["collect", "-q", "-o", local.to_str().unwrap()])
        // The socket and process tables of a busy test host run to
        // megabytes, which a 256 kbit/s link would not carry before the
        // deadline below; the small file-based collectors still make
        // several files, so the server dies mid-bundle.
        .args(["--only", "system,accounts,modules,persistence"])
        .args(["--upload", &server.url()])
        .args(["--sftp-key", server.client_key.to_str().unwrap()])
        .args(["--known-hosts", server.known_hosts.to_str().unwrap()])
        .env_remove("IRDUMP_LOG")
        .env_remove("IRDUMP_UPLOAD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard_pid = child.id();

    // Wait for the first complete remote file, then kill the server.
    let until = Instant::now() + Duration::from_secs(60);
    let first = loop {
        let bundle_dir = std::fs::read_dir(&server.remote)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
            .map(|e| e.path());
        let done: Vec<String> = bundle_dir
            .as_deref()
            .and_then(|b| std::fs::read_dir(b).ok())
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.ends_with(".part"))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(name) = done.into_iter().next() {
            break name;
        }
        if Instant::now() > until || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("no file arrived before the deadline:\n{}", server.log());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    server.kill_all();
    eprintln!("killed sshd after {first} arrived");

    let out = child.wait_with_output().unwrap();
    assert_ne!(guard_pid, 0);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line = error_line(&err);
    eprintln!("{line}");
    let remote = only_dir(&server.remote);
    let name = remote.file_name().unwrap().to_str().unwrap();
    assert!(
        line.contains(&format!("upload to {}/{name}/", server.url())),
        "{line}"
    );
    assert!(line.contains("not uploaded:"), "{line}");
    assert!(line.contains("SHA256SUMS"), "{line}");
    assert!(
        line.contains(&format!("the local bundle {} is complete", local.display())),
        "{line}"
    );
    assert!(
        !line.contains(&format!("not uploaded: {first}")),
        "{first} arrived: {line}"
    );

    // The local bundle is whole; what did reach the server is intact.
    let v = run(&["verify", local.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    let local_files = read_tree(&local);
    for (name, data) in read_tree(&remote) {
        if let Some(whole) = name.strip_suffix(".part") {
            assert!(local_files.contains_key(whole), "{name}");
            continue;
        }
        assert_eq!(Some(&data), local_files.get(&name), "{name} differs");
    }
    let c = json(&local, "collection.json");
    let statuses: Vec<String> = c["upload"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses[0], "uploaded", "{statuses:?}");
}
