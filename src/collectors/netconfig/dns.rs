//! Parsers of the resolver's files: `/etc/resolv.conf` (name servers,
//! search list, options), `/etc/hosts` and the `hosts:` line of
//! `/etc/nsswitch.conf`. They take the file's text; the collector reads the
//! files through `--root` (`ctx.host_path`), so a mounted image works too.
//!
//! An attacker redirects names by adding `/etc/hosts` lines or a name
//! server, so every entry is kept as written (the report escapes them);
//! comments are dropped. The files are glibc's format: `#` and `;` start a
//! comment in `resolv.conf`, `#` in the others; the last `search` or
//! `domain` line wins, as in glibc.

use crate::records::netconfig::HostsEntry;

/// What `resolv.conf` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolv {
    /// `nameserver` addresses, in order.
    pub nameservers: Vec<String>,
    /// The effective search list.
    pub search: Vec<String>,
    /// `options` words, in order.
    pub options: Vec<String>,
}

/// Parses `resolv.conf`.
pub fn parse_resolv_conf(text: &str) -> Resolv {
    let mut out = Resolv::default();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(addr) = words.next() {
                    out.nameservers.push(addr.to_owned());
                }
            }
            Some("search") | Some("domain") => {
                out.search = words.map(str::to_owned).collect();
            }
            Some("options") => out.options.extend(words.map(str::to_owned)),
            _ => {}
        }
    }
    out
}

/// Parses `/etc/hosts`: one entry per line with an address and at least
/// one name.
pub fn parse_hosts(text: &str) -> Vec<HostsEntry> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let addr = words.next()?.to_owned();
            let names: Vec<String> = words.map(str::to_owned).collect();
            (!names.is_empty()).then_some(HostsEntry { addr, names })
        })
        .collect()
}

/// The sources of the `hosts:` line of `nsswitch.conf`, as written.
pub fn parse_nsswitch_hosts(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("").trim();
        let rest = line.strip_prefix("hosts")?.trim_start();
        let rest = rest.strip_prefix(':')?;
        Some(rest.split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_last_search_wins() {
        let r = parse_resolv_conf(
            "# generated\ndomain corp.example\nnameserver 10.0.0.2\n; nameserver 9.9.9.9\n  nameserver fd00::53\nsearch a.example b.example\noptions edns0 trust-ad\noptions rotate\n",
        );
        assert_eq!(r.nameservers, ["10.0.0.2", "fd00::53"]);
        assert_eq!(r.search, ["a.example", "b.example"]);
        assert_eq!(r.options, ["edns0", "trust-ad", "rotate"]);
    }

    #[test]
    fn hosts_keep_every_name_and_drop_comments() {
        let h = parse_hosts("127.0.0.1\tlocalhost\n# x\n203.0.113.9 update.vendor.example mirror # evil\n::1 localhost ip6-localhost\nlonely\n");
        assert_eq!(h.len(), 3);
        assert_eq!(h[1].addr, "203.0.113.9");
        assert_eq!(h[1].names, ["update.vendor.example", "mirror"]);
    }

    #[test]
    fn nsswitch_hosts_line() {
        let text = "passwd: files\nhostsx: no\nhosts:          files mdns4_minimal [NOTFOUND=return] dns # c\n";
        assert_eq!(
            parse_nsswitch_hosts(text).as_deref(),
            Some("files mdns4_minimal [NOTFOUND=return] dns")
        );
        assert_eq!(parse_nsswitch_hosts("passwd: files\n"), None);
    }
}
