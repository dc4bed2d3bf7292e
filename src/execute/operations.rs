//! The receipt's record of timelock operations: what this run scheduled
//! (with the ready time the timelock gives), executed or cancelled, and
//! what it found still waiting.

use alloy::primitives::{Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;

use super::ApplyError;
use super::receipt::{OperationRecord, ReceiptLog};
use crate::contracts::timelock::TimelockController;
use crate::plan::{Plan, RouteKind, TimelockBatch};
use crate::route::Steps;

/// Records every operation the steps touched.
pub async fn record(
    provider: &impl Provider,
    plan: &Plan,
    steps: &Steps,
    log: &mut ReceiptLog,
) -> Result<(), ApplyError> {
    for tx in steps.groups.iter().flatten() {
        let Some(id) = tx.operation else { continue };
        let action = if tx.function.starts_with("schedule") {
            "scheduled"
        } else if tx.function.starts_with("execute") {
            "executed"
        } else {
            "cancelled"
        };
        let batch = batch_of(plan, id).cloned();
        // Scheduled through a Safe, the transaction went to the Safe.
        let timelock = batch.as_ref().map_or(tx.to, |b| b.timelock);
        let ready_at = if action == "scheduled" { Some(ready_at(provider, timelock, id).await?) } else { None };
        if ready_at == Some(0) {
            // Read back: the scheduleBatch was mined, yet the timelock does
            // not hold the operation (a reorganisation dropped it).
            log.save().map_err(ApplyError::Receipt)?;
            return Err(ApplyError::NotScheduled { timelock, id, state: "unset".to_string() });
        }
        log.receipt.operations.push(OperationRecord { timelock, id, action: action.to_string(), ready_at, batch });
    }
    for waiting in &steps.waiting {
        log.receipt.operations.push(OperationRecord {
            timelock: waiting.timelock,
            id: waiting.operation,
            action: "waiting".to_string(),
            ready_at: Some(waiting.ready_at),
            batch: batch_of(plan, waiting.operation).cloned(),
        });
    }
    log.save().map_err(ApplyError::Receipt)
}

fn batch_of(plan: &Plan, id: alloy::primitives::B256) -> Option<&TimelockBatch> {
    plan.routes.iter().find_map(|r| match &r.via {
        RouteKind::Timelock(batch) if batch.operation == id => Some(batch),
        _ => None,
    })
}

/// `getTimestamp(id)`: when the operation is ready.
async fn ready_at(
    provider: &impl Provider,
    timelock: alloy::primitives::Address,
    id: alloy::primitives::B256,
) -> Result<u64, ApplyError> {
    let data = TimelockController::getTimestampCall { id }.abi_encode();
    let tx = TransactionRequest::default().to(timelock).input(Bytes::from(data).into());
    let answer = provider.call(tx).await.map_err(ApplyError::rpc("reading when the operation is ready"))?;
    let timestamp = TimelockController::getTimestampCall::abi_decode_returns(&answer).unwrap_or(U256::ZERO);
    Ok(timestamp.saturating_to())
}
