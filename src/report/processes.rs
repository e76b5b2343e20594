//! The "Processes" section: the process table as a tree, parent to child,
//! one line per process with its PID, parent, user, start time (UTC), name
//! and command line, and marks for those that hold sockets (from
//! `network.jsonl`), that a finding names, and that the `/proc` listing
//! hid.
//!
//! Indentation stops growing at [`MAX_INDENT`] levels (deeper levels show
//! their depth instead), so a fork chain thousands deep cannot push the
//! names off the page. Processes whose parent is not in the snapshot
//! (it exited, or its record is missing) are shown under a
//! `(parent not in snapshot)` root, never dropped; so are those whose
//! parent started after them (the PID was reused: Windows keeps a dead
//! parent's PID in its children's records), and records caught in a parent
//! cycle, which only a corrupt bundle can hold.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::ReportWriter;
use crate::bundle::BundleFiles;
use crate::findings::platform::Platform;
use crate::records::network::SocketRecord;
use crate::records::process::{ProcessRecord, FILE};
use crate::text::display_cut;

/// Tree levels shown by indentation; deeper ones are numbered.
const MAX_INDENT: usize = 12;

/// Widest name and command line shown (the JSON keeps them whole).
const NAME_WIDTH: usize = 40;
const CMDLINE_WIDTH: usize = 160;
const USER_WIDTH: usize = 28;

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("Processes");
    let Some(parsed) = r.shared_records::<ProcessRecord>(bundle, FILE) else {
        r.not_collected(FILE);
        return;
    };
    let procs = &parsed.records;
    if procs.is_empty() {
        r.line("  none recorded");
        return;
    }
    let marks = Marks::from_bundle(bundle, &r.flagged);
    let kernel = procs.iter().filter(|p| p.kernel_thread).count();
    let zombies = procs
        .iter()
        .filter(|p| p.state.as_deref() == Some("Z"))
        .count();
    let hidden = procs.iter().filter(|p| p.hidden_from_listing).count();
    if r.platform == Platform::Windows {
        // No kernel threads, zombies, unix sockets or /proc listing there.
        r.line(&format!("  {} processes", procs.len()));
        r.line("  marks: ! named in a finding   N holds an IPv4/IPv6 socket");
    } else {
        r.line(&format!(
            "  {} processes ({kernel} kernel threads, {zombies} zombies, {hidden} hidden from \
             the /proc listing)",
            procs.len()
        ));
        r.line(
            "  marks: ! named in a finding   N holds an IPv4/IPv6 socket   u holds unix sockets \
             only",
        );
        r.line("         H missing from the /proc listing (found by probing)");
    }
    // Windows accounts (`NT AUTHORITY\NETWORK SERVICE`) are longer than
    // Unix ones: the column fits the longest, within bounds.
    let user_width = procs
        .iter()
        .map(|p| user_of(p).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, USER_WIDTH);
    r.line(&format!(
        "  {:<8} {:<8} {:<user_width$} {:<19}  {:<3} PROCESS",
        "PID", "PPID", "USER", "STARTED (UTC)", "M"
    ));
    for (index, depth) in tree_order(procs) {
        let line = match index {
            Some(i) => process_line(&procs[i], depth, &marks, user_width),
            None => format!(
                "  {:<8} {:<8} {:<user_width$} {:<19}  {:<3} (parent not in snapshot)",
                "-", "-", "", "", ""
            ),
        };
        r.line(&line);
    }
}

/// Which PIDs hold sockets or are named in findings.
struct Marks {
    inet: HashSet<u32>,
    unix: HashSet<u32>,
    flagged: HashSet<u32>,
}

impl Marks {
    /// Reads the marks; unreadable lines are reported by the sections
    /// that own those files. `flagged` are the PIDs the findings name.
    fn from_bundle(bundle: &BundleFiles, flagged: &HashSet<u32>) -> Self {
        let mut m = Marks {
            inet: HashSet::new(),
            unix: HashSet::new(),
            flagged: flagged.clone(),
        };
        if let Some(sockets) = bundle.shared_records::<SocketRecord>(crate::records::network::FILE)
        {
            for s in &sockets.records {
                let set = if s.family == "unix" {
                    &mut m.unix
                } else {
                    &mut m.inet
                };
                set.extend(s.owners.iter().map(|o| o.pid));
            }
        }
        m
    }

