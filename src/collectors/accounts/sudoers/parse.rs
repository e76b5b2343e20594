//! The sudoers grammar, as far as irdump needs it (sudoers(5)): logical
//! lines (continuations joined, comments removed), include directives,
//! aliases, and user specifications down to each command's run-as list and
//! `NOPASSWD` tag. `Defaults` lines are recognised and ignored.
//!
//! Limitation: host lists are parsed but not evaluated (every rule is taken
//! to apply on this host), and digests, `CHROOT=`-style options and tags
//! other than `NOPASSWD`/`PASSWD` are skipped; none of them changes who may
//! become root.

/// One member of a sudoers list (users, run-as users, commands, alias
/// members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Preceded by an odd number of `!`.
    pub negated: bool,
    /// The member with quotes and escapes removed.
    pub value: String,
}

/// A run-as specification: `(users : groups)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runas {
    /// As written, with its parentheses.
    pub text: String,
    /// Users it may run as; `None` when only groups are given.
    pub users: Option<Vec<Item>>,
    /// Groups it may run as.
    pub groups: Option<Vec<Item>>,
}

/// One command of a user specification, with the run-as list and tags in
/// effect for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmndSpec {
    /// In effect run-as list; `None` means sudo's default (root).
    pub runas: Option<Runas>,
    /// `NOPASSWD:` is in effect.
    pub nopasswd: bool,
    /// The command (`ALL`, a path with arguments, an alias).
    pub command: Item,
    /// The command as written (with its `!`).
    pub text: String,
}

/// The four alias kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AliasKind {
    /// `User_Alias`.
    User,
    /// `Runas_Alias`.
    Runas,
    /// `Host_Alias`.
    Host,
    /// `Cmnd_Alias` (or `Cmd_Alias`).
    Cmnd,
}

/// One parsed statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// `@include`/`#include` (`dir: false`) or `@includedir`/`#includedir`.
    Include {
        /// The path as written (unquoted).
        path: String,
        /// A directory include.
        dir: bool,
    },
    /// A `Defaults` line.
    Defaults,
    /// An alias definition.
    Alias {
        /// Which kind.
        kind: AliasKind,
        /// Its name.
        name: String,
        /// Its members.
        items: Vec<Item>,
    },
    /// A user specification.
    UserSpec {
        /// Who it applies to.
        users: Vec<Item>,
        /// What they may run.
        commands: Vec<CmndSpec>,
    },
}

/// A statement's text and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// First physical line (1-based).
    pub line: u32,
    /// Text with continuations joined and comments removed.
    pub text: String,
}

/// Splits a sudoers file into logical lines: a line ending in an unescaped
/// backslash continues on the next; `#` starts a comment unless it begins
/// `#include`/`#includedir` or is followed by a digit (`#1000` is a uid).
pub fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut current: Option<LogicalLine> = None;
    for (i, raw) in text.lines().enumerate() {
        let number = (i + 1) as u32;
        let trimmed = raw.trim_start();
        let is_include = current.is_none()
            && (trimmed.starts_with("#include ") || trimmed.starts_with("#includedir "));
        let body = if is_include { raw } else { strip_comment(raw) };
        let (body, continues) = match body.strip_suffix('\\') {
            Some(rest) if !ends_escaped(rest) => (rest, true),
            _ => (body, false),
        };
        let entry = current.get_or_insert_with(|| LogicalLine {
            line: number,
            text: String::new(),
        });
        if !entry.text.is_empty() {
            entry.text.push(' ');
        }
        entry.text.push_str(body.trim());
        if !continues {
            if let Some(done) = current.take() {
                if !done.text.is_empty() {
                    out.push(done);
                }
            }
        }
    }
    if let Some(done) = current {
        if !done.text.is_empty() {
            out.push(done);
        }
    }
    out
}

/// True when `s` ends in an odd number of backslashes (its last one is
/// escaped by nothing, so a following backslash was escaped by it).
fn ends_escaped(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => quoted = !quoted,
            b'#' if !quoted && !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                return &line[..i];
            }
            _ => {}
        }
        i += 1;
    }
    line
}

