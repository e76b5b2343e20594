//! The collection runner: runs the collectors most volatile first, each on
//! its own thread with a deadline, streams each collector's files into the
//! bundle as soon as it finishes, then writes findings, `collection.json`,
//! the report and finally `SHA256SUMS`.
//!
//! A collector that overruns its deadline is abandoned (its thread is left
//! to die with the process) and recorded as `timed_out`; one that panics is
//! recorded as `failed`; every other collector still lands. A file that
//! cannot be written (disk full) is left out of the manifest, the bundle is
//! marked incomplete in `collection.json`, and the run ends with exit 2.
//!
//! With `--upload`, every file also goes to [`crate::upload`] the moment it
//! is written (and even when the local write failed), and leaves on a
//! background thread. Before `collection.json` is written the runner waits
//! a bounded time (`upload::RECORD_WAIT`) for the files in flight, so that
//! `collection.json` records how each fared without a dead network holding
//! the local bundle up. Without `-o`, nothing is written on the host.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::bundle::writer::{BundleError, BundleWriter, Target};
use crate::bundle::BundleFiles;
use crate::collector::{CollectError, Collector, Context, Deferred, Output};
use crate::records::collection::{Collection, CollectorRun, Gap, Status, Tool};
use crate::records::finding::{Finding, Severity};
use crate::shared::SharedScans;
use crate::upload::{self, Upload, UploadError, UploadOptions, UploadOutcome};
use crate::{collectors, findings, host, report};

/// Extra time a collector gets after its deadline to return what it has.
const GRACE: Duration = Duration::from_millis(1500);

/// Options of `irdump collect`.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// `-o`: directory, `.tar`, `.tar.gz` or `-`; `None` for the default.
    pub output: Option<PathBuf>,
    /// `--case`.
    pub case: Option<String>,
    /// `--examiner`.
    pub examiner: Option<String>,
    /// `--only`: run only these collectors.
    pub only: Option<Vec<String>>,
    /// `--skip`: do not run these collectors.
    pub skip: Vec<String>,
    /// Per-collector deadline.
    pub timeout: Duration,
    /// `--no-hash`.
    pub no_hash: bool,
    /// `--quiet`: no progress.
    pub quiet: bool,
    /// `--root`: file-system root for file-based collectors.
    pub root: PathBuf,
    /// The command line, for `collection.json`.
    pub command_line: Vec<String>,
    /// `--upload` and its options; without `output`, the bundle is only
    /// uploaded and nothing is written on the host.
    pub upload: Option<UploadOptions>,
}

/// Why nothing usable was written.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `--only` or `--skip` names no collector.
    #[error("unknown collector {name:?} (known: {known})")]
    UnknownCollector {
        /// The unknown name.
        name: String,
        /// The known names.
        known: String,
    },
    /// The output could not be created.
    #[error("output: {0}")]
    Output(#[from] BundleError),
    /// `--upload` and its options are not usable.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// Writing stopped part-way: some evidence did not reach the bundle.
    #[error(
        "output incomplete: {cause}; not written: {missing}; {written} files written whole{}{}",
        if *manifest { " and listed in SHA256SUMS" } else { ", no SHA256SUMS" },
        upload.as_ref().map(|u| format!("; {u}")).unwrap_or_default()
    )]
    Incomplete {
        /// The first write error.
        cause: String,
        /// Files written.
        written: usize,
        /// Whether `SHA256SUMS` was written over them.
        manifest: bool,
        /// Files not written.
        missing: String,
        /// How the upload went, when there was one.
        upload: Option<String>,
    },
}

/// What a finished collection reports to the user.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Where the bundle is.
    pub location: String,
    /// Wall time.
    pub duration: Duration,
    /// Per collector: name, status, records, gaps.
    pub collectors: Vec<CollectorRun>,
    /// Findings of high severity (all of them; the caller shows the first).
    pub high_findings: Vec<Finding>,
    /// SHA-256 of `SHA256SUMS`.
    pub manifest_sha256: String,
    /// How `--upload` went.
    pub upload: Option<UploadOutcome>,
    /// False when nothing was written on the host (`--upload` without `-o`).
    pub local_copy: bool,
}

