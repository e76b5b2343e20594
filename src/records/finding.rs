//! `findings.jsonl`: what the rules flagged, most severe first.

use serde::{Deserialize, Serialize};

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Look at this first: likely attacker activity.
    High,
    /// Suspicious, needs a look.
    Medium,
    /// Unusual, often benign.
    Low,
    /// Context only.
    Info,
}

impl Severity {
    /// Lowercase name as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule name (`reverse-shell`, `deleted-executable`, ...).
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// Processes concerned.
    #[serde(default)]
    pub pids: Vec<u32>,
    /// One-line summary naming PID, process and endpoint (host strings in
    /// it are raw: the report escapes them).
    pub summary: String,
    /// The records that triggered the rule.
    #[serde(default)]
    pub evidence: serde_json::Value,
}
