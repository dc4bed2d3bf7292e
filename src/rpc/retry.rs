//! Reads survive a flaky endpoint; sends are never repeated here.
//!
//! Built on tower's retry middleware and its jittered exponential backoff
//! (alloy's own `RetryBackoffLayer` waits a fixed time and retries only rate
//! limits, not dropped connections or bad gateways). The policy decides:
//!
//! - a packet carrying a transaction (`eth_sendRawTransaction`,
//!   `eth_sendTransaction`) is never retried: the send path reconciles a lost
//!   answer by the transaction's hash and the account's nonce instead;
//! - a read is retried on transport failures (connection refused or dropped,
//!   time-outs, HTTP 408/429/5xx, a body that is not JSON or is cut short, a
//!   batch answer missing some of its ids) and on rate-limit error answers;
//!   a JSON-RPC error answer (a revert) is an answer, not a failure;
//! - the wait is the server's `Retry-After` when it gives one (at most
//!   [`MAX_RETRY_AFTER`]), else the next jittered exponential backoff;
//! - after the last attempt, the error names the endpoint (without its
//!   path, which may hold an API key), the attempts and the last failure.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use alloy::rpc::json_rpc::{RequestPacket, ResponsePacket};
use alloy::transports::http::reqwest::Url;
use alloy::transports::{RpcError, TransportError, TransportErrorKind, TransportFut};
use tower::retry::backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::retry::{Policy, Retry};
use tower::util::rng::HasherRng;
use tower::{Layer, Service};

use super::redact::Redactor;

/// The longest `Retry-After` honoured; a longer one waits this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How patient to be with an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Patience {
    /// How long one HTTP request may take, answer included (default 30 s).
    pub timeout: Duration,
    /// How often a failed read is tried again (default 5).
    pub retries: u32,
    /// The first backoff (default 250 ms); each next one doubles, plus up to
    /// as much again of jitter.
    pub min_backoff: Duration,
    /// The longest backoff (default 8 s).
    pub max_backoff: Duration,
    /// The largest answer read from the node (default 128 MiB); a larger
    /// one is refused unread (a batch is then halved where the reader can).
    pub max_answer_bytes: usize,
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            retries: 5,
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_answer_bytes: 128 << 20,
        }
    }
}

impl Patience {
    /// The longest a read can take before its error, Retry-After aside:
    /// every attempt timing out and every backoff at its longest.
    pub fn budget(&self) -> Duration {
        let attempts = self.retries.saturating_add(1);
        self.timeout.saturating_mul(attempts) + self.max_backoff.saturating_mul(self.retries.saturating_mul(2))
    }
}

/// The layer that retries reads.
#[derive(Debug, Clone)]
pub struct RetryLayer {
    policy: ReadPolicy,
}

impl RetryLayer {
    /// Retries as `patience` says; errors name the endpoint of `url`.
    pub fn new(patience: Patience, url: &Url) -> Self {
        let maker = ExponentialBackoffMaker::new(
            patience.min_backoff,
            patience.max_backoff.max(patience.min_backoff).max(Duration::from_millis(1)),
            1.0,
            HasherRng::default(),
        );
        let backoff = maker.ok().map(|mut m| m.make_backoff());
        let endpoint = Endpoint::new(url);
        Self { policy: ReadPolicy { left: patience.retries, tried: 0, backoff, endpoint } }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retrying<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Retrying { inner: Retry::new(self.policy.clone(), inner) }
    }
}

/// A transport whose reads are retried.
#[derive(Debug, Clone)]
pub struct Retrying<S> {
    inner: Retry<ReadPolicy, S>,
}

impl<S> Service<RequestPacket> for Retrying<S>
where
    S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError, Future = TransportFut<'static>>
        + Clone
        + Send
        + 'static,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        Box::pin(self.inner.call(request))
    }
}

/// One request's retry state (tower clones the policy for each request).
#[derive(Debug, Clone)]
struct ReadPolicy {
    left: u32,
    tried: u32,
    backoff: Option<ExponentialBackoff>,
    endpoint: Endpoint,
}

/// An endpoint's shown name, and what takes its URL out of messages.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// What messages call it ([`endpoint_name`](super::endpoint_name)).
    pub name: Arc<str>,
    redactor: Redactor,
}

impl Endpoint {
    /// The endpoint at `url`.
    pub fn new(url: &Url) -> Self {
        let redactor = Redactor::new(url);
        Self { name: redactor.name().into(), redactor }
    }

