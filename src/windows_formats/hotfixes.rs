//! Installed Windows updates (the list `systeminfo` prints as "Hotfix(s)"),
//! from the servicing stack's package store in the registry:
//! `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based
//! Servicing\Packages`.
//!
//! Why this source: `systeminfo` and `Get-HotFix` ask WMI
//! (`Win32_QuickFixEngineering`), which is COM and runs in another
//! process; the old `...\Windows NT\CurrentVersion\Hotfix` key stopped
//! being written with Windows Vista. The Component Based Servicing (CBS)
//! store is what the servicing stack itself (and `dism /get-packages`)
//! reads; it is a plain registry key, readable without COM.
//!
//! Each subkey is a package identity
//! `<name>~<public key token>~<arch>~<language>~<version>`, for example
//! `Package_for_KB5005565~31bf3856ad364e35~amd64~~19041.1237.1.8`. One
//! update is often several packages (`Package_1_for_KB...`,
//! `Package_2_for_KB...`); they become one record per KB number, taken
//! from `Package_for_KB...` when present. Cumulative updates are named
//! `Package_for_RollupFix` with no KB number: each is kept as `RollupFix`
//! with its version, which is the build and revision it brings the system
//! to. The `CurrentState` value is named after the table Microsoft
//! published ("CBS Servicing States Chart", TechNet, 2015): 0x70 is
//! `Installed`, 0x50 `Superseded`, 0x60 `Install Pending`, and so on;
//! `InstallTimeHigh`/`InstallTimeLow` form a FILETIME.
//!
//! Limitation: updates installed by other means (MSI-based Office
//! patches, store apps, drivers) are not in this store and not listed.

use std::collections::BTreeMap;

use super::time::filetime_to_timestamp;
use crate::records::system::Package;

/// The bundle's package manager name for Windows updates.
pub const MANAGER: &str = "windows-hotfix";

/// One subkey of the CBS package store, as read from the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CbsEntry {
    /// The subkey name: the package identity.
    pub identity: String,
    /// `CurrentState`, when readable.
    pub current_state: Option<u32>,
    /// `InstallTimeHigh`/`InstallTimeLow` joined, when both are readable.
    pub install_time: Option<u64>,
}

/// The name of a CBS `CurrentState` value.
pub fn state_name(state: u32) -> String {
    let name = match state {
        0x00 => "Absent",
        0x05 => "Uninstall Pending",
        0x10 => "Resolving",
        0x20 => "Resolved",
        0x30 => "Staging",
        0x40 => "Staged",
        0x50 => "Superseded",
        0x60 => "Install Pending",
        0x65 => "Partially Installed",
        0x70 => "Installed",
        0x80 => "Permanent",
        other => return format!("state 0x{other:x}"),
    };
    name.to_owned()
}

/// The update a package identity belongs to: `KB<digits>` found in its
/// name part, or `RollupFix` for cumulative updates; with the identity's
/// architecture and version. `None` for packages that are not updates.
pub fn update_of(identity: &str) -> Option<(String, Option<String>, Option<String>)> {
    let mut parts = identity.split('~');
    let name = parts.next()?;
    let _token = parts.next();
    let arch = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
    let _language = parts.next();
    let version = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
    let id = kb_number(name).or_else(|| {
        name.strip_prefix("Package_for_RollupFix")
            .filter(|rest| rest.is_empty())
            .map(|_| "RollupFix".to_owned())
    })?;
    Some((id, arch, version))
}

