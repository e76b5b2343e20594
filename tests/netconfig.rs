//! The `netconfig` collector against `ip` as the oracle, in a network
//! namespace the test builds (a veth pair, addresses, a route through a
//! gateway, static neighbours: every value is the test's own), and the
//! resolver files through `--root` on a fixture tree.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::process::Command;

use common::*;
use serde_json::Value;

struct NetnsGuard(String);

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("ip runs");
    assert!(st.success(), "ip {args:?} failed");
}

fn ip_json(args: &[&str]) -> Vec<Value> {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(out.status.success(), "ip {args:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `dst` as `ip -j route` prints it, made into `addr/prefix`.
fn ip_route_dst(dst: &str, v6: bool) -> String {
    match dst {
        "default" if v6 => "::/0".into(),
        "default" => "0.0.0.0/0".into(),
        d if d.contains('/') => d.into(),
        d if v6 => format!("{d}/128"),
        d => format!("{d}/32"),
    }
}

#[test]
fn a_test_namespace_matches_ip() {
    if !is_root() {
        eprintln!("skipped: creating network namespaces needs root");
        return;
    }
    let ns = format!("irdump-netconfig-{}", std::process::id());
    ip(&["netns", "add", &ns]);
    let _guard = NetnsGuard(ns.clone());
    let n = |args: &[&str]| {
        let mut v = vec!["-n", ns.as_str()];
        v.extend_from_slice(args);
        ip(&v);
    };
    n(&["link", "set", "lo", "up"]);
    n(&[
        "link", "add", "irdv0", "type", "veth", "peer", "name", "irdv1",
    ]);
    n(&[
        "link",
        "set",
        "irdv0",
        "address",
        "02:00:5e:10:00:01",
        "mtu",
        "1400",
        "up",
    ]);
    n(&["link", "set", "irdv1", "up"]);
    n(&["addr", "add", "198.51.100.1/24", "dev", "irdv0"]);
    n(&[
        "-6",
        "addr",
        "add",
        "2001:db8:1::1/64",
        "dev",
        "irdv0",
        "nodad",
    ]);
    n(&[
        "route",
        "add",
        "203.0.113.0/24",
        "via",
        "198.51.100.254",
        "dev",
        "irdv0",
        "metric",
        "7",
    ]);
    n(&[
        "-6",
        "route",
        "add",
        "2001:db8:9::/48",
        "via",
        "2001:db8:1::fe",
        "dev",
        "irdv0",
    ]);
    n(&[
        "neigh",
        "add",
        "198.51.100.9",
        "lladdr",
        "02:00:5e:10:00:09",
        "dev",
        "irdv0",
        "nud",
        "permanent",
    ]);
    n(&[
        "neigh",
        "add",
        "198.51.100.10",
        "lladdr",
        "02:00:5e:10:00:0a",
        "dev",
        "irdv0",
        "nud",
        "stale",
    ]);
    n(&[
        "-6",
        "neigh",
        "add",
        "2001:db8:1::9",
        "lladdr",
        "02:00:5e:10:00:19",
        "dev",
        "irdv0",
        "nud",
        "permanent",
    ]);
    let inode = std::fs::metadata(format!("/run/netns/{ns}")).unwrap().ino();

    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "netconfig"]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let mine = |file: &str| -> Vec<Value> {
        jsonl(&bundle, file)
            .into_iter()
            .filter(|r| r["netns"].as_u64() == Some(inode))
            .collect()
    };

    // Interfaces and addresses against `ip -j addr`.
    let ifaces = mine("interfaces.jsonl");
    let oracle = ip_json(&["-n", &ns, "-j", "addr"]);
    assert_eq!(ifaces.len(), oracle.len(), "{ifaces:#?}");
    for o in &oracle {
        let name = o["ifname"].as_str().unwrap();
        let i = ifaces
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(i["index"], o["ifindex"], "{name}");
        assert_eq!(i["mtu"], o["mtu"], "{name}");
        if o["address"] != "00:00:00:00:00:00" {
            assert_eq!(i["mac"], o["address"], "{name}");
        }
        for flag in o["flags"].as_array().unwrap() {
            assert!(
                i["flags"].as_array().unwrap().contains(flag),
                "{name}: {flag}"
            );
        }
        let ours: BTreeSet<String> = i["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                format!(
                    "{}/{} {}",
                    a["addr"].as_str().unwrap(),
                    a["prefix_len"],
                    a["scope"].as_str().unwrap()
                )
            })
            .collect();
        let theirs: BTreeSet<String> = o["addr_info"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                format!(
                    "{}/{} {}",
                    a["local"].as_str().unwrap(),
                    a["prefixlen"],
                    a["scope"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(ours, theirs, "{name}");
    }
    let v0 = ifaces.iter().find(|i| i["name"] == "irdv0").unwrap();
    assert_eq!(v0["mac"], "02:00:5e:10:00:01");

    // Routes against `ip -j route show table all` and its IPv6 twin.
    let routes = mine("routes.jsonl");
    let ours: BTreeSet<String> = routes
        .iter()
        .map(|r| {
            format!(
                "{}/{} via {} dev {} table {}",
                r["destination"].as_str().unwrap(),
                r["prefix_len"],
                r["gateway"].as_str().unwrap_or("-"),
                r["interface"].as_str().unwrap_or("-"),
                r["table"].as_str().unwrap()
            )
        })
        .collect();
    let mut theirs = BTreeSet::new();
    for (v6, fam) in [(false, "-4"), (true, "-6")] {
        for o in ip_json(&["-n", &ns, fam, "-j", "route", "show", "table", "all"]) {
            let dst = o["dst"].as_str().unwrap();
            theirs.insert(format!(
                "{} via {} dev {} table {}",
                ip_route_dst(dst, v6),
                o["gateway"].as_str().unwrap_or("-"),
                o["dev"].as_str().unwrap_or("-"),
                o["table"].as_str().unwrap_or("main")
            ));
        }
    }
    assert_eq!(ours, theirs);
    let via = routes
        .iter()
        .find(|r| r["destination"] == "203.0.113.0")
        .unwrap();
    assert_eq!(
        (via["gateway"].as_str(), via["metric"].as_u64()),
        (Some("198.51.100.254"), Some(7))
    );
    assert_eq!(via["family"], "ipv4");

    // Neighbours against `ip -j neigh show nud all`. IPv6 multicast
    // entries (ff02::...) are added by the kernel as the links come up, at
    // any moment of the test: only the unicast ones are the test's own.
    let unicast = |ip: &str| !ip.starts_with("ff");
    let neigh: Vec<Value> = mine("neighbors.jsonl")
        .into_iter()
        .filter(|r| unicast(r["ip"].as_str().unwrap()))
        .collect();
    let ours: BTreeSet<String> = neigh
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["ip"].as_str().unwrap(),
                r["mac"].as_str().unwrap_or("-"),
                r["state"].as_str().unwrap(),
                r["interface"].as_str().unwrap()
            )
        })
        .collect();
    let theirs: BTreeSet<String> = ip_json(&["-n", &ns, "-j", "neigh", "show", "nud", "all"])
        .iter()
        .filter(|o| unicast(o["dst"].as_str().unwrap()))
        .map(|o| {
            let mac = o["lladdr"]
                .as_str()
                .filter(|m| *m != "00:00:00:00:00:00")
                .unwrap_or("-");
            format!(
                "{} {} {} {}",
                o["dst"].as_str().unwrap(),
                mac,
                o["state"][0].as_str().unwrap(),
                o["dev"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(ours, theirs);
    assert!(
        ours.contains("198.51.100.9 02:00:5e:10:00:09 PERMANENT irdv0"),
        "{ours:?}"
    );
    assert!(
        ours.contains("198.51.100.10 02:00:5e:10:00:0a STALE irdv0"),
        "{ours:?}"
    );
    assert!(
        ours.contains("2001:db8:1::9 02:00:5e:10:00:19 PERMANENT irdv0"),
        "{ours:?}"
    );

    let report = std::fs::read_to_string(bundle.join("report.txt")).unwrap();
    assert!(report.contains("198.51.100.9"), "neighbour in the report");
    assert!(report.contains("203.0.113.0/24"), "route in the report");
}

#[test]
fn host_interfaces_match_ip() {
    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "netconfig"]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let own = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
    let ifaces: Vec<Value> = jsonl(&bundle, "interfaces.jsonl")
        .into_iter()
        .filter(|r| r["netns"].as_u64() == Some(own))
        .collect();
    let lo = ifaces.iter().find(|i| i["name"] == "lo").expect("lo");
    assert!(lo["flags"]
        .as_array()
        .unwrap()
        .contains(&Value::from("LOOPBACK")));
    for o in ip_json(&["-j", "addr"]) {
        let name = o["ifname"].as_str().unwrap();
        let i = ifaces
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(i["index"], o["ifindex"], "{name}");
        let ours: BTreeSet<&str> = i["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["addr"].as_str().unwrap())
            .collect();
        for a in o["addr_info"].as_array().unwrap() {
            assert!(ours.contains(a["local"].as_str().unwrap()), "{name}: {a}");
        }
    }
}

#[test]
fn resolver_files_come_from_root() {
    let dir = tempdir();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/resolv.conf"),
        "# fixture\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch corp.example lab.example\noptions ndots:2\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/hosts"),
        "127.0.0.1 localhost\n203.0.113.66 update.vendor.example\x1b[2J # planted\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/nsswitch.conf"),
        "passwd: files\nhosts: files dns myhostname\n",
    )
    .unwrap();
    let (bundle, out) = collect_into(
        dir.path(),
        &["--only", "netconfig", "--root", root.to_str().unwrap()],
    );
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let d = json(&bundle, "dns.json");
    assert_eq!(
        d["nameservers"],
        serde_json::json!(["192.0.2.53", "2001:db8::53"])
    );
    assert_eq!(
        d["search"],
        serde_json::json!(["corp.example", "lab.example"])
    );
    assert_eq!(d["options"], serde_json::json!(["ndots:2"]));
    assert_eq!(d["nsswitch_hosts"], "files dns myhostname");
    assert_eq!(d["hosts"][1]["addr"], "203.0.113.66");
    assert_eq!(d["hosts"][1]["names"][0], "update.vendor.example\u{1b}[2J");
    let report = std::fs::read_to_string(bundle.join("report.txt")).unwrap();
    assert!(report.contains("update.vendor.example\\e[2J"), "{report}");
    assert!(!report.contains('\u{1b}'));
}
