//! Linux `persistence` collector: pointers to everything that will run
//! again without the attacker, read as files under `--root`:
//!
//! - cron: `/etc/crontab`, `/etc/cron.d/*`, users' crontabs
//!   (`/var/spool/cron/crontabs/*`, `/var/spool/cron/*`), `/etc/anacrontab`
//!   (one record per job), the scripts in `/etc/cron.{hourly,...}` and
//!   pending `at` jobs (one per file);
//! - systemd: every unit enabled by a symlink in a `*.wants/`,
//!   `*.requires/` or `*.upholds/` directory of the system and user unit
//!   paths (and of each account's `~/.config/systemd/user`), resolved to
//!   its unit file with its `ExecStart=` and, for timers, the schedule and
//!   the triggered service's `ExecStart=`; unit files and drop-ins placed
//!   in `/etc/systemd/system`, `/run/systemd/system` and users' unit
//!   directories even when not enabled;
//! - `/etc/rc.local` lines, SysV `S*` links in `/etc/rc[S2-5].d`;
//! - `/etc/ld.so.preload` entries;
//! - shell start-up files (system-wide and in each home directory) and XDG
//!   autostart entries, as pointers with owner and mtime only.
//!
//! Bounded: at most [`MAX_DIR_ENTRIES`] entries per directory, files of at
//! most [`FILE_CAP`] bytes, [`MAX_RECORDS`] records, and the collector's
//! deadline; hitting any of them is a gap.
//!
//! Limitation: systemd generators, `/etc/init.d` scripts not linked into a
//! runlevel, PAM modules, udev rules, kernel module autoload lists and
//! shell start-up files of shells other than sh, bash, zsh and fish are
//! not looked at.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs::Metadata;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::cron;
use crate::collector::{CollectError, Context, Output};
use crate::collectors::accounts::host_file::{self, HostFile};
use crate::collectors::accounts::passwd;
use crate::records::persistence::{PersistenceRecord, FILE};
use crate::text::lossless_utf8;

/// Directory entries looked at per directory.
pub const MAX_DIR_ENTRIES: usize = 1000;
/// Largest file read.
pub const FILE_CAP: u64 = 1 << 20;
/// Records written at most.
pub const MAX_RECORDS: usize = 5000;
/// `rc.local` lines recorded at most.
const RC_LOCAL_LINES: usize = 100;

const SYSTEM_SHELL_FILES: &[&str] = &[
    "/etc/profile",
    "/etc/bash.bashrc",
    "/etc/bashrc",
    "/etc/environment",
    "/etc/zshenv",
    "/etc/zprofile",
    "/etc/zshrc",
    "/etc/zlogin",
    "/etc/zsh/zshenv",
    "/etc/zsh/zprofile",
    "/etc/zsh/zshrc",
    "/etc/zsh/zlogin",
    "/etc/fish/config.fish",
];
const HOME_SHELL_FILES: &[&str] = &[
    ".profile",
    ".bash_profile",
    ".bash_login",
    ".bashrc",
    ".bash_logout",
    ".zshenv",
    ".zprofile",
    ".zshrc",
    ".zlogin",
    ".config/fish/config.fish",
];

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let (owners, homes) = accounts(ctx, out);
    let homes = searchable(ctx, out, homes);
    let mut w = Walker {
        ctx,
        out,
        owners,
        written: 0,
        stopped: false,
    };
    w.cron();
    w.systemd(&homes);
    w.rc_and_sysv();
    w.preload();
    w.shell_startup(&homes);
    w.autostart(&homes);
    Ok(())
}

/// The home directories that exist and can be searched; one gap for each
/// that cannot (its start-up files, user units and autostart entries are
/// then all unknown), none for one that does not exist.
fn searchable(
    ctx: &Context,
    out: &mut Output,
    homes: Vec<(String, String)>,
) -> Vec<(String, String)> {
    homes
        .into_iter()
        .filter(|(name, home)| {
            match std::fs::metadata(ctx.host_path(home).join(".")) {
                Ok(m) => m.is_dir(),
                Err(e) if is_absent(&e) => false,
                Err(e) => {
                    out.gap(
                        home.as_str(),
                        format!("{e}: shell start-up files, user units and autostart entries of {name} not looked at"),
                    );
                    false
                }
            }
        })
        .collect()
}

