//! Windows `netconfig` collector, the classic `ipconfig /all`, `route
//! print` and `arp -a` without running them:
//!
//! - interfaces, their unicast addresses with prefix length, and the DNS
//!   servers and suffixes configured on them from `GetAdaptersAddresses`
//!   (the documented loop: start with 15 KB, and on `ERROR_BUFFER_OVERFLOW`
//!   retry with the size returned in `SizePointer`, a bounded number of
//!   times);
//! - routes of both families from `GetIpForwardTable2`, and the neighbour
//!   cache from `GetIpNetTable2`, read per family (see `windows/tables.rs`).
//!
//! Interface names are the adapters' friendly names ("Ethernet",
//! "Wi-Fi"); routes and neighbours name their interface through the index.
//!
//! Limitation: the `hosts` file (`%SystemRoot%\System32\drivers\etc\hosts`)
//! is not parsed yet, so `dns.json` has no `hosts` entries on Windows; NRPT
//! and per-interface DNS-over-HTTPS settings are not read either.
//! Limitation: under Wine 8 `GetIpNetTable2` answers for one family at a
//! time only (as read here) and the adapters are the host's, as Wine maps
//! them.

#[path = "windows/tables.rs"]
mod tables;

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;

use windows_sys::Win32::Foundation::{ERROR_BUFFER_OVERFLOW, ERROR_NO_DATA};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    GetAdaptersAddresses, GAA_FLAG_SKIP_ANYCAST, GAA_FLAG_SKIP_MULTICAST, IP_ADAPTER_ADDRESSES_LH,
};
use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6, AF_UNSPEC, SOCKET_ADDRESS};

use crate::collector::{CollectError, Context, Output};
use crate::records::netconfig::{
    DnsConfig, InterfaceAddress, InterfaceRecord, DNS_FILE, INTERFACES_FILE, NEIGHBORS_FILE,
    ROUTES_FILE,
};
use crate::windows_api::buffer::AlignedBuffer;
use crate::windows_api::{wide_string, win32_error};
use crate::windows_formats::names::interface_flags;
use crate::windows_formats::sockaddr::{
    address_scope, family_name, mac_string, parse_sockaddr, SocketAddress,
};
use crate::windows_formats::wide::{until_nul, utf16_lossless};

/// The working buffer size Microsoft recommends for the first call.
const FIRST_SIZE: usize = 15 * 1024;
/// Calls before giving up on adapters that keep changing.
const ATTEMPTS: usize = 4;

pub(super) fn collect(_ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let mut names: HashMap<u32, String> = HashMap::new();
    let mut dns = DnsConfig::default();
    let adapters_read = match adapters(&mut names, &mut dns) {
        Ok(interfaces) => {
            for i in &interfaces {
                out.record(INTERFACES_FILE, i);
            }
            true
        }
        Err(e) => {
            out.gap("GetAdaptersAddresses", e);
            false
        }
    };

    let mut tables_read = false;
    match tables::routes(AF_UNSPEC, &names) {
        Ok(routes) => {
            tables_read = true;
            for r in &routes {
                out.record(ROUTES_FILE, r);
            }
        }
        Err(e) => out.gap("GetIpForwardTable2", e),
    }
    for (family, label) in [(AF_INET, "AF_INET"), (AF_INET6, "AF_INET6")] {
        match tables::neighbors(family, &names) {
            Ok(list) => {
                tables_read = true;
                for n in &list {
                    out.record(NEIGHBORS_FILE, n);
                }
            }
            Err(e) => out.gap(format!("GetIpNetTable2({label})"), e),
        }
    }
    if adapters_read {
        out.document(DNS_FILE, &dns);
    }
    if !adapters_read && !tables_read {
        return Err(CollectError::Other(
            "neither the adapters nor the route and neighbour tables could be read".into(),
        ));
    }
    Ok(())
}

