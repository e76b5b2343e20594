//! Linux system identity from `uname(2)`, `/proc` and `/sys`, and patch
//! level from the package databases (dpkg, apk) read as files.
//!
//! Limitation: rpm keeps its database in SQLite (or Berkeley DB on older
//! releases); it is recorded as a gap rather than parsed.

use std::path::Path;

use jiff::Timestamp;

use super::parse;
use crate::collector::{CollectError, Context, Output};
use crate::host;
use crate::records::system::{
    Hardware, Kernel, Package, PackagesSummary, SystemInfo, FILE, PACKAGES_FILE,
};

pub(super) fn collect(ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let identity = host::identity();
    let uts = rustix::system::uname();
    let lossy = |c: &std::ffi::CStr| String::from_utf8_lossy(c.to_bytes()).into_owned();
    let kernel = Kernel {
        release: lossy(uts.release()),
        version: lossy(uts.version()),
        arch: lossy(uts.machine()),
    };
    let domain = lossy(uts.domainname());
    let now = Timestamp::now();
    let (tz, tz_info) = host::timezone_at(now);
    let _ = tz;

    let mut info = SystemInfo {
        hostname: identity.hostname,
        domain_name: (!domain.is_empty() && domain != "(none)").then_some(domain),
        kernel,
        timezone: tz_info.name,
        utc_offset: Some(tz_info.utc_offset),
        machine_id: identity.machine_id,
        boot_id: identity.boot_id,
        ..SystemInfo::default()
    };
    if info.machine_id.is_none() {
        out.gap("/etc/machine-id", "absent or empty");
    }

    match read_text(ctx, &ctx.host_path("/etc/os-release"))
        .or_else(|_| read_text(ctx, &ctx.host_path("/usr/lib/os-release")))
    {
        Ok(text) => info.os = parse::parse_os_release(&text),
        Err(e) => out.gap("/etc/os-release", e),
    }
    match std::fs::read_to_string("/proc/stat") {
        Ok(text) => match parse::parse_stat_btime(&text) {
            Some(secs) => info.boot_time = Timestamp::from_second(secs).ok(),
            None => out.gap("/proc/stat", "no btime line"),
        },
        Err(e) => out.gap("/proc/stat", e),
    }
    match std::fs::read_to_string("/proc/uptime") {
        Ok(text) => {
            info.uptime_seconds = text.split_whitespace().next().and_then(|v| v.parse().ok())
        }
        Err(e) => out.gap("/proc/uptime", e),
    }
    info.hardware = hardware(out);
    info.virtualization = virtualization_hints(ctx);

    let packages = packages(ctx, out);
    let (kernel_packages, running, newer) = parse::kernel_packages(&packages, &info.kernel.release);
    let mut managers: Vec<String> = packages.iter().map(|p| p.manager.clone()).collect();
    managers.dedup();
    info.packages = PackagesSummary {
        managers,
        count: packages.len() as u64,
        kernel_packages,
        running_kernel_package: running,
        newer_kernel_installed: newer,
    };
    out.document(FILE, &info);
    for p in &packages {
        out.record(PACKAGES_FILE, p);
    }
    Ok(())
}

fn read_text(_ctx: &Context, path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn hardware(out: &mut Output) -> Hardware {
    let mut hw = Hardware::default();
    match std::fs::read_to_string("/proc/cpuinfo") {
        Ok(text) => {
            let (model, count, _) = parse::parse_cpuinfo(&text);
            hw.cpu_model = model;
            hw.logical_cpus = (count > 0).then_some(count);
        }
        Err(e) => out.gap("/proc/cpuinfo", e),
    }
    match std::fs::read_to_string("/proc/meminfo") {
        Ok(text) => hw.memory_total_bytes = parse::parse_meminfo_total(&text),
        Err(e) => out.gap("/proc/meminfo", e),
    }
    hw
}

/// Cheap hints, each naming its source; never conclusive on its own.
fn virtualization_hints(ctx: &Context) -> Vec<String> {
    let mut hints = Vec::new();
    for (file, label) in [
        ("/sys/class/dmi/id/sys_vendor", "dmi vendor"),
        ("/sys/class/dmi/id/product_name", "dmi product"),
    ] {
        if let Ok(v) = std::fs::read_to_string(file) {
            let v = v.trim();
            let known = [
                "QEMU",
                "KVM",
                "VMware",
                "VirtualBox",
                "Xen",
                "Microsoft Corporation",
                "Amazon EC2",
                "Google",
                "innotek",
                "Firecracker",
                "Bochs",
            ];
            if known.iter().any(|k| v.contains(k)) {
                hints.push(format!("{label}: {v}"));
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string("/proc/cpuinfo") {
        if parse::parse_cpuinfo(&text).2 {
            hints.push("cpuinfo: hypervisor flag".into());
        }
    }
    for marker in ["/.dockerenv", "/run/.containerenv"] {
        if ctx.host_path(marker).exists() {
            hints.push(format!("file: {marker}"));
        }
    }
    if let Ok(text) = std::fs::read_to_string("/proc/1/environ") {
        if let Some(c) = text
            .split('\0')
            .find_map(|kv| kv.strip_prefix("container="))
        {
            hints.push(format!("pid 1 environment: container={c}"));
        }
    }
    if std::fs::metadata("/proc/xen").is_ok() {
        hints.push("file: /proc/xen".into());
    }
    hints
}

fn packages(ctx: &Context, out: &mut Output) -> Vec<Package> {
    let mut all = Vec::new();
    let dpkg_status = ctx.host_path("/var/lib/dpkg/status");
    match std::fs::read_to_string(&dpkg_status) {
        Ok(text) => {
            let info_dir = ctx.host_path("/var/lib/dpkg/info");
            let mut pkgs = parse::parse_dpkg_status(&text);
            for p in &mut pkgs {
                p.install_time = dpkg_list_mtime(&info_dir, p);
            }
            all.extend(pkgs);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => out.gap(dpkg_status.display().to_string(), e),
    }
    let apk = ctx.host_path("/lib/apk/db/installed");
    match std::fs::read_to_string(&apk) {
        Ok(text) => all.extend(parse::parse_apk_installed(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => out.gap(apk.display().to_string(), e),
    }
    for rpmdb in [
        "/var/lib/rpm/rpmdb.sqlite",
        "/var/lib/rpm/Packages",
        "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    ] {
        if ctx.host_path(rpmdb).exists() {
            out.gap(
                rpmdb,
                "rpm database present but not parsed (SQLite/Berkeley DB format)",
            );
        }
    }
    all
}

/// dpkg writes `info/<name>.list` (or `<name>:<arch>.list` for multi-arch
/// packages) when it unpacks a package: its mtime is the install or
/// upgrade time.
fn dpkg_list_mtime(info_dir: &Path, p: &Package) -> Option<Timestamp> {
    let candidates = [
        info_dir.join(format!("{}.list", p.name)),
        info_dir.join(format!(
            "{}:{}.list",
            p.name,
            p.arch.as_deref().unwrap_or("")
        )),
    ];
    candidates.iter().find_map(|c| {
        let mtime = std::fs::metadata(c).ok()?.modified().ok()?;
        Timestamp::try_from(mtime).ok()
    })
}
