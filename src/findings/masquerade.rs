//! `masquerade`: a process dressed as something the system runs.
//!
//! Linux: a kernel-thread name (`[kworker/0:1]`) on a process the kernel
//! says is not one, or a system daemon's name on a process running some
//! other executable. Windows: the name of a Windows system program
//! (`svchost.exe`, `lsass.exe`, ...) running from outside the directory
//! Windows keeps it in. Which half runs depends on the bundle's
//! [`Platform`]: Windows' PID 0 is called `[System Process]`, which would
//! otherwise look like a kernel thread with no executable.

use serde_json::json;

use crate::records::finding::{Finding, Severity};
use crate::records::process::ProcessRecord;

use super::places::in_system_dir;
use super::platform::{basename, is_windows_path, windows_key, Platform};
use super::processes::{argv0_name, exe_name, process_evidence};

/// Prefixes of kernel thread names.
const KTHREAD_PREFIXES: &[&str] = &[
    "kworker/",
    "ksoftirqd/",
    "migration/",
    "rcu_",
    "cpuhp/",
    "irq/",
    "jbd2/",
    "scsi_eh_",
    "idle_inject/",
    "watchdog/",
];

/// Whole kernel thread names.
const KTHREAD_NAMES: &[&str] = &[
    "kthreadd",
    "kswapd0",
    "kdevtmpfs",
    "khungtaskd",
    "kauditd",
    "ksmd",
    "khugepaged",
    "oom_reaper",
    "kcompactd0",
    "kblockd",
    "kintegrityd",
    "writeback",
    "netns",
];

fn looks_like_kernel_thread(name: &str) -> bool {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    (name.starts_with('[') && name.ends_with(']') && name.len() > 2)
        || KTHREAD_PREFIXES.iter().any(|p| bare.starts_with(p))
        || KTHREAD_NAMES.contains(&bare)
}

/// Names malware takes to blend in: system daemons.
const IMPERSONATED: &[&str] = &[
    "sshd",
    "systemd",
    "init",
    "cron",
    "crond",
    "atd",
    "rsyslogd",
    "syslogd",
    "syslog-ng",
    "dbus-daemon",
    "agetty",
    "getty",
    "login",
    "systemd-journal",
    "systemd-logind",
    "systemd-udevd",
    "systemd-resolve",
    "systemd-network",
    "systemd-timesyn",
    "polkitd",
    "udevd",
    "httpd",
    "nginx",
    "apache2",
    "mysqld",
    "mariadbd",
    "postgres",
    "containerd",
    "dockerd",
    "snapd",
    "irqbalance",
    "NetworkManager",
    "accounts-daemon",
    "avahi-daemon",
    "cupsd",
];

/// Names that legitimately run a differently named executable (a symlink
/// to another program): `(name, executable)`.
const ALIASES: &[(&str, &str)] = &[
    ("systemd-udevd", "udevadm"),
    ("init", "systemd"),
    ("mysqld", "mariadbd"),
    ("httpd", "apache2"),
];

/// Whether `name` may be how a process running `exe` is called.
fn name_fits_exe(name: &str, exe: &str) -> bool {
    name == exe
        // One multi-call binary is every command on BusyBox systems.
        || exe == "busybox"
        // comm is cut to 15 bytes.
        || (name.len() == 15 && exe.starts_with(name))
        || ALIASES.contains(&(name, exe))
}

/// Windows system programs malware names itself after, with the
/// directories (as [`windows_key`] writes them) Windows runs them from.
const WINDOWS_SYSTEM: &[(&str, &[&str])] = &[
    ("svchost.exe", SYSTEM32),
    ("lsass.exe", SYSTEM32),
    ("lsaiso.exe", SYSTEM32),
    ("csrss.exe", SYSTEM32),
    ("smss.exe", SYSTEM32),
    ("wininit.exe", SYSTEM32),
    ("winlogon.exe", SYSTEM32),
    ("services.exe", SYSTEM32),
    ("spoolsv.exe", SYSTEM32),
    ("taskhostw.exe", SYSTEM32),
    ("sihost.exe", SYSTEM32),
    ("dwm.exe", SYSTEM32),
    ("fontdrvhost.exe", SYSTEM32),
    ("ctfmon.exe", SYSTEM32),
    ("conhost.exe", SYSTEM32),
    ("dllhost.exe", SYSTEM32),
    ("userinit.exe", SYSTEM32),
    ("runtimebroker.exe", SYSTEM32),
    ("searchindexer.exe", SYSTEM32),
    ("taskmgr.exe", SYSTEM32),
    ("rundll32.exe", SYSTEM32),
    ("regsvr32.exe", SYSTEM32),
    ("cmd.exe", SYSTEM32),
    (
        "wmiprvse.exe",
        &["\\windows\\system32\\wbem\\", "\\windows\\syswow64\\wbem\\"],
    ),
    (
        "powershell.exe",
        &[
            "\\windows\\system32\\windowspowershell\\v1.0\\",
            "\\windows\\syswow64\\windowspowershell\\v1.0\\",
        ],
    ),
    ("explorer.exe", &["\\windows\\", "\\windows\\syswow64\\"]),
];

const SYSTEM32: &[&str] = &["\\windows\\system32\\", "\\windows\\syswow64\\"];

