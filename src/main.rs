//! The `irdump` command line: argument parsing, the terminal summary and
//! exit codes. Everything else lives in the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use irdump::bundle::BundleFiles;
use irdump::records::collection::Status;
use irdump::runner::{self, CollectOptions, Summary};
use irdump::text::{display, display_cut};
use irdump::upload::UploadOptions;
use irdump::{report, verify};

const EXIT_CODES: &str = "\
Exit codes:
  0  complete: every selected collector read everything (verify: intact)
  1  bundle written, but with gaps or failed collectors, or --upload failed
     while -o kept a complete local bundle (verify: tampered)
  2  nothing usable written: bad arguments, output refused, cannot write,
     --upload without -o failed (verify/report: the bundle could not be read)";

/// Live-response collector: preserves volatile evidence (sockets,
/// processes, sessions, network and system state) from a suspect host
/// without running any host program.
#[derive(Parser, Debug)]
#[command(name = "irdump", version, after_help = EXIT_CODES, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, `irdump` runs `collect` with these options.
    #[command(flatten)]
    collect: CollectArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Collect evidence into a new bundle (the default).
    #[command(after_help = EXIT_CODES)]
    Collect(Box<CollectArgs>),
    /// Check every file of a bundle against its SHA256SUMS.
    #[command(after_help = EXIT_CODES)]
    Verify {
        /// Bundle directory, .tar or .tar.gz.
        bundle: PathBuf,
    },
    /// Re-render the report from a bundle's JSON records.
    #[command(after_help = EXIT_CODES)]
    Report {
        /// Bundle directory, .tar or .tar.gz.
        bundle: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// The human report, as `report.txt`.
    Text,
    /// Findings and collector statuses as one JSON document.
    Json,
}

#[derive(Args, Debug, Clone)]
struct CollectArgs {
    /// Output: a new directory (default ./<host>-<UTC time>), NAME.tar,
    /// NAME.tar.gz, or - for a tar stream on stdout (nothing is written on
    /// the host).
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Case identifier, recorded in collection.json and the report.
    #[arg(long, value_name = "ID")]
    case: Option<String>,
    /// Examiner name, recorded in collection.json and the report.
    #[arg(long, value_name = "NAME")]
    examiner: Option<String>,
    /// Run only these collectors (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    only: Option<Vec<String>>,
    /// Do not run these collectors (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    skip: Vec<String>,
    /// Deadline for each collector, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    timeout: f64,
    /// Do not hash executables.
    #[arg(long)]
    no_hash: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// Root of the file system that file-based collectors read (accounts,
    /// packages, persistence): a mounted image, or a fixture tree.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// List the collectors and exit.
    #[arg(long)]
    list_collectors: bool,
    /// Send the bundle off the host while it is collected, file by file:
    /// s3://bucket/prefix (credentials, region and endpoint from AWS_*
    /// variables), a presigned https:// PUT URL (one tar archive, sent at
    /// the end), or sftp://user@host[:port]/path. Without -o nothing is
    /// written on the host. A presigned URL is a secret: pass it in
    /// IRDUMP_UPLOAD rather than on the command line, where ps shows it.
    #[arg(
        long,
        value_name = "DEST",
        env = "IRDUMP_UPLOAD",
        hide_env_values = true
    )]
    upload: Option<String>,
    /// SFTP: the private key to log in with (OpenSSH format, unencrypted;
    /// irdump never prompts).
    #[arg(long, value_name = "FILE", requires = "upload")]
    sftp_key: Option<PathBuf>,
    /// SFTP: check the server's host key against this known_hosts file
    /// (default ~/.ssh/known_hosts).
    #[arg(long, value_name = "FILE", requires = "upload")]
    known_hosts: Option<PathBuf>,
    /// SFTP: accept only the host key with this fingerprint, as
    /// `ssh-keygen -lf` prints it (safer than a known_hosts file on a
    /// suspect host).
    #[arg(
        long,
        value_name = "SHA256:...",
        requires = "upload",
        conflicts_with = "known_hosts"
    )]
    host_key_fingerprint: Option<String>,
    /// S3: path-style addressing (endpoint/bucket/key), as MinIO, Ceph and
    /// Garage often need; automatic when the endpoint is an IP address.
    #[arg(long, requires = "upload")]
    s3_path_style: bool,
}

fn main() -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        None => collect(cli.collect),
        Some(Command::Collect(args)) => collect(*args),
        Some(Command::Verify { bundle }) => verify_bundle(&bundle),
        Some(Command::Report { bundle, format }) => render_report(&bundle, format),
    };
    ExitCode::from(code)
}