const TAGS: &[&str] = &[
    "NOPASSWD",
    "PASSWD",
    "NOEXEC",
    "EXEC",
    "SETENV",
    "NOSETENV",
    "LOG_INPUT",
    "NOLOG_INPUT",
    "LOG_OUTPUT",
    "NOLOG_OUTPUT",
    "MAIL",
    "NOMAIL",
    "FOLLOW",
    "NOFOLLOW",
    "INTERCEPT",
    "NOINTERCEPT",
];

const OPTIONS: &[&str] = &[
    "ROLE",
    "TYPE",
    "CWD",
    "CHROOT",
    "TIMEOUT",
    "NOTBEFORE",
    "NOTAFTER",
    "APPARMOR_PROFILE",
    "PRIVS",
    "LIMITPRIVS",
];

const DIGESTS: &[&str] = &["sha224", "sha256", "sha384", "sha512"];

/// Parses one logical line into statements (an alias line may define
/// several aliases).
///
/// # Errors
///
/// A message saying why the line is not valid sudoers syntax.
pub fn parse_statement(text: &str) -> Result<Vec<Statement>, String> {
    for (prefix, dir) in [
        ("@includedir", true),
        ("#includedir", true),
        ("@include", false),
        ("#include", false),
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            if rest.starts_with(char::is_whitespace) {
                let path = unquote(rest.trim());
                if path.is_empty() {
                    return Err(format!("{prefix} without a path"));
                }
                return Ok(vec![Statement::Include { path, dir }]);
            }
        }
    }
    if let Some(rest) = text.strip_prefix("Defaults") {
        if rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || ":@!>".contains(c)) {
            return Ok(vec![Statement::Defaults]);
        }
    }
    for (keyword, kind) in [
        ("User_Alias", AliasKind::User),
        ("Runas_Alias", AliasKind::Runas),
        ("Host_Alias", AliasKind::Host),
        ("Cmnd_Alias", AliasKind::Cmnd),
        ("Cmd_Alias", AliasKind::Cmnd),
    ] {
        if let Some(rest) = text.strip_prefix(keyword) {
            if rest.starts_with(char::is_whitespace) {
                return parse_aliases(kind, rest);
            }
        }
    }
    parse_user_spec(text)
}

/// True for a valid alias name: an upper-case letter, then upper-case
/// letters, digits and underscores.
pub fn is_alias_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn parse_aliases(kind: AliasKind, rest: &str) -> Result<Vec<Statement>, String> {
    let mut out = Vec::new();
    for def in split_top(rest, b':') {
        let Some((name, list)) = split_once_top(&def, b'=') else {
            return Err(format!("alias definition without '=': {}", def.trim()));
        };
        let name = name.trim();
        if !is_alias_name(name) {
            return Err(format!("invalid alias name {name:?}"));
        }
        let items = parse_list(&list);
        if items.is_empty() {
            return Err(format!("alias {name} has no members"));
        }
        out.push(Statement::Alias {
            kind,
            name: name.to_owned(),
            items,
        });
    }
    Ok(out)
}

fn parse_user_spec(text: &str) -> Result<Vec<Statement>, String> {
    let Some((lhs, rhs)) = split_once_top(text, b'=') else {
        return Err("not a Defaults, alias, include or user specification (no '=')".into());
    };
    let words = list_words(&lhs);
    if words.len() != 2 {
        return Err(format!(
            "expected a user list and a host list before '=', found {} word(s)",
            words.len()
        ));
    }
    let users = parse_list(&words[0]);
    if users.is_empty() {
        return Err("empty user list".into());
    }
    let commands = parse_cmnd_specs(&rhs)?;
    Ok(vec![Statement::UserSpec { users, commands }])
}

