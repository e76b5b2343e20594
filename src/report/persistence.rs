//! Report sections built from the persistence records.

use super::ReportWriter;
use crate::bundle::BundleFiles;

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    let _ = bundle;
    r.section("Persistence pointers");
    r.line("  (not collected on this platform yet)");
}