    /// `error` with its causes (`…: connection refused`), every secret part
    /// of the URL taken out.
    pub fn describe(&self, error: &TransportError) -> String {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text = format!("{text}: {cause_text}");
            }
            source = cause.source();
        }
        self.redactor.redact(&text)
    }
}

impl Policy<RequestPacket, ResponsePacket, TransportError> for ReadPolicy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut RequestPacket,
        result: &mut Result<ResponsePacket, TransportError>,
    ) -> Option<Self::Future> {
        self.tried += 1;
        let failure = match result {
            Ok(answer) => incomplete(request, answer)?,
            Err(error) if retryable(error) => self.endpoint.describe(error),
            Err(_) => return None,
        };
        if self.left == 0 {
            let (endpoint, tried) = (&self.endpoint.name, self.tried);
            let message = format!("{endpoint} failed {tried} times; last failure: {failure}");
            *result = Err(TransportErrorKind::custom_str(&message));
            return None;
        }
        self.left -= 1;
        let hint = result.as_ref().err().and_then(retry_after);
        match (hint, self.backoff.as_mut()) {
            (Some(wait), _) => Some(tokio::time::sleep(wait.min(MAX_RETRY_AFTER))),
            (None, Some(backoff)) => Some(backoff.next_backoff()),
            (None, None) => Some(tokio::time::sleep(Duration::ZERO)),
        }
    }

    fn clone_request(&mut self, request: &RequestPacket) -> Option<RequestPacket> {
        let sends = request.method_names().any(|m| m == "eth_sendRawTransaction" || m == "eth_sendTransaction");
        (!sends).then(|| request.clone())
    }
}

/// Worth another attempt: the request may well succeed next time.
fn retryable(error: &TransportError) -> bool {
    match error {
        RpcError::Transport(kind) => match kind {
            TransportErrorKind::HttpError(http) => http.status == 408 || http.status == 429 || http.status >= 500,
            TransportErrorKind::HttpErrorWithRetryAfter { .. } => true,
            TransportErrorKind::MissingBatchResponse(_) | TransportErrorKind::BackendGone => true,
            TransportErrorKind::Custom(_) => true,
            _ => kind.is_retry_err(),
        },
        RpcError::DeserError { .. } => true,
        RpcError::ErrorResp(payload) => payload.is_retry_err(),
        _ => false,
    }
}

fn retry_after(error: &TransportError) -> Option<Duration> {
    match error {
        RpcError::Transport(kind) => kind.retry_after(),
        _ => None,
    }
}

/// Why an answer that arrived is not a whole answer: a batch answer lacking
/// some ids, or a single answer to a batch (and the reverse).
fn incomplete(request: &RequestPacket, answer: &ResponsePacket) -> Option<String> {
    match (request, answer) {
        (RequestPacket::Batch(asked), ResponsePacket::Batch(answers)) => {
            let missing = asked.iter().filter(|r| !answers.iter().any(|a| &a.id == r.id())).count();
            (missing > 0).then(|| format!("the batch answer lacks {missing} of {} ids", asked.len()))
        }
        (RequestPacket::Single(asked), ResponsePacket::Single(answer)) => {
            (&answer.id != asked.id()).then(|| "the answer carries another id".to_string())
        }
        (RequestPacket::Batch(asked), ResponsePacket::Single(answer)) if answer.is_success() || asked.len() == 1 => {
            Some("a single answer to a batch".to_string())
        }
        (RequestPacket::Batch(_), ResponsePacket::Single(_)) => None,
        (RequestPacket::Single(_), ResponsePacket::Batch(_)) => Some("a batch answer to a single request".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_bounds_every_attempt_and_every_backoff() {
        let patience = Patience { timeout: Duration::from_secs(1), retries: 2, ..Patience::default() };
        assert_eq!(patience.budget(), Duration::from_secs(3) + Duration::from_secs(8 * 4));
    }

    #[test]
    fn dropped_connections_bad_gateways_and_garbled_bodies_are_retried_but_reverts_are_not() {
        let bad_gateway = TransportErrorKind::http_error(502, "bad gateway".into());
        assert!(retryable(&bad_gateway));
        let dropped = TransportErrorKind::custom_str("connection reset by peer");
        assert!(retryable(&dropped));
        let garbled = TransportError::deser_err(serde_json::from_str::<u8>("<html>").unwrap_err(), "<html>");
        assert!(retryable(&garbled));
        let revert = alloy::rpc::json_rpc::ErrorPayload { code: 3, message: "execution reverted".into(), data: None };
        assert!(!retryable(&TransportError::ErrorResp(revert)));
        let not_found = TransportErrorKind::http_error(404, "not found".into());
        assert!(!retryable(&not_found));
    }
}
