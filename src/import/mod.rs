//! Import: a desired-state file written from the chain as it is, for a team
//! adopting govstate on an existing deployment.
//!
//! Generic over the contract table: any subset of [`KINDS`] is read at one
//! pinned block (every managed field and the exact role sets), each
//! contract's deployment block is found by bisecting `eth_getCode`, and the
//! file is written by the same code as `govstate devnet`'s, so planning it
//! right away gives an empty plan.

use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::transports::TransportError;

use crate::contracts::{Deployed, Deployment, KINDS, Kind};
use crate::observe::{ObserveError, ObserveOptions, Observed, Scope, deployment_block, desired_state_yaml, observe};

/// Why a deployment could not be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// No contract was named.
    #[error("name at least one contract to import")]
    Nothing,
    /// A JSON-RPC request failed.
    #[error("RPC request failed while {doing}: {source}")]
    Rpc {
        /// What govstate was reading.
        doing: &'static str,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// A contract's deployment block could not be found (no code, node error).
    #[error("{contract} at {address}: {source}")]
    DeploymentBlock {
        /// Section key of the contract.
        contract: &'static str,
        /// Its address.
        address: Address,
        /// Why.
        #[source]
        source: ObserveError,
    },
    /// Reading the managed fields failed (e.g. the address holds another contract).
    #[error("could not read the contracts: {0}")]
    Observe(#[source] ObserveError),
}

/// A deployment read from the chain, and the file that describes it.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Where the contracts are, with their deployment blocks.
    pub deployment: Deployment,
    /// What was read, at one block.
    pub observed: Observed,
    /// The desired-state file: schema modeline, a comment naming the block,
    /// every managed field and role set.
    pub yaml: String,
}

/// Reads the contracts at `addresses` (kind and address, any subset of the
/// table, each kind at most once) and writes their desired-state file; the
/// modeline points at `schema`.
pub async fn import(
    provider: &impl Provider,
    addresses: &[(&'static Kind, Address)],
    options: &ObserveOptions,
    schema: &str,
) -> Result<Imported, ImportError> {
    if addresses.is_empty() {
        return Err(ImportError::Nothing);
    }
    let chain_id =
        provider.get_chain_id().await.map_err(|source| ImportError::Rpc { doing: "reading the chain id", source })?;
    let latest = provider
        .get_block_number()
        .await
        .map_err(|source| ImportError::Rpc { doing: "reading the latest block", source })?;
    let mut contracts = Vec::with_capacity(addresses.len());
    for kind in KINDS.iter().copied() {
        let Some((_, address)) = addresses.iter().find(|(k, _)| k.key == kind.key) else {
            continue;
        };
        let block = deployment_block(provider, *address, latest)
            .await
            .map_err(|source| ImportError::DeploymentBlock { contract: kind.key, address: *address, source })?;
        contracts.push(Deployed { kind, address: *address, deployed_block: Some(block) });
    }
    let deployment = Deployment { chain_id, contracts };
    let observed = observe(provider, &Scope::everything(&deployment), options).await.map_err(ImportError::Observe)?;
    let yaml = desired_state_yaml(&observed, &deployment, &header(&observed, schema));
    Ok(Imported { deployment, observed, yaml })
}

fn header(observed: &Observed, schema: &str) -> String {
    format!(
        "# yaml-language-server: $schema={schema}\n\
         # Imported by `govstate import` from chain {} at block {} ({}):\n\
         # every managed field and the exact role sets as they were at that block.\n",
        observed.chain_id, observed.block.number, observed.block.hash
    )
}
