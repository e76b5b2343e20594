//! `--upload DEST`: what the argument names, the settings it takes from the
//! environment, and the secrets that must never be shown.
//!
//! Three forms are understood:
//!
//! - `s3://bucket[/prefix]`: credentials, region and endpoint come from the
//!   variables every S3 tool reads (`AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
//!   `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`).
//! - `https://...` (or `http://...` for a lab store): a presigned PUT URL.
//! - `sftp://user@host[:port]/path`: the path is absolute; `/~/dir` is
//!   relative to the login directory.
//!
//! Parsing is separate from the environment (a closure supplies variables)
//! so that every rule is tested without touching the process environment.
//!
//! Limitation: S3 credentials come only from the environment; the shared
//! credentials file, instance metadata (IMDS) and SSO are not consulted,
//! because each would make irdump read more of the suspect host or talk to
//! more services than the one it was told to use.

use std::net::IpAddr;

use url::Url;

use super::UploadError;

/// Where the bundle goes.
#[derive(Debug, Clone)]
pub enum Destination {
    /// An S3-compatible bucket.
    S3(S3Target),
    /// A presigned PUT URL: the bundle is sent as one tar archive.
    Presigned(PresignedTarget),
    /// A directory on an SFTP server.
    Sftp(SftpTarget),
}

/// `s3://bucket/prefix` with its settings from the environment.
#[derive(Debug, Clone)]
pub struct S3Target {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix without leading or trailing `/`; may be empty.
    pub prefix: String,
    /// Endpoint (scheme, host, port).
    pub endpoint: Url,
    /// Signing region.
    pub region: String,
    /// Path-style addressing (`endpoint/bucket/key`) instead of
    /// virtual-host style (`bucket.endpoint/key`).
    pub path_style: bool,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_key: String,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<String>,
}

/// A presigned URL.
#[derive(Debug, Clone)]
pub struct PresignedTarget {
    /// The whole URL, query string included: a secret.
    pub url: Url,
    /// An Azure SAS URL (it needs `x-ms-blob-type: BlockBlob`).
    pub azure: bool,
    /// When the signature expires, as the URL itself says (AWS and GCS V4
    /// `X-*-Date` plus `X-*-Expires`, AWS V2 `Expires`, Azure `se`); used
    /// to name the cause when the server refuses an expired URL, whose
    /// answer is often vague ("Date is too old").
    pub expires: Option<jiff::Timestamp>,
}

/// `sftp://user@host:port/path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SftpTarget {
    /// Login name.
    pub user: String,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Remote directory that will hold the bundle directory: absolute, or
    /// relative to the login directory.
    pub dir: String,
}

impl Destination {
    /// Parses `--upload DEST`, reading S3 settings through `env`.
    ///
    /// # Errors
    ///
    /// [`UploadError::Destination`] naming what is wrong, never a secret.
    pub fn parse(
        arg: &str,
        force_path_style: bool,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Destination, UploadError> {
        let bad = |reason: String| UploadError::Destination {
            shown: shown_arg(arg),
            reason,
        };
        let lower = arg.to_ascii_lowercase();
        if let Some(rest) = arg.strip_prefix("s3://") {
            parse_s3(rest, force_path_style, env).map_err(bad)
        } else if lower.starts_with("https://") || lower.starts_with("http://") {
            parse_presigned(arg)
                .map(Destination::Presigned)
                .map_err(bad)
        } else if lower.starts_with("sftp://") {
            parse_sftp(arg).map(Destination::Sftp).map_err(bad)
        } else {
            Err(bad(
                "give s3://bucket/prefix, a presigned https:// URL, or sftp://user@host/path"
                    .into(),
            ))
        }
    }

    /// `s3`, `presigned` or `sftp`.
    pub fn kind(&self) -> &'static str {
        match self {
            Destination::S3(_) => "s3",
            Destination::Presigned(_) => "presigned",
            Destination::Sftp(_) => "sftp",
        }
    }

    /// The destination as it may be shown: no credentials, no query string.
    /// `bundle` names the bundle directory under it (not for presigned URLs,
    /// whose object name is fixed by whoever signed them).
    pub fn shown(&self, bundle: &str) -> String {
        match self {
            Destination::S3(s) => {
                let prefix = if s.prefix.is_empty() {
                    String::new()
                } else {
                    format!("{}/", s.prefix)
                };
                format!("s3://{}/{prefix}{bundle}/", s.bucket)
            }
            Destination::Presigned(p) => strip_secrets(&p.url),
            Destination::Sftp(s) => {
                let host = if s.host.contains(':') {
                    format!("[{}]", s.host)
                } else {
                    s.host.clone()
                };
                let dir = if s.dir.starts_with('/') {
                    s.dir.clone()
                } else {
                    format!("/~/{}", s.dir)
                };
                let sep = if dir.ends_with('/') { "" } else { "/" };
                format!("sftp://{}@{host}:{}{dir}{sep}{bundle}/", s.user, s.port)
            }
        }
    }

