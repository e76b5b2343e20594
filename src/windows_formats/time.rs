//! FILETIME values: 100-nanosecond intervals since 1601-01-01 00:00 UTC
//! (`GetProcessTimes`, `WTSINFOW.LogonTime`, the servicing stack's
//! `InstallTimeHigh`/`InstallTimeLow`).

use jiff::{SignedDuration, Timestamp};

/// 1970-01-01 00:00 UTC as a FILETIME.
pub const UNIX_EPOCH_AS_FILETIME: u64 = 116_444_736_000_000_000;

/// Converts a FILETIME to a timestamp. Zero is how the API says "never" or
/// "not set" (a session nobody logged on to), so it gives `None`, as does a
/// value outside the range a timestamp can hold.
pub fn filetime_to_timestamp(filetime: u64) -> Option<Timestamp> {
    if filetime == 0 {
        return None;
    }
    let since_unix = i128::from(filetime) - i128::from(UNIX_EPOCH_AS_FILETIME);
    Timestamp::from_nanosecond(since_unix * 100).ok()
}

/// Joins the two halves of a FILETIME as the registry and `FILETIME`
/// struct store them.
pub fn filetime_from_parts(high: u32, low: u32) -> u64 {
    (u64::from(high) << 32) | u64::from(low)
}

/// Boot time from the current time and the milliseconds since boot
/// (`GetTickCount64`).
pub fn boot_time(now: Timestamp, millis_since_boot: u64) -> Option<Timestamp> {
    let up = SignedDuration::from_millis(i64::try_from(millis_since_boot).ok()?);
    now.checked_sub(up).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetimes_convert_to_utc() {
        assert_eq!(
            filetime_to_timestamp(UNIX_EPOCH_AS_FILETIME),
            Some(Timestamp::UNIX_EPOCH)
        );
        // 2024-01-02T03:04:05.5Z, computed independently:
        // (1704164645 s * 10^7 + 5 * 10^6) + epoch offset.
        let ft = 1_704_164_645 * 10_000_000 + 5_000_000 + UNIX_EPOCH_AS_FILETIME;
        assert_eq!(
            filetime_to_timestamp(ft).unwrap().to_string(),
            "2024-01-02T03:04:05.5Z"
        );
        // Before 1970 is still a valid time.
        assert_eq!(
            filetime_to_timestamp(1).unwrap().to_string(),
            "1601-01-01T00:00:00.0000001Z"
        );
    }

    #[test]
    fn zero_means_not_set() {
        assert_eq!(filetime_to_timestamp(0), None);
    }

    #[test]
    fn out_of_range_is_none() {
        assert_eq!(filetime_to_timestamp(u64::MAX), None);
    }

    #[test]
    fn halves_join() {
        assert_eq!(
            filetime_from_parts(0x01d9_0000, 0x8000_0001),
            0x01d9_0000_8000_0001
        );
    }

    #[test]
    fn boot_time_is_now_minus_uptime() {
        let now: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            boot_time(now, 3_600_000).unwrap().to_string(),
            "2024-05-01T11:00:00Z"
        );
        assert_eq!(boot_time(now, u64::MAX), None);
    }
}