    fn of(&self, p: &ProcessRecord) -> String {
        let mut s = String::new();
        if self.flagged.contains(&p.pid) {
            s.push('!');
        }
        if self.inet.contains(&p.pid) {
            s.push('N');
        } else if self.unix.contains(&p.pid) {
            s.push('u');
        }
        if p.hidden_from_listing {
            s.push('H');
        }
        s
    }
}

/// The user name, else the uid, else `?`.
fn user_of(p: &ProcessRecord) -> String {
    p.user
        .clone()
        .or_else(|| p.uid.map(|u| u.to_string()))
        .unwrap_or_else(|| "?".into())
}

fn process_line(p: &ProcessRecord, depth: usize, marks: &Marks, user_width: usize) -> String {
    let user = user_of(p);
    let started = p
        .start_time
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "?".into());
    let ppid = p.ppid.map_or("?".into(), |v| v.to_string());
    let name = if p.kernel_thread {
        format!("[{}]", display_cut(&p.name, NAME_WIDTH))
    } else {
        display_cut(&p.name, NAME_WIDTH)
    };
    let cmdline = display_cut(&p.cmdline.join(" "), CMDLINE_WIDTH);
    let mut line = format!(
        "  {:<8} {:<8} {:<user_width$} {:<19}  {:<3} {}{}",
        p.pid,
        ppid,
        display_cut(&user, user_width),
        started,
        marks.of(p),
        indent(depth),
        name
    );
    if !cmdline.is_empty() {
        line.push_str("  ");
        line.push_str(&cmdline);
    }
    line
}

/// `\_ ` under the parent, two spaces a level, and past [`MAX_INDENT`]
/// levels the depth written out.
fn indent(depth: usize) -> String {
    if depth == 0 {
        return String::new();
    }
    let shown = depth.min(MAX_INDENT);
    let mut s = "  ".repeat(shown - 1);
    if depth > MAX_INDENT {
        s.push_str(&format!("[depth {depth}] "));
    }
    s.push_str("\\_ ");
    s
}

