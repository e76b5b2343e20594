//! `persistence.jsonl`: pointers to what will run again (cron, systemd
//! units and timers, rc.local, `/etc/ld.so.preload`, shell start-up files).

/// The bundle file name.
pub const FILE: &str = "persistence.jsonl";
