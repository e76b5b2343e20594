//! The `sockets` collector against the real kernel and against `ss`.
//!
//! - `/proc/net/*` parsers on captured fixture text (made by
//!   `tests/fixtures/make_proc_net_fixtures.py`), IPv6 byte order included;
//! - an oracle test: this test process opens real sockets of every kind,
//!   runs `irdump collect --only sockets`, and checks each one appears with
//!   the right addresses, ports, state, inode and owner, and that
//!   `ss -tuwxanpe` agrees;
//! - a namespace test (root): a listener inside a fresh `ip netns`, and a
//!   socket left in a namespace that no process lives in.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener, UnixStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::*;
use irdump::collectors::sockets::merge::{Addr, Table};
use irdump::collectors::sockets::procfs::{self, inet_seen, parse_inet, parse_unix, unix_seen};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn addr<T: AddrText>(a: &Option<T>) -> String {
    a.as_ref().map_or_else(|| "-".into(), AddrText::text)
}

trait AddrText {
    fn text(&self) -> String;
}

impl AddrText for Addr {
    fn text(&self) -> String {
        String::from_utf8(self.to_bytes()).unwrap()
    }
}

impl AddrText for std::net::IpAddr {
    fn text(&self) -> String {
        self.to_string()
    }
}

#[test]
fn proc_net_tcp_fixture() {
    let (lines, bad) = parse_inet(&fixture("proc_net_tcp_debian12.txt"), false);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(lines.len(), 7);
    let seen: Vec<_> = lines.iter().map(|l| inet_seen(Table::Tcp4, l)).collect();
    let listen = &seen[0];
    assert_eq!(addr(&listen.local_addr), "198.51.100.7");
    assert_eq!(listen.local_port, Some(4444));
    assert_eq!(listen.state, "LISTEN");
    assert_eq!(listen.remote_addr, None);
    assert_eq!(listen.inode, 65186);
    let close_wait = seen.iter().find(|s| s.inode == 65194).unwrap();
    assert_eq!(close_wait.state, "CLOSE_WAIT");
    assert_eq!(close_wait.recv_queue, Some(1));
    assert_eq!(addr(&close_wait.remote_addr), "127.0.0.1");
    assert_eq!(close_wait.remote_port, Some(0x9AF6));
    let fin_wait2 = seen.iter().find(|s| s.inode == 65193).unwrap();
    assert_eq!(fin_wait2.state, "FIN_WAIT2");
    let established = seen.iter().find(|s| s.inode == 65187).unwrap();
    assert_eq!(
        (
            established.state,
            established.local_port,
            established.remote_port
        ),
        ("ESTABLISHED", Some(47316), Some(4444))
    );
}

#[test]
fn proc_net_tcp6_fixture_byte_order() {
    let (lines, bad) = parse_inet(&fixture("proc_net_tcp6_debian12.txt"), true);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(lines.len(), 7);
    let seen: Vec<_> = lines.iter().map(|l| inet_seen(Table::Tcp6, l)).collect();
    // B80D0120 000000000 00000000 07000000 is 2001:db8::7, not 20010db8 reversed.
    assert_eq!(
        lines[0].local_addr,
        "2001:db8::7".parse::<Ipv6Addr>().unwrap()
    );
    assert_eq!((seen[0].local_port, seen[0].state), (Some(4445), "LISTEN"));
    assert_eq!(addr(&seen[1].local_addr), "::1");
    assert_eq!(addr(&seen[2].local_addr), "::");
    let mapped = seen.iter().find(|s| s.inode == 65200).unwrap();
    assert_eq!(addr(&mapped.local_addr), "::ffff:127.0.0.1");
    assert_eq!(addr(&mapped.remote_addr), "::ffff:127.0.0.1");
    let time_wait = seen.iter().find(|s| s.state == "TIME_WAIT").unwrap();
    assert_eq!(time_wait.inode, 0);
    assert_eq!(time_wait.remote_port, Some(5002));
    assert_eq!(addr(&time_wait.local_addr), "::1");
}

