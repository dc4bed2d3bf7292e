//! A Safe route's transaction: the calls in plan order as one MultiSend (or
//! the single call), for the Safe and nonce observed, and the hash its
//! owners sign.

use alloy::primitives::{Address, Bytes};

use super::SafeBatch;
use crate::contracts::safe;

/// The Safe transaction making `calls` (target, data) from `safe` at
/// `nonce` on chain `chain_id`.
pub fn safe_batch(
    chain_id: u64,
    safe: Address,
    threshold: u64,
    owners: Vec<Address>,
    nonce: u64,
    calls: &[(Address, Bytes)],
) -> SafeBatch {
    let (to, operation, data) = safe::batch_transaction(calls);
    let safe_tx_hash = safe::safe_tx_hash(chain_id, safe, to, operation, &data, nonce);
    let (targets, payloads) = calls.iter().cloned().unzip();
    SafeBatch { safe, threshold, owners, nonce, targets, payloads, to, operation, data, safe_tx_hash }
}
