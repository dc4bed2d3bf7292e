//! Test harness: every test gets its own anvil on a free port with its own
//! deployment, so tests run in parallel without sharing state.
#![allow(dead_code)]

pub mod fixtures;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::transports::{RpcError, TransportErrorKind};
use govstate::devnet::{AnvilOptions, Devnet, dev_signer};

/// A fresh devnet for one test; dropped, its anvil stops.
pub struct TestChain {
    pub devnet: Devnet,
}

impl TestChain {
    /// Starts anvil on a free port and deploys the three contracts.
    pub async fn start() -> Self {
        Self::start_with(&AnvilOptions::default()).await
    }

    /// Like [`TestChain::start`], with anvil options (e.g. a block time).
    pub async fn start_with(options: &AnvilOptions) -> Self {
        let devnet = Devnet::start(options).await.expect("devnet starts");
        Self { devnet }
    }

    /// Starts anvil on a free port with the contracts wired as `topology`.
    pub async fn start_wired(topology: govstate::devnet::Topology) -> Self {
        let devnet = Devnet::start_wired(&AnvilOptions::default(), topology).await.expect("devnet starts");
        Self { devnet }
    }

    /// The address of the managed contract with section key `key`.
    pub fn address(&self, key: &str) -> Address {
        self.devnet.deployment().address_of(key).expect("contract is deployed")
    }

    /// A provider without a signer.
    pub fn reader(&self) -> DynProvider {
        ProviderBuilder::new().connect_http(self.devnet.url().clone()).erased()
    }

    /// A provider that signs as anvil's development account `index`.
    pub fn account(&self, index: usize) -> (Address, DynProvider) {
        let signer = dev_signer(index).expect("a known development account");
        let address = signer.address();
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(self.devnet.url().clone())
            .erased();
        (address, provider)
    }

    /// Takes an anvil snapshot to return to with [`TestChain::revert`].
    pub async fn snapshot(&self) -> U256 {
        self.reader().raw_request("evm_snapshot".into(), ()).await.expect("evm_snapshot")
    }

    /// Returns the chain to a snapshot (which anvil then forgets).
    pub async fn revert(&self, id: U256) {
        let ok: bool = self.reader().raw_request("evm_revert".into(), (id,)).await.expect("evm_revert");
        assert!(ok, "evm_revert({id}) failed");
    }

    /// Sends `data` to `to` from account `index` and waits for the receipt;
    /// panics when it reverts.
    pub async fn send(&self, index: usize, to: Address, data: Vec<u8>) -> alloy::rpc::types::TransactionReceipt {
        let (_, provider) = self.account(index);
        let tx = TransactionRequest::default().to(to).input(Bytes::from(data).into());
        let receipt = provider.send_transaction(tx).await.expect("sent").get_receipt().await.expect("receipt");
        assert!(receipt.status(), "transaction to {to} reverted");
        receipt
    }

    /// `eth_call`s `data` on `to` as `from` and returns the revert data, or
    /// `None` when the call succeeds.
    pub async fn revert_data(&self, from: Address, to: Address, data: Vec<u8>) -> Option<Bytes> {
        let tx = TransactionRequest::default().from(from).to(to).input(Bytes::from(data).into());
        match self.reader().call(tx).await {
            Ok(_) => None,
            Err(error) => Some(revert_bytes(&error)),
        }
    }

    /// `eth_call`s a getter and returns its raw return data.
    pub async fn read(&self, to: Address, data: Vec<u8>) -> Bytes {
        let tx = TransactionRequest::default().to(to).input(Bytes::from(data).into());
        self.reader().call(tx).await.expect("getter call succeeds")
    }
}

/// The revert data carried by an RPC error; panics on any other error.
pub fn revert_bytes(error: &RpcError<TransportErrorKind>) -> Bytes {
    error
        .as_error_resp()
        .and_then(|payload| payload.as_revert_data())
        .unwrap_or_else(|| panic!("expected a revert, got {error}"))
}

impl TestChain {
    /// Writes the desired-state file matching the fresh deployment (what
    /// `govstate devnet` writes) into `dir` and returns its path.
    pub async fn write_state_file(&self, dir: &std::path::Path) -> std::path::PathBuf {
        use govstate::observe::{ObserveOptions, Scope, desired_state_yaml, observe};
        let options = ObserveOptions::without_cache();
        let deployment = self.devnet.deployment();
        let observed = observe(&self.reader(), &Scope::everything(deployment), &options).await.expect("observe");
        let path = dir.join("devnet.yaml");
        std::fs::write(&path, desired_state_yaml(&observed, deployment, "")).expect("state file written");
        path
    }

    /// Loads `file` with overrides, observes and plans, with a role-holder
    /// cache in `cache`.
    pub async fn plan(
        &self,
        file: &std::path::Path,
        overrides: &[&str],
        cache: &std::path::Path,
    ) -> Result<govstate::plan::Plan, govstate::plan::PlanError> {
        use govstate::observe::{ObserveOptions, Scope, observe};
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let spec = govstate::spec::load_file_with_overrides(file, &overrides).expect("a valid file");
        let desired = spec.desired();
        let options = ObserveOptions { cache_dir: Some(cache.to_path_buf()), ..ObserveOptions::default() };
        let observed = observe(&self.reader(), &Scope::of(&desired), &options).await.expect("observe");
        govstate::plan::plan(&desired, &observed, &govstate::plan::PlanOptions { allow_ownership_transfer: true })
    }

    /// Runs the govstate binary against this chain; returns (exit code, stdout, stderr).
    pub fn govstate(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
            .args(args)
            .env("ETH_RPC_URL", self.devnet.url().as_str())
            .env_remove("GOVSTATE_PRIVATE_KEY")
            .env("NO_COLOR", "1")
            .output()
            .expect("govstate runs");
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        (output.status.code(), text(output.stdout), text(output.stderr))
    }

