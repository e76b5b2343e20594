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
use crate::records::network::{SocketRecord, FILE};

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

/// `proto local -> remote STATE` as one short phrase.
pub(crate) fn endpoint(s: &SocketRecord) -> String {
    let side = |addr: &Option<String>, port: Option<u16>| match (addr, port) {
        (Some(a), Some(p)) if a.contains(':') => format!("[{a}]:{p}"),
        (Some(a), Some(p)) => format!("{a}:{p}"),
        (Some(a), None) => a.clone(),
        (None, _) => "*".into(),
    };
    let mut text = format!("{} {}", s.proto, side(&s.local_addr, s.local_port));
    if s.remote_addr.is_some() {
        text.push_str(" -> ");
        text.push_str(&side(&s.remote_addr, s.remote_port));
    }
    text.push(' ');
    text.push_str(&s.state);
    text
}

fn owners_phrase(s: &SocketRecord) -> String {
    if s.owners.is_empty() {
        return "no owning process".into();
    }
    let list: Vec<String> = s
        .owners
        .iter()
        .take(3)
        .map(|o| format!("pid {} {}", o.pid, o.name))
        .collect();
    let more = s.owners.len().saturating_sub(3);
    if more > 0 {
        format!("{} and {more} more", list.join(", "))
    } else {
        list.join(", ")
    }
}

fn pids(s: &SocketRecord) -> Vec<u32> {
    let mut p: Vec<u32> = s.owners.iter().map(|o| o.pid).collect();
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
            "{} ({}) in net:[{}] is listed by {} but hidden from {}",
            endpoint(s),
            owners_phrase(s),
            s.netns.map_or_else(|| "?".into(), |n| n.to_string()),
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
            "{} in net:[{}] (uid {}) is held by no process: a process hidden from /proc, or a kernel service",
            endpoint(s),
            s.netns.map_or_else(|| "?".into(), |n| n.to_string()),
            s.uid.map_or_else(|| "?".into(), |u| u.to_string()),
        ),
        evidence: evidence(s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::network::SocketOwner;

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
            "tcp 0.0.0.0:4444 -> 203.0.113.7:443 ESTABLISHED (pid 4242 bash) in net:[4026531840] is listed by netlink but hidden from procfs"
        );
        assert!(hidden_socket(&socket("LISTEN")).is_none());
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
        assert_eq!(endpoint(&s), "tcp [::1]:4444 LISTEN");
    }
}