#[test]
fn proc_net_udp_fixtures() {
    let (lines, bad) = parse_inet(&fixture("proc_net_udp_debian12.txt"), false);
    assert!(bad.is_empty(), "{bad:?}");
    let seen: Vec<_> = lines.iter().map(|l| inet_seen(Table::Udp4, l)).collect();
    let bound = seen.iter().find(|s| s.inode == 65201).unwrap();
    assert_eq!(
        (
            addr(&bound.local_addr).as_str(),
            bound.local_port,
            bound.state
        ),
        ("0.0.0.0", Some(5353), "UNCONN")
    );
    assert_eq!(bound.recv_queue, Some(0x340));
    let connected = seen.iter().find(|s| s.inode == 65202).unwrap();
    assert_eq!(connected.state, "ESTABLISHED");
    assert_eq!(
        (addr(&connected.remote_addr).as_str(), connected.remote_port),
        ("198.51.100.7", Some(53))
    );

    let (lines, bad) = parse_inet(&fixture("proc_net_udp6_debian12.txt"), true);
    assert!(bad.is_empty(), "{bad:?}");
    let s = inet_seen(Table::Udp6, &lines[0]);
    assert_eq!(
        (addr(&s.local_addr).as_str(), s.local_port),
        ("2001:db8::7", Some(547))
    );
}

#[test]
fn proc_net_raw_fixtures() {
    let (lines, bad) = parse_inet(&fixture("proc_net_raw_debian12.txt"), false);
    assert!(bad.is_empty(), "{bad:?}");
    let s = inet_seen(Table::Raw4, &lines[0]);
    assert_eq!(s.kind.as_deref(), Some("1"));
    assert_eq!((s.local_port, s.state, s.inode), (None, "UNCONN", 65204));

    let (lines, bad) = parse_inet(&fixture("proc_net_raw6_debian12.txt"), true);
    assert!(bad.is_empty(), "{bad:?}");
    let s = inet_seen(Table::Raw6, &lines[0]);
    assert_eq!(s.kind.as_deref(), Some("58"));
    assert_eq!(addr(&s.local_addr), "::");
}

#[test]
fn proc_net_unix_fixture() {
    let (lines, bad) = parse_unix(&fixture("proc_net_unix_debian12.txt"));
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(lines.len(), 6);
    let seen: Vec<_> = lines.iter().map(unix_seen).collect();
    let listener = seen.iter().find(|s| s.inode == 65206).unwrap();
    assert_eq!(listener.state, "LISTEN");
    assert_eq!(addr(&listener.local_addr), "/tmp/irdump fixture 4341.sock");
    assert_eq!(listener.kind.as_deref(), Some("stream"));
    let accepted = seen.iter().find(|s| s.inode == 65208).unwrap();
    assert_eq!(accepted.state, "ESTABLISHED");
    let abstract_ = seen.iter().find(|s| s.inode == 65209).unwrap();
    assert_eq!(addr(&abstract_.local_addr), "@irdump-abstract");
    assert_eq!(
        (abstract_.kind.as_deref(), abstract_.state),
        (Some("dgram"), "UNCONN")
    );
    let pair: Vec<_> = seen
        .iter()
        .filter(|s| s.kind.as_deref() == Some("seqpacket"))
        .collect();
    assert_eq!(pair.len(), 2);
    assert!(pair.iter().all(|s| s.local_addr.is_none()));
    assert_eq!(lines[0].flags & procfs::UNIX_ACCEPTCON, 0);
}

// ---------------------------------------------------------------------------
// The live oracle test.

fn inode_of(fd: &impl AsRawFd) -> u64 {
    std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .unwrap()
        .ino()
}

/// What the test expects of one of its sockets.
struct Expect {
    what: &'static str,
    proto: &'static str,
    family: &'static str,
    local: Option<String>,
    local_port: Option<u16>,
    remote: Option<String>,
    remote_port: Option<u16>,
    state: &'static str,
    inode: u64,
    fd: RawFd,
}

/// One socket as `ss -tuwxanpe` printed it.
#[derive(Debug, Clone)]
struct SsLine {
    netid: String,
    state: String,
    local: String,
    peer: String,
    owners: Vec<(u32, u32)>,
    line: String,
}

