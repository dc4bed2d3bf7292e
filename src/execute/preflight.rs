//! Before the first transaction: is the signer allowed to make every call,
//! and has it nothing pending?

use std::collections::BTreeMap;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, Bytes, U64};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::TransactionRequest;

use super::ApplyError;
use crate::contracts::{Value, kind};
use crate::plan::{Plan, PlannedCall};

/// Each called contract's authority (owner or governance), read in one batch.
async fn authorities(provider: &impl Provider, plan: &Plan) -> Result<BTreeMap<String, Address>, ApplyError> {
    let called: BTreeMap<&str, Address> = plan.calls.iter().map(|c| (c.contract.as_str(), c.target)).collect();
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::with_capacity(called.len());
    for (contract, target) in called {
        let kind = kind(contract).ok_or_else(|| ApplyError::UnknownContract(contract.to_string()))?;
        let tx = TransactionRequest::default().to(target).input(Bytes::from((kind.authority.calldata)()).into());
        let waiter =
            batch.add_call::<_, Bytes>("eth_call", &(tx,)).map_err(ApplyError::rpc("preparing an owner read"))?;
        waiters.push((contract, kind, waiter));
    }
    batch.send().await.map_err(ApplyError::rpc("reading who may call"))?;
    let mut found = BTreeMap::new();
    for (contract, kind, waiter) in waiters {
        let data = waiter.await.map_err(ApplyError::rpc(format!("reading {}", kind.authority.getter)))?;
        let authority = (kind.authority.decode)(&data).map_err(|e| ApplyError::Decode(e.to_string()))?;
        found.insert(contract.to_string(), authority);
    }
    Ok(found)
}

/// The accounts allowed to make `call`: the contract's authority, and for
/// some setters the holder of another role (StakeManager's pauser).
fn allowed(plan: &Plan, call: &PlannedCall, authority: Address) -> Vec<Address> {
    let setter = kind(&call.contract).and_then(|k| k.setters.iter().find(|s| s.function == call.function));
    let holder = setter.and_then(|s| s.also_allowed).and_then(|field| {
        let observed = plan.contracts.iter().find(|c| c.contract == call.contract)?.fields.get(field)?;
        match observed {
            Value::Address(holder) if !holder.is_zero() => Some(*holder),
            _ => None,
        }
    });
    std::iter::once(authority).chain(holder).collect()
}

/// Refuses unless `signer` may make every call of `plan`.
pub async fn check_authorised(provider: &impl Provider, plan: &Plan, signer: Address) -> Result<(), ApplyError> {
    let authorities = authorities(provider, plan).await?;
    for call in &plan.calls {
        let authority = authorities.get(&call.contract).copied().unwrap_or_default();
        let allowed = allowed(plan, call, authority);
        if !allowed.contains(&signer) {
            return Err(ApplyError::Unauthorised {
                contract: call.contract.clone(),
                function: call.function.clone(),
                signer,
                allowed,
            });
        }
    }
    Ok(())
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
