//! A throwaway local chain with the three governed contracts deployed.
//!
//! Used by `govstate devnet`, `govstate demo` and the integration tests: each
//! [`Devnet`] is its own anvil on its own port, so tests run in parallel.

mod accounts;
mod anvil;
mod evm;
mod safe;
mod topology;

pub use accounts::{DEV_ACCOUNT_COUNT, dev_signer};
pub use anvil::{AnvilError, AnvilOptions, AnvilProcess};
pub use evm::{Evm, HardforkError};
pub use safe::SafeSetup;
pub use topology::{Topology, Wiring};

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;

use crate::contracts::Deployment;

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
    /// No build of the contracts runs on the hardfork asked for.
    #[error(transparent)]
    Hardfork(#[from] HardforkError),
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
/// from anvil's first account, wired as a [`Topology`] says. Dropping it
/// stops the chain.
#[derive(Debug)]
#[must_use = "dropping the devnet stops its chain"]
pub struct Devnet {
    anvil: AnvilProcess,
    url: Url,
    deployment: Deployment,
    wiring: Wiring,
    evm: Evm,
}

impl Devnet {
    /// Starts anvil and deploys the managed contracts, all owned or
    /// governed by anvil's first account ([`Topology::Direct`]).
    pub async fn start(options: &AnvilOptions) -> Result<Self, DevnetError> {
        Self::start_wired(options, Topology::Direct).await
    }

    /// Starts anvil and deploys the managed contracts wired as `topology`.
    pub async fn start_wired(options: &AnvilOptions, topology: Topology) -> Result<Self, DevnetError> {
        Self::start_with_safe(options, topology, None).await
    }

    /// Starts anvil and deploys the managed contracts wired as `topology`;
    /// with `safe`, a real Safe v1.4.1 owned by the first development
    /// accounts then owns the arena and is the timelock's proposer.
    pub async fn start_with_safe(
        options: &AnvilOptions,
        topology: Topology,
        safe: Option<SafeSetup>,
    ) -> Result<Self, DevnetError> {
        let evm = options.hardfork.as_deref().map(Evm::for_hardfork).transpose()?.unwrap_or_default();
        let anvil = AnvilProcess::spawn(options)?;
        let url: Url =
            anvil.endpoint().parse().map_err(|_| DevnetError::Endpoint { endpoint: anvil.endpoint().to_string() })?;
        let owner = owner_signer();
        let provider = ProviderBuilder::new().wallet(EthereumWallet::from(owner.clone())).connect_http(url.clone());
        let (deployment, wiring) = topology::deploy(&provider, evm, topology, owner.address(), safe).await?;
        Ok(Self { anvil, url, deployment, wiring, evm })
    }

    /// What the topology deployed besides the managed contracts: the
    /// SystemPause's modules and the timelock, when there are.
    pub fn wiring(&self) -> &Wiring {
        &self.wiring
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
        let params = (crate::observe::MULTICALL3, self.evm.multicall3_code());
        provider.raw_request::<_, ()>("anvil_setCode".into(), params).await?;
        Ok(())
    }

    /// Sets the arena's reward splits to [`EXAMPLE_SPLITS_BPS`] as its owner
    /// (account 0: not on a devnet whose arena a Safe owns).
    pub async fn set_example_splits(&self) -> Result<(), DevnetError> {
        use alloy::sol_types::SolCall;
        let provider =
            ProviderBuilder::new().wallet(EthereumWallet::from(owner_signer())).connect_http(self.url.clone());
        let arena = self.deployment.address_of("arena").unwrap_or_default();
        let (teacher, student, validator) = EXAMPLE_SPLITS_BPS;
        let data = crate::contracts::arena::SelfPlayArena::setRewardSplitsCall {
            teacherSplitBps: teacher,
            studentSplitBps: student,
            validatorSplitBps: validator,
        }
        .abi_encode();
        topology::call(&provider, arena, data, "setRewardSplits").await
    }

    /// The build of the contracts its hardfork runs.
    pub fn evm(&self) -> Evm {
        self.evm
    }

    /// The anvil process id, for checks that it stops.
    pub fn anvil_pid(&self) -> u32 {
        self.anvil.pid()
    }
}

/// The reward splits `govstate devnet` starts with: the arena deploys with
/// 10000/10000/10000, which no desired-state file may ask for (their sum must
/// be 1..=10000), so the written file would have to leave them out. The
/// devnet sets the split the design's example uses, so that the file it
/// writes manages every key and is valid as written.
pub const EXAMPLE_SPLITS_BPS: (u16, u16, u16) = (6000, 2000, 2000);

/// The signer of the devnet's deployer, owner and governance account.
pub fn owner_signer() -> PrivateKeySigner {
    // Index 0 always exists; fall back to a random key rather than panic.
    dev_signer(0).unwrap_or_else(PrivateKeySigner::random)
}
