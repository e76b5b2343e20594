//! Windows system identity and patch level, without `systeminfo`:
//!
//! - version from `RtlGetVersion` (ntdll; unlike `GetVersionEx` it is not
//!   subject to compatibility shims), product name, display version and
//!   update build revision (UBR) from
//!   `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`;
//! - host name (`GetComputerNameExW`) and domain or workgroup
//!   (`NetGetJoinInformation`);
//! - boot time as now minus `GetTickCount64`;
//! - time zone: the IANA name where one maps, else the Windows zone key
//!   (`GetDynamicTimeZoneInformation`);
//! - machine GUID, CPU and memory (`GetActiveProcessorCount`,
//!   `GlobalMemoryStatusEx`, the processor name in
//!   `HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor\0`), and the BIOS
//!   vendor strings as virtualisation hints;
//! - installed updates (the `systeminfo` hotfix list) into `packages.jsonl`
//!   with manager `windows-hotfix` (see `windows/hotfixes.rs`).
//!
//! Limitation: Windows 11 still writes "Windows 10" in `ProductName`; the
//! build number (22000 and later is Windows 11) is the reliable part, and
//! both are kept as read. With Fast Startup, the boot time is that of the
//! last full start, since a "shut down" then hibernates the kernel.

#[path = "windows/hotfixes.rs"]
mod hotfixes;

use jiff::Timestamp;
use windows_sys::Wdk::System::SystemServices::RtlGetVersion;
use windows_sys::Win32::NetworkManagement::NetManagement::{
    NetGetJoinInformation, NetSetupDomainName, NetSetupWorkgroupName, NETSETUP_JOIN_STATUS,
};
use windows_sys::Win32::System::SystemInformation::{
    GetNativeSystemInfo, GetTickCount64, GlobalMemoryStatusEx, MEMORYSTATUSEX, OSVERSIONINFOEXW,
    SYSTEM_INFO,
};
use windows_sys::Win32::System::Threading::{GetActiveProcessorCount, ALL_PROCESSOR_GROUPS};
use windows_sys::Win32::System::Time::{
    GetDynamicTimeZoneInformation, DYNAMIC_TIME_ZONE_INFORMATION,
};

use crate::collector::{CollectError, Context, Output};
use crate::host;
use crate::records::system::{
    Hardware, Kernel, OsRelease, PackagesSummary, SystemInfo, FILE, PACKAGES_FILE,
};
use crate::windows_api::netapi::NetBuffer;
use crate::windows_api::registry::RegKey;
use crate::windows_api::{last_error, wide_string, win32_error};
use crate::windows_formats::hotfixes::MANAGER;
use crate::windows_formats::names::processor_architecture;
use crate::windows_formats::time::boot_time;
use crate::windows_formats::wide::{until_nul, utf16_lossless};

const CURRENT_VERSION: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion";

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let identity = host::identity();
    let now = Timestamp::now();
    let (_, tz_info) = host::timezone_at(now);
    if identity.machine_id.is_none() {
        out.gap(
            r"HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid",
            "absent or unreadable",
        );
    }
    let mut info = SystemInfo {
        hostname: identity.hostname,
        domain_name: join_information(out),
        timezone: tz_info.name.or_else(windows_zone_key),
        utc_offset: Some(tz_info.utc_offset),
        machine_id: identity.machine_id,
        boot_id: None,
        ..SystemInfo::default()
    };

    let (os, kernel) = version(out);
    info.os = os;
    info.kernel = kernel;

    // SAFETY: no arguments; returns milliseconds since boot.
    let up_ms = unsafe { GetTickCount64() };
    info.boot_time = boot_time(now, up_ms);
    info.uptime_seconds = Some(up_ms as f64 / 1000.0);

    info.hardware = hardware(out);
    info.virtualization = virtualization_hints();

    let packages = hotfixes::installed_updates(ctx, out);
    let managers = if packages.is_some() {
        vec![MANAGER.into()]
    } else {
        Vec::new()
    };
    let packages = packages.unwrap_or_default();
    info.packages = PackagesSummary {
        managers,
        count: packages.len() as u64,
        kernel_packages: Vec::new(),
        running_kernel_package: None,
        newer_kernel_installed: None,
    };
    out.document(FILE, &info);
    for p in &packages {
        out.record(PACKAGES_FILE, p);
    }
    Ok(())
}

