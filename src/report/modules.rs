//! "Kernel modules": the taint value decoded, hidden-module candidates
//! first, then a compact table of loaded modules (built-in ones only
//! counted).

use super::table::Table;
use super::ReportWriter;
use crate::bundle::BundleFiles;
use crate::records::module::{ModuleRecord, ModulesLine, FILE};
use crate::text::display;

pub(super) fn render(r: &mut ReportWriter, bundle: &BundleFiles) {
    r.section("Kernel modules");
    let Some(lines) = r.records::<ModulesLine>(bundle, FILE) else {
        r.not_collected(FILE);
        return;
    };
    let mut modules: Vec<ModuleRecord> = Vec::new();
    for line in lines {
        match line {
            ModulesLine::Kernel(k) => {
                let release = k.kernel_release.as_deref().unwrap_or("?");
                let taint = match k.tainted {
                    None => "unknown".to_owned(),
                    Some(0) => "0 (not tainted)".to_owned(),
                    Some(v) => format!("{v}"),
                };
                r.line(&format!("  Kernel {}, taint {taint}", display(release)));
                for f in &k.taint_flags {
                    r.line(&format!(
                        "    {} (bit {}): {}",
                        display(&f.letter),
                        f.bit,
                        display(&f.meaning)
                    ));
                }
                let yes_no = |v: Option<bool>| match v {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "unknown",
                };
                if k.modules_supported {
                    r.line(&format!(
                        "  Loadable modules: supported; loading disabled: {}; signatures enforced: {}; module tree: {}",
                        yes_no(k.modules_disabled),
                        yes_no(k.sig_enforce),
                        display(k.module_tree.as_deref().unwrap_or("not read"))
                    ));
                } else {
                    r.line("  Loadable modules: not supported by this kernel (no /proc/modules)");
                }
            }
            ModulesLine::Module(m) => modules.push(m),
        }
    }
    let hidden: Vec<&ModuleRecord> = modules.iter().filter(|m| m.hidden).collect();
    if hidden.is_empty() {
        r.line("  Hidden-module candidates: none");
    } else {
        r.line(&format!("  HIDDEN-MODULE CANDIDATES ({}):", hidden.len()));
        let mut t = Table::new(&[
            ("NAME", 32),
            ("SEEN IN", 40),
            ("INITSTATE", 10),
            ("TAINT", 6),
        ]);
        for m in hidden {
            let seen = if m.in_proc_modules {
                "/proc/modules only"
            } else {
                "/sys/module only"
            };
            t.row(&[
                m.name.as_str(),
                seen,
                m.initstate.as_deref().unwrap_or("-"),
                m.taint.as_deref().unwrap_or("-"),
            ]);
        }
        r.table(&t);
    }
    let loaded: Vec<&ModuleRecord> = modules.iter().filter(|m| !m.builtin && !m.hidden).collect();
    let builtin = modules.iter().filter(|m| m.builtin).count();
    r.line(&format!(
        "  Loaded modules: {}; built into the kernel (in /sys/module only): {builtin}",
        loaded.len()
    ));
    if loaded.is_empty() {
        return;
    }
    let mut t = Table::new(&[
        ("NAME", 32),
        ("SIZE", 10),
        ("REFS", 5),
        ("TAINT", 6),
        ("USED BY", 40),
        ("FILE (module tree)", 70),
    ]);
    for m in loaded {
        t.row(&[
            m.name.as_str(),
            &m.size.map_or("-".into(), |s| s.to_string()),
            &m.refcount.map_or("-".into(), |c| c.to_string()),
            m.taint.as_deref().unwrap_or("-"),
            &m.used_by.join(","),
            m.file.as_deref().unwrap_or("NOT IN TREE"),
        ]);
    }
    r.table(&t);
}
