//! S3-compatible object storage: one `PutObject` per bundle file, under
//! `<prefix>/<bundle>/<file>`, where the runner names the bundle
//! `<host>-<UTC time>` whatever `-o` calls the local copy, so that hosts
//! sharing a prefix never write to the same key.
//!
//! Limitation: S3 overwrites an existing key without asking, and the
//! conditional `If-None-Match: *` that would refuse it is ignored by some
//! stores (Garage among them), so irdump does not rely on it; the unique
//! bundle name, and a write-only key on a versioned bucket (see
//! `docs/fleet.md`), are what protect earlier evidence.
//!
//! Each request is signed locally by `rusty-s3` (SigV4 query signing: no
//! SDK, no async runtime) and sent by [`Http`]. The signature covers the
//! `x-amz-checksum-sha256` header, the base64 SHA-256 of the body, so the
//! server recomputes the digest of what it received and refuses a body
//! that differs (AWS, MinIO and Garage all do; `tests/upload_s3.rs` checks
//! Garage). The same digest is what `SHA256SUMS` records, so an object that
//! was accepted is byte for byte the file that was collected.
//!
//! A signed URL is made for each attempt and lives 5 minutes: long enough
//! for one request, too short to be worth stealing from a log (and it is
//! never logged).

use std::time::Duration;

use base64::Engine as _;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use sha2::{Digest, Sha256};

use super::http::Http;
use crate::upload::destination::S3Target;
use crate::upload::queue::{Delivery, Store};
use crate::upload::retry::Failure;

/// Lifetime of one signed request.
const SIGNATURE_LIFETIME: Duration = Duration::from_secs(300);

/// Uploads bundle files as objects.
pub struct S3Store {
    http: Http,
    bucket: Bucket,
    credentials: Credentials,
    key_prefix: String,
}

impl S3Store {
    /// A store for `target`, putting objects under `<prefix>/<bundle>/`.
    ///
    /// # Errors
    ///
    /// The endpoint and bucket do not make a valid URL.
    pub fn new(target: &S3Target, bundle: &str) -> Result<Self, String> {
        let style = if target.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            target.endpoint.clone(),
            style,
            target.bucket.clone(),
            target.region.clone(),
        )
        .map_err(|e| format!("endpoint and bucket do not form a URL: {e}"))?;
        let credentials = match &target.session_token {
            Some(token) => Credentials::new_with_token(
                target.access_key.clone(),
                target.secret_key.clone(),
                token.clone(),
            ),
            None => Credentials::new(target.access_key.clone(), target.secret_key.clone()),
        };
        Ok(S3Store {
            http: Http::new(),
            bucket,
            credentials,
            key_prefix: object_prefix(&target.prefix, bundle),
        })
    }
}

/// `<prefix>/<bundle>/`, or `<bundle>/` without a prefix.
pub fn object_prefix(prefix: &str, bundle: &str) -> String {
    if prefix.is_empty() {
        format!("{bundle}/")
    } else {
        format!("{prefix}/{bundle}/")
    }
}

/// The base64 SHA-256 that `x-amz-checksum-sha256` carries.
pub fn checksum_sha256(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(data))
}

impl Store for S3Store {
    fn put(&mut self, name: &str, data: &[u8]) -> Result<Delivery, Failure> {
        let key = format!("{}{name}", self.key_prefix);
        let checksum = checksum_sha256(data);
        let mut action = self.bucket.put_object(Some(&self.credentials), &key);
        action
            .headers_mut()
            .insert("x-amz-checksum-sha256", checksum.clone());
        let url = action.sign(SIGNATURE_LIFETIME);
        self.http
            .put(url.as_str(), &[("x-amz-checksum-sha256", &checksum)], data)?;
        Ok(Delivery::Stored)
    }

    fn finish(&mut self) -> Result<(), Failure> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_base64_of_sha256() {
        // sha256("abc") = ba7816bf...; its base64 is the AWS documentation's
        // example value.
        assert_eq!(
            checksum_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn keys_sit_under_prefix_and_bundle() {
        assert_eq!(object_prefix("cases/42", "h-1"), "cases/42/h-1/");
        assert_eq!(object_prefix("", "h-1"), "h-1/");
    }
}
