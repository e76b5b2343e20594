//! The systemd part of the Linux `persistence` collector: units enabled
//! through `*.wants/`, `*.requires/` and `*.upholds/` symlinks in the system
//! and user unit paths (and each account's `~/.config/systemd/user`),
//! resolved to their unit files (templates included) and, for timers and
//! path units, to the service they trigger; plus unit files and drop-ins
//! placed directly in the directories administrators (and attackers)
//! write to, enabled or not.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;

use super::sys::{is_absent, Walker};
use super::systemd;
use crate::collectors::accounts::host_file::{self, HostFile};
use crate::records::persistence::PersistenceRecord;
use crate::text::lossless_utf8;

const SYSTEM_UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];
const USER_UNIT_DIRS: &[&str] = &[
    "/etc/systemd/user",
    "/usr/local/lib/systemd/user",
    "/usr/lib/systemd/user",
    "/lib/systemd/user",
];
/// Where administrators (and attackers) put their own units.
const LOCAL_UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/etc/systemd/user",
];

impl Walker<'_> {
    pub(super) fn systemd(&mut self, homes: &[(String, String)]) {
        let mut seen_dirs = HashSet::new();
        let mut recorded: HashSet<String> = HashSet::new();
        let mut seen_local = HashSet::new();
        let system: Vec<String> = SYSTEM_UNIT_DIRS.iter().map(|d| (*d).to_owned()).collect();
        self.enabled_units(&system, &system, None, &mut seen_dirs, &mut recorded);
        let user: Vec<String> = USER_UNIT_DIRS.iter().map(|d| (*d).to_owned()).collect();
        self.enabled_units(&user, &user, None, &mut seen_dirs, &mut recorded);
        for (name, home) in homes {
            let own = format!("{}/.config/systemd/user", home.trim_end_matches('/'));
            let mut search = vec![own.clone()];
            search.extend(user.iter().cloned());
            self.enabled_units(
                std::slice::from_ref(&own),
                &search,
                Some(name),
                &mut seen_dirs,
                &mut recorded,
            );
            self.local_units(&own, &search, Some(name), &recorded, &mut seen_local);
        }
        for dir in LOCAL_UNIT_DIRS {
            let search = if dir.ends_with("/user") {
                &user
            } else {
                &system
            };
            self.local_units(dir, search, None, &recorded, &mut seen_local);
        }
    }

    /// Units enabled through `*.wants/` (and the like) in `dirs`.
    fn enabled_units(
        &mut self,
        dirs: &[String],
        search: &[String],
        user: Option<&str>,
        seen_dirs: &mut HashSet<(u64, u64)>,
        recorded: &mut HashSet<String>,
    ) {
        for dir in dirs {
            // /lib is /usr/lib on merged-/usr systems: read it once.
            if !self.first_visit(dir, seen_dirs) {
                continue;
            }
            for holder in self.list(dir) {
                let enabling = [".wants", ".requires", ".upholds"]
                    .iter()
                    .any(|s| holder.name.ends_with(s));
                if !enabling || !holder.meta.is_dir() {
                    continue;
                }
                let wants = format!("{dir}/{}", holder.name);
                for link in self.list(&wants) {
                    let via = format!("{wants}/{}", link.name);
                    let target = if link.meta.file_type().is_symlink() {
                        self.link_text(&via)
                    } else {
                        None
                    };
                    let mut rec = self.unit(&link.name, target.as_deref(), &wants, search);
                    rec.enabled_via = Some(via);
                    rec.target = target;
                    rec.link_mtime = host_file::mtime(&link.meta);
                    if rec.user.is_none() {
                        rec.user = user.map(str::to_owned);
                    }
                    recorded.insert(rec.path.clone());
                    self.emit(rec);
                }
            }
        }
    }

    /// False when `dir` is absent or was already read (same device and
    /// inode). A directory that cannot be examined counts as new, so that
    /// listing it records the gap.
    fn first_visit(&self, dir: &str, seen: &mut HashSet<(u64, u64)>) -> bool {
        match std::fs::metadata(self.host(dir)) {
            Ok(meta) => seen.insert((meta.dev(), meta.ino())),
            Err(e) => !is_absent(&e),
        }
    }

    /// Unit files and drop-ins placed directly in `dir`, enabled or not.
    /// A directory reached twice (two accounts sharing a home) is read once.
    fn local_units(
        &mut self,
        dir: &str,
        search: &[String],
        user: Option<&str>,
        recorded: &HashSet<String>,
        seen_dirs: &mut HashSet<(u64, u64)>,
    ) {
        if !self.first_visit(dir, seen_dirs) {
            return;
        }
        for e in self.list(dir) {
            let path = format!("{dir}/{}", e.name);
            if e.meta.is_file() && is_unit_name(&e.name) && !recorded.contains(&path) {
                let mut rec = self.unit(&e.name, None, dir, search);
                if rec.user.is_none() {
                    rec.user = user.map(str::to_owned);
                }
                self.emit(rec);
            } else if e.meta.is_dir() && e.name.ends_with(".d") {
                let unit = e.name.trim_end_matches(".d").to_owned();
                for conf in self.list(&path) {
                    if !conf.meta.is_file() || !conf.name.ends_with(".conf") {
                        continue;
                    }
                    let conf_path = format!("{path}/{}", conf.name);
                    let Some(f) = self.read_host(&conf_path) else {
                        continue;
                    };
                    let info = systemd::parse_unit(&lossless_utf8(&f.bytes));
                    let mut rec = self.pointer("systemd-dropin", &conf_path, Some(&f.meta));
                    rec.unit = Some(unit.clone());
                    rec.command = info.exec_start().map(str::to_owned);
                    rec.schedule = info.schedule();
                    rec.user = info
                        .values("User")
                        .next()
                        .map(str::to_owned)
                        .or(user.map(str::to_owned));
                    rec.details = info.details();
                    self.emit(rec);
                }
            }
        }
    }

    /// Resolves and reads unit `name` (found through `link` when given,
    /// else through `search`), following a timer or path unit to the unit
    /// it triggers.
    fn unit(
        &mut self,
        name: &str,
        link: Option<&str>,
        from_dir: &str,
        search: &[String],
    ) -> PersistenceRecord {
        let Some((path, f)) = self.find_unit(name, link, from_dir, search) else {
            let mut rec = self.pointer("systemd", &format!("{from_dir}/{name}"), None);
            rec.unit = Some(name.to_owned());
            rec.details.push("unit file not found".into());
            return rec;
        };
        let info = systemd::parse_unit(&lossless_utf8(&f.bytes));
        let mut rec = self.pointer("systemd", &path, Some(&f.meta));
        rec.unit = Some(name.to_owned());
        rec.command = info.exec_start().map(str::to_owned);
        rec.schedule = info.schedule();
        rec.user = info.values("User").next().map(str::to_owned);
        rec.details = info.details();
        if let Some(triggered) = systemd::triggered_unit(name, &info) {
            match self.find_unit(&triggered, None, from_dir, search) {
                Some((tpath, tf)) => {
                    let tinfo = systemd::parse_unit(&lossless_utf8(&tf.bytes));
                    if rec.command.is_none() {
                        rec.command = tinfo.exec_start().map(str::to_owned);
                    }
                    if rec.user.is_none() {
                        rec.user = tinfo.values("User").next().map(str::to_owned);
                    }
                    rec.details.push(format!("triggers={triggered} ({tpath})"));
                }
                None => rec
                    .details
                    .push(format!("triggers={triggered} (unit file not found)")),
            }
        }
        rec
    }

    fn find_unit(
        &mut self,
        name: &str,
        link: Option<&str>,
        from_dir: &str,
        search: &[String],
    ) -> Option<(String, HostFile)> {
        let mut candidates: Vec<String> = Vec::new();
        if let Some(link) = link {
            if link == "/dev/null" {
                return None;
            }
            candidates.push(if link.starts_with('/') {
                link.to_owned()
            } else {
                normalize(&format!("{from_dir}/{link}"))
            });
        }
        let template = systemd::template_of(name);
        for dir in search {
            candidates.push(format!("{dir}/{name}"));
            if let Some(t) = &template {
                candidates.push(format!("{dir}/{t}"));
            }
        }
        for c in candidates {
            if let Some(f) = self.read_host(&c) {
                return Some((c, f));
            }
        }
        None
    }
}

fn is_unit_name(name: &str) -> bool {
    [
        ".service", ".timer", ".socket", ".path", ".target", ".mount",
    ]
    .iter()
    .any(|s| name.ends_with(s))
}

/// Removes `.` and `..` components of an absolute path.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}
