//! Parsers for the local account databases: `/etc/passwd`, `/etc/shadow`
//! and `/etc/group` (formats in passwd(5), shadow(5), group(5)).
//!
//! The parsers take the file's bytes and never see a path; the reader in
//! `linux.rs` supplies them. Names and fields are host-controlled, so they
//! are kept losslessly ([`crate::text::lossless_utf8`]). A line that does
//! not have the expected fields is returned as a [`LineProblem`], never
//! dropped. The password hash is read only to classify it as `locked`,
//! `empty` or `set`; it is never returned.
//!
//! Limitation: only the files are read, not NSS: accounts from LDAP, SSSD
//! or NIS do not appear (NIS compat `+`/`-` lines are reported as problems).

use crate::text::lossless_utf8;

/// A line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    /// Line number (1-based).
    pub line: u32,
    /// What is wrong with it.
    pub reason: String,
}

/// What a password field says, without the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordState {
    /// Empty field: login without a password.
    Empty,
    /// Starts with `!` or `*`: password login impossible.
    Locked,
    /// A hash (or anything else that is not empty or locked).
    Set,
    /// `x` in `/etc/passwd`: the real value is in the shadow file.
    Shadowed,
}

impl PasswordState {
    /// Classifies a password field. `in_passwd` is true for the second
    /// field of `/etc/passwd`, where `x` means "see the shadow file".
    pub fn classify(field: &[u8], in_passwd: bool) -> Self {
        match field {
            [] => PasswordState::Empty,
            b"x" if in_passwd => PasswordState::Shadowed,
            [b'!' | b'*', ..] => PasswordState::Locked,
            _ => PasswordState::Set,
        }
    }

    /// The bundle's word for it (`locked`, `empty`, `set`); `None` when the
    /// value lives elsewhere.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            PasswordState::Empty => Some("empty"),
            PasswordState::Locked => Some("locked"),
            PasswordState::Set => Some("set"),
            PasswordState::Shadowed => None,
        }
    }
}

/// One `/etc/passwd` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Line number (1-based).
    pub line: u32,
    /// Login name.
    pub name: String,
    /// The password field, classified.
    pub password: PasswordState,
    /// Uid.
    pub uid: u32,
    /// Primary gid.
    pub gid: u32,
    /// GECOS (full name, comment).
    pub gecos: String,
    /// Home directory.
    pub home: String,
    /// Login shell (empty means `/bin/sh`).
    pub shell: String,
}

/// One `/etc/shadow` line, without the hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    /// Line number (1-based).
    pub line: u32,
    /// Login name.
    pub name: String,
    /// The password field, classified.
    pub password: PasswordState,
    /// Last password change, in days since 1970-01-01; `None` when empty
    /// or 0 (0 forces a change at the next login).
    pub last_change_days: Option<i64>,
    /// Account expiry, in days since 1970-01-01.
    pub expire_days: Option<i64>,
}

/// One `/etc/group` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Line number (1-based).
    pub line: u32,
    /// Group name.
    pub name: String,
    /// Gid.
    pub gid: u32,
    /// Members listed on the line (supplementary members).
    pub members: Vec<String>,
}

/// Entries of one file and the lines that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    /// Entries in file order.
    pub entries: Vec<T>,
    /// Lines that did not parse.
    pub problems: Vec<LineProblem>,
}

/// Splits a file into numbered lines, leaving out empty lines and `#`
/// comments (tolerated by glibc's parsers).
fn numbered_lines(text: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    text.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| ((i + 1) as u32, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with(b"#"))
}

fn field_text(b: &[u8]) -> String {
    lossless_utf8(b).into_owned()
}

fn parse_id(b: &[u8]) -> Option<u32> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn parse_days(b: &[u8]) -> Result<Option<i64>, ()> {
    if b.is_empty() {
        return Ok(None);
    }
    let s = std::str::from_utf8(b).map_err(|_| ())?;
    s.parse::<i64>().map(Some).map_err(|_| ())
}

fn nis_problem(line: u32, l: &[u8]) -> Option<LineProblem> {
    matches!(l.first(), Some(b'+' | b'-')).then(|| LineProblem {
        line,
        reason: "NIS compat entry: the accounts it names are not resolved".into(),
    })
}

/// Parses `/etc/passwd`.
pub fn parse_passwd(text: &[u8]) -> Parsed<PasswdEntry> {
    let mut out = Parsed {
        entries: Vec::new(),
        problems: Vec::new(),
    };
    for (line, l) in numbered_lines(text) {
        if let Some(p) = nis_problem(line, l) {
            out.problems.push(p);
            continue;
        }
        let f: Vec<&[u8]> = l.split(|&b| b == b':').collect();
        if f.len() != 7 {
            out.problems.push(LineProblem {
                line,
                reason: format!("{} fields instead of 7", f.len()),
            });
            continue;
        }
        let (Some(uid), Some(gid)) = (parse_id(f[2]), parse_id(f[3])) else {
            out.problems.push(LineProblem {
                line,
                reason: "uid or gid is not a number".into(),
            });
            continue;
        };
        if f[0].is_empty() {
            out.problems.push(LineProblem {
                line,
                reason: "empty login name".into(),
            });
            continue;
        }
        out.entries.push(PasswdEntry {
            line,
            name: field_text(f[0]),
            password: PasswordState::classify(f[1], true),
            uid,
            gid,
            gecos: field_text(f[4]),
            home: field_text(f[5]),
            shell: field_text(f[6]),
        });
    }
    out
}

