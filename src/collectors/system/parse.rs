//! Parsers for the text files the Linux `system` collector reads. Each takes
//! the file's text, so it is tested on captured fixtures and fuzzed.

use crate::records::system::{OsRelease, Package};

/// Parses `/etc/os-release` (shell-style `KEY=value`, values optionally
/// quoted with `"` or `'`, backslash escapes inside double quotes).
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut os = OsRelease::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(raw.trim());
        let slot = match key.trim() {
            "ID" => &mut os.id,
            "NAME" => &mut os.name,
            "VERSION_ID" => &mut os.version_id,
            "VERSION" => &mut os.version,
            "VERSION_CODENAME" => &mut os.codename,
            "PRETTY_NAME" => &mut os.pretty_name,
            _ => continue,
        };
        *slot = Some(value);
    }
    os
}

fn unquote(raw: &str) -> String {
    let bytes = raw.as_bytes();
    if bytes.len() >= 2 && bytes[0] == b'\'' && bytes[bytes.len() - 1] == b'\'' {
        return raw[1..raw.len() - 1].to_owned();
    }
    if bytes.len() >= 2 && bytes[0] == b'"' && bytes[bytes.len() - 1] == b'"' {
        let inner = &raw[1..raw.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    raw.to_owned()
}

/// Parses dpkg's `/var/lib/dpkg/status`: RFC 822-style stanzas separated
/// by blank lines. Only packages whose status ends in `installed` (or is a
/// half-installed state worth seeing) are returned; `config-files` remnants
/// of removed packages are left out, as `dpkg -l` shows them apart.
pub fn parse_dpkg_status(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut name = None;
        let mut version = None;
        let mut arch = None;
        let mut status = None;
        for line in stanza.lines() {
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key {
                "Package" => name = Some(value.to_owned()),
                "Version" => version = Some(value.to_owned()),
                "Architecture" => arch = Some(value.to_owned()),
                "Status" => status = Some(value.to_owned()),
                _ => {}
            }
        }
        let Some(name) = name else { continue };
        if status
            .as_deref()
            .is_some_and(|s| s.ends_with("not-installed") || s.ends_with("config-files"))
        {
            continue;
        }
        out.push(Package {
            manager: "dpkg".into(),
            name,
            version,
            arch,
            install_time: None,
            status,
        });
    }
    out
}

/// Parses Alpine's `/lib/apk/db/installed`: stanzas of one-letter keys
/// (`P:` name, `V:` version, `A:` arch, `t:` build time).
pub fn parse_apk_installed(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut pkg = Package {
            manager: "apk".into(),
            name: String::new(),
            version: None,
            arch: None,
            install_time: None,
            status: None,
        };
        for line in stanza.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            match key {
                "P" => pkg.name = value.to_owned(),
                "V" => pkg.version = Some(value.to_owned()),
                "A" => pkg.arch = Some(value.to_owned()),
                _ => {}
            }
        }
        if !pkg.name.is_empty() {
            out.push(pkg);
        }
    }
    out
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
pub fn parse_meminfo_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// CPU model and logical CPU count from `/proc/cpuinfo`, and whether the
/// `hypervisor` flag is set.
pub fn parse_cpuinfo(text: &str) -> (Option<String>, u32, bool) {
    let mut model = None;
    let mut count = 0;
    let mut hypervisor = false;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key.trim() {
            "processor" => count += 1,
            "model name" if model.is_none() => model = Some(value.trim().to_owned()),
            "flags" if !hypervisor => {
                hypervisor = value.split_whitespace().any(|f| f == "hypervisor")
            }
            _ => {}
        }
    }
    (model, count, hypervisor)
}

