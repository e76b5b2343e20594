//! The bundle's record types: what each JSON and JSON Lines file holds.
//!
//! Collectors serialise these and the report renderer and finding rules
//! deserialise them, so the report is a pure function of the bundle. Field
//! names are the contract documented in `docs/bundle.md`: they are
//! snake_case, every timestamp is RFC 3339 in UTC with a `Z`, and a value
//! the host did not give is `null`, never a made-up default. Fields added
//! later carry `#[serde(default)]` so that older bundles still render.

pub mod account;
pub mod collection;
pub mod finding;
pub mod module;
pub mod netconfig;
pub mod network;
pub mod persistence;
pub mod process;
pub mod session;
pub mod system;
