//! `report.txt`: the human report, rebuilt from the bundle's JSON records
//! alone (`irdump report BUNDLE` gives the same text as the live run).
//!
//! Layout (documented in `docs/bundle.md`, locked by the snapshots of
//! `tests/report_snapshots.rs`): a header, the findings most severe first,
//! then the classic IR_DUMP script's `[*] section` order (network
//! interfaces, established TCP, listening TCP, UDP, other sockets,
//! processes, system information, local administrators), then the sections
//! it never had (sessions, routes, neighbours and DNS, kernel modules,
//! persistence), and last every gap. Sections take the Windows form where
//! the records are Windows-shaped ([`Platform`]). A missing or unreadable
//! file empties its own section only, and is named there and in the gaps.
//!
//! Every host string goes through [`crate::text`]: nothing a process names
//! itself can forge a line or reach the terminal as a control sequence.

mod accounts;
mod modules;
mod network;
mod persistence;
mod processes;
mod sessions;
mod system;
pub mod table;

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::de::DeserializeOwned;

use crate::bundle::BundleFiles;
use crate::findings::platform::Platform;
use crate::records::collection::{Collection, Status};
use crate::records::finding::{Finding, Severity};
use crate::text::{display, display_cut};

/// The bundle file name.
pub const FILE: &str = "report.txt";

/// A report being written, plus the problems met while reading records.
pub struct ReportWriter {
    out: String,
    problems: Vec<String>,
    /// PIDs the findings name, marked in the process tree.
    flagged: HashSet<u32>,
    /// The system the bundle came from: some sections differ on Windows.
    platform: Platform,
    /// Files present but of which nothing could be read.
    unreadable: HashSet<String>,
}

impl ReportWriter {
    /// Starts a `[*] title` section.
    pub fn section(&mut self, title: &str) {
        let _ = write!(self.out, "\n[*] {title}\n");
    }

    /// Writes one line of trusted text (irdump's own words).
    pub fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Writes `label: value` with the value escaped and cut.
    pub fn field(&mut self, label: &str, value: &str) {
        let _ = writeln!(self.out, "  {label:<24} {}", display_cut(value, 200));
    }

    /// Appends a rendered table.
    pub fn table(&mut self, table: &table::Table) {
        table.render(&mut self.out);
    }

    /// Reads `file` as one JSON document. `None` when it is absent, or
    /// does not parse (then named in the gaps section).
    pub fn document<T: DeserializeOwned>(&mut self, bundle: &BundleFiles, file: &str) -> Option<T> {
        let data = bundle.files.get(file)?;
        match serde_json::from_slice(data) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problems
                    .push(format!("{file}: could not be read ({e})"));
                self.unreadable.insert(file.to_owned());
                None
            }
        }
    }

    /// Reads `file` as JSON Lines. `None` when absent or when no line
    /// parses; lines that do not parse are left out here and named in the
    /// gaps section.
    pub fn records<T: DeserializeOwned>(
        &mut self,
        bundle: &BundleFiles,
        file: &str,
    ) -> Option<Vec<T>> {
        let parsed = bundle.records(file)?;
        self.note_problems(file, &parsed).then_some(parsed.records)
    }

    /// Like [`ReportWriter::records`], for the large files that findings
    /// and several sections share: parsed once, shared, not copied.
    pub fn shared_records<T>(
        &mut self,
        bundle: &BundleFiles,
        file: &str,
    ) -> Option<std::sync::Arc<crate::bundle::Parsed<T>>>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let parsed = bundle.shared_records(file)?;
        self.note_problems(file, &parsed).then_some(parsed)
    }

    /// Names the unreadable lines of `file` in the gaps section; false when
    /// nothing at all could be read.
    fn note_problems<T>(&mut self, file: &str, parsed: &crate::bundle::Parsed<T>) -> bool {
        if let Some(p) = parsed.problem(file) {
            self.problems.push(p);
        }
        if parsed.records.is_empty() && parsed.bad_lines > 0 {
            self.unreadable.insert(file.to_owned());
            return false;
        }
        true
    }

    /// Notes that a section has nothing because its file is absent, or
    /// present but unreadable.
    pub fn not_collected(&mut self, file: &str) {
        let _ = if self.unreadable.contains(file) {
            writeln!(
                self.out,
                "  (nothing in {file} could be read: see Collection gaps)"
            )
        } else {
            writeln!(self.out, "  (not collected: {file} is not in the bundle)")
        };
    }
}

/// Renders the report from a bundle's records.
pub fn render(bundle: &BundleFiles) -> String {
    let mut r = ReportWriter {
        out: String::with_capacity(64 * 1024),
        problems: Vec::new(),
        flagged: HashSet::new(),
        platform: Platform::of(bundle),
        unreadable: HashSet::new(),
    };
    let collection: Option<Collection> = r.document(bundle, crate::records::collection::FILE);
    header(&mut r, collection.as_ref());
    findings(&mut r, bundle);
    network::interfaces(&mut r, bundle);
    network::sockets(&mut r, bundle);
    processes::render(&mut r, bundle);
    system::render(&mut r, bundle);
    accounts::render(&mut r, bundle);
    sessions::render(&mut r, bundle);
    network::routing(&mut r, bundle);
    modules::render(&mut r, bundle);
    persistence::render(&mut r, bundle);
    gaps(&mut r, collection.as_ref());
    r.out
}

