//! Observe: read every managed field of a deployment at one pinned block.
//!
//! All reads name the same block by hash, so the state seen is one
//! consistent snapshot even while new blocks arrive. The getter calls go out
//! as one JSON-RPC batch.

mod export;
mod state;

pub use export::desired_state_yaml;
pub use state::{BlockRef, Observed, ObservedContract};

use std::collections::BTreeSet;

use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::{BlockNumberOrTag, Filter, TransactionRequest};
use alloy::transports::TransportError;

use crate::contracts::{Deployed, Deployment};

/// Why the chain could not be observed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObserveError {
    /// A JSON-RPC request failed.
    #[error("RPC request failed while {doing}: {source}")]
    Rpc {
        /// What govstate was reading.
        doing: String,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// The endpoint serves a different chain than the deployment names.
    #[error("the RPC endpoint serves chain {actual}, but the file is for chain {expected}")]
    WrongChain {
        /// The chain id in the file.
        expected: u64,
        /// The chain id the endpoint reports.
        actual: u64,
    },
    /// The node returned no latest block.
    #[error("the RPC endpoint returned no latest block")]
    NoBlock,
    /// A getter's return data did not decode.
    #[error("{contract}.{field}: {getter} returned data that does not decode: {source}")]
    Decode {
        /// The contract's section key.
        contract: &'static str,
        /// The field's key path.
        field: String,
        /// The getter called.
        getter: &'static str,
        /// The decoder's error.
        #[source]
        source: alloy::sol_types::Error,
    },
}

fn rpc(doing: impl Into<String>) -> impl FnOnce(TransportError) -> ObserveError {
    let doing = doing.into();
    move |source| ObserveError::Rpc { doing, source }
}

/// Reads every managed field of `deployment` at the latest block.
pub async fn observe(
    provider: &impl Provider,
    deployment: &Deployment,
) -> Result<Observed, ObserveError> {
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(rpc("reading the chain id"))?;
    if chain_id != deployment.chain_id {
        return Err(ObserveError::WrongChain {
            expected: deployment.chain_id,
            actual: chain_id,
        });
    }
    let block = pin_latest_block(provider).await?;
    let mut contracts = Vec::with_capacity(deployment.contracts.len());
    for deployed in &deployment.contracts {
        let candidates = role_candidates(provider, deployed, block.number).await?;
        contracts.push((deployed, candidates));
    }
    let reads = read_all(provider, &contracts, block).await?;
    Ok(Observed {
        chain_id,
        block,
        contracts: reads,
    })
}

async fn pin_latest_block(provider: &impl Provider) -> Result<BlockRef, ObserveError> {
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(rpc("reading the latest block"))?
        .ok_or(ObserveError::NoBlock)?;
    Ok(BlockRef {
        number: block.header.number,
        hash: block.header.hash,
    })
}

/// Every address that ever appeared in a role set's change events.
async fn role_candidates(
    provider: &impl Provider,
    deployed: &Deployed,
    to_block: u64,
) -> Result<Vec<BTreeSet<Address>>, ObserveError> {
    let mut sets = Vec::with_capacity(deployed.kind.role_sets.len());
    for set in deployed.kind.role_sets {
        let filter = Filter::new()
            .address(deployed.address)
            .event_signature(set.event_topic)
            .from_block(deployed.deployed_block.unwrap_or(0))
            .to_block(to_block);
        let logs = provider.get_logs(&filter).await.map_err(rpc(format!(
            "listing {}.{} from logs",
            deployed.kind.key, set.key
        )))?;
        let holders = logs
            .iter()
            .filter_map(|log| log.topics().get(1))
            .map(|t| Address::from_word(*t));
        sets.push(holders.collect());
    }
    Ok(sets)
}

/// Calls every field getter and every membership getter in one batch.
async fn read_all(
    provider: &impl Provider,
    contracts: &[(&Deployed, Vec<BTreeSet<Address>>)],
    block: BlockRef,
) -> Result<Vec<ObservedContract>, ObserveError> {
    let at = BlockId::from(block.hash);
    let mut batch = BatchRequest::new(provider.client());
    let mut pending = Vec::new();
    for (deployed, candidates) in contracts {
        let call = |data: Vec<u8>| {
            TransactionRequest::default()
                .to(deployed.address)
                .input(Bytes::from(data).into())
        };
        let mut fields = Vec::with_capacity(deployed.kind.fields.len());
        for field in deployed.kind.fields {
            let waiter = batch
                .add_call::<_, Bytes>("eth_call", &(call((field.calldata)()), at))
                .map_err(rpc("preparing a getter call"))?;
            fields.push(waiter);
        }
        let mut sets = Vec::with_capacity(candidates.len());
        for (set, holders) in deployed.kind.role_sets.iter().zip(candidates) {
            let mut members = Vec::with_capacity(holders.len());
            for holder in holders {
                let waiter = batch
                    .add_call::<_, Bytes>("eth_call", &(call((set.calldata)(*holder)), at))
                    .map_err(rpc("preparing a membership call"))?;
                members.push((*holder, waiter));
            }
            sets.push(members);
        }
        pending.push((*deployed, fields, sets));
    }
    batch
        .send()
        .await
        .map_err(rpc("reading every managed field"))?;
    let mut observed = Vec::with_capacity(pending.len());
    for (deployed, fields, sets) in pending {
        observed.push(collect(deployed, fields, sets).await?);
    }
    Ok(observed)
}

type Waiter = alloy::rpc::client::Waiter<Bytes>;

async fn collect(
    deployed: &Deployed,
    fields: Vec<Waiter>,
    sets: Vec<Vec<(Address, Waiter)>>,
) -> Result<ObservedContract, ObserveError> {
    let kind = deployed.kind;
    let mut values = Vec::with_capacity(fields.len());
    for (field, waiter) in kind.fields.iter().zip(fields) {
        let data = waiter
            .await
            .map_err(rpc(format!("calling {}.{}", kind.key, field.getter)))?;
        let value = (field.decode)(&data).map_err(|source| ObserveError::Decode {
            contract: kind.key,
            field: field.key.to_string(),
            getter: field.getter,
            source,
        })?;
        values.push(value);
    }
    let mut role_sets = Vec::with_capacity(sets.len());
    for (set, members) in kind.role_sets.iter().zip(sets) {
        let mut holders = BTreeSet::new();
        for (account, waiter) in members {
            let data = waiter
                .await
                .map_err(rpc(format!("calling {}.{}", kind.key, set.getter)))?;
            let member = (set.decode)(&data).map_err(|source| ObserveError::Decode {
                contract: kind.key,
                field: format!("{}[{account}]", set.key),
                getter: set.getter,
                source,
            })?;
            if member {
                holders.insert(account);
            }
        }
        role_sets.push(holders);
    }
    Ok(ObservedContract {
        kind,
        address: deployed.address,
        fields: values,
        role_sets,
    })
}
