//! Report sections built from the sockets and network configuration
//! records: interfaces, established TCP, listening TCP, UDP, other sockets
//! (the classic order), and later routes, neighbours and DNS.
//!
//! Every socket line shows local and remote endpoint (numeric: irdump never
//! resolves names), state, and the owning PIDs with their names. A NETNS
//! column appears when the records span more than one network namespace.
//! Unix sockets can number in the thousands: those with an owner or a
//! bound name come first, and past a bound the rest are counted, never
//! dropped silently.

use std::collections::BTreeSet;

use super::table::Table;
use super::ReportWriter;
use crate::bundle::BundleFiles;
use crate::findings::platform::Platform;
use crate::records::netconfig::{
    DnsConfig, InterfaceRecord, NeighborRecord, RouteRecord, DNS_FILE, INTERFACES_FILE,
    NEIGHBORS_FILE, ROUTES_FILE,
};
use crate::records::network::{SocketRecord, FILE};

/// Unix socket rows shown before the rest are counted.
const UNIX_ROWS: usize = 200;

/// Loopback-to-loopback TCP connections shown before the rest are counted.
/// Connections with any other peer are always listed in full: an
/// attacker's connection has a remote address, and a host with thousands
/// of local connections (a proxy, a database pool) would bury it.
const LOOPBACK_ROWS: usize = 500;

/// Network interfaces (the classic `ipconfig /all`).
pub(super) fn interfaces(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("Network interfaces");
    let Some(mut ifaces) = r.records::<InterfaceRecord>(bundle, INTERFACES_FILE) else {
        r.not_collected(INTERFACES_FILE);
        return;
    };
    if ifaces.is_empty() {
        r.line("  none");
        return;
    }
    ifaces.sort_by_key(|i| (i.netns, i.index));
    let multi = spans_namespaces(ifaces.iter().map(|i| i.netns));
    let mut cols = vec![
        ("NAME", 28),
        ("IDX", 6),
        ("MAC", 17),
        ("MTU", 10),
        ("FLAGS", 40),
    ];
    if multi {
        cols.push(("NETNS", 10));
    }
    cols.push(("ADDRESSES", 120));
    let mut t = Table::new(&cols);
    for i in &ifaces {
        let addrs: Vec<String> = i
            .addresses
            .iter()
            .map(|a| format!("{}/{}", a.addr, a.prefix_len))
            .collect();
        let mut row = vec![
            i.name.clone(),
            i.index.to_string(),
            i.mac.clone().unwrap_or_else(|| "-".into()),
            i.mtu.map_or_else(|| "-".into(), |m| m.to_string()),
            i.flags.join(","),
        ];
        if multi {
            row.push(netns(i.netns));
        }
        row.push(if addrs.is_empty() {
            "-".into()
        } else {
            addrs.join(" ")
        });
        t.row(&row);
    }
    r.table(&t);
}

/// Established TCP, listening TCP, UDP, other sockets.
pub(super) fn sockets(r: &mut ReportWriter, bundle: &BundleFiles) {
    let Some(parsed) = r.shared_records::<SocketRecord>(bundle, FILE) else {
        for title in [
            "Established TCP connections",
            "Listening TCP ports",
            "UDP sockets",
            "Other sockets (raw, unix)",
        ] {
            r.section(title);
            r.not_collected(FILE);
        }
        return;
    };
    let mut all: Vec<&SocketRecord> = parsed.records.iter().collect();
    all.sort_by(|a, b| {
        (
            a.netns,
            &a.local_addr,
            a.local_port,
            &a.remote_addr,
            a.remote_port,
        )
            .cmp(&(
                b.netns,
                &b.local_addr,
                b.local_port,
                &b.remote_addr,
                b.remote_port,
            ))
    });
    let multi = spans_namespaces(all.iter().map(|s| s.netns));

    r.section("Established TCP connections");
    let (mut connections, local): (Vec<&SocketRecord>, Vec<&SocketRecord>) = all
        .iter()
        .copied()
        .filter(|s| s.proto == "tcp" && s.state != "LISTEN")
        .partition(|s| !is_loopback(s));
    // Past the cap, the loopback rows kept are those a process holds and
    // those still established: thousands of ownerless TIME_WAIT entries
    // must not push a live local connection out of the page.
    let mut local = local;
    local.sort_by_key(|s| (s.owners.is_empty(), s.state != "ESTABLISHED"));
    connections.extend(local.iter().take(LOOPBACK_ROWS));
    inet_table(r, &connections, multi, "no TCP connections");
    if local.len() > LOOPBACK_ROWS {
        r.line(&format!(
            "  {} more loopback-to-loopback connections in {FILE}",
            local.len() - LOOPBACK_ROWS
        ));
    }

    r.section("Listening TCP ports");
    let listening: Vec<&SocketRecord> = all
        .iter()
        .copied()
        .filter(|s| s.proto == "tcp" && s.state == "LISTEN")
        .collect();
    inet_table(r, &listening, multi, "no listening TCP sockets");

    r.section("UDP sockets");
    let udp: Vec<&SocketRecord> = all.iter().copied().filter(|s| s.proto == "udp").collect();
    inet_table(r, &udp, multi, "no UDP sockets");

    r.section("Other sockets (raw, unix)");
    if r.platform == Platform::Windows {
        r.line("  not listed on Windows: the IP Helper tables hold TCP and UDP endpoints only");
        return;
    }
    let raw: Vec<&SocketRecord> = all.iter().copied().filter(|s| s.proto == "raw").collect();
    if !raw.is_empty() {
        inet_table(r, &raw, multi, "");
        r.line("");
    }
    unix_table(r, &all, multi);
}

