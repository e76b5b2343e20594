//! Finding rules over the processes records (and, for `reverse-shell`, the
//! sockets they hold): `reverse-shell`, `deleted-executable`,
//! `exe-in-temp`, `masquerade`, `preload` (the per-process half) and
//! `hidden-pid`. `docs/findings.md` says what each looks for, why, its
//! severities and where it is known to be wrong.
//!
//! Processes that share what a rule flags (one deleted binary, one preload
//! library) make one finding naming all their PIDs, so that a hundred
//! workers of an upgraded daemon are one line, not a hundred.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use crate::bundle::BundleFiles;
use crate::records::collection::Gap;
use crate::records::finding::{Finding, Severity};
use crate::records::network::{self, SocketRecord};
use crate::records::process::{self, ProcessRecord};

pub(super) fn analyze(bundle: &BundleFiles, found: &mut Vec<Finding>, gaps: &mut Vec<Gap>) {
    let Some(parsed) = bundle.shared_records::<ProcessRecord>(process::FILE) else {
        return;
    };
    if let Some(problem) = parsed.problem(process::FILE) {
        gaps.push(Gap {
            what: process::FILE.into(),
            cause: problem,
        });
    }
    // Unreadable lines of network.jsonl are the network rules' to report.
    let parsed_sockets = bundle.shared_records::<SocketRecord>(network::FILE);
    let sockets: Option<HashMap<u64, &SocketRecord>> = parsed_sockets.as_ref().map(|p| {
        p.records
            .iter()
            .filter_map(|s| Some((s.inode?, s)))
            .collect()
    });
    let procs = &parsed.records;
    reverse_shell(procs, sockets.as_ref(), found, gaps);
    deleted_executable(procs, found);
    exe_in_temp(procs, found);
    masquerade(procs, found);
    preload(procs, found);
    hidden_pid(procs, found);
}

/// Shells and interpreters a reverse shell is made of, by exact name.
const SHELLS: &[&str] = &[
    "sh",
    "ash",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "ksh93",
    "mksh",
    "csh",
    "tcsh",
    "fish",
    "busybox",
    "node",
    "nodejs",
    "nc",
    "ncat",
    "netcat",
    "nc.openbsd",
    "nc.traditional",
    "socat",
    "telnet",
    "pwsh",
    "awk",
    "gawk",
    "mawk",
    "tclsh",
    "expect",
];

/// Interpreters whose names carry a version (`python3.11`, `php8.2`).
const VERSIONED: &[&str] = &["python", "perl", "ruby", "php", "lua", "jjs"];

fn is_shell_name(name: &str) -> bool {
    let name = name.strip_prefix('-').unwrap_or(name);
    SHELLS.contains(&name)
        || VERSIONED.iter().any(|v| {
            name.strip_prefix(v)
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
        })
}

/// The last path component.
fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// argv[0] as a program name: its first word, without a path or a
/// trailing `:` (as in `postgres: checkpointer`).
fn argv0_name(p: &ProcessRecord) -> Option<&str> {
    let first = p.cmdline.first()?.split_whitespace().next()?;
    Some(basename(first).trim_end_matches(':'))
}

/// The executable's file name, without the kernel's deleted marker.
fn exe_name(p: &ProcessRecord) -> Option<&str> {
    p.exe.as_deref().map(basename)
}

fn is_shell(p: &ProcessRecord) -> bool {
    is_shell_name(&p.name)
        || exe_name(p).is_some_and(is_shell_name)
        || argv0_name(p).is_some_and(is_shell_name)
}

fn socket_inode_of(target: Option<&str>) -> Option<u64> {
    crate::shared::socket_inode(target?.as_bytes())
}

fn process_evidence(p: &ProcessRecord) -> serde_json::Value {
    json!({
        "pid": p.pid, "ppid": p.ppid, "name": p.name, "exe": p.exe,
        "exe_deleted": p.exe_deleted, "sha256": p.sha256, "cmdline": p.cmdline,
        "user": p.user, "uid": p.uid, "start_time": p.start_time, "std_fds": p.std_fds,
    })
}

