//! Before the first transaction: may the signer send every call, and has it
//! nothing pending?

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, Bytes, U64};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;

use super::ApplyError;
use crate::contracts::timelock::{self, TimelockController};
use crate::observe::Observed;
use crate::plan::{Plan, RouteKind};
use crate::route::{self, Route, Steps};

/// Refuses unless `signer` may send every call of `plan` that goes
/// directly (a timelock's calls are its own; [`check_roles`] covers them),
/// listing for each call it may not send the chain of authority and what
/// can be done.
pub fn check_authorised(plan: &Plan, now: &Observed, signer: Address) -> Result<Vec<Route>, ApplyError> {
    let routes = route::resolve(plan, now, signer)?;
    let direct: Vec<usize> =
        plan.routes.iter().filter(|r| r.via == RouteKind::Direct).flat_map(|r| r.calls.iter().copied()).collect();
    let refused: Vec<String> = routes
        .iter()
        .filter(|r| direct.contains(&r.call))
        .filter(|r| !r.allows(signer))
        .map(|r| refusal(plan, r))
        .collect();
    if refused.is_empty() { Ok(routes) } else { Err(ApplyError::Unauthorised { signer, refused }) }
}

/// Refuses unless `signer` holds every timelock role the steps need (an
/// executor role granted to address 0 is open to anyone), naming the route.
pub async fn check_roles(
    provider: &impl Provider,
    plan: &Plan,
    routes: &[Route],
    steps: &Steps,
    signer: Address,
) -> Result<(), ApplyError> {
    if steps.needs.is_empty() {
        return Ok(());
    }
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::new();
    for need in &steps.needs {
        let role = timelock::role(need.role);
        let mut asks = Vec::new();
        for account in [signer, Address::ZERO] {
            let data = TimelockController::hasRoleCall { role, account }.abi_encode();
            let tx = TransactionRequest::default().to(need.timelock).input(Bytes::from(data).into());
            asks.push(
                batch.add_call::<_, Bytes>("eth_call", &(tx,)).map_err(ApplyError::rpc("preparing a role read"))?,
            );
        }
        waiters.push((need, asks));
    }
    batch.send().await.map_err(ApplyError::rpc("reading the timelock roles"))?;
    for (need, asks) in waiters {
        let mut held = Vec::new();
        for ask in asks {
            let data = ask.await.map_err(ApplyError::rpc(format!("reading {}", need.role)))?;
            held.push(TimelockController::hasRoleCall::abi_decode_returns(&data).unwrap_or(false));
        }
        let open = need.role == "EXECUTOR_ROLE" && held.get(1) == Some(&true);
        if held.first() != Some(&true) && !open {
            let chains = routes.iter().filter(|r| need.calls.contains(&r.call)).map(|r| refusal(plan, r));
            return Err(ApplyError::MissingRole {
                signer,
                timelock: need.timelock,
                role: need.role,
                why: need.why.clone(),
                chains: chains.collect(),
            });
        }
    }
    Ok(())
}

/// Refuses a batch still to schedule whose timelock's minimum delay rose
/// since the plan was made: scheduling it with the recorded delay would
/// revert `TimelockInsufficientDelay`.
pub fn check_timelock_delays(plan: &Plan, now: &Observed) -> Result<(), ApplyError> {
    let mut changes = Vec::new();
    for route in &plan.routes {
        let RouteKind::Timelock(batch) = &route.via else { continue };
        let Some(crate::observe::AccountKind::Timelock(state)) = now.account(batch.timelock).map(|a| &a.kind) else {
            continue;
        };
        if batch.state == crate::observe::OperationState::Unset && state.min_delay > batch.delay {
            changes.push(format!(
                "TimelockController {}: min delay {} s when the plan was made, {} s now; its batch would be refused (TimelockInsufficientDelay)",
                batch.timelock, batch.delay, state.min_delay
            ));
        }
    }
    if changes.is_empty() { Ok(()) } else { Err(ApplyError::Stale { changes }) }
}

/// `call 2, stake_manager.setFeePct: StakeManager 0x… ← SystemPause 0x… ← …`
/// and, indented below, what the operator can do.
fn refusal(plan: &Plan, route: &Route) -> String {
    let Some(call) = plan.calls.get(route.call) else {
        return route.to_string();
    };
    let function = call.function.split('(').next().unwrap_or(&call.function);
    format!("call {}, {}.{function}: {route}\n      {}", route.call + 1, call.contract, route.authority.advice())
}

/// The signer's next nonce; refuses when it has transactions pending.
pub async fn next_nonce(provider: &impl Provider, signer: Address) -> Result<u64, ApplyError> {
    let mut batch = BatchRequest::new(provider.client());
    let count = |tag| ("eth_getTransactionCount", (signer, tag));
    let (method, params) = count(BlockNumberOrTag::Latest);
    let latest = batch.add_call::<_, U64>(method, &params).map_err(ApplyError::rpc("preparing a nonce read"))?;
    let (method, params) = count(BlockNumberOrTag::Pending);
    let pending = batch.add_call::<_, U64>(method, &params).map_err(ApplyError::rpc("preparing a nonce read"))?;
    batch.send().await.map_err(ApplyError::rpc("reading the signer's nonce"))?;
    let latest = latest.await.map_err(ApplyError::rpc("reading the latest nonce"))?.to::<u64>();
    let pending = pending.await.map_err(ApplyError::rpc("reading the pending nonce"))?.to::<u64>();
    if pending > latest {
        return Err(ApplyError::PendingTransactions { signer, latest, pending });
    }
    let queued = queued_nonces(provider, signer).await;
    if !queued.is_empty() {
        return Err(ApplyError::QueuedTransactions { signer, latest, queued });
    }
    Ok(latest)
}

/// The nonces of the signer's transactions the node holds but cannot mine
/// yet (a gap before them: an earlier send of an unfinished apply never
/// arrived). Pending counts stop at the gap, so only the pool shows them.
/// A node without `txpool_content` tells nothing, and nothing is assumed.
async fn queued_nonces(provider: &impl Provider, signer: Address) -> Vec<u64> {
    let content: Result<serde_json::Value, _> = provider.raw_request("txpool_content".into(), ()).await;
    let Ok(content) = content else {
        return Vec::new();
    };
    // Nodes differ on where a transaction behind a gap is listed (geth:
    // `queued`; anvil, once the one before it was dropped: `pending`).
    let mut nonces = Vec::new();
    for section in ["pending", "queued"] {
        let Some(by_sender) = content[section].as_object() else { continue };
        let mine = by_sender.iter().find(|(sender, _)| sender.parse::<Address>().ok() == Some(signer));
        if let Some(txs) = mine.and_then(|(_, txs)| txs.as_object()) {
            nonces.extend(txs.keys().filter_map(|n| n.parse::<u64>().ok()));
        }
    }
    nonces.sort_unstable();
    nonces
}