    /// The secrets this destination carries, for [`Secrets::scrub`].
    pub fn secrets(&self) -> Secrets {
        let mut secrets = Secrets::default();
        match self {
            Destination::S3(s) => {
                secrets.add(&s.access_key);
                secrets.add(&s.secret_key);
                if let Some(t) = &s.session_token {
                    secrets.add(t);
                }
            }
            Destination::Presigned(p) => {
                if let Some(pw) = p.url.password() {
                    secrets.add(pw);
                }
                if let Some(q) = p.url.query() {
                    secrets.add(q);
                }
                for (_, value) in p.url.query_pairs() {
                    secrets.add(&value);
                }
                if let Some(q) = p.url.query() {
                    for pair in q.split('&') {
                        if let Some((_, raw)) = pair.split_once('=') {
                            secrets.add(raw);
                        }
                    }
                }
            }
            Destination::Sftp(_) => {}
        }
        secrets
    }
}

/// Strings that must never appear in a message, log line or record.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Values shorter than this are not secrets worth hiding (`3600`,
    /// `sp=w`) and replacing them would garble messages.
    const MIN_LEN: usize = 8;

    fn add(&mut self, value: &str) {
        if value.len() >= Self::MIN_LEN && !self.0.iter().any(|s| s == value) {
            self.0.push(value.to_owned());
        }
    }

    /// Whether any secret occurs in `text`.
    pub fn appears_in(&self, text: &str) -> bool {
        self.0.iter().any(|s| text.contains(s.as_str()))
    }

    /// `text` with every secret replaced by `[redacted]`, longest first so
    /// that a secret containing another is hidden whole.
    pub fn scrub(&self, text: &str) -> String {
        let mut sorted: Vec<&String> = self.0.iter().collect();
        sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = text.to_owned();
        for secret in sorted {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "[redacted]");
            }
        }
        out
    }
}