impl Summary {
    /// Total gaps across collectors.
    pub fn gap_count(&self) -> usize {
        self.collectors.iter().map(|c| c.gaps.len()).sum()
    }

    /// Exit code: 0 when every collector that ran is `ok` and every file
    /// was uploaded; 1 when there were gaps, or the upload failed but the
    /// local bundle is complete; 2 when the upload failed and nothing was
    /// written on the host.
    pub fn exit_code(&self) -> i32 {
        let clean = self
            .collectors
            .iter()
            .all(|c| matches!(c.status, Status::Ok | Status::Skipped));
        let uploaded = self.upload.as_ref().is_none_or(UploadOutcome::is_complete);
        match (clean, uploaded) {
            (_, false) if !self.local_copy => 2,
            (true, true) => 0,
            _ => 1,
        }
    }

    /// The one-line error for an incomplete upload, naming the files that
    /// did not leave and where the data is.
    pub fn upload_error(&self) -> Option<String> {
        let local = if self.local_copy {
            format!("the local bundle {} is complete", self.location)
        } else {
            "nothing was written on this host".to_owned()
        };
        self.upload.as_ref()?.error_line(&local)
    }
}

/// A collector and whether `--only`/`--skip` selected it.
pub type Planned = (Arc<dyn Collector>, bool);

/// Checks `--only` and `--skip` names and returns the collectors to run, in
/// order, each with whether it is selected.
///
/// # Errors
///
/// [`RunError::UnknownCollector`] for a name that is no collector.
pub fn select(
    all: Vec<Arc<dyn Collector>>,
    only: Option<&[String]>,
    skip: &[String],
) -> Result<Vec<Planned>, RunError> {
    let known: Vec<&str> = all.iter().map(|c| c.name()).collect();
    for name in only.unwrap_or_default().iter().chain(skip) {
        if !known.contains(&name.as_str()) {
            return Err(RunError::UnknownCollector {
                name: name.clone(),
                known: known.join(", "),
            });
        }
    }
    Ok(all
        .into_iter()
        .map(|c| {
            let name = c.name().to_owned();
            let selected = only.is_none_or(|o| o.contains(&name)) && !skip.contains(&name);
            (c, selected)
        })
        .collect())
}

/// Runs a whole collection.
///
/// # Errors
///
/// [`RunError`] when nothing usable could be written, or the bundle is
/// incomplete.
pub fn collect(opts: &CollectOptions) -> Result<Summary, RunError> {
    collect_with(opts, collectors::all())
}

