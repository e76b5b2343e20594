//! Finding rules: read the bundle's records, name what a responder must see
//! first. Each rule is a pure function of the records, so `irdump report`
//! on a copied bundle reaches the same findings as the live run.
//!
//! Rules are grouped by the records they read: `network` (sockets),
//! `processes` (with `reverse_shell`, `places` and `masquerade`),
//! `accounts` (accounts, kernel modules and `/etc/ld.so.preload`).
//! Records from Windows are judged by the rules that fit them
//! (`platform`).
//!
//! Wording, shared by every group: a summary is one line that starts with
//! what a responder acts on, `PID <pid> (<name>)` for a process, then the
//! endpoint as `TCP <local> -> <remote> (<STATE>)` where a connection is
//! involved, then why it matters. Host strings in it are raw (JSON keeps
//! them whole); the report and the terminal escape them.

mod accounts;
mod masquerade;
mod network;
mod places;
pub mod platform;
mod processes;
mod reverse_shell;

use jiff::Timestamp;

use crate::bundle::BundleFiles;
use crate::records::collection::{Collection, Gap};
use crate::records::finding::Finding;

/// The bundle file name.
pub const FILE: &str = "findings.jsonl";

/// Runs every rule over the records; returns findings sorted most severe
/// first (within a severity, the attacker's connection first, then what
/// hides, then the rest; each rule's findings in the order it made them),
/// and gaps for records that could not be read. The capture time (for
/// rules about what changed recently) is `collection.json`'s `started`.
pub fn analyze(bundle: &BundleFiles) -> (Vec<Finding>, Vec<Gap>) {
    analyze_at(bundle, None)
}

/// As [`analyze`], with the capture start given: the live run analyses
/// before `collection.json` is written, and passes the same `started` it
/// then writes there, so both reach the same findings.
pub fn analyze_at(bundle: &BundleFiles, started: Option<Timestamp>) -> (Vec<Finding>, Vec<Gap>) {
    let started = started.or_else(|| {
        bundle
            .files
            .get(crate::records::collection::FILE)
            .and_then(|d| serde_json::from_slice::<Collection>(d).ok())
            .map(|c| c.started)
    });
    let mut found: Vec<Finding> = Vec::new();
    let mut gaps: Vec<Gap> = Vec::new();
    let platform = platform::Platform::of(bundle);
    network::analyze(bundle, &mut found, &mut gaps);
    processes::analyze(bundle, platform, &mut found, &mut gaps);
    accounts::analyze(bundle, started, &mut found, &mut gaps);
    found.sort_by_key(|f| (f.severity, rank(&f.rule)));
    (found, gaps)
}

/// Rules in the order a responder acts on them, within one severity: the
/// attacker's live connection first, then what hides, then the rest.
const RULE_ORDER: &[&str] = &[
    "reverse-shell",
    "hidden-socket",
    "hidden-pid",
    "hidden-module",
    "masquerade",
    "deleted-executable",
    "exe-in-temp",
    "preload",
    "orphan-socket",
    "uid0-account",
    "empty-password",
    "kernel-taint",
    "recent-admin",
];

fn rank(rule: &str) -> usize {
    RULE_ORDER
        .iter()
        .position(|r| *r == rule)
        .unwrap_or(RULE_ORDER.len())
}
