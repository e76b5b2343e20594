//! One blocking HTTP PUT, and what its failure means.
//!
//! `ureq` (blocking, rustls with ring, Mozilla's roots from `webpki-roots`
//! compiled in) sends the request. Trusting compiled-in roots rather than
//! the host's CA store is deliberate: the store of a compromised host is
//! attacker-writable. Redirects are not followed (a PUT that moves is a
//! misconfiguration, and following it could carry a signed request to a
//! host nobody chose). Proxy variables (`HTTPS_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`) are honoured, as a responder behind a corporate proxy needs
//! them; through TLS the proxy sees only the host name.
//!
//! No message built here contains the URL: a presigned URL carries its
//! signature, and a signed S3 URL its credential scope. Server error bodies
//! are reduced to their `<Code>` and `<Message>` elements (the S3, GCS and
//! Azure XML error format), because some servers echo the canonical request,
//! security token included, in other elements.

use std::io;
use std::time::Duration;

use crate::upload::retry::Failure;

/// Largest error body read from a server.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// A blocking HTTP client for uploads.
pub struct Http {
    agent: ureq::Agent,
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    /// A client with the upload timeouts: 10 s to connect, 60 s for any one
    /// step after it (send the request, send the body, receive the answer).
    pub fn new() -> Self {
        let step = Some(Duration::from_secs(60));
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_await_100(Some(Duration::from_secs(2)))
            .timeout_send_request(step)
            .timeout_send_body(step)
            .timeout_recv_response(step)
            .timeout_recv_body(step)
            .user_agent(concat!("irdump/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Http { agent }
    }

    /// PUTs `body` to `url` with `headers`.
    ///
    /// # Errors
    ///
    /// A [`Failure`] classified transient or permanent, naming the cause
    /// but never the URL.
    pub fn put(&self, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(), Failure> {
        // With `Expect: 100-continue` a server that refuses the request
        // (expired, forbidden, over quota) says so before the body is sent,
        // instead of closing the connection under it, which would read as
        // a transient failure and be retried.
        let mut request = self.agent.put(url).header("expect", "100-continue");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send(body).map_err(|e| classify_error(&e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = response
            .into_body()
            .with_config()
            .limit(ERROR_BODY_LIMIT)
            .read_to_vec()
            .unwrap_or_default();
        Err(classify_status(status, &body))
    }
}

/// What an HTTP status means for an upload.
pub fn classify_status(status: u16, body: &[u8]) -> Failure {
    let text = String::from_utf8_lossy(body);
    let code = xml_element(&text, "Code");
    let message = xml_element(&text, "Message");
    let detail = match (code, message) {
        (Some(c), Some(m)) => format!(" {c}: {m}"),
        (Some(c), None) => format!(" {c}"),
        (None, Some(m)) => format!(": {m}"),
        (None, None) => String::new(),
    };
    let cause = format!("HTTP {status}{detail}");
    match status {
        300..=399 => Failure::permanent(format!(
            "{cause} (redirected: wrong region or endpoint? set AWS_REGION or AWS_ENDPOINT_URL)"
        )),
        408 | 429 | 500..=599 => Failure::transient(cause),
        _ => Failure::permanent(cause),
    }
}

/// What a transport error means for an upload. The URL-bearing variants
/// are described by fixed text.
pub fn classify_error(e: &ureq::Error) -> Failure {
    use ureq::Error as E;
    match e {
        E::Io(io) => classify_io(io),
        E::Timeout(t) => Failure::transient(format!("timed out ({t})")),
        E::HostNotFound => Failure::transient("host name not found"),
        E::ConnectionFailed => Failure::transient("could not connect"),
        E::Rustls(tls) => Failure::permanent(format!("TLS: {tls}")),
        E::Tls(text) => Failure::permanent(format!("TLS: {text}")),
        E::Protocol(_) => Failure::transient("the server broke the HTTP protocol"),
        E::BadUri(_) | E::Http(_) => Failure::permanent("the URL is not valid for HTTP"),
        E::ConnectProxyFailed(_) | E::InvalidProxyUrl => {
            Failure::permanent("the proxy from HTTPS_PROXY/ALL_PROXY refused or is invalid")
        }
        E::TooManyRedirects | E::RedirectFailed => Failure::permanent("redirected"),
        E::StatusCode(s) => classify_status(*s, b""),
        other => Failure::permanent(format!("HTTP client: {}", error_kind(other))),
    }
}

/// A short name for an error whose text might carry a URL.
fn error_kind(e: &ureq::Error) -> String {
    let debug = format!("{e:?}");
    debug
        .split(['(', '{', ' '])
        .next()
        .unwrap_or("error")
        .to_owned()
}

fn classify_io(e: &io::Error) -> Failure {
    use io::ErrorKind as K;
    let cause = match e.kind() {
        K::ConnectionRefused => "connection refused".to_owned(),
        K::ConnectionReset => "connection reset".to_owned(),
        K::ConnectionAborted => "connection aborted".to_owned(),
        K::TimedOut => "timed out".to_owned(),
        K::BrokenPipe => "connection closed by the server".to_owned(),
        K::UnexpectedEof => "connection closed by the server".to_owned(),
        K::HostUnreachable => "host unreachable".to_owned(),
        K::NetworkUnreachable => "network unreachable".to_owned(),
        K::AddrNotAvailable => "address not available".to_owned(),
        // rustls reports a refused certificate or handshake as InvalidData.
        K::InvalidData => return Failure::permanent(format!("TLS: {e}")),
        _ => return Failure::permanent(format!("I/O: {e}")),
    };
    Failure::transient(cause)
}

/// The text of the first `<name>...</name>` element, unescaped, on one line.
///
/// Written by hand: two elements of a flat error document do not justify an
/// XML parser, and anything odd simply yields `None`.
pub fn xml_element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    let raw = xml[start..start + len].trim();
    if raw.is_empty() {
        return None;
    }
    let text = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(one_line.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An S3 `SignatureDoesNotMatch` body as AWS returns it: the canonical
    /// request echoes the security token, which must not be shown.
    const AWS_SIGNATURE_ERROR: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
        <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated \
        does not match the signature you provided. Check your key and signing method.</Message>\
        <AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId><CanonicalRequest>PUT /b/k \
        X-Amz-Security-Token=SECRETTOKEN</CanonicalRequest></Error>";

    #[test]
    fn error_body_is_reduced_to_code_and_message() {
        let f = classify_status(403, AWS_SIGNATURE_ERROR.as_bytes());
        assert!(!f.transient);
        assert!(f
            .cause
            .starts_with("HTTP 403 SignatureDoesNotMatch: The request signature"));
        assert!(!f.cause.contains("SECRETTOKEN"), "{}", f.cause);
        assert!(!f.cause.contains("AKIDEXAMPLE"), "{}", f.cause);
    }

    #[test]
    fn server_errors_and_throttling_are_transient() {
        assert!(classify_status(503, b"<Error><Code>SlowDown</Code></Error>").transient);
        assert!(classify_status(500, b"").transient);
        assert!(classify_status(429, b"").transient);
        assert!(!classify_status(404, b"<Error><Code>NoSuchBucket</Code></Error>").transient);
        assert_eq!(
            classify_status(404, b"<Error><Code>NoSuchBucket</Code></Error>").cause,
            "HTTP 404 NoSuchBucket"
        );
        assert!(classify_status(301, b"").cause.contains("redirected"));
    }

    #[test]
    fn refused_connection_is_transient_tls_is_not() {
        let refused = ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(
            classify_error(&refused),
            Failure::transient("connection refused")
        );
        let bad = ureq::Error::BadUri("https://h/x?X-Amz-Signature=secret".into());
        let f = classify_error(&bad);
        assert!(!f.cause.contains("secret"), "{}", f.cause);
    }

    #[test]
    fn xml_element_handles_entities_and_absence() {
        assert_eq!(
            xml_element("<Message>a &amp; b\n  c</Message>", "Message").as_deref(),
            Some("a & b c")
        );
        assert_eq!(xml_element("<Error/>", "Code"), None);
        assert_eq!(xml_element("<Code></Code>", "Code"), None);
    }
}
