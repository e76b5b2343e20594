//! Running the built `irdump` binary from integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn irdump() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_irdump"));
    c.env_remove("IRDUMP_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    c
}

/// Runs irdump with `args`, returning its output.
pub fn run(args: &[&str]) -> Output {
    irdump().args(args).output().expect("irdump runs")
}

/// Runs irdump with `args` in `cwd`.
pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    irdump()
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("irdump runs")
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// True when the tests run as root (CI does).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Collects with `args` into `<dir>/bundle` and returns the bundle path.
pub fn collect_into(dir: &Path, extra: &[&str]) -> (PathBuf, Output) {
    let bundle = dir.join("bundle");
    let mut args = vec!["collect", "-q", "-o"];
    let b = bundle.to_str().expect("utf-8 temp path").to_owned();
    args.push(&b);
    args.extend_from_slice(extra);
    let out = run(&args);
    (bundle, out)
}

/// Reads a JSON document from the bundle.
pub fn json(bundle: &Path, file: &str) -> serde_json::Value {
    let data = std::fs::read(bundle.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_slice(&data).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Reads a JSON Lines file from the bundle.
pub fn jsonl(bundle: &Path, file: &str) -> Vec<serde_json::Value> {
    let data = std::fs::read_to_string(bundle.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    data.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{file}: {e}: {l}")))
        .collect()
}