/// `KB` followed by at least one digit, as a word inside `name`.
fn kb_number(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut from = 0;
    while let Some(pos) = name[from..].find("KB") {
        let start = from + pos;
        let digits = bytes[start + 2..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let boundary_before = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        if digits > 0 && boundary_before {
            return Some(name[start..start + 2 + digits].to_owned());
        }
        from = start + 2;
    }
    None
}

/// Turns the package store into one [`Package`] per update (see the module
/// documentation), sorted by name then version.
pub fn hotfix_packages(entries: &[CbsEntry]) -> Vec<Package> {
    // (update id, version for RollupFix) -> (is the main package, entry)
    let mut chosen: BTreeMap<(String, Option<String>), (bool, &CbsEntry)> = BTreeMap::new();
    for entry in entries {
        let Some((id, _, version)) = update_of(&entry.identity) else {
            continue;
        };
        let main = entry.identity.starts_with(&format!("Package_for_{id}~"));
        let key = if id == "RollupFix" {
            (id, version)
        } else {
            (id, None)
        };
        match chosen.get(&key) {
            Some((true, _)) => {}
            Some((false, current)) if !main && current.identity <= entry.identity => {}
            _ => {
                chosen.insert(key, (main, entry));
            }
        }
    }
    chosen
        .into_iter()
        .map(|((id, _), (_, entry))| {
            let (_, arch, version) = update_of(&entry.identity).unwrap_or_default();
            Package {
                manager: MANAGER.into(),
                name: id,
                version,
                arch,
                install_time: entry.install_time.and_then(filetime_to_timestamp),
                status: entry.current_state.map(state_name),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(identity: &str, state: u32) -> CbsEntry {
        CbsEntry {
            identity: identity.into(),
            current_state: Some(state),
            // 2021-09-15T00:00:00Z
            install_time: Some(132_761_376_000_000_000),
        }
    }

    /// Package identities in the form `dism /online /get-packages` and the
    /// registry show them on Windows 10 21H1 (names from Microsoft's
    /// servicing documentation and public update listings).
    fn store() -> Vec<CbsEntry> {
        vec![
            entry(
                "Package_for_KB5005565~31bf3856ad364e35~amd64~~19041.1237.1.8",
                0x70,
            ),
            entry(
                "Package_1_for_KB5005565~31bf3856ad364e35~amd64~~19041.1237.1.8",
                0x70,
            ),
            entry(
                "Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.1237.1.8",
                0x70,
            ),
            entry(
                "Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.1202.1.7",
                0x50,
            ),
            entry(
                "Package_2_for_KB4562830~31bf3856ad364e35~amd64~~10.0.1.0",
                0x70,
            ),
            entry(
                "Package_1_for_KB4562830~31bf3856ad364e35~amd64~~10.0.1.0",
                0x70,
            ),
            entry(
                "Microsoft-Windows-Client-LanguagePack-Package~31bf3856ad364e35~amd64~en-US~10.0.19041.1237",
                0x70,
            ),
            entry(
                "Package_for_ServicingStack_1220~31bf3856ad364e35~amd64~~19041.1220.1.0",
                0x70,
            ),
        ]
    }

    #[test]
    fn one_record_per_update_from_the_main_package() {
        let pkgs = hotfix_packages(&store());
        let names: Vec<(&str, Option<&str>, Option<&str>)> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_deref(), p.status.as_deref()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("KB4562830", Some("10.0.1.0"), Some("Installed")),
                ("KB5005565", Some("19041.1237.1.8"), Some("Installed")),
                ("RollupFix", Some("19041.1202.1.7"), Some("Superseded")),
                ("RollupFix", Some("19041.1237.1.8"), Some("Installed")),
            ]
        );
        assert!(pkgs.iter().all(|p| p.manager == MANAGER));
        assert_eq!(pkgs[1].arch.as_deref(), Some("amd64"));
        assert_eq!(
            pkgs[1].install_time.unwrap().to_string(),
            "2021-09-15T00:00:00Z"
        );
    }

    #[test]
    fn kb_numbers_are_whole_words() {
        assert_eq!(
            kb_number("Package_for_KB5005565").as_deref(),
            Some("KB5005565")
        );
        assert_eq!(kb_number("Package_10_for_KB123").as_deref(), Some("KB123"));
        assert_eq!(kb_number("KB1").as_deref(), Some("KB1"));
        assert_eq!(kb_number("Package_for_KB"), None);
        assert_eq!(kb_number("XKB123"), None);
        assert_eq!(kb_number("Microsoft-Windows-Foundation-Package"), None);
    }

    #[test]
    fn odd_identities_do_not_panic() {
        assert_eq!(update_of(""), None);
        assert_eq!(
            update_of("Package_for_KB1"),
            Some(("KB1".into(), None, None))
        );
        assert_eq!(update_of("Package_for_RollupFixes~x~amd64~~1"), None);
        let missing = CbsEntry {
            identity: "Package_for_KB9~t~~~".into(),
            ..CbsEntry::default()
        };
        let pkgs = hotfix_packages(&[missing]);
        assert_eq!(pkgs[0].name, "KB9");
        assert_eq!(pkgs[0].status, None);
        assert_eq!(pkgs[0].install_time, None);
    }

    #[test]
    fn states() {
        assert_eq!(state_name(0x70), "Installed");
        assert_eq!(state_name(0x65), "Partially Installed");
        assert_eq!(state_name(0x7), "state 0x7");
    }
}
