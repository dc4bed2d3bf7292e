//! Reads pinned by block number, the block's hash checked in the same round
//! trip.
//!
//! Pinning `eth_call` by `{"blockHash": …}` is exact but several times slower
//! on some nodes (anvil answers a batch pinned by hash about 9× slower than
//! the same batch pinned by number). So every batch of reads names the
//! block by number and carries one `eth_getBlockByNumber` for that number:
//! if the hash it returns is not the pinned one, the chain reorganised under
//! the read, and the answers are thrown away rather than mixed.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::B256;
use alloy::rpc::client::{BatchRequest, Waiter};
use alloy::transports::TransportError;
use serde::Deserialize;

use super::BlockRef;

/// Just the hash of a block: the rest of the header is not parsed.
#[derive(Debug, Deserialize)]
pub struct HashOnly {
    hash: B256,
}

/// Adds to `batch` the read of the hash of the block numbered like `block`.
pub fn add_check(batch: &mut BatchRequest<'_>, block: BlockRef) -> Result<Waiter<Option<HashOnly>>, TransportError> {
    batch.add_call("eth_getBlockByNumber", &(BlockNumberOrTag::Number(block.number), false))
}

/// `Ok(None)` when the block at that height is still `block`, else the hash
/// found there (zero when the node no longer has a block at that height).
pub async fn confirm(waiter: Waiter<Option<HashOnly>>, block: BlockRef) -> Result<Option<B256>, TransportError> {
    let found = waiter.await?.map_or(B256::ZERO, |b| b.hash);
    Ok((found != block.hash).then_some(found))
}
