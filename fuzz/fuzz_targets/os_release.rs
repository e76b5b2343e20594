//! `/etc/os-release` parser: any text, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = irdump::collectors::system::parse::parse_os_release(text);
});