fn endpoint(s: &SocketRecord) -> String {
    let side = |addr: &Option<String>, port: Option<u16>| match (addr, port) {
        (Some(a), Some(p)) if a.contains(':') => format!("[{a}]:{p}"),
        (Some(a), Some(p)) => format!("{a}:{p}"),
        (Some(a), None) => a.clone(),
        (None, _) => "*".into(),
    };
    format!(
        "{} {} -> {} ({})",
        s.proto.to_uppercase(),
        side(&s.local_addr, s.local_port),
        side(&s.remote_addr, s.remote_port),
        s.state
    )
}

/// `reverse-shell`: a shell or interpreter with a network socket on
/// stdin, stdout or stderr; or any process whose stdin and stdout are one
/// TCP socket.
fn reverse_shell(
    procs: &[ProcessRecord],
    sockets: Option<&HashMap<u64, &SocketRecord>>,
    found: &mut Vec<Finding>,
    gaps: &mut Vec<Gap>,
) {
    // Without network.jsonl a socket's family is unknown, and a unix
    // socket on a service's stdout (the journal) is normal.
    let Some(sockets) = sockets else { return };
    let ppids: HashMap<u32, &str> = procs.iter().map(|p| (p.pid, p.name.as_str())).collect();
    for p in procs {
        let std = [
            ("stdin", p.std_fds.stdin.as_deref()),
            ("stdout", p.std_fds.stdout.as_deref()),
            ("stderr", p.std_fds.stderr.as_deref()),
        ];
        let shell = is_shell(p);
        let mut on_net: Vec<(&str, &SocketRecord)> = Vec::new();
        for (label, target) in std {
            let Some(inode) = socket_inode_of(target) else {
                continue;
            };
            match sockets.get(&inode) {
                Some(s) if matches!(s.family.as_str(), "ipv4" | "ipv6") => on_net.push((label, s)),
                Some(_) => {}
                None if shell => gaps.push(Gap {
                    what: format!("reverse-shell: pid {} ({})", p.pid, p.name),
                    cause: format!(
                        "{label} is socket {inode}, absent from network.jsonl: its kind is unknown"
                    ),
                }),
                None => {}
            }
        }
        let Some(&(_, first)) = on_net.first() else {
            continue;
        };
        let same_tcp = {
            let stdin = socket_inode_of(p.std_fds.stdin.as_deref());
            stdin.is_some()
                && stdin == socket_inode_of(p.std_fds.stdout.as_deref())
                && stdin
                    .and_then(|i| sockets.get(&i))
                    .is_some_and(|s| s.proto == "tcp" && s.family != "unix")
        };
        if !shell && !same_tcp {
            continue;
        }
        let socket = on_net
            .iter()
            .map(|(_, s)| *s)
            .find(|s| s.remote_port.is_some_and(|port| port != 0))
            .unwrap_or(first);
        let fds: Vec<&str> = on_net.iter().map(|(l, _)| *l).collect();
        let parent = p.ppid.and_then(|pp| ppids.get(&pp).copied());
        // A non-shell wired to a socket by PID 1 or inetd is how socket
        // activation with Accept=yes looks.
        let activated = p.ppid == Some(1) || matches!(parent, Some("inetd" | "xinetd"));
        let severity = if shell || !activated {
            Severity::High
        } else {
            Severity::Medium
        };
        let what = if shell {
            "shell or interpreter"
        } else {
            "process"
        };
        found.push(Finding {
            rule: "reverse-shell".into(),
            severity,
            pids: vec![p.pid],
            summary: format!(
                "PID {} {} ({}) has {} on {}",
                p.pid,
                p.name,
                what,
                fds.join(", "),
                endpoint(socket)
            ),
            evidence: json!({
                "process": process_evidence(p),
                "sockets": on_net.iter().map(|(l, s)| json!({"fd": l, "socket": s})).collect::<Vec<_>>(),
            }),
        });
    }
}

