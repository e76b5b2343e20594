//! Report sections built from the processes records.

use super::ReportWriter;
use crate::bundle::BundleFiles;

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    let _ = bundle;
    r.section("Processes");
    r.line("  (not collected on this platform yet)");
}
