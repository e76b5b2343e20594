//! `irdump verify`: checks every file of a bundle against its `SHA256SUMS`
//! and names each modified, missing or unexpected file.

use crate::bundle::{manifest, BundleFiles};

/// What `verify` found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Files whose digest matched.
    pub intact: Vec<String>,
    /// Files present whose digest differs from the manifest.
    pub modified: Vec<String>,
    /// Files the manifest lists that are absent.
    pub missing: Vec<String>,
    /// Files (or other entries) present but not in the manifest.
    pub unexpected: Vec<String>,
    /// SHA-256 of `SHA256SUMS` as found.
    pub manifest_sha256: String,
}

impl Verdict {
    /// True when nothing was modified, missing or added.
    pub fn is_intact(&self) -> bool {
        self.modified.is_empty() && self.missing.is_empty() && self.unexpected.is_empty()
    }
}

/// Why a bundle could not be verified at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No manifest in the bundle.
    #[error("no {} in the bundle: it cannot be verified", manifest::FILE)]
    NoManifest,
    /// The manifest is not valid.
    #[error(transparent)]
    BadManifest(#[from] manifest::ManifestError),
}

/// Checks `bundle` against its own manifest.
///
/// # Errors
///
/// [`VerifyError`] when there is no usable manifest.
pub fn verify(bundle: &BundleFiles) -> Result<Verdict, VerifyError> {
    let text = bundle
        .files
        .get(manifest::FILE)
        .ok_or(VerifyError::NoManifest)?;
    let entries = manifest::parse(&String::from_utf8_lossy(text))?;
    let mut verdict = Verdict {
        manifest_sha256: manifest::sha256_hex(text),
        ..Verdict::default()
    };
    for (name, digest) in &entries {
        match bundle.files.get(name) {
            None => verdict.missing.push(name.clone()),
            Some(data) if manifest::sha256_hex(data) == *digest => {
                verdict.intact.push(name.clone())
            }
            Some(_) => verdict.modified.push(name.clone()),
        }
    }
    for name in bundle.files.keys() {
        if name != manifest::FILE && !entries.iter().any(|(n, _)| n == name) {
            verdict.unexpected.push(name.clone());
        }
    }
    verdict
        .unexpected
        .extend(bundle.odd_entries.iter().cloned());
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(files: &[(&str, &[u8])]) -> BundleFiles {
        let mut b = BundleFiles::default();
        let entries: Vec<(String, String)> = files
            .iter()
            .map(|(n, d)| (n.to_string(), manifest::sha256_hex(d)))
            .collect();
        for (n, d) in files {
            b.files.insert(n.to_string(), d.to_vec());
        }
        b.files.insert(
            manifest::FILE.into(),
            manifest::render(&entries).into_bytes(),
        );
        b
    }

    #[test]
    fn intact_bundle_passes() {
        let b = bundle(&[("a.json", b"{}"), ("b.jsonl", b"")]);
        let v = verify(&b).unwrap();
        assert!(v.is_intact());
        assert_eq!(v.intact.len(), 2);
    }

    #[test]
    fn each_kind_of_tampering_is_named() {
        let mut b = bundle(&[("a.json", b"{}"), ("b.jsonl", b"x"), ("c.txt", b"report")]);
        b.files.insert("a.json".into(), b"{ }".to_vec());
        b.files.remove("b.jsonl");
        b.files.insert("planted.txt".into(), b"evil".to_vec());
        let v = verify(&b).unwrap();
        assert_eq!(v.modified, vec!["a.json"]);
        assert_eq!(v.missing, vec!["b.jsonl"]);
        assert_eq!(v.unexpected, vec!["planted.txt"]);
        assert!(!v.is_intact());
    }

    #[test]
    fn missing_manifest_is_an_error() {
        let mut b = bundle(&[("a.json", b"{}")]);
        b.files.remove(manifest::FILE);
        assert!(matches!(verify(&b), Err(VerifyError::NoManifest)));
    }
}