/// A destination argument as it may appear in an error: up to the query
/// string and without user information.
fn shown_arg(arg: &str) -> String {
    match Url::parse(arg) {
        Ok(url) if url.scheme() != "s3" => strip_secrets(&url),
        _ => arg.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

/// A URL without password, query string or fragment.
fn strip_secrets(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_password(None);
    shown.to_string()
}

fn parse_s3(
    rest: &str,
    force_path_style: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Destination, String> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-']);
    if !valid_bucket {
        return Err(format!(
            "{bucket:?} is not a bucket name (3 to 63 lowercase letters, digits, dots, hyphens)"
        ));
    }
    let prefix = prefix.trim_matches('/').to_owned();
    if prefix.split('/').any(|part| part == "." || part == "..") {
        return Err("the prefix may not contain . or .. segments".into());
    }
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    let (Some(access_key), Some(secret_key)) =
        (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
    else {
        return Err("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment".into());
    };
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let endpoint_text = var("AWS_ENDPOINT_URL_S3")
        .or_else(|| var("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    let endpoint = Url::parse(&endpoint_text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            format!(
                "endpoint {} is not an http(s) URL",
                shown_arg(&endpoint_text)
            )
        })?;
    if endpoint.query().is_some()
        || !endpoint.username().is_empty()
        || endpoint.password().is_some()
    {
        return Err("the endpoint URL may not carry a query string or user name".into());
    }
    // Virtual-host addressing needs a DNS name under which the bucket is a
    // label; an address or a bucket name with dots (TLS wildcard) cannot.
    let host_is_address = match endpoint.host() {
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => true,
        Some(url::Host::Domain(d)) => d == "localhost" || d.parse::<IpAddr>().is_ok(),
        None => true,
    };
    Ok(Destination::S3(S3Target {
        bucket: bucket.to_owned(),
        prefix,
        path_style: force_path_style || host_is_address || bucket.contains('.'),
        endpoint,
        region,
        access_key,
        secret_key,
        session_token: var("AWS_SESSION_TOKEN"),
    }))
}

fn parse_presigned(arg: &str) -> Result<PresignedTarget, String> {
    let url = Url::parse(arg).map_err(|e| format!("not a URL ({e})"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL names no host".into());
    }
    if url.query().is_none_or(str::is_empty) {
        return Err("the URL has no query string: give the presigned PUT URL whole".into());
    }
    let has = |key: &str| url.query_pairs().any(|(k, _)| k == key);
    Ok(PresignedTarget {
        azure: has("sig") && has("sv"),
        expires: presigned_expiry(&url),
        url,
    })
}

/// The expiry a presigned URL states, if it states one in a known form.
pub fn presigned_expiry(url: &Url) -> Option<jiff::Timestamp> {
    let param = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.into_owned())
    };
    let compact = |text: &str| {
        jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", text)
            .ok()?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    };
    for (date, expires) in [
        ("X-Amz-Date", "X-Amz-Expires"),
        ("X-Goog-Date", "X-Goog-Expires"),
    ] {
        if let (Some(d), Some(e)) = (param(date), param(expires)) {
            let seconds: i64 = e.parse().ok()?;
            return compact(&d)?
                .checked_add(jiff::SignedDuration::from_secs(seconds))
                .ok();
        }
    }
    if let Some(se) = param("se").filter(|_| url.query_pairs().any(|(k, _)| k == "sig")) {
        return se.parse::<jiff::Timestamp>().ok().or_else(|| {
            se.parse::<jiff::civil::Date>()
                .ok()?
                .to_zoned(jiff::tz::TimeZone::UTC)
                .ok()
                .map(|z| z.timestamp())
        });
    }
    let epoch: i64 = param("Expires")?.parse().ok()?;
    jiff::Timestamp::from_second(epoch).ok()
}

fn parse_sftp(arg: &str) -> Result<SftpTarget, String> {
    let url = Url::parse(arg).map_err(|e| format!("not a URL ({e})"))?;
    if url.password().is_some() {
        return Err("passwords are not accepted: authenticate with --sftp-key".into());
    }
    let user = percent_decode(url.username())?;
    if user.is_empty() {
        return Err("name the login: sftp://user@host/path".into());
    }
    let host = match url.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => return Err("the URL names no host".into()),
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err("an sftp URL takes no query string or fragment".into());
    }
    let path = percent_decode(url.path())?;
    let dir = match path.strip_prefix("/~") {
        Some("") => ".".to_owned(),
        Some(rest) if rest.starts_with('/') => {
            let rel = rest.trim_matches('/');
            if rel.is_empty() {
                ".".to_owned()
            } else {
                rel.to_owned()
            }
        }
        _ if path.is_empty() || path == "/" => "/".to_owned(),
        _ => path.trim_end_matches('/').to_owned(),
    };
    if dir.split('/').any(|part| part == "..") {
        return Err("the path may not contain .. segments".into());
    }
    Ok(SftpTarget {
        user,
        host,
        port: url.port().unwrap_or(22),
        dir,
    })
}

