//! An OpenSSH server on loopback for one test: its own configuration, host
//! key, client key and `authorized_keys` in a temporary directory, run in
//! the foreground (`-D -e`), logging in as root (the tests run as root).
//! Optionally inside a network namespace whose loopback is rate-limited,
//! so that an upload takes long enough to be interrupted.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::ChildGuard;

const SSHD: &str = "/usr/sbin/sshd";

/// Why sshd cannot be used, if it cannot.
pub fn missing() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("the SFTP tests run sshd and log in as root: run them as root".into());
    }
    if !Path::new(SSHD).is_file() {
        return Some(format!("{SSHD} not found (apt-get install openssh-server)"));
    }
    if super::find_program("ssh-keygen", &[]).is_none() {
        return Some("ssh-keygen not found (apt-get install openssh-client)".into());
    }
    None
}

/// A running sshd.
pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// Where uploads go (`sftp://root@127.0.0.1:port/<remote>`).
    pub remote: PathBuf,
    /// The client's private key.
    pub client_key: PathBuf,
    /// A known_hosts file holding the server's host key.
    pub known_hosts: PathBuf,
    /// The server's host key fingerprint, `SHA256:...`.
    pub fingerprint: String,
    /// The fingerprint of a key the server does not have.
    pub other_fingerprint: String,
    /// The public line of that other key.
    pub other_public: String,
    server: ChildGuard,
}

fn keygen(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fp = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path.with_extension("pub"))
        .output()
        .expect("ssh-keygen -lf runs");
    String::from_utf8_lossy(&fp.stdout)
        .split_whitespace()
        .nth(1)
        .expect("fingerprint")
        .to_owned()
}

impl Sshd {
    /// Starts sshd on 127.0.0.1 of the test's own network namespace.
    pub fn start() -> Sshd {
        Self::start_in(None)
    }

    /// Starts sshd, inside `netns` when given.
    pub fn start_in(netns: Option<&str>) -> Sshd {
        // sshd refuses to start without its privilege separation directory;
        // Debian creates it at boot only when the service is enabled.
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let fingerprint = keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        let other_fingerprint = keygen(&d.join("other_key"));
        let other_public = std::fs::read_to_string(d.join("other_key.pub")).expect("pub");
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).expect("copy");
        let remote = d.join("remote");
        std::fs::create_dir(&remote).expect("remote dir");
        let port = super::free_port();
        let host_pub = std::fs::read_to_string(d.join("host_key.pub")).expect("host pub");
        let known_hosts = d.join("known_hosts");
        std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {host_pub}")).expect("kh");
        let config = d.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1:{port}\n\
                 HostKey {hk}\n\
                 PidFile {pid}\n\
                 AuthorizedKeysFile {ak}\n\
                 PermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 UsePAM no\n\
                 StrictModes no\n\
                 Subsystem sftp internal-sftp\n\
                 LogLevel VERBOSE\n",
                hk = d.join("host_key").display(),
                pid = d.join("sshd.pid").display(),
                ak = d.join("authorized_keys").display(),
            ),
        )
        .expect("sshd_config");
        let log_path = d.join("sshd.log");
        let log = std::fs::File::create(&log_path).expect("log");
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, SSHD]);
                c
            }
            None => Command::new(SSHD),
        };
        cmd.arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        let server = ChildGuard(Some(cmd.spawn().expect("sshd starts")));
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if text.contains("Server listening") {
                break;
            }
            assert!(Instant::now() < until, "sshd did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Sshd {
            port,
            remote,
            client_key: d.join("client_key"),
            known_hosts,
            fingerprint,
            other_fingerprint,
            other_public,
            server,
            dir,
        }
    }

    /// The destination for irdump.
    pub fn url(&self) -> String {
        format!(
            "sftp://root@127.0.0.1:{}{}",
            self.port,
            self.remote.display()
        )
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Stops the server at once: the listener and every process it
    /// started (the per-connection session processes too), by PID.
    pub fn kill_all(&mut self) {
        let root = self.server.pid();
        let mut tree = vec![root];
        let mut i = 0;
        while i < tree.len() {
            tree.extend(children_of(tree[i]));
            i += 1;
        }
        for pid in tree.iter().rev() {
            if let Some(pid) = rustix::process::Pid::from_raw(*pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        drop(self.server.0.take().map(|mut c| c.wait()));
    }
}

/// PIDs whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces and parentheses.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let ppid = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

/// A network namespace with a rate-limited loopback, deleted on drop.
pub struct SlowNetns {
    pub name: String,
}

impl SlowNetns {
    /// Creates `irdump-upload-<pid>-<tag>` with loopback limited to `rate`
    /// (a `tc` rate such as `256kbit`). `None` with the reason when the
    /// kernel or tools cannot.
    pub fn create(tag: &str, rate: &str) -> Result<SlowNetns, String> {
        let name = format!("irdump-upload-{}-{tag}", std::process::id());
        let run = |args: &[&str]| -> Result<(), String> {
            let out = Command::new(args[0])
                .args(&args[1..])
                .output()
                .map_err(|e| format!("{}: {e}", args[0]))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "{}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        };
        run(&["ip", "netns", "add", &name])?;
        let ns = SlowNetns { name };
        let n = ns.name.as_str();
        run(&["ip", "-n", n, "link", "set", "lo", "mtu", "1500"])?;
        run(&["ip", "-n", n, "link", "set", "lo", "up"])?;
        run(&[
            "tc", "-n", n, "qdisc", "add", "dev", "lo", "root", "tbf", "rate", rate, "burst",
            "4kb", "latency", "2s",
        ])?;
        Ok(ns)
    }
}

impl Drop for SlowNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
