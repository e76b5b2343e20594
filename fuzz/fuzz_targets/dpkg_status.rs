//! dpkg status and apk installed-database parsers: any text, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = irdump::collectors::system::parse::parse_dpkg_status(text);
    let _ = irdump::collectors::system::parse::parse_apk_installed(text);
});
