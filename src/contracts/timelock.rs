//! OpenZeppelin's TimelockController: not a managed contract but an
//! authority, which governs the SystemPause (and through it StakeManager) in
//! production: its bindings, and the batches govstate schedules on it.

use alloy::sol;

sol!(
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[sol(rpc, all_derives)]
    TimelockController,
    "contracts/out/TimelockController.json"
);

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::sol_types::{SolCall, SolValue};

/// The id OpenZeppelin gives a batch: `hashOperationBatch`.
pub fn operation_id(targets: &[Address], payloads: &[Bytes], predecessor: B256, salt: B256) -> B256 {
    let values = vec![U256::ZERO; targets.len()];
    keccak256((targets.to_vec(), values, payloads.to_vec(), predecessor, salt).abi_encode_params())
}

/// The salt govstate gives a batch: derived from the batch itself and a
/// counter (the number of identical batches already executed), never from
/// the clock, so the same reviewed change always has the same id.
pub fn salt(targets: &[Address], payloads: &[Bytes], counter: u64) -> B256 {
    keccak256(("govstate", targets.to_vec(), payloads.to_vec(), U256::from(counter)).abi_encode_params())
}

/// `scheduleBatch(targets, 0…, payloads, predecessor, salt, delay)`.
pub fn schedule_batch(targets: &[Address], payloads: &[Bytes], predecessor: B256, salt: B256, delay: u64) -> Vec<u8> {
    TimelockController::scheduleBatchCall {
        targets: targets.to_vec(),
        values: vec![U256::ZERO; targets.len()],
        payloads: payloads.to_vec(),
        predecessor,
        salt,
        delay: U256::from(delay),
    }
    .abi_encode()
}

/// `executeBatch(targets, 0…, payloads, predecessor, salt)`.
pub fn execute_batch(targets: &[Address], payloads: &[Bytes], predecessor: B256, salt: B256) -> Vec<u8> {
    TimelockController::executeBatchCall {
        targets: targets.to_vec(),
        values: vec![U256::ZERO; targets.len()],
        payloads: payloads.to_vec(),
        predecessor,
        salt,
    }
    .abi_encode()
}

/// `cancel(id)`.
pub fn cancel(id: B256) -> Vec<u8> {
    TimelockController::cancelCall { id }.abi_encode()
}

/// `keccak256("PROPOSER_ROLE")` and its kin.
pub fn role(name: &str) -> B256 {
    keccak256(name.as_bytes())
}
