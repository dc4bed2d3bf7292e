//! How the devnet's contracts are wired: as the project's reference setup
//! (one account owns and governs everything), or as production is (the
//! modules-kind SystemPause owns StakeManager and seven other modules, and a
//! TimelockController governs it).

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolConstructor};

use super::DevnetError;
use crate::contracts::system_pause::{PausableModule, SystemPauseModules};
use crate::contracts::timelock::TimelockController;
use crate::contracts::{Deployed, Deployment, Kind, arena, stake_manager, system_pause};

/// The wiring of a devnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Topology {
    /// The switch-kind SystemPause, arena and StakeManager, all owned or
    /// governed by anvil account 0 (the default).
    #[default]
    Direct,
    /// The production wiring without the timelock: the modules-kind
    /// SystemPause, governed by account 0, owns StakeManager and seven module
    /// stand-ins and is their pauser; account 0 owns the arena.
    Modules,
    /// The production wiring: as [`Topology::Modules`], with the SystemPause
    /// governed by a TimelockController whose proposer and executor is
    /// account 0.
    Production {
        /// The timelock's minimum delay, in seconds.
        timelock_delay: u64,
    },
}

/// What a topology deployed besides the managed contracts.
#[derive(Debug, Clone, Default)]
pub struct Wiring {
    /// The eight modules of a modules-kind SystemPause, in its getter order
    /// (StakeManager second).
    pub modules: Vec<Address>,
    /// The TimelockController governing the SystemPause, in production.
    pub timelock: Option<Address>,
    /// The Safe that owns the arena (and proposes to the timelock), when
    /// the devnet has one.
    pub safe: Option<Address>,
}

/// Deploys `topology` from `owner` through `provider`, which signs as it;
/// with `safe`, a Safe then owns the arena and is the timelock's proposer.
pub async fn deploy(
    provider: &impl Provider,
    evm: super::Evm,
    topology: Topology,
    owner: Address,
    safe: Option<super::SafeSetup>,
) -> Result<(Deployment, Wiring), DevnetError> {
    let safe = match safe {
        Some(setup) => Some(super::safe::deploy(provider, evm, setup).await?),
        None => None,
    };
    let (deployment, mut wiring) = deploy_topology(provider, evm, topology, owner, safe).await?;
    if let Some(safe) = safe {
        let arena = deployment.contracts.iter().find(|c| c.kind.key == arena::KIND.key).map(|c| c.address);
        let handover = arena::SelfPlayArena::transferOwnershipCall { newOwner: safe }.abi_encode();
        call(provider, arena.unwrap_or_default(), handover, "handing the arena to the Safe").await?;
        wiring.safe = Some(safe);
    }
    Ok((deployment, wiring))
}

async fn deploy_topology(
    provider: &impl Provider,
    evm: super::Evm,
    topology: Topology,
    owner: Address,
    safe: Option<Address>,
) -> Result<(Deployment, Wiring), DevnetError> {
    let chain_id = provider.get_chain_id().await?;
    if topology == Topology::Direct {
        let mut contracts = Vec::new();
        for kind in [&system_pause::KIND, &arena::KIND, &stake_manager::KIND] {
            contracts.push(deploy_kind(provider, evm, kind, owner).await?);
        }
        return Ok((Deployment { chain_id, contracts }, Wiring::default()));
    }
    let arena = deploy_kind(provider, evm, &arena::KIND, owner).await?;
    let stake = deploy_kind(provider, evm, &stake_manager::KIND, owner).await?;
    let mut modules = Vec::with_capacity(8);
    for index in 0..8 {
        if index == 1 {
            modules.push(stake.address);
            continue;
        }
        let code = [PausableModule::BYTECODE.as_ref(), &PausableModule::constructorCall { owner_: owner }.abi_encode()];
        modules.push(create(provider, evm, "PausableModule", code.concat()).await?.0);
    }
    let (pause, pause_block) = create(provider, evm, "SystemPause", system_pause_code(&modules, owner)).await?;
    for module in &modules {
        let handover = if *module == stake.address {
            stake_manager::StakeManager::setGovernanceCall { newGovernance: pause }.abi_encode()
        } else {
            PausableModule::transferOwnershipCall { newOwner: pause }.abi_encode()
        };
        call(provider, *module, handover, "handing a module to the SystemPause").await?;
    }
    call(provider, pause, SystemPauseModules::refreshPausersCall {}.abi_encode(), "refreshPausers").await?;
    let mut wiring = Wiring { modules, timelock: None, safe: None };
    if let Topology::Production { timelock_delay } = topology {
        let timelock = deploy_timelock(provider, evm, timelock_delay, safe.unwrap_or(owner), owner).await?;
        let handover = SystemPauseModules::setGovernanceCall { newGovernance: timelock }.abi_encode();
        call(provider, pause, handover, "handing the SystemPause to the timelock").await?;
        wiring.timelock = Some(timelock);
    }
    let pause = Deployed { kind: &system_pause::MODULES_KIND, address: pause, deployed_block: pause_block };
    Ok((Deployment { chain_id, contracts: vec![pause, arena, stake] }, wiring))
}

