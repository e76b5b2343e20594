//! Socket addresses and hardware addresses as the IP Helper and WTS APIs
//! return them, decoded from their documented byte layouts.
//!
//! `SOCKADDR_IN`: family (u16, native order), port (u16, network order),
//! address (4 bytes), 8 bytes of zero. `SOCKADDR_IN6`: family, port,
//! flow info (u32), address (16 bytes), scope id (u32, native order).
//! `SOCKADDR_INET` is the union of both (28 bytes). Windows numbers the
//! families `AF_INET` = 2 and `AF_INET6` = 23.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `AF_INET` on Windows.
pub const AF_INET: u16 = 2;
/// `AF_INET6` on Windows (not 10 as on Linux).
pub const AF_INET6: u16 = 23;

/// A decoded socket address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketAddress {
    /// The IP address.
    pub ip: IpAddr,
    /// The port (0 where none applies).
    pub port: u16,
    /// The IPv6 scope id (interface index for link-local), 0 otherwise.
    pub scope_id: u32,
}

/// Decodes a `SOCKADDR_IN`, `SOCKADDR_IN6` or `SOCKADDR_INET` from its
/// bytes. `None` for other families or a buffer too short for the family.
pub fn parse_sockaddr(bytes: &[u8]) -> Option<SocketAddress> {
    let family = u16::from_ne_bytes([*bytes.first()?, *bytes.get(1)?]);
    let port = u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]);
    match family {
        AF_INET => {
            let a: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
            Some(SocketAddress {
                ip: IpAddr::V4(Ipv4Addr::from(a)),
                port,
                scope_id: 0,
            })
        }
        AF_INET6 => {
            let a: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
            let scope: [u8; 4] = bytes.get(24..28)?.try_into().ok()?;
            Some(SocketAddress {
                ip: IpAddr::V6(Ipv6Addr::from(a)),
                port,
                scope_id: u32::from_ne_bytes(scope),
            })
        }
        _ => None,
    }
}

/// `ipv4` or `ipv6`, as the bundle names families.
pub fn family_name(ip: &IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "ipv4",
        IpAddr::V6(_) => "ipv6",
    }
}

/// The scope of an interface address in the Linux vocabulary: `host` for
/// loopback, `link` for link-local (`169.254.0.0/16`, `fe80::/10`),
/// `global` otherwise.
pub fn address_scope(ip: &IpAddr) -> &'static str {
    match ip {
        _ if ip.is_loopback() => "host",
        IpAddr::V4(v4) if v4.is_link_local() => "link",
        IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80 => "link",
        _ => "global",
    }
}

/// True for the unspecified address (`0.0.0.0`, `::`), which a route uses
/// as "no gateway" (the destination is on the link).
pub fn is_unspecified(ip: &IpAddr) -> bool {
    ip.is_unspecified()
}

/// A hardware address as `aa:bb:cc:dd:ee:ff`; `None` when empty or all
/// zero (loopback and tunnel adapters have none).
pub fn mac_string(bytes: &[u8]) -> Option<String> {
    if bytes.iter().all(|&b| b == 0) {
        return None;
    }
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Some(parts.join(":"))
}

/// Decodes `WTS_CLIENT_ADDRESS` (family as a u32, then 20 address bytes):
/// for `AF_INET` the address sits at bytes 2..6 of the array, for
/// `AF_INET6` at bytes 0..16, as the structure's documentation says.
pub fn parse_wts_client_address(family: u32, address: &[u8; 20]) -> Option<IpAddr> {
    match u16::try_from(family).ok()? {
        AF_INET => {
            let a: [u8; 4] = address[2..6].try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(a)))
        }
        AF_INET6 => {
            let a: [u8; 16] = address[..16].try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sockaddr_in(port: u16, ip: [u8; 4]) -> Vec<u8> {
        let mut b = AF_INET.to_ne_bytes().to_vec();
        b.extend_from_slice(&port.to_be_bytes());
        b.extend_from_slice(&ip);
        b.extend_from_slice(&[0; 8]);
        b
    }

    #[test]
    fn ipv4_address_and_port() {
        let a = parse_sockaddr(&sockaddr_in(443, [192, 0, 2, 7])).unwrap();
        assert_eq!(a.ip.to_string(), "192.0.2.7");
        assert_eq!(a.port, 443);
        assert_eq!(family_name(&a.ip), "ipv4");
    }

    #[test]
    fn ipv6_address_scope_and_port() {
        let mut b = AF_INET6.to_ne_bytes().to_vec();
        b.extend_from_slice(&8080u16.to_be_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
        b.extend_from_slice(&12u32.to_ne_bytes());
        let a = parse_sockaddr(&b).unwrap();
        assert_eq!(a.ip.to_string(), "fe80::1");
        assert_eq!(a.port, 8080);
        assert_eq!(a.scope_id, 12);
        assert_eq!(parse_sockaddr(&b[..27]), None, "cut short");
    }

    #[test]
    fn linux_family_numbers_are_not_windows_ones() {
        let mut b = sockaddr_in(1, [1, 2, 3, 4]);
        b[..2].copy_from_slice(&10u16.to_ne_bytes());
        assert_eq!(parse_sockaddr(&b), None);
        assert_eq!(parse_sockaddr(&[]), None);
    }

    #[test]
    fn scopes() {
        let scope = |s: &str| address_scope(&s.parse().unwrap());
        assert_eq!(scope("127.0.0.1"), "host");
        assert_eq!(scope("::1"), "host");
        assert_eq!(scope("169.254.10.1"), "link");
        assert_eq!(scope("fe80::1"), "link");
        assert_eq!(scope("192.0.2.1"), "global");
        assert_eq!(scope("2001:db8::1"), "global");
        assert!(is_unspecified(&"::".parse().unwrap()));
    }

    #[test]
    fn hardware_addresses() {
        assert_eq!(
            mac_string(&[0x52, 0x54, 0, 0x12, 0x34, 0xab]).as_deref(),
            Some("52:54:00:12:34:ab")
        );
        assert_eq!(mac_string(&[0; 6]), None);
        assert_eq!(mac_string(&[]), None);
    }

    #[test]
    fn rdp_client_addresses_follow_the_documented_offsets() {
        let mut a = [0u8; 20];
        a[2..6].copy_from_slice(&[192, 168, 0, 1]);
        assert_eq!(
            parse_wts_client_address(2, &a).unwrap().to_string(),
            "192.168.0.1"
        );
        let mut b = [0u8; 20];
        b[0] = 0xff;
        b[1] = 0xff;
        b[15] = 1;
        assert_eq!(
            parse_wts_client_address(23, &b).unwrap().to_string(),
            "ffff::1"
        );
        assert_eq!(parse_wts_client_address(0, &a), None);
    }
}
