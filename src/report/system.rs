//! The "System information" section: the classic script's `systeminfo`
//! (OS, kernel, boot, hardware, a summary of the installed packages), and
//! on Windows its list of installed hotfixes from `packages.jsonl`.

use super::table::Table;
use super::ReportWriter;
use crate::bundle::BundleFiles;
use crate::records::system::{Package, SystemInfo, FILE, PACKAGES_FILE};

/// Hotfix rows shown before the rest are counted.
const HOTFIX_ROWS: usize = 200;

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("System information");
    let Some(s) = r.document::<SystemInfo>(bundle, FILE) else {
        r.not_collected(FILE);
        return;
    };
    r.field("Host name", &s.hostname);
    r.field("Domain", s.domain_name.as_deref().unwrap_or("-"));
    let os =
        s.os.pretty_name
            .clone()
            .or(s.os.name.clone())
            .unwrap_or_else(|| "unknown".into());
    r.field("OS", &os);
    if let Some(build) = &s.os.build {
        r.field("OS build", build);
    }
    r.field(
        "Kernel",
        &format!("{} {}", s.kernel.release, s.kernel.version),
    );
    r.field("Architecture", &s.kernel.arch);
    r.field(
        "Boot time (UTC)",
        &s.boot_time
            .map(|t| t.to_string())
            .unwrap_or_else(|| "unknown".into()),
    );
    if let Some(up) = s.uptime_seconds {
        let secs = up as u64;
        r.field(
            "Uptime",
            &format!(
                "{}d {:02}h {:02}m",
                secs / 86400,
                secs % 86400 / 3600,
                secs % 3600 / 60
            ),
        );
    }
    r.field(
        "Time zone",
        &format!(
            "{} (UTC{})",
            s.timezone.as_deref().unwrap_or("unknown"),
            s.utc_offset.as_deref().unwrap_or("?")
        ),
    );
    r.field("Machine id", s.machine_id.as_deref().unwrap_or("-"));
    r.field("Boot id", s.boot_id.as_deref().unwrap_or("-"));
    let virt = if s.virtualization.is_empty() {
        "none seen".to_owned()
    } else {
        s.virtualization.join("; ")
    };
    r.field("Virtualisation hints", &virt);
    let cpu = format!(
        "{} x {}",
        s.hardware
            .logical_cpus
            .map(|n| n.to_string())
            .unwrap_or_else(|| "?".into()),
        s.hardware.cpu_model.as_deref().unwrap_or("unknown CPU")
    );
    r.field("CPU", &cpu);
    if let Some(mem) = s.hardware.memory_total_bytes {
        r.field(
            "Memory",
            &format!("{:.1} GiB", mem as f64 / (1u64 << 30) as f64),
        );
    }
    let p = &s.packages;
    r.field(
        "Packages",
        &format!(
            "{} installed ({})",
            p.count,
            if p.managers.is_empty() {
                "no database read".into()
            } else {
                p.managers.join(", ")
            }
        ),
    );
    if !p.kernel_packages.is_empty() {
        r.field("Kernel packages", &p.kernel_packages.join(", "));
        let running = p
            .running_kernel_package
            .as_deref()
            .unwrap_or("none: running kernel not from a package");
        r.field("Running kernel package", running);
        if p.newer_kernel_installed == Some(true) {
            r.field(
                "Reboot pending",
                "a newer kernel is installed than the one running",
            );
        }
    }
    hotfixes(r, bundle);
}

/// The Windows hotfixes (`systeminfo`'s list), newest first.
fn hotfixes(r: &mut ReportWriter, bundle: &BundleFiles) {
    let Some(packages) = r.records::<Package>(bundle, PACKAGES_FILE) else {
        return;
    };
    let mut fixes: Vec<&Package> = packages
        .iter()
        .filter(|p| p.manager == "windows-hotfix")
        .collect();
    if fixes.is_empty() {
        return;
    }
    fixes.sort_by(|a, b| {
        (b.install_time, &b.name, &b.version).cmp(&(a.install_time, &a.name, &a.version))
    });
    r.line("");
    r.line(&format!("  Hotfixes ({}):", fixes.len()));
    let mut t = Table::new(&[
        ("UPDATE", 16),
        ("STATUS", 20),
        ("INSTALLED (UTC)", 19),
        ("VERSION", 30),
    ]);
    for p in fixes.iter().take(HOTFIX_ROWS) {
        t.row(&[
            p.name.as_str(),
            p.status.as_deref().unwrap_or("-"),
            &p.install_time
                .map_or("-".into(), |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string()),
            p.version.as_deref().unwrap_or("-"),
        ]);
    }
    r.table(&t);
    if fixes.len() > HOTFIX_ROWS {
        r.line(&format!(
            "  {} more in {PACKAGES_FILE}",
            fixes.len() - HOTFIX_ROWS
        ));
    }
}
