//! Reads survive a flaky endpoint; sends are never repeated here.
//!
//! A loop of attempts with tower's jittered exponential backoff (alloy's own
//! `RetryBackoffLayer` waits a fixed time, retries only rate limits, and
//! takes every `-32005` for one). Each attempt's outcome is judged:
//!
//! - a packet carrying a transaction (`eth_sendRawTransaction`,
//!   `eth_sendTransaction`) is never retried: the send path reconciles a lost
//!   answer by the transaction's hash and the account's nonce instead;
//! - a whole read is retried on transport failures (connection refused or
//!   dropped, time-outs, HTTP 408/429/5xx, a body that is not JSON or is cut
//!   short) and on a transient error answering it (see [`classify`]);
//! - inside a batch, every entry has its own outcome: the entries answered
//!   are kept, and only those missing or answered with a transient error
//!   (`header not found`, a rate limit, `-32603`) are asked again, as a
//!   smaller batch; a revert or any other error answer is an answer;
//! - the wait is the server's `Retry-After` when it gives one (at most
//!   [`MAX_RETRY_AFTER`]), else the next jittered exponential backoff;
//! - after the last attempt, the error names the endpoint (without its
//!   path, which may hold an API key), the attempts and the last failure,
//!   with the request that met it (its method and what it read).
//!
//! [`classify`]: super::classify

use std::task::{Context, Poll};
use std::time::Duration;

use alloy::rpc::json_rpc::{
    ErrorPayload, Id, RequestPacket, Response, ResponsePacket, ResponsePayload, SerializedRequest,
};
use alloy::transports::http::reqwest::Url;
use alloy::transports::{RpcError, TransportError, TransportErrorKind, TransportFut};
use tower::retry::backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;
use tower::{Layer, Service, ServiceExt};

use super::classify::{Verdict, verdict};
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
    /// one is refused unread (a batch is then halved).
    pub max_answer_bytes: usize,
    /// The most requests sent in one JSON-RPC batch (default 2,000); a
    /// longer batch is sent in parts, and one the node refuses as a whole
    /// is halved (and the smaller size kept for the next batches).
    pub max_batch: usize,
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            retries: 5,
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_answer_bytes: 128 << 20,
            max_batch: 2_000,
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
        Self { policy: ReadPolicy { retries: patience.retries, backoff, endpoint } }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retrying<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Retrying { inner, policy: self.policy.clone() }
    }
}

/// A transport whose reads are retried.
#[derive(Debug, Clone)]
pub struct Retrying<S> {
    inner: S,
    policy: ReadPolicy,
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
        // The service polled ready goes with this call; a clone stays.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(self.policy.clone().run(inner, request))
    }
}

/// How one request is retried (cloned for each request).
#[derive(Debug, Clone)]
struct ReadPolicy {
    retries: u32,
    backoff: Option<ExponentialBackoff>,
    endpoint: Endpoint,
}

/// The judgement of one attempt.
enum Outcome {
    /// The answer to what was asked.
    Done(ResponsePacket),
    /// Ask `retry` again (a batch: the entries still open); `kept` are the
    /// entries answered meanwhile.
    Again { kept: Vec<Response>, retry: RequestPacket, failure: String, wait: Option<Duration> },
    /// A failure that asking again does not mend.
    Fail(TransportError),
}

impl ReadPolicy {
    /// Asks until answered, the retries are spent, or a failure is final.
    async fn run<S>(mut self, mut inner: S, request: RequestPacket) -> Result<ResponsePacket, TransportError>
    where
        S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError, Future = TransportFut<'static>>,
    {
        if carries_send(&request) {
            return inner.ready().await?.call(request).await;
        }
        let (mut asking, mut kept, mut tried) = (request, Vec::new(), 0u32);
        loop {
            tried += 1;
            let result = match inner.ready().await {
                Ok(ready) => ready.call(asking.clone()).await,
                Err(error) => Err(error),
            };
            match self.judge(&asking, result) {
                Outcome::Done(answer) if kept.is_empty() => return Ok(answer),
                Outcome::Done(answer) => return Ok(merge(kept, answer, &asking)),
                Outcome::Fail(error) => return Err(error),
                Outcome::Again { kept: more, retry, failure, wait } => {
                    kept.extend(more);
                    if tried > self.retries {
                        let endpoint = self.endpoint.name();
                        let message = format!("{endpoint} failed {tried} times; last failure: {failure}");
                        return Err(TransportErrorKind::custom_str(&message));
                    }
                    asking = retry;
                    self.wait(wait).await;
                }
            }
        }
    }

    async fn wait(&mut self, hint: Option<Duration>) {
        match (hint, self.backoff.as_mut()) {
            (Some(wait), _) => tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await,
            (None, Some(backoff)) => backoff.next_backoff().await,
            (None, None) => {}
        }
    }

