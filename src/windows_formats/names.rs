//! Names for the enumeration values the IP Helper and WTS APIs return, in
//! the vocabulary of the bundle.

/// `NL_NEIGHBOR_STATE` (netioapi.h) as the bundle's neighbour states:
/// `NlnsUnreachable` (0) is `FAILED` as on Linux; the rest keep their
/// meaning (`INCOMPLETE`, `PROBE`, `DELAY`, `STALE`, `REACHABLE`,
/// `PERMANENT`).
pub fn neighbor_state(state: i32) -> String {
    let name = match state {
        0 => "FAILED",
        1 => "INCOMPLETE",
        2 => "PROBE",
        3 => "DELAY",
        4 => "STALE",
        5 => "REACHABLE",
        6 => "PERMANENT",
        other => return format!("UNKNOWN({other})"),
    };
    name.to_owned()
}

/// `NL_ROUTE_PROTOCOL` / `MIB_IPFORWARD_PROTO` values (who installed a
/// route), lowercased without their prefix: `local` (the stack itself),
/// `netmgmt` (`route add`, static configuration), `dhcp`, `rip`, ...; the
/// Windows-specific static kinds are `nt-static`, `nt-autostatic`,
/// `nt-static-non-dod`; anything else is its number.
pub fn route_protocol(protocol: i32) -> String {
    let name = match protocol {
        1 => "other",
        2 => "local",
        3 => "netmgmt",
        4 => "icmp",
        5 => "egp",
        6 => "ggp",
        7 => "hello",
        8 => "rip",
        9 => "is-is",
        10 => "es-is",
        11 => "cisco",
        12 => "bbn",
        13 => "ospf",
        14 => "bgp",
        15 => "idpr",
        16 => "eigrp",
        17 => "dvmrp",
        18 => "rpl",
        19 => "dhcp",
        10002 => "nt-autostatic",
        10006 => "nt-static",
        10007 => "nt-static-non-dod",
        other => return other.to_string(),
    };
    name.to_owned()
}

/// `IF_TYPE_SOFTWARE_LOOPBACK`.
pub const IF_TYPE_SOFTWARE_LOOPBACK: u32 = 24;
/// `IfOperStatusUp`.
pub const IF_OPER_STATUS_UP: i32 = 1;

/// Interface flags in the bundle's vocabulary from what
/// `IP_ADAPTER_ADDRESSES` says: `UP` when the operational status is up,
/// `LOOPBACK` for the software loopback type, `DHCP` when DHCPv4 is enabled
/// (flag 0x4), `RECEIVE_ONLY` (0x8), `NOMULTICAST` (0x10).
pub fn interface_flags(if_type: u32, oper_status: i32, adapter_flags: u32) -> Vec<String> {
    let mut flags = Vec::new();
    if oper_status == IF_OPER_STATUS_UP {
        flags.push("UP".to_owned());
    }
    if if_type == IF_TYPE_SOFTWARE_LOOPBACK {
        flags.push("LOOPBACK".to_owned());
    }
    for (bit, name) in [(0x4, "DHCP"), (0x8, "RECEIVE_ONLY"), (0x10, "NOMULTICAST")] {
        if adapter_flags & bit != 0 {
            flags.push(name.to_owned());
        }
    }
    flags
}

/// `WTS_CONNECTSTATE_CLASS` without its `WTS` prefix: `Active`,
/// `Connected`, `ConnectQuery`, `Shadow`, `Disconnected`, `Idle`,
/// `Listen`, `Reset`, `Down`, `Init`.
pub fn wts_state(state: i32) -> String {
    let name = match state {
        0 => "Active",
        1 => "Connected",
        2 => "ConnectQuery",
        3 => "Shadow",
        4 => "Disconnected",
        5 => "Idle",
        6 => "Listen",
        7 => "Reset",
        8 => "Down",
        9 => "Init",
        other => return format!("Unknown({other})"),
    };
    name.to_owned()
}

/// `SID_NAME_USE` values, for gaps and logs about group members.
pub fn sid_name_use(usage: i32) -> &'static str {
    match usage {
        1 => "user",
        2 => "group",
        3 => "domain",
        4 => "alias",
        5 => "well-known group",
        6 => "deleted account",
        7 => "invalid",
        8 => "unknown",
        9 => "computer",
        10 => "label",
        11 => "logon session",
        _ => "other",
    }
}

/// The CPU architecture name of `SYSTEM_INFO.wProcessorArchitecture`, as
/// `uname -m` spells it on Linux.
pub fn processor_architecture(arch: u16) -> String {
    let name = match arch {
        0 => "x86",
        5 => "arm",
        6 => "ia64",
        9 => "x86_64",
        12 => "aarch64",
        other => return format!("unknown({other})"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbour_states() {
        assert_eq!(neighbor_state(0), "FAILED");
        assert_eq!(neighbor_state(5), "REACHABLE");
        assert_eq!(neighbor_state(6), "PERMANENT");
        assert_eq!(neighbor_state(9), "UNKNOWN(9)");
    }

    #[test]
    fn route_protocols() {
        assert_eq!(route_protocol(2), "local");
        assert_eq!(route_protocol(3), "netmgmt");
        assert_eq!(route_protocol(10002), "nt-autostatic");
        assert_eq!(route_protocol(4242), "4242");
    }

    #[test]
    fn interface_flag_bits() {
        assert_eq!(
            interface_flags(IF_TYPE_SOFTWARE_LOOPBACK, IF_OPER_STATUS_UP, 0),
            vec!["UP", "LOOPBACK"]
        );
        assert_eq!(interface_flags(6, 2, 0x4 | 0x100), vec!["DHCP"]);
    }

    #[test]
    fn session_states_and_sid_uses() {
        assert_eq!(wts_state(0), "Active");
        assert_eq!(wts_state(4), "Disconnected");
        assert_eq!(wts_state(42), "Unknown(42)");
        assert_eq!(sid_name_use(6), "deleted account");
        assert_eq!(processor_architecture(9), "x86_64");
        assert_eq!(processor_architecture(12), "aarch64");
    }
}