/// Runs a collection with the given collectors (in run order): what
/// [`collect`] does with every collector, and what tests do with their own.
///
/// # Errors
///
/// As [`collect`].
pub fn collect_with(
    opts: &CollectOptions,
    all: Vec<Arc<dyn Collector>>,
) -> Result<Summary, RunError> {
    let started = Timestamp::now();
    let clock = Instant::now();
    let plan = select(all, opts.only.as_deref(), &opts.skip)?;
    let identity = host::identity();
    let (tz, tz_info) = host::timezone_at(started);
    let default_name = format!(
        "{}-{}",
        host::file_safe_name(&identity.hostname),
        started.strftime("%Y%m%dT%H%M%SZ")
    );
    let prepared = opts.upload.as_ref().map(upload::prepare).transpose()?;
    let target = match (&opts.output, &prepared) {
        (None, Some(_)) => Target::Nowhere,
        (output, _) => Target::from_arg(output.as_deref(), &default_name),
    };
    let bundle_name = target.bundle_name(&default_name);
    let mtime = started.as_second().max(0) as u64;
    let writer = BundleWriter::create(&target, &bundle_name, mtime)?;
    log::info!("writing bundle to {}", writer.location());
    // Remotely the bundle is always `<host>-<UTC time>`, whatever `-o` named
    // it locally: bundles of many hosts under one prefix never collide.
    let upload = prepared.map(|p| p.start(&default_name, mtime));
    if let Some(u) = &upload {
        log::info!("uploading to {}", u.destination());
    }

    let mut state = RunState {
        writer,
        kept: BundleFiles::default(),
        write_errors: Vec::new(),
        not_written: Vec::new(),
        tar_broken: false,
        upload,
    };
    let shared = Arc::new(SharedScans::default());
    let progress = !opts.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let base_ctx = |deadline| Context {
        root: opts.root.clone(),
        no_hash: opts.no_hash,
        deadline,
        progress,
        shared: Arc::clone(&shared),
    };

    let mut runs: Vec<CollectorRun> = Vec::new();
    let mut pending: Vec<(usize, Output, Deferred)> = Vec::new();
    for (collector, selected) in plan {
        if !collector.volatile() && !pending.is_empty() {
            run_deferred(&mut pending, &mut runs, &mut state, opts.timeout, &base_ctx);
        }
        if !selected {
            runs.push(CollectorRun {
                name: collector.name().into(),
                status: Status::Skipped,
                started: None,
                finished: None,
                duration_ms: 0,
                records: 0,
                files: Vec::new(),
                gaps: Vec::new(),
            });
            continue;
        }
        let ctx = base_ctx(Instant::now() + opts.timeout);
        let (run, out) = run_collector(&collector, ctx);
        runs.push(run);
        let index = runs.len() - 1;
        if let Some(mut out) = out {
            match out.take_deferred() {
                Some(work) => pending.push((index, out, work)),
                None => state.write_output(&mut runs[index], out),
            }
        }
    }
    run_deferred(&mut pending, &mut runs, &mut state, opts.timeout, &base_ctx);

    let analysis_started = Timestamp::now();
    let analysis_clock = Instant::now();
    let (found, finding_gaps) = findings::analyze_at(&state.kept, Some(started));
    let mut findings_out = Output::for_files(&[findings::FILE]);
    for f in &found {
        findings_out.record(findings::FILE, f);
    }
    for g in finding_gaps {
        findings_out.gap(g.what, g.cause);
    }
    let analysis_run = CollectorRun {
        name: "findings".into(),
        status: if findings_out.gaps().is_empty() {
            Status::Ok
        } else {
            Status::Partial
        },
        started: Some(analysis_started),
        finished: Some(Timestamp::now()),
        duration_ms: now_ms(analysis_clock),
        records: findings_out.records(),
        files: vec![findings::FILE.into()],
        gaps: findings_out.gaps().to_vec(),
    };
    runs.push(analysis_run);
    let last = runs.len() - 1;
    state.write_output(&mut runs[last], findings_out);

    let finished = Timestamp::now();
    let duration = clock.elapsed();
    let complete = state.write_errors.is_empty();
    let collection = Collection {
        tool: Tool {
            name: "irdump".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        command_line: match &state.upload {
            Some(u) => opts.command_line.iter().map(|a| u.scrub(a)).collect(),
            None => opts.command_line.clone(),
        },
        case: opts.case.clone(),
        examiner: opts.examiner.clone(),
        hostname: identity.hostname.clone(),
        machine_id: identity.machine_id.clone(),
        boot_id: identity.boot_id.clone(),
        started,
        started_local: started
            .to_zoned(tz)
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        finished,
        duration_ms: duration.as_millis() as u64,
        timezone: tz_info,
        clock: host::clock_state(),
        euid: host::effective_uid(),
        privileged: host::privileged(),
        bundle_name: bundle_name.clone(),
        output_kind: target.kind().into(),
        complete,
        incomplete_reason: (!complete).then(|| state.write_errors.join("; ")),
        collectors: runs.clone(),
        upload: state.upload.as_ref().map(Upload::record),
    };
    match serde_json::to_vec_pretty(&collection) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            state.write_file(crate::records::collection::FILE, bytes);
        }
        Err(e) => state.write_errors.push(format!("collection.json: {e}")),
    }
    let report_clock = Instant::now();
    let rendered = report::render(&state.kept);
    log::debug!("report rendered in {} ms", now_ms(report_clock));
    state.write_file(report::FILE, rendered.into_bytes());

    let RunState {
        writer,
        write_errors,
        mut not_written,
        tar_broken,
        upload,
        ..
    } = state;
    let location = writer.location().to_owned();
    let local_copy = writer.keeps_a_copy();
    let written = writer.written().count();
    let manifest = if tar_broken {
        None
    } else {
        Some(writer.finish())
    };
    // The upload sends its own SHA256SUMS, over what it was handed.
    let upload = upload.map(Upload::finish);
    if !write_errors.is_empty() || !matches!(manifest, Some(Ok(_))) {
        let mut causes = write_errors;
        match &manifest {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                causes.push(e.to_string());
                not_written.push(crate::bundle::manifest::FILE.into());
            }
            None => not_written.push(crate::bundle::manifest::FILE.into()),
        }
        return Err(RunError::Incomplete {
            cause: causes.first().cloned().unwrap_or_else(|| "unknown".into()),
            written,
            manifest: matches!(manifest, Some(Ok(_))),
            missing: not_written.join(", "),
            upload: upload.map(|u| {
                u.error_line("the local bundle is incomplete too")
                    .unwrap_or_else(|| {
                        format!(
                            "every file, SHA256SUMS included, was uploaded to {}",
                            u.destination
                        )
                    })
            }),
        });
    }
    let manifest_sha256 = match manifest {
        Some(Ok(digest)) => digest,
        _ => String::new(),
    };
    Ok(Summary {
        location,
        duration,
        high_findings: found
            .into_iter()
            .filter(|f| f.severity == Severity::High)
            .collect(),
        collectors: runs,
        manifest_sha256,
        upload,
        local_copy,
    })
}

