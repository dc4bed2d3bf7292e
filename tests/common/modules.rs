//! A modules-kind SystemPause wired as the production deployer wires it, on
//! its own anvil: seven `PausableModule` stand-ins and a `StakeManager`, all
//! owned by a `SystemPauseModules` that account 0 governs and that is the
//! pauser and pauser manager of every module. Bindings come straight from the
//! committed artifacts, so this harness depends on nothing in `src/` but the
//! anvil launcher and the development keys.
#![allow(dead_code)]

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, U256, address};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol;
use alloy::sol_types::{SolCall, SolConstructor};
use govstate::devnet::{AnvilOptions, AnvilProcess, dev_signer};

sol!(
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[sol(all_derives)]
    SystemPauseModules,
    "contracts/out/SystemPauseModules.json"
);

sol!(
    #[allow(missing_docs)]
    #[sol(all_derives)]
    PausableModule,
    "contracts/out/PausableModule.json"
);

sol!(
    #[allow(missing_docs)]
    #[sol(all_derives)]
    StakeManager,
    "contracts/out/StakeManager.json"
);

/// The artifacts whose ABI the conformance suite must cover entirely.
pub const SYSTEM_PAUSE_ARTIFACT: &str = include_str!("../../contracts/out/SystemPauseModules.json");
pub const MODULE_ARTIFACT: &str = include_str!("../../contracts/out/PausableModule.json");

/// The eight module positions, in the SystemPause's getter order.
pub const POSITIONS: [&str; 8] = [
    "jobRegistry",
    "stakeManager",
    "validationModule",
    "disputeModule",
    "platformRegistry",
    "feePool",
    "reputationEngine",
    "arbitratorCommittee",
];

/// The StakeManager's position among the eight.
pub const STAKE: usize = 1;

/// Where the hand-written helper contracts live (installed with `anvil_setCode`).
pub const REENTERER: Address = address!("0x00000000000000000000000000000000005e5e5e");
pub const REFUSING_MODULE: Address = address!("0x00000000000000000000000000000000000f00f1");
pub const REFUSING_MODULE_2: Address = address!("0x00000000000000000000000000000000000f00f2");

/// Every address of the wiring.
#[derive(Clone, Debug)]
pub struct Wiring {
    /// Account 0: deployer, and governance of the SystemPause.
    pub governance: Address,
    /// The modules-kind SystemPause.
    pub pause: Address,
    /// The eight modules in getter order; `modules[STAKE]` is the StakeManager.
    pub modules: [Address; 8],
    /// A stand-in owned by account 0 (not managed by the SystemPause).
    pub spare: Address,
    /// A stand-in owned by the SystemPause but not one of its modules.
    pub spare_owned: Address,
    /// A module that names the SystemPause its owner, answers `pauserManager()`
    /// with 0 and rejects every other call (`setPauserManager` included).
    pub refusing: Address,
    /// A second SystemPause, governed by account 0, whose eight modules are
    /// all [`REFUSING_MODULE_2`] (which names this SystemPause its owner).
    pub refused: Address,
    /// A SystemPause governed by [`REENTERER`] (a contract that forwards every
    /// call it gets to it), with [`REENTERER`] as its first module.
    pub reentered: Address,
}

/// An anvil with the wiring deployed. Dropped, its anvil stops.
pub struct ModulesChain {
    anvil: AnvilProcess,
    url: alloy::transports::http::reqwest::Url,
    pub wiring: Wiring,
}

impl ModulesChain {
    /// Starts anvil and deploys the production wiring (plus the helpers).
    pub async fn start() -> Self {
        let anvil = AnvilProcess::spawn(&AnvilOptions::default()).expect("anvil starts");
        let url = anvil.endpoint().parse().expect("an http endpoint");
        let placeholder = Address::ZERO;
        let mut chain = Self {
            anvil,
            url,
            wiring: Wiring {
                governance: dev_signer(0).expect("account 0").address(),
                pause: placeholder,
                modules: [placeholder; 8],
                spare: placeholder,
                spare_owned: placeholder,
                refusing: REFUSING_MODULE,
                refused: placeholder,
                reentered: placeholder,
            },
        };
        chain.wire().await;
        chain
    }

