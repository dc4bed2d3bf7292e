//! Calling many getters at one block in one round trip: a JSON-RPC batch of
//! `eth_call`s, or `aggregate3` calls to Multicall3 where it is deployed.

use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, address};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::TransactionRequest;
use alloy::sol;
use alloy::sol_types::SolCall;

use super::{ObserveError, rpc};

sol!(
    #[allow(missing_docs)]
    Multicall3,
    "contracts/out/Multicall3.json"
);

/// Multicall3's address on most chains (not on a fresh anvil).
pub const MULTICALL3: Address = address!("0xcA11bde05977b3631167028862bE2a173976CA11");

/// Multicall3's runtime code, to install on a devnet.
pub fn multicall3_code() -> Bytes {
    Multicall3::DEPLOYED_BYTECODE.clone()
}

/// Calls per `aggregate3`, to stay well inside a node's `eth_call` gas cap.
const CALLS_PER_AGGREGATE: usize = 500;

/// One getter call.
#[derive(Debug, Clone)]
pub struct Read {
    /// The contract called.
    pub to: Address,
    /// ABI-encoded call.
    pub data: Vec<u8>,
}

/// What one getter returned, or why it failed.
pub type ReadResult = Result<Bytes, String>;

/// Runs every read at `block` in one round trip.
pub async fn read_all(
    provider: &impl Provider,
    reads: &[Read],
    block: BlockId,
    multicall: bool,
) -> Result<Vec<ReadResult>, ObserveError> {
    if multicall {
        read_with_multicall(provider, reads, block).await
    } else {
        read_with_batch(provider, reads, block).await
    }
}

async fn read_with_batch(
    provider: &impl Provider,
    reads: &[Read],
    block: BlockId,
) -> Result<Vec<ReadResult>, ObserveError> {
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::with_capacity(reads.len());
    for read in reads {
        let tx = TransactionRequest::default().to(read.to).input(Bytes::from(read.data.clone()).into());
        waiters.push(batch.add_call::<_, Bytes>("eth_call", &(tx, block)).map_err(rpc("preparing a getter call"))?);
    }
    batch.send().await.map_err(rpc("reading the managed fields"))?;
    let mut results = Vec::with_capacity(waiters.len());
    for waiter in waiters {
        results.push(waiter.await.map_err(|e| e.to_string()));
    }
    Ok(results)
}

async fn read_with_multicall(
    provider: &impl Provider,
    reads: &[Read],
    block: BlockId,
) -> Result<Vec<ReadResult>, ObserveError> {
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::new();
    for group in reads.chunks(CALLS_PER_AGGREGATE) {
        let calls = group
            .iter()
            .map(|r| Multicall3::Call3 { target: r.to, allowFailure: true, callData: r.data.clone().into() })
            .collect();
        let data = Multicall3::aggregate3Call { calls }.abi_encode();
        let tx = TransactionRequest::default().to(MULTICALL3).input(Bytes::from(data).into());
        waiters.push(batch.add_call::<_, Bytes>("eth_call", &(tx, block)).map_err(rpc("preparing aggregate3"))?);
    }
    batch.send().await.map_err(rpc("reading the managed fields through Multicall3"))?;
    let mut results = Vec::with_capacity(reads.len());
    for waiter in waiters {
        let data = waiter.await.map_err(rpc("calling Multicall3.aggregate3"))?;
        let decoded = Multicall3::aggregate3Call::abi_decode_returns(&data)
            .map_err(|source| ObserveError::Multicall { source })?;
        results.extend(
            decoded
                .into_iter()
                .map(|r| if r.success { Ok(r.returnData) } else { Err(format!("reverted: {}", r.returnData)) }),
        );
    }
    Ok(results)
}
