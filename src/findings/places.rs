//! Where an executable lies, as the process rules grade it: temporary,
//! world-writable, hidden or memory-only places (the `exe-in-temp` rule,
//! also used by `preload` for libraries), and the system directories only
//! an administrator or the package manager writes (which lower
//! `deleted-executable` and `masquerade`). Linux and Windows paths alike;
//! a path's shape says which it is.

use crate::records::finding::{Finding, Severity};
use crate::records::process::ProcessRecord;

use super::platform::{is_windows_path, windows_key};
use super::processes::{group_by, group_finding, who};

/// A place an executable may come from and how much it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Place {
    /// How the summary names it.
    pub what: &'static str,
    /// The finding's severity.
    pub severity: Severity,
}

fn place(what: &'static str, severity: Severity) -> Option<Place> {
    Some(Place { what, severity })
}

/// True for a memfd (anonymous, memory-only) file as `/proc` names it.
pub(super) fn is_memfd(path: &str) -> bool {
    path.starts_with("/memfd:") || path.starts_with("memfd:")
}

/// Directories only the system writes: a package upgrade (or Windows
/// Update) replaces files there while their old versions still run.
pub(super) fn in_system_dir(path: &str) -> bool {
    if is_windows_path(path) {
        let key = windows_key(path);
        return [
            "\\windows\\",
            "\\program files\\",
            "\\program files (x86)\\",
        ]
        .iter()
        .any(|d| key.starts_with(d))
            && !key.starts_with("\\windows\\temp\\");
    }
    [
        "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/opt/", "/snap/",
    ]
    .iter()
    .any(|d| path.starts_with(d))
}

/// Where an executable (or library) sits if it is in a temporary,
/// per-user runtime, hidden or memory-only place.
pub(super) fn temp_place(path: &str) -> Option<Place> {
    if is_windows_path(path) {
        return windows_temp_place(&windows_key(path));
    }
    if is_memfd(path) {
        return place("memory only (memfd)", Severity::Medium);
    }
    for (dir, what) in [
        ("/tmp/", "/tmp"),
        ("/var/tmp/", "/var/tmp"),
        ("/dev/shm/", "/dev/shm"),
    ] {
        if path.starts_with(dir) {
            return place(what, Severity::High);
        }
    }
    if path.starts_with("/run/user/") {
        return place("/run/user", Severity::Medium);
    }
    let components: Vec<&str> = path.split('/').collect();
    let hidden = components
        .iter()
        .position(|c| c.starts_with('.') && *c != "." && *c != "..")?;
    if is_home_toolchain(&components, hidden) {
        return place("a per-user toolchain directory (hidden)", Severity::Low);
    }
    place("a hidden directory or file", Severity::Medium)
}

/// Hidden directories that language toolchain managers install into, in
/// the top of a home directory (`/root` or `/home/<user>`): a developer's
/// `cargo` and `rustc` run from there all day. Still a finding (an
/// attacker who owns the account can drop a file there as anywhere in its
/// home), only a low one; the evidence carries the hash to compare.
fn is_home_toolchain(components: &[&str], hidden: usize) -> bool {
    let in_home = match components {
        ["", "root", ..] => hidden == 2,
        ["", "home", user, ..] => hidden == 3 && !user.starts_with('.'),
        _ => false,
    };
    let rest = &components[hidden..];
    let known = matches!(
        rest,
        [".rustup", "toolchains", _, _, _, ..]
            | [".cargo", "bin", _]
            | [".vscode-server", _, _, ..]
            | [".nvm", "versions", _, _, _, ..]
            | [".pyenv", "versions", _, _, _, ..]
    );
    in_home && known
}

