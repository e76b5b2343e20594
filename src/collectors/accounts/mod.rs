//! The `accounts` collector: local accounts and who can act as an
//! administrator (`accounts.jsonl`).
//!
//! The parsers are platform-neutral and public so that tests and fuzz
//! targets reach them: [`passwd`] (passwd, shadow, group), [`sudoers`] (the
//! sudoers tree and its rules), [`ssh_keys`] (`authorized_keys`,
//! `sshd_config`) and [`assemble`] (records and admin reasons from the
//! parsed files). The Linux reader lives in `linux.rs`.

pub mod assemble;
#[cfg(unix)]
pub mod host_file;
pub mod passwd;
pub mod ssh_keys;
pub mod sudoers;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod sys;
#[cfg(windows)]
#[path = "windows.rs"]
mod sys;
#[cfg(not(any(target_os = "linux", windows)))]
#[path = "unsupported.rs"]
mod sys;

use crate::collector::{CollectError, Collector, Context, Output};
use crate::records::account;

/// See the module documentation.
pub struct AccountsCollector;

impl Collector for AccountsCollector {
    fn name(&self) -> &'static str {
        "accounts"
    }

    fn files(&self) -> &'static [&'static str] {
        &[account::FILE]
    }

    fn collect(&self, ctx: &Context, out: &mut Output) -> Result<(), CollectError> {
        sys::collect(ctx, out)
    }
}
