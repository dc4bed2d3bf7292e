//! Connecting to a JSON-RPC endpoint, and counting the traffic.
//!
//! Every provider govstate makes goes through [`connect`], which counts
//! JSON-RPC requests and HTTP round trips (a batch is one round trip), so
//! `--stats` can show what a command cost, and retries reads on a flaky
//! endpoint (see [`Patience`]).

mod batch;
mod bounded;
mod classify;
mod redact;
mod retry;
mod send_once;

pub use batch::too_large;
pub use bounded::QuotaExhausted;
pub use classify::{Verdict, too_much, verdict};
pub use redact::{Redactor, endpoint_name, sanitize};
pub use retry::{MAX_RETRY_AFTER, Patience, describe_request};

/// An endpoint's URL.
pub use alloy::transports::http::reqwest::Url;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use alloy::network::EthereumWallet;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::client::{ClientBuilder, RpcClient};
use alloy::rpc::json_rpc::{RequestPacket, ResponsePacket};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest;
use alloy::transports::{TransportError, TransportFut};
use tower::{Layer, Service};

/// Why a configured endpoint cannot be used. The value is never repeated:
/// a variable named by a file may hold any secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// The value is not an `http://` or `https://` URL.
    #[error("the RPC endpoint from {origin} is not an http(s) URL (its value is not shown: it may be a secret)")]
    NotHttp {
        /// Where the value came from: a flag or a variable's name.
        origin: String,
    },
}

/// The endpoint `text` given by `origin` (`--rpc-url`, a variable's name),
/// parsed; only `http` and `https` URLs with a host are endpoints.
pub fn parse_endpoint(text: &str, origin: &str) -> Result<Url, EndpointError> {
    match Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        _ => Err(EndpointError::NotHttp { origin: origin.to_string() }),
    }
}

/// A name for the endpoint at `url` that holds none of its secrets: a hash
/// of the whole URL, for keeping what was learned of it (the `eth_getLogs`
/// range it accepts) in the cache.
pub fn endpoint_key(url: &Url) -> String {
    let hash = alloy::primitives::keccak256(url.as_str().as_bytes());
    alloy::primitives::hex::encode(&hash[..16])
}

