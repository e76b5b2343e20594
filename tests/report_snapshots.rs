//! The report's layout, locked by snapshots of `report::render` over two
//! hand-written fixture bundles: a Linux web server (a reverse shell from a
//! web shell, a deleted miner in `/tmp`, a fake kernel worker, a hidden
//! socket and process, a hidden module, a second root, `/etc/ld.so.preload`)
//! and a Windows workstation (a PowerShell reverse shell, an impostor
//! `svchost.exe` in `C:\Users\Public`, an installer in `%TEMP%`, hotfixes,
//! WTS sessions). Both carry hostile strings: escape sequences, a forged
//! section header, a bidi override, invalid UTF-8, C1 controls.
//!
//! The snapshots live in `tests/snapshots/` (insta). `cargo test` fails on
//! any difference and writes nothing; after an intended change, review the
//! new text with `INSTA_UPDATE=always cargo test --test report_snapshots`
//! and `git diff tests/snapshots`, or `cargo insta review`.
//!
//! The fixtures' `findings.jsonl` is what the rules make of their records
//! (checked below); after changing a rule, rewrite it from
//! `irdump report --format json` (its `findings` array, one per line).

#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

use std::path::{Path, PathBuf};

use irdump::bundle::BundleFiles;
use irdump::records::finding::Finding;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load(name: &str) -> BundleFiles {
    BundleFiles::load(&fixture(name)).unwrap()
}

/// The report must be printable text whatever the records hold.
fn assert_printable(report: &str) {
    for (i, line) in report.lines().enumerate() {
        assert!(
            !line.chars().any(|c| c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
            "line {}: {line:?}",
            i + 1
        );
    }
}

#[test]
fn linux_bundle_report() {
    let report = irdump::report::render(&load("bundle_linux"));
    assert_printable(&report);
    insta::assert_snapshot!("linux_report", report);
}

#[test]
fn windows_bundle_report() {
    let report = irdump::report::render(&load("bundle_windows"));
    assert_printable(&report);
    insta::assert_snapshot!("windows_report", report);
}

#[test]
fn json_reports_lock_the_findings() {
    for name in ["bundle_linux", "bundle_windows"] {
        let json = irdump::report::render_json(&load(name));
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let short: Vec<String> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f["severity"].as_str().unwrap(),
                    f["rule"].as_str().unwrap(),
                    f["pids"],
                    f["summary"].as_str().unwrap()
                )
            })
            .collect();
        insta::assert_debug_snapshot!(format!("{name}_findings"), short);
        assert_eq!(doc["finding_gaps"], serde_json::json!([]), "{name}");
    }
}

/// The fixtures' `findings.jsonl` is exactly what the rules find in their
/// records, so the rendered report is the one a live run would write.
#[test]
fn fixture_findings_are_what_the_rules_find() {
    for name in ["bundle_linux", "bundle_windows"] {
        let bundle = load(name);
        let stored = bundle.records::<Finding>("findings.jsonl").unwrap();
        assert_eq!(stored.bad_lines, 0, "{name}");
        let mut without = bundle.clone();
        without.files.remove("findings.jsonl");
        let (computed, gaps) = irdump::findings::analyze(&without);
        assert!(gaps.is_empty(), "{name}: {gaps:?}");
        assert_eq!(
            stored.records, computed,
            "{name}: findings.jsonl is stale; rewrite it (see the module docs)"
        );
    }
}

/// Without `findings.jsonl` the report recomputes the findings, says so,
/// and otherwise renders the same sections.
#[test]
fn a_bundle_without_findings_jsonl_gets_them_recomputed() {
    let mut bundle = load("bundle_linux");
    let full = irdump::report::render(&bundle);
    bundle.files.remove("findings.jsonl");
    let recomputed = irdump::report::render(&bundle);
    assert!(
        recomputed.contains("(findings.jsonl is not in the bundle: recomputed from the records)")
    );
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("recomputed from the records"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&full), strip(&recomputed));
}
