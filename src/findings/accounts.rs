//! Finding rules over the accounts records.

use crate::bundle::BundleFiles;
use crate::records::collection::Gap;
use crate::records::finding::Finding;

pub(super) fn analyze(bundle: &BundleFiles, found: &mut Vec<Finding>, gaps: &mut Vec<Gap>) {
    let _ = (bundle, found, gaps);
}
