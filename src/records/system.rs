//! `system.json` (identity and patch level of the host) and
//! `packages.jsonl` (installed packages: the Linux answer to the Windows
//! hotfix list).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The `system.json` file name.
pub const FILE: &str = "system.json";
/// The `packages.jsonl` file name.
pub const PACKAGES_FILE: &str = "packages.jsonl";

/// `/etc/os-release` fields (or the Windows version).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID` (`debian`).
    pub id: Option<String>,
    /// `NAME`.
    pub name: Option<String>,
    /// `VERSION_ID`.
    pub version_id: Option<String>,
    /// `VERSION`.
    pub version: Option<String>,
    /// `VERSION_CODENAME`.
    pub codename: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// Build number (Windows).
    #[serde(default)]
    pub build: Option<String>,
}

/// The running kernel.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Kernel {
    /// `uname -r`.
    pub release: String,
    /// `uname -v`.
    pub version: String,
    /// `uname -m`.
    pub arch: String,
}

/// CPU and memory totals.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Hardware {
    /// CPU model name.
    pub cpu_model: Option<String>,
    /// Logical CPUs.
    pub logical_cpus: Option<u32>,
    /// Total memory in bytes.
    pub memory_total_bytes: Option<u64>,
}

/// What the installed packages say about patch level.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PackagesSummary {
    /// Package managers whose database was read (`dpkg`, `apk`, ...).
    pub managers: Vec<String>,
    /// Installed packages counted.
    pub count: u64,
    /// Installed kernel image packages (name and version).
    pub kernel_packages: Vec<String>,
    /// The package that ships the running kernel, if one does.
    pub running_kernel_package: Option<String>,
    /// True when a newer kernel is installed than the one running (a reboot
    /// is pending, so the running kernel lacks installed fixes).
    pub newer_kernel_installed: Option<bool>,
}

/// The whole `system.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SystemInfo {
    /// Host name.
    pub hostname: String,
    /// NIS/YP domain name from the kernel, or the Windows domain/workgroup.
    pub domain_name: Option<String>,
    /// Operating system release.
    pub os: OsRelease,
    /// Running kernel.
    pub kernel: Kernel,
    /// When the host booted.
    pub boot_time: Option<Timestamp>,
    /// Seconds since boot.
    pub uptime_seconds: Option<f64>,
    /// Time zone name.
    pub timezone: Option<String>,
    /// UTC offset at capture (`+01:00`).
    pub utc_offset: Option<String>,
    /// Machine id.
    pub machine_id: Option<String>,
    /// Boot id.
    pub boot_id: Option<String>,
    /// Virtualisation and container hints, each `source: value`
    /// (`dmi: QEMU`, `cpuinfo: hypervisor flag`, `file: /.dockerenv`).
    pub virtualization: Vec<String>,
    /// CPU and memory.
    pub hardware: Hardware,
    /// Patch level from the package databases.
    pub packages: PackagesSummary,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// `dpkg`, `apk`, `rpm`, `windows-hotfix`.
    pub manager: String,
    /// Package name (or hotfix id).
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Architecture.
    pub arch: Option<String>,
    /// Install or last-change time, where the database gives one.
    pub install_time: Option<Timestamp>,
    /// Package state (`install ok installed`, ...).
    pub status: Option<String>,
}
