//! Linux `accounts` collector: reads `/etc/passwd`, `/etc/shadow`,
//! `/etc/group`, the sudoers tree, `sshd_config` and each account's
//! `authorized_keys` files, all as files under `--root` (so a mounted image
//! is read the same way as the live system), and writes one record per
//! account.
//!
//! Nothing is run: no `id`, no `getent`, no `sudo -l`. A file that is
//! absent is simply absent (no sudoers on a host without sudo, no
//! `authorized_keys` for most accounts), except `/etc/shadow` and
//! `/etc/group`, whose absence leaves password states or group membership
//! unknown and is therefore a gap; a file that cannot be read (the shadow
//! file without root) is a gap, as is every line that does not parse.

use std::collections::HashSet;
use std::io;

use super::assemble::{self, Inputs};
use super::host_file::{self, HostFile};
use super::passwd::{parse_group, parse_passwd, parse_shadow, LineProblem, PasswordState};
use super::ssh_keys::{self, KeyFileSettings, SshdDirective};
use super::sudoers::{self, SourceEntry, SourceFile, SudoersSource};
use crate::collector::{CollectError, Context, Output};
use crate::records::account::{AccountRecord, AuthorizedKey, FILE};

/// Largest account database read (passwd, shadow, group).
const DB_CAP: u64 = 64 << 20;
/// Largest sudoers, sshd_config or authorized_keys file read.
const CONFIG_CAP: u64 = 4 << 20;
/// How deep `Include` may nest in `sshd_config`.
const SSHD_INCLUDE_DEPTH: usize = 8;

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let passwd_file = read(ctx, "/etc/passwd", DB_CAP).map_err(|source| CollectError::Io {
        what: ctx.host_path("/etc/passwd").display().to_string(),
        source,
    })?;
    note_truncated(out, "/etc/passwd", &passwd_file);
    let passwd = parse_passwd(&passwd_file.bytes);
    line_gaps(out, "/etc/passwd", &passwd.problems);

    let needs_shadow = passwd
        .entries
        .iter()
        .any(|p| p.password == PasswordState::Shadowed);
    let shadow = match read(ctx, "/etc/shadow", DB_CAP) {
        Ok(f) => {
            note_truncated(out, "/etc/shadow", &f);
            let parsed = parse_shadow(&f.bytes);
            line_gaps(out, "/etc/shadow", &parsed.problems);
            Some(parsed.entries)
        }
        Err(e) => {
            if needs_shadow || e.kind() != io::ErrorKind::NotFound {
                out.gap("/etc/shadow", format!("{e}: password states unknown"));
            }
            None
        }
    };
    let (groups, group_mtime) = match read(ctx, "/etc/group", DB_CAP) {
        Ok(f) => {
            note_truncated(out, "/etc/group", &f);
            let parsed = parse_group(&f.bytes);
            line_gaps(out, "/etc/group", &parsed.problems);
            (parsed.entries, f.mtime())
        }
        Err(e) => {
            out.gap("/etc/group", format!("{e}: group membership unknown"));
            (Vec::new(), None)
        }
    };

    let source = RootedSource { ctx };
    let sudoers = sudoers::load(&source, "/etc/sudoers");
    match &sudoers {
        None => log::debug!(
            "no /etc/sudoers under {}: sudo not installed",
            ctx.root.display()
        ),
        Some(s) => {
            for p in &s.problems {
                let what = match p.line {
                    Some(line) => format!("{}:{line}", p.file),
                    None => p.file.clone(),
                };
                out.gap(what, &p.reason);
            }
        }
    }

    let inputs = Inputs {
        passwd: &passwd.entries,
        passwd_mtime: passwd_file.mtime(),
        shadow: shadow.as_deref(),
        groups: &groups,
        group_mtime,
        sudoers: sudoers.as_ref(),
    };
    let mut unresolved = HashSet::new();
    let mut accounts = assemble::build(&inputs, &mut unresolved);
    let mut unresolved: Vec<String> = unresolved.into_iter().collect();
    unresolved.sort();
    for u in unresolved {
        out.gap(
            format!("sudoers member {u}"),
            "netgroups and non-Unix groups are not resolved: rules naming it may apply to more accounts",
        );
    }

    let settings = sshd_settings(ctx, out);
    if let Some(cmd) = &settings.command {
        out.gap(
            "sshd AuthorizedKeysCommand",
            format!("keys served by {cmd:?} are not collected (irdump runs no host program)"),
        );
    }
    for (n, account) in accounts.iter_mut().enumerate() {
        if ctx.expired() {
            out.gap(
                "authorized_keys",
                format!(
                    "deadline reached: keys of {} accounts not read",
                    passwd.entries.len() - n
                ),
            );
            out.mark_timed_out();
            break;
        }
        account.authorized_keys = authorized_keys(ctx, out, &settings, account);
    }
    for account in &accounts {
        out.record(FILE, account);
    }
    Ok(())
}

fn read(ctx: &Context, path: &str, cap: u64) -> io::Result<HostFile> {
    host_file::read(&ctx.host_path(path), cap)
}

fn note_truncated(out: &mut Output, path: &str, f: &HostFile) {
    if f.truncated {
        out.gap(
            path,
            format!("longer than {} bytes: the rest was not read", f.bytes.len()),
        );
    }
}

fn line_gaps(out: &mut Output, path: &str, problems: &[LineProblem]) {
    for p in problems {
        out.gap(format!("{path}:{}", p.line), &p.reason);
    }
}

/// Sudoers files under `--root`.
struct RootedSource<'a> {
    ctx: &'a Context,
}

