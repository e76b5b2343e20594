//! Finding rules over the network records (`network.jsonl`).
//!
//! - `hidden-socket` (high): a socket one kernel source showed and the
//!   other did not, while it provably existed (the collector's
//!   `unseen_by`). Rootkits filter `/proc/net/tcp` (the file `netstat`
//!   reads) or the netlink answers (what `ss` reads), rarely both.
//! - `orphan-socket` (medium): a listening TCP socket, or a UDP socket
//!   bound to a port, that no process holds although every process's
//!   descriptors were read and the socket outlived that scan
//!   (`owners_complete`). Either its process is hidden from `/proc`, or
//!   the kernel itself holds it (nfsd, lockd, a WireGuard or VXLAN port);
//!   the latter is why this is not high.
//!
//! Why these are safe from ordinary races is explained in
//! `docs/findings.md` (section "Network rules").

use crate::bundle::BundleFiles;
use crate::records::collection::Gap;
use crate::records::finding::{Finding, Severity};
use crate::records::network::{SocketOwner, SocketRecord, FILE};

pub(super) fn analyze(bundle: &BundleFiles, found: &mut Vec<Finding>, gaps: &mut Vec<Gap>) {
    let Some(parsed) = bundle.shared_records::<SocketRecord>(FILE) else {
        return;
    };
    if let Some(problem) = parsed.problem(FILE) {
        gaps.push(Gap {
            what: FILE.into(),
            cause: format!("{problem}: network rules did not see those sockets"),
        });
    }
    for s in &parsed.records {
        if let Some(f) = hidden_socket(s) {
            found.push(f);
        }
        if let Some(f) = orphan_socket(s) {
            found.push(f);
        }
    }
}

/// A socket as one short phrase: `TCP 10.0.0.5:40000 -> 203.0.113.7:4444
/// (ESTABLISHED)`, `UDP [::]:5353 (UNCONN)`, `UNIX @/tmp/.X11-unix/X0
/// (LISTEN)`. Addresses are numeric, as collected.
pub(super) fn endpoint(s: &SocketRecord) -> String {
    let side = |addr: &Option<String>, port: Option<u16>| match (addr, port) {
        (Some(a), Some(p)) if a.contains(':') => format!("[{a}]:{p}"),
        (Some(a), Some(p)) => format!("{a}:{p}"),
        (Some(a), None) => a.clone(),
        (None, _) => "*".into(),
    };
    let mut text = format!(
        "{} {}",
        s.proto.to_uppercase(),
        side(&s.local_addr, s.local_port)
    );
    if s.remote_addr.is_some() {
        text.push_str(" -> ");
        text.push_str(&side(&s.remote_addr, s.remote_port));
    }
    text.push_str(" (");
    text.push_str(&s.state);
    text.push(')');
    text
}

/// True when both ends are loopback addresses (IPv4-mapped ones too).
pub(super) fn is_loopback(s: &SocketRecord) -> bool {
    let lo = |a: &Option<String>| {
        a.as_deref()
            .and_then(|a| a.parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| match ip {
                std::net::IpAddr::V4(v4) => v4.is_loopback(),
                std::net::IpAddr::V6(v6) => {
                    v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
                }
            })
    };
    lo(&s.local_addr) && lo(&s.remote_addr)
}

/// Who holds the socket, with the verb: `PID 4242 (bash) holds`,
/// `PID 1 (a), PID 2 (b) and 3 more hold`, or `no process holds`.
fn holders(s: &SocketRecord) -> String {
    // One entry per process, though owners list every descriptor.
    let mut distinct: Vec<&SocketOwner> = Vec::new();
    for o in &s.owners {
        if !distinct.iter().any(|d| d.pid == o.pid) {
            distinct.push(o);
        }
    }
    let list: Vec<String> = distinct
        .iter()
        .take(3)
        .map(|o| format!("PID {} ({})", o.pid, o.name))
        .collect();
    let more = distinct.len().saturating_sub(3);
    match distinct.len() {
        0 => "no process holds".into(),
        1 => format!("{} holds", list.join(", ")),
        _ if more > 0 => format!("{} and {more} more hold", list.join(", ")),
        _ => format!("{} hold", list.join(", ")),
    }
}

fn netns(s: &SocketRecord) -> String {
    s.netns
        .map_or_else(|| "net:[?]".into(), |n| format!("net:[{n}]"))
}

fn pids(s: &SocketRecord) -> Vec<u32> {
    let mut p: Vec<u32> = s.owners.iter().map(|o| o.pid).collect();
    p.sort_unstable();
    p.dedup();
    p
}

