//! SFTP: the bundle becomes a new directory `<path>/<host>-<UTC time>/` on the
//! server, one remote file per bundle file.
//!
//! Crates: `russh` (pure-Rust SSH, with `ring` for its cryptography so the
//! static musl build needs no C library beyond what `ring` compiles itself)
//! and `russh-sftp`. Both are asynchronous and need tokio; there is no
//! maintained pure-Rust blocking SSH client, and `ssh2` links libssh2 and
//! OpenSSL, which the static build cannot carry. The runtime is contained
//! here: one current-thread runtime, owned by the upload's background
//! thread, that `block_on`s each step; nothing else in irdump is async.
//!
//! Each file is written as `<name>.part` (mode 0600), read back and
//! compared with its SHA-256 (SFTP has no checksum the server verifies, so
//! the stored copy is checked instead), then renamed to `<name>`: a name
//! without `.part` is always a complete, verified copy. The bundle
//! directory is created with `mkdir` (mode 0700) and must not exist:
//! nothing on the server is ever overwritten, and OpenSSH's `rename`
//! refuses to replace an existing file.
//!
//! Authentication is by key only (`--sftp-key`); an encrypted key is
//! refused, because irdump never prompts for a passphrase. The host key is
//! checked by [`HostTrust`] before any credential is sent.
//!
//! A connection lost mid-file is a transient failure: the next attempt
//! reconnects and rewrites the `.part` file from the start.
//!
//! Limitation: if the connection drops after the server created the bundle
//! directory but before its answer arrived, the next attempt finds the
//! directory and refuses it as existing; the upload then stops and names
//! every file that did not leave, as for any other failure.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::{FileAttributes, OpenFlags, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::hostkey::HostTrust;
use crate::upload::destination::SftpTarget;
use crate::upload::queue::{Delivery, Store};
use crate::upload::retry::Failure;

/// Time allowed to connect, agree keys and authenticate.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Time allowed for one file (write, read back, rename).
const FILE_TIMEOUT: Duration = Duration::from_secs(120);

/// What authenticates the client and the server.
#[derive(Clone)]
pub struct SftpAuth {
    /// The client's private key.
    pub key: Arc<PrivateKey>,
    /// How the server's host key is checked.
    pub trust: Arc<HostTrust>,
}

impl SftpAuth {
    /// Loads the private key at `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not a private key, or is encrypted.
    pub fn load_key(path: &std::path::Path) -> Result<PrivateKey, String> {
        match russh::keys::load_secret_key(path, None) {
            Ok(key) => Ok(key),
            Err(russh::keys::Error::KeyIsEncrypted) => {
                Err("the key is encrypted and irdump never prompts for a passphrase".into())
            }
            Err(russh::keys::Error::IO(e)) => Err(e.to_string()),
            Err(e) => Err(format!("not a usable private key ({e})")),
        }
    }
}

/// Uploads bundle files over SFTP.
pub struct SftpStore {
    target: SftpTarget,
    auth: SftpAuth,
    remote_dir: String,
    runtime: Option<tokio::runtime::Runtime>,
    connection: Option<Connection>,
    dir_created: bool,
}

struct Connection {
    ssh: Handle<Verifier>,
    sftp: SftpSession,
}

impl SftpStore {
    /// A store that will create `<target.dir>/<bundle>/`. Nothing connects
    /// before the first file.
    pub fn new(target: &SftpTarget, auth: SftpAuth, bundle: &str) -> Self {
        let remote_dir = match target.dir.as_str() {
            "/" => format!("/{bundle}"),
            "." => bundle.to_owned(),
            dir => format!("{dir}/{bundle}"),
        };
        SftpStore {
            target: target.clone(),
            auth,
            remote_dir,
            runtime: None,
            connection: None,
            dir_created: false,
        }
    }

    fn runtime(&mut self) -> Result<&tokio::runtime::Runtime, Failure> {
        if self.runtime.is_none() {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()
                .map_err(|e| Failure::permanent(format!("cannot start the SSH runtime: {e}")))?;
            self.runtime = Some(rt);
        }
        self.runtime
            .as_ref()
            .ok_or_else(|| Failure::permanent("no SSH runtime"))
    }

