//! Finding rules: read the bundle's records, name what a responder must see
//! first. Each rule is a pure function of the records, so `irdump report`
//! on a copied bundle reaches the same findings as the live run.
//!
//! Rules are grouped by the records they read: [`network`] (sockets),
//! [`processes`], [`accounts`] (accounts and kernel modules).

mod accounts;
mod network;
mod processes;

use jiff::Timestamp;

use crate::bundle::BundleFiles;
use crate::records::collection::{Collection, Gap};
use crate::records::finding::Finding;

/// The bundle file name.
pub const FILE: &str = "findings.jsonl";

/// Runs every rule over the records; returns findings sorted most severe
/// first, and gaps for records that could not be read. The capture time
/// (for rules about what changed recently) is `collection.json`'s
/// `started`.
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
    network::analyze(bundle, &mut found, &mut gaps);
    processes::analyze(bundle, &mut found, &mut gaps);
    accounts::analyze(bundle, started, &mut found, &mut gaps);
    found.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.rule.cmp(&b.rule))
    });
    (found, gaps)
}