fn evidence(s: &SocketRecord) -> serde_json::Value {
    serde_json::to_value(s).unwrap_or(serde_json::Value::Null)
}

fn hidden_socket(s: &SocketRecord) -> Option<Finding> {
    if s.unseen_by.is_empty() {
        return None;
    }
    Some(Finding {
        rule: "hidden-socket".into(),
        severity: Severity::High,
        pids: pids(s),
        summary: format!(
            "{} {} in {}, listed by {} but hidden from {}",
            holders(s),
            endpoint(s),
            netns(s),
            s.sources.join(" and "),
            s.unseen_by.join(" and "),
        ),
        evidence: evidence(s),
    })
}

fn orphan_socket(s: &SocketRecord) -> Option<Finding> {
    if !s.owners.is_empty() || !s.owners_complete {
        return None;
    }
    let listening = s.state == "LISTEN" && s.proto != "unix";
    let bound_udp = s.proto == "udp" && s.local_port.is_some_and(|p| p != 0);
    if !(listening || bound_udp) {
        return None;
    }
    Some(Finding {
        rule: "orphan-socket".into(),
        severity: Severity::Medium,
        pids: Vec::new(),
        summary: format!(
            "{} in {} (uid {}) is held by no process: a process hidden from /proc, or a kernel service",
            endpoint(s),
            netns(s),
            s.uid.map_or_else(|| "?".into(), |u| u.to_string()),
        ),
        evidence: evidence(s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(state: &str) -> SocketRecord {
        SocketRecord {
            proto: "tcp".into(),
            family: "ipv4".into(),
            local_addr: Some("0.0.0.0".into()),
            local_port: Some(4444),
            remote_addr: None,
            remote_port: None,
            state: state.into(),
            inode: Some(77),
            uid: Some(0),
            netns: Some(4026531840),
            owners: vec![],
            sources: vec!["netlink".into(), "procfs".into()],
            recv_queue: Some(0),
            send_queue: Some(128),
            kind: None,
            peer_inode: None,
            unseen_by: vec![],
            owners_complete: true,
        }
    }

    #[test]
    fn hidden_socket_names_source_owner_and_endpoint() {
        let mut s = socket("ESTABLISHED");
        s.remote_addr = Some("203.0.113.7".into());
        s.remote_port = Some(443);
        s.sources = vec!["netlink".into()];
        s.unseen_by = vec!["procfs".into()];
        s.owners = vec![SocketOwner {
            pid: 4242,
            name: "bash".into(),
            fd: 0,
        }];
        let f = hidden_socket(&s).expect("a finding");
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.pids, [4242]);
        assert_eq!(
            f.summary,
            "PID 4242 (bash) holds TCP 0.0.0.0:4444 -> 203.0.113.7:443 (ESTABLISHED) in net:[4026531840], listed by netlink but hidden from procfs"
        );
        assert!(hidden_socket(&socket("LISTEN")).is_none());

        // Owners list each descriptor; the summary names each process once.
        let owner = |pid, name: &str, fd| SocketOwner {
            pid,
            name: name.into(),
            fd,
        };
        s.owners = vec![
            owner(700, "apache2", 4),
            owner(700, "apache2", 5),
            owner(701, "apache2", 4),
        ];
        let f = hidden_socket(&s).expect("a finding");
        assert_eq!(f.pids, [700, 701]);
        assert!(
            f.summary
                .starts_with("PID 700 (apache2), PID 701 (apache2) hold TCP "),
            "{}",
            f.summary
        );
        s.owners.clear();
        let f = hidden_socket(&s).expect("a finding");
        assert!(
            f.summary.starts_with("no process holds TCP "),
            "{}",
            f.summary
        );
    }

    #[test]
    fn orphan_needs_a_complete_owner_scan() {
        assert!(orphan_socket(&socket("LISTEN")).is_some());
        let mut partial = socket("LISTEN");
        partial.owners_complete = false;
        assert!(orphan_socket(&partial).is_none());
        assert!(orphan_socket(&socket("ESTABLISHED")).is_none());
        let mut udp = socket("UNCONN");
        udp.proto = "udp".into();
        assert!(orphan_socket(&udp).is_some());
        udp.local_port = Some(0);
        assert!(orphan_socket(&udp).is_none());
        let mut unix = socket("LISTEN");
        unix.proto = "unix".into();
        assert!(orphan_socket(&unix).is_none());
    }

    #[test]
    fn ipv6_endpoints_are_bracketed() {
        let mut s = socket("LISTEN");
        s.family = "ipv6".into();
        s.local_addr = Some("::1".into());
        assert_eq!(endpoint(&s), "TCP [::1]:4444 (LISTEN)");
    }
}
