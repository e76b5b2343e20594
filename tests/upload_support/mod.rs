//! Shared by the upload tests: real servers started on loopback for one
//! test each ([`garage`], [`sshd`]), and the rules for skipping.
//!
//! A test whose server is missing prints why and returns; with
//! `IRDUMP_REQUIRE_SERVERS=1` (set by the `.ci/steps` scripts that install
//! the servers) it fails instead, so CI cannot pass by skipping.

#![allow(dead_code)]

pub mod garage;
pub mod sshd;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// Skips the calling test (returns `true`) when `missing` says a server is
/// absent, unless CI requires it.
pub fn skip(missing: Option<String>) -> bool {
    let Some(reason) = missing else {
        return false;
    };
    if std::env::var_os("IRDUMP_REQUIRE_SERVERS").is_some_and(|v| v == "1") {
        panic!("IRDUMP_REQUIRE_SERVERS=1 but {reason}");
    }
    eprintln!("skipped: {reason}");
    true
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A program on `PATH`, or at one of `also`.
pub fn find_program(name: &str, also: &[PathBuf]) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| also.iter().find(|p| p.is_file()).cloned())
}

/// A child process killed (and reaped) when the guard drops, even when the
/// test fails. Only this child, by its PID.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The binary under test: `IRDUMP_UPLOAD_TEST_BIN` when set (CI points it
/// at the static musl build, so that its TLS and SSH stacks are exercised
/// against the real servers too), else the one Cargo built.
pub fn irdump_bin() -> PathBuf {
    std::env::var_os("IRDUMP_UPLOAD_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_irdump")))
}

/// The irdump binary with no upload settings inherited from the caller's
/// environment.
pub fn irdump_clean() -> Command {
    let mut c = crate::common::irdump();
    if std::env::var_os("IRDUMP_UPLOAD_TEST_BIN").is_some() {
        let mut other = Command::new(irdump_bin());
        other
            .env_remove("IRDUMP_LOG")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
        c = other;
    }
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "IRDUMP_UPLOAD",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c.env_remove(var);
    }
    c
}

/// Every file under `dir`, relative name to contents.
pub fn read_tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        out.insert(name, std::fs::read(entry.path()).expect("read file"));
    }
    out
}

/// Fails when `secret` occurs in `text` (named `what` in the message).
pub fn assert_no_secret(what: &str, text: &[u8], secret: &str) {
    let hay = String::from_utf8_lossy(text);
    assert!(
        !hay.contains(secret),
        "{what} contains the secret {secret:?}:\n{hay}"
    );
}

/// The one line of stderr starting with `irdump: error:`.
pub fn error_line(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("irdump: error:"))
        .collect();
    assert_eq!(lines.len(), 1, "expected one error line in:\n{stderr}");
    lines[0].to_owned()
}