fn is_loopback(s: &SocketRecord) -> bool {
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

fn spans_namespaces(ns: impl Iterator<Item = Option<u64>>) -> bool {
    ns.collect::<BTreeSet<_>>().len() > 1
}

fn netns(ns: Option<u64>) -> String {
    ns.map_or_else(|| "-".into(), |n| n.to_string())
}

fn endpoint(addr: &Option<String>, port: Option<u16>) -> String {
    match (addr, port) {
        (Some(a), Some(p)) if a.contains(':') => format!("[{a}]:{p}"),
        (Some(a), Some(p)) => format!("{a}:{p}"),
        (Some(a), None) => a.clone(),
        (None, _) => "*".into(),
    }
}

fn owners(s: &SocketRecord) -> String {
    if s.owners.is_empty() {
        return "-".into();
    }
    // One entry per process: owners list every descriptor (a reverse
    // shell holds its socket as 0, 1 and 2).
    let mut list: Vec<String> = Vec::new();
    let mut last = None;
    for o in &s.owners {
        if last != Some(o.pid) {
            list.push(format!("{}/{}", o.pid, o.name));
            last = Some(o.pid);
        }
    }
    list.join(",")
}

/// A remark for the odd cases: a socket one source hid, one only one
/// source listed.
fn note(s: &SocketRecord) -> String {
    if !s.unseen_by.is_empty() {
        format!("HIDDEN from {}", s.unseen_by.join("+"))
    } else if s.sources.len() == 1 && s.sources[0] != "windows_api" {
        format!("{} only", s.sources[0])
    } else {
        String::new()
    }
}

fn inet_table(r: &mut ReportWriter, rows: &[&SocketRecord], multi: bool, empty: &str) {
    if rows.is_empty() {
        r.line(&format!("  {empty}"));
        return;
    }
    let mut cols = vec![("PROTO", 6), ("LOCAL", 47), ("REMOTE", 47), ("STATE", 11)];
    if multi {
        cols.push(("NETNS", 10));
    }
    cols.extend([("PID/PROGRAM", 60), ("NOTE", 30)]);
    let mut t = Table::new(&cols);
    for s in rows {
        let proto = match (s.proto.as_str(), s.family.as_str()) {
            ("raw", f) => format!("raw{}", if f == "ipv6" { "6" } else { "" }),
            (p, "ipv6") => format!("{p}6"),
            (p, _) => p.to_owned(),
        };
        let local = match (&s.kind, s.proto.as_str()) {
            (Some(k), "raw") => format!("{} proto {k}", endpoint(&s.local_addr, None)),
            _ => endpoint(&s.local_addr, s.local_port),
        };
        let mut row = vec![
            proto,
            local,
            endpoint(&s.remote_addr, s.remote_port),
            s.state.clone(),
        ];
        if multi {
            row.push(netns(s.netns));
        }
        row.push(owners(s));
        row.push(note(s));
        t.row(&row);
    }
    r.table(&t);
}

fn unix_table(r: &mut ReportWriter, all: &[&SocketRecord], multi: bool) {
    let mut unix: Vec<&SocketRecord> = all.iter().copied().filter(|s| s.proto == "unix").collect();
    if unix.is_empty() {
        r.line("  no unix sockets");
        return;
    }
    // Owned and named first, then owned or named, then the anonymous rest.
    unix.sort_by_key(|s| {
        let rank = match (s.owners.is_empty(), s.local_addr.is_none()) {
            (false, false) => 0,
            (false, true) | (true, false) => 1,
            (true, true) => 2,
        };
        (rank, s.netns, s.local_addr.clone(), s.inode)
    });
    let mut cols = vec![
        ("TYPE", 9),
        ("PATH", 60),
        ("STATE", 11),
        ("INODE", 10),
        ("PEER", 10),
    ];
    if multi {
        cols.push(("NETNS", 10));
    }
    cols.extend([("PID/PROGRAM", 60), ("NOTE", 30)]);
    let mut t = Table::new(&cols);
    for s in unix.iter().take(UNIX_ROWS) {
        let mut row = vec![
            s.kind.clone().unwrap_or_else(|| "-".into()),
            s.local_addr.clone().unwrap_or_else(|| "-".into()),
            s.state.clone(),
            s.inode.map_or_else(|| "-".into(), |i| i.to_string()),
            s.peer_inode.map_or_else(|| "-".into(), |i| i.to_string()),
        ];
        if multi {
            row.push(netns(s.netns));
        }
        row.push(owners(s));
        row.push(note(s));
        t.row(&row);
    }
    r.table(&t);
    if unix.len() > UNIX_ROWS {
        let rest = &unix[UNIX_ROWS..];
        let owned = rest.iter().filter(|s| !s.owners.is_empty()).count();
        r.line(&format!(
            "  {} more unix sockets in {FILE} ({owned} of them with an owner)",
            rest.len()
        ));
    }
}

/// Routes, neighbours and DNS.
pub(super) fn routing(r: &mut ReportWriter, bundle: &BundleFiles) {
    routes(r, bundle);
    neighbours(r, bundle);
    dns(r, bundle);
}

fn routes(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("Routes");
    let Some(mut routes) = r.records::<RouteRecord>(bundle, ROUTES_FILE) else {
        r.not_collected(ROUTES_FILE);
        return;
    };
    // The kernel's `local` table (one entry per local and broadcast
    // address) is counted, not listed: it mirrors the interface addresses.
    let local = routes
        .iter()
        .filter(|x| x.table.as_deref() == Some("local"))
        .count();
    routes.retain(|x| x.table.as_deref() != Some("local"));
    routes.sort_by(|a, b| {
        (a.netns, &a.family, &a.table, &a.destination, a.prefix_len).cmp(&(
            b.netns,
            &b.family,
            &b.table,
            &b.destination,
            b.prefix_len,
        ))
    });
    let multi = spans_namespaces(routes.iter().map(|x| x.netns));
    if routes.is_empty() {
        r.line("  none");
    } else {
        let mut cols = vec![
            ("DESTINATION", 43),
            ("GATEWAY", 39),
            ("DEV", 16),
            ("METRIC", 10),
            ("TABLE", 10),
            ("TYPE", 20),
            ("SOURCE", 39),
        ];
        if multi {
            cols.push(("NETNS", 10));
        }
        let mut t = Table::new(&cols);
        for x in &routes {
            let mut row = vec![
                format!("{}/{}", x.destination, x.prefix_len),
                x.gateway.clone().unwrap_or_else(|| "-".into()),
                x.interface.clone().unwrap_or_else(|| "-".into()),
                x.metric.map_or_else(|| "-".into(), |m| m.to_string()),
                x.table.clone().unwrap_or_else(|| "-".into()),
                x.kind.clone().unwrap_or_else(|| "-".into()),
                x.source.clone().unwrap_or_else(|| "-".into()),
            ];
            if multi {
                row.push(netns(x.netns));
            }
            t.row(&row);
        }
        r.table(&t);
    }
    if local > 0 {
        r.line(&format!(
            "  {local} routes of the kernel's local table are in {ROUTES_FILE}"
        ));
    }
}

fn neighbours(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("Neighbours (ARP/NDP cache)");
    let Some(mut neigh) = r.records::<NeighborRecord>(bundle, NEIGHBORS_FILE) else {
        r.not_collected(NEIGHBORS_FILE);
        return;
    };
    if neigh.is_empty() {
        r.line("  none");
        return;
    }
    neigh.sort_by(|a, b| (a.netns, &a.family, &a.ip).cmp(&(b.netns, &b.family, &b.ip)));
    let multi = spans_namespaces(neigh.iter().map(|n| n.netns));
    let mut cols = vec![("IP", 39), ("MAC", 17), ("STATE", 12), ("DEV", 16)];
    if multi {
        cols.push(("NETNS", 10));
    }
    let mut t = Table::new(&cols);
    for n in &neigh {
        let mut row = vec![
            n.ip.clone(),
            n.mac.clone().unwrap_or_else(|| "-".into()),
            n.state.clone(),
            n.interface.clone().unwrap_or_else(|| "-".into()),
        ];
        if multi {
            row.push(netns(n.netns));
        }
        t.row(&row);
    }
    r.table(&t);
}

fn dns(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("DNS");
    let Some(d) = r.document::<DnsConfig>(bundle, DNS_FILE) else {
        r.not_collected(DNS_FILE);
        return;
    };
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(" ")
        }
    };
    r.field("Name servers", &list(&d.nameservers));
    r.field("Search", &list(&d.search));
    r.field("Options", &list(&d.options));
    r.field("nsswitch hosts", d.nsswitch_hosts.as_deref().unwrap_or("-"));
    if d.hosts.is_empty() {
        r.line("  /etc/hosts: no entries");
        return;
    }
    r.line("  /etc/hosts:");
    let mut t = Table::new(&[("ADDRESS", 39), ("NAMES", 160)]);
    for h in &d.hosts {
        t.row(&[h.addr.clone(), h.names.join(" ")]);
    }
    r.table(&t);
}