    async fn wire(&mut self) {
        let gov = self.wiring.governance;
        let mut modules = [Address::ZERO; 8];
        for (i, slot) in modules.iter_mut().enumerate() {
            *slot = if i == STAKE {
                self.deploy(StakeManager::BYTECODE.as_ref(), StakeManager::constructorCall { governance_: gov }).await
            } else {
                self.deploy_module(gov).await
            };
        }
        let pause = self.deploy_system_pause(modules, gov).await;
        for (i, module) in modules.iter().copied().enumerate() {
            let data = if i == STAKE {
                StakeManager::setGovernanceCall { newGovernance: pause }.abi_encode()
            } else {
                PausableModule::transferOwnershipCall { newOwner: pause }.abi_encode()
            };
            self.send(0, module, data).await;
        }
        self.send(0, pause, SystemPauseModules::refreshPausersCall {}.abi_encode()).await;

        let spare = self.deploy_module(gov).await;
        let spare_owned = self.deploy_module(gov).await;
        self.send(0, spare_owned, PausableModule::transferOwnershipCall { newOwner: pause }.abi_encode()).await;

        self.set_code(REFUSING_MODULE, refusing_module_code(pause)).await;
        // The second SystemPause needs code at its modules before it exists.
        self.set_code(REFUSING_MODULE_2, refusing_module_code(Address::ZERO)).await;
        let refused = self.deploy_system_pause([REFUSING_MODULE_2; 8], gov).await;
        self.set_code(REFUSING_MODULE_2, refusing_module_code(refused)).await;

        self.set_code(REENTERER, forwarder_code(Address::ZERO)).await;
        let mut reentered_modules = modules;
        reentered_modules[0] = REENTERER;
        let reentered = self.deploy_system_pause(reentered_modules, REENTERER).await;
        self.set_code(REENTERER, forwarder_code(reentered)).await;

        self.wiring = Wiring {
            governance: gov,
            pause,
            modules,
            spare,
            spare_owned,
            refusing: REFUSING_MODULE,
            refused,
            reentered,
        };
    }

    /// Deploys a `PausableModule` owned by `owner`.
    pub async fn deploy_module(&self, owner: Address) -> Address {
        self.deploy(PausableModule::BYTECODE.as_ref(), PausableModule::constructorCall { owner_: owner }).await
    }

    /// Deploys a `SystemPauseModules` over `modules` governed by `governance`.
    pub async fn deploy_system_pause(&self, modules: [Address; 8], governance: Address) -> Address {
        self.deploy(SystemPauseModules::BYTECODE.as_ref(), system_pause_constructor(modules, governance)).await
    }

    /// Deploys `code` with constructor arguments `args` from account 0.
    pub async fn deploy(&self, code: &[u8], args: impl SolConstructor) -> Address {
        let tx = TransactionRequest::default().with_deploy_code([code, &args.abi_encode()].concat());
        let receipt = self.account(0).send_transaction(tx).await.expect("sent").get_receipt().await.expect("receipt");
        assert!(receipt.status(), "deployment reverted");
        receipt.contract_address.expect("a created contract")
    }

    /// The JSON-RPC endpoint.
    pub fn url(&self) -> &alloy::transports::http::reqwest::Url {
        &self.url
    }

    /// A provider without a signer.
    pub fn reader(&self) -> DynProvider {
        ProviderBuilder::new().connect_http(self.url.clone()).erased()
    }

    /// A provider that signs as anvil's development account `index`.
    pub fn account(&self, index: usize) -> DynProvider {
        let signer = dev_signer(index).expect("a known development account");
        ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(self.url.clone()).erased()
    }

    /// The address of development account `index`.
    pub fn address_of(index: usize) -> Address {
        dev_signer(index).expect("a known development account").address()
    }

    /// Sends `data` to `to` from account `index`; panics when it reverts.
    pub async fn send(&self, index: usize, to: Address, data: Vec<u8>) -> TransactionReceipt {
        let tx = TransactionRequest::default().to(to).input(Bytes::from(data).into());
        let pending = self.account(index).send_transaction(tx).await;
        let receipt = pending.unwrap_or_else(|e| panic!("transaction to {to} failed: {e}")).get_receipt().await;
        let receipt = receipt.expect("receipt");
        assert!(receipt.status(), "transaction to {to} reverted");
        receipt
    }

    /// Sends `data` to `to` from account `index` with a fixed gas limit, so
    /// that a reverting transaction is mined; returns its receipt.
    pub async fn send_unchecked(&self, index: usize, to: Address, data: Vec<u8>) -> TransactionReceipt {
        let tx = TransactionRequest::default().to(to).input(Bytes::from(data).into()).gas_limit(3_000_000);
        self.account(index).send_transaction(tx).await.expect("sent").get_receipt().await.expect("receipt")
    }

    /// `eth_call`s `data` on `to` (a contract creation when `None`) as `from`:
    /// `Ok(return data)` or `Err(revert data)`.
    pub async fn try_call(&self, from: Address, to: Option<Address>, data: Vec<u8>) -> Result<Bytes, Bytes> {
        let tx = match to {
            Some(to) => TransactionRequest::default().from(from).to(to).input(Bytes::from(data).into()),
            None => TransactionRequest::default().from(from).with_deploy_code(Bytes::from(data)),
        };
        self.reader().call(tx).await.map_err(|error| {
            error
                .as_error_resp()
                .and_then(|payload| payload.as_revert_data())
                .unwrap_or_else(|| panic!("expected a revert, got {error}"))
        })
    }