/// Directories only the system writes (a package upgrade replaces files
/// there while their old versions still run).
fn in_system_dir(path: &str) -> bool {
    [
        "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/opt/", "/snap/",
    ]
    .iter()
    .any(|d| path.starts_with(d))
}

fn is_memfd(path: &str) -> bool {
    path.starts_with("/memfd:") || path.starts_with("memfd:")
}

/// Groups processes by a key, keeping the first-seen order of keys stable
/// (sorted), for one finding per key.
fn group_by<K: Ord>(
    procs: &[ProcessRecord],
    key: impl Fn(&ProcessRecord) -> Option<K>,
) -> BTreeMap<K, Vec<&ProcessRecord>> {
    let mut groups: BTreeMap<K, Vec<&ProcessRecord>> = BTreeMap::new();
    for p in procs {
        if let Some(k) = key(p) {
            groups.entry(k).or_default().push(p);
        }
    }
    groups
}

/// "PID 12 (sshd)" or "PID 12 (sshd) and 3 more".
fn who(group: &[&ProcessRecord]) -> String {
    let first = group[0];
    match group.len() {
        1 => format!("PID {} ({})", first.pid, first.name),
        n => format!("PID {} ({}) and {} more", first.pid, first.name, n - 1),
    }
}

fn group_finding(
    rule: &str,
    severity: Severity,
    group: &[&ProcessRecord],
    summary: String,
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        pids: group.iter().map(|p| p.pid).collect(),
        summary,
        evidence: json!({
            "processes": group.iter().map(|p| process_evidence(p)).collect::<Vec<_>>(),
        }),
    }
}

/// `deleted-executable`: running from a file deleted since it started.
/// memfd executables are always "deleted" and are `exe-in-temp`'s.
fn deleted_executable(procs: &[ProcessRecord], found: &mut Vec<Finding>) {
    let groups = group_by(procs, |p| {
        let exe = p.exe.as_deref()?;
        (p.exe_deleted && !is_memfd(exe)).then(|| exe.to_owned())
    });
    for (exe, group) in groups {
        let (severity, why) = if in_system_dir(&exe) {
            (
                Severity::Medium,
                "often a package upgrade not yet restarted",
            )
        } else {
            (Severity::High, "binary removed after start")
        };
        let hash = group[0].sha256.as_deref().map_or(String::new(), |h| {
            format!(", sha256 {}", &h[..h.len().min(16)])
        });
        let summary = format!(
            "{} runs {exe}, deleted since it started ({why}{hash})",
            who(&group)
        );
        found.push(group_finding(
            "deleted-executable",
            severity,
            &group,
            summary,
        ));
    }
}

/// Where an executable sits if it is in a temporary, per-user runtime,
/// hidden or memory-only place: the place and the severity.
fn temp_place(exe: &str) -> Option<(&'static str, Severity)> {
    if is_memfd(exe) {
        return Some(("memory only (memfd)", Severity::Medium));
    }
    for (dir, place) in [
        ("/tmp/", "/tmp"),
        ("/var/tmp/", "/var/tmp"),
        ("/dev/shm/", "/dev/shm"),
    ] {
        if exe.starts_with(dir) {
            return Some((place, Severity::High));
        }
    }
    if exe.starts_with("/run/user/") {
        return Some(("/run/user", Severity::Medium));
    }
    let hidden = exe
        .split('/')
        .any(|c| c.starts_with('.') && c != "." && c != "..");
    hidden.then_some(("a hidden directory or file", Severity::Medium))
}

