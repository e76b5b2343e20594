//! Linux `netconfig` collector: interfaces, routes and neighbours of every
//! network namespace over rtnetlink (never `ip`), and the resolver
//! configuration from files under `--root`.
//!
//! Namespaces are found and entered as the sockets collector does
//! (`sockets::netns`); the neighbour cache is the volatile part and is read
//! first in each. A namespace that cannot be entered is a gap; the others
//! still land.

use super::{dns, rtnl};
use crate::collector::{CollectError, Context, Output};
use crate::collectors::sockets::netns;
use crate::records::netconfig::{
    DnsConfig, DNS_FILE, INTERFACES_FILE, NEIGHBORS_FILE, ROUTES_FILE,
};

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let mut gaps = Vec::new();
    let spaces = netns::discover(&mut gaps);
    for g in gaps {
        out.gap(g.what, g.cause);
    }
    let mut read_any = false;
    for ns in spaces.values() {
        if ctx.expired() {
            out.gap(
                format!("net:[{}] and later namespaces", ns.inode),
                "deadline passed",
            );
            out.mark_timed_out();
            break;
        }
        let inode = ns.inode;
        match netns::run_inside(ns, || rtnl::read(Some(inode))) {
            Ok(cfg) => {
                read_any |= !cfg.interfaces.is_empty();
                for n in &cfg.neighbors {
                    out.record(NEIGHBORS_FILE, n);
                }
                for i in &cfg.interfaces {
                    out.record(INTERFACES_FILE, i);
                }
                for r in &cfg.routes {
                    out.record(ROUTES_FILE, r);
                }
                for g in cfg.gaps {
                    out.gap(format!("net:[{inode}] {}", g.what), g.cause);
                }
            }
            Err(cause) => out.gap(
                format!("net:[{inode}]"),
                format!("namespace not entered: {cause}"),
            ),
        }
    }
    let dns = read_dns(ctx, out);
    out.document(DNS_FILE, &dns);
    if !read_any && out.gaps().iter().any(|g| g.what.contains("rtnetlink")) {
        return Err(CollectError::Other(
            "rtnetlink gave no interface in any namespace".into(),
        ));
    }
    Ok(())
}

/// The resolver files, read through `--root`. A missing file is not a gap
/// (many hosts have no `nsswitch.conf`); an unreadable one is.
fn read_dns(ctx: &Context, out: &mut Output) -> DnsConfig {
    let mut read = |path: &str| match std::fs::read(ctx.host_path(path)) {
        Ok(bytes) => Some(crate::text::lossless_utf8(&bytes).into_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            log::debug!("{path}: absent");
            None
        }
        Err(e) => {
            out.gap(path, e.to_string());
            None
        }
    };
    let resolv = read("/etc/resolv.conf").map(|t| dns::parse_resolv_conf(&t));
    let hosts = read("/etc/hosts").map(|t| dns::parse_hosts(&t));
    let nsswitch = read("/etc/nsswitch.conf").and_then(|t| dns::parse_nsswitch_hosts(&t));
    let resolv = resolv.unwrap_or_default();
    DnsConfig {
        nameservers: resolv.nameservers,
        search: resolv.search,
        options: resolv.options,
        hosts: hosts.unwrap_or_default(),
        nsswitch_hosts: nsswitch,
    }
}
