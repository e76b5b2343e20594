//! Security identifiers in their binary form (MS-DTYP 2.4.2.2) turned into
//! the `S-1-5-32-544` text form.
//!
//! Written by hand rather than calling `ConvertSidToStringSidW`: the layout
//! is a documented wire format, the conversion is a dozen lines, and doing
//! it here means it is tested on every platform and needs no `LocalFree`.

/// The well-known SID of the local Administrators group (BUILTIN).
pub const ADMINISTRATORS: &str = "S-1-5-32-544";

/// Length in bytes of the binary SID that starts `bytes`, from its header
/// (8 bytes + 4 per sub-authority); `None` when the header is cut short.
pub fn sid_len(bytes: &[u8]) -> Option<usize> {
    let count = usize::from(*bytes.get(1)?);
    Some(8 + 4 * count)
}

/// Formats a binary SID: revision, sub-authority count, a 48-bit
/// big-endian identifier authority, then little-endian 32-bit
/// sub-authorities. The authority is decimal when it fits in 32 bits and
/// hexadecimal (`0x...`) otherwise, as Windows writes it. `None` for
/// anything that is not a well-formed revision-1 SID of exactly that
/// length.
pub fn format_sid(bytes: &[u8]) -> Option<String> {
    let (&revision, rest) = bytes.split_first()?;
    let (&count, rest) = rest.split_first()?;
    if revision != 1 || count > 15 || bytes.len() != 8 + 4 * usize::from(count) {
        return None;
    }
    let (authority, subs) = rest.split_at(6);
    let authority = authority
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let mut s = if authority >> 32 == 0 {
        format!("S-1-{authority}")
    } else {
        format!("S-1-0x{authority:012X}")
    };
    for chunk in subs.chunks_exact(4) {
        let sub = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        s.push('-');
        s.push_str(&sub.to_string());
    }
    Some(s)
}

/// The relative identifier (last sub-authority) of a SID in text form.
pub fn rid(sid: &str) -> Option<u32> {
    sid.rsplit('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BUILTIN\Administrators as `CreateWellKnownSid` writes it.
    const ADMINS_BIN: [u8; 16] = [
        1, 2, 0, 0, 0, 0, 0, 5, // revision 1, 2 sub-authorities, NT authority
        32, 0, 0, 0, // SECURITY_BUILTIN_DOMAIN_RID
        0x20, 0x02, 0, 0, // DOMAIN_ALIAS_RID_ADMINS = 544
    ];

    #[test]
    fn administrators_group() {
        assert_eq!(format_sid(&ADMINS_BIN).as_deref(), Some(ADMINISTRATORS));
        assert_eq!(sid_len(&ADMINS_BIN), Some(16));
        assert_eq!(rid(ADMINISTRATORS), Some(544));
    }

    #[test]
    fn local_account_with_domain_part() {
        let mut b = vec![1, 5, 0, 0, 0, 0, 0, 5];
        for sub in [21u32, 1_004_336_348, 1_177_238_915, 682_003_330, 500] {
            b.extend_from_slice(&sub.to_le_bytes());
        }
        assert_eq!(
            format_sid(&b).as_deref(),
            Some("S-1-5-21-1004336348-1177238915-682003330-500")
        );
        assert_eq!(
            rid("S-1-5-21-1004336348-1177238915-682003330-500"),
            Some(500)
        );
    }

    #[test]
    fn everyone_has_no_domain() {
        assert_eq!(
            format_sid(&[1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]).as_deref(),
            Some("S-1-1-0")
        );
    }

    #[test]
    fn wide_authority_is_hex() {
        let b = [1, 1, 0x12, 0x34, 0, 0, 0, 1, 7, 0, 0, 0];
        assert_eq!(format_sid(&b).as_deref(), Some("S-1-0x123400000001-7"));
    }

    #[test]
    fn malformed_sids_are_refused() {
        assert_eq!(format_sid(&[]), None);
        assert_eq!(format_sid(&[1]), None);
        assert_eq!(format_sid(&ADMINS_BIN[..15]), None, "cut short");
        let mut longer = ADMINS_BIN.to_vec();
        longer.push(0);
        assert_eq!(format_sid(&longer), None, "trailing byte");
        let mut rev2 = ADMINS_BIN;
        rev2[0] = 2;
        assert_eq!(format_sid(&rev2), None, "unknown revision");
        assert_eq!(sid_len(&[1]), None);
    }
}
