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

/// Which block an observation reads at: `latest` (the default), the
/// chain's `safe` or `finalized` block, or a number. A drift check on an
/// L2 wants `finalized`: what the sequencer shows at `latest` may still be
/// reorganised away, and a false alarm wakes someone up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReadAt {
    /// The node's latest block.
    #[default]
    Latest,
    /// The node's `safe` block.
    Safe,
    /// The node's `finalized` block.
    Finalized,
    /// The block with this number.
    Number(u64),
}

impl ReadAt {
    /// The JSON-RPC block parameter.
    pub fn tag(self) -> BlockNumberOrTag {
        match self {
            ReadAt::Latest => BlockNumberOrTag::Latest,
            ReadAt::Safe => BlockNumberOrTag::Safe,
            ReadAt::Finalized => BlockNumberOrTag::Finalized,
            ReadAt::Number(n) => BlockNumberOrTag::Number(n),
        }
    }
}

impl std::fmt::Display for ReadAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadAt::Latest => f.write_str("latest"),
            ReadAt::Safe => f.write_str("safe"),
            ReadAt::Finalized => f.write_str("finalized"),
            ReadAt::Number(n) => write!(f, "{n}"),
        }
    }
}

impl std::str::FromStr for ReadAt {
    type Err = String;

    /// `latest`, `safe`, `finalized`, a decimal number or a `0x` hex number.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let number = match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse::<u64>().ok(),
        };
        match (text.to_ascii_lowercase().as_str(), number) {
            ("latest", _) => Ok(ReadAt::Latest),
            ("safe", _) => Ok(ReadAt::Safe),
            ("finalized", _) => Ok(ReadAt::Finalized),
            (_, Some(n)) => Ok(ReadAt::Number(n)),
            _ => Err(format!("`{text}` is not a block: expected finalized, safe, latest or a block number")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_block_is_a_tag_or_a_number_and_anything_else_is_named_in_the_error() {
        assert_eq!("finalized".parse(), Ok(ReadAt::Finalized));
        assert_eq!("Safe".parse(), Ok(ReadAt::Safe));
        assert_eq!("latest".parse(), Ok(ReadAt::Latest));
        assert_eq!("1234".parse(), Ok(ReadAt::Number(1234)));
        assert_eq!("0x10".parse(), Ok(ReadAt::Number(16)));
        let error = "pending".parse::<ReadAt>().expect_err("pending is refused");
        assert!(error.contains("`pending`") && error.contains("finalized, safe, latest"), "{error}");
        assert!("-1".parse::<ReadAt>().is_err());
        assert_eq!(ReadAt::Number(7).to_string(), "7");
    }
}