/// Parses `ss -tuwxanpe` into lines keyed by inode (the `ino:` field for
/// inet sockets, the "port" column for unix ones); raw sockets read from
/// procfs by `ss` print no inode and are keyed by (pid, fd) instead.
fn ss_sockets() -> (HashMap<u64, SsLine>, HashMap<(u32, u32), SsLine>) {
    let out = Command::new("ss")
        .arg("-tuwxanpe")
        .output()
        .expect("ss runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut by_inode = HashMap::new();
    let mut by_owner = HashMap::new();
    for line in text.lines().skip(1) {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() < 6 {
            continue;
        }
        let owners: Vec<(u32, u32)> = line
            .split("pid=")
            .skip(1)
            .filter_map(|rest| {
                let pid = rest.split(',').next()?.parse().ok()?;
                let fd = rest.split("fd=").nth(1)?.split(')').next()?.parse().ok()?;
                Some((pid, fd))
            })
            .collect();
        let unix = t[0].starts_with("u_");
        let (local, peer, inode) = if unix {
            (t[4].to_owned(), t[6].to_owned(), t[5].parse().ok())
        } else {
            let ino = line
                .split("ino:")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|s| s.parse().ok());
            (t[4].to_owned(), t[5].to_owned(), ino)
        };
        let s = SsLine {
            netid: t[0].to_owned(),
            state: t[1].to_owned(),
            local,
            peer,
            owners: owners.clone(),
            line: line.to_owned(),
        };
        if let Some(i) = inode {
            by_inode.insert(i, s.clone());
        }
        for o in owners {
            by_owner.insert(o, s.clone());
        }
    }
    (by_inode, by_owner)
}

fn ss_state(irdump: &str) -> &str {
    match irdump {
        "ESTABLISHED" => "ESTAB",
        other => other,
    }
}

fn ss_endpoint(addr: &str, port: Option<u16>, v6: bool) -> String {
    let a = if v6 {
        format!("[{addr}]")
    } else {
        addr.to_owned()
    };
    match port {
        Some(p) => format!("{a}:{p}"),
        None => format!("{a}:*"),
    }
}

