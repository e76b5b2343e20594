//! The destinations themselves: HTTP for S3 and presigned URLs, SSH for
//! SFTP. Everything here links `ring` (through rustls and russh).
//!
//! Crates, chosen so the static musl build stays free of C libraries other
//! than what `ring` compiles itself: `ureq` (blocking HTTP, rustls with
//! ring) for S3 and presigned URLs ([`http`]), `rusty-s3` to sign requests
//! locally (no SDK, no async runtime; [`s3`]), `russh` and `russh-sftp`
//! for SFTP (they need tokio, which stays inside [`sftp`]; see there why).

pub mod hostkey;
pub mod http;
pub mod presigned;
pub mod s3;
pub mod sftp;

use std::path::PathBuf;
use std::sync::Arc;

use super::destination::Destination;
use super::queue::Store;
use super::{UploadError, UploadOptions};
use hostkey::HostTrust;
use sftp::SftpAuth;

/// What a destination needs besides its address: the SFTP key and host
/// trust, read before anything is collected.
pub struct Auth(Option<SftpAuth>);

/// Reads the key file and known hosts an `sftp://` destination needs.
///
/// # Errors
///
/// [`UploadError`] naming the option and the cause.
pub fn prepare_auth(destination: &Destination, opts: &UploadOptions) -> Result<Auth, UploadError> {
    match destination {
        Destination::Sftp(_) => sftp_auth(opts).map(|a| Auth(Some(a))),
        _ => Ok(Auth(None)),
    }
}

/// The store that sends to `destination`.
///
/// # Errors
///
/// Why it cannot be made (already free of secrets).
pub fn open_store(
    destination: &Destination,
    auth: Auth,
    bundle: &str,
    mtime: u64,
) -> Result<Box<dyn Store>, String> {
    match (destination, auth.0) {
        (Destination::S3(s), _) => {
            s3::S3Store::new(s, bundle).map(|s| Box::new(s) as Box<dyn Store>)
        }
        (Destination::Presigned(p), _) => Ok(Box::new(presigned::TarStore::new(p, bundle, mtime))),
        (Destination::Sftp(t), Some(auth)) => Ok(Box::new(sftp::SftpStore::new(t, auth, bundle))),
        (Destination::Sftp(_), None) => Err("no SFTP credentials".into()),
    }
}

fn sftp_auth(opts: &UploadOptions) -> Result<SftpAuth, UploadError> {
    let key_path = opts.sftp_key.as_ref().ok_or_else(|| {
        UploadError::Option("an sftp:// destination needs --sftp-key FILE".into())
    })?;
    let key = SftpAuth::load_key(key_path).map_err(|reason| UploadError::Key {
        path: key_path.display().to_string(),
        reason,
    })?;
    let trust = match (&opts.host_key_fingerprint, &opts.known_hosts) {
        (Some(_), Some(_)) => {
            return Err(UploadError::Option(
                "give --known-hosts or --host-key-fingerprint, not both".into(),
            ))
        }
        (Some(fp), None) => HostTrust::fingerprint(fp).map_err(UploadError::Fingerprint)?,
        (None, known) => {
            let path = match known {
                Some(p) => p.clone(),
                None => default_known_hosts().ok_or_else(|| {
                    UploadError::Option(
                        "no known hosts file to check the server against: give --known-hosts \
                         FILE or --host-key-fingerprint SHA256:..."
                            .into(),
                    )
                })?,
            };
            HostTrust::known_hosts_file(&path).map_err(|reason| UploadError::KnownHosts {
                path: path.display().to_string(),
                reason,
            })?
        }
    };
    Ok(SftpAuth {
        key: Arc::new(key),
        trust: Arc::new(trust),
    })
}

/// `$HOME/.ssh/known_hosts`, when it exists.
fn default_known_hosts() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = PathBuf::from(home).join(".ssh").join("known_hosts");
    path.is_file().then_some(path)
}