struct RunState {
    writer: BundleWriter,
    kept: BundleFiles,
    write_errors: Vec<String>,
    not_written: Vec<String>,
    tar_broken: bool,
    upload: Option<Upload>,
}

impl RunState {
    fn write_output(&mut self, run: &mut CollectorRun, out: Output) {
        for (name, data) in out.into_files() {
            // A collector that failed outright looked at nothing: an empty
            // file would claim "looked, found nothing".
            if run.status == Status::Failed && data.is_empty() {
                continue;
            }
            if self.write_file(name, data) {
                run.files.push(name.to_owned());
            } else {
                run.gaps.push(Gap {
                    what: name.to_owned(),
                    cause: "could not be written to the bundle".into(),
                });
                if run.status == Status::Ok {
                    run.status = Status::Partial;
                }
            }
        }
    }

    /// Writes one file, keeping a copy for findings and the report, and
    /// hands it to the upload. Returns false when it could not be written
    /// whole on the host.
    fn write_file(&mut self, name: &str, data: Vec<u8>) -> bool {
        let data = match &self.upload {
            Some(upload) => upload.scrub_file(data),
            None => data,
        };
        if let Some(upload) = &mut self.upload {
            upload.send(name, &data);
        }
        if self.tar_broken {
            self.not_written.push(name.to_owned());
            return false;
        }
        let clock = Instant::now();
        let written = self.writer.add(name, &data);
        log::debug!(
            "{name}: {} bytes written in {} ms",
            data.len(),
            now_ms(clock)
        );
        match written {
            Ok(()) => {
                self.kept.files.insert(name.to_owned(), data);
                true
            }
            Err(e) => {
                // Not logged here: the run ends with an error naming it.
                log::debug!("evidence lost: {e}");
                self.write_errors.push(e.to_string());
                self.not_written.push(name.to_owned());
                if self.writer.is_archive() {
                    self.tar_broken = true;
                }
                false
            }
        }
    }
}

