//! A presigned PUT URL (S3, GCS) or Azure SAS URL: the bundle leaves as one
//! tar archive, laid out exactly as `-o NAME.tar` writes it, so
//! `irdump verify` reads the downloaded object directly.
//!
//! Limitation: nothing leaves before the collection ends. The archive is
//! built in memory as files arrive and sent in one PUT once `SHA256SUMS` is
//! in it. Streaming it would need `Transfer-Encoding: chunked` or a length
//! known in advance; S3 presigned PUTs refuse the first (`411 Length
//! Required`, `501 NotImplemented`) and the second is only known at the
//! end. Bundles are a few MiB, so holding one in memory costs little; a
//! responder who needs section-by-section streaming uses `s3://` or `sftp://`.
//!
//! Integrity: the request carries `Content-MD5`, which S3, GCS, Azure and
//! Garage verify against the body they received. A checksum header of the
//! `x-amz-*` family cannot be used here, because S3 rejects unsigned
//! `x-amz-*` headers on a presigned request and whoever signed the URL could
//! not know the archive's digest in advance.

use base64::Engine as _;
use md5::{Digest, Md5};

use super::http::Http;
use crate::bundle::writer::tar_header;
use crate::upload::destination::PresignedTarget;
use crate::upload::queue::{Delivery, Store};
use crate::upload::retry::Failure;

/// Builds the archive, then PUTs it.
pub struct TarStore {
    http: Http,
    url: String,
    azure: bool,
    expires: Option<jiff::Timestamp>,
    bundle: String,
    mtime: u64,
    archive: Option<tar::Builder<Vec<u8>>>,
    finished: Option<Vec<u8>>,
}

impl TarStore {
    /// A store for `target`; the archive's top directory is `bundle`.
    pub fn new(target: &PresignedTarget, bundle: &str, mtime: u64) -> Self {
        let mut archive = tar::Builder::new(Vec::new());
        let mut header = tar_header(tar::EntryType::Directory, 0o700, 0, mtime);
        // Appending to a Vec cannot fail.
        let _ = archive.append_data(&mut header, format!("{bundle}/"), std::io::empty());
        TarStore {
            http: Http::new(),
            url: target.url.to_string(),
            azure: target.azure,
            expires: target.expires,
            bundle: bundle.to_owned(),
            mtime,
            archive: Some(archive),
            finished: None,
        }
    }
}

/// The base64 MD5 that `Content-MD5` carries.
pub fn content_md5(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(data))
}

impl Store for TarStore {
    fn put(&mut self, name: &str, data: &[u8]) -> Result<Delivery, Failure> {
        let archive = self
            .archive
            .as_mut()
            .ok_or_else(|| Failure::permanent("the archive was already sent"))?;
        let mut header = tar_header(
            tar::EntryType::Regular,
            0o600,
            data.len() as u64,
            self.mtime,
        );
        archive
            .append_data(&mut header, format!("{}/{name}", self.bundle), data)
            .map_err(|e| Failure::permanent(format!("building the archive: {e}")))?;
        Ok(Delivery::Held)
    }

    fn finish(&mut self) -> Result<(), Failure> {
        if self.finished.is_none() {
            let archive = self
                .archive
                .take()
                .ok_or_else(|| Failure::permanent("the archive was already sent"))?;
            let bytes = archive
                .into_inner()
                .map_err(|e| Failure::permanent(format!("closing the archive: {e}")))?;
            self.finished = Some(bytes);
        }
        let body = self.finished.as_deref().unwrap_or_default();
        let md5 = content_md5(body);
        let mut headers = vec![("content-md5", md5.as_str())];
        if self.azure {
            headers.push(("x-ms-blob-type", "BlockBlob"));
        }
        self.http
            .put(&self.url, &headers, body)
            .map_err(|f| match self.expires {
                Some(when) if !f.transient && jiff::Timestamp::now() > when => {
                    Failure::permanent(format!("the presigned URL expired at {when} ({})", f.cause))
                }
                _ => f,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_md5_is_base64_of_md5() {
        // RFC 1864: the MD5 of "abc" is 900150983cd24fb0d6963f7d28e17f72.
        assert_eq!(content_md5(b"abc"), "kAFQmDzST7DWlj99KOF/cg==");
    }
}