/// `RtlGetVersion` plus the `CurrentVersion` registry values.
fn version(out: &mut Output) -> (OsRelease, Kernel) {
    // SAFETY: OSVERSIONINFOEXW is plain data; all-zero is valid.
    let mut v: OSVERSIONINFOEXW = unsafe { std::mem::zeroed() };
    v.dwOSVersionInfoSize = size_of::<OSVERSIONINFOEXW>() as u32;
    // SAFETY: the size field announces an OSVERSIONINFOEXW, which the
    // function accepts in place of OSVERSIONINFOW (documented) and fills.
    let status = unsafe { RtlGetVersion((&mut v as *mut OSVERSIONINFOEXW).cast()) };
    let numbers = if status >= 0 {
        Some((v.dwMajorVersion, v.dwMinorVersion, v.dwBuildNumber))
    } else {
        out.gap("RtlGetVersion", format!("NTSTATUS 0x{:08X}", status as u32));
        None
    };

    let mut product = None;
    let mut display = None;
    let mut ubr = None;
    let mut edition = None;
    match RegKey::open_hklm(CURRENT_VERSION) {
        Ok(key) => {
            product = registry_text(&key, CURRENT_VERSION, "ProductName", out);
            display = registry_text(&key, CURRENT_VERSION, "DisplayVersion", out)
                .or_else(|| registry_text(&key, CURRENT_VERSION, "ReleaseId", out));
            edition = registry_text(&key, CURRENT_VERSION, "EditionID", out);
            ubr = key
                .dword("UBR")
                .map_err(|e| out.gap(format!(r"HKLM\{CURRENT_VERSION}\UBR"), e))
                .ok()
                .flatten();
        }
        Err(e) => out.gap(format!(r"HKLM\{CURRENT_VERSION}"), e),
    }

    let build = numbers.map(|(_, _, b)| match ubr {
        Some(u) => format!("{b}.{u}"),
        None => b.to_string(),
    });
    let pretty = product.as_ref().map(|p| {
        let mut s = p.clone();
        if let Some(d) = &display {
            s.push(' ');
            s.push_str(d);
        }
        if let Some(b) = &build {
            s.push_str(&format!(" (build {b})"));
        }
        s
    });
    let os = OsRelease {
        id: Some("windows".into()),
        name: product,
        version_id: numbers.map(|(ma, mi, _)| format!("{ma}.{mi}")),
        version: display,
        codename: edition,
        pretty_name: pretty,
        build: build.clone(),
    };

    // SAFETY: SYSTEM_INFO is plain data; all-zero is valid.
    let mut si: SYSTEM_INFO = unsafe { std::mem::zeroed() };
    // SAFETY: one caller-owned output structure.
    unsafe { GetNativeSystemInfo(&mut si) };
    // SAFETY: the union's architecture view is the one the function sets.
    let arch = unsafe { si.Anonymous.Anonymous.wProcessorArchitecture };
    let kernel = Kernel {
        release: numbers
            .map(|(ma, mi, b)| format!("{ma}.{mi}.{b}"))
            .unwrap_or_default(),
        version: build.map(|b| format!("NT build {b}")).unwrap_or_default(),
        arch: processor_architecture(arch),
    };
    (os, kernel)
}