fn now_ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// Runs one collector on its own thread; returns its run record and its
/// output (none if it was abandoned).
fn run_collector(collector: &Arc<dyn Collector>, ctx: Context) -> (CollectorRun, Option<Output>) {
    let name = collector.name();
    let started = Timestamp::now();
    let clock = Instant::now();
    let deadline = ctx.deadline;
    let (tx, rx) = mpsc::channel();
    let c = Arc::clone(collector);
    let spawned = std::thread::Builder::new()
        .name(format!("collect-{name}"))
        .spawn(move || {
            let mut out = Output::for_files(c.files());
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| c.collect(&ctx, &mut out)));
            let _ = tx.send((out, result));
        });
    let mut run = CollectorRun {
        name: name.into(),
        status: Status::Ok,
        started: Some(started),
        finished: None,
        duration_ms: 0,
        records: 0,
        files: Vec::new(),
        gaps: Vec::new(),
    };
    if let Err(e) = spawned {
        run.status = Status::Failed;
        run.gaps.push(Gap {
            what: name.into(),
            cause: format!("could not start a thread: {e}"),
        });
        return (run, None);
    }
    let wait = deadline.saturating_duration_since(Instant::now()) + GRACE;
    let received = rx.recv_timeout(wait);
    run.finished = Some(Timestamp::now());
    run.duration_ms = now_ms(clock);
    match received {
        Ok((out, result)) => {
            settle(&mut run, &out, result);
            (run, Some(out))
        }
        Err(_) => {
            log::warn!("collector {name} did not finish before its deadline; abandoned");
            run.status = Status::TimedOut;
            run.gaps.push(Gap {
                what: name.into(),
                cause: format!(
                    "no answer within {} ms; nothing from it was kept",
                    run.duration_ms
                ),
            });
            (run, None)
        }
    }
}

type Caught = std::thread::Result<Result<(), CollectError>>;

