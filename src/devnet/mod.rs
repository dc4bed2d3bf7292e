//! A throwaway local chain with the three governed contracts deployed.
//!
//! Used by `govstate devnet`, `govstate demo` and the integration tests: each
//! [`Devnet`] is its own anvil on its own port, so tests run in parallel.

mod accounts;
mod anvil;

pub use accounts::{DEV_ACCOUNT_COUNT, dev_signer};
pub use anvil::{AnvilError, AnvilOptions, AnvilProcess};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;

use crate::contracts::{Deployed, Deployment, KINDS, Kind};

/// Why a devnet could not be brought up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevnetError {
    /// anvil did not start.
    #[error(transparent)]
    Anvil(#[from] AnvilError),
    /// anvil's endpoint is not a URL.
    #[error("anvil's endpoint {endpoint} is not a URL")]
    Endpoint {
        /// What anvil reported.
        endpoint: String,
    },
    /// A JSON-RPC request failed.
    #[error("devnet RPC request failed: {0}")]
    Rpc(#[from] alloy::transports::TransportError),
    /// Deploying one of the contracts failed.
    #[error("deploying {contract} failed: {reason}")]
    Deploy {
        /// The contract being deployed.
        contract: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// A running anvil with SelfPlayArena, StakeManager and SystemPause deployed
/// from anvil's first account, which owns the arena and governs the others.
/// Dropping it stops the chain.
#[derive(Debug)]
#[must_use = "dropping the devnet stops its chain"]
pub struct Devnet {
    anvil: AnvilProcess,
    url: Url,
    deployment: Deployment,
}

impl Devnet {
    /// Starts anvil and deploys the managed contracts.
    pub async fn start(options: &AnvilOptions) -> Result<Self, DevnetError> {
        let anvil = AnvilProcess::spawn(options)?;
        let url: Url =
            anvil.endpoint().parse().map_err(|_| DevnetError::Endpoint { endpoint: anvil.endpoint().to_string() })?;
        let deployment = deploy_all(&url, &owner_signer()).await?;
        Ok(Self { anvil, url, deployment })
    }

    /// The JSON-RPC endpoint.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The deployed contracts.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The account that owns the arena and governs the other contracts.
    pub fn owner(&self) -> Address {
        owner_signer().address()
    }

    /// Installs Multicall3's code at its canonical address, as on most
    /// public chains (a fresh anvil has none).
    pub async fn install_multicall3(&self) -> Result<(), DevnetError> {
        let provider = ProviderBuilder::new().connect_http(self.url.clone());
        let params = (crate::observe::MULTICALL3, crate::observe::multicall3_code());
        provider.raw_request::<_, ()>("anvil_setCode".into(), params).await?;
        Ok(())
    }

    /// The anvil process id, for checks that it stops.
    pub fn anvil_pid(&self) -> u32 {
        self.anvil.pid()
    }
}

/// The signer of the devnet's deployer, owner and governance account.
pub fn owner_signer() -> PrivateKeySigner {
    // Index 0 always exists; fall back to a random key rather than panic.
    dev_signer(0).unwrap_or_else(PrivateKeySigner::random)
}

async fn deploy_all(url: &Url, owner: &PrivateKeySigner) -> Result<Deployment, DevnetError> {
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(owner.clone())).connect_http(url.clone());
    let chain_id = provider.get_chain_id().await?;
    let mut contracts = Vec::with_capacity(KINDS.len());
    for kind in KINDS.iter().copied() {
        contracts.push(deploy(&provider, kind, owner.address()).await?);
    }
    Ok(Deployment { chain_id, contracts })
}

async fn deploy(provider: &impl Provider, kind: &'static Kind, owner: Address) -> Result<Deployed, DevnetError> {
    let failed = |reason: String| DevnetError::Deploy { contract: kind.name, reason };
    let tx = TransactionRequest::default().with_deploy_code((kind.creation_code)(owner));
    let receipt = provider.send_transaction(tx).await?.get_receipt().await.map_err(|e| failed(e.to_string()))?;
    let address = receipt
        .contract_address
        .filter(|_| receipt.status())
        .ok_or_else(|| failed(format!("transaction {} reverted", receipt.transaction_hash)))?;
    Ok(Deployed { kind, address, deployed_block: receipt.block_number })
}
