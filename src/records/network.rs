//! `network.jsonl`: one record per socket (TCP, UDP, raw, unix), with the
//! processes that hold it and the sources that saw it.

use serde::{Deserialize, Serialize};

/// The bundle file name.
pub const FILE: &str = "network.jsonl";

/// A process holding a socket through one of its descriptors.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SocketOwner {
    /// Process id (as seen from the host's PID namespace).
    pub pid: u32,
    /// Process name (comm), raw host bytes encoded by
    /// [`crate::text::lossless_utf8`].
    pub name: String,
    /// Descriptor number. Windows tables name only the owning process, so
    /// records from `windows_api` carry 0 here: rules must not read it as
    /// stdin there.
    pub fd: u32,
}

/// One socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketRecord {
    /// `tcp`, `udp`, `raw` or `unix`.
    pub proto: String,
    /// `ipv4`, `ipv6` or `unix`.
    pub family: String,
    /// Local address; for unix sockets the path, `@name` for abstract ones;
    /// null when unbound.
    pub local_addr: Option<String>,
    /// Local port; null for unix sockets.
    pub local_port: Option<u16>,
    /// Remote address; null when not connected or not applicable.
    pub remote_addr: Option<String>,
    /// Remote port.
    pub remote_port: Option<u16>,
    /// `ESTABLISHED`, `LISTEN`, `UNCONN`, ... (see `docs/bundle.md`).
    pub state: String,
    /// Socket inode: the key that links it to its owners.
    pub inode: Option<u64>,
    /// Owning uid, as the kernel records it.
    pub uid: Option<u32>,
    /// Inode of the network namespace the socket lives in.
    pub netns: Option<u64>,
    /// Processes holding it; empty when nobody does (or owners were not
    /// readable: see the collector's gaps).
    pub owners: Vec<SocketOwner>,
    /// Which sources saw it: `netlink`, `procfs`, `windows_api`.
    pub sources: Vec<String>,
    /// Bytes in the receive queue (for a listener: pending connections).
    pub recv_queue: Option<u64>,
    /// Bytes in the send queue (for a listener: the backlog).
    pub send_queue: Option<u64>,
    /// Socket type where it is not implied by `proto`: `stream`, `dgram`,
    /// `seqpacket` for unix sockets, the protocol number for raw ones.
    #[serde(default)]
    pub kind: Option<String>,
    /// For unix sockets, the inode of the connected peer.
    #[serde(default)]
    pub peer_inode: Option<u64>,
    /// Sources that were read while this socket provably existed (it was
    /// seen before and after that read, in the same state) and did not
    /// list it: the evidence of the `hidden-socket` finding. Empty when
    /// the sources agree or a difference is explained by timing.
    #[serde(default)]
    pub unseen_by: Vec<String>,
    /// True when `owners` is known to be complete: every process's
    /// descriptors were read, and a socket nobody held was still there
    /// after that scan (so it did not simply close meanwhile). An empty
    /// `owners` with this set means no process holds the socket.
    #[serde(default)]
    pub owners_complete: bool,
}
