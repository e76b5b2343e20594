//! Who sudo lets act as root: `/etc/sudoers` and every file it includes,
//! reduced to the rules that apply to each account.
//!
//! [`load`] walks the include tree through a [`SudoersSource`] (the live
//! reader resolves host paths under `--root`; tests use fixture trees):
//! `@include`/`#include` files, and `@includedir`/`#includedir`
//! directories, whose files are read in lexical order, skipping names that
//! end in `~` or contain a `.` as sudo does. A relative include is relative
//! to the including file's directory. The walk is bounded: an include of a
//! file already being read (a loop) is refused, nesting stops at
//! [`MAX_DEPTH`], and at most [`MAX_FILES`] files are read; each refusal is a
//! [`Problem`], as is every line that does not parse.
//!
//! [`Sudoers::rules_for`] then evaluates user lists (names, `#uid`,
//! `%group`, `%#gid`, `ALL`, `User_Alias`es, `!` negation, the last match
//! winning as in sudo) and decides for each rule whether it lets the
//! account run any command (`ALL`, directly or through a `Cmnd_Alias`) as
//! root (no run-as list, or one that names `ALL`, `root` or `#0`).
//!
//! Limitation: netgroups (`+group`) and non-Unix groups (`%:group`) are not
//! resolved (each use is a problem), host lists are not evaluated, and
//! sudoers rules served by LDAP or SSSD are not seen.

pub mod parse;

use std::collections::{HashMap, HashSet};
use std::io;

use jiff::Timestamp;

use parse::{AliasKind, CmndSpec, Item, Statement};

/// How deep includes may nest.
pub const MAX_DEPTH: usize = 16;
/// How many sudoers files are read at most.
pub const MAX_FILES: usize = 256;
/// How deep aliases may nest when resolved.
const MAX_ALIAS_DEPTH: usize = 32;

/// A file as the source gives it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its modification time.
    pub mtime: Option<Timestamp>,
}

/// A directory entry as the source gives it.
#[derive(Debug, Clone)]
pub struct SourceEntry {
    /// File name.
    pub name: String,
    /// Whether it is a regular file (after following a symlink).
    pub is_file: bool,
}

/// Where sudoers files come from; paths are host paths (`/etc/sudoers`).
pub trait SudoersSource {
    /// Reads one file.
    ///
    /// # Errors
    ///
    /// The I/O error, `NotFound` for an absent file.
    fn read(&self, path: &str) -> io::Result<SourceFile>;
    /// Lists a directory.
    ///
    /// # Errors
    ///
    /// The I/O error, `NotFound` for an absent directory.
    fn list_dir(&self, path: &str) -> io::Result<Vec<SourceEntry>>;
}

/// Something that could not be read or understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (host path).
    pub file: String,
    /// The line, when the problem is one line.
    pub line: Option<u32>,
    /// What went wrong.
    pub reason: String,
}

/// A sudoers file that was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Host path.
    pub path: String,
    /// Modification time.
    pub mtime: Option<Timestamp>,
}

/// A user specification and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// File (host path).
    pub file: String,
    /// Line where it starts.
    pub line: u32,
    /// Who it applies to.
    pub users: Vec<Item>,
    /// What they may run.
    pub commands: Vec<CmndSpec>,
}

/// Everything read from the sudoers tree.
#[derive(Debug, Clone, Default)]
pub struct Sudoers {
    /// Files read, in reading order.
    pub files: Vec<FileInfo>,
    /// User specifications, in reading order.
    pub rules: Vec<Rule>,
    /// What could not be read or parsed.
    pub problems: Vec<Problem>,
    aliases: HashMap<(AliasKind, String), Vec<Item>>,
}

/// An account as sudo matches it.
#[derive(Debug, Clone)]
pub struct Principal<'a> {
    /// Login name.
    pub name: &'a str,
    /// Uid.
    pub uid: u32,
    /// Every group (primary and supplementary): name and gid.
    pub groups: Vec<(&'a str, u32)>,
}

/// What one rule grants one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// File (host path).
    pub file: String,
    /// Line.
    pub line: u32,
    /// The file's modification time.
    pub file_mtime: Option<Timestamp>,
    /// Distinct run-as lists as written (`None` entries left out).
    pub runas: Option<String>,
    /// Commands as written.
    pub commands: Vec<String>,
    /// Any command as root.
    pub all_as_root: bool,
    /// Some command needs no password.
    pub nopasswd: bool,
}

