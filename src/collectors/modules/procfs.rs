//! Parsers for the kernel's module interfaces: `/proc/modules`, the taint
//! bit mask of `/proc/sys/kernel/tainted`, and the module tree's
//! `modules.dep`, plus [`merge`], which joins them with the `/sys/module`
//! scan into records and marks hidden-module candidates.
//!
//! `/proc/modules` lines are `name size refcount used_by state address
//! [taint]`, with `used_by` a comma-terminated list or `-`, and `refcount`
//! `-` on kernels without module unloading (kernel/module/procfs.c).

use std::collections::{BTreeMap, HashMap};

use super::sysfs::SysModule;
use crate::records::module::{ModuleRecord, TaintFlag};

/// One `/proc/modules` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcModule {
    /// Name.
    pub name: String,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Reference count (`None` when printed as `-`).
    pub refcount: Option<i64>,
    /// Modules that use it.
    pub used_by: Vec<String>,
    /// `Live`, `Loading`, `Unloading`.
    pub state: String,
    /// Load address as printed.
    pub address: String,
    /// Taint letters, without parentheses.
    pub taint: Option<String>,
}

/// A `/proc/modules` line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModulesProblem {
    /// Line number (1-based).
    pub line: u32,
    /// Why.
    pub reason: String,
}

/// Parses `/proc/modules`.
pub fn parse_proc_modules(text: &str) -> (Vec<ProcModule>, Vec<ModulesProblem>) {
    let mut modules = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || f.len() > 7 {
            problems.push(ModulesProblem {
                line: (i + 1) as u32,
                reason: format!("{} fields instead of 6 or 7", f.len()),
            });
            continue;
        }
        let used_by = if f[3] == "-" {
            Vec::new()
        } else {
            f[3].split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        modules.push(ProcModule {
            name: f[0].to_owned(),
            size: f[1].parse().ok(),
            refcount: f[2].parse().ok(),
            used_by,
            state: f[4].to_owned(),
            address: f[5].to_owned(),
            taint: f
                .get(6)
                .map(|t| t.trim_matches(|c| c == '(' || c == ')').to_owned())
                .filter(|t| !t.is_empty()),
        });
    }
    (modules, problems)
}

/// The kernel's taint bits (Documentation/admin-guide/tainted-kernels.rst).
pub const TAINT_BITS: &[(u8, char, &str)] = &[
    (0, 'P', "proprietary module was loaded"),
    (1, 'F', "module was force loaded"),
    (2, 'S', "kernel running on an out of specification system"),
    (3, 'R', "module was force unloaded"),
    (4, 'M', "processor reported a Machine Check Exception"),
    (5, 'B', "bad page referenced or some unexpected page flags"),
    (6, 'U', "taint requested by userspace application"),
    (7, 'D', "kernel died recently (OOPS or BUG)"),
    (8, 'A', "ACPI table overridden by user"),
    (9, 'W', "kernel issued warning"),
    (10, 'C', "staging driver was loaded"),
    (11, 'I', "workaround for bug in platform firmware applied"),
    (12, 'O', "externally-built (out-of-tree) module was loaded"),
    (13, 'E', "unsigned module was loaded"),
    (14, 'L', "soft lockup occurred"),
    (15, 'K', "kernel has been live patched"),
    (16, 'X', "auxiliary taint, defined for and used by distros"),
    (
        17,
        'T',
        "kernel was built with the struct randomization plugin",
    ),
    (18, 'N', "an in-kernel test has been run"),
    (
        19,
        'J',
        "userspace used a mutating debug operation in fwctl",
    ),
];

/// Decodes a taint value into its set bits; unknown bits are named by
/// number.
pub fn decode_taint(value: u64) -> Vec<TaintFlag> {
    (0..64u8)
        .filter(|bit| value & (1u64 << bit) != 0)
        .map(|bit| match TAINT_BITS.iter().find(|(b, _, _)| *b == bit) {
            Some((_, letter, meaning)) => TaintFlag {
                bit,
                letter: letter.to_string(),
                meaning: (*meaning).to_owned(),
            },
            None => TaintFlag {
                bit,
                letter: "?".into(),
                meaning: format!("bit {bit}, unknown to irdump"),
            },
        })
        .collect()
}

