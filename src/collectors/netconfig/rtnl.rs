//! Links, addresses, routes and neighbours of the calling thread's network
//! namespace, dumped over rtnetlink (`NETLINK_ROUTE`) and turned into
//! records. Messages come from `netlink-packet-route`; the request loop is
//! the sockets collector's `netlink_dump`.
//!
//! Routes are asked for with family `AF_UNSPEC` and no table, which dumps
//! every table of every family (as `ip route show table all` and
//! `ip -6 route show table all` together); only IPv4 and IPv6 are kept.
//! Neighbours include every state, `NOARP` and `PERMANENT` entries
//! included (`ip neigh show nud all`).
//!
//! Limitation: an interface name that is not UTF-8 makes its link message
//! undecodable (the crate reads names as `String`); it is counted as a gap.

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

use crate::collectors::sockets::netlink_dump::{DumpError, Netlink};
use crate::records::collection::Gap;
use crate::records::netconfig::{InterfaceAddress, InterfaceRecord, NeighborRecord, RouteRecord};

/// Everything read in one namespace.
#[derive(Debug, Default)]
pub struct NetConfig {
    /// Interfaces with their addresses.
    pub interfaces: Vec<InterfaceRecord>,
    /// Routes.
    pub routes: Vec<RouteRecord>,
    /// Neighbour cache entries.
    pub neighbors: Vec<NeighborRecord>,
    /// What could not be read.
    pub gaps: Vec<Gap>,
}

/// Reads the current thread's namespace; `netns` labels the records.
pub fn read(netns: Option<u64>) -> NetConfig {
    let mut out = NetConfig::default();
    let mut nl = match Netlink::open(NETLINK_ROUTE) {
        Ok(nl) => nl,
        Err(e) => {
            out.gaps.push(gap("rtnetlink", e.to_string()));
            return out;
        }
    };

    let mut links = Vec::new();
    dump(
        &mut nl,
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
        "links",
        &mut out.gaps,
        |m| {
            if let RouteNetlinkMessage::NewLink(l) = m {
                links.push(l);
            }
        },
    );
    let mut addresses = Vec::new();
    dump(
        &mut nl,
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        "addresses",
        &mut out.gaps,
        |m| {
            if let RouteNetlinkMessage::NewAddress(a) = m {
                addresses.push(a);
            }
        },
    );
    let mut routes = Vec::new();
    dump(
        &mut nl,
        RouteNetlinkMessage::GetRoute(RouteMessage::default()),
        "routes",
        &mut out.gaps,
        |m| {
            if let RouteNetlinkMessage::NewRoute(r) = m {
                routes.push(r);
            }
        },
    );
    let mut neighbours = Vec::new();
    dump(
        &mut nl,
        RouteNetlinkMessage::GetNeighbour(NeighbourMessage::default()),
        "neighbours",
        &mut out.gaps,
        |m| {
            if let RouteNetlinkMessage::NewNeighbour(n) = m {
                neighbours.push(n);
            }
        },
    );

    let mut names: HashMap<u32, String> = HashMap::new();
    for l in &links {
        let rec = interface(netns, l);
        names.insert(rec.index, rec.name.clone());
        out.interfaces.push(rec);
    }
    for a in &addresses {
        let Some(addr) = address(a) else { continue };
        match out
            .interfaces
            .iter_mut()
            .find(|i| i.index == a.header.index)
        {
            Some(i) => i.addresses.push(addr),
            None => out.gaps.push(gap(
                "rtnetlink addresses",
                format!(
                    "{}/{} on unknown interface index {}",
                    addr.addr, addr.prefix_len, a.header.index
                ),
            )),
        }
    }
    out.routes = routes
        .iter()
        .filter_map(|r| route(netns, r, &names))
        .collect();
    out.neighbors = neighbours
        .iter()
        .filter_map(|n| neighbour(netns, n, &names))
        .collect();
    out
}