/// The Windows drop locations, on a [`windows_key`]. `%TEMP%` is medium,
/// not high as `/tmp` is: installers and Windows' own servicing
/// (`DismHost.exe`, Defender's `MpSigStub.exe`) run from there.
fn windows_temp_place(key: &str) -> Option<Place> {
    if key.contains("\\appdata\\local\\temp\\") {
        return place("a user's temporary directory", Severity::Medium);
    }
    if key.starts_with("\\windows\\temp\\") {
        return place("the Windows temporary directory", Severity::Medium);
    }
    if key.starts_with("\\users\\public\\") {
        return place("C:\\Users\\Public (writable by every user)", Severity::High);
    }
    if key.starts_with("\\$recycle.bin\\") {
        return place("the recycle bin", Severity::High);
    }
    // Vendors install into their own subdirectories of ProgramData
    // (Defender runs from ProgramData\Microsoft\...); a program at its top
    // is how droppers use it.
    let top_of_program_data = key
        .strip_prefix("\\programdata\\")
        .is_some_and(|rest| !rest.contains('\\'));
    if top_of_program_data {
        return place(
            "the top of C:\\ProgramData (writable by every user)",
            Severity::Medium,
        );
    }
    None
}

/// `exe-in-temp`: an executable in one of the [`temp_place`]s.
pub(super) fn exe_in_temp(procs: &[ProcessRecord], found: &mut Vec<Finding>) {
    let groups = group_by(procs, |p| {
        let exe = p.exe.as_deref()?;
        temp_place(exe).map(|_| exe.to_owned())
    });
    for (exe, group) in groups {
        let Some(place) = temp_place(&exe) else {
            continue;
        };
        let summary = format!("{} {exe} from {}", who(&group, "runs", "run"), place.what);
        found.push(group_finding(
            "exe-in-temp",
            place.severity,
            &group,
            summary,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn severity(path: &str) -> Option<Severity> {
        temp_place(path).map(|p| p.severity)
    }

    #[test]
    fn linux_places() {
        assert_eq!(severity("/tmp/x"), Some(Severity::High));
        assert_eq!(severity("/var/tmp/.a/b"), Some(Severity::High));
        assert_eq!(severity("/memfd:x (deleted)"), Some(Severity::Medium));
        assert_eq!(severity("/home/bob/.cache/x"), Some(Severity::Medium));
        assert_eq!(severity("/usr/bin/sleep"), None);
        assert_eq!(severity("/opt/tmp/x"), None);
    }

    #[test]
    fn toolchains_in_a_home_are_low_and_look_alikes_are_not() {
        for low in [
            "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/rustc",
            "/home/dev/.cargo/bin/cargo-fuzz",
            "/home/dev/.vscode-server/bin/abc/node",
        ] {
            assert_eq!(severity(low), Some(Severity::Low), "{low}");
        }
        for medium in [
            "/root/.cargo/bin/sub/x",
            "/home/dev/.cargo/x",
            "/srv/.rustup/toolchains/a/bin/rustc",
            "/home/dev/work/.cargo/bin/x",
            "/home/.dev/.cargo/bin/x",
            "/root/.rustup/toolchains/x",
        ] {
            assert_eq!(severity(medium), Some(Severity::Medium), "{medium}");
        }
        assert_eq!(
            severity("/tmp/.rustup/toolchains/a/bin/rustc"),
            Some(Severity::High)
        );
    }

    #[test]
    fn windows_places() {
        let cases = [
            (
                "C:\\Users\\bob\\AppData\\Local\\Temp\\x.exe",
                Some(Severity::Medium),
            ),
            (
                "C:\\Windows\\Temp\\{A}\\DismHost.exe",
                Some(Severity::Medium),
            ),
            ("C:\\Users\\Public\\svc.exe", Some(Severity::High)),
            ("c:\\$Recycle.Bin\\S-1-5-21\\x.exe", Some(Severity::High)),
            ("C:\\ProgramData\\update.exe", Some(Severity::Medium)),
            (
                "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18\\MsMpEng.exe",
                None,
            ),
            ("C:\\Windows\\System32\\svchost.exe", None),
            ("C:\\Program Files\\App\\.hidden\\x.exe", None),
        ];
        for (path, expected) in cases {
            assert_eq!(severity(path), expected, "{path}");
        }
        assert!(in_system_dir("C:\\Program Files (x86)\\App\\a.exe"));
        assert!(!in_system_dir("C:\\Windows\\Temp\\a.exe"));
        assert!(!in_system_dir("C:\\Users\\bob\\a.exe"));
    }
}
