//! Before the first transaction: may the signer send every call, and has it
//! nothing pending?

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, U64};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;

use super::ApplyError;
use crate::plan::Plan;
use crate::route::{self, Route};

/// Refuses unless `signer` may send every call of `plan`, listing for each
/// call it may not send the chain of authority and what can be done.
pub async fn check_authorised(
    provider: &impl Provider,
    plan: &Plan,
    signer: Address,
) -> Result<Vec<Route>, ApplyError> {
    let routes = route::resolve(provider, plan, signer).await?;
    let refused: Vec<String> = routes.iter().filter(|r| !r.allows(signer)).map(|r| refusal(plan, r)).collect();
    if refused.is_empty() { Ok(routes) } else { Err(ApplyError::Unauthorised { signer, refused }) }
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
    Ok(latest)
}