/// Domain or workgroup name (`NetGetJoinInformation`); the buffer is freed
/// with `NetApiBufferFree` as documented.
fn join_information(out: &mut Output) -> Option<String> {
    let mut buf = NetBuffer::new();
    let mut status: NETSETUP_JOIN_STATUS = 0;
    // SAFETY: a null server means the local computer; the function stores
    // a buffer it allocated (freed by NetBuffer) and the join status.
    let rc = unsafe { NetGetJoinInformation(std::ptr::null(), buf.slot().cast(), &mut status) };
    if rc != 0 {
        out.gap("NetGetJoinInformation", win32_error(rc));
        return None;
    }
    // SAFETY: on success the buffer holds a NUL-terminated name.
    let name = unsafe { wide_string(buf.as_ptr().cast()) };
    let joined = status == NetSetupDomainName || status == NetSetupWorkgroupName;
    (joined && !name.is_empty()).then_some(name)
}

/// A string value; absent is `None`, unreadable is a gap.
fn registry_text(key: &RegKey, path: &str, value: &str, out: &mut Output) -> Option<String> {
    match key.string(value) {
        Ok(units) => units.map(|u| utf16_lossless(&u)),
        Err(e) => {
            out.gap(format!(r"HKLM\{path}\{value}"), e);
            None
        }
    }
}

/// The Windows time zone key (`W. Europe Standard Time`), when jiff maps
/// the zone to no IANA name.
fn windows_zone_key() -> Option<String> {
    // SAFETY: plain data; all-zero is valid.
    let mut tz: DYNAMIC_TIME_ZONE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: one caller-owned output structure of the documented type.
    let rc = unsafe { GetDynamicTimeZoneInformation(&mut tz) };
    if rc == u32::MAX {
        log::debug!("GetDynamicTimeZoneInformation: {}", last_error());
        return None;
    }
    let key = utf16_lossless(until_nul(&tz.TimeZoneKeyName));
    (!key.is_empty()).then_some(key)
}

fn hardware(out: &mut Output) -> Hardware {
    // SAFETY: no pointers; counts processors across all groups.
    let cpus = unsafe { GetActiveProcessorCount(ALL_PROCESSOR_GROUPS) };
    // SAFETY: plain data; all-zero is valid.
    let mut mem: MEMORYSTATUSEX = unsafe { std::mem::zeroed() };
    mem.dwLength = size_of::<MEMORYSTATUSEX>() as u32;
    // SAFETY: `dwLength` is set as the function requires; it fills `mem`.
    let memory = if unsafe { GlobalMemoryStatusEx(&mut mem) } != 0 {
        Some(mem.ullTotalPhys)
    } else {
        out.gap("GlobalMemoryStatusEx", last_error());
        None
    };
    const CPU: &str = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0";
    let cpu_model = match RegKey::open_hklm(CPU) {
        Ok(k) => registry_text(&k, CPU, "ProcessorNameString", out).map(|s| s.trim().to_owned()),
        Err(e) => {
            out.gap(format!(r"HKLM\{CPU}"), e);
            None
        }
    };
    Hardware {
        cpu_model,
        logical_cpus: (cpus > 0).then_some(cpus),
        memory_total_bytes: memory,
    }
}

/// BIOS strings that name a hypervisor; each hint names its source. Hints
/// are never conclusive, so an unreadable key is only logged.
fn virtualization_hints() -> Vec<String> {
    const KNOWN: [&str; 10] = [
        "QEMU",
        "KVM",
        "VMware",
        "VirtualBox",
        "innotek",
        "Xen",
        "Virtual Machine",
        "Amazon EC2",
        "Google Compute Engine",
        "Bochs",
    ];
    let mut hints = Vec::new();
    let key = match RegKey::open_hklm(r"HARDWARE\DESCRIPTION\System\BIOS") {
        Ok(k) => k,
        Err(e) => {
            log::debug!("BIOS key: {e}");
            return hints;
        }
    };
    for value in ["SystemManufacturer", "SystemProductName"] {
        if let Ok(Some(units)) = key.string(value) {
            let v = utf16_lossless(&units);
            if KNOWN.iter().any(|k| v.contains(k)) {
                hints.push(format!("bios {value}: {v}"));
            }
        }
    }
    hints
}
