//! Before a timelock batch is scheduled or a Safe transaction is sent:
//! will it fit in a block once it runs? A batch executes atomically in one
//! transaction; one that needs more gas than a block holds is a Ready
//! operation nobody can execute. Its calls are simulated in sequence as the
//! account that will make them (the timelock, the Safe), and the batch is
//! refused, with the numbers, when they need more than the block gas limit
//! allows with a margin.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;

use super::ApplyError;
use crate::plan::{Plan, RouteKind};
use crate::route::Steps;

/// The share of the block gas limit a batch may use: executing it adds the
/// timelock's or the Safe's own bookkeeping, and the estimate is no
/// promise.
const MARGIN_PERCENT: u64 = 80;

/// Gas the executing contract spends per call besides the call itself
/// (the timelock's loop and event, the MultiSend unpacking), a bound.
const PER_CALL_OVERHEAD: u64 = 12_000;

/// Refuses any batch these steps schedule (or Safe transaction they send)
/// whose calls need more gas than fits in a block. A node that cannot
/// simulate a sequence is not asked; the batch is then not checked.
pub async fn check(provider: &impl Provider, plan: &Plan, steps: &Steps) -> Result<(), ApplyError> {
    let scheduled: Vec<_> = steps.scheduling.iter().map(|(_, id, _)| *id).collect();
    let sends_safe = !steps.safe.is_empty();
    let mut batches = Vec::new();
    for route in &plan.routes {
        match &route.via {
            RouteKind::Timelock(batch) if scheduled.contains(&batch.operation) => {
                batches.push((batch.timelock, &route.calls));
            }
            RouteKind::Safe(batch) if sends_safe && route.calls.len() > 1 => batches.push((batch.safe, &route.calls)),
            _ => {}
        }
    }
    if batches.is_empty() {
        return Ok(());
    }
    let limit = block_gas_limit(provider).await?;
    for (sender, calls) in batches {
        let Some(gas) = gas_of(provider, plan, sender, calls).await? else { continue };
        let needed = gas.saturating_add(PER_CALL_OVERHEAD.saturating_mul(calls.len() as u64));
        let allowed = limit / 100 * MARGIN_PERCENT;
        if needed > allowed {
            return Err(ApplyError::BatchTooLarge { sender, calls: calls.len(), gas: needed, limit, allowed });
        }
    }
    Ok(())
}

async fn block_gas_limit(provider: &impl Provider) -> Result<u64, ApplyError> {
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(ApplyError::rpc("reading the block gas limit"))?;
    Ok(block.map_or(u64::MAX, |b| b.header.gas_limit))
}

/// The gas `calls` use when `sender` makes them in sequence, simulated at
/// the latest block; `None` when the node cannot simulate. A call that
/// reverts there is refused by name: it would revert the whole batch.
async fn gas_of(
    provider: &impl Provider,
    plan: &Plan,
    sender: Address,
    calls: &[usize],
) -> Result<Option<u64>, ApplyError> {
    let planned: Vec<_> = calls.iter().filter_map(|i| plan.calls.get(*i)).collect();
    let requests = planned
        .iter()
        .map(|c| {
            let (to, data) = c.sent();
            TransactionRequest::default().from(sender).to(to).input(data.clone().into())
        })
        .collect();
    let results = match super::send::in_sequence(provider, requests).await {
        Ok(results) => results,
        Err(error) if error.as_error_resp().is_some() => return Ok(None),
        Err(error) => return Err(ApplyError::rpc("simulating a batch's calls")(error)),
    };
    let mut total: u64 = 0;
    for (call, result) in planned.iter().zip(results) {
        if !result.status {
            return Err(ApplyError::SimulationReverted {
                contract: call.contract.clone(),
                function: call.function.clone(),
                revert: super::revert_name(&call.contract, &result.return_data),
            });
        }
        total = total.saturating_add(result.gas_used);
    }
    Ok(Some(total))
}
