//! `/sys/module`: one directory per module the kernel knows, loadable or
//! built in. A loaded module has `initstate`, `refcnt`, `sections/` and
//! `holders/`; a built-in one has at most `parameters/`, `version` and
//! `uevent`. That difference is what tells a module hidden from
//! `/proc/modules` from a built-in one.
//!
//! [`scan`] takes the directory to read so that tests can point it at a
//! fixture tree; the collector passes the live `/sys/module`.

use std::io;
use std::path::Path;

/// What sysfs says about one module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysModule {
    /// Directory name.
    pub name: String,
    /// `initstate` (`live`, `coming`, `going`).
    pub initstate: Option<String>,
    /// `refcnt`.
    pub refcnt: Option<i64>,
    /// Whether `sections/` exists.
    pub has_sections: bool,
    /// `taint` letters.
    pub taint: Option<String>,
    /// `srcversion`.
    pub srcversion: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// Entries of `holders/`.
    pub holders: Vec<String>,
}

impl SysModule {
    /// True when sysfs describes a loaded (not built-in) module.
    pub fn looks_loaded(&self) -> bool {
        self.initstate.is_some() || self.refcnt.is_some() || self.has_sections
    }
}

/// A file of a module directory that exists but could not be read.
#[derive(Debug)]
pub struct ScanProblem {
    /// The path.
    pub path: String,
    /// The error.
    pub error: io::Error,
}

/// Reads every module directory under `dir`, sorted by name.
///
/// # Errors
///
/// When `dir` itself cannot be listed.
pub fn scan(dir: &Path) -> io::Result<(Vec<SysModule>, Vec<ScanProblem>)> {
    let mut modules = Vec::new();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = match entry {
            Ok(e) => e,
            Err(error) => {
                problems.push(ScanProblem {
                    path: dir.display().to_string(),
                    error,
                });
                continue;
            }
        };
        let path = entry.path();
        let mut read = |file: &str| -> Option<String> {
            let p = path.join(file);
            match std::fs::read_to_string(&p) {
                Ok(v) => Some(v.trim().to_owned()).filter(|v| !v.is_empty()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(error) => {
                    problems.push(ScanProblem {
                        path: p.display().to_string(),
                        error,
                    });
                    None
                }
            }
        };
        let mut m = SysModule {
            name: entry.file_name().to_string_lossy().into_owned(),
            initstate: read("initstate"),
            refcnt: read("refcnt").and_then(|r| r.parse().ok()),
            taint: read("taint"),
            srcversion: read("srcversion"),
            version: read("version"),
            has_sections: path.join("sections").is_dir(),
            holders: Vec::new(),
        };
        if let Ok(holders) = std::fs::read_dir(path.join("holders")) {
            for h in holders {
                match h {
                    Ok(h) => m.holders.push(h.file_name().to_string_lossy().into_owned()),
                    Err(error) => problems.push(ScanProblem {
                        path: path.join("holders").display().to_string(),
                        error,
                    }),
                }
            }
            m.holders.sort();
        }
        modules.push(m);
    }
    modules.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((modules, problems))
}