fn gap(what: &str, cause: impl Into<String>) -> Gap {
    Gap {
        what: what.into(),
        cause: cause.into(),
    }
}

fn dump(
    nl: &mut Netlink,
    request: RouteNetlinkMessage,
    what: &str,
    gaps: &mut Vec<Gap>,
    each: impl FnMut(RouteNetlinkMessage),
) {
    let what = format!("rtnetlink {what}");
    match nl.dump(request, each) {
        Ok(end) => {
            if end.interrupted {
                gaps.push(gap(
                    &what,
                    "the kernel marked the dump interrupted: entries may be missing",
                ));
            }
            for reason in end.undecodable {
                gaps.push(gap(
                    &what,
                    format!("a message could not be decoded: {reason}"),
                ));
            }
        }
        Err(e @ (DumpError::Io(_) | DumpError::Kernel(_) | DumpError::Framing(_))) => {
            gaps.push(gap(&what, e.to_string()));
        }
    }
}

fn family(f: AddressFamily) -> Option<&'static str> {
    match f {
        AddressFamily::Inet => Some("ipv4"),
        AddressFamily::Inet6 => Some("ipv6"),
        _ => None,
    }
}

/// `aa:bb:cc:dd:ee:ff`; none for an empty or all-zero address.
fn mac(bytes: &[u8]) -> Option<String> {
    if bytes.iter().all(|&b| b == 0) {
        return None;
    }
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Some(parts.join(":"))
}

const FLAG_NAMES: &[(LinkFlags, &str)] = &[
    (LinkFlags::Up, "UP"),
    (LinkFlags::Broadcast, "BROADCAST"),
    (LinkFlags::Debug, "DEBUG"),
    (LinkFlags::Loopback, "LOOPBACK"),
    (LinkFlags::Pointopoint, "POINTOPOINT"),
    (LinkFlags::Notrailers, "NOTRAILERS"),
    (LinkFlags::Running, "RUNNING"),
    (LinkFlags::Noarp, "NOARP"),
    (LinkFlags::Promisc, "PROMISC"),
    (LinkFlags::Allmulti, "ALLMULTI"),
    (LinkFlags::Controller, "MASTER"),
    (LinkFlags::Port, "SLAVE"),
    (LinkFlags::Multicast, "MULTICAST"),
    (LinkFlags::Portsel, "PORTSEL"),
    (LinkFlags::Automedia, "AUTOMEDIA"),
    (LinkFlags::Dynamic, "DYNAMIC"),
    (LinkFlags::LowerUp, "LOWER_UP"),
    (LinkFlags::Dormant, "DORMANT"),
    (LinkFlags::Echo, "ECHO"),
];

fn interface(netns: Option<u64>, l: &LinkMessage) -> InterfaceRecord {
    let mut rec = InterfaceRecord {
        netns,
        name: String::new(),
        index: l.header.index,
        mac: None,
        flags: FLAG_NAMES
            .iter()
            .filter(|(f, _)| l.header.flags.contains(*f))
            .map(|(_, n)| (*n).to_owned())
            .collect(),
        mtu: None,
        addresses: Vec::new(),
        description: None,
    };
    for a in &l.attributes {
        match a {
            LinkAttribute::IfName(n) => rec.name = n.clone(),
            LinkAttribute::Address(b) => rec.mac = mac(b),
            LinkAttribute::Mtu(m) => rec.mtu = Some(*m),
            LinkAttribute::IfAlias(d) => rec.description = Some(d.clone()),
            _ => {}
        }
    }
    rec
}