/// Requests, round trips and bytes through the providers sharing it.
#[derive(Debug, Clone, Default)]
pub struct RpcStats(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    round_trips: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

impl RpcStats {
    /// JSON-RPC requests sent so far (each entry of a batch counts).
    pub fn requests(&self) -> u64 {
        self.0.requests.load(Ordering::Relaxed)
    }

    /// HTTP round trips so far (a batch is one).
    pub fn round_trips(&self) -> u64 {
        self.0.round_trips.load(Ordering::Relaxed)
    }

    /// Bytes of request bodies sent so far.
    pub fn bytes_sent(&self) -> u64 {
        self.0.bytes_sent.load(Ordering::Relaxed)
    }

    /// Bytes of answer bodies read so far.
    pub fn bytes_received(&self) -> u64 {
        self.0.bytes_received.load(Ordering::Relaxed)
    }

    /// One line for `--stats`: requests, round trips and bytes each way.
    pub fn summary(&self) -> String {
        format!(
            "RPC: {} requests in {} round trips, {} sent, {} received",
            self.requests(),
            self.round_trips(),
            human_bytes(self.bytes_sent()),
            human_bytes(self.bytes_received())
        )
    }

    fn record_bytes(&self, sent: usize, received: usize) {
        self.0.bytes_sent.fetch_add(sent as u64, Ordering::Relaxed);
        self.0.bytes_received.fetch_add(received as u64, Ordering::Relaxed);
    }

    fn record(&self, packet: &RequestPacket) {
        let requests = packet.method_names().count() as u64;
        self.0.requests.fetch_add(requests, Ordering::Relaxed);
        self.0.round_trips.fetch_add(1, Ordering::Relaxed);
    }
}

/// A read-only provider for `url` whose traffic is counted in `stats`, with
/// the default [`Patience`].
pub fn connect(url: Url, stats: &RpcStats) -> DynProvider {
    connect_with(url, stats, Patience::default())
}

/// A read-only provider for `url`, its traffic counted in `stats`, its reads
/// retried as `patience` says.
pub fn connect_with(url: Url, stats: &RpcStats, patience: Patience) -> DynProvider {
    ProviderBuilder::new().connect_client(client(url, stats, patience)).erased()
}

/// A provider for `url` that signs as `signer`, its traffic counted in
/// `stats`, with the default [`Patience`].
pub fn connect_signing(url: Url, stats: &RpcStats, signer: PrivateKeySigner) -> DynProvider {
    connect_signing_with(url, stats, signer, Patience::default())
}

/// A provider for `url` that signs as `signer`, its traffic counted in
/// `stats`, its reads (never its sends) retried as `patience` says.
pub fn connect_signing_with(url: Url, stats: &RpcStats, signer: PrivateKeySigner, patience: Patience) -> DynProvider {
    connect_wallet_with(url, stats, Some(EthereumWallet::from(signer)), patience)
}

/// A provider for `url` that signs with `wallet` (any kind of signer), or,
/// without one, leaves signing to the endpoint (`eth_sendTransaction` for
/// an account it holds unlocked); traffic counted in `stats`, reads (never
/// sends) retried as `patience` says.
pub fn connect_wallet_with(
    url: Url,
    stats: &RpcStats,
    wallet: Option<EthereumWallet>,
    patience: Patience,
) -> DynProvider {
    match wallet {
        Some(wallet) => ProviderBuilder::new().wallet(wallet).connect_client(client(url, stats, patience)).erased(),
        None => connect_with(url, stats, patience),
    }
}

/// The JSON-RPC client: batches kept within the cap outside, then read
/// retries (entry by entry in a batch), then the reconciliation of
/// lost send answers, then counting (every attempt is a round trip), HTTP
/// with the time-out at the bottom.
fn client(url: Url, stats: &RpcStats, patience: Patience) -> RpcClient {
    let http = reqwest::Client::builder().timeout(patience.timeout).build().unwrap_or_default();
    let local = alloy::transports::utils::guess_local_url(url.as_str());
    let transport = bounded::BoundedHttp::new(http, url.clone(), patience.max_answer_bytes, stats);
    ClientBuilder::default()
        .layer(batch::BatchLayer::new(patience.max_batch))
        .layer(retry::RetryLayer::new(patience, &url))
        .layer(send_once::SendOnceLayer::new(patience, &url))
        .layer(CountingLayer(stats.clone()))
        .layer(redact::SanitizeLayer::new(&url))
        .transport(transport, local)
}

/// `bytes` for people: `512 B`, `3.4 KiB`, `1.2 MiB`.
fn human_bytes(bytes: u64) -> String {
    match bytes {
        0..1_024 => format!("{bytes} B"),
        1_024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1_024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// The tower layer that counts.
#[derive(Debug, Clone)]
struct CountingLayer(RpcStats);

impl<S> Layer<S> for CountingLayer {
    type Service = Counting<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Counting { inner, stats: self.0.clone() }
    }
}

/// A transport that counts what passes through it.
#[derive(Debug, Clone)]
struct Counting<S> {
    inner: S,
    stats: RpcStats,
}

impl<S> Service<RequestPacket> for Counting<S>
where
    S: Service<RequestPacket, Response = ResponsePacket, Error = TransportError, Future = TransportFut<'static>>,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: RequestPacket) -> Self::Future {
        self.stats.record(&request);
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn byte_counts_read_in_the_unit_that_fits() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1_023), "1023 B");
        assert_eq!(human_bytes(1_024), "1.0 KiB");
        assert_eq!(human_bytes(3_500), "3.4 KiB");
        assert_eq!(human_bytes(5 * 1_048_576 + 104_858), "5.1 MiB");
    }
}
