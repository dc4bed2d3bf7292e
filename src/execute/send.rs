//! Sending a plan phase by phase: within a phase, back to back with
//! consecutive nonces; then every receipt before the next phase.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{B256, Bytes};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::rpc::types::simulate::{SimBlock, SimulatePayload};

use super::ApplyError;
use super::receipt::{ReceiptLog, TransactionRecord};
use crate::contracts::{error_name, kind};
use crate::plan::{Plan, PlannedCall};

/// How long to wait for one receipt before giving up (the transaction may
/// still be mined; the receipt file records its hash).
const RECEIPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Gas allowed per call when the node cannot simulate the sequence.
const FALLBACK_GAS: u64 = 300_000;

/// The transaction that makes `call`: to its contract, or to the contract
/// forwarding it.
fn request(call: &PlannedCall, from: alloy::primitives::Address) -> TransactionRequest {
    let (to, data) = call.sent();
    TransactionRequest::default().from(from).to(to).input(data.clone().into())
}

/// The name of the custom error in revert data, e.g. `InvalidPercentage()`:
/// looked up in the contract's own errors first, then in every known
/// contract's (a module's revert bubbles up through the SystemPause).
pub fn revert_name(contract: &str, data: &[u8]) -> String {
    let selector = data.get(..4).and_then(|s| <[u8; 4]>::try_from(s).ok());
    let named = selector.and_then(|s| error_name(kind(contract), s));
    match (named, selector) {
        (Some(name), _) => name.to_string(),
        (None, Some(_)) => format!("unknown error {}", Bytes::copy_from_slice(data)),
        (None, None) => "a revert without data".to_string(),
    }
}

/// Runs the whole plan in order with `eth_simulateV1` at the latest block
/// and returns the gas limit for each call; refuses when a call would
/// revert. Nodes without `eth_simulateV1` get a fixed gas limit instead.
pub async fn simulate(
    provider: &impl Provider,
    plan: &Plan,
    from: alloy::primitives::Address,
) -> Result<Vec<u64>, ApplyError> {
    let calls = plan.calls.iter().map(|c| request(c, from)).collect();
    let payload = SimulatePayload {
        block_state_calls: vec![SimBlock { block_overrides: None, state_overrides: None, calls }],
        trace_transfers: false,
        validation: false,
        return_full_transactions: false,
    };
    let blocks = match provider.simulate(&payload).block_id(BlockNumberOrTag::Latest.into()).await {
        Ok(blocks) => blocks,
        Err(error) if error.as_error_resp().is_some_and(|e| e.code == -32601) => {
            return Ok(vec![FALLBACK_GAS; plan.calls.len()]);
        }
        Err(error) => return Err(ApplyError::rpc("simulating the plan")(error)),
    };
    let results = blocks.into_iter().flat_map(|b| b.calls).collect::<Vec<_>>();
    let mut gas = Vec::with_capacity(plan.calls.len());
    for (call, result) in plan.calls.iter().zip(results) {
        if !result.status {
            let revert = revert_name(&call.contract, &result.return_data);
            return Err(ApplyError::SimulationReverted {
                contract: call.contract.clone(),
                function: call.function.clone(),
                revert,
            });
        }
        gas.push((result.gas_used * 3 / 2).max(60_000));
    }
    Ok(gas)
}

/// Sends one phase (`calls` are `(index in plan, call, gas)`), recording
/// each transaction as it goes, then waits for every receipt.
pub async fn send_phase(
    provider: &impl Provider,
    calls: &[(usize, &PlannedCall, u64)],
    from: alloy::primitives::Address,
    first_nonce: u64,
    confirmations: u64,
    log: &mut ReceiptLog,
) -> Result<(), ApplyError> {
    let mut pending = Vec::with_capacity(calls.len());
    for (offset, (index, call, gas)) in calls.iter().enumerate() {
        let nonce = first_nonce + offset as u64;
        let tx = request(call, from).nonce(nonce).gas_limit(*gas);
        let sent =
            provider.send_transaction(tx).await.map_err(ApplyError::rpc(format!("sending {}", call.function)))?;
        let hash = *sent.tx_hash();
        log.receipt.transactions.push(TransactionRecord {
            call: index + 1,
            phase: call.phase,
            contract: call.contract.clone(),
            function: call.function.clone(),
            hash,
            nonce,
            status: "sent".to_string(),
            block: None,
            gas_used: None,
            effective_gas_price: None,
            revert: None,
        });
        log.save().map_err(ApplyError::Receipt)?;
        pending.push((call, hash, sent.with_required_confirmations(confirmations).with_timeout(Some(RECEIPT_TIMEOUT))));
    }
    let mut first_revert = None;
    for (call, hash, waiter) in pending {
        let receipt = waiter.get_receipt().await.map_err(|e| ApplyError::Waiting { hash, reason: e.to_string() })?;
        let revert = if receipt.status() { None } else { Some(revert_reason(provider, call, hash).await) };
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
                contract: call.contract.clone(),
                function: call.function.clone(),
                hash,
                revert,
            });
        }
    }
    first_revert.map_or(Ok(()), Err)
}

/// Why a mined transaction reverted: its custom error, from the node's
/// call trace.
async fn revert_reason(provider: &impl Provider, call: &PlannedCall, hash: B256) -> String {
    let options = serde_json::json!({ "tracer": "callTracer" });
    let trace: Result<serde_json::Value, _> =
        provider.raw_request("debug_traceTransaction".into(), (hash, options)).await;
    let output = trace.ok().and_then(|t| t.get("output").and_then(|o| o.as_str()).map(str::to_string));
    match output.and_then(|hex| hex.parse::<Bytes>().ok()) {
        Some(data) => revert_name(&call.contract, &data),
        None => "a revert (the node gave no trace)".to_string(),
    }
}
