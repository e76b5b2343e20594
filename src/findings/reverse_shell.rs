//! `reverse-shell`: the classic scenario, an attacker's shell wired to
//! their connection.
//!
//! Linux: a shell or interpreter whose stdin, stdout or stderr is an IPv4
//! or IPv6 socket; or any process whose stdin and stdout are one TCP
//! socket. Windows names no descriptors (socket owners carry `fd` 0 and
//! processes no `std_fds`), so there the rule judges ownership instead: a
//! shell or interpreter that holds an established TCP connection to
//! another host. That is weaker evidence, and the severities say so.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use crate::records::collection::Gap;
use crate::records::finding::{Finding, Severity};
use crate::records::network::SocketRecord;
use crate::records::process::ProcessRecord;

use super::network::{endpoint, is_loopback};
use super::processes::{argv0_name, exe_name, process_evidence};

/// Shells and interpreters a reverse shell is made of, by exact name.
const SHELLS: &[&str] = &[
    "sh",
    "ash",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "ksh93",
    "mksh",
    "csh",
    "tcsh",
    "fish",
    "busybox",
    "node",
    "nodejs",
    "nc",
    "ncat",
    "netcat",
    "nc.openbsd",
    "nc.traditional",
    "socat",
    "telnet",
    "pwsh",
    "awk",
    "gawk",
    "mawk",
    "tclsh",
    "expect",
];

/// Interpreters whose names carry a version (`python3.11`, `php8.2`).
const VERSIONED: &[&str] = &["python", "perl", "ruby", "php", "lua", "jjs"];

/// Windows programs that exist to run commands or scripts and have no
/// business holding a connection themselves (without `.exe`).
const WINDOWS_SHELLS: &[&str] = &[
    "cmd",
    "powershell",
    "pwsh",
    "powershell_ise",
    "mshta",
    "wscript",
    "cscript",
    "nc",
    "nc64",
    "ncat",
    "netcat",
    "socat",
    "bash",
    "sh",
];

/// Windows interpreters that are also application runtimes (a node.js
/// service, a Python agent): holding a connection is normal for them.
const WINDOWS_RUNTIMES: &[&str] = &["python", "pythonw", "perl", "ruby", "php", "node"];

fn is_shell_name(name: &str) -> bool {
    let name = name.strip_prefix('-').unwrap_or(name);
    SHELLS.contains(&name) || is_versioned(name, VERSIONED)
}

fn is_versioned(name: &str, stems: &[&str]) -> bool {
    stems.iter().any(|v| {
        name.strip_prefix(v)
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
    })
}

fn is_shell(p: &ProcessRecord) -> bool {
    is_shell_name(&p.name)
        || exe_name(p).is_some_and(is_shell_name)
        || argv0_name(p).is_some_and(is_shell_name)
}

fn socket_inode_of(target: Option<&str>) -> Option<u64> {
    crate::shared::socket_inode(target?.as_bytes())
}

/// Both halves of the rule.
pub(super) fn reverse_shell(
    procs: &[ProcessRecord],
    sockets: Option<&[SocketRecord]>,
    found: &mut Vec<Finding>,
    gaps: &mut Vec<Gap>,
) {
    // Without network.jsonl a socket's family is unknown, and a unix
    // socket on a service's stdout (the journal) is normal.
    let Some(sockets) = sockets else { return };
    let by_inode: HashMap<u64, &SocketRecord> =
        sockets.iter().filter_map(|s| Some((s.inode?, s))).collect();
    standard_descriptors(procs, &by_inode, found, gaps);
    windows_owned(procs, sockets, found);
}

