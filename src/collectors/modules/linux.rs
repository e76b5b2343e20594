//! Linux `modules` collector: the kernel's own view of its modules, always
//! of the live kernel (`/proc/modules`, `/sys/module`,
//! `/proc/sys/kernel/tainted` are kernel interfaces, and `--root` does not
//! apply to them), plus the running kernel's module tree
//! (`/lib/modules/<release>/modules.dep`, also read live: it describes the
//! kernel that is running here, not the image under `--root`).
//!
//! A module that sysfs shows loaded but `/proc/modules` omits (or the
//! reverse) is looked at a second time before it is called hidden, so a
//! module loaded or unloaded during the scan is not mistaken for a rootkit.
//! A kernel without `/proc/modules` was built without loadable modules:
//! that is recorded in the kernel line, not as a gap.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use super::procfs::{self, ProcModule};
use super::sysfs;
use crate::collector::{CollectError, Context, Output};
use crate::records::module::{KernelModules, ModulesLine, FILE};

pub(super) fn collect(_ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
    let release =
        String::from_utf8_lossy(rustix::system::uname().release().to_bytes()).into_owned();
    let mut kernel = KernelModules {
        kernel_release: Some(release.clone()),
        ..KernelModules::default()
    };
    match std::fs::read_to_string("/proc/sys/kernel/tainted") {
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(t) => {
                kernel.tainted = Some(t);
                kernel.taint_flags = procfs::decode_taint(t);
            }
            Err(e) => out.gap("/proc/sys/kernel/tainted", format!("{:?}: {e}", v.trim())),
        },
        Err(e) => out.gap("/proc/sys/kernel/tainted", e),
    }
    kernel.modules_disabled = read_flag(out, "/proc/sys/kernel/modules_disabled");
    kernel.sig_enforce = read_flag(out, "/sys/module/module/parameters/sig_enforce");

    let first = read_proc_modules(out);
    kernel.modules_supported = !matches!(first, ProcList::Absent);
    let proc_unreadable = matches!(first, ProcList::Unreadable);
    let proc_modules = match first {
        ProcList::Listed(m) => m,
        ProcList::Absent | ProcList::Unreadable => Vec::new(),
    };
    let sys = match sysfs::scan(Path::new("/sys/module")) {
        Ok((modules, problems)) => {
            for p in problems {
                out.gap(p.path, p.error);
            }
            Some(modules)
        }
        Err(e) => {
            out.gap(
                "/sys/module",
                format!("{e}: hidden modules cannot be looked for"),
            );
            None
        }
    };
    let tree_dir = format!("/lib/modules/{release}");
    let tree = match std::fs::read_to_string(format!("{tree_dir}/modules.dep")) {
        Ok(text) => {
            kernel.module_tree = Some(tree_dir.clone());
            Some(procfs::parse_modules_dep(&text))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound && !kernel.modules_supported => None,
        Err(e) => {
            out.gap(
                format!("{tree_dir}/modules.dep"),
                format!("{e}: where each module was loaded from is unknown"),
            );
            None
        }
    };

    let mut records = procfs::merge(&proc_modules, sys.as_deref(), tree.as_ref());
    if proc_unreadable {
        // Without the list nothing can be said to be missing from it (the
        // unreadable /proc/modules is already a gap).
        for r in records.iter_mut() {
            r.hidden = false;
        }
    }
    if records.iter().any(|r| r.hidden) {
        second_look(out, &mut records, kernel.modules_supported);
    }
    out.record(FILE, &ModulesLine::Kernel(kernel));
    for r in records {
        out.record(FILE, &ModulesLine::Module(r));
    }
    Ok(())
}

/// What reading `/proc/modules` gave.
enum ProcList {
    /// The modules it lists.
    Listed(Vec<ProcModule>),
    /// The kernel has no `/proc/modules` (no loadable module support).
    Absent,
    /// It exists but could not be read (a gap has been recorded).
    Unreadable,
}

fn read_proc_modules(out: &mut Output) -> ProcList {
    match std::fs::read_to_string("/proc/modules") {
        Ok(text) => {
            let (modules, problems) = procfs::parse_proc_modules(&text);
            for p in problems {
                out.gap(format!("/proc/modules:{}", p.line), p.reason);
            }
            ProcList::Listed(modules)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            log::debug!("/proc/modules absent: kernel without loadable module support");
            ProcList::Absent
        }
        Err(e) => {
            out.gap("/proc/modules", e);
            ProcList::Unreadable
        }
    }
}

fn read_flag(out: &mut Output, path: &str) -> Option<bool> {
    match std::fs::read_to_string(path) {
        Ok(v) => match v.trim() {
            "1" | "Y" => Some(true),
            "0" | "N" => Some(false),
            other => {
                out.gap(path, format!("unexpected value {other:?}"));
                None
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            out.gap(path, e);
            None
        }
    }
}

/// Re-reads `/proc/modules` and each candidate's sysfs directory; a
/// candidate stays hidden only if both still disagree.
fn second_look(
    out: &mut Output,
    records: &mut [crate::records::module::ModuleRecord],
    supported: bool,
) {
    let again: HashMap<String, ProcModule> = match supported.then(|| read_proc_modules(out)) {
        Some(ProcList::Listed(m)) => m.into_iter().map(|m| (m.name.clone(), m)).collect(),
        Some(ProcList::Unreadable) => {
            // The first read worked and this one did not: keep no verdict.
            for r in records.iter_mut() {
                r.hidden = false;
            }
            return;
        }
        _ => HashMap::new(),
    };
    for r in records.iter_mut().filter(|r| r.hidden) {
        let dir = Path::new("/sys/module").join(&r.name);
        let listed = again.contains_key(&r.name);
        let in_sysfs = dir.is_dir();
        let loaded_in_sysfs = dir.join("initstate").exists() || dir.join("refcnt").exists();
        let confirmed = if r.in_proc_modules {
            listed && !in_sysfs
        } else {
            !listed && loaded_in_sysfs
        };
        if confirmed {
            log::warn!(
                "module {} is hidden from /proc/modules or /sys/module",
                r.name
            );
        } else {
            log::debug!("module {}: loaded or unloaded during the scan", r.name);
            r.hidden = false;
        }
    }
}
