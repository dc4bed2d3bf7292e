//! Sending transactions group by group (a plan's phases, then timelock
//! actions): within a group, back to back with consecutive nonces; then
//! every receipt before the next group.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::rpc::types::simulate::{SimBlock, SimulatePayload};

use super::ApplyError;
use super::receipt::{ReceiptLog, TransactionRecord};
use crate::contracts::{error_name, kind};
use crate::route::Transaction;

/// How long to wait for one receipt before giving up (the transaction may
/// still be mined; the receipt file records its hash).
const RECEIPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Gas allowed per call when the node cannot simulate the sequence.
const FALLBACK_GAS: u64 = 300_000;

fn request(tx: &Transaction, from: alloy::primitives::Address) -> TransactionRequest {
    TransactionRequest::default().from(from).to(tx.to).input(tx.data.clone().into())
}

/// The name of the custom error in revert data, e.g. `InvalidPercentage()`:
/// looked up in the contract's own errors first, then in every known
/// contract's (a module's revert bubbles up through the SystemPause).
pub fn revert_name(contract: &str, data: &[u8]) -> String {
    let selector = data.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok());
    let named = selector.and_then(|s| error_name(kind(contract), s));
    if named.is_none()
        && let Ok(reason) = <alloy::sol_types::Revert as alloy::sol_types::SolError>::abi_decode(data)
    {
        // A string revert, as the Safe gives (`GS013`, `GS026`).
        return format!("Error({:?})", reason.reason);
    }
    match (named, selector) {
        (Some(name), _) => name.to_string(),
        (None, Some(_)) => format!("unknown error {}", Bytes::copy_from_slice(data)),
        (None, None) => "a revert without data".to_string(),
    }
}

/// Runs every transaction in order with `eth_simulateV1` at the latest
/// block and returns the gas limit for each; refuses when one would revert.
/// Nodes without `eth_simulateV1` get a fixed gas limit instead.
pub async fn simulate(
    provider: &impl Provider,
    transactions: &[&Transaction],
    from: alloy::primitives::Address,
) -> Result<Vec<u64>, ApplyError> {
    if transactions.is_empty() {
        return Ok(Vec::new());
    }
    let calls = transactions.iter().map(|t| request(t, from)).collect();
    let payload = SimulatePayload {
        block_state_calls: vec![SimBlock { block_overrides: None, state_overrides: None, calls }],
        trace_transfers: false,
        validation: false,
        return_full_transactions: false,
    };
    let blocks = match provider.simulate(&payload).block_id(BlockNumberOrTag::Latest.into()).await {
        Ok(blocks) => blocks,
        Err(error) if error.as_error_resp().is_some_and(|e| e.code == -32601) => {
            return Ok(vec![FALLBACK_GAS; transactions.len()]);
        }
        Err(error) => return Err(ApplyError::rpc("simulating the plan")(error)),
    };
    let results = blocks.into_iter().flat_map(|b| b.calls).collect::<Vec<_>>();
    let mut gas = Vec::with_capacity(transactions.len());
    for (tx, result) in transactions.iter().zip(results) {
        if !result.status {
            let revert = revert_name(&tx.contract, &result.return_data);
            return Err(ApplyError::SimulationReverted {
                contract: tx.contract.clone(),
                function: tx.function.clone(),
                revert,
            });
        }
        gas.push((result.gas_used * 3 / 2).max(60_000));
    }
    Ok(gas)
}

/// Sends one group of transactions back to back with consecutive nonces,
/// recording each as it goes, then waits for every receipt.
pub async fn send_phase(
    provider: &impl Provider,
    transactions: &[(&Transaction, u64)],
    from: alloy::primitives::Address,
    first_nonce: u64,
    confirmations: u64,
    log: &mut ReceiptLog,
) -> Result<(), ApplyError> {
    let mut pending = Vec::with_capacity(transactions.len());
    for (offset, (tx, gas)) in transactions.iter().enumerate() {
        let nonce = first_nonce + offset as u64;
        let request = request(tx, from).nonce(nonce).gas_limit(*gas);
        let sent =
            provider.send_transaction(request).await.map_err(ApplyError::rpc(format!("sending {}", tx.function)))?;
        let hash = *sent.tx_hash();
        log.receipt.transactions.push(TransactionRecord {
            call: tx.call,
            phase: tx.phase,
            contract: tx.contract.clone(),
            function: tx.function.clone(),
            hash,
            nonce,
            status: "sent".to_string(),
            block: None,
            gas_used: None,
            effective_gas_price: None,
            revert: None,
            operation: tx.operation,
        });
        log.save().map_err(ApplyError::Receipt)?;
        pending.push((tx, hash, sent.with_required_confirmations(confirmations).with_timeout(Some(RECEIPT_TIMEOUT))));
    }
    let mut first_revert = None;
    for (tx, hash, waiter) in pending {
        let receipt = waiter.get_receipt().await.map_err(|e| ApplyError::Waiting { hash, reason: e.to_string() })?;
        let revert = if receipt.status() { None } else { Some(revert_reason(provider, &tx.contract, hash).await) };
        if let Some(record) = log.receipt.transactions.iter_mut().find(|r| r.hash == hash) {
            record.status = if revert.is_none() { "success" } else { "reverted" }.to_string();
            record.block = receipt.block_number;
            record.gas_used = Some(receipt.gas_used);
            record.effective_gas_price = Some(receipt.effective_gas_price);
            record.revert = revert.clone();
        }
        log.save().map_err(ApplyError::Receipt)?;
        if let (Some(revert), None) = (revert, &first_revert) {
            first_revert = Some(ApplyError::Reverted {
                contract: tx.contract.clone(),
                function: tx.function.clone(),
                hash,
                revert,
            });
        }
    }
    first_revert.map_or(Ok(()), Err)
}

/// Why a mined transaction reverted: its custom error, from the node's
/// call trace.
async fn revert_reason(provider: &impl Provider, contract: &str, hash: B256) -> String {
    let options = serde_json::json!({ "tracer": "callTracer" });
    let trace: Result<serde_json::Value, _> =
        provider.raw_request("debug_traceTransaction".into(), (hash, options)).await;
    let output = trace.ok().and_then(|t| t.get("output").and_then(|o| o.as_str()).map(str::to_string));
    match output.and_then(|hex| hex.parse::<Bytes>().ok()) {
        Some(data) => revert_name(contract, &data),
        None => "a revert (the node gave no trace)".to_string(),
    }
}
