//! Which operating system a bundle came from, and the path shapes of each,
//! so that a rule written for one never misfires on the other's records.
//!
//! The platform is judged from what irdump's own collector code wrote, not
//! from host strings an attacker could set: socket records name their
//! source (`netlink`/`procfs` on Linux, `windows_api` on Windows), and an
//! executable path read from `/proc/<pid>/exe` always starts with `/`
//! while one from `QueryFullProcessImageNameW` starts with a drive letter
//! or `\\`. Any Linux sign wins: a root attacker cannot turn the Linux
//! rules off by writing `ID=windows` into `/etc/os-release`, which is only
//! consulted (as `system.json`'s `os.id`) when neither sign is present.

use crate::bundle::BundleFiles;
use crate::records::network::{self, SocketRecord};
use crate::records::process::{self, ProcessRecord};
use crate::records::system::{self, SystemInfo};

/// The operating system a bundle was collected on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Linux (also the answer when nothing says otherwise).
    Linux,
    /// Windows.
    Windows,
}

impl Platform {
    /// Judges the bundle's platform from its records (see the module
    /// documentation for which signs count).
    pub fn of(bundle: &BundleFiles) -> Platform {
        let mut windows = false;
        if let Some(sockets) = bundle.shared_records::<SocketRecord>(network::FILE) {
            for s in &sockets.records {
                for source in &s.sources {
                    match source.as_str() {
                        "netlink" | "procfs" => return Platform::Linux,
                        "windows_api" => windows = true,
                        _ => {}
                    }
                }
            }
        }
        if let Some(procs) = bundle.shared_records::<ProcessRecord>(process::FILE) {
            for p in &procs.records {
                match p.exe.as_deref() {
                    Some(exe) if exe.starts_with('/') => return Platform::Linux,
                    Some(exe) if is_windows_path(exe) => windows = true,
                    _ => {}
                }
            }
        }
        if windows {
            return Platform::Windows;
        }
        let os_id = bundle
            .files
            .get(system::FILE)
            .and_then(|d| serde_json::from_slice::<SystemInfo>(d).ok())
            .and_then(|s| s.os.id);
        if os_id.as_deref() == Some("windows") {
            Platform::Windows
        } else {
            Platform::Linux
        }
    }
}

/// True for a Windows path: `C:\...`, `\\server\share`, `\\?\C:\...`,
/// `\Device\...`.
pub fn is_windows_path(path: &str) -> bool {
    let b = path.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/'))
        || path.starts_with('\\')
}

/// A Windows path reduced to compare by: lowercase, backslashes, without
/// the `\\?\` or `\??\` prefix, the drive letter or the
/// `\Device\HarddiskVolumeN` volume, so `C:\Windows\System32\svchost.exe`
/// becomes `\windows\system32\svchost.exe`. `\SystemRoot\` becomes
/// `\windows\`.
pub fn windows_key(path: &str) -> String {
    let mut p = path.replace('/', "\\").to_lowercase();
    for prefix in ["\\\\?\\", "\\??\\"] {
        if let Some(rest) = p.strip_prefix(prefix) {
            p = rest.to_owned();
        }
    }
    let b = p.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        p.drain(..2);
    } else if let Some(rest) = p.strip_prefix("\\device\\") {
        // `\Device\HarddiskVolume3\Windows\...`: drop the volume.
        p = match rest.find('\\') {
            Some(i) => rest[i..].to_owned(),
            None => String::new(),
        };
    } else if let Some(rest) = p.strip_prefix("\\systemroot\\") {
        p = format!("\\windows\\{rest}");
    }
    p
}

/// The last component of a path of either shape.
pub fn basename(path: &str) -> &str {
    let cut = if is_windows_path(path) {
        path.rfind(['\\', '/'])
    } else {
        path.rfind('/')
    };
    cut.map_or(path, |i| &path[i + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_paths_are_reduced_to_one_form() {
        for p in [
            "C:\\Windows\\System32\\svchost.exe",
            "c:/windows/system32/SVCHOST.EXE",
            "\\\\?\\C:\\Windows\\System32\\svchost.exe",
            "\\??\\D:\\Windows\\System32\\svchost.exe",
            "\\Device\\HarddiskVolume3\\Windows\\System32\\svchost.exe",
            "\\SystemRoot\\System32\\svchost.exe",
        ] {
            assert_eq!(windows_key(p), "\\windows\\system32\\svchost.exe", "{p}");
        }
        assert!(is_windows_path("C:\\x") && is_windows_path("\\\\srv\\share\\x"));
        assert!(!is_windows_path("/usr/bin/x") && !is_windows_path("memfd:x"));
        assert_eq!(basename("C:\\Users\\Public\\a.exe"), "a.exe");
        assert_eq!(basename("/tmp/a\\b"), "a\\b");
    }
}
