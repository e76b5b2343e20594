//! Routes (`GetIpForwardTable2`) and the neighbour cache (`GetIpNetTable2`).
//! Both functions allocate their table, which is freed with `FreeMibTable`
//! as documented.

use std::collections::HashMap;
use std::io;

use windows_sys::Win32::NetworkManagement::IpHelper::{
    FreeMibTable, GetIpForwardTable2, GetIpNetTable2, MIB_IPFORWARD_ROW2, MIB_IPFORWARD_TABLE2,
    MIB_IPNET_ROW2, MIB_IPNET_TABLE2,
};
use windows_sys::Win32::Networking::WinSock::{ADDRESS_FAMILY, SOCKADDR_INET};

use crate::records::netconfig::{NeighborRecord, RouteRecord};
use crate::windows_api::win32_error;
use crate::windows_formats::names::{neighbor_state, route_protocol};
use crate::windows_formats::sockaddr::{family_name, is_unspecified, mac_string, parse_sockaddr};

/// A table the IP Helper allocated; freed with `FreeMibTable` on drop.
struct MibTable<T>(*mut T);

impl<T> Drop for MibTable<T> {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: allocated by GetIpForwardTable2/GetIpNetTable2, freed
            // exactly once.
            unsafe { FreeMibTable(self.0.cast()) };
        }
    }
}

/// The bytes of a `SOCKADDR_INET`, for the platform-neutral decoder.
fn sockaddr_bytes(addr: &SOCKADDR_INET) -> &[u8] {
    // SAFETY: SOCKADDR_INET is a plain-data union of SOCKADDR_IN and
    // SOCKADDR_IN6; every one of its bytes is initialised (the system wrote
    // the whole row) and the slice borrows `addr`.
    unsafe {
        std::slice::from_raw_parts(
            (addr as *const SOCKADDR_INET).cast::<u8>(),
            size_of::<SOCKADDR_INET>(),
        )
    }
}

/// Every route of every family.
pub(super) fn routes(
    family: ADDRESS_FAMILY,
    names: &HashMap<u32, String>,
) -> io::Result<Vec<RouteRecord>> {
    let mut raw: *mut MIB_IPFORWARD_TABLE2 = std::ptr::null_mut();
    // SAFETY: the function allocates the table and stores its pointer.
    let rc = unsafe { GetIpForwardTable2(family, &mut raw) };
    if rc != 0 {
        return Err(win32_error(rc));
    }
    let table = MibTable(raw);
    if table.0.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: on success the table holds `NumEntries` rows starting at
    // `Table`; it stays alive until `table` drops at the end.
    let rows: &[MIB_IPFORWARD_ROW2] = unsafe {
        std::slice::from_raw_parts(
            std::ptr::addr_of!((*table.0).Table).cast::<MIB_IPFORWARD_ROW2>(),
            (*table.0).NumEntries as usize,
        )
    };
    Ok(rows
        .iter()
        .filter_map(|row| {
            let dest = parse_sockaddr(sockaddr_bytes(&row.DestinationPrefix.Prefix))?;
            let gateway = parse_sockaddr(sockaddr_bytes(&row.NextHop))
                .filter(|g| !is_unspecified(&g.ip))
                .map(|g| g.ip.to_string());
            Some(RouteRecord {
                netns: None,
                family: family_name(&dest.ip).into(),
                destination: dest.ip.to_string(),
                prefix_len: row.DestinationPrefix.PrefixLength,
                gateway,
                interface: Some(
                    names
                        .get(&row.InterfaceIndex)
                        .cloned()
                        .unwrap_or_else(|| format!("if{}", row.InterfaceIndex)),
                ),
                metric: Some(row.Metric),
                table: None,
                kind: Some(route_protocol(row.Protocol)),
                source: None,
            })
        })
        .collect())
}

/// The neighbour cache of one family.
pub(super) fn neighbors(
    family: ADDRESS_FAMILY,
    names: &HashMap<u32, String>,
) -> io::Result<Vec<NeighborRecord>> {
    let mut raw: *mut MIB_IPNET_TABLE2 = std::ptr::null_mut();
    // SAFETY: the function allocates the table and stores its pointer.
    let rc = unsafe { GetIpNetTable2(family, &mut raw) };
    if rc != 0 {
        return Err(win32_error(rc));
    }
    let table = MibTable(raw);
    if table.0.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: on success the table holds `NumEntries` rows starting at
    // `Table`; it stays alive until `table` drops at the end.
    let rows: &[MIB_IPNET_ROW2] = unsafe {
        std::slice::from_raw_parts(
            std::ptr::addr_of!((*table.0).Table).cast::<MIB_IPNET_ROW2>(),
            (*table.0).NumEntries as usize,
        )
    };
    Ok(rows
        .iter()
        .filter_map(|row| {
            let ip = parse_sockaddr(sockaddr_bytes(&row.Address))?.ip;
            let len = (row.PhysicalAddressLength as usize).min(row.PhysicalAddress.len());
            Some(NeighborRecord {
                netns: None,
                family: family_name(&ip).into(),
                ip: ip.to_string(),
                mac: mac_string(&row.PhysicalAddress[..len]),
                state: neighbor_state(row.State),
                interface: names.get(&row.InterfaceIndex).cloned(),
            })
        })
        .collect())
}
