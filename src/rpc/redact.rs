//! An endpoint's URL is a secret; what the endpoint answers is not ours to
//! repeat.
//!
//! Hosted endpoints put their credentials anywhere in the URL: user and
//! password, a path segment (`/v3/KEY`), a query value (`?key=…`). Redaction
//! is therefore by the *parsed* URL, never by matching the string as given:
//! [`Redactor`] knows every secret part of one endpoint's URL and takes each
//! out of any text, whatever form the text quotes it in (with or without the
//! user info, percent-decoded, the path or query alone).
//!
//! [`SanitizeLayer`] sits right above the HTTP transport, so no error leaves
//! the client with the URL or the endpoint's own words in it: reqwest's
//! errors lose their URL, and an HTTP error page or a body that is not JSON
//! (which may echo the key, and may be huge) is replaced by its size.

use std::sync::Arc;
use std::task::{Context, Poll};

use alloy::rpc::json_rpc::{RequestPacket, ResponsePacket};
use alloy::transports::http::reqwest::{self, Url};
use alloy::transports::{RpcError, TransportError, TransportErrorKind, TransportFut};
use tower::{Layer, Service};

/// The shortest URL part redacted on its own: shorter ones (`v3`, `1`) are
/// only redacted as part of the whole URL, path or query.
const SHORTEST_SECRET: usize = 4;

/// `http://host:port`, with `/…` when the URL has a path or a query: enough
/// to name the endpoint without printing a key that may be part of it. The
/// user and password are never part of the name.
pub fn endpoint_name(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = if url.path().len() > 1 || url.query().is_some() { "/…" } else { "" };
    format!("{}://{host}{port}{path}", url.scheme())
}

/// Takes every secret part of one endpoint's URL out of a text.
#[derive(Debug, Clone)]
#[must_use]
pub struct Redactor {
    name: Arc<str>,
    /// The whole URL in the forms texts quote it, longest first.
    whole: Arc<[String]>,
    /// Its secret parts, longest first.
    parts: Arc<[String]>,
}

impl Redactor {
    /// The redactor of `url`'s secrets.
    pub fn new(url: &Url) -> Self {
        let mut bare = url.clone();
        // Cannot fail for the http(s) URLs an endpoint has; a URL that cannot
        // have a user keeps its form.
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        let mut whole: Vec<String> = [url.as_str(), bare.as_str()]
            .iter()
            .flat_map(|form| [form.to_string(), form.trim_end_matches('/').to_string()])
            .filter(|form| !form.is_empty())
            .collect();
        let mut parts: Vec<String> = secret_parts(url).into_iter().flat_map(|p| [decoded(&p), p]).collect();
        for list in [&mut whole, &mut parts] {
            list.sort_by_key(|s| std::cmp::Reverse(s.len()));
            list.dedup();
        }
        Self { name: endpoint_name(url).into(), whole: whole.into(), parts: parts.into() }
    }

    /// The endpoint's printable name ([`endpoint_name`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `text` with the URL replaced by the endpoint's name and every secret
    /// part of it by `…`.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for form in self.whole.iter() {
            if text.contains(form.as_str()) {
                text = text.replace(form.as_str(), &self.name);
            }
        }
        for part in self.parts.iter() {
            if text.contains(part.as_str()) {
                text = text.replace(part.as_str(), "…");
            }
        }
        text
    }
}

/// The user, the password, the path and the query as they are, and each
/// path segment, query key and value long enough to stand alone.
fn secret_parts(url: &Url) -> Vec<String> {
    let mut parts = vec![url.username().to_string()];
    parts.extend(url.password().map(str::to_string));
    if url.path().len() > 1 {
        parts.push(url.path().to_string());
        parts.push(url.path().trim_start_matches('/').to_string());
    }
    if let Some(query) = url.query() {
        parts.push(format!("?{query}"));
        parts.push(query.to_string());
        for pair in query.split('&') {
            parts.push(pair.to_string());
            parts.extend(pair.split('=').map(str::to_string));
        }
    }
    parts.extend(url.path_segments().into_iter().flatten().map(str::to_string));
    parts.retain(|p| p.len() >= SHORTEST_SECRET);
    parts
}

/// The percent-decoded form of a URL part (itself when it has no escapes).
fn decoded(part: &str) -> String {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The layer that keeps the URL and the endpoint's own words out of errors.
#[derive(Debug, Clone)]
pub struct SanitizeLayer {
    redactor: Redactor,
}

impl SanitizeLayer {
    /// Sanitizes the errors of the transport to `url`.
    pub fn new(url: &Url) -> Self {
        Self { redactor: Redactor::new(url) }
    }
}

impl<S> Layer<S> for SanitizeLayer {
    type Service = Sanitizing<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Sanitizing { inner, redactor: self.redactor.clone() }
    }
}