    /// Grants `count` orchestrators directly on-chain, back to back, and
    /// returns them.
    pub async fn grant_orchestrators(&self, count: usize) -> Vec<Address> {
        use alloy::sol_types::SolCall;
        use govstate::contracts::arena::SelfPlayArena;
        let (owner, provider) = self.account(0);
        let arena = self.address("arena");
        let mut nonce = provider.get_transaction_count(owner).await.expect("nonce");
        let mut accounts = Vec::with_capacity(count);
        // Many transactions a block: anvil keeps every block's state, and
        // thousands of one-transaction blocks cost it gigabytes.
        self.automine(false).await;
        let mut last = None;
        for i in 0..count {
            let account = Address::left_padding_from(&(i as u64 + 0x1000).to_be_bytes());
            let data = SelfPlayArena::setOrchestratorCall { orchestrator: account, allowed: true }.abi_encode();
            let tx =
                TransactionRequest::default().to(arena).input(Bytes::from(data).into()).nonce(nonce).gas_limit(100_000);
            last = Some(*provider.send_transaction(tx).await.expect("sent").tx_hash());
            nonce += 1;
            accounts.push(account);
            // A bounded pool: mine every few hundred transactions.
            if accounts.len() % 500 == 0 || accounts.len() == count {
                while self.pending_count().await > 0 {
                    self.mine().await;
                }
            }
        }
        self.automine(true).await;
        if let Some(hash) = last {
            let receipt = provider.get_transaction_receipt(hash).await.expect("receipt").expect("mined");
            assert!(receipt.status());
        }
        accounts
    }
}

/// A `govstate` child process, for tests that stop it midway.
pub fn spawn_govstate(chain: &TestChain, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(args)
        .env("ETH_RPC_URL", chain.devnet.url().as_str())
        .env_remove("GOVSTATE_PRIVATE_KEY")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("govstate starts")
}

impl TestChain {
    /// The number of transactions `account` has had mined.
    pub async fn nonce(&self, account: Address) -> u64 {
        self.reader().get_transaction_count(account).await.expect("nonce")
    }

    /// Turns anvil's mining on every transaction on or off.
    pub async fn automine(&self, on: bool) {
        let _: serde_json::Value =
            self.reader().raw_request("evm_setAutomine".into(), (on,)).await.expect("evm_setAutomine");
    }

    /// Mines one block with whatever is pending.
    pub async fn mine(&self) {
        let _: serde_json::Value = self.reader().raw_request("evm_mine".into(), ()).await.expect("evm_mine");
    }

    /// The transactions waiting in anvil's pool.
    pub async fn pending_count(&self) -> usize {
        let status: serde_json::Value =
            self.reader().raw_request("txpool_status".into(), ()).await.expect("txpool_status");
        let pending = status["pending"].as_str().and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok());
        pending.or_else(|| status["pending"].as_u64()).unwrap_or(0) as usize
    }
}

/// Polls `condition` until it holds or `seconds` pass; true when it held.
pub async fn eventually<F, Fut>(seconds: u64, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if condition().await {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

/// The receipts written in `dir`, parsed.
pub fn receipts(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect()
}

impl TestChain {
    /// Schedules `data` to `target`, forwarded by the SystemPause, on the
    /// production timelock with `salt` and `delay`, as account 0 (a
    /// proposer), and leaves it waiting; returns the scheduling receipt.
    pub async fn schedule_through_timelock(
        &self,
        target: Address,
        data: Vec<u8>,
        salt: alloy::primitives::B256,
        delay: u64,
    ) -> alloy::rpc::types::TransactionReceipt {
        use alloy::sol_types::SolCall;
        use govstate::contracts::system_pause::SystemPauseModules;
        use govstate::contracts::timelock::TimelockController;
        let forwarded = SystemPauseModules::executeGovernanceCallCall { target, data: data.into() };
        let schedule = TimelockController::scheduleCall {
            target: self.address("system_pause"),
            value: U256::ZERO,
            data: forwarded.abi_encode().into(),
            predecessor: alloy::primitives::B256::ZERO,
            salt,
            delay: U256::from(delay),
        };
        self.send(0, self.devnet.wiring().timelock.expect("a timelock"), schedule.abi_encode()).await
    }

    /// Runs `data` on `target` through the SystemPause, as its governance
    /// must on the production wiring: scheduled on the timelock, the delay
    /// passed, executed.
    pub async fn through_timelock(&self, target: Address, data: Vec<u8>, delay: u64) {
        use alloy::primitives::B256;
        use alloy::sol_types::SolCall;
        use govstate::contracts::system_pause::SystemPauseModules;
        use govstate::contracts::timelock::TimelockController;
        let timelock = self.devnet.wiring().timelock.expect("a timelock");
        let pause = self.address("system_pause");
        let forwarded =
            SystemPauseModules::executeGovernanceCallCall { target, data: data.clone().into() }.abi_encode();
        // A fresh salt each time: the same call may be made twice.
        let salt = B256::from(U256::from(self.nonce(self.devnet.owner()).await));
        self.schedule_through_timelock(target, data, salt, delay).await;
        let _: serde_json::Value =
            self.reader().raw_request("evm_increaseTime".into(), (delay + 1,)).await.expect("warp");
        self.mine().await;
        let execute = TimelockController::executeCall {
            target: pause,
            value: U256::ZERO,
            payload: forwarded.into(),
            predecessor: B256::ZERO,
            salt,
        };
        self.send(0, timelock, execute.abi_encode()).await;
    }
}