/// Uid → name, and each account's home directory (deduplicated), from the
/// passwd file under the same root.
fn accounts(ctx: &Context, out: &mut Output) -> (HashMap<u32, String>, Vec<(String, String)>) {
    match host_file::read(&ctx.host_path("/etc/passwd"), 64 << 20) {
        Ok(f) => {
            let parsed = passwd::parse_passwd(&f.bytes);
            let owners = parsed
                .entries
                .iter()
                .map(|p| (p.uid, p.name.clone()))
                .collect();
            let mut seen = HashSet::new();
            let homes = parsed
                .entries
                .into_iter()
                .filter(|p| p.home.starts_with('/') && seen.insert(p.home.clone()))
                .map(|p| (p.name, p.home))
                .collect();
            (owners, homes)
        }
        Err(e) => {
            out.gap(
                "/etc/passwd",
                format!("{e}: owners unnamed, home directories not searched"),
            );
            (HashMap::new(), Vec::new())
        }
    }
}

/// One directory entry: the real name (for reading) and the lossless
/// name (for the record).
pub(super) struct Entry {
    pub(super) os_name: OsString,
    pub(super) name: String,
    /// `symlink_metadata`.
    pub(super) meta: Metadata,
}

pub(super) struct Walker<'a> {
    ctx: &'a Context,
    out: &'a mut Output,
    owners: HashMap<u32, String>,
    written: usize,
    stopped: bool,
}

