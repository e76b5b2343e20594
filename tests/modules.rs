//! The `modules` collector: the `/sys/module` scan on a tree the test
//! builds (built-in, loaded and hidden modules side by side), the taint
//! decoding on chosen values, the `kernel-taint` and `hidden-module` rules
//! on bundles the test writes, and the live host against `/proc/modules`,
//! `/proc/sys/kernel/tainted` and `/sys/module` read by the test itself.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, reason = "a test fails loudly by design")]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use common::*;
use irdump::collectors::modules::{procfs, sysfs};
use serde_json::{json, Value};

/// `/proc/modules` in the kernel's format (kernel/module/procfs.c), as a
/// Debian 12 host with VirtualBox's DKMS modules prints it, plus `ghost`,
/// which the test gives no sysfs directory.
const PROC_MODULES: &str = "\
vboxnetflt 32768 0 - Live 0x0000000000000000 (OE)
vboxdrv 696320 2 vboxnetflt, Live 0x0000000000000000 (OE)
ext4 1032192 1 - Live 0x0000000000000000
ghost 16384 0 - Live 0x0000000000000000
";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A `/sys/module` tree: built-ins have only `parameters/` (and maybe
/// `version`); loaded modules have `initstate`, `refcnt`, `sections/`.
fn sys_tree(dir: &Path) {
    for (name, loaded, taint) in [
        ("vboxnetflt", true, "OE"),
        ("vboxdrv", true, "OE"),
        ("ext4", true, ""),
        ("diamorphine", true, "OE"),
        ("8250", false, ""),
        ("kernel", false, ""),
    ] {
        let m = dir.join(name);
        write(&m.join("parameters/x"), "0\n");
        if loaded {
            write(&m.join("initstate"), "live\n");
            write(&m.join("refcnt"), "0\n");
            write(&m.join("sections/.text"), "0x0000000000000000\n");
            write(&m.join("taint"), &format!("{taint}\n"));
            std::fs::create_dir_all(m.join("holders")).unwrap();
        } else {
            write(&m.join("version"), "1.0\n");
        }
    }
    std::fs::create_dir_all(dir.join("vboxnetflt/holders")).unwrap();
    std::os::unix::fs::symlink("../../vboxnetflt", dir.join("vboxdrv/holders/vboxnetflt")).unwrap();
}