fn standard_descriptors(
    procs: &[ProcessRecord],
    sockets: &HashMap<u64, &SocketRecord>,
    found: &mut Vec<Finding>,
    gaps: &mut Vec<Gap>,
) {
    let names: HashMap<u32, &str> = procs.iter().map(|p| (p.pid, p.name.as_str())).collect();
    for p in procs {
        let std = [
            ("stdin", p.std_fds.stdin.as_deref()),
            ("stdout", p.std_fds.stdout.as_deref()),
            ("stderr", p.std_fds.stderr.as_deref()),
        ];
        let shell = is_shell(p);
        let mut on_net: Vec<(&str, &SocketRecord)> = Vec::new();
        for (label, target) in std {
            let Some(inode) = socket_inode_of(target) else {
                continue;
            };
            match sockets.get(&inode) {
                Some(s) if matches!(s.family.as_str(), "ipv4" | "ipv6") => on_net.push((label, s)),
                Some(_) => {}
                None if shell => gaps.push(Gap {
                    what: format!("reverse-shell: pid {} ({})", p.pid, p.name),
                    cause: format!(
                        "{label} is socket {inode}, absent from network.jsonl: its kind is unknown"
                    ),
                }),
                None => {}
            }
        }
        let Some(&(_, first)) = on_net.first() else {
            continue;
        };
        let same_tcp = {
            let stdin = socket_inode_of(p.std_fds.stdin.as_deref());
            stdin.is_some()
                && stdin == socket_inode_of(p.std_fds.stdout.as_deref())
                && stdin
                    .and_then(|i| sockets.get(&i))
                    .is_some_and(|s| s.proto == "tcp" && s.family != "unix")
        };
        if !shell && !same_tcp {
            continue;
        }
        let socket = on_net
            .iter()
            .map(|(_, s)| *s)
            .find(|s| s.remote_port.is_some_and(|port| port != 0))
            .unwrap_or(first);
        let fds: Vec<&str> = on_net.iter().map(|(l, _)| *l).collect();
        let parent = p.ppid.and_then(|pp| names.get(&pp).copied());
        // A non-shell wired to a socket by PID 1 or inetd is how socket
        // activation with Accept=yes looks.
        let activated = p.ppid == Some(1) || matches!(parent, Some("inetd" | "xinetd"));
        let (severity, summary) = if shell {
            (
                Severity::High,
                format!(
                    "PID {} ({}), a shell or interpreter, has {} on {}",
                    p.pid,
                    p.name,
                    fds.join(", "),
                    endpoint(socket)
                ),
            )
        } else {
            let how = if activated {
                format!(
                    "; started by PID {} ({}), as socket activation does",
                    p.ppid.unwrap_or(0),
                    parent.unwrap_or("?")
                )
            } else {
                String::new()
            };
            (
                if activated {
                    Severity::Medium
                } else {
                    Severity::High
                },
                format!(
                    "PID {} ({}) has stdin and stdout on one connection, {}{how}",
                    p.pid,
                    p.name,
                    endpoint(socket)
                ),
            )
        };
        found.push(Finding {
            rule: "reverse-shell".into(),
            severity,
            pids: vec![p.pid],
            summary,
            evidence: json!({
                "process": process_evidence(p),
                "sockets": on_net.iter().map(|(l, s)| json!({"fd": l, "socket": s})).collect::<Vec<_>>(),
            }),
        });
    }
}

/// How a Windows program name counts: `Some(High)` for a shell,
/// `Some(Medium)` for a runtime, `None` otherwise.
fn windows_shell_severity(name: &str) -> Option<Severity> {
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".exe").unwrap_or(&lower);
    if WINDOWS_SHELLS.contains(&stem) {
        Some(Severity::High)
    } else if is_versioned(stem, WINDOWS_RUNTIMES) {
        Some(Severity::Medium)
    } else {
        None
    }
}

/// The Windows half: a shell holding an established TCP connection to
/// another host, judged on the socket's owner because Windows gives no
/// descriptor numbers. One finding per process, naming its first such
/// connection.
fn windows_owned(procs: &[ProcessRecord], sockets: &[SocketRecord], found: &mut Vec<Finding>) {
    let by_pid: HashMap<u32, &ProcessRecord> = procs.iter().map(|p| (p.pid, p)).collect();
    let mut held: BTreeMap<u32, (String, Vec<&SocketRecord>)> = BTreeMap::new();
    for s in sockets {
        let remote_host = s.state == "ESTABLISHED"
            && s.proto == "tcp"
            && s.remote_addr.is_some()
            && !is_loopback(s);
        if !(remote_host && s.sources.iter().any(|x| x == "windows_api")) {
            continue;
        }
        for o in &s.owners {
            let name = by_pid
                .get(&o.pid)
                .map_or(o.name.as_str(), |p| p.name.as_str());
            let conns = &mut held
                .entry(o.pid)
                .or_insert_with(|| (name.to_owned(), Vec::new()))
                .1;
            if !conns.iter().any(|c| std::ptr::eq(*c, s)) {
                conns.push(s);
            }
        }
    }
    for (pid, (name, conns)) in held {
        let image = by_pid
            .get(&pid)
            .and_then(|p| p.exe.as_deref())
            .map(super::platform::basename);
        let severity = [Some(name.as_str()), image]
            .into_iter()
            .flatten()
            .filter_map(windows_shell_severity)
            .min();
        let Some(severity) = severity else { continue };
        let more = match conns.len() {
            1 => String::new(),
            n => format!(" and {} more connections", n - 1),
        };
        let process = by_pid.get(&pid).map(|p| process_evidence(p));
        found.push(Finding {
            rule: "reverse-shell".into(),
            severity,
            pids: vec![pid],
            summary: format!(
                "PID {pid} ({name}), a shell or interpreter, holds {}{more} \
                 (Windows names no descriptors: judged on ownership)",
                endpoint(conns[0])
            ),
            evidence: json!({"process": process, "sockets": conns}),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_names_are_graded() {
        assert_eq!(windows_shell_severity("cmd.exe"), Some(Severity::High));
        assert_eq!(
            windows_shell_severity("PowerShell.EXE"),
            Some(Severity::High)
        );
        assert_eq!(
            windows_shell_severity("python3.11.exe"),
            Some(Severity::Medium)
        );
        assert_eq!(windows_shell_severity("node.exe"), Some(Severity::Medium));
        assert_eq!(windows_shell_severity("chrome.exe"), None);
        assert_eq!(windows_shell_severity("cmdagent.exe"), None);
    }
}