fn percent_decode(text: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "the URL is not valid UTF-8 once decoded".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const CREDS: [(&str, &str); 2] = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE123"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY",
        ),
    ];

    #[test]
    fn s3_defaults_to_aws_virtual_host() {
        let d = Destination::parse("s3://evidence/cases/42/", false, &env(&CREDS)).unwrap();
        let Destination::S3(s) = &d else { panic!() };
        assert_eq!(s.bucket, "evidence");
        assert_eq!(s.prefix, "cases/42");
        assert_eq!(s.region, "us-east-1");
        assert_eq!(s.endpoint.as_str(), "https://s3.us-east-1.amazonaws.com/");
        assert!(!s.path_style);
        assert_eq!(d.shown("h-1"), "s3://evidence/cases/42/h-1/");
    }

    #[test]
    fn s3_on_an_address_is_path_style() {
        let mut vars = CREDS.to_vec();
        vars.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:3900"));
        vars.push(("AWS_REGION", "garage"));
        vars.push(("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN"));
        let d = Destination::parse("s3://evidence", false, &env(&vars)).unwrap();
        let Destination::S3(s) = &d else { panic!() };
        assert!(s.path_style);
        assert_eq!(s.region, "garage");
        assert_eq!(s.prefix, "");
        assert_eq!(d.shown("h-1"), "s3://evidence/h-1/");
        let scrubbed = d.secrets().scrub(
            "key AKIDEXAMPLE123 secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY token FwoGZXIvYXdzEXAMPLETOKEN",
        );
        assert_eq!(
            scrubbed,
            "key [redacted] secret [redacted] token [redacted]"
        );
    }

    #[test]
    fn s3_without_credentials_or_with_a_bad_bucket_is_refused() {
        let e = Destination::parse("s3://evidence", false, &env(&[])).unwrap_err();
        assert!(e.to_string().contains("AWS_ACCESS_KEY_ID"), "{e}");
        let e = Destination::parse("s3://Bad_Bucket/x", false, &env(&CREDS)).unwrap_err();
        assert!(e.to_string().contains("not a bucket name"), "{e}");
        let e = Destination::parse("s3://ok-bucket/a/../b", false, &env(&CREDS)).unwrap_err();
        assert!(e.to_string().contains(".."), "{e}");
    }

    #[test]
    fn presigned_url_is_shown_without_its_query() {
        let url = "https://bucket.s3.amazonaws.com/host1.tar?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=0123456789abcdef";
        let d = Destination::parse(url, false, &env(&[])).unwrap();
        assert_eq!(d.kind(), "presigned");
        assert_eq!(d.shown("x"), "https://bucket.s3.amazonaws.com/host1.tar");
        let s = d.secrets().scrub(&format!("failed: {url}"));
        assert!(!s.contains("0123456789abcdef"), "{s}");
        assert!(!s.contains("AKIDEXAMPLE"), "{s}");
        let Destination::Presigned(p) = d else {
            panic!()
        };
        assert!(!p.azure);
        let e = Destination::parse("https://example.com/x", false, &env(&[])).unwrap_err();
        assert!(e.to_string().contains("no query string"), "{e}");
    }

    #[test]
    fn presigned_expiry_is_read_from_the_url() {
        let at = |u: &str| presigned_expiry(&Url::parse(u).unwrap()).map(|t| t.to_string());
        assert_eq!(
            at("https://h/o?X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-Signature=x")
                .as_deref(),
            Some("2024-01-01T01:00:00Z")
        );
        assert_eq!(
            at("https://h/o?X-Goog-Date=20240101T120000Z&X-Goog-Expires=60").as_deref(),
            Some("2024-01-01T12:01:00Z")
        );
        assert_eq!(
            at("https://a.blob.core.windows.net/c/o?sv=1&se=2024-02-03T04:05:06Z&sig=x").as_deref(),
            Some("2024-02-03T04:05:06Z")
        );
        assert_eq!(
            at("https://a.blob.core.windows.net/c/o?sv=1&se=2024-02-03&sig=x").as_deref(),
            Some("2024-02-03T00:00:00Z")
        );
        assert_eq!(
            at("https://h/o?AWSAccessKeyId=a&Expires=1700000000&Signature=s").as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(at("https://h/o?token=abc"), None);
    }

    #[test]
    fn azure_sas_url_is_recognised() {
        let d = Destination::parse(
            "https://acct.blob.core.windows.net/c/h.tar?sv=2022-11-02&sp=cw&sig=abcdefghijkl%3D",
            false,
            &env(&[]),
        )
        .unwrap();
        let Destination::Presigned(p) = &d else {
            panic!()
        };
        assert!(p.azure);
        assert_eq!(d.secrets().scrub("sig=abcdefghijkl%3D"), "sig=[redacted]");
    }

    #[test]
    fn sftp_forms() {
        let parse = |s| match Destination::parse(s, false, &env(&[])) {
            Ok(Destination::Sftp(t)) => Ok(t),
            Ok(_) => panic!("not sftp"),
            Err(e) => Err(e.to_string()),
        };
        let t = parse("sftp://ir@evidence.example:2222/srv/cases/").unwrap();
        assert_eq!(
            t,
            SftpTarget {
                user: "ir".into(),
                host: "evidence.example".into(),
                port: 2222,
                dir: "/srv/cases".into()
            }
        );
        assert_eq!(parse("sftp://ir@[::1]/~/in").unwrap().dir, "in");
        assert_eq!(parse("sftp://ir@[::1]/~/in").unwrap().host, "::1");
        assert_eq!(parse("sftp://ir@h").unwrap().dir, "/");
        assert_eq!(parse("sftp://ir@h/~").unwrap().dir, ".");
        assert!(parse("sftp://h/x").unwrap_err().contains("login"));
        assert!(parse("sftp://ir:pw@h/x")
            .unwrap_err()
            .contains("--sftp-key"));
        let d = Destination::parse("sftp://ir@[::1]:2200/~/in", false, &env(&[])).unwrap();
        assert_eq!(d.shown("b"), "sftp://ir@[::1]:2200/~/in/b/");
    }

    #[test]
    fn unknown_scheme_is_refused_without_echoing_a_query() {
        let e = Destination::parse("ftp://h/x?secret=abcdefghij", false, &env(&[])).unwrap_err();
        let text = e.to_string();
        assert!(!text.contains("abcdefghij"), "{text}");
        assert!(text.contains("s3://"), "{text}");
    }
}