/// `exe-in-temp`: an executable under `/tmp`, `/var/tmp`, `/dev/shm`,
/// `/run/user`, a hidden directory, or in memory only (memfd).
fn exe_in_temp(procs: &[ProcessRecord], found: &mut Vec<Finding>) {
    let groups = group_by(procs, |p| {
        let exe = p.exe.as_deref()?;
        temp_place(exe).map(|_| exe.to_owned())
    });
    for (exe, group) in groups {
        let Some((place, severity)) = temp_place(&exe) else {
            continue;
        };
        let summary = format!("{} runs {exe} from {place}", who(&group));
        found.push(group_finding("exe-in-temp", severity, &group, summary));
    }
}

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

/// `masquerade`: a kernel-thread name on a process that is not one, or a
/// system daemon's name on a process running some other executable.
fn masquerade(procs: &[ProcessRecord], found: &mut Vec<Finding>) {
    for p in procs {
        let argv0 = p.cmdline.first().map(String::as_str);
        let kernel_look = [Some(p.name.as_str()), argv0]
            .into_iter()
            .flatten()
            .find(|n| looks_like_kernel_thread(n));
        let real_kthread = p.kernel_thread && p.exe.is_none() && matches!(p.ppid, Some(0 | 2));
        if let Some(shown) = kernel_look.filter(|_| !real_kthread) {
            let exe = p.exe.as_deref().unwrap_or("unknown executable");
            found.push(Finding {
                rule: "masquerade".into(),
                severity: Severity::High,
                pids: vec![p.pid],
                summary: format!(
                    "PID {} calls itself {shown} like a kernel thread but is a user process \
                     (parent {}, runs {exe})",
                    p.pid,
                    p.ppid.map_or("unknown".into(), |pp| pp.to_string()),
                ),
                evidence: json!({"process": process_evidence(p)}),
            });
            continue;
        }
        let Some(exe) = exe_name(p) else { continue };
        let claimed = [Some(p.name.as_str()), argv0_name(p)]
            .into_iter()
            .flatten()
            .find(|n| IMPERSONATED.contains(n) && !name_fits_exe(n, exe));
        let Some(claimed) = claimed else { continue };
        let full = p.exe.as_deref().unwrap_or(exe);
        let severity = if in_system_dir(full) {
            Severity::Medium
        } else {
            Severity::High
        };
        found.push(Finding {
            rule: "masquerade".into(),
            severity,
            pids: vec![p.pid],
            summary: format!("PID {} calls itself {claimed} but runs {full}", p.pid),
            evidence: json!({"process": process_evidence(p)}),
        });
    }
}

/// `preload`: `LD_PRELOAD` set in a process's environment, one finding
/// per distinct value.
fn preload(procs: &[ProcessRecord], found: &mut Vec<Finding>) {
    let groups = group_by(procs, |p| {
        p.env_flags
            .ld_preload
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
    });
    for (value, group) in groups {
        // ld.so splits the list on spaces and colons.
        let risky = value
            .split([' ', ':'])
            .filter(|l| !l.is_empty())
            .any(|lib| temp_place(lib).is_some());
        let severity = if risky {
            Severity::High
        } else {
            Severity::Medium
        };
        let summary = format!("{} runs with LD_PRELOAD={value}", who(&group));
        found.push(group_finding("preload", severity, &group, summary));
    }
}

/// `hidden-pid`: a process the kernel has but the `/proc` listing hides.
fn hidden_pid(procs: &[ProcessRecord], found: &mut Vec<Finding>) {
    for p in procs.iter().filter(|p| p.hidden_from_listing) {
        let name = if p.name.is_empty() {
            "unreadable".to_owned()
        } else {
            p.name.clone()
        };
        found.push(Finding {
            rule: "hidden-pid".into(),
            severity: Severity::High,
            pids: vec![p.pid],
            summary: format!(
                "PID {} ({name}) exists but is missing from the /proc listing: \
                 something filters it (a rootkit)",
                p.pid
            ),
            evidence: json!({"process": process_evidence(p)}),
        });
    }
}