/// `btime` (boot time, seconds since the epoch) from `/proc/stat`.
pub fn parse_stat_btime(text: &str) -> Option<i64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// Kernel image packages among installed dpkg packages: the running
/// kernel's package, and whether a newer kernel image is installed.
pub fn kernel_packages(
    packages: &[Package],
    running_release: &str,
) -> (Vec<String>, Option<String>, Option<bool>) {
    let kernels: Vec<&Package> = packages
        .iter()
        .filter(|p| p.name.starts_with("linux-image-") && p.name.len() > "linux-image-".len())
        .filter(|p| p.name["linux-image-".len()..].starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    if kernels.is_empty() {
        return (Vec::new(), None, None);
    }
    let listed = kernels
        .iter()
        .map(|p| format!("{} {}", p.name, p.version.as_deref().unwrap_or("?")))
        .collect();
    let running_name = format!("linux-image-{running_release}");
    let running = kernels
        .iter()
        .find(|p| p.name == running_name)
        .map(|p| p.name.clone());
    let release_of = |p: &Package| p.name["linux-image-".len()..].to_owned();
    let newest = kernels
        .iter()
        .map(|p| release_of(p))
        .max_by(|a, b| compare_versions(a, b));
    let newer =
        newest.map(|n| compare_versions(&n, running_release) == std::cmp::Ordering::Greater);
    (listed, running, newer)
}

/// Compares version strings by their runs of digits and non-digits, which
/// orders kernel releases such as `6.1.0-9` before `6.1.0-10`.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[i - 1].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = match (x, y) {
            ((true, xs), (true, ys)) => {
                let (xt, yt) = (xs.trim_start_matches('0'), ys.trim_start_matches('0'));
                xt.len().cmp(&yt.len()).then_with(|| xt.cmp(yt))
            }
            ((_, xs), (_, ys)) => xs.cmp(ys),
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    const OS_RELEASE: &str = include_str!("../../../tests/fixtures/os_release_debian12.txt");
    const DPKG: &str = include_str!("../../../tests/fixtures/dpkg_status_debian12_excerpt.txt");

    #[test]
    fn os_release_of_debian12() {
        let os = parse_os_release(OS_RELEASE);
        assert_eq!(os.id.as_deref(), Some("debian"));
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.codename.as_deref(), Some("bookworm"));
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn os_release_quoting() {
        let os = parse_os_release(
            "NAME='single'\nPRETTY_NAME=\"a \\\"q\\\" b\"\nID=bare\n# c\nbroken\n",
        );
        assert_eq!(os.name.as_deref(), Some("single"));
        assert_eq!(os.pretty_name.as_deref(), Some("a \"q\" b"));
        assert_eq!(os.id.as_deref(), Some("bare"));
    }

    #[test]
    fn dpkg_status_excerpt() {
        let pkgs = parse_dpkg_status(DPKG);
        assert!(pkgs
            .iter()
            .any(|p| p.name == "bash" && p.arch.as_deref() == Some("amd64")));
        assert_eq!(pkgs.len(), 3);
        let removed = "Package: old\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: new\nStatus: install ok installed\n";
        let pkgs = parse_dpkg_status(removed);
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].name, "new");
    }

    #[test]
    fn apk_installed() {
        let pkgs = parse_apk_installed(
            "C:Q1abc\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:busybox\nV:1.36.1-r5\n",
        );
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].name, "musl");
        assert_eq!(pkgs[1].version.as_deref(), Some("1.36.1-r5"));
    }

    #[test]
    fn kernel_versions_order_numerically() {
        assert_eq!(
            compare_versions("6.1.0-10-amd64", "6.1.0-9-amd64"),
            Ordering::Greater
        );
        assert_eq!(
            compare_versions("6.1.0-9-amd64", "6.1.0-9-amd64"),
            Ordering::Equal
        );
        let pkg = |n: &str| Package {
            manager: "dpkg".into(),
            name: n.into(),
            version: None,
            arch: None,
            install_time: None,
            status: None,
        };
        let pkgs = [
            pkg("linux-image-6.1.0-9-amd64"),
            pkg("linux-image-6.1.0-10-amd64"),
            pkg("linux-image-amd64"),
        ];
        let (listed, running, newer) = kernel_packages(&pkgs, "6.1.0-9-amd64");
        assert_eq!(listed.len(), 2);
        assert_eq!(running.as_deref(), Some("linux-image-6.1.0-9-amd64"));
        assert_eq!(newer, Some(true));
    }

    #[test]
    fn proc_text_fields() {
        assert_eq!(
            parse_meminfo_total("MemTotal:       24576000 kB\nMemFree: 1 kB\n"),
            Some(24576000 * 1024)
        );
        let (model, n, hv) = parse_cpuinfo(
            "processor\t: 0\nmodel name\t: Xeon\nflags\t\t: fpu hypervisor\n\nprocessor\t: 1\n",
        );
        assert_eq!((model.as_deref(), n, hv), (Some("Xeon"), 2, true));
        assert_eq!(
            parse_stat_btime("cpu 1 2\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
    }
}