impl Walker<'_> {
    /// Writes a record unless a bound was reached (then says so once).
    pub(super) fn emit(&mut self, rec: PersistenceRecord) {
        if self.stopped {
            return;
        }
        if self.written >= MAX_RECORDS || self.ctx.expired() {
            self.stopped = true;
            let why = if self.ctx.expired() {
                self.out.mark_timed_out();
                "deadline reached".to_owned()
            } else {
                format!("more than {MAX_RECORDS} pointers")
            };
            self.out
                .gap("persistence", format!("{why}: the rest was not looked at"));
            return;
        }
        self.written += 1;
        self.out.record(FILE, &rec);
    }

    pub(super) fn host(&self, path: &str) -> PathBuf {
        self.ctx.host_path(path)
    }

    /// A record for `path` with its inode's owner, mode, mtime and size.
    pub(super) fn pointer(
        &self,
        kind: &str,
        path: &str,
        meta: Option<&Metadata>,
    ) -> PersistenceRecord {
        PersistenceRecord {
            kind: kind.to_owned(),
            path: path.to_owned(),
            owner_uid: meta.map(MetadataExt::uid),
            owner: meta.and_then(|m| self.owners.get(&m.uid()).cloned()),
            mode: meta.map(host_file::mode),
            mtime: meta.and_then(host_file::mtime),
            size: meta.map(Metadata::len),
            ..PersistenceRecord::default()
        }
    }

    /// Sorted entries of `dir`; absent is empty, anything else a gap.
    pub(super) fn list(&mut self, dir: &str) -> Vec<Entry> {
        let rd = match std::fs::read_dir(self.host(dir)) {
            Ok(rd) => rd,
            Err(e) if is_absent(&e) => return Vec::new(),
            Err(e) => {
                self.out.gap(dir, e);
                return Vec::new();
            }
        };
        let mut entries = Vec::new();
        for entry in rd {
            if entries.len() >= MAX_DIR_ENTRIES {
                self.out.gap(
                    dir,
                    format!("more than {MAX_DIR_ENTRIES} entries: the rest were not looked at"),
                );
                break;
            }
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.out.gap(dir, e);
                    continue;
                }
            };
            let os_name = entry.file_name();
            let name = lossless_utf8(os_name.as_bytes()).into_owned();
            match entry.metadata() {
                Ok(meta) => entries.push(Entry {
                    os_name,
                    name,
                    meta,
                }),
                Err(e) if is_absent(&e) => {}
                Err(e) => self.out.gap(format!("{dir}/{name}"), e),
            }
        }
        entries.sort_by(|a, b| a.os_name.cmp(&b.os_name));
        entries
    }

    /// Reads a file; absent is `None` without a gap.
    pub(super) fn read(&mut self, path: &Path, shown: &str) -> Option<HostFile> {
        match host_file::read(path, FILE_CAP) {
            Ok(f) => {
                if f.truncated {
                    self.out.gap(
                        shown,
                        format!("longer than {FILE_CAP} bytes: the rest was not read"),
                    );
                }
                Some(f)
            }
            Err(e) if is_absent(&e) => None,
            Err(e) => {
                self.out.gap(shown, e);
                None
            }
        }
    }

    pub(super) fn read_host(&mut self, path: &str) -> Option<HostFile> {
        let p = self.host(path);
        self.read(&p, path)
    }

    // ---- cron ----

    fn cron(&mut self) {
        self.crontab("crontab", "/etc/crontab", Some(true), None);
        self.crontab_dir("cron.d", "/etc/cron.d", true);
        self.crontab_dir("user-crontab", "/var/spool/cron/crontabs", false);
        // Red Hat keeps users' crontabs directly in /var/spool/cron.
        self.crontab_dir("user-crontab", "/var/spool/cron", false);
        self.crontab("anacrontab", "/etc/anacrontab", None, None);
        for period in ["hourly", "daily", "weekly", "monthly", "yearly"] {
            self.files_in("cron-periodic", &format!("/etc/cron.{period}"));
        }
        for dir in ["/var/spool/cron/atjobs", "/var/spool/at"] {
            self.files_in("at-job", dir);
        }
    }

    fn crontab_dir(&mut self, kind: &str, dir: &str, system: bool) {
        for e in self.list(dir) {
            if e.meta.is_file() {
                let user = (!system).then_some(e.name.as_str());
                self.crontab(kind, &format!("{dir}/{}", e.name), Some(system), user);
            }
        }
    }

    /// `system`: `Some(true)` for system tables, `Some(false)` for user
    /// tables, `None` for anacrontab.
    fn crontab(&mut self, kind: &str, path: &str, system: Option<bool>, user: Option<&str>) {
        let Some(f) = self.read_host(path) else {
            return;
        };
        let text = lossless_utf8(&f.bytes);
        let (entries, problems) = match system {
            Some(system) => cron::parse_crontab(&text, system),
            None => cron::parse_anacrontab(&text),
        };
        for p in problems {
            self.out.gap(format!("{path}:{}", p.line), p.reason);
        }
        for e in entries {
            let mut rec = self.pointer(kind, path, Some(&f.meta));
            rec.line = Some(e.line);
            rec.schedule = Some(e.schedule);
            rec.user = e.user.or_else(|| user.map(str::to_owned));
            rec.command = Some(e.command);
            self.emit(rec);
        }
    }

    /// One pointer per regular file in `dir`.
    fn files_in(&mut self, kind: &str, dir: &str) {
        for e in self.list(dir) {
            if e.meta.is_file() || e.meta.file_type().is_symlink() {
                let path = format!("{dir}/{}", e.name);
                let mut rec = self.pointer(kind, &path, Some(&e.meta));
                if e.meta.file_type().is_symlink() {
                    rec.target = self.link_text(&path);
                }
                self.emit(rec);
            }
        }
    }

    pub(super) fn link_text(&mut self, path: &str) -> Option<String> {
        match std::fs::read_link(self.host(path)) {
            Ok(t) => Some(lossless_utf8(t.as_os_str().as_bytes()).into_owned()),
            Err(e) => {
                self.out.gap(path, e);
                None
            }
        }
    }

    // ---- rc.local, SysV ----

    fn rc_and_sysv(&mut self) {
        for path in ["/etc/rc.local", "/etc/rc.d/rc.local"] {
            let Some(f) = self.read_host(path) else {
                continue;
            };
            let text = lossless_utf8(&f.bytes).into_owned();
            let lines: Vec<(usize, &str)> = text
                .lines()
                .enumerate()
                .map(|(i, l)| (i, l.trim()))
                .filter(|(_, l)| !l.is_empty() && !l.starts_with('#') && *l != "exit 0")
                .collect();
            if lines.is_empty() {
                self.emit(self.pointer("rc.local", path, Some(&f.meta)));
            }
            if lines.len() > RC_LOCAL_LINES {
                self.out.gap(
                    path,
                    format!(
                        "{} command lines: only the first {RC_LOCAL_LINES} are recorded",
                        lines.len()
                    ),
                );
            }
            for (i, l) in lines.into_iter().take(RC_LOCAL_LINES) {
                let mut rec = self.pointer("rc.local", path, Some(&f.meta));
                rec.line = Some(i as u32 + 1);
                rec.command = Some(l.to_owned());
                self.emit(rec);
            }
        }
        for level in ["S", "2", "3", "4", "5"] {
            let dir = format!("/etc/rc{level}.d");
            for e in self.list(&dir) {
                if !e.name.starts_with('S') {
                    continue;
                }
                let path = format!("{dir}/{}", e.name);
                let mut rec = self.pointer("sysv-init", &path, Some(&e.meta));
                if e.meta.file_type().is_symlink() {
                    rec.target = self.link_text(&path);
                    rec.link_mtime = rec.mtime;
                }
                self.emit(rec);
            }
        }
    }

    // ---- ld.so.preload ----

    fn preload(&mut self) {
        let path = "/etc/ld.so.preload";
        let Some(f) = self.read_host(path) else {
            return;
        };
        let text = lossless_utf8(&f.bytes).into_owned();
        let mut any = false;
        for (i, l) in text.lines().enumerate() {
            let l = l.split('#').next().unwrap_or_default();
            for lib in l.split([' ', '\t', ':']).filter(|s| !s.is_empty()) {
                any = true;
                let mut rec = self.pointer("ld.so.preload", path, Some(&f.meta));
                rec.line = Some(i as u32 + 1);
                rec.command = Some(lib.to_owned());
                self.emit(rec);
            }
        }
        if !any {
            self.emit(self.pointer("ld.so.preload", path, Some(&f.meta)));
        }
    }

    // ---- shell start-up files, XDG autostart ----

    fn shell_startup(&mut self, homes: &[(String, String)]) {
        for path in SYSTEM_SHELL_FILES {
            self.existing_file("shell-startup", path, None);
        }
        self.files_in("shell-startup", "/etc/profile.d");
        for (name, home) in homes {
            if home == "/" || home == "/nonexistent" {
                continue;
            }
            for file in HOME_SHELL_FILES {
                let path = format!("{}/{file}", home.trim_end_matches('/'));
                self.existing_file("shell-startup", &path, Some(name));
            }
        }
    }

    fn existing_file(&mut self, kind: &str, path: &str, user: Option<&str>) {
        match std::fs::metadata(self.host(path)) {
            Ok(meta) if meta.is_file() => {
                let mut rec = self.pointer(kind, path, Some(&meta));
                rec.user = user.map(str::to_owned);
                self.emit(rec);
            }
            Ok(_) => {}
            Err(e) if is_absent(&e) => {}
            Err(e) => self.out.gap(path, e),
        }
    }

    fn autostart(&mut self, homes: &[(String, String)]) {
        let mut dirs = vec![("/etc/xdg/autostart".to_owned(), None)];
        for (name, home) in homes {
            dirs.push((
                format!("{}/.config/autostart", home.trim_end_matches('/')),
                Some(name.as_str()),
            ));
        }
        for (dir, user) in dirs {
            for e in self.list(&dir) {
                if !e.meta.is_file() || !e.name.ends_with(".desktop") {
                    continue;
                }
                let path = format!("{dir}/{}", e.name);
                let Some(f) = self.read_host(&path) else {
                    continue;
                };
                let text = lossless_utf8(&f.bytes).into_owned();
                let mut rec = self.pointer("xdg-autostart", &path, Some(&f.meta));
                rec.user = user.map(str::to_owned);
                rec.command = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Exec="))
                    .map(str::to_owned);
                rec.details = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| {
                        l.starts_with("Hidden=")
                            || l.starts_with("OnlyShowIn=")
                            || l.starts_with("X-GNOME-Autostart-enabled=")
                    })
                    .map(str::to_owned)
                    .collect();
                self.emit(rec);
            }
        }
    }
}

pub(super) fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}