/// Every record once, parents before children (by PID), as `(index,
/// depth)`; `None` is the `(parent not in snapshot)` root, after which come
/// the orphans at depth 1 and below.
fn tree_order(procs: &[ProcessRecord]) -> Vec<(Option<usize>, usize)> {
    let mut by_pid: HashMap<u32, usize> = HashMap::new();
    for (i, p) in procs.iter().enumerate() {
        by_pid.entry(p.pid).or_insert(i);
    }
    let mut children: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    let mut roots = Vec::new();
    let mut orphans = Vec::new();
    // A parent that started after its child is another process that got
    // the PID later: Windows keeps a dead parent's PID in its children's
    // records, and reuses PIDs.
    let younger = |parent: usize, child: &ProcessRecord| matches!((procs[parent].start_time, child.start_time), (Some(a), Some(b)) if a > b);
    for (i, p) in procs.iter().enumerate() {
        match p.ppid {
            None | Some(0) => roots.push(i),
            Some(pp) if pp == p.pid => roots.push(i),
            Some(pp) => match by_pid.get(&pp) {
                Some(&parent) if !younger(parent, p) => children.entry(pp).or_default().push(i),
                _ => orphans.push(i),
            },
        }
    }
    let by_pid_order = |v: &mut Vec<usize>| v.sort_by_key(|&i| (procs[i].pid, i));
    by_pid_order(&mut roots);
    by_pid_order(&mut orphans);
    for v in children.values_mut() {
        by_pid_order(v);
    }

    let mut order = Vec::with_capacity(procs.len() + 1);
    let mut seen = vec![false; procs.len()];
    let walk = |start: usize, depth: usize, order: &mut Vec<_>, seen: &mut Vec<bool>| {
        let mut stack = vec![(start, depth)];
        while let Some((i, d)) = stack.pop() {
            if seen[i] {
                continue;
            }
            seen[i] = true;
            order.push((Some(i), d));
            // Only the first record of a duplicated PID gets its children.
            if by_pid.get(&procs[i].pid) == Some(&i) {
                if let Some(kids) = children.get(&procs[i].pid) {
                    stack.extend(kids.iter().rev().map(|&k| (k, d + 1)));
                }
            }
        }
    };
    for &i in &roots {
        walk(i, 0, &mut order, &mut seen);
    }
    // Whatever no root reaches: orphans, then records in a parent cycle.
    let mut rest: Vec<usize> = orphans;
    rest.extend((0..procs.len()).filter(|&i| !seen[i]));
    let mut header = false;
    for i in rest {
        if seen[i] {
            continue;
        }
        if !header {
            order.push((None, 0));
            header = true;
        }
        walk(i, 1, &mut order, &mut seen);
    }
    order
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

    use super::*;

    fn p(pid: u32, ppid: Option<u32>) -> ProcessRecord {
        ProcessRecord {
            pid,
            ppid,
            name: format!("p{pid}"),
            ..ProcessRecord::default()
        }
    }

    fn pids(procs: &[ProcessRecord]) -> Vec<(Option<u32>, usize)> {
        tree_order(procs)
            .into_iter()
            .map(|(i, d)| (i.map(|i| procs[i].pid), d))
            .collect()
    }

    #[test]
    fn parents_come_before_children_and_orphans_are_kept() {
        let procs = vec![
            p(30, Some(1)),
            p(1, Some(0)),
            p(2, Some(0)),
            p(10, Some(1)),
            p(11, Some(10)),
            p(50, Some(999)),
            p(51, Some(50)),
        ];
        assert_eq!(
            pids(&procs),
            vec![
                (Some(1), 0),
                (Some(10), 1),
                (Some(11), 2),
                (Some(30), 1),
                (Some(2), 0),
                (None, 0),
                (Some(50), 1),
                (Some(51), 2),
            ]
        );
    }

    #[test]
    fn a_parent_younger_than_its_child_is_a_reused_pid() {
        let at = |t: &str| Some(t.parse().unwrap());
        let mut parent = p(10, Some(0));
        parent.start_time = at("2026-03-14T09:00:00Z");
        let mut child = p(20, Some(10));
        child.start_time = at("2026-03-14T08:00:00Z");
        let mut own = p(30, Some(10));
        own.start_time = at("2026-03-14T09:30:00Z");
        assert_eq!(
            pids(&[parent, child, own]),
            vec![(Some(10), 0), (Some(30), 1), (None, 0), (Some(20), 1)]
        );
    }

    #[test]
    fn cycles_and_duplicates_are_each_shown_once() {
        let procs = vec![
            p(1, Some(0)),
            p(5, Some(6)),
            p(6, Some(5)),
            p(7, Some(1)),
            p(7, Some(1)),
        ];
        let order = pids(&procs);
        assert_eq!(order.len(), procs.len() + 1);
        assert!(order.contains(&(Some(5), 1)) || order.contains(&(Some(5), 2)));
        assert_eq!(order.iter().filter(|(p, _)| *p == Some(7)).count(), 2);
    }

    #[test]
    fn a_deep_chain_is_bounded_in_width() {
        let mut procs = vec![p(1, Some(0))];
        for pid in 2..=5000 {
            procs.push(p(pid, Some(pid - 1)));
        }
        let marks = Marks {
            inet: HashSet::new(),
            unix: HashSet::new(),
            flagged: HashSet::new(),
        };
        let order = tree_order(&procs);
        assert_eq!(order.len(), 5000);
        let (i, depth) = order[4999];
        assert_eq!(depth, 4999);
        let line = process_line(&procs[i.unwrap()], depth, &marks, 12);
        assert!(line.chars().count() < 120, "{line}");
        assert!(line.contains("[depth 4999] \\_ p5000"), "{line}");
    }
}