    /// What the answer (or failure) to `asked` calls for.
    fn judge(&self, asked: &RequestPacket, result: Result<ResponsePacket, TransportError>) -> Outcome {
        let again = |failure: String| Outcome::Again { kept: Vec::new(), retry: asked.clone(), failure, wait: None };
        let answer = match result {
            Ok(answer) => answer,
            Err(error) if retryable(&error) => {
                let failure = self.endpoint.describe(&error);
                return Outcome::Again { kept: Vec::new(), retry: asked.clone(), failure, wait: retry_after(&error) };
            }
            Err(error) => return Outcome::Fail(error),
        };
        match (asked, answer) {
            (RequestPacket::Single(request), ResponsePacket::Single(answer)) => {
                if &answer.id != request.id() {
                    return again("the answer carries another id".to_string());
                }
                match transient(&answer) {
                    Some(error) => again(failed_request(request, error)),
                    None => Outcome::Done(ResponsePacket::Single(answer)),
                }
            }
            (RequestPacket::Batch(requests), ResponsePacket::Batch(answers)) => self.judge_entries(requests, answers),
            (RequestPacket::Batch(requests), ResponsePacket::Single(answer)) => match transient(&answer) {
                Some(error) => again(format!("the batch of {} requests was refused: {}", requests.len(), error)),
                None if answer.payload.is_success() => again("a single answer to a batch".to_string()),
                None => Outcome::Done(ResponsePacket::Single(answer)),
            },
            (RequestPacket::Single(_), ResponsePacket::Batch(_)) => again("a batch answer to a single request".into()),
        }
    }

    /// A batch's answers, entry by entry: those answered are kept, the
    /// missing and transiently failed ones are asked again.
    fn judge_entries(&self, requests: &[SerializedRequest], answers: Vec<Response>) -> Outcome {
        let mut retry = Vec::new();
        let mut kept = Vec::with_capacity(requests.len());
        let mut failure = None;
        let mut by_id = std::collections::HashMap::with_capacity(answers.len());
        for answer in answers {
            by_id.entry(answer.id.clone()).or_insert(answer);
        }
        for request in requests {
            let Some(answer) = by_id.remove(request.id()) else {
                failure.get_or_insert_with(|| format!("no answer to {}", describe_request(request)));
                retry.push(request.clone());
                continue;
            };
            match transient(&answer) {
                Some(error) => {
                    failure.get_or_insert_with(|| failed_request(request, error));
                    retry.push(request.clone());
                }
                None => kept.push(answer),
            }
        }
        match failure {
            None => Outcome::Done(ResponsePacket::Batch(kept)),
            Some(first) => {
                let failure = match retry.len() {
                    1 => first,
                    open => format!("{first} (and {} more of the batch of {})", open - 1, requests.len()),
                };
                Outcome::Again { kept, retry: RequestPacket::Batch(retry), failure, wait: None }
            }
        }
    }
}

/// The batch's answers: those kept from earlier attempts and the last
/// attempt's, one error answering the whole last attempt given to each of
/// its entries.
fn merge(mut kept: Vec<Response>, answer: ResponsePacket, asked: &RequestPacket) -> ResponsePacket {
    match answer {
        ResponsePacket::Batch(answers) => kept.extend(answers),
        ResponsePacket::Single(answer) => match (&answer.payload, asked) {
            (ResponsePayload::Failure(error), RequestPacket::Batch(requests)) => {
                kept.extend(requests.iter().map(|r| failure_for(r.id().clone(), error)));
            }
            _ => kept.push(answer),
        },
    }
    ResponsePacket::Batch(kept)
}

/// `error` as the answer to the request numbered `id`.
pub(super) fn failure_for(id: Id, error: &ErrorPayload) -> Response {
    Response { id, payload: ResponsePayload::Failure(error.clone()) }
}

/// The error of an answer worth asking for again.
fn transient(answer: &Response) -> Option<&ErrorPayload> {
    match &answer.payload {
        ResponsePayload::Failure(error) if verdict(error) == Verdict::Transient => Some(error),
        _ => None,
    }
}

/// `eth_call [{"to":…}, "0x1c"]: error code -32000: header not found`.
fn failed_request(request: &SerializedRequest, error: &ErrorPayload) -> String {
    format!("{}: error code {}: {}", describe_request(request), error.code, error.message)
}

/// A request's method and parameters (what it read), cut short.
pub fn describe_request(request: &SerializedRequest) -> String {
    const SHOWN: usize = 160;
    let params = request.params().map(|p| p.get()).unwrap_or("");
    let params = match params.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}…", &params[..at]),
        None => params.to_string(),
    };
    format!("{} {params}", request.method())
}

fn carries_send(request: &RequestPacket) -> bool {
    request.method_names().any(|m| m == "eth_sendRawTransaction" || m == "eth_sendTransaction")
}

/// An endpoint's shown name, and what takes its URL out of messages.
#[derive(Debug, Clone)]
pub struct Endpoint {
    redactor: Redactor,
}

impl Endpoint {
    /// The endpoint at `url`.
    pub fn new(url: &Url) -> Self {
        Self { redactor: Redactor::new(url) }
    }

    /// What messages call it ([`endpoint_name`](super::endpoint_name)).
    pub fn name(&self) -> &str {
        self.redactor.name()
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
        RpcError::ErrorResp(payload) => verdict(payload) == Verdict::Transient,
        _ => false,
    }
}

fn retry_after(error: &TransportError) -> Option<Duration> {
    match error {
        RpcError::Transport(kind) => kind.retry_after(),
        _ => None,
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
