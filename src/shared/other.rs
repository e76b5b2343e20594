//! Platforms without `/proc`: no descriptor scan. Their collectors get
//! owners from their own APIs (Windows tables carry the owning PID).

use super::{FdScan, StartTicks};

pub(super) fn scan_fds() -> (FdScan, StartTicks) {
    (FdScan::default(), StartTicks::new())
}
