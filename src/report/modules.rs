//! Report sections built from the modules records.

use super::ReportWriter;
use crate::bundle::BundleFiles;

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    let _ = bundle;
    r.section("Kernel modules");
    r.line("  (not collected on this platform yet)");
}