#[test]
fn sysfs_tree_tells_builtin_loaded_and_hidden_apart() {
    let dir = tempdir();
    sys_tree(dir.path());
    let (sys, problems) = sysfs::scan(dir.path()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(sys.len(), 6);
    let (proc_modules, bad) = procfs::parse_proc_modules(PROC_MODULES);
    assert!(bad.is_empty());
    let tree: HashMap<String, String> = procfs::parse_modules_dep(
        "kernel/fs/ext4/ext4.ko.xz: kernel/lib/crc16.ko.xz\nupdates/dkms/vboxdrv.ko:\nupdates/dkms/vboxnetflt.ko: updates/dkms/vboxdrv.ko\n",
    );
    let records = procfs::merge(&proc_modules, Some(&sys), Some(&tree));
    let get = |n: &str| records.iter().find(|r| r.name == n).unwrap();

    assert!(get("8250").builtin && !get("8250").hidden);
    assert!(get("kernel").builtin);
    assert!(!get("ext4").builtin && !get("ext4").hidden);
    assert_eq!(
        get("ext4").file.as_deref(),
        Some("kernel/fs/ext4/ext4.ko.xz")
    );
    assert_eq!(get("vboxdrv").used_by, ["vboxnetflt"]);
    assert_eq!(get("vboxdrv").taint.as_deref(), Some("OE"));
    assert!(
        get("diamorphine").hidden,
        "loaded in sysfs, absent from /proc/modules"
    );
    assert!(!get("diamorphine").builtin);
    assert_eq!(get("diamorphine").initstate.as_deref(), Some("live"));
    assert!(
        get("ghost").hidden,
        "in /proc/modules without a sysfs directory"
    );

    // Without a sysfs listing, nothing can be called hidden.
    let blind = procfs::merge(&proc_modules, None, Some(&tree));
    assert!(blind.iter().all(|r| !r.hidden));
}

#[test]
fn taint_values_decode_to_the_kernel_letters() {
    let letters = |v: u64| -> String {
        procfs::decode_taint(v)
            .iter()
            .map(|f| f.letter.clone())
            .collect()
    };
    assert_eq!(letters(0), "");
    assert_eq!(letters(1), "P");
    assert_eq!(letters(4096), "O");
    assert_eq!(letters(12288), "OE");
    assert_eq!(letters(4097 | 8192), "POE");
    assert_eq!(letters(2 | 8), "FR");
    assert_eq!(letters(512), "W");
    assert_eq!(letters(1 << 18), "N");
    assert_eq!(letters(1 << 30), "?");
    let e = &procfs::decode_taint(8192)[0];
    assert_eq!(
        (e.bit, e.meaning.as_str()),
        (13, "unsigned module was loaded")
    );
}

fn kernel(tainted: u64, tree: Option<&str>) -> Value {
    let flags: Vec<Value> = procfs::decode_taint(tainted)
        .into_iter()
        .map(|f| json!({"bit": f.bit, "letter": f.letter, "meaning": f.meaning}))
        .collect();
    json!({"record": "kernel", "tainted": tainted, "taint_flags": flags, "modules_supported": true,
           "modules_disabled": false, "sig_enforce": false, "kernel_release": "6.1.0-28-amd64",
           "module_tree": tree})
}

fn module(name: &str, taint: Option<&str>, file: Option<&str>, hidden: bool) -> Value {
    json!({"record": "module", "name": name, "in_proc_modules": !hidden, "in_sysfs": true,
           "builtin": false, "hidden": hidden, "size": 16384, "refcount": 0, "used_by": [],
           "state": if hidden { Value::Null } else { json!("Live") }, "address": null,
           "taint": taint, "initstate": "live", "srcversion": null, "version": null, "file": file})
}

/// Findings `irdump report --format json` computes for a bundle holding
/// only `modules.jsonl`.
fn findings_for(lines: &[Value]) -> Vec<Value> {
    let dir = tempdir();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("modules.jsonl"), text).unwrap();
    let out = run(&["report", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"].as_array().unwrap().clone()
}

fn rules(found: &[Value]) -> Vec<(String, String)> {
    found
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn kernel_taint_and_hidden_module_rules() {
    let tree = Some("/lib/modules/6.1.0-28-amd64");
    let pair = |r: &str, s: &str| (r.to_owned(), s.to_owned());

    // A clean kernel raises nothing.
    assert!(findings_for(&[
        kernel(0, tree),
        module("ext4", None, Some("kernel/fs/ext4/ext4.ko"), false)
    ])
    .is_empty());
    // DKMS modules installed in the module tree: low.
    let dkms = findings_for(&[
        kernel(12288, tree),
        module(
            "vboxdrv",
            Some("OE"),
            Some("updates/dkms/vboxdrv.ko"),
            false,
        ),
    ]);
    assert_eq!(rules(&dkms), [pair("kernel-taint", "low")]);
    // The same flags from a module the tree does not list: high.
    let outside = findings_for(&[
        kernel(12288, tree),
        module("vboxdrv", Some("OE"), None, false),
    ]);
    assert_eq!(rules(&outside), [pair("kernel-taint", "high")]);
    assert!(outside[0]["summary"]
        .as_str()
        .unwrap()
        .contains("outside the module tree"));
    // A tainting flag nobody carries any more: medium.
    let gone = findings_for(&[
        kernel(8192, tree),
        module("ext4", None, Some("kernel/fs/ext4/ext4.ko"), false),
    ]);
    assert_eq!(rules(&gone), [pair("kernel-taint", "medium")]);
    // A force-loaded module: high, whatever else.
    let forced = findings_for(&[kernel(2, tree)]);
    assert_eq!(rules(&forced), [pair("kernel-taint", "high")]);
    // A warning taint alone is no finding.
    assert!(findings_for(&[kernel(512, tree)]).is_empty());
    // Hidden module: high, named.
    let hidden = findings_for(&[
        kernel(12288, tree),
        module("diamorphine", Some("OE"), None, true),
    ]);
    let r = rules(&hidden);
    assert!(r.contains(&pair("hidden-module", "high")), "{r:?}");
    let h = hidden
        .iter()
        .find(|f| f["rule"] == "hidden-module")
        .unwrap();
    assert!(h["summary"].as_str().unwrap().contains("diamorphine"));
}

#[test]
fn report_puts_hidden_candidates_first() {
    let dir = tempdir();
    let lines = [
        kernel(12288, Some("/lib/modules/6.1.0-28-amd64")),
        module("ext4", None, Some("kernel/fs/ext4/ext4.ko"), false),
        module("diamorphine", Some("OE"), None, true),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("modules.jsonl"), text).unwrap();
    let out = run(&["report", dir.path().to_str().unwrap()]);
    let report = stdout(&out);
    let section = report.split("[*] Kernel modules").nth(1).unwrap();
    let hidden_at = section.find("HIDDEN-MODULE CANDIDATES (1)").unwrap();
    let loaded_at = section.find("Loaded modules: 1").unwrap();
    assert!(hidden_at < loaded_at, "{section}");
    assert!(
        section.contains("O (bit 12): externally-built"),
        "{section}"
    );
    assert!(section.contains("E (bit 13): unsigned module was loaded"));
}

#[test]
fn live_modules_match_what_the_kernel_lists() {
    let dir = tempdir();
    let (bundle, out) = collect_into(dir.path(), &["--only", "modules"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let lines = jsonl(&bundle, "modules.jsonl");
    assert_eq!(lines[0]["record"], "kernel");
    let tainted: u64 = std::fs::read_to_string("/proc/sys/kernel/tainted")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The taint value can only gain bits while the test runs.
    assert_eq!(lines[0]["tainted"].as_u64().unwrap() & !tainted, 0);
    let modules: Vec<&Value> = lines[1..].iter().collect();

    let sys_names: BTreeSet<String> = std::fs::read_dir("/sys/module")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let ours_in_sys: BTreeSet<String> = modules
        .iter()
        .filter(|m| m["in_sysfs"] == true)
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ours_in_sys, sys_names);

    match std::fs::read_to_string("/proc/modules") {
        Ok(text) => {
            assert_eq!(lines[0]["modules_supported"], true);
            let listed: BTreeSet<String> = text
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_owned)
                .collect();
            let ours: BTreeSet<String> = modules
                .iter()
                .filter(|m| m["in_proc_modules"] == true)
                .map(|m| m["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                ours, listed,
                "modules loaded or unloaded during the test make this differ"
            );
            if let Ok(lsmod) = std::process::Command::new("lsmod").output() {
                let from_lsmod: BTreeSet<String> = String::from_utf8_lossy(&lsmod.stdout)
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_whitespace().next())
                    .map(str::to_owned)
                    .collect();
                assert_eq!(ours, from_lsmod);
            }
        }
        Err(_) => {
            // This kernel cannot load modules: everything in sysfs is built in.
            assert_eq!(lines[0]["modules_supported"], false);
            for m in &modules {
                let name = m["name"].as_str().unwrap();
                let has_initstate = Path::new("/sys/module")
                    .join(name)
                    .join("initstate")
                    .exists();
                assert_eq!(m["builtin"], !has_initstate, "{m}");
            }
        }
    }
    let findings = jsonl(&bundle, "findings.jsonl");
    assert!(
        !findings.iter().any(|f| f["rule"] == "hidden-module"),
        "{findings:#?}"
    );
}