/// A transport whose errors hold neither the URL nor the endpoint's words.
#[derive(Debug, Clone)]
pub struct Sanitizing<S> {
    inner: S,
    redactor: Redactor,
}

impl<S> Service<RequestPacket> for Sanitizing<S>
where
    S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError, Future = TransportFut<'static>>,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(|e| sanitize(e, &self.redactor))
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        let future = self.inner.call(request);
        let redactor = self.redactor.clone();
        Box::pin(async move { future.await.map_err(|e| sanitize(e, &redactor)) })
    }
}

/// What an endpoint's own text is replaced by: its size and who said it.
fn withheld(text: &str, redactor: &Redactor) -> String {
    format!("({} bytes from {}, not shown)", text.len(), redactor.name())
}

/// `error` without the URL and without the endpoint's own text; its kind
/// (and so whether it is retried) is kept.
pub fn sanitize(error: TransportError, redactor: &Redactor) -> TransportError {
    match error {
        RpcError::Transport(TransportErrorKind::HttpError(mut http)) => {
            http.body = withheld(&http.body, redactor);
            RpcError::Transport(TransportErrorKind::HttpError(http))
        }
        RpcError::Transport(TransportErrorKind::HttpErrorWithRetryAfter { mut error, retry_after }) => {
            error.body = withheld(&error.body, redactor);
            RpcError::Transport(TransportErrorKind::HttpErrorWithRetryAfter { error, retry_after })
        }
        RpcError::Transport(TransportErrorKind::Custom(boxed)) => match boxed.downcast::<reqwest::Error>() {
            Ok(reqwest) => RpcError::Transport(TransportErrorKind::Custom(Box::new(reqwest.without_url()))),
            Err(other) => TransportErrorKind::custom_str(&redactor.redact(&other.to_string())),
        },
        RpcError::DeserError { err, text } => RpcError::DeserError { err, text: withheld(&text, redactor) },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_named_without_its_user_path_or_query() {
        let url: Url = "https://user:pw@eth-mainnet.example.com/v2/SECRET?x=1".parse().expect("url");
        assert_eq!(endpoint_name(&url), "https://eth-mainnet.example.com/…");
        let local: Url = "http://127.0.0.1:8545".parse().expect("url");
        assert_eq!(endpoint_name(&local), "http://127.0.0.1:8545");
    }

    #[test]
    fn every_form_and_part_of_the_url_is_redacted() {
        let url: Url = "http://alice:p%40ss@node.example:8545/v3/PATHKEY?key=QUERYKEY&x=1".parse().expect("url");
        let redactor = Redactor::new(&url);
        let text = "for url (http://node.example:8545/v3/PATHKEY?key=QUERYKEY&x=1): refused; \
                    as http://alice:p%40ss@node.example:8545/v3/PATHKEY?key=QUERYKEY&x=1; \
                    user alice pass p@ss path /v3/PATHKEY, query key=QUERYKEY";
        let redacted = redactor.redact(text);
        for secret in ["alice", "p@ss", "p%40ss", "PATHKEY", "QUERYKEY"] {
            assert!(!redacted.contains(secret), "{secret} in {redacted}");
        }
        assert!(redacted.contains("for url (http://node.example:8545/…): refused"), "{redacted}");
    }

    #[test]
    fn an_http_error_body_is_replaced_by_its_size() {
        let url: Url = "http://node.example/KEY123".parse().expect("url");
        let error = TransportErrorKind::http_error(401, "bad key KEY123".into());
        let text = sanitize(error, &Redactor::new(&url)).to_string();
        assert_eq!(text, "HTTP error 401 with body: (14 bytes from http://node.example/…, not shown)");
    }

    #[test]
    fn a_deeply_nested_answer_is_not_quoted_in_its_error() {
        let url: Url = "http://node.example/KEY123".parse().expect("url");
        let nested = "[".repeat(200_000);
        let Err(parse) = serde_json::from_str::<serde_json::Value>(&nested) else { panic!("too deep to parse") };
        let text = sanitize(TransportError::deser_err(parse, nested), &Redactor::new(&url)).to_string();
        assert!(text.len() < 200 && text.contains("200000 bytes from http://node.example/…, not shown"), "{text}");
    }
}