/// `RUST_LOG`-style level from `IRDUMP_LOG` (error, warn, info, debug,
/// trace), on stderr; warnings by default. Only irdump's own records are
/// shown: the HTTP and SSH crates log request lines, which for an upload
/// carry signatures and tokens.
fn init_logging() {
    struct StderrLog(log::LevelFilter);
    impl log::Log for StderrLog {
        fn enabled(&self, m: &log::Metadata) -> bool {
            m.level() <= self.0 && m.target().starts_with("irdump")
        }
        fn log(&self, r: &log::Record) {
            if self.enabled(r.metadata()) {
                let msg = r.args().to_string();
                let _ = writeln!(
                    std::io::stderr(),
                    "irdump: {}: {}",
                    r.level(),
                    display(&msg)
                );
            }
        }
        fn flush(&self) {}
    }
    let level = std::env::var("IRDUMP_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(log::LevelFilter::Warn);
    if log::set_boxed_logger(Box::new(StderrLog(level))).is_ok() {
        log::set_max_level(level);
    }
}

fn fail(message: impl std::fmt::Display) -> u8 {
    let text = message.to_string();
    eprintln!("irdump: error: {}", display(&text));
    2
}

fn collect(args: CollectArgs) -> u8 {
    if args.list_collectors {
        for name in irdump::collectors::names() {
            println!("{name}");
        }
        return 0;
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 86_400.0) {
        return fail(format!(
            "--timeout {}: give a number of seconds above 0",
            args.timeout
        ));
    }
    let opts = CollectOptions {
        output: args.output,
        case: args.case,
        examiner: args.examiner,
        only: args.only,
        skip: args.skip,
        timeout: Duration::from_secs_f64(args.timeout),
        no_hash: args.no_hash,
        quiet: args.quiet,
        root: args.root,
        command_line: std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        upload: args.upload.map(|destination| UploadOptions {
            destination,
            sftp_key: args.sftp_key,
            known_hosts: args.known_hosts,
            host_key_fingerprint: args.host_key_fingerprint,
            s3_path_style: args.s3_path_style,
        }),
    };
    let quiet = opts.quiet;
    match runner::collect(&opts) {
        Ok(summary) => {
            if !quiet {
                print_summary(&summary);
            }
            if let Some(line) = summary.upload_error() {
                fail(line);
            }
            summary.exit_code() as u8
        }
        Err(e) => fail(e),
    }
}

/// The terminal summary, on stderr (stdout may carry the tar stream):
/// where the bundle is, how long it took, what each collector recorded,
/// the high findings, the gaps and the manifest's hash. Colour only on a
/// terminal and never with `NO_COLOR` set (<https://no-color.org>); every
/// host string (bundle path, finding summaries) is escaped like the report.
fn print_summary(s: &Summary) {
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(summary_text(s, colour).as_bytes());
}

/// The summary's text (see [`print_summary`]).
fn summary_text(s: &Summary, colour: bool) -> String {
    use std::fmt::Write as _;
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "irdump: bundle {}", display_cut(&s.location, 300));
    let _ = writeln!(out, "  duration   {:.3} s", s.duration.as_secs_f64());
    for c in &s.collectors {
        let status = match c.status {
            Status::Ok => paint("32", "ok"),
            Status::Skipped => "skipped".to_owned(),
            Status::Partial => paint("33", "partial"),
            Status::TimedOut => paint("31", "timed_out"),
            Status::Failed => paint("31", "failed"),
        };
        let _ = writeln!(
            out,
            "  {:<12} {:>7} records  {:>4} gaps  {status}",
            display(&c.name),
            c.records,
            c.gaps.len()
        );
    }
    if s.high_findings.is_empty() {
        let _ = writeln!(out, "  high findings: none");
    } else {
        let title = format!("HIGH findings ({}):", s.high_findings.len());
        let _ = writeln!(out, "  {}", paint("1;31", &title));
        for f in s.high_findings.iter().take(10) {
            let _ = writeln!(
                out,
                "    {}: {}",
                display_cut(&f.rule, 40),
                display_cut(&f.summary, 160)
            );
        }
        if s.high_findings.len() > 10 {
            let _ = writeln!(
                out,
                "    ... {} more in findings.jsonl and report.txt",
                s.high_findings.len() - 10
            );
        }
    }
    let _ = writeln!(out, "  gaps       {}", s.gap_count());
    if let Some(u) = &s.upload {
        let sent = u.files.len() - u.not_uploaded().len();
        let verdict = if u.is_complete() {
            paint("32", "complete")
        } else {
            paint("31", "INCOMPLETE")
        };
        let _ = writeln!(
            out,
            "  upload     {} ({sent} of {} files) {verdict}",
            display(&u.destination),
            u.files.len()
        );
    }
    let _ = writeln!(out, "  SHA256SUMS sha256 {}", s.manifest_sha256);
    out
}

fn load(bundle: &std::path::Path) -> Result<BundleFiles, u8> {
    BundleFiles::load(bundle).map_err(fail)
}

fn verify_bundle(bundle: &std::path::Path) -> u8 {
    let files = match load(bundle) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let verdict = match verify::verify(&files) {
        Ok(v) => v,
        Err(e) => return fail(format!("{}: {e}", bundle.display())),
    };
    let mut out = std::io::stdout().lock();
    for name in &verdict.modified {
        let _ = writeln!(out, "MODIFIED    {}", display(name));
    }
    for name in &verdict.missing {
        let _ = writeln!(out, "MISSING     {}", display(name));
    }
    for name in &verdict.unexpected {
        let _ = writeln!(out, "UNEXPECTED  {}", display(name));
    }
    let shown = bundle.display().to_string();
    if verdict.is_intact() {
        let _ = writeln!(
            out,
            "intact: {} files match SHA256SUMS (sha256 {}) in {}",
            verdict.intact.len(),
            verdict.manifest_sha256,
            display(&shown)
        );
        0
    } else {
        let _ = writeln!(
            out,
            "NOT INTACT: {} modified, {} missing, {} unexpected in {}",
            verdict.modified.len(),
            verdict.missing.len(),
            verdict.unexpected.len(),
            display(&shown)
        );
        1
    }
}

fn render_report(bundle: &std::path::Path, format: ReportFormat) -> u8 {
    let files = match load(bundle) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let text = match format {
        ReportFormat::Text => report::render(&files),
        ReportFormat::Json => report::render_json(&files),
    };
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return 2;
    }
    0
}