/// Parses `Cmnd_Spec_List [: Host_List = Cmnd_Spec_List]...`.
fn parse_cmnd_specs(rhs: &str) -> Result<Vec<CmndSpec>, String> {
    let b = rhs.as_bytes();
    let mut out = Vec::new();
    let mut runas: Option<Runas> = None;
    let mut nopasswd = false;
    let mut i = 0;
    let mut expect_command = true;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] == b'(' {
            let Some(close) = rhs[i..].find(')') else {
                return Err("run-as list without ')'".into());
            };
            runas = Some(parse_runas(&rhs[i..=i + close]));
            i += close + 1;
            continue;
        }
        let word_end = rhs[i..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(b.len(), |n| i + n);
        let word = &rhs[i..word_end];
        if b.get(word_end) == Some(&b':') && TAGS.contains(&word) {
            match word {
                "NOPASSWD" => nopasswd = true,
                "PASSWD" => nopasswd = false,
                _ => {}
            }
            i = word_end + 1;
            continue;
        }
        if b.get(word_end) == Some(&b':') && DIGESTS.contains(&word) {
            i = skip_word(b, word_end + 1);
            continue;
        }
        if b.get(word_end) == Some(&b'=') && OPTIONS.contains(&word) {
            i = skip_word(b, word_end + 1);
            continue;
        }
        let end = find_top(b, i, |c| c == b',' || c == b':').unwrap_or(b.len());
        let text = rhs[i..end].trim();
        if text.is_empty() {
            return Err("empty command".into());
        }
        out.push(CmndSpec {
            runas: runas.clone(),
            nopasswd,
            command: item(text),
            text: text.to_owned(),
        });
        expect_command = false;
        i = end;
        match b.get(i) {
            Some(b',') => {
                i += 1;
                expect_command = true;
            }
            Some(b':') => {
                // A further `Host_List = Cmnd_Spec_List` starts afresh.
                let Some(eq) = find_top(b, i + 1, |c| c == b'=') else {
                    return Err("':' not followed by 'Host_List ='".into());
                };
                i = eq + 1;
                runas = None;
                nopasswd = false;
                expect_command = true;
            }
            _ => {}
        }
    }
    if expect_command {
        return Err("a command is missing after '=', ',' or ':'".into());
    }
    Ok(out)
}

