//! A single-node Garage cluster on loopback, made for one test: generated
//! configuration and RPC secret, metadata and data in a temporary
//! directory, a layout of one node, one key, one bucket.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use super::{find_program, free_port, ChildGuard};

/// A running Garage server and its credentials.
pub struct Garage {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
    pub config: PathBuf,
    pub endpoint: String,
    pub key_id: String,
    pub secret: String,
    pub bucket: String,
    _server: ChildGuard,
}

/// Why Garage cannot be used, if it cannot.
pub fn missing() -> Option<String> {
    garage_bin()
        .is_none()
        .then(|| "garage not found (cargo install garage --locked, or set GARAGE_BIN)".to_owned())
}

fn garage_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GARAGE_BIN") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let cargo_bin: Vec<PathBuf> = home
        .map(|h| vec![h.join(".cargo/bin/garage")])
        .unwrap_or_default();
    find_program("garage", &cargo_bin)
}

impl Garage {
    /// Starts a server with the bucket `bucket`. Panics when anything in
    /// the setup fails: the test then cannot mean anything.
    pub fn start(bucket: &str) -> Garage {
        let bin = garage_bin().expect("garage binary");
        let dir = tempfile::tempdir().expect("temp dir");
        let s3_port = free_port();
        let rpc_port = free_port();
        let secret: String = (0..32).map(|_| format!("{:02x}", rand_byte())).collect();
        let config = dir.path().join("garage.toml");
        let text = format!(
            "metadata_dir = \"{meta}\"\n\
             data_dir = \"{data}\"\n\
             db_engine = \"sqlite\"\n\
             replication_factor = 1\n\
             rpc_bind_addr = \"127.0.0.1:{rpc_port}\"\n\
             rpc_public_addr = \"127.0.0.1:{rpc_port}\"\n\
             rpc_secret = \"{secret}\"\n\
             [s3_api]\n\
             s3_region = \"garage\"\n\
             api_bind_addr = \"127.0.0.1:{s3_port}\"\n",
            meta = dir.path().join("meta").display(),
            data = dir.path().join("data").display(),
        );
        std::fs::write(&config, text).expect("write garage.toml");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let server = Command::new(&bin)
            .arg("-c")
            .arg(&config)
            .arg("server")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("garage server starts");
        let server = ChildGuard(Some(server));
        let mut g = Garage {
            bin,
            config,
            endpoint: format!("http://127.0.0.1:{s3_port}"),
            key_id: String::new(),
            secret: String::new(),
            bucket: bucket.to_owned(),
            _server: server,
            dir,
        };
        g.wait_ready();
        let node = g.cli(&["node", "id", "-q"]);
        let node = node.trim().split('@').next().unwrap_or_default().to_owned();
        g.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node]);
        g.cli(&["layout", "apply", "--version", "1"]);
        let key = g.cli(&["key", "create", "irdump-test"]);
        g.key_id = field(&key, "Key ID:");
        g.secret = field(&key, "Secret key:");
        g.create_bucket(bucket);
        g.wait_writable();
        g
    }

    /// Runs the Garage CLI against this server; panics on failure.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(&self.bin)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .output()
            .expect("garage cli runs");
        assert!(
            out.status.success(),
            "garage {args:?}: {}{}\nserver log: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Creates `name` and lets the test key read and write it.
    pub fn create_bucket(&self, name: &str) {
        self.cli(&["bucket", "create", name]);
        self.cli(&[
            "bucket",
            "allow",
            "--read",
            "--write",
            name,
            "--key",
            "irdump-test",
        ]);
    }

    fn wait_ready(&self) {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = Command::new(&self.bin)
                .arg("-c")
                .arg(&self.config)
                .arg("status")
                .output()
                .is_ok_and(|o| o.status.success());
            if ok {
                return;
            }
            assert!(
                Instant::now() < until,
                "garage did not start: {}",
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until a PUT succeeds (the layout takes a moment to apply).
    fn wait_writable(&self) {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, _) = self.put_raw(".irdump-probe", b"probe", &[]);
            if status == 200 {
                let url = self.signed(Method::Delete, ".irdump-probe");
                let _ = ureq::delete(url.as_str()).call();
                return;
            }
            assert!(
                Instant::now() < until,
                "garage never accepted a PUT: {status}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The environment irdump needs to reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret.clone()),
            ("AWS_REGION", "garage".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
        ]
    }

    fn bucket_of(&self, name: &str) -> Bucket {
        Bucket::new(
            self.endpoint.parse().expect("endpoint URL"),
            UrlStyle::Path,
            name.to_owned(),
            "garage",
        )
        .expect("bucket")
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(self.key_id.clone(), self.secret.clone())
    }

    /// A signed URL for `key` in the test bucket.
    pub fn signed(&self, method: Method, key: &str) -> url::Url {
        let bucket = self.bucket_of(&self.bucket);
        let creds = self.credentials();
        let lifetime = Duration::from_secs(600);
        match method {
            Method::Get => bucket.get_object(Some(&creds), key).sign(lifetime),
            Method::Delete => bucket.delete_object(Some(&creds), key).sign(lifetime),
            Method::Put => bucket.put_object(Some(&creds), key).sign(lifetime),
        }
    }

    /// A presigned PUT URL for `key`, valid for `lifetime`.
    pub fn presign_put(&self, key: &str, lifetime: Duration) -> String {
        let bucket = self.bucket_of(&self.bucket);
        let creds = self.credentials();
        bucket
            .put_object(Some(&creds), key)
            .sign(lifetime)
            .to_string()
    }

    /// PUTs with extra signed headers; returns status and body.
    pub fn put_raw(&self, key: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, String) {
        let bucket = self.bucket_of(&self.bucket);
        let creds = self.credentials();
        let mut action = bucket.put_object(Some(&creds), key);
        for (k, v) in headers {
            action.headers_mut().insert(*k, *v);
        }
        let url = action.sign(Duration::from_secs(600));
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut req = agent.put(url.as_str());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut resp = req.send(body).expect("PUT reaches garage");
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap_or_default())
    }

    /// Downloads `key` with a signed GET.
    pub fn get(&self, key: &str) -> Vec<u8> {
        let url = self.signed(Method::Get, key);
        let mut resp = ureq::get(url.as_str()).call().expect("GET object");
        resp.body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .expect("object body")
    }

    /// Every key under `prefix` in the test bucket.
    pub fn list(&self, prefix: &str) -> Vec<String> {
        let bucket = self.bucket_of(&self.bucket);
        let creds = self.credentials();
        let mut action = bucket.list_objects_v2(Some(&creds));
        action.with_prefix(prefix);
        let url = action.sign(Duration::from_secs(600));
        let body = ureq::get(url.as_str())
            .call()
            .expect("list objects")
            .body_mut()
            .read_to_string()
            .expect("list body");
        rusty_s3::actions::ListObjectsV2::parse_response(&body)
            .expect("list parses")
            .contents
            .into_iter()
            .map(|c| c.key)
            .collect()
    }

    /// The one bundle directory under `prefix` (`<host>-<UTC time>`, the
    /// remote name of every upload). Panics unless there is exactly one.
    pub fn only_bundle(&self, prefix: &str) -> String {
        let mut names: Vec<String> = self
            .list(prefix)
            .iter()
            .filter_map(|k| k[prefix.len()..].split('/').next().map(str::to_owned))
            .collect();
        names.dedup();
        assert_eq!(names.len(), 1, "bundles under {prefix:?}: {names:?}");
        names.remove(0)
    }

    /// Downloads every object under `prefix` into `dir` (named after the
    /// last path segment) and returns the number of objects.
    pub fn download_into(&self, prefix: &str, dir: &Path) -> usize {
        std::fs::create_dir_all(dir).expect("mkdir");
        let keys = self.list(prefix);
        for key in &keys {
            let name = key.rsplit('/').next().expect("name");
            std::fs::write(dir.join(name), self.get(key)).expect("write download");
        }
        keys.len()
    }
}

/// Request kinds the tests sign.
pub enum Method {
    Get,
    Put,
    Delete,
}

fn field(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no {label} in:\n{text}"))
}

/// A random byte from the kernel, for the RPC secret.
fn rand_byte() -> u8 {
    use std::io::Read;
    let mut b = [0u8; 1];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("/dev/urandom");
    b[0]
}