/// Reads `main` and everything it includes. `None` when `main` does not
/// exist (sudo is not installed); every other failure is a problem.
pub fn load(source: &dyn SudoersSource, main: &str) -> Option<Sudoers> {
    let mut s = Sudoers::default();
    let mut walk = Walk {
        source,
        stack: Vec::new(),
        files_read: 0,
    };
    match source.read(main) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            s.problems.push(Problem {
                file: main.to_owned(),
                line: None,
                reason: e.to_string(),
            });
            return Some(s);
        }
        Ok(file) => walk.file(&mut s, main, file),
    }
    Some(s)
}

struct Walk<'a> {
    source: &'a dyn SudoersSource,
    stack: Vec<String>,
    files_read: usize,
}

impl Walk<'_> {
    fn file(&mut self, s: &mut Sudoers, path: &str, file: SourceFile) {
        self.files_read += 1;
        s.files.push(FileInfo {
            path: path.to_owned(),
            mtime: file.mtime,
        });
        let text = match std::str::from_utf8(&file.bytes) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => {
                s.problems.push(Problem {
                    file: path.to_owned(),
                    line: None,
                    reason: "not valid UTF-8; invalid bytes were replaced before parsing".into(),
                });
                String::from_utf8_lossy(&file.bytes)
            }
        };
        self.stack.push(path.to_owned());
        for logical in parse::logical_lines(&text) {
            let statements = match parse::parse_statement(&logical.text) {
                Ok(st) => st,
                Err(reason) => {
                    log::debug!("sudoers {path}:{}: {reason}", logical.line);
                    s.problems.push(Problem {
                        file: path.to_owned(),
                        line: Some(logical.line),
                        reason: format!("does not parse: {reason}"),
                    });
                    continue;
                }
            };
            for st in statements {
                match st {
                    Statement::Include { path: target, dir } => {
                        self.include(s, path, logical.line, &target, dir);
                    }
                    Statement::Defaults => {}
                    Statement::Alias { kind, name, items } => {
                        s.aliases.insert((kind, name), items);
                    }
                    Statement::UserSpec { users, commands } => s.rules.push(Rule {
                        file: path.to_owned(),
                        line: logical.line,
                        users,
                        commands,
                    }),
                }
            }
        }
        self.stack.pop();
    }

    fn include(&mut self, s: &mut Sudoers, from: &str, line: u32, target: &str, dir: bool) {
        let mut problem = |reason: String| {
            s.problems.push(Problem {
                file: from.to_owned(),
                line: Some(line),
                reason,
            })
        };
        if target.contains("%h") {
            problem(format!(
                "include {target}: %h (the host name) is not expanded"
            ));
            return;
        }
        let target = resolve(from, target);
        if self.stack.len() >= MAX_DEPTH {
            problem(format!("include {target}: nesting deeper than {MAX_DEPTH}"));
            return;
        }
        if !dir {
            self.include_file(s, from, line, &target);
            return;
        }
        let entries = match self.source.list_dir(&target) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                log::debug!("sudoers {from}:{line}: include directory {target} is absent");
                return;
            }
            Err(e) => {
                problem(format!("include directory {target}: {e}"));
                return;
            }
        };
        let mut names: Vec<String> = entries
            .into_iter()
            .filter(|e| {
                let skip = e.name.ends_with('~') || e.name.contains('.') || !e.is_file;
                if skip {
                    log::debug!("sudoers: {target}/{} skipped as sudo does", e.name);
                }
                !skip
            })
            .map(|e| e.name)
            .collect();
        names.sort();
        for name in names {
            let path = format!("{}/{name}", target.trim_end_matches('/'));
            self.include_file(s, from, line, &path);
        }
    }

    fn include_file(&mut self, s: &mut Sudoers, from: &str, line: u32, path: &str) {
        let mut problem = |reason: String| {
            s.problems.push(Problem {
                file: from.to_owned(),
                line: Some(line),
                reason,
            })
        };
        if self.stack.iter().any(|p| p == path) {
            problem(format!(
                "include {path}: loop (the file is already being read)"
            ));
            return;
        }
        if self.files_read >= MAX_FILES {
            problem(format!(
                "include {path}: more than {MAX_FILES} sudoers files"
            ));
            return;
        }
        match self.source.read(path) {
            Ok(file) => self.file(s, path, file),
            Err(e) => problem(format!("include {path}: {e}")),
        }
    }
}

