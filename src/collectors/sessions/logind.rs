//! systemd-logind's session files, `/run/systemd/sessions/<id>`: one
//! `KEY=value` file per open session (user, tty, remote host, leader pid,
//! start time). They list sessions that utmp may not (systemd hosts where
//! the login program writes no utmp record, Debian 13 and later), so both
//! are read.
//!
//! Limitation: the format is logind's private state ("Do not parse" says
//! its header); keys irdump does not know are ignored, and a renamed key
//! leaves its field null.

use jiff::Timestamp;

use crate::records::session::SessionRecord;

/// Builds the record for session `id` from its file's text.
pub fn parse_session(id: &str, text: &str) -> SessionRecord {
    let mut rec = SessionRecord {
        source: "logind".into(),
        kind: "SESSION".into(),
        session: id.parse().ok(),
        ..SessionRecord::default()
    };
    let mut class = None;
    let mut kind = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key {
            "USER" => rec.user = Some(value.to_owned()),
            "TTY" => rec.tty = Some(value.to_owned()),
            "DISPLAY" if rec.tty.is_none() => rec.tty = Some(value.to_owned()),
            "REMOTE_HOST" => rec.host = Some(value.to_owned()),
            "LEADER" => rec.pid = value.parse().ok(),
            "REALTIME" => {
                rec.time = value
                    .parse::<i64>()
                    .ok()
                    .and_then(|us| Timestamp::from_microsecond(us).ok());
            }
            "TYPE" => kind = Some(value.to_owned()),
            "CLASS" => class = Some(value.to_owned()),
            _ => {}
        }
    }
    if let Some(k) = kind {
        rec.kind = match class {
            Some(c) => format!("{k}/{c}"),
            None => k,
        };
    }
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_ssh_session() {
        let r = parse_session(
            "3",
            "# This is private data. Do not parse.\nUID=1000\nUSER=alice\nSTATE=active\nREMOTE=1\nTYPE=tty\nCLASS=user\nTTY=pts/0\nSERVICE=sshd\nLEADER=1234\nREMOTE_HOST=203.0.113.7\nREALTIME=1700000000123456\n",
        );
        assert_eq!(r.user.as_deref(), Some("alice"));
        assert_eq!(r.pid, Some(1234));
        assert_eq!(r.session, Some(3));
        assert_eq!(r.kind, "tty/user");
        assert_eq!(r.time.unwrap().to_string(), "2023-11-14T22:13:20.123456Z");
    }
}
