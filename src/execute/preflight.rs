//! Before the first transaction: is the signer allowed to make every call,
//! and has it nothing pending?

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, Bytes, U64};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::TransactionRequest;

use super::ApplyError;
use crate::contracts::kind;
use crate::plan::{Plan, PlannedCall};

/// The accounts allowed to make `call`: the contract's authority, and for
/// some setters the holder of another role (StakeManager's pauser).
async fn allowed(provider: &impl Provider, plan: &Plan, call: &PlannedCall) -> Result<Vec<Address>, ApplyError> {
    let kind = kind(&call.contract).ok_or_else(|| ApplyError::UnknownContract(call.contract.clone()))?;
    let tx = TransactionRequest::default().to(call.target).input(Bytes::from((kind.authority.calldata)()).into());
    let data = provider.call(tx).await.map_err(ApplyError::rpc("reading who may call"))?;
    let authority = (kind.authority.decode)(&data).map_err(|e| ApplyError::Decode(e.to_string()))?;
    let mut allowed = vec![authority];
    let setter = kind.setters.iter().find(|s| s.function == call.function);
    if let Some(field) = setter.and_then(|s| s.also_allowed) {
        let observed = plan.contracts.iter().find(|c| c.contract == call.contract).and_then(|c| c.fields.get(field));
        if let Some(crate::contracts::Value::Address(holder)) = observed
            && !holder.is_zero()
        {
            allowed.push(*holder);
        }
    }
    Ok(allowed)
}

/// Refuses unless `signer` may make every call of `plan`.
pub async fn check_authorised(provider: &impl Provider, plan: &Plan, signer: Address) -> Result<(), ApplyError> {
    for call in &plan.calls {
        let allowed = allowed(provider, plan, call).await?;
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
