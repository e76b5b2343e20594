//! `modules.jsonl`: loaded kernel modules, the kernel taint value, and
//! modules the kernel knows of but does not list.
//!
//! The file mixes two kinds of line, told apart by `record`: one `kernel`
//! line first (the taint value and module-loading state), then one `module`
//! line per module seen in `/proc/modules` or `/sys/module`.

use serde::{Deserialize, Serialize};

/// The bundle file name.
pub const FILE: &str = "modules.jsonl";

/// One line of `modules.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum ModulesLine {
    /// The kernel's module state (first line).
    Kernel(KernelModules),
    /// One module.
    Module(ModuleRecord),
}

/// One set bit of `/proc/sys/kernel/tainted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaintFlag {
    /// Bit number.
    pub bit: u8,
    /// The letter the kernel prints in oops reports (`E`, `O`, ...).
    pub letter: String,
    /// What the kernel documentation says it means.
    pub meaning: String,
}

/// The kernel's module state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KernelModules {
    /// `/proc/sys/kernel/tainted`, null when unreadable.
    pub tainted: Option<u64>,
    /// The set bits, decoded.
    pub taint_flags: Vec<TaintFlag>,
    /// Whether `/proc/modules` exists (false: kernel built without loadable
    /// module support).
    pub modules_supported: bool,
    /// `/proc/sys/kernel/modules_disabled`: no more modules can be loaded.
    pub modules_disabled: Option<bool>,
    /// `/sys/module/module/parameters/sig_enforce`: only signed modules load.
    pub sig_enforce: Option<bool>,
    /// Running kernel release (`uname -r`).
    pub kernel_release: Option<String>,
    /// The module tree whose `modules.dep` said where each module's file is,
    /// null when it could not be read.
    pub module_tree: Option<String>,
}

/// One kernel module.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModuleRecord {
    /// Module name.
    pub name: String,
    /// Listed in `/proc/modules`.
    pub in_proc_modules: bool,
    /// Has a directory in `/sys/module`.
    pub in_sysfs: bool,
    /// Compiled into the kernel: in `/sys/module` without `initstate`, and
    /// not in `/proc/modules`.
    pub builtin: bool,
    /// Hidden-module candidate: loaded (sysfs says so) yet missing from
    /// `/proc/modules` after a second look, or the reverse.
    pub hidden: bool,
    /// Memory size in bytes (`/proc/modules`).
    pub size: Option<u64>,
    /// Reference count (`/proc/modules`, else sysfs `refcnt`).
    pub refcount: Option<i64>,
    /// Modules that use this one.
    pub used_by: Vec<String>,
    /// `Live`, `Loading` or `Unloading` (`/proc/modules`).
    pub state: Option<String>,
    /// Load address as printed (zeros unless `kptr_restrict` allows).
    pub address: Option<String>,
    /// Taint letters of this module (`OE`), from `/proc/modules` or sysfs.
    pub taint: Option<String>,
    /// sysfs `initstate` (`live`, `coming`, `going`).
    pub initstate: Option<String>,
    /// sysfs `srcversion`.
    pub srcversion: Option<String>,
    /// sysfs `version`.
    pub version: Option<String>,
    /// The module's file in the module tree (`modules.dep`), relative to
    /// `module_tree`; null when the tree does not list it.
    pub file: Option<String>,
}
