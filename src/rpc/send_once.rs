//! A transaction is never sent twice: what happens when the answer to
//! `eth_sendRawTransaction` is lost.
//!
//! The read retry layer lets sends through untouched; this layer, below it,
//! handles them. The signed bytes fix the transaction's hash, sender and
//! nonce. When the endpoint's answer is lost (a dropped connection, a
//! time-out, a bad gateway, a body that is not JSON), the send is not
//! repeated blindly: the node is asked about the hash, then about the
//! sender's nonce.
//!
//! - The node has the transaction (pool or chain): the send succeeded; the
//!   caller gets the hash as if the answer had arrived.
//! - The nonce went to another transaction: refused, nothing more is sent.
//! - Neither: the *same signed bytes* go out again (same hash, same nonce:
//!   the chain can include them at most once), after a jittered exponential
//!   backoff, a bounded number of times.
//!
//! An answer in which the node rejects the transaction is passed on as it
//! is (unless the node turns out to have it already).
//!
//! The hash a node answers is a claim, checked: a transaction's hash is the
//! keccak of its signed bytes. An answer with any other hash is not passed
//! on; the node is asked about the real hash, which is answered when the
//! node has it, and the send fails (nothing more sent) when it does not.

use std::task::{Context, Poll};

use alloy::consensus::TxEnvelope;
use alloy::consensus::transaction::{SignerRecoverable, Transaction};
use alloy::eips::eip2718::Decodable2718;
use alloy::primitives::{Address, B256, Bytes, U64, keccak256};
use alloy::rpc::json_rpc::{Id, Request, RequestPacket, Response, ResponsePacket, ResponsePayload};
use alloy::transports::{TransportError, TransportErrorKind, TransportFut};
use serde_json::value::RawValue;
use tower::retry::backoff::{Backoff, ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;
use tower::{Layer, Service, ServiceExt};

use super::Patience;
use super::retry::Endpoint;

/// The layer that reconciles lost send answers.
#[derive(Debug, Clone)]
pub struct SendOnceLayer {
    patience: Patience,
    endpoint: Endpoint,
}

impl SendOnceLayer {
    /// Rebroadcasts at most `patience.retries` times; errors name the
    /// endpoint of `url`.
    pub fn new(patience: Patience, url: &alloy::transports::http::reqwest::Url) -> Self {
        let endpoint = Endpoint::new(url);
        Self { patience, endpoint }
    }
}

impl<S> Layer<S> for SendOnceLayer {
    type Service = SendOnce<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SendOnce { inner, patience: self.patience, endpoint: self.endpoint.clone() }
    }
}

/// A transport on which a lost send answer is reconciled, never repeated blindly.
#[derive(Debug, Clone)]
pub struct SendOnce<S> {
    inner: S,
    patience: Patience,
    endpoint: Endpoint,
}

/// What is known of one signed transaction.
#[derive(Debug, Clone, Copy)]
struct Signed {
    hash: B256,
    from: Address,
    nonce: u64,
}

/// What the node knows of a transaction whose answer was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// In the pool or mined.
    Known,
    /// Its nonce went to another transaction.
    NonceTaken,
    /// Not seen (or the node could not say): the same bytes may go again.
    Unseen,
}

impl<S> Service<RequestPacket> for SendOnce<S>
where
    S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError, Future = TransportFut<'static>>
        + Clone
        + Send
        + Sync
        + 'static,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        let Some((id, signed)) = raw_send(&request) else {
            return self.inner.call(request);
        };
        let this = self.clone();
        Box::pin(async move { this.send(request, id, signed).await })
    }
}

