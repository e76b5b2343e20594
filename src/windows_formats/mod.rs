//! Decoders for the data the Windows API hands back: binary tables, SIDs,
//! FILETIMEs, UTF-16 strings, command lines, servicing package names.
//!
//! The Windows back ends (`src/collectors/*/windows.rs`, `src/host/windows.rs`)
//! call the API and own every `unsafe` block; they pass what they receive
//! here as plain bytes, integers or `u16` slices. Keeping the decoding apart
//! from the calls means it compiles and is tested on every platform,
//! Linux CI included, against byte layouts taken from Microsoft's
//! documentation.

pub mod accounts;
pub mod command_line;
pub mod hotfixes;
pub mod names;
pub mod sid;
pub mod sockaddr;
pub mod sockets;
pub mod time;
pub mod wide;