/// Resolves an include target against the including file's directory and
/// removes `.` and `..` components.
fn resolve(from: &str, target: &str) -> String {
    let joined = if target.starts_with('/') {
        target.to_owned()
    } else {
        let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{target}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
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

impl Sudoers {
    /// Every rule that applies to `who`, with what it grants. `root` is the
    /// root account, for deciding whether a run-as list includes it.
    /// Netgroups and non-Unix groups met on the way are added to
    /// `unresolved` (once each).
    pub fn rules_for(
        &self,
        who: &Principal<'_>,
        root: &Principal<'_>,
        unresolved: &mut HashSet<String>,
    ) -> Vec<Grant> {
        let mtime = |file: &str| {
            self.files
                .iter()
                .find(|f| f.path == file)
                .and_then(|f| f.mtime)
        };
        let mut out = Vec::new();
        for rule in &self.rules {
            if !self.list_matches(&rule.users, AliasKind::User, who, unresolved, 0) {
                continue;
            }
            let mut runas: Vec<&str> = Vec::new();
            let mut all_as_root = false;
            let mut nopasswd = false;
            for c in &rule.commands {
                if let Some(r) = &c.runas {
                    if !runas.contains(&r.text.as_str()) {
                        runas.push(&r.text);
                    }
                }
                nopasswd |= c.nopasswd && !c.command.negated;
                if !c.command.negated
                    && self.is_all_commands(&c.command.value, 0)
                    && self.runs_as_root(c, root, unresolved)
                {
                    all_as_root = true;
                }
            }
            out.push(Grant {
                file: rule.file.clone(),
                line: rule.line,
                file_mtime: mtime(&rule.file),
                runas: (!runas.is_empty()).then(|| runas.join(" ")),
                commands: rule
                    .commands
                    .iter()
                    .map(|c| {
                        if c.nopasswd {
                            format!("NOPASSWD: {}", c.text)
                        } else {
                            c.text.clone()
                        }
                    })
                    .collect(),
                all_as_root,
                nopasswd,
            });
        }
        out
    }

    fn runs_as_root(
        &self,
        c: &CmndSpec,
        root: &Principal<'_>,
        unresolved: &mut HashSet<String>,
    ) -> bool {
        match &c.runas {
            None => true,
            Some(r) => match &r.users {
                None => false,
                Some(users) if users.is_empty() => true,
                Some(users) => self.list_matches(users, AliasKind::Runas, root, unresolved, 0),
            },
        }
    }

    /// Last matching item wins; no match means no.
    fn list_matches(
        &self,
        items: &[Item],
        kind: AliasKind,
        who: &Principal<'_>,
        unresolved: &mut HashSet<String>,
        depth: usize,
    ) -> bool {
        let mut verdict = false;
        for item in items {
            if self.item_matches(&item.value, kind, who, unresolved, depth) {
                verdict = !item.negated;
            }
        }
        verdict
    }

    fn item_matches(
        &self,
        value: &str,
        kind: AliasKind,
        who: &Principal<'_>,
        unresolved: &mut HashSet<String>,
        depth: usize,
    ) -> bool {
        if value == "ALL" {
            return true;
        }
        if let Some(gid) = value.strip_prefix("%#") {
            return gid
                .parse::<u32>()
                .is_ok_and(|g| who.groups.iter().any(|(_, id)| *id == g));
        }
        if value.starts_with("%:") || value.starts_with('+') {
            unresolved.insert(value.to_owned());
            return false;
        }
        if let Some(group) = value.strip_prefix('%') {
            return who.groups.iter().any(|(name, _)| *name == group);
        }
        if let Some(uid) = value.strip_prefix('#') {
            return uid.parse::<u32>().is_ok_and(|u| u == who.uid);
        }
        if parse::is_alias_name(value) {
            if let Some(items) = self.aliases.get(&(kind, value.to_owned())) {
                if depth >= MAX_ALIAS_DEPTH {
                    unresolved.insert(format!("{value} (aliases nested too deep)"));
                    return false;
                }
                return self.list_matches(items, kind, who, unresolved, depth + 1);
            }
        }
        value == who.name
    }

    fn is_all_commands(&self, value: &str, depth: usize) -> bool {
        if value == "ALL" {
            return true;
        }
        if depth >= MAX_ALIAS_DEPTH || !parse::is_alias_name(value) {
            return false;
        }
        self.aliases
            .get(&(AliasKind::Cmnd, value.to_owned()))
            .is_some_and(|items| {
                items
                    .iter()
                    .any(|i| !i.negated && self.is_all_commands(&i.value, depth + 1))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Mem(Vec<(&'static str, &'static str)>);

    impl SudoersSource for Mem {
        fn read(&self, path: &str) -> io::Result<SourceFile> {
            self.0
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, t)| SourceFile {
                    bytes: t.as_bytes().to_vec(),
                    mtime: None,
                })
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }
        fn list_dir(&self, path: &str) -> io::Result<Vec<SourceEntry>> {
            let prefix = format!("{path}/");
            Ok(self
                .0
                .iter()
                .filter_map(|(p, _)| p.strip_prefix(&prefix))
                .map(|n| SourceEntry {
                    name: n.to_owned(),
                    is_file: true,
                })
                .collect())
        }
    }

    fn who<'a>(name: &'a str, uid: u32, groups: &[(&'a str, u32)]) -> Principal<'a> {
        Principal {
            name,
            uid,
            groups: groups.to_vec(),
        }
    }

    #[test]
    fn includes_loops_and_aliases() {
        let src = Mem(vec![
            ("/etc/sudoers", "User_Alias ADM = alice, %ops\nroot ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n#include loop\n"),
            ("/etc/sudoers.d/10-adm", "ADM ALL = (root) NOPASSWD: ALL\nbob ALL=(op) ALL\nthis is bad\n"),
            ("/etc/sudoers.d/skip.conf", "carol ALL=ALL\n"),
            ("/etc/sudoers.d/old~", "carol ALL=ALL\n"),
            ("/etc/loop", "@include /etc/sudoers\n"),
        ]);
        let s = load(&src, "/etc/sudoers").unwrap();
        let files: Vec<&str> = s.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            files,
            ["/etc/sudoers", "/etc/sudoers.d/10-adm", "/etc/loop"]
        );
        assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
        assert_eq!(s.problems[0].line, Some(3));
        assert!(s.problems[1].reason.contains("loop"));

        let root = who("root", 0, &[("root", 0)]);
        let mut un = HashSet::new();
        let dave = who("dave", 1001, &[("dave", 1001), ("ops", 1500)]);
        let g = s.rules_for(&dave, &root, &mut un);
        assert_eq!(g.len(), 1);
        assert!(g[0].all_as_root && g[0].nopasswd);
        assert_eq!(
            (g[0].file.as_str(), g[0].line),
            ("/etc/sudoers.d/10-adm", 1)
        );
        let bob = who("bob", 1002, &[("bob", 1002)]);
        let g = s.rules_for(&bob, &root, &mut un);
        assert_eq!(g.len(), 1);
        assert!(!g[0].all_as_root, "run as op only");
        assert!(s
            .rules_for(&who("carol", 1003, &[]), &root, &mut un)
            .is_empty());
    }

    #[test]
    fn negation_last_match_wins() {
        let src = Mem(vec![(
            "/etc/sudoers",
            "Cmnd_Alias EVERYTHING = ALL\n%wheel, !eve ALL = EVERYTHING\n#1005 ALL=(#0) ALL\n",
        )]);
        let s = load(&src, "/etc/sudoers").unwrap();
        let root = who("root", 0, &[("root", 0)]);
        let mut un = HashSet::new();
        let eve = who("eve", 1004, &[("wheel", 10)]);
        assert!(s.rules_for(&eve, &root, &mut un).is_empty());
        let frank = who("frank", 1005, &[("wheel", 10)]);
        let g = s.rules_for(&frank, &root, &mut un);
        assert_eq!(g.len(), 2);
        assert!(g.iter().all(|g| g.all_as_root));
    }

    #[test]
    fn relative_includes_resolve() {
        assert_eq!(
            resolve("/etc/sudoers", "sudoers.local"),
            "/etc/sudoers.local"
        );
        assert_eq!(resolve("/etc/sudoers.d/x", "../y"), "/etc/y");
        assert_eq!(resolve("/etc/sudoers", "/abs/./z"), "/abs/z");
    }
}
