//! HTTP with a bound on the answer: a node's answer is read chunk by chunk
//! and refused once it passes [`Patience::max_answer_bytes`], before it is
//! held in memory whole (alloy's own HTTP transport reads any body to its
//! end). Otherwise it behaves as alloy's, `Retry-After` kept and a body
//! that is not JSON a deserialisation error, except for HTTP error answers
//! with a JSON-RPC error body, which is how hosted providers answer:
//!
//! - HTTP 402, or a body saying the quota is spent: a final error that says
//!   the endpoint's quota is exhausted, naming the host, never the URL's
//!   key or path;
//! - HTTP 408/429, or 5xx with a transient error or one error object for a
//!   whole batch: an HTTP error, retried like any other;
//! - any other: the JSON-RPC error is the answer.
//!
//! [`Patience::max_answer_bytes`]: super::Patience::max_answer_bytes

use std::task::{Context, Poll};
use std::time::Duration;

use alloy::rpc::json_rpc::{RequestPacket, ResponsePacket};
use alloy::transports::http::reqwest::{self, Url};
use alloy::transports::{TransportError, TransportErrorKind, TransportFut};
use tower::Service;

use super::Redactor;
use super::classify::{Verdict, verdict};

/// An answer over the bound, refused unread.
#[derive(Debug, thiserror::Error)]
#[error("the node's answer is {size}, over the limit of {limit} bytes; it was not read")]
pub struct TooLarge {
    size: String,
    limit: usize,
}

/// The endpoint's request quota is spent.
#[derive(Debug, thiserror::Error)]
#[error(
    "{endpoint} says its request quota is exhausted (HTTP {status}{said}): wait for it to renew, raise it, or use another endpoint"
)]
pub struct QuotaExhausted {
    endpoint: String,
    status: u16,
    said: String,
}

impl QuotaExhausted {
    /// The spent quota `error` reports, if that is what it says: a final
    /// failure of every request to the endpoint, however often it is asked.
    pub fn of(error: &TransportError) -> Option<&QuotaExhausted> {
        match error.as_transport_err()? {
            TransportErrorKind::NonRetryable(inner) => inner.downcast_ref::<QuotaExhausted>(),
            _ => None,
        }
    }
}

/// The transport.
#[derive(Debug, Clone)]
pub struct BoundedHttp {
    client: reqwest::Client,
    url: Url,
    limit: usize,
    stats: super::RpcStats,
}

impl BoundedHttp {
    /// Posts to `url` with `client`, refusing answers over `limit` bytes,
    /// the bytes of every body sent and read counted in `stats`.
    pub fn new(client: reqwest::Client, url: Url, limit: usize, stats: &super::RpcStats) -> Self {
        Self { client, url, limit, stats: stats.clone() }
    }

    async fn post(self, request: RequestPacket) -> Result<ResponsePacket, TransportError> {
        let sent = serde_json::to_vec(&request).map_err(TransportError::ser_err)?;
        self.stats.record_bytes(sent.len(), 0);
        let mut response = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(sent)
            .headers(request.headers())
            .send()
            .await
            .map_err(TransportErrorKind::custom)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_secs);
        let too_large = |size: String| TransportErrorKind::non_retryable(TooLarge { size, limit: self.limit });
        if let Some(length) = response.content_length().filter(|l| *l > self.limit as u64) {
            return Err(too_large(format!("{length} bytes")));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > self.limit => {
                    return Err(too_large("larger".to_string()));
                }
                Ok(Some(chunk)) => {
                    self.stats.record_bytes(0, chunk.len());
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) if !status.is_success() => {
                    let body = format!("<failed to read the answer: {error}>");
                    return Err(TransportErrorKind::http_error_with_retry_after(status.as_u16(), body, retry_after));
                }
                Err(error) => return Err(TransportErrorKind::custom(error)),
            }
        }
        if !status.is_success() {
            let answer = serde_json::from_slice::<ResponsePacket>(&body).ok().filter(ResponsePacket::is_error);
            let status = status.as_u16();
            let text = String::from_utf8_lossy(&body).into_owned();
            let error = || TransportErrorKind::http_error_with_retry_after(status, text.clone(), retry_after);
            let Some(answer) = answer else { return Err(error()) };
            let first = answer.as_error();
            if status == 402 || first.is_some_and(|e| verdict(e) == Verdict::Quota) {
                return Err(self.quota(status, first.map(|e| e.message.as_ref())));
            }
            let whole_batch = matches!((&request, &answer), (RequestPacket::Batch(_), ResponsePacket::Single(_)));
            let transient = first.is_some_and(|e| verdict(e) == Verdict::Transient);
            if status == 408 || status == 429 || (status >= 500 && (transient || whole_batch)) {
                return Err(error());
            }
            return Ok(answer);
        }
        serde_json::from_slice(&body).map_err(|e| TransportError::deser_err(e, String::from_utf8_lossy(&body)))
    }
}

impl BoundedHttp {
    /// The error saying the quota is spent: the host named, the endpoint's
    /// words with every secret part of the URL taken out.
    fn quota(&self, status: u16, said: Option<&str>) -> TransportError {
        let redactor = Redactor::new(&self.url);
        let said = said.map(|s| format!(": {}", redactor.redact(s))).unwrap_or_default();
        TransportErrorKind::non_retryable(QuotaExhausted { endpoint: redactor.name().to_string(), status, said })
    }
}

impl Service<RequestPacket> for BoundedHttp {
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        Box::pin(self.clone().post(request))
    }
}