fn skip_word(b: &[u8], mut i: usize) -> usize {
    if b.get(i) == Some(&b'"') {
        i += 1;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        return (i + 1).min(b.len());
    }
    while i < b.len() && !b[i].is_ascii_whitespace() {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i.min(b.len())
}

fn parse_runas(text: &str) -> Runas {
    let inner = &text[1..text.len() - 1];
    let (users, groups) = match split_once_top(inner, b':') {
        Some((u, g)) => (u, Some(g)),
        None => (inner.to_owned(), None),
    };
    let users = parse_list(&users);
    let groups = groups.map(|g| parse_list(&g)).filter(|g| !g.is_empty());
    Runas {
        text: text.to_owned(),
        // `()` and `(:group)` both leave the user part empty; only the
        // latter means "as the invoking user".
        users: if users.is_empty() && groups.is_some() {
            None
        } else {
            Some(users)
        },
        groups,
    }
}

/// Position of the first byte at or after `from` outside quotes and not
/// escaped for which `pred` holds.
fn find_top(b: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> Option<usize> {
    let mut quoted = false;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => quoted = !quoted,
            c if !quoted && pred(c) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn split_once_top(s: &str, sep: u8) -> Option<(String, String)> {
    let at = find_top(s.as_bytes(), 0, |c| c == sep)?;
    Some((s[..at].to_owned(), s[at + 1..].to_owned()))
}

fn split_top(s: &str, sep: u8) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(at) = find_top(b, start, |c| c == sep) {
        out.push(s[start..at].to_owned());
        start = at + 1;
    }
    out.push(s[start..].to_owned());
    out
}

/// Splits at whitespace, except whitespace next to a comma (`a, b c` is
/// the two words `a, b` and `c`).
fn list_words(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut words: Vec<String> = Vec::new();
    let mut start = None;
    let mut i = 0;
    let mut quoted = false;
    while i <= b.len() {
        let c = b.get(i).copied();
        match c {
            Some(b'\\') if !quoted => {
                start.get_or_insert(i);
                i += 2;
                continue;
            }
            Some(b'"') => {
                quoted = !quoted;
                start.get_or_insert(i);
            }
            Some(c) if quoted || !c.is_ascii_whitespace() => {
                start.get_or_insert(i);
            }
            _ => {
                if let Some(st) = start.take() {
                    words.push(s[st..i.min(b.len())].to_owned());
                }
            }
        }
        i += 1;
    }
    // A trailing backslash skips past the end.
    if let Some(st) = start {
        words.push(s[st..].to_owned());
    }
    let mut merged: Vec<String> = Vec::new();
    for w in words {
        match merged.last_mut() {
            Some(last) if last.ends_with(',') || w.starts_with(',') => last.push_str(&w),
            _ => merged.push(w),
        }
    }
    merged
}

/// Parses a comma-separated list into items.
pub fn parse_list(s: &str) -> Vec<Item> {
    split_top(s, b',')
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .map(item)
        .collect()
}

fn item(raw: &str) -> Item {
    let mut negated = false;
    let mut rest = raw.trim();
    while let Some(r) = rest.strip_prefix('!') {
        negated = !negated;
        rest = r.trim_start();
    }
    Item {
        negated,
        value: unquote(rest),
    }
}

/// Removes double quotes and backslash escapes.
fn unquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '"' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> (Vec<Item>, Vec<CmndSpec>) {
        match parse_statement(text).unwrap().remove(0) {
            Statement::UserSpec { users, commands } => (users, commands),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn continuation_and_comments() {
        let l = logical_lines("# c\nalice ALL = \\\n  (root) ALL # trailing\n#1000 ALL=ALL\n#includedir /etc/sudoers.d\n");
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].line, 2);
        assert_eq!(l[0].text, "alice ALL = (root) ALL");
        assert_eq!(l[1].text, "#1000 ALL=ALL");
        assert_eq!(l[2].text, "#includedir /etc/sudoers.d");
    }

    #[test]
    fn user_specs() {
        let (u, c) = spec("%sudo\tALL=(ALL:ALL) ALL");
        assert_eq!(u[0].value, "%sudo");
        assert_eq!(c[0].command.value, "ALL");
        assert_eq!(c[0].runas.as_ref().unwrap().text, "(ALL:ALL)");
        let (u, c) =
            spec("alice, !bob ,carol host1 = (op) NOPASSWD: /bin/ls, PASSWD: /bin/cat : h2 = ALL");
        assert_eq!(u.len(), 3);
        assert!(u[1].negated);
        assert_eq!(c.len(), 3);
        assert!(c[0].nopasswd);
        assert!(!c[1].nopasswd);
        assert_eq!(c[1].runas.as_ref().unwrap().text, "(op)");
        assert!(c[2].runas.is_none());
        assert_eq!(c[2].command.value, "ALL");
        let (_, c) =
            spec("bob ALL=(:wheel) sha256:abcd= /bin/x, TIMEOUT=5 CWD=\"/a b\" /bin/y\\:z");
        assert!(c[0].runas.as_ref().unwrap().users.is_none());
        assert_eq!(c[1].command.value, "/bin/y:z");
    }

    #[test]
    fn bad_lines_are_errors() {
        for bad in [
            "alice ALL",
            "alice = ALL",
            "alice ALL = ",
            "alice ALL = (root ALL",
            "User_Alias lower = x",
            "alice bob carol = ALL",
        ] {
            assert!(parse_statement(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aliases_and_directives() {
        let s = parse_statement("User_Alias ADMINS = alice, %wheel : OPS = bob").unwrap();
        assert_eq!(s.len(), 2);
        assert!(matches!(
            parse_statement("Defaults:alice !requiretty").unwrap()[0],
            Statement::Defaults
        ));
        assert_eq!(
            parse_statement("@includedir \"/etc/sudoers.d\"").unwrap()[0],
            Statement::Include {
                path: "/etc/sudoers.d".into(),
                dir: true
            }
        );
    }
}
