//! Builds for Apple targets have no upload transports.
//!
//! Limitation: `--upload` is refused in macOS builds. Its TLS and SSH
//! crates link `ring`, whose C and assembly cannot be compiled for macOS
//! from Linux, where this project builds and checks its macOS target; a
//! build on a Mac could enable the transports, but none has been tested.

use super::destination::Destination;
use super::queue::Store;
use super::{UploadError, UploadOptions};

/// Nothing: there is no transport to authenticate.
pub struct Auth;

/// Always refuses: there is no transport in this build.
///
/// # Errors
///
/// [`UploadError::Option`] saying so.
pub fn prepare_auth(
    _destination: &Destination,
    _opts: &UploadOptions,
) -> Result<Auth, UploadError> {
    Err(UploadError::Option(
        "--upload is not available in macOS builds (see docs/fleet.md); stream with -o - instead"
            .into(),
    ))
}

/// Never reached: [`prepare_auth`] refuses first.
///
/// # Errors
///
/// Always.
pub fn open_store(
    _destination: &Destination,
    _auth: Auth,
    _bundle: &str,
    _mtime: u64,
) -> Result<Box<dyn Store>, String> {
    Err("no upload transport in this build".into())
}