fn address(a: &AddressMessage) -> Option<InterfaceAddress> {
    let fam = family(a.header.family)?;
    let mut local = None;
    let mut peer = None;
    for attr in &a.attributes {
        match attr {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => peer = Some(*ip),
            _ => {}
        }
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on
    // point-to-point links and equals IFA_LOCAL elsewhere (IPv6 sends only
    // IFA_ADDRESS).
    let ip = local.or(peer)?;
    let scope = match u8::from(a.header.scope) {
        0 => "global".to_owned(),
        200 => "site".to_owned(),
        253 => "link".to_owned(),
        254 => "host".to_owned(),
        255 => "nowhere".to_owned(),
        n => n.to_string(),
    };
    Some(InterfaceAddress {
        family: fam.into(),
        addr: ip.to_string(),
        prefix_len: a.header.prefix_len,
        scope: Some(scope),
    })
}

fn route_address(a: &RouteAddress) -> Option<String> {
    match a {
        RouteAddress::Inet(ip) => Some(ip.to_string()),
        RouteAddress::Inet6(ip) => Some(ip.to_string()),
        _ => None,
    }
}

fn route(
    netns: Option<u64>,
    r: &RouteMessage,
    names: &HashMap<u32, String>,
) -> Option<RouteRecord> {
    let fam = family(r.header.address_family)?;
    let mut table = u32::from(r.header.table);
    let mut destination = None;
    let mut gateway = None;
    let mut oif = None;
    let mut metric = None;
    let mut source = None;
    for a in &r.attributes {
        match a {
            RouteAttribute::Destination(d) => destination = route_address(d),
            RouteAttribute::Gateway(g) => gateway = route_address(g),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::PrefSource(s) => source = route_address(s),
            _ => {}
        }
    }
    let unspecified = if fam == "ipv4" { "0.0.0.0" } else { "::" };
    let kind = match u8::from(r.header.kind) {
        1 => "unicast".to_owned(),
        2 => "local".to_owned(),
        3 => "broadcast".to_owned(),
        4 => "anycast".to_owned(),
        5 => "multicast".to_owned(),
        6 => "blackhole".to_owned(),
        7 => "unreachable".to_owned(),
        8 => "prohibit".to_owned(),
        9 => "throw".to_owned(),
        10 => "nat".to_owned(),
        n => n.to_string(),
    };
    Some(RouteRecord {
        netns,
        family: fam.into(),
        destination: destination.unwrap_or_else(|| unspecified.into()),
        prefix_len: r.header.destination_prefix_length,
        gateway,
        interface: oif.map(|i| names.get(&i).cloned().unwrap_or_else(|| format!("if{i}"))),
        metric,
        table: Some(match table {
            253 => "default".into(),
            254 => "main".into(),
            255 => "local".into(),
            n => n.to_string(),
        }),
        kind: Some(format!("{kind}/{}", r.header.protocol)),
        source,
    })
}

fn neighbour(
    netns: Option<u64>,
    n: &NeighbourMessage,
    names: &HashMap<u32, String>,
) -> Option<NeighborRecord> {
    let fam = family(n.header.family)?;
    let mut ip: Option<IpAddr> = None;
    let mut lladdr = None;
    for a in &n.attributes {
        match a {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => ip = Some((*v4).into()),
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => ip = Some((*v6).into()),
            NeighbourAttribute::LinkLayerAddress(b) => lladdr = mac(b),
            _ => {}
        }
    }
    let state = match u16::from(n.header.state) {
        0x00 => "NONE".to_owned(),
        0x01 => "INCOMPLETE".to_owned(),
        0x02 => "REACHABLE".to_owned(),
        0x04 => "STALE".to_owned(),
        0x08 => "DELAY".to_owned(),
        0x10 => "PROBE".to_owned(),
        0x20 => "FAILED".to_owned(),
        0x40 => "NOARP".to_owned(),
        0x80 => "PERMANENT".to_owned(),
        other => format!("0x{other:02x}"),
    };
    let index = n.header.ifindex;
    Some(NeighborRecord {
        netns,
        family: fam.into(),
        ip: ip?.to_string(),
        mac: lladdr,
        state,
        interface: Some(
            names
                .get(&index)
                .cloned()
                .unwrap_or_else(|| format!("if{index}")),
        ),
    })
}
