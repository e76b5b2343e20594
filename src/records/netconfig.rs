//! Network configuration: `interfaces.jsonl`, `routes.jsonl`,
//! `neighbors.jsonl` and `dns.json`.

use serde::{Deserialize, Serialize};

/// The interfaces file name.
pub const INTERFACES_FILE: &str = "interfaces.jsonl";
/// The routes file name.
pub const ROUTES_FILE: &str = "routes.jsonl";
/// The neighbours (ARP/NDP cache) file name.
pub const NEIGHBORS_FILE: &str = "neighbors.jsonl";
/// The DNS configuration file name.
pub const DNS_FILE: &str = "dns.json";

/// One address on an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceAddress {
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// The address.
    pub addr: String,
    /// Prefix length.
    pub prefix_len: u8,
    /// `global`, `link`, `host`, ... where known.
    #[serde(default)]
    pub scope: Option<String>,
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterfaceRecord {
    /// Network namespace inode.
    pub netns: Option<u64>,
    /// Interface name.
    pub name: String,
    /// Interface index.
    pub index: u32,
    /// Hardware address, `aa:bb:cc:dd:ee:ff`.
    pub mac: Option<String>,
    /// Flags (`UP`, `LOOPBACK`, `RUNNING`, `PROMISC`, ...).
    pub flags: Vec<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Addresses with prefix.
    pub addresses: Vec<InterfaceAddress>,
    /// Description or adapter name where the OS gives one (Windows).
    #[serde(default)]
    pub description: Option<String>,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteRecord {
    /// Network namespace inode.
    pub netns: Option<u64>,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// Destination network (`0.0.0.0` for the default route).
    pub destination: String,
    /// Destination prefix length.
    pub prefix_len: u8,
    /// Next hop, if any.
    pub gateway: Option<String>,
    /// Output interface name.
    pub interface: Option<String>,
    /// Metric (priority).
    pub metric: Option<u32>,
    /// Routing table (`main`, `local`, or its number).
    pub table: Option<String>,
    /// Route type and origin where known (`unicast`, `local`, `kernel`, ...).
    #[serde(default)]
    pub kind: Option<String>,
    /// Preferred source address.
    #[serde(default)]
    pub source: Option<String>,
}

/// One ARP / NDP cache entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighborRecord {
    /// Network namespace inode.
    pub netns: Option<u64>,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// Neighbour IP address.
    pub ip: String,
    /// Its hardware address, when resolved.
    pub mac: Option<String>,
    /// `REACHABLE`, `STALE`, `PERMANENT`, `FAILED`, ...
    pub state: String,
    /// Interface name.
    pub interface: Option<String>,
}

/// One `/etc/hosts` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostsEntry {
    /// The address.
    pub addr: String,
    /// Its names.
    pub names: Vec<String>,
}

/// The resolver configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsConfig {
    /// Name servers (`resolv.conf`, or the adapters' DNS servers on Windows).
    pub nameservers: Vec<String>,
    /// Search domains.
    pub search: Vec<String>,
    /// `options` lines.
    #[serde(default)]
    pub options: Vec<String>,
    /// `/etc/hosts` entries.
    pub hosts: Vec<HostsEntry>,
    /// The `hosts:` line of `/etc/nsswitch.conf`.
    pub nsswitch_hosts: Option<String>,
}