    /// `eth_call`s a getter and returns its raw return data.
    pub async fn read(&self, to: Address, data: Vec<u8>) -> Bytes {
        let from = self.wiring.governance;
        self.try_call(from, Some(to), data).await.unwrap_or_else(|e| panic!("getter on {to} reverted: {e}"))
    }

    /// Takes an anvil snapshot.
    pub async fn snapshot(&self) -> U256 {
        self.reader().raw_request("evm_snapshot".into(), ()).await.expect("evm_snapshot")
    }

    /// Returns the chain to a snapshot (which anvil then forgets).
    pub async fn revert(&self, id: U256) {
        let ok: bool = self.reader().raw_request("evm_revert".into(), (id,)).await.expect("evm_revert");
        assert!(ok, "evm_revert({id}) failed");
    }

    /// Installs runtime `code` at `at`.
    pub async fn set_code(&self, at: Address, code: Vec<u8>) {
        let _: serde_json::Value =
            self.reader().raw_request("anvil_setCode".into(), (at, Bytes::from(code))).await.expect("anvil_setCode");
    }
}

/// The constructor arguments of `SystemPauseModules`.
pub fn system_pause_constructor(m: [Address; 8], governance: Address) -> SystemPauseModules::constructorCall {
    SystemPauseModules::constructorCall {
        jobRegistry_: m[0],
        stakeManager_: m[1],
        validationModule_: m[2],
        disputeModule_: m[3],
        platformRegistry_: m[4],
        feePool_: m[5],
        reputationEngine_: m[6],
        arbitratorCommittee_: m[7],
        governance_: governance,
    }
}

/// The creation code of a `SystemPauseModules` over `modules`.
pub fn system_pause_creation(modules: [Address; 8], governance: Address) -> Vec<u8> {
    [SystemPauseModules::BYTECODE.as_ref(), &system_pause_constructor(modules, governance).abi_encode()].concat()
}

/// `setModules` with the eight addresses.
pub fn set_modules(m: [Address; 8]) -> SystemPauseModules::setModulesCall {
    SystemPauseModules::setModulesCall {
        jobRegistry_: m[0],
        stakeManager_: m[1],
        validationModule_: m[2],
        disputeModule_: m[3],
        platformRegistry_: m[4],
        feePool_: m[5],
        reputationEngine_: m[6],
        arbitratorCommittee_: m[7],
    }
}

/// Runtime code of a contract that forwards every call (calldata, as
/// itself) to `target` and returns or reverts with exactly what it got back.
pub fn forwarder_code(target: Address) -> Vec<u8> {
    let mut code = vec![
        0x36, 0x5f, 0x5f, 0x37, // calldatacopy(0, 0, calldatasize)
        0x5f, 0x5f, 0x36, 0x5f, 0x5f, // retSize 0, retOffset 0, argsSize, argsOffset 0, value 0
        0x73, // push20 target
    ];
    code.extend_from_slice(target.as_slice());
    code.extend_from_slice(&[
        0x5a, 0xf1, // gas, call
        0x3d, 0x5f, 0x5f, 0x3e, // returndatacopy(0, 0, returndatasize)
        0x60, 0x2a, 0x57, // jumpi(42, success)
        0x3d, 0x5f, 0xfd, // revert(0, returndatasize)
        0x5b, 0x3d, 0x5f, 0xf3, // 42: return(0, returndatasize)
    ]);
    assert_eq!(code[42], 0x5b, "the jump target is a JUMPDEST");
    code
}

/// Runtime code of a module that answers `owner()` with `owner` and
/// `pauserManager()` with 0, and reverts (without data) on any other call.
pub fn refusing_module_code(owner: Address) -> Vec<u8> {
    let owner_selector = PausableModule::ownerCall::SELECTOR;
    let manager_selector = PausableModule::pauserManagerCall::SELECTOR;
    let mut code = vec![0x5f, 0x35, 0x60, 0xe0, 0x1c, 0x80, 0x63]; // selector; dup; push4
    code.extend_from_slice(&owner_selector);
    code.extend_from_slice(&[0x14, 0x60, 0x1b, 0x57, 0x63]); // eq; jumpi(27); push4
    code.extend_from_slice(&manager_selector);
    code.extend_from_slice(&[0x14, 0x60, 0x37, 0x57, 0x5f, 0x5f, 0xfd]); // eq; jumpi(55); revert(0, 0)
    code.extend_from_slice(&[0x5b, 0x73]); // 27: push20 owner
    code.extend_from_slice(owner.as_slice());
    code.extend_from_slice(&[0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3]); // mstore(0, owner); return(0, 32)
    code.extend_from_slice(&[0x5b, 0x60, 0x20, 0x5f, 0xf3]); // 55: return(0, 32) of zeroes
    assert_eq!((code[27], code[55]), (0x5b, 0x5b), "the jump targets are JUMPDESTs");
    code
}
