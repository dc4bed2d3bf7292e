//! Connecting to a JSON-RPC endpoint, and counting the traffic.
//!
//! Every provider govstate makes goes through [`connect`], which counts
//! JSON-RPC requests and HTTP round trips (a batch is one round trip), so
//! `--stats` can show what a command cost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use alloy::network::EthereumWallet;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::client::ClientBuilder;
use alloy::rpc::json_rpc::{RequestPacket, ResponsePacket};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use alloy::transports::{TransportError, TransportFut};
use tower::{Layer, Service};

/// Requests and round trips made through the providers sharing it.
#[derive(Debug, Clone, Default)]
pub struct RpcStats(Arc<Counters>);

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    round_trips: AtomicU64,
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

    fn record(&self, packet: &RequestPacket) {
        let requests = packet.method_names().count() as u64;
        self.0.requests.fetch_add(requests, Ordering::Relaxed);
        self.0.round_trips.fetch_add(1, Ordering::Relaxed);
    }
}

/// A read-only provider for `url` whose traffic is counted in `stats`.
pub fn connect(url: Url, stats: &RpcStats) -> DynProvider {
    let client = ClientBuilder::default().layer(CountingLayer(stats.clone())).http(url);
    ProviderBuilder::new().connect_client(client).erased()
}

/// A provider for `url` that signs as `signer`, its traffic counted in `stats`.
pub fn connect_signing(url: Url, stats: &RpcStats, signer: PrivateKeySigner) -> DynProvider {
    let client = ClientBuilder::default().layer(CountingLayer(stats.clone())).http(url);
    ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_client(client).erased()
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