/// Reads every adapter; fills the index-to-name map and the DNS settings.
fn adapters(
    names: &mut HashMap<u32, String>,
    dns: &mut DnsConfig,
) -> io::Result<Vec<InterfaceRecord>> {
    let mut size = FIRST_SIZE as u32;
    for _ in 0..ATTEMPTS {
        let mut buf = AlignedBuffer::new(size as usize);
        let mut len = buf.len() as u32;
        // SAFETY: `buf` is writable for `len` bytes and 8-byte aligned (the
        // structures hold pointers and 64-bit fields); on
        // ERROR_BUFFER_OVERFLOW the function stores the size it needs in
        // `len` and writes nothing else (documented).
        let rc = unsafe {
            GetAdaptersAddresses(
                u32::from(AF_UNSPEC),
                GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST,
                std::ptr::null(),
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        match rc {
            0 => return Ok(walk_adapters(&buf, names, dns)),
            ERROR_NO_DATA => return Ok(Vec::new()),
            ERROR_BUFFER_OVERFLOW => size = len.max(size),
            other => return Err(win32_error(other)),
        }
    }
    Err(io::Error::other("the adapter list kept growing"))
}

/// The bytes of a `SOCKET_ADDRESS`.
///
/// # Safety
///
/// `sa` was filled by `GetAdaptersAddresses` in a buffer that is still
/// alive: `lpSockaddr` points to `iSockaddrLength` bytes inside it.
unsafe fn socket_address(sa: &SOCKET_ADDRESS) -> Option<SocketAddress> {
    let len = usize::try_from(sa.iSockaddrLength).ok()?;
    if sa.lpSockaddr.is_null() || len == 0 {
        return None;
    }
    // SAFETY: per this function's contract.
    parse_sockaddr(unsafe { std::slice::from_raw_parts(sa.lpSockaddr.cast::<u8>(), len) })
}

fn walk_adapters(
    buf: &AlignedBuffer,
    names: &mut HashMap<u32, String>,
    dns: &mut DnsConfig,
) -> Vec<InterfaceRecord> {
    let mut records = Vec::new();
    let mut next = buf.as_ptr().cast::<IP_ADAPTER_ADDRESSES_LH>();
    while !next.is_null() {
        // SAFETY: the function succeeded, so the buffer starts with a linked
        // list of IP_ADAPTER_ADDRESSES_LH whose `Next` pointers (and every
        // pointer in them) point inside `buf`, alive for this function.
        let a = unsafe { &*next };
        next = a.Next;

        // SAFETY: the union's index view is what the function fills.
        let v4_index = unsafe { a.Anonymous1.Anonymous.IfIndex };
        let index = if v4_index != 0 {
            v4_index
        } else {
            a.Ipv6IfIndex
        };
        // SAFETY: NUL-terminated strings inside `buf` (or null).
        let name = unsafe { wide_string(a.FriendlyName) };
        // SAFETY: as above.
        let description = unsafe { wide_string(a.Description) };
        names.insert(index, name.clone());
        if a.Ipv6IfIndex != 0 {
            names.entry(a.Ipv6IfIndex).or_insert_with(|| name.clone());
        }

        let mut addresses = Vec::new();
        let mut ua = a.FirstUnicastAddress;
        while !ua.is_null() {
            // SAFETY: list node inside `buf` (see above).
            let u = unsafe { &*ua };
            ua = u.Next;
            // SAFETY: `u.Address` was filled by the same call.
            if let Some(sa) = unsafe { socket_address(&u.Address) } {
                addresses.push(InterfaceAddress {
                    family: family_name(&sa.ip).into(),
                    addr: sa.ip.to_string(),
                    prefix_len: u.OnLinkPrefixLength,
                    scope: Some(address_scope(&sa.ip).into()),
                });
            }
        }

        let mut ds = a.FirstDnsServerAddress;
        while !ds.is_null() {
            // SAFETY: list node inside `buf`.
            let d = unsafe { &*ds };
            ds = d.Next;
            // SAFETY: `d.Address` was filled by the same call.
            if let Some(sa) = unsafe { socket_address(&d.Address) } {
                push_unique(&mut dns.nameservers, dns_server_text(sa));
            }
        }
        // SAFETY: NUL-terminated string inside `buf` (or null).
        let suffix = unsafe { wide_string(a.DnsSuffix) };
        if !suffix.is_empty() {
            push_unique(&mut dns.search, suffix);
        }
        let mut sx = a.FirstDnsSuffix;
        while !sx.is_null() {
            // SAFETY: list node inside `buf`.
            let s = unsafe { &*sx };
            sx = s.Next;
            let text = utf16_lossless(until_nul(&s.String));
            if !text.is_empty() {
                push_unique(&mut dns.search, text);
            }
        }

        let mac_len = (a.PhysicalAddressLength as usize).min(a.PhysicalAddress.len());
        records.push(InterfaceRecord {
            netns: None,
            name,
            index,
            mac: mac_string(&a.PhysicalAddress[..mac_len]),
            // SAFETY: the union's flags view is what the function fills.
            flags: interface_flags(a.IfType, a.OperStatus, unsafe { a.Anonymous2.Flags }),
            mtu: Some(a.Mtu),
            addresses,
            description: (!description.is_empty()).then_some(description),
        });
    }
    records
}

/// A DNS server address; an IPv6 link-local one keeps its scope.
fn dns_server_text(sa: SocketAddress) -> String {
    match sa.ip {
        IpAddr::V6(_) if sa.scope_id != 0 && address_scope(&sa.ip) == "link" => {
            format!("{}%{}", sa.ip, sa.scope_id)
        }
        ip => ip.to_string(),
    }
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}
