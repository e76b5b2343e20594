//! Finding rules: read the bundle's records, name what a responder must see
//! first. Each rule is a pure function of the records, so `irdump report`
//! on a copied bundle reaches the same findings as the live run.
//!
//! Rules are grouped by the records they read: [`network`] (sockets),
//! [`processes`], [`accounts`] (accounts and kernel modules).

mod accounts;
mod network;
mod processes;

use crate::bundle::BundleFiles;
use crate::records::collection::Gap;
use crate::records::finding::Finding;

/// The bundle file name.
pub const FILE: &str = "findings.jsonl";

/// Runs every rule over the records; returns findings sorted most severe
/// first, and gaps for records that could not be read.
pub fn analyze(bundle: &BundleFiles) -> (Vec<Finding>, Vec<Gap>) {
    let mut found: Vec<Finding> = Vec::new();
    let mut gaps: Vec<Gap> = Vec::new();
    network::analyze(bundle, &mut found, &mut gaps);
    processes::analyze(bundle, &mut found, &mut gaps);
    accounts::analyze(bundle, &mut found, &mut gaps);
    found.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.rule.cmp(&b.rule))
    });
    (found, gaps)
}