fn system_pause_code(modules: &[Address], governance: Address) -> Vec<u8> {
    let m = |i: usize| modules.get(i).copied().unwrap_or_default();
    let args = SystemPauseModules::constructorCall {
        jobRegistry_: m(0),
        stakeManager_: m(1),
        validationModule_: m(2),
        disputeModule_: m(3),
        platformRegistry_: m(4),
        feePool_: m(5),
        reputationEngine_: m(6),
        arbitratorCommittee_: m(7),
        governance_: governance,
    };
    [SystemPauseModules::BYTECODE.as_ref(), &args.abi_encode()].concat()
}

async fn deploy_timelock(
    provider: &impl Provider,
    evm: super::Evm,
    delay: u64,
    proposer: Address,
    executor: Address,
) -> Result<Address, DevnetError> {
    let args = TimelockController::constructorCall {
        minDelay: U256::from(delay),
        proposers: vec![proposer],
        executors: vec![executor],
        admin: Address::ZERO,
    };
    let code = [TimelockController::BYTECODE.as_ref(), &args.abi_encode()].concat();
    Ok(create(provider, evm, "TimelockController", code).await?.0)
}

async fn deploy_kind(
    provider: &impl Provider,
    evm: super::Evm,
    kind: &'static Kind,
    owner: Address,
) -> Result<Deployed, DevnetError> {
    let failed =
        || DevnetError::Deploy { contract: kind.name, reason: "the devnet has no creation code for it".into() };
    let code = kind.creation_code.ok_or_else(failed)?;
    let (address, deployed_block) = create(provider, evm, kind.name, code(owner)).await?;
    Ok(Deployed { kind, address, deployed_block })
}

/// Deploys `code` (the newest build, with its constructor arguments) as
/// `evm` builds it; returns the new address and its block.
pub(super) async fn create(
    provider: &impl Provider,
    evm: super::Evm,
    contract: &'static str,
    code: Vec<u8>,
) -> Result<(Address, Option<u64>), DevnetError> {
    let failed = |reason: String| DevnetError::Deploy { contract, reason };
    let tx = TransactionRequest::default().with_deploy_code(evm.creation_code(code));
    let receipt = provider.send_transaction(tx).await?.get_receipt().await.map_err(|e| failed(e.to_string()))?;
    let address = receipt
        .contract_address
        .filter(|_| receipt.status())
        .ok_or_else(|| failed(format!("transaction {} reverted", receipt.transaction_hash)))?;
    Ok((address, receipt.block_number))
}

/// Sends one wiring call and waits for it to succeed.
pub(super) async fn call(
    provider: &impl Provider,
    to: Address,
    data: Vec<u8>,
    doing: &'static str,
) -> Result<(), DevnetError> {
    let failed = |reason: String| DevnetError::Deploy { contract: "the devnet's set-up", reason };
    let tx = TransactionRequest::default().to(to).input(data.into());
    let receipt = provider.send_transaction(tx).await?.get_receipt().await.map_err(|e| failed(e.to_string()))?;
    if receipt.status() { Ok(()) } else { Err(failed(format!("{doing} reverted ({})", receipt.transaction_hash))) }
}