    fn put_file(&mut self, name: &str, data: &[u8]) -> Result<(), Failure> {
        let target = self.target.clone();
        let auth = self.auth.clone();
        let remote_dir = self.remote_dir.clone();
        let mut connection = self.connection.take();
        let mut dir_created = self.dir_created;
        let rt = self.runtime()?;
        let result = rt.block_on(async {
            let conn = match connection.take() {
                Some(c) => c,
                None => connect(&target, &auth).await?,
            };
            let step = async {
                if !dir_created {
                    make_bundle_dir(&conn.sftp, &remote_dir).await?;
                    dir_created = true;
                }
                write_verified(&conn.sftp, &remote_dir, name, data).await
            };
            let outcome = match tokio::time::timeout(FILE_TIMEOUT, step).await {
                Ok(r) => r,
                Err(_) => Err(Failure::transient(format!(
                    "no answer within {} s",
                    FILE_TIMEOUT.as_secs()
                ))),
            };
            // A connection that failed mid-file is dropped; the next
            // attempt opens a fresh one.
            match &outcome {
                Err(f) if f.transient => {}
                _ => connection = Some(conn),
            }
            outcome
        });
        self.connection = connection;
        self.dir_created = dir_created;
        result
    }
}

impl Store for SftpStore {
    fn put(&mut self, name: &str, data: &[u8]) -> Result<Delivery, Failure> {
        self.put_file(name, data).map(|()| Delivery::Stored)
    }

    fn finish(&mut self) -> Result<(), Failure> {
        if let (Some(conn), Some(rt)) = (self.connection.take(), self.runtime.as_ref()) {
            rt.block_on(async {
                let _ = conn.sftp.close().await;
                let _ = conn
                    .ssh
                    .disconnect(russh::Disconnect::ByApplication, "", "en")
                    .await;
            });
        }
        Ok(())
    }
}

/// Checks the server's host key and remembers why it refused one.
struct Verifier {
    trust: Arc<HostTrust>,
    host: String,
    port: u16,
    refusal: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let verdict = match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                self.trust.check(&self.host, self.port, key)
            }
            PublicKeyOrCertificate::Certificate(_) => {
                Err("the server offered a host certificate, which irdump does not check".into())
            }
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(reason) => {
                if let Ok(mut slot) = self.refusal.lock() {
                    *slot = Some(reason);
                }
                Ok(false)
            }
        }
    }
}