impl<S> SendOnce<S>
where
    S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError, Future = TransportFut<'static>>
        + Clone
        + Send
        + Sync
        + 'static,
{
    async fn send(self, request: RequestPacket, id: Id, signed: Signed) -> Result<ResponsePacket, TransportError> {
        let maker = ExponentialBackoffMaker::new(
            self.patience.min_backoff,
            self.patience.max_backoff.max(self.patience.min_backoff).max(std::time::Duration::from_millis(1)),
            1.0,
            HasherRng::default(),
        );
        let mut backoff = maker.ok().map(|mut m| m.make_backoff());
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let answer = self.inner.clone().oneshot(request.clone()).await;
            let failure = match answer {
                Ok(ResponsePacket::Single(ref r)) if r.is_success() => {
                    if answered_hash(r) == Some(signed.hash) {
                        return answer;
                    }
                    return match self.fate(signed).await {
                        Fate::Known => Ok(sent(id, signed.hash)),
                        _ => Err(made_up(signed, r)),
                    };
                }
                Ok(rejected) => match self.fate(signed).await {
                    Fate::Known => return Ok(sent(id, signed.hash)),
                    _ => return Ok(rejected),
                },
                Err(error) => error,
            };
            match self.fate(signed).await {
                Fate::Known => return Ok(sent(id, signed.hash)),
                Fate::NonceTaken => return Err(nonce_taken(signed)),
                Fate::Unseen if attempts <= self.patience.retries => {}
                Fate::Unseen => return Err(self.gave_up(signed, attempts, &failure)),
            }
            match backoff.as_mut() {
                Some(backoff) => backoff.next_backoff().await,
                None => tokio::time::sleep(self.patience.min_backoff).await,
            }
        }
    }

    /// Asks the node about the transaction's hash, then its sender's nonce.
    async fn fate(&self, signed: Signed) -> Fate {
        let found: Option<Option<serde_json::Value>> = self.ask("eth_getTransactionByHash", (signed.hash,)).await;
        match found {
            Some(Some(_)) => return Fate::Known,
            Some(None) => {}
            None => return Fate::Unseen,
        }
        let mined: Option<U64> = self.ask("eth_getTransactionCount", (signed.from, "latest")).await;
        match mined {
            Some(mined) if mined.to::<u64>() > signed.nonce => {}
            _ => return Fate::Unseen,
        }
        // The nonce is used: by this transaction (mined meanwhile), or another.
        let receipt: Option<Option<serde_json::Value>> = self.ask("eth_getTransactionReceipt", (signed.hash,)).await;
        match receipt {
            Some(Some(_)) => Fate::Known,
            Some(None) => Fate::NonceTaken,
            None => Fate::Unseen,
        }
    }

    /// One read through the inner transport; `None` when it fails.
    async fn ask<P, R>(&self, method: &'static str, params: P) -> Option<R>
    where
        P: serde::Serialize + Clone + Send + Sync + Unpin + std::fmt::Debug + 'static,
        R: serde::de::DeserializeOwned,
    {
        let request = Request::new(method, Id::Number(0), params).serialize().ok()?;
        match self.inner.clone().oneshot(RequestPacket::Single(request)).await.ok()? {
            ResponsePacket::Single(Response { payload: ResponsePayload::Success(raw), .. }) => {
                serde_json::from_str(raw.get()).ok()
            }
            _ => None,
        }
    }

    fn gave_up(&self, signed: Signed, attempts: u32, failure: &TransportError) -> TransportError {
        let Signed { hash, nonce, .. } = signed;
        let endpoint = self.endpoint.name();
        let failure = self.endpoint.describe(failure);
        TransportErrorKind::custom_str(&format!(
            "{endpoint} did not take transaction {hash} (nonce {nonce}) after {attempts} attempts with the same signed bytes; last failure: {failure}"
        ))
    }
}

/// The hash in a successful send answer, when it is one.
fn answered_hash(answer: &Response) -> Option<B256> {
    match &answer.payload {
        ResponsePayload::Success(raw) => serde_json::from_str(raw.get()).ok(),
        ResponsePayload::Failure(_) => None,
    }
}

fn made_up(signed: Signed, answer: &Response) -> TransportError {
    let Signed { hash, nonce, .. } = signed;
    let claimed = answered_hash(answer).map_or_else(|| "something that is not a hash".to_string(), |h| h.to_string());
    TransportErrorKind::custom_str(&format!(
        "the node answered {claimed} for transaction {hash} (nonce {nonce}; the keccak of its signed bytes) and does not know {hash}: the endpoint's answers cannot be trusted; nothing more was sent"
    ))
}

fn nonce_taken(signed: Signed) -> TransportError {
    let Signed { hash, from, nonce } = signed;
    TransportErrorKind::custom_str(&format!(
        "nonce {nonce} of {from} went to another transaction while {hash} was being sent; nothing more was sent"
    ))
}

/// The answer the node would have given: the transaction's hash.
fn sent(id: Id, hash: B256) -> ResponsePacket {
    let raw = RawValue::from_string(format!("\"{hash}\"")).ok();
    let payload = match raw {
        Some(raw) => ResponsePayload::Success(raw),
        None => ResponsePayload::Failure(alloy::rpc::json_rpc::ErrorPayload::internal_error()),
    };
    ResponsePacket::Single(Response { id, payload })
}

/// The id and the signed transaction of an `eth_sendRawTransaction`
/// request, when `request` is one whose bytes decode.
fn raw_send(request: &RequestPacket) -> Option<(Id, Signed)> {
    let RequestPacket::Single(single) = request else { return None };
    if single.method() != "eth_sendRawTransaction" {
        return None;
    }
    let (raw,): (Bytes,) = serde_json::from_str(single.params()?.get()).ok()?;
    let envelope = TxEnvelope::decode_2718(&mut raw.as_ref()).ok()?;
    let from = envelope.recover_signer().ok()?;
    let signed = Signed { hash: keccak256(&raw), from, nonce: envelope.nonce() };
    Some((single.id().clone(), signed))
}