impl SudoersSource for RootedSource<'_> {
    fn read(&self, path: &str) -> io::Result<SourceFile> {
        let f = read(self.ctx, path, CONFIG_CAP)?;
        if f.truncated {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("longer than {CONFIG_CAP} bytes"),
            ));
        }
        let mtime = f.mtime();
        Ok(SourceFile {
            bytes: f.bytes,
            mtime,
        })
    }

    fn list_dir(&self, path: &str) -> io::Result<Vec<SourceEntry>> {
        let dir = self.ctx.host_path(path);
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // Follows a symlink, as sudo's stat does.
            let is_file = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file());
            out.push(SourceEntry { name, is_file });
        }
        Ok(out)
    }
}

/// `sshd_config` with its `Include`s expanded in place; an absent file
/// means sshd is not installed and its defaults apply.
fn sshd_settings(ctx: &Context, out: &mut Output) -> KeyFileSettings {
    let mut directives = Vec::new();
    sshd_file(ctx, out, "/etc/ssh/sshd_config", false, 0, &mut directives);
    let settings = ssh_keys::key_file_settings(&directives);
    log::debug!("sshd AuthorizedKeysFile: {:?}", settings.global);
    settings
}

fn sshd_file(
    ctx: &Context,
    out: &mut Output,
    path: &str,
    in_match: bool,
    depth: usize,
    into: &mut Vec<SshdDirective>,
) {
    let f = match read(ctx, path, CONFIG_CAP) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound && depth == 0 => return,
        Err(e) => {
            out.gap(path, e);
            return;
        }
    };
    let text = String::from_utf8_lossy(&f.bytes);
    for d in ssh_keys::parse_sshd_config(&text, in_match) {
        if d.keyword != "include" {
            into.push(d);
            continue;
        }
        if depth >= SSHD_INCLUDE_DEPTH {
            out.gap(
                path,
                format!("Include nested deeper than {SSHD_INCLUDE_DEPTH}"),
            );
            continue;
        }
        for pattern in &d.args {
            let pattern = if pattern.starts_with('/') {
                pattern.clone()
            } else {
                format!("/etc/ssh/{pattern}")
            };
            for file in glob_last_component(ctx, out, &pattern) {
                sshd_file(ctx, out, &file, d.in_match, depth + 1, into);
            }
        }
    }
}

/// Expands `*` and `?` in the last path component (what sshd's `Include`
/// is used with in practice), sorted as glob(3) sorts.
fn glob_last_component(ctx: &Context, out: &mut Output, pattern: &str) -> Vec<String> {
    let (dir, name) = pattern.rsplit_once('/').unwrap_or(("", pattern));
    if !name.contains(['*', '?']) {
        return vec![pattern.to_owned()];
    }
    let entries = match std::fs::read_dir(ctx.host_path(dir)) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            out.gap(dir, e);
            return Vec::new();
        }
    };
    let mut found = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let n = entry.file_name().to_string_lossy().into_owned();
                if !n.starts_with('.') && wildcard(name.as_bytes(), n.as_bytes()) {
                    found.push(format!("{dir}/{n}"));
                }
            }
            Err(e) => out.gap(dir, e),
        }
    }
    found.sort();
    found
}

fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&p[1..], s) || (!s.is_empty() && wildcard(p, &s[1..])),
        (Some(b'?'), Some(_)) => wildcard(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => wildcard(&p[1..], &s[1..]),
        _ => false,
    }
}

/// Reads every key file sshd may consult for the account.
fn authorized_keys(
    ctx: &Context,
    out: &mut Output,
    settings: &KeyFileSettings,
    account: &AccountRecord,
) -> Vec<AuthorizedKey> {
    let (Some(home), Some(uid)) = (account.home.as_deref(), account.uid) else {
        return Vec::new();
    };
    let mut patterns: Vec<&str> = Vec::new();
    let global: Vec<&str> = match &settings.global {
        Some(g) => g.iter().map(String::as_str).collect(),
        None => ssh_keys::DEFAULT_KEY_FILES.to_vec(),
    };
    for p in global
        .into_iter()
        .chain(ssh_keys::DEFAULT_KEY_FILES.iter().copied())
        .chain(settings.in_match.iter().map(String::as_str))
    {
        if !patterns.contains(&p) {
            patterns.push(p);
        }
    }
    let mut files: Vec<String> = Vec::new();
    for p in patterns {
        if let Some(f) = ssh_keys::expand_key_file(p, home, &account.name, uid) {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }
    let mut keys = Vec::new();
    for file in files {
        let f = match read(ctx, &file, CONFIG_CAP) {
            Ok(f) => f,
            Err(e) if is_absent(&e) => continue,
            Err(e) => {
                out.gap(&file, e);
                continue;
            }
        };
        note_truncated(out, &file, &f);
        let (parsed, problems) = ssh_keys::parse_authorized_keys(&f.bytes);
        for p in problems {
            out.gap(format!("{file}:{}", p.line), p.reason);
        }
        let mtime = f.mtime();
        keys.extend(parsed.into_iter().map(|k| AuthorizedKey {
            file: file.clone(),
            key_type: k.key_type,
            fingerprint: k.fingerprint,
            comment: k.comment,
            options: k.options,
            file_mtime: mtime,
            line: Some(k.line),
            bits: k.bits,
        }));
    }
    keys
}

/// Absent, or a path through something that is not a directory (a home of
/// `/nonexistent`, or `/dev/null`).
fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        assert!(wildcard(b"*.conf", b"a.conf"));
        assert!(!wildcard(b"*.conf", b"a.conf~"));
        assert!(wildcard(b"a?c", b"abc"));
    }
}