async fn connect(target: &SftpTarget, auth: &SftpAuth) -> Result<Connection, Failure> {
    match tokio::time::timeout(CONNECT_TIMEOUT, connect_inner(target, auth)).await {
        Ok(r) => r,
        Err(_) => Err(Failure::transient(format!(
            "no SSH session within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

async fn connect_inner(target: &SftpTarget, auth: &SftpAuth) -> Result<Connection, Failure> {
    let refusal = Arc::new(Mutex::new(None));
    let verifier = Verifier {
        trust: Arc::clone(&auth.trust),
        host: target.host.clone(),
        port: target.port,
        refusal: Arc::clone(&refusal),
    };
    let mut config = client::Config {
        inactivity_timeout: Some(Duration::from_secs(120)),
        nodelay: true,
        ..client::Config::default()
    };
    let known = auth.trust.algorithms_for(&target.host, target.port);
    if !known.is_empty() {
        let same_type = |a: &Algorithm| {
            known.iter().any(|k| {
                k == a || (matches!(k, Algorithm::Rsa { .. }) && matches!(a, Algorithm::Rsa { .. }))
            })
        };
        let wanted: Vec<_> = config
            .preferred
            .key
            .iter()
            .filter(|a| same_type(a))
            .cloned()
            .collect();
        if !wanted.is_empty() {
            config.preferred.key = wanted.into();
        }
    }
    let addr = (target.host.as_str(), target.port);
    let mut ssh = match client::connect(Arc::new(config), addr, verifier).await {
        Ok(h) => h,
        Err(e) => {
            let refused = refusal.lock().ok().and_then(|mut s| s.take());
            return Err(match refused {
                Some(reason) => Failure::permanent(reason),
                None => classify_ssh(&e),
            });
        }
    };
    let hash = if auth.key.algorithm().is_rsa() {
        ssh.best_supported_rsa_hash()
            .await
            .map_err(|e| classify_ssh(&e))?
            .flatten()
    } else {
        None
    };
    let key = PrivateKeyWithHashAlg::new(Arc::clone(&auth.key), hash);
    let result = ssh
        .authenticate_publickey(target.user.clone(), key)
        .await
        .map_err(|e| classify_ssh(&e))?;
    if !result.success() {
        return Err(Failure::permanent(format!(
            "the server refused the key for user {}",
            target.user
        )));
    }
    let channel = ssh
        .channel_open_session()
        .await
        .map_err(|e| classify_ssh(&e))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| classify_ssh(&e))?;
    let sftp = SftpSession::new(channel.into_stream())
        .await
        .map_err(|e| classify_sftp("starting SFTP", &e))?;
    Ok(Connection { ssh, sftp })
}

async fn make_bundle_dir(sftp: &SftpSession, dir: &str) -> Result<(), Failure> {
    if let Err(e) = sftp.create_dir(dir).await {
        if matches!(sftp.try_exists(dir).await, Ok(true)) {
            return Err(Failure::permanent(format!(
                "{dir} already exists on the server (irdump never writes into an existing directory)"
            )));
        }
        return Err(classify_sftp(&format!("creating {dir}"), &e));
    }
    let attrs = FileAttributes {
        permissions: Some(0o700),
        ..FileAttributes::empty()
    };
    sftp.set_metadata(dir, attrs)
        .await
        .map_err(|e| classify_sftp(&format!("setting the mode of {dir}"), &e))
}

async fn write_verified(
    sftp: &SftpSession,
    dir: &str,
    name: &str,
    data: &[u8],
) -> Result<(), Failure> {
    let part = format!("{dir}/{name}.part");
    let last = format!("{dir}/{name}");
    let attrs = FileAttributes {
        permissions: Some(0o600),
        ..FileAttributes::empty()
    };
    let flags = OpenFlags::CREATE | OpenFlags::TRUNCATE | OpenFlags::WRITE;
    let mut file = sftp
        .open_with_flags_and_attributes(part.as_str(), flags, attrs)
        .await
        .map_err(|e| classify_sftp(&format!("creating {part}"), &e))?;
    file.write_all(data)
        .await
        .map_err(|e| io_failure(&format!("writing {part}"), &e))?;
    file.sync_all()
        .await
        .map_err(|e| classify_sftp(&format!("syncing {part}"), &e))?;
    file.shutdown()
        .await
        .map_err(|e| io_failure(&format!("closing {part}"), &e))?;

    let stored = sftp
        .read(part.as_str())
        .await
        .map_err(|e| classify_sftp(&format!("reading back {part}"), &e))?;
    if Sha256::digest(&stored) != Sha256::digest(data) {
        return Err(Failure::transient(format!(
            "the stored copy of {name} differs from what was sent ({} of {} bytes)",
            stored.len(),
            data.len()
        )));
    }
    sftp.rename(part.as_str(), last.as_str())
        .await
        .map_err(|e| classify_sftp(&format!("renaming {part}"), &e))
}

/// What an SSH error means. Connection-level trouble is transient;
/// a protocol or key disagreement is not.
fn classify_ssh(e: &russh::Error) -> Failure {
    use russh::Error as E;
    match e {
        E::IO(io) => io_failure("connecting", io),
        E::Disconnect | E::HUP | E::SendError | E::RecvError => {
            Failure::transient("the server closed the connection")
        }
        E::ConnectionTimeout | E::KeepaliveTimeout | E::InactivityTimeout | E::Elapsed(_) => {
            Failure::transient("the SSH connection timed out")
        }
        E::ChannelOpenFailure(_) | E::WrongChannel => {
            Failure::transient("the server would not open a channel")
        }
        E::RequestDenied => Failure::permanent("the server refused the SFTP subsystem"),
        E::UnknownKey => Failure::permanent("the server's host key was refused"),
        E::NoCommonAlgo { kind, .. } => {
            Failure::permanent(format!("no {kind:?} algorithm in common with the server"))
        }
        other => Failure::permanent(format!("SSH: {other}")),
    }
}

fn classify_sftp(doing: &str, e: &russh_sftp::client::error::Error) -> Failure {
    use russh_sftp::client::error::Error as E;
    match e {
        E::Status(status) => {
            let cause = format!("{doing}: {} ({})", status.error_message, status.status_code);
            match status.status_code {
                StatusCode::ConnectionLost | StatusCode::NoConnection => Failure::transient(cause),
                _ => Failure::permanent(cause),
            }
        }
        E::Timeout => Failure::transient(format!("{doing}: no answer from the server")),
        other => Failure::transient(format!("{doing}: connection lost ({other})")),
    }
}

fn io_failure(doing: &str, e: &std::io::Error) -> Failure {
    use std::io::ErrorKind as K;
    let transient = matches!(
        e.kind(),
        K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::TimedOut
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NotConnected
            | K::Other
    );
    let cause = format!("{doing}: {e}");
    if transient {
        Failure::transient(cause)
    } else {
        Failure::permanent(cause)
    }
}