/// Runs the half of the rule that fits the bundle's platform.
pub(super) fn masquerade(procs: &[ProcessRecord], platform: Platform, found: &mut Vec<Finding>) {
    for p in procs {
        let finding = match platform {
            Platform::Linux => linux(p),
            Platform::Windows => windows(p),
        };
        found.extend(finding);
    }
}

fn linux(p: &ProcessRecord) -> Option<Finding> {
    let argv0 = p.cmdline.first().map(String::as_str);
    let kernel_look = [Some(p.name.as_str()), argv0]
        .into_iter()
        .flatten()
        .find(|n| looks_like_kernel_thread(n));
    let real_kthread = p.kernel_thread && p.exe.is_none() && matches!(p.ppid, Some(0 | 2));
    if let Some(shown) = kernel_look.filter(|_| !real_kthread) {
        let exe = p.exe.as_deref().unwrap_or("no readable executable");
        let claim = if shown == p.name {
            "a kernel thread".to_owned()
        } else {
            format!("kernel thread {shown} in argv[0]")
        };
        return Some(finding(
            p,
            Severity::High,
            format!(
                "PID {} ({}) poses as {claim} but is a user process (parent {}, runs {exe})",
                p.pid,
                p.name,
                p.ppid.map_or("unknown".into(), |pp| pp.to_string()),
            ),
        ));
    }
    let exe = exe_name(p)?;
    let claimed = [Some(p.name.as_str()), argv0_name(p)]
        .into_iter()
        .flatten()
        .find(|n| IMPERSONATED.contains(n) && !name_fits_exe(n, exe))?;
    let full = p.exe.as_deref().unwrap_or(exe);
    // An interpreter in /usr/bin running a script that calls itself sshd
    // is odd; a binary in /tmp that does so is an impostor.
    let severity = if in_system_dir(full) {
        Severity::Medium
    } else {
        Severity::High
    };
    let claim = if claimed == p.name {
        "a system daemon".to_owned()
    } else {
        format!("system daemon {claimed} in argv[0]")
    };
    Some(finding(
        p,
        severity,
        format!(
            "PID {} ({}) poses as {claim} but runs {full}",
            p.pid, p.name
        ),
    ))
}

fn windows(p: &ProcessRecord) -> Option<Finding> {
    let exe = p.exe.as_deref().filter(|e| is_windows_path(e))?;
    let key = windows_key(exe);
    let file = basename(&key);
    let dir = &key[..key.len() - file.len()];
    let (name, homes) = WINDOWS_SYSTEM.iter().find(|(n, _)| *n == file)?;
    if homes.contains(&dir) {
        return None;
    }
    Some(finding(
        p,
        Severity::High,
        format!(
            "PID {} ({}) poses as Windows system program {name} but runs {exe}, \
             outside {}",
            p.pid,
            p.name,
            if *name == "explorer.exe" {
                "C:\\Windows"
            } else {
                "C:\\Windows\\System32"
            }
        ),
    ))
}

fn finding(p: &ProcessRecord, severity: Severity, summary: String) -> Finding {
    Finding {
        rule: "masquerade".into(),
        severity,
        pids: vec![p.pid],
        summary,
        evidence: json!({"process": process_evidence(p)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(pid: u32, name: &str, exe: Option<&str>) -> ProcessRecord {
        ProcessRecord {
            pid,
            ppid: Some(4),
            name: name.into(),
            exe: exe.map(Into::into),
            ..ProcessRecord::default()
        }
    }

    #[test]
    fn windows_system_names_outside_their_directory() {
        let fired = |p: ProcessRecord| windows(&p).map(|f| f.severity);
        let ok = [
            ("svchost.exe", "C:\\Windows\\System32\\svchost.exe"),
            ("svchost.exe", "C:\\Windows\\system32\\SVCHOST.EXE"),
            ("explorer.exe", "C:\\Windows\\explorer.exe"),
            (
                "powershell.exe",
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            ),
            ("WmiPrvSE.exe", "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"),
            ("rundll32.exe", "C:\\Windows\\SysWOW64\\rundll32.exe"),
            ("notepad.exe", "C:\\Users\\bob\\notepad.exe"),
        ];
        for (name, exe) in ok {
            assert_eq!(fired(win(10, name, Some(exe))), None, "{exe}");
        }
        let bad = [
            ("svchost.exe", "C:\\Windows\\svchost.exe"),
            ("lsass.exe", "C:\\Users\\Public\\lsass.exe"),
            ("svchost.exe", "C:\\Windows\\System32\\drivers\\svchost.exe"),
            ("explorer.exe", "C:\\ProgramData\\explorer.exe"),
        ];
        for (name, exe) in bad {
            assert_eq!(
                fired(win(11, name, Some(exe))),
                Some(Severity::High),
                "{exe}"
            );
        }
        // Protected processes give no image path: nothing to judge.
        assert_eq!(fired(win(12, "lsass.exe", None)), None);
    }

    #[test]
    fn windows_pseudo_processes_are_not_kernel_threads() {
        let idle = ProcessRecord {
            pid: 0,
            name: "[System Process]".into(),
            ..ProcessRecord::default()
        };
        let mut found = Vec::new();
        masquerade(std::slice::from_ref(&idle), Platform::Windows, &mut found);
        assert!(found.is_empty(), "{found:?}");
        // The same name on Linux is a user process posing as a kernel one.
        masquerade(&[idle], Platform::Linux, &mut found);
        assert_eq!(found.len(), 1);
    }
}