fn settle(run: &mut CollectorRun, out: &Output, result: Caught) {
    run.records = out.records();
    run.gaps = out.gaps().to_vec();
    let failure = match result {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(panic) => Some(format!("collector panicked: {}", panic_message(&panic))),
    };
    run.status = if let Some(cause) = failure {
        run.gaps.push(Gap {
            what: run.name.clone(),
            cause,
        });
        if out.records() > 0 {
            Status::Partial
        } else {
            Status::Failed
        }
    } else if out.timed_out() {
        Status::TimedOut
    } else if run.gaps.is_empty() {
        Status::Ok
    } else {
        Status::Partial
    };
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs the deferred work of finished collectors, then writes their files.
fn run_deferred(
    pending: &mut Vec<(usize, Output, Deferred)>,
    runs: &mut [CollectorRun],
    state: &mut RunState,
    timeout: Duration,
    base_ctx: &dyn Fn(Instant) -> Context,
) {
    for (index, out, work) in pending.drain(..) {
        let run = &mut runs[index];
        let clock = Instant::now();
        let ctx = base_ctx(clock + timeout);
        let deadline = ctx.deadline;
        let backup = out.snapshot();
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name(format!("finish-{}", run.name))
            .spawn(move || {
                let mut out = out;
                let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    work(&ctx, &mut out);
                    Ok(())
                }));
                let _ = tx.send((out, result));
            });
        if let Err(e) = spawned {
            run.gaps.push(Gap {
                what: run.name.clone(),
                cause: format!("could not start a thread: {e}"),
            });
            state.write_output(run, backup);
            continue;
        }
        let received = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()) + GRACE);
        run.duration_ms += now_ms(clock);
        run.finished = Some(Timestamp::now());
        match received {
            Ok((out, result)) => {
                let timed_out_before = run.status == Status::TimedOut;
                settle(run, &out, result);
                if timed_out_before {
                    run.status = Status::TimedOut;
                }
                state.write_output(run, out);
            }
            Err(_) => {
                run.status = Status::TimedOut;
                run.gaps.push(Gap {
                    what: run.name.clone(),
                    cause: "deferred work (hashing) overran its deadline; records kept without it"
                        .into(),
                });
                state.write_output(run, backup);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::CollectError;

    /// A collector that behaves as told.
    struct Fake {
        name: &'static str,
        behaviour: Behaviour,
    }

    #[derive(Clone, Copy)]
    enum Behaviour {
        Works,
        Hangs,
        Panics,
        Fails,
        StopsAtDeadline,
    }

    impl Collector for Fake {
        fn name(&self) -> &'static str {
            self.name
        }

        fn files(&self) -> &'static [&'static str] {
            match self.name {
                "works" => &["works.jsonl"],
                "hangs" => &["hangs.jsonl"],
                _ => &[],
            }
        }

        fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
            match self.behaviour {
                Behaviour::Works => {
                    out.record("works.jsonl", &serde_json::json!({"n": 1}));
                    Ok(())
                }
                Behaviour::Hangs => {
                    std::thread::sleep(Duration::from_secs(3600));
                    Ok(())
                }
                Behaviour::Panics => panic!("boom"),
                Behaviour::Fails => Err(CollectError::Other("no source".into())),
                Behaviour::StopsAtDeadline => {
                    while !ctx.expired() {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    out.gap("items after the deadline", "not read");
                    out.mark_timed_out();
                    Ok(())
                }
            }
        }
    }

    fn options(dir: &std::path::Path) -> CollectOptions {
        CollectOptions {
            output: Some(dir.join("bundle")),
            case: None,
            examiner: None,
            only: None,
            skip: Vec::new(),
            timeout: Duration::from_millis(200),
            no_hash: true,
            quiet: true,
            root: PathBuf::from("/"),
            command_line: vec!["irdump".into()],
            upload: None,
        }
    }

    fn fakes() -> Vec<Arc<dyn Collector>> {
        [
            ("hangs", Behaviour::Hangs),
            ("panics", Behaviour::Panics),
            ("fails", Behaviour::Fails),
            ("slow", Behaviour::StopsAtDeadline),
            ("works", Behaviour::Works),
        ]
        .into_iter()
        .map(|(name, behaviour)| Arc::new(Fake { name, behaviour }) as Arc<dyn Collector>)
        .collect()
    }

    #[test]
    fn one_bad_collector_never_costs_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let summary = collect_with(&options(dir.path()), fakes()).unwrap();
        let status = |n: &str| {
            summary
                .collectors
                .iter()
                .find(|c| c.name == n)
                .unwrap()
                .status
        };
        assert_eq!(status("hangs"), Status::TimedOut);
        assert_eq!(status("panics"), Status::Failed);
        assert_eq!(status("fails"), Status::Failed);
        assert_eq!(status("slow"), Status::TimedOut);
        assert_eq!(status("works"), Status::Ok);
        assert_eq!(summary.exit_code(), 1);
        let bundle = dir.path().join("bundle");
        assert_eq!(
            std::fs::read_to_string(bundle.join("works.jsonl")).unwrap(),
            "{\"n\":1}\n"
        );
        assert!(
            !bundle.join("hangs.jsonl").exists(),
            "an abandoned collector wrote a file"
        );
        let c: Collection =
            serde_json::from_slice(&std::fs::read(bundle.join("collection.json")).unwrap())
                .unwrap();
        let panicked = c.collectors.iter().find(|r| r.name == "panics").unwrap();
        assert!(
            panicked.gaps[0].cause.contains("boom"),
            "{:?}",
            panicked.gaps
        );
        let verdict = crate::verify::verify(&BundleFiles::load(&bundle).unwrap()).unwrap();
        assert!(verdict.is_intact());
    }

    #[test]
    fn selection_rejects_unknown_names_and_keeps_order() {
        let err = select(fakes(), Some(&["nosuch".to_owned()]), &[])
            .err()
            .unwrap();
        assert!(err.to_string().contains("nosuch"), "{err}");
        let plan = select(fakes(), None, &["panics".to_owned()]).unwrap();
        let picked: Vec<(&str, bool)> = plan.iter().map(|(c, s)| (c.name(), *s)).collect();
        assert_eq!(picked[0], ("hangs", true));
        assert_eq!(picked[1], ("panics", false));
    }
}