fn header(r: &mut ReportWriter, c: Option<&Collection>) {
    let Some(c) = c else {
        r.line("irdump live-response report");
        r.line("  (collection.json is missing or unreadable: header unknown)");
        return;
    };
    r.line(&format!(
        "irdump {} live-response report",
        display(&c.tool.version)
    ));
    r.line(&"=".repeat(72));
    r.field("Host", &c.hostname);
    r.field("Case", c.case.as_deref().unwrap_or("-"));
    r.field("Examiner", c.examiner.as_deref().unwrap_or("-"));
    let zone = c.timezone.name.as_deref().unwrap_or("local");
    r.field("Capture start (UTC)", &c.started.to_string());
    r.field(
        "Capture start (local)",
        &format!("{} ({zone}, UTC{})", c.started_local, c.timezone.utc_offset),
    );
    r.field(
        "Duration",
        &format!("{:.3} s", c.duration_ms as f64 / 1000.0),
    );
    r.field("Bundle", &c.bundle_name);
    let clock = match c.clock.synchronized {
        Some(true) => "synchronised",
        Some(false) => "NOT synchronised: compare timestamps with care",
        None => "unknown",
    };
    r.field("Clock", clock);
    let privilege = if c.privileged {
        "full (root/elevated)"
    } else {
        "limited: some evidence is a gap"
    };
    r.field("Privileges", privilege);
    if !c.complete {
        r.field(
            "BUNDLE INCOMPLETE",
            c.incomplete_reason.as_deref().unwrap_or("unknown cause"),
        );
    }
}

/// Findings as `findings.jsonl` holds them (what the live run wrote). A
/// bundle without that file, or with nothing readable in it, has them
/// recomputed from the records, and says so.
fn findings(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("Findings");
    let mut found = match r.records::<Finding>(bundle, crate::findings::FILE) {
        Some(found) => found,
        None => {
            let (found, gaps) = crate::findings::analyze(bundle);
            let file = crate::findings::FILE;
            r.line(&if r.unreadable.contains(file) {
                format!("  (nothing in {file} could be read: recomputed from the records)")
            } else {
                format!("  ({file} is not in the bundle: recomputed from the records)")
            });
            for g in gaps {
                r.problems
                    .push(format!("findings: {}: {}", g.what, g.cause));
            }
            found
        }
    };
    r.flagged = found.iter().flat_map(|f| f.pids.iter().copied()).collect();
    if found.is_empty() {
        r.line("  none: no rule matched (absence of findings is not proof of a clean host)");
        return;
    }
    found.sort_by_key(|f| f.severity);
    let count = |s: Severity| found.iter().filter(|f| f.severity == s).count();
    r.line(&format!(
        "  {} findings: {} high, {} medium, {} low, {} info",
        found.len(),
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
        count(Severity::Info)
    ));
    for f in &found {
        let line = format!(
            "  {:<6}  {:<18}  {}",
            f.severity.as_str().to_uppercase(),
            display_cut(&f.rule, 18),
            display_cut(&f.summary, SUMMARY_WIDTH)
        );
        r.line(&line);
    }
}

/// Widest finding summary shown (findings.jsonl keeps it whole).
const SUMMARY_WIDTH: usize = 200;

fn gaps(r: &mut ReportWriter, c: Option<&Collection>) {
    r.section("Collection gaps");
    let mut any = false;
    if let Some(c) = c {
        for run in &c.collectors {
            let status = serde_json::to_value(run.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            if run.status != Status::Ok {
                r.line(&format!("  {}: {status}", display(&run.name)));
                any = true;
            }
            for g in &run.gaps {
                // A collector's own failure names the collector as `what`.
                let line = if g.what == run.name {
                    format!("  {}: {}", display(&run.name), display_cut(&g.cause, 160))
                } else {
                    format!(
                        "  {}: {}: {}",
                        display(&run.name),
                        display_cut(&g.what, 100),
                        display_cut(&g.cause, 160)
                    )
                };
                r.line(&line);
                any = true;
            }
        }
    }
    for p in std::mem::take(&mut r.problems) {
        r.line(&format!("  report: {}", display(&p)));
        any = true;
    }
    if !any {
        r.line("  none: every collector read everything it looked for");
    }
}

/// The machine-readable form of `irdump report --format json`: the
/// collection record and the findings, recomputed from the records. Host
/// strings are kept whole; the characters a terminal would obey are
/// written as `\uXXXX` escapes ([`crate::text::json_for_terminal`]).
pub fn render_json(bundle: &BundleFiles) -> String {
    let collection: Option<serde_json::Value> = bundle
        .files
        .get(crate::records::collection::FILE)
        .and_then(|d| serde_json::from_slice(d).ok());
    let (found, gaps) = crate::findings::analyze(bundle);
    let doc = serde_json::json!({
        "collection": collection,
        "findings": found,
        "finding_gaps": gaps,
    });
    let text =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    // It goes to a terminal as often as to a pipe.
    let mut text = crate::text::json_for_terminal(&text).into_owned();
    text.push('\n');
    text
}
