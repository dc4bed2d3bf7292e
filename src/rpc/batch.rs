//! Every batch within the endpoint's cap, whoever made it.
//!
//! The outermost layer: a batch longer than the cap (`--max-batch`, or less
//! once the node has refused a batch) is sent in parts, all at once, and
//! its answers put back together; a part the node refuses as a whole —
//! geth's single `{"error":{"code":-32600,"message":"batch too large"}}`,
//! HTTP 413, an answer over the size bound — is halved and sent again, and
//! the smaller size kept for the batches after it. A single error object
//! answering a batch for another reason (a rate limit that outlasted the
//! retries) becomes that error for each of its requests, so no reader is
//! left with "missing response for request with ID 0".

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use alloy::rpc::json_rpc::{RequestPacket, Response, ResponsePacket, ResponsePayload, SerializedRequest};
use alloy::transports::{RpcError, TransportError, TransportErrorKind, TransportFut};
use futures::future::BoxFuture;
use tower::{Layer, Service, ServiceExt};

use super::classify::batch_refused;
use super::retry::failure_for;

/// The layer keeping batches within the cap.
#[derive(Debug, Clone)]
pub struct BatchLayer {
    cap: Arc<AtomicUsize>,
}

impl BatchLayer {
    /// Batches of at most `max_batch` requests (at least one).
    pub fn new(max_batch: usize) -> Self {
        Self { cap: Arc::new(AtomicUsize::new(max_batch.max(1))) }
    }
}

impl<S> Layer<S> for BatchLayer {
    type Service = Batching<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Batching { inner, cap: self.cap.clone() }
    }
}

/// A transport whose batches stay within the cap.
#[derive(Debug, Clone)]
pub struct Batching<S> {
    inner: S,
    cap: Arc<AtomicUsize>,
}

impl<S> Service<RequestPacket> for Batching<S>
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
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        match request {
            RequestPacket::Batch(requests) => {
                let cap = self.cap.clone();
                Box::pin(async move { send_all(inner, requests, cap).await.map(ResponsePacket::Batch) })
            }
            single => Box::pin(async move {
                let mut inner = inner;
                inner.ready().await?.call(single).await
            }),
        }
    }
}

/// Sends `requests` in parts within the cap, all at once.
fn send_all<S>(
    inner: S,
    requests: Vec<SerializedRequest>,
    cap: Arc<AtomicUsize>,
) -> BoxFuture<'static, Result<Vec<Response>, TransportError>>
where
    S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError, Future = TransportFut<'static>>
        + Clone
        + Send
        + 'static,
{
    Box::pin(async move {
        let size = cap.load(Ordering::Relaxed).max(1);
        // One part, sent as it is (an empty batch is still no request).
        if (1..=size).contains(&requests.len()) {
            return send_part(inner, requests, cap).await;
        }
        let parts = requests.chunks(size).map(|part| send_part(inner.clone(), part.to_vec(), cap.clone()));
        let mut answers = Vec::with_capacity(requests.len());
        for part in futures::future::join_all(parts).await {
            answers.extend(part?);
        }
        Ok(answers)
    })
}

/// One part; halved when the node refuses it as a whole.
async fn send_part<S>(
    mut inner: S,
    part: Vec<SerializedRequest>,
    cap: Arc<AtomicUsize>,
) -> Result<Vec<Response>, TransportError>
where
    S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError, Future = TransportFut<'static>>
        + Clone
        + Send
        + 'static,
{
    let answer = inner.ready().await?.call(RequestPacket::Batch(part.clone())).await;
    let refused = match &answer {
        Ok(ResponsePacket::Single(Response { payload: ResponsePayload::Failure(error), .. })) => batch_refused(error),
        Err(error) => too_large(error),
        Ok(_) => false,
    };
    if refused && part.len() > 1 {
        let half = part.len() / 2;
        if answer.as_ref().is_err_and(oversized) {
            // An answer too large to read: its halves one after the other,
            // so at most one such answer is read at a time, and a request
            // whose answer alone is too large ends it after log₂ n reads.
            let mut answers = Vec::with_capacity(part.len());
            for half in part.chunks(half) {
                answers.extend(Box::pin(send_part(inner.clone(), half.to_vec(), cap.clone())).await?);
            }
            return Ok(answers);
        }
        cap.fetch_min(half.max(1), Ordering::Relaxed);
        return send_all(inner, part, cap).await;
    }
    match answer? {
        ResponsePacket::Batch(answers) => Ok(answers),
        ResponsePacket::Single(Response { payload: ResponsePayload::Failure(error), .. }) => {
            Ok(part.iter().map(|r| failure_for(r.id().clone(), &error)).collect())
        }
        ResponsePacket::Single(answer) => Ok(vec![answer]),
    }
}

/// The answer was over the bound on what is read (not a refusal by the
/// node: the batch cap is not lowered for it).
fn oversized(error: &TransportError) -> bool {
    matches!(error, RpcError::Transport(TransportErrorKind::NonRetryable(inner)) if inner.is::<super::bounded::TooLarge>())
}

/// The node refused the batch for its size: HTTP 413, or an answer over
/// the bound on what is read.
pub fn too_large(error: &TransportError) -> bool {
    matches!(error, RpcError::Transport(TransportErrorKind::HttpError(http)) if http.status == 413) || oversized(error)
}