/// Opens a raw ICMP socket (root only); `None` without the privilege.
fn raw_icmp_socket() -> Option<std::os::fd::OwnedFd> {
    // SAFETY: socket(2) takes no pointers; a non-negative result is a new
    // descriptor that nothing else owns, so OwnedFd may take it.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
    if fd < 0 {
        return None;
    }
    // SAFETY: see above: `fd` is a fresh descriptor owned by no one else.
    Some(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
}

#[test]
fn every_kind_of_socket_matches_ss() {
    let dir = tempdir();
    let me = std::process::id();
    let mut expect = Vec::new();
    let mut add = |e: Expect| expect.push(e);

    let l4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let p4 = l4.local_addr().unwrap().port();
    let c4 = TcpStream::connect(l4.local_addr().unwrap()).unwrap();
    let (s4, _) = l4.accept().unwrap();
    let cport4 = c4.local_addr().unwrap().port();
    let lo4 = || Some("127.0.0.1".to_owned());
    add(Expect {
        what: "tcp4 listener",
        proto: "tcp",
        family: "ipv4",
        local: lo4(),
        local_port: Some(p4),
        remote: None,
        remote_port: None,
        state: "LISTEN",
        inode: inode_of(&l4),
        fd: l4.as_raw_fd(),
    });
    add(Expect {
        what: "tcp4 client",
        proto: "tcp",
        family: "ipv4",
        local: lo4(),
        local_port: Some(cport4),
        remote: lo4(),
        remote_port: Some(p4),
        state: "ESTABLISHED",
        inode: inode_of(&c4),
        fd: c4.as_raw_fd(),
    });
    add(Expect {
        what: "tcp4 accepted",
        proto: "tcp",
        family: "ipv4",
        local: lo4(),
        local_port: Some(p4),
        remote: lo4(),
        remote_port: Some(cport4),
        state: "ESTABLISHED",
        inode: inode_of(&s4),
        fd: s4.as_raw_fd(),
    });

    let l6 = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
    let p6 = l6.local_addr().unwrap().port();
    let c6 = TcpStream::connect(l6.local_addr().unwrap()).unwrap();
    let (s6, _) = l6.accept().unwrap();
    let cport6 = c6.local_addr().unwrap().port();
    let lo6 = || Some("::1".to_owned());
    add(Expect {
        what: "tcp6 listener",
        proto: "tcp",
        family: "ipv6",
        local: lo6(),
        local_port: Some(p6),
        remote: None,
        remote_port: None,
        state: "LISTEN",
        inode: inode_of(&l6),
        fd: l6.as_raw_fd(),
    });
    add(Expect {
        what: "tcp6 client",
        proto: "tcp",
        family: "ipv6",
        local: lo6(),
        local_port: Some(cport6),
        remote: lo6(),
        remote_port: Some(p6),
        state: "ESTABLISHED",
        inode: inode_of(&c6),
        fd: c6.as_raw_fd(),
    });
    add(Expect {
        what: "tcp6 accepted",
        proto: "tcp",
        family: "ipv6",
        local: lo6(),
        local_port: Some(p6),
        remote: lo6(),
        remote_port: Some(cport6),
        state: "ESTABLISHED",
        inode: inode_of(&s6),
        fd: s6.as_raw_fd(),
    });

    let u4 = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let up4 = u4.local_addr().unwrap().port();
    let uc4 = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    uc4.connect(u4.local_addr().unwrap()).unwrap();
    let ucp4 = uc4.local_addr().unwrap().port();
    add(Expect {
        what: "udp4 bound",
        proto: "udp",
        family: "ipv4",
        local: lo4(),
        local_port: Some(up4),
        remote: None,
        remote_port: None,
        state: "UNCONN",
        inode: inode_of(&u4),
        fd: u4.as_raw_fd(),
    });
    add(Expect {
        what: "udp4 connected",
        proto: "udp",
        family: "ipv4",
        local: lo4(),
        local_port: Some(ucp4),
        remote: lo4(),
        remote_port: Some(up4),
        state: "ESTABLISHED",
        inode: inode_of(&uc4),
        fd: uc4.as_raw_fd(),
    });
    let u6 = UdpSocket::bind((Ipv6Addr::LOCALHOST, 0)).unwrap();
    let up6 = u6.local_addr().unwrap().port();
    add(Expect {
        what: "udp6 bound",
        proto: "udp",
        family: "ipv6",
        local: lo6(),
        local_port: Some(up6),
        remote: None,
        remote_port: None,
        state: "UNCONN",
        inode: inode_of(&u6),
        fd: u6.as_raw_fd(),
    });

    let path = dir.path().join("irdump-stream.sock");
    let path_s = path.to_str().unwrap().to_owned();
    let ul = UnixListener::bind(&path).unwrap();
    let uconn = UnixStream::connect(&path).unwrap();
    let (uacc, _) = ul.accept().unwrap();
    let abstract_name = format!("irdump-test-{me}");
    let ua =
        UnixListener::bind_addr(&SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap())
            .unwrap();
    let dpath = dir.path().join("irdump-dgram.sock");
    let ud = UnixDatagram::bind(&dpath).unwrap();
    let unix = |what, local: Option<String>, state, s: &dyn AsRawFd| Expect {
        what,
        proto: "unix",
        family: "unix",
        local,
        local_port: None,
        remote: None,
        remote_port: None,
        state,
        inode: inode_of(&s.as_raw_fd()),
        fd: s.as_raw_fd(),
    };
    add(unix(
        "unix stream listener",
        Some(path_s.clone()),
        "LISTEN",
        &ul,
    ));
    add(unix("unix stream client", None, "ESTABLISHED", &uconn));
    add(unix(
        "unix stream accepted",
        Some(path_s.clone()),
        "ESTABLISHED",
        &uacc,
    ));
    add(unix(
        "unix abstract listener",
        Some(format!("@{abstract_name}")),
        "LISTEN",
        &ua,
    ));
    add(unix(
        "unix datagram",
        Some(dpath.to_str().unwrap().to_owned()),
        "UNCONN",
        &ud,
    ));

    let raw = raw_icmp_socket();
    if let Some(r) = &raw {
        add(Expect {
            what: "raw icmp",
            proto: "raw",
            family: "ipv4",
            local: Some("0.0.0.0".into()),
            local_port: None,
            remote: None,
            remote_port: None,
            state: "UNCONN",
            inode: inode_of(r),
            fd: r.as_raw_fd(),
        });
    } else {
        eprintln!("no raw socket: not root");
    }

    let (bundle, out) = collect_into(dir.path(), &["--only", "sockets"]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let records = jsonl(&bundle, "network.jsonl");
    let by_inode: HashMap<u64, &Value> = records
        .iter()
        .filter_map(|r| Some((r["inode"].as_u64()?, r)))
        .collect();
    let (ss_by_inode, ss_by_owner) = ss_sockets();

    for e in &expect {
        let r = by_inode
            .get(&e.inode)
            .unwrap_or_else(|| panic!("{}: inode {} not in network.jsonl", e.what, e.inode));
        let ctx = format!("{}: {r}", e.what);
        assert_eq!(r["proto"], e.proto, "{ctx}");
        assert_eq!(r["family"], e.family, "{ctx}");
        if e.local.is_some() || e.proto != "unix" {
            assert_eq!(r["local_addr"].as_str(), e.local.as_deref(), "{ctx}");
        }
        assert_eq!(
            r["local_port"].as_u64(),
            e.local_port.map(u64::from),
            "{ctx}"
        );
        if e.proto != "unix" {
            assert_eq!(r["remote_addr"].as_str(), e.remote.as_deref(), "{ctx}");
        }
        assert_eq!(
            r["remote_port"].as_u64(),
            e.remote_port.map(u64::from),
            "{ctx}"
        );
        assert_eq!(r["state"], e.state, "{ctx}");
        let owners: Vec<(u64, u64)> = r["owners"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["pid"].as_u64().unwrap(), o["fd"].as_u64().unwrap()))
            .collect();
        assert!(
            owners.contains(&(u64::from(me), e.fd as u64)),
            "{ctx}: owner pid {me} fd {} missing",
            e.fd
        );
        assert!(r["netns"].as_u64().is_some(), "{ctx}");
        let sources: Vec<&str> = r["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(sources.contains(&"procfs"), "{ctx}");
        if e.proto != "raw" {
            assert!(sources.contains(&"netlink"), "{ctx}");
        }
        assert_eq!(r["unseen_by"].as_array().unwrap().len(), 0, "{ctx}");

        // The oracle.
        let ss = if e.proto == "raw" {
            ss_by_owner.get(&(me, e.fd as u32))
        } else {
            ss_by_inode.get(&e.inode)
        };
        let ss = ss.unwrap_or_else(|| panic!("{}: ss does not list inode {}", e.what, e.inode));
        assert!(
            ss.owners.contains(&(me, e.fd as u32)),
            "{ctx}\nss: {}",
            ss.line
        );
        assert_eq!(ss.state, ss_state(e.state), "{ctx}\nss: {}", ss.line);
        match e.proto {
            "tcp" | "udp" => {
                let v6 = e.family == "ipv6";
                assert_eq!(ss.netid, e.proto, "{ctx}\nss: {}", ss.line);
                assert_eq!(
                    ss.local,
                    ss_endpoint(e.local.as_deref().unwrap(), e.local_port, v6),
                    "{ctx}\nss: {}",
                    ss.line
                );
                if let Some(remote) = &e.remote {
                    assert_eq!(
                        ss.peer,
                        ss_endpoint(remote, e.remote_port, v6),
                        "{ctx}\nss: {}",
                        ss.line
                    );
                }
            }
            "unix" => {
                let shown = r["local_addr"].as_str().unwrap_or("*");
                assert_eq!(ss.local, shown, "{ctx}\nss: {}", ss.line);
                if let Some(peer) = r["peer_inode"].as_u64() {
                    assert!(
                        ss.line.contains(&format!(" {peer} ")),
                        "{ctx}\nss: {}",
                        ss.line
                    );
                }
            }
            _ => assert_eq!(ss.local, "0.0.0.0:1", "{ctx}\nss: {}", ss.line),
        }
    }

    // The report's sections show them with their owner.
    let report = std::fs::read_to_string(bundle.join("report.txt")).unwrap();
    let section = |title: &str| -> String {
        let start = report
            .find(&format!("[*] {title}\n"))
            .unwrap_or_else(|| panic!("{title}"));
        let rest = &report[start + 4..];
        rest[..rest.find("\n[*] ").unwrap_or(rest.len())].to_owned()
    };
    let listening = section("Listening TCP ports");
    let line = listening
        .lines()
        .find(|l| l.contains(&format!(" 127.0.0.1:{p4} ")))
        .unwrap_or_else(|| panic!("listener missing:\n{listening}"));
    assert!(line.contains(&format!("{me}/")), "{line}");
    assert!(section("Established TCP connections").contains(&format!("[::1]:{cport6}")));
    assert!(section("UDP sockets").contains(&format!("127.0.0.1:{up4}")));
    assert!(section("Other sockets (raw, unix)").contains(&abstract_name));

    // The connected unix pair names each other.
    let client = by_inode[&inode_of(&uconn)];
    let accepted = by_inode[&inode_of(&uacc)];
    assert_eq!(client["peer_inode"].as_u64(), Some(inode_of(&uacc)));
    assert_eq!(accepted["peer_inode"].as_u64(), Some(inode_of(&uconn)));
    assert_eq!(client["remote_addr"].as_str(), Some(path_s.as_str()));
    drop((
        l4, c4, s4, l6, c6, s6, u4, uc4, u6, ul, uconn, uacc, ua, ud, raw,
    ));
}

// ---------------------------------------------------------------------------
// Network namespaces (root only).

/// Deletes the test's namespaces and kills its children, even when the
/// test fails.
struct NetnsGuard {
    names: Vec<String>,
    children: Vec<Child>,
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for n in &self.names {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("ip runs");
    assert!(st.success(), "ip {args:?} failed");
}

/// Starts python3 with `script`, waits for its first line, returns it and
/// the child.
fn python_ready(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("python3 starts");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned())
}

#[test]
fn sockets_in_other_namespaces_are_read_with_their_owners() {
    if !is_root() {
        eprintln!("skipped: creating network namespaces needs root");
        return;
    }
    let me = std::process::id();
    let with_proc = format!("irdump-sock-{me}");
    let empty = format!("irdump-sock-{me}-noproc");
    let mut guard = NetnsGuard {
        names: vec![with_proc.clone(), empty.clone()],
        children: Vec::new(),
    };
    ip(&["netns", "add", &with_proc]);
    ip(&["netns", "add", &empty]);
    ip(&["-n", &with_proc, "link", "set", "lo", "up"]);
    ip(&["-n", &empty, "link", "set", "lo", "up"]);
    let ns_inode = |n: &str| std::fs::metadata(format!("/run/netns/{n}")).unwrap().ino();

    // A listener inside the first namespace, by a process living there.
    let (child, line) = python_ready(Command::new("ip").args([
        "netns", "exec", &with_proc, "python3", "-c",
        "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',4567))\ns.listen()\nprint('ready',flush=True)\ntime.sleep(120)",
    ]));
    assert_eq!(line, "ready");
    let inside_pid = child.id();
    guard.children.push(child);

    // A socket left in the second namespace by a process that went back to
    // the host's: the namespace has no member process, only its bind mount.
    let script = format!(
        "import ctypes,os,socket,time\nlibc=ctypes.CDLL(None,use_errno=True)\nhome=os.open('/proc/self/ns/net',os.O_RDONLY)\nns=os.open('/run/netns/{empty}',os.O_RDONLY)\nassert libc.setns(ns,0x40000000)==0\ns=socket.socket(socket.AF_INET6)\ns.bind(('::1',4568))\ns.listen()\nassert libc.setns(home,0x40000000)==0\nprint(os.stat('/proc/self/fd/%d'%s.fileno()).st_ino,flush=True)\ntime.sleep(120)"
    );
    let (child, line) = python_ready(Command::new("python3").args(["-c", &script]));
    let away_pid = child.id();
    let away_inode: u64 = line.parse().unwrap();
    guard.children.push(child);

    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "sockets"]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let records = jsonl(&bundle, "network.jsonl");

    let inside = records
        .iter()
        .find(|r| r["netns"].as_u64() == Some(ns_inode(&with_proc)) && r["local_port"] == 4567)
        .unwrap_or_else(|| panic!("no listener in {with_proc}"));
    assert_eq!(inside["state"], "LISTEN");
    assert_eq!(inside["local_addr"], "127.0.0.1");
    assert_eq!(
        inside["owners"][0]["pid"].as_u64(),
        Some(u64::from(inside_pid))
    );
    assert_eq!(inside["owners"][0]["name"], "python3");
    assert_eq!(inside["sources"], serde_json::json!(["netlink", "procfs"]));

    let away = records
        .iter()
        .find(|r| r["inode"].as_u64() == Some(away_inode))
        .unwrap_or_else(|| panic!("socket {away_inode} of the process-less namespace missing"));
    assert_eq!(away["netns"].as_u64(), Some(ns_inode(&empty)));
    assert_eq!(
        (away["local_addr"].as_str(), away["local_port"].as_u64()),
        (Some("::1"), Some(4568))
    );
    assert_eq!(away["owners"][0]["pid"].as_u64(), Some(u64::from(away_pid)));

    // The oracle, inside the namespace.
    let ss = Command::new("ss")
        .args(["-N", &with_proc, "-tlnpe"])
        .output()
        .unwrap();
    let ss = String::from_utf8_lossy(&ss.stdout);
    let line = ss
        .lines()
        .find(|l| l.contains("127.0.0.1:4567"))
        .expect("ss sees the listener");
    assert!(line.contains(&format!("pid={inside_pid},")), "{line}");
    assert!(line.contains(&format!("ino:{}", inside["inode"])), "{line}");
    let ss = Command::new("ss")
        .args(["-N", &empty, "-tlne"])
        .output()
        .unwrap();
    let ss = String::from_utf8_lossy(&ss.stdout);
    assert!(ss.contains(&format!("ino:{away_inode}")), "{ss}");
    drop(guard);
}
