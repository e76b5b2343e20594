//! systemd unit files (systemd.unit(5)), reduced to what says what runs
//! and when: the `Exec*=` lines, timer schedules (`OnCalendar=`,
//! `OnBootSec=`...), `Unit=`, `User=`, path and socket triggers.
//!
//! Lines continue after a trailing backslash; `#` and `;` start comments.
//! Keys are kept in file order with their section, so a drop-in that
//! resets `ExecStart=` (an empty value) is visible as such.

/// Keys that name something that runs, or when.
const KEYS: &[&str] = &[
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecStop",
    "ExecStopPost",
    "ExecReload",
    "ExecCondition",
    "OnCalendar",
    "OnBootSec",
    "OnStartupSec",
    "OnActiveSec",
    "OnUnitActiveSec",
    "OnUnitInactiveSec",
    "Unit",
    "User",
    "PathExists",
    "PathExistsGlob",
    "PathChanged",
    "PathModified",
    "DirectoryNotEmpty",
    "ListenStream",
    "ListenDatagram",
];

/// The timer keys, which form a schedule.
const SCHEDULE_KEYS: &[&str] = &[
    "OnCalendar",
    "OnBootSec",
    "OnStartupSec",
    "OnActiveSec",
    "OnUnitActiveSec",
    "OnUnitInactiveSec",
];

/// The lines of a unit file that matter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitInfo {
    /// `(key, value)` in file order, for the keys irdump keeps.
    pub entries: Vec<(String, String)>,
}

impl UnitInfo {
    /// The first non-empty `ExecStart=`.
    pub fn exec_start(&self) -> Option<&str> {
        self.values("ExecStart").find(|v| !v.is_empty())
    }

    /// The timer schedule (`OnCalendar=daily OnBootSec=5min`), if any.
    pub fn schedule(&self) -> Option<String> {
        let parts: Vec<String> = self
            .entries
            .iter()
            .filter(|(k, v)| SCHEDULE_KEYS.contains(&k.as_str()) && !v.is_empty())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// Every value of `key`.
    pub fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Kept lines other than the first `ExecStart=` and the schedule, as
    /// `Key=value`.
    pub fn details(&self) -> Vec<String> {
        let first_exec = self
            .entries
            .iter()
            .position(|(k, v)| k == "ExecStart" && !v.is_empty());
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, (k, _))| Some(*i) != first_exec && !SCHEDULE_KEYS.contains(&k.as_str()))
            .map(|(_, (k, v))| format!("{k}={v}"))
            .collect()
    }
}

/// Parses a unit file or drop-in.
pub fn parse_unit(text: &str) -> UnitInfo {
    let mut info = UnitInfo::default();
    let mut pending = String::new();
    for raw in text.lines() {
        let l = raw.trim();
        if pending.is_empty() && (l.starts_with('#') || l.starts_with(';')) {
            continue;
        }
        if let Some(cont) = l.strip_suffix('\\') {
            pending.push_str(cont);
            pending.push(' ');
            continue;
        }
        pending.push_str(l);
        let line = std::mem::take(&mut pending);
        if let Some((k, v)) = line.split_once('=') {
            let k = k.trim();
            if KEYS.contains(&k) {
                info.entries.push((k.to_owned(), v.trim().to_owned()));
            }
        }
    }
    info
}

/// For a template instance (`getty@tty1.service`), the template's file
/// name (`getty@.service`).
pub fn template_of(unit: &str) -> Option<String> {
    let (prefix, rest) = unit.split_once('@')?;
    let (_, suffix) = rest.rsplit_once('.')?;
    (!rest.starts_with('.')).then(|| format!("{prefix}@.{suffix}"))
}

/// The unit a timer or path unit triggers: `Unit=`, else the same name
/// with `.service`.
pub fn triggered_unit(unit: &str, info: &UnitInfo) -> Option<String> {
    if let Some(u) = info.values("Unit").find(|v| !v.is_empty()) {
        return Some(u.to_owned());
    }
    let (stem, kind) = unit.rsplit_once('.')?;
    matches!(kind, "timer" | "path").then(|| format!("{stem}.service"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_lines_and_schedule() {
        let u = parse_unit(
            "[Unit]\nDescription=x\n# ExecStart=/not/this\n[Service]\nExecStartPre=-/bin/true\nExecStart=/usr/bin/python3 \\\n  -c 'import pty'\nUser=nobody\n[Timer]\nOnCalendar=*-*-* 03:00\nOnBootSec=5min\n",
        );
        assert_eq!(u.exec_start(), Some("/usr/bin/python3  -c 'import pty'"));
        assert_eq!(
            u.schedule().as_deref(),
            Some("OnCalendar=*-*-* 03:00 OnBootSec=5min")
        );
        assert_eq!(u.details(), ["ExecStartPre=-/bin/true", "User=nobody"]);
    }

    #[test]
    fn names() {
        assert_eq!(
            template_of("getty@tty1.service").as_deref(),
            Some("getty@.service")
        );
        assert_eq!(template_of("getty@.service"), None);
        assert_eq!(template_of("ssh.service"), None);
        let t = parse_unit("[Timer]\nOnCalendar=daily\n");
        assert_eq!(
            triggered_unit("apt-daily.timer", &t).as_deref(),
            Some("apt-daily.service")
        );
        let t = parse_unit("[Timer]\nUnit=other.service\n");
        assert_eq!(
            triggered_unit("x.timer", &t).as_deref(),
            Some("other.service")
        );
    }
}
