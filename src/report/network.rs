//! Report sections built from the sockets and network configuration
//! records: interfaces, established TCP, listening TCP, UDP, other sockets
//! (the classic order), and later routes, neighbours and DNS.

use super::ReportWriter;
use crate::bundle::BundleFiles;

/// Network interfaces (the classic `ipconfig /all`).
pub(super) fn interfaces(r: &mut ReportWriter, bundle: &BundleFiles) {
    let _ = bundle;
    r.section("Network interfaces");
    r.line("  (not collected on this platform yet)");
}

/// Established TCP, listening TCP, UDP, other sockets.
pub(super) fn sockets(r: &mut ReportWriter, bundle: &BundleFiles) {
    let _ = bundle;
    r.section("Established TCP connections");
    r.line("  (not collected on this platform yet)");
}

/// Routes, neighbours and DNS.
pub(super) fn routing(r: &mut ReportWriter, bundle: &BundleFiles) {
    let _ = bundle;
    r.section("Routes");
    r.line("  (not collected on this platform yet)");
}
