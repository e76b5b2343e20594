//! Report sections built from the accounts records.

use super::ReportWriter;
use crate::bundle::BundleFiles;

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    let _ = bundle;
    r.section("Local administrators");
    r.line("  (not collected on this platform yet)");
}