/// The kernel's canonical module name for a file or name: `-` becomes `_`.
pub fn canonical_name(name: &str) -> String {
    name.replace('-', "_")
}

/// Parses `modules.dep` into module name → file (relative to the tree).
pub fn parse_modules_dep(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let Some((file, _deps)) = line.split_once(':') else {
            continue;
        };
        let base = file.rsplit('/').next().unwrap_or(file);
        let Some(stem) = base.split(".ko").next().filter(|s| !s.is_empty()) else {
            continue;
        };
        out.insert(canonical_name(stem), file.to_owned());
    }
    out
}

/// Joins `/proc/modules` and the `/sys/module` scan. `sys` is `None` when
/// `/sys/module` could not be listed (then nothing is called hidden).
/// `tree` maps module names to their file in the module tree.
///
/// A module is a hidden-module candidate when sysfs shows it loaded
/// (`initstate` or `refcnt` present, which built-in modules lack) but
/// `/proc/modules` does not list it, or when `/proc/modules` lists it and
/// sysfs has no directory for it.
pub fn merge(
    proc_modules: &[ProcModule],
    sys: Option<&[SysModule]>,
    tree: Option<&HashMap<String, String>>,
) -> Vec<ModuleRecord> {
    let mut by_name: BTreeMap<String, ModuleRecord> = BTreeMap::new();
    for p in proc_modules {
        by_name.insert(
            p.name.clone(),
            ModuleRecord {
                name: p.name.clone(),
                in_proc_modules: true,
                size: p.size,
                refcount: p.refcount,
                used_by: p.used_by.clone(),
                state: Some(p.state.clone()),
                address: Some(p.address.clone()),
                taint: p.taint.clone(),
                ..ModuleRecord::default()
            },
        );
    }
    for s in sys.unwrap_or_default() {
        let rec = by_name
            .entry(s.name.clone())
            .or_insert_with(|| ModuleRecord {
                name: s.name.clone(),
                ..ModuleRecord::default()
            });
        rec.in_sysfs = true;
        rec.initstate = s.initstate.clone();
        rec.srcversion = s.srcversion.clone();
        rec.version = s.version.clone();
        if rec.taint.is_none() {
            rec.taint = s.taint.clone();
        }
        if rec.refcount.is_none() {
            rec.refcount = s.refcnt;
        }
        if rec.used_by.is_empty() {
            rec.used_by = s.holders.clone();
        }
        if !rec.in_proc_modules {
            if s.looks_loaded() {
                rec.hidden = true;
            } else {
                rec.builtin = true;
            }
        }
    }
    for rec in by_name.values_mut() {
        if sys.is_some() && rec.in_proc_modules && !rec.in_sysfs {
            rec.hidden = true;
        }
        if !rec.builtin {
            rec.file = tree.and_then(|t| t.get(&rec.name)).cloned();
        }
    }
    by_name.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_taint() {
        let (m, p) = parse_proc_modules(
            "vboxnetflt 32768 0 - Live 0x0000000000000000 (OE)\nvboxdrv 696320 2 vboxnetadp,vboxnetflt, Live 0xffffffffc0a00000 (OE)\next4 1028096 1 - Live 0x0000000000000000\nbad line\n",
        );
        assert_eq!(m.len(), 3);
        assert_eq!(p.len(), 1);
        assert_eq!(m[1].used_by, ["vboxnetadp", "vboxnetflt"]);
        assert_eq!(m[0].taint.as_deref(), Some("OE"));
        assert_eq!(m[2].taint, None);
        let letters: String = decode_taint(12288 | 1)
            .iter()
            .map(|f| f.letter.clone())
            .collect();
        assert_eq!(letters, "POE");
        assert!(decode_taint(0).is_empty());
        assert_eq!(decode_taint(1 << 40)[0].letter, "?");
    }

    #[test]
    fn dep_names() {
        let t = parse_modules_dep("kernel/fs/ext4/ext4.ko.xz: kernel/lib/crc16.ko.xz\nupdates/dkms/vboxdrv.ko:\nkernel/drivers/hid/hid-generic.ko.zst:\n");
        assert_eq!(t["ext4"], "kernel/fs/ext4/ext4.ko.xz");
        assert_eq!(t["vboxdrv"], "updates/dkms/vboxdrv.ko");
        assert!(t.contains_key("hid_generic"));
    }
}