/// Parses `/etc/shadow`.
pub fn parse_shadow(text: &[u8]) -> Parsed<ShadowEntry> {
    let mut out = Parsed {
        entries: Vec::new(),
        problems: Vec::new(),
    };
    for (line, l) in numbered_lines(text) {
        if let Some(p) = nis_problem(line, l) {
            out.problems.push(p);
            continue;
        }
        let f: Vec<&[u8]> = l.split(|&b| b == b':').collect();
        if f.len() != 9 || f[0].is_empty() {
            out.problems.push(LineProblem {
                line,
                reason: format!("{} fields instead of 9", f.len()),
            });
            continue;
        }
        let (Ok(last), Ok(expire)) = (parse_days(f[2]), parse_days(f[7])) else {
            out.problems.push(LineProblem {
                line,
                reason: "a date field is not a number of days".into(),
            });
            continue;
        };
        out.entries.push(ShadowEntry {
            line,
            name: field_text(f[0]),
            password: PasswordState::classify(f[1], false),
            last_change_days: last.filter(|&d| d != 0),
            expire_days: expire,
        });
    }
    out
}

/// Parses `/etc/group`.
pub fn parse_group(text: &[u8]) -> Parsed<GroupEntry> {
    let mut out = Parsed {
        entries: Vec::new(),
        problems: Vec::new(),
    };
    for (line, l) in numbered_lines(text) {
        if let Some(p) = nis_problem(line, l) {
            out.problems.push(p);
            continue;
        }
        let f: Vec<&[u8]> = l.split(|&b| b == b':').collect();
        if f.len() != 4 || f[0].is_empty() {
            out.problems.push(LineProblem {
                line,
                reason: format!("{} fields instead of 4", f.len()),
            });
            continue;
        }
        let Some(gid) = parse_id(f[2]) else {
            out.problems.push(LineProblem {
                line,
                reason: "gid is not a number".into(),
            });
            continue;
        };
        let members = f[3]
            .split(|&b| b == b',')
            .map(|m| m.trim_ascii())
            .filter(|m| !m.is_empty())
            .map(field_text)
            .collect();
        out.entries.push(GroupEntry {
            line,
            name: field_text(f[0]),
            gid,
            members,
        });
    }
    out
}

/// A number of days since 1970-01-01 as `YYYY-MM-DD`; `None` when out of
/// the calendar's range.
pub fn days_to_date(days: i64) -> Option<String> {
    let epoch = jiff::civil::date(1970, 1, 1);
    let span = jiff::Span::new().try_days(days).ok()?;
    epoch.checked_add(span).ok().map(|d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_without_keeping_the_hash() {
        assert_eq!(PasswordState::classify(b"", false), PasswordState::Empty);
        assert_eq!(PasswordState::classify(b"!", false), PasswordState::Locked);
        assert_eq!(
            PasswordState::classify(b"!$6$a$b", false),
            PasswordState::Locked
        );
        assert_eq!(PasswordState::classify(b"*", false), PasswordState::Locked);
        assert_eq!(
            PasswordState::classify(b"$y$j9T$x", false),
            PasswordState::Set
        );
        assert_eq!(PasswordState::classify(b"x", true), PasswordState::Shadowed);
        assert_eq!(PasswordState::classify(b"x", false), PasswordState::Set);
    }

    #[test]
    fn passwd_lines_and_problems() {
        let p = parse_passwd(b"root:x:0:0:root:/root:/bin/bash\n\nbad:line\nu:x:a:1::/:\n+::::::\nz::5:5:Z, Z:/home/z:\n");
        assert_eq!(p.entries.len(), 2);
        assert_eq!(p.entries[1].name, "z");
        assert_eq!(p.entries[1].password, PasswordState::Empty);
        assert_eq!(p.entries[1].line, 6);
        let lines: Vec<u32> = p.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
    }

    #[test]
    fn shadow_dates() {
        let s =
            parse_shadow(b"root:$6$x:20228:0:99999:7:::\nnew:!:0::::::\nexp::19000:::::19100:\n");
        assert_eq!(s.entries[0].last_change_days, Some(20228));
        assert_eq!(s.entries[1].last_change_days, None);
        assert_eq!(s.entries[2].expire_days, Some(19100));
        assert_eq!(days_to_date(20228).as_deref(), Some("2025-05-20"));
        assert_eq!(days_to_date(0).as_deref(), Some("1970-01-01"));
    }

    #[test]
    fn group_members() {
        let g = parse_group(b"sudo:x:27:alice, bob\nempty:x:5:\n");
        assert_eq!(g.entries[0].members, vec!["alice", "bob"]);
        assert!(g.entries[1].members.is_empty());
    }
}
