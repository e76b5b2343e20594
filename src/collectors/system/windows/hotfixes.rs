//! Reads the servicing stack's package store for the hotfix list; the
//! choice of source and the decoding are explained in
//! [`crate::windows_formats::hotfixes`].

use crate::collector::{Context, Output};
use crate::records::system::Package;
use crate::windows_api::registry::RegKey;
use crate::windows_formats::hotfixes::{hotfix_packages, update_of, CbsEntry};
use crate::windows_formats::time::filetime_from_parts;
use crate::windows_formats::wide::utf16_lossless;

const STORE: &str = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages";

/// The updates in the package store; `None` (and a gap) when the store
/// cannot be read.
pub(super) fn installed_updates(ctx: &Context, out: &mut Output) -> Option<Vec<Package>> {
    let shown = format!(r"HKLM\{STORE}");
    let store = match RegKey::open_hklm(STORE) {
        Ok(k) => k,
        Err(e) => {
            out.gap(shown, format!("hotfix list not read: {e}"));
            return None;
        }
    };
    let names = match store.subkey_names() {
        Ok(n) => n,
        Err(e) => {
            out.gap(shown, format!("hotfix list not read: {e}"));
            return None;
        }
    };
    let mut entries = Vec::new();
    for units in names {
        let identity = utf16_lossless(&units);
        // Only updates are opened: the store also lists every feature and
        // language package (thousands), which are not hotfixes.
        if update_of(&identity).is_none() {
            continue;
        }
        if ctx.expired() {
            out.mark_timed_out();
            out.gap(
                shown.as_str(),
                "deadline passed while reading the hotfix list",
            );
            break;
        }
        let key = match store.open_subkey(&units) {
            Ok(k) => k,
            Err(e) => {
                out.gap(format!(r"{shown}\{identity}"), e);
                continue;
            }
        };
        let mut entry = CbsEntry {
            identity,
            ..CbsEntry::default()
        };
        match key.dword("CurrentState") {
            Ok(v) => entry.current_state = v,
            Err(e) => out.gap(format!(r"{shown}\{}\CurrentState", entry.identity), e),
        }
        match (key.dword("InstallTimeHigh"), key.dword("InstallTimeLow")) {
            (Ok(Some(high)), Ok(Some(low))) => {
                entry.install_time = Some(filetime_from_parts(high, low));
            }
            (Ok(_), Ok(_)) => {}
            (Err(e), _) | (_, Err(e)) => {
                out.gap(format!(r"{shown}\{}\InstallTime", entry.identity), e);
            }
        }
        entries.push(entry);
    }
    Some(hotfix_packages(&entries))
}
