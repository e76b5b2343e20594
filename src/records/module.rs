//! `modules.jsonl`: loaded kernel modules, the kernel taint value, and
//! modules the kernel knows of but does not list.

/// The bundle file name.
pub const FILE: &str = "modules.jsonl";
