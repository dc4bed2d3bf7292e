//! The production wiring end to end: the modules-kind SystemPause owning
//! StakeManager and seven modules, governed by a TimelockController
//! (`Topology::Production`) or by account 0 (`Topology::Modules`).

mod common;

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use common::TestChain;
use govstate::contracts::stake_manager::StakeManager;
use govstate::contracts::system_pause::{PausableModule, SystemPauseModules};
use govstate::devnet::Topology;
use serde_json::Value as Json;

const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const STRANGER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const DELAY: u64 = 60;

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    file: String,
}

async fn setup(topology: Topology) -> Setup {
    let chain = TestChain::start_wired(topology).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = chain.write_state_file(dir.path()).await.display().to_string();
    Setup { chain, dir, file }
}

impl Setup {
    fn pause(&self) -> Address {
        self.chain.address("system_pause")
    }

    fn modules(&self) -> Vec<Address> {
        self.chain.devnet.wiring().modules.clone()
    }

    /// `govstate plan FILE --no-cache ARGS…`.
    fn plan(&self, args: &[&str]) -> (Option<i32>, String, String) {
        self.chain.govstate(&[&["plan", &self.file, "--no-cache"], args].concat())
    }

    /// The plan as JSON, with overrides.
    fn plan_json(&self, overrides: &[&str]) -> Json {
        let mut args = vec!["--format", "json"];
        for set in overrides {
            args.extend(["--set", set]);
        }
        let (code, stdout, stderr) = self.plan(&args);
        assert!(matches!(code, Some(0)), "{stdout}{stderr}");
        serde_json::from_str(&stdout).expect("the plan is JSON")
    }

    /// `govstate apply FILE --yes` as account 0, with overrides.
    fn apply(&self, overrides: &[&str]) -> (Option<i32>, String, String) {
        let receipts = self.dir.path().join("receipts").display().to_string();
        let mut args = vec!["apply", &self.file, "--yes", "--no-cache", "--private-key", OWNER_KEY];
        args.extend(["--receipts-dir", &receipts]);
        for set in overrides {
            args.extend(["--set", set]);
        }
        self.chain.govstate(&args)
    }

    async fn paused(&self, module: Address) -> bool {
        let data = self.chain.read(module, PausableModule::pausedCall {}.abi_encode()).await;
        PausableModule::pausedCall::abi_decode_returns(&data).expect("a bool")
    }
}

fn functions(plan: &Json) -> Vec<String> {
    let calls = plan["calls"].as_array().cloned().unwrap_or_default();
    calls.iter().map(|c| c["function"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn the_production_state_file_plans_empty_and_the_plan_names_the_systempause_kind() {
    let s = setup(Topology::Production { timelock_delay: DELAY }).await;
    let (code, stdout, stderr) = s.plan(&["--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("system_pause is a SystemPause, modules kind at {}", s.pause())), "{stdout}");
    assert!(stdout.contains("No changes."), "{stdout}");
    // One key per on-chain value: StakeManager's pause is the SystemPause's.
    let written: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&s.file).expect("file")).expect("yaml");
    assert_eq!(written["system_pause"]["paused"], serde_yaml::Value::Bool(false));
    assert!(written["stake_manager"].get("paused").is_none(), "{written:?}");
    assert!(written["stake_manager"].get("fees_pct").is_some(), "{written:?}");
}

#[tokio::test]
async fn pausing_the_whole_production_system_plans_one_pause_all() {
    let s = setup(Topology::Production { timelock_delay: DELAY }).await;
    let (code, stdout, stderr) = s.plan(&["--detailed-exitcode", "--set", "system_pause.paused=true"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    let plan = s.plan_json(&["system_pause.paused=true"]);
    assert_eq!(functions(&plan), ["pauseAll()"]);
    assert_eq!(plan["calls"][0]["target"].as_str().map(str::to_lowercase), Some(s.pause().to_string().to_lowercase()));
    // The change is shown under StakeManager's own key too: it is one of the modules.
    let changes = plan["changes"].as_array().cloned().unwrap_or_default();
    assert!(changes.iter().any(|c| c["contract"] == "stake_manager" && c["field"] == "paused"), "{changes:?}");
    assert_eq!(changes.len(), 9, "eight modules and StakeManager's own key: {changes:?}");
}

#[tokio::test]
async fn a_module_paused_through_the_timelock_is_shown_partly_paused_and_only_the_other_seven_are_planned() {
    let s = setup(Topology::Production { timelock_delay: DELAY }).await;
    let fee_pool = s.modules()[5];
    s.chain.through_timelock(fee_pool, PausableModule::pauseCall {}.abi_encode(), DELAY).await;
    assert!(s.paused(fee_pool).await);

    let (code, stdout, stderr) = s.plan(&["--detailed-exitcode", "--set", "system_pause.paused=true"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("paused: partly, 1 of 8 true (paused.fee_pool)"), "{stdout}");
    let plan = s.plan_json(&["system_pause.paused=true"]);
    let calls = plan["calls"].as_array().cloned().unwrap_or_default();
    assert_eq!(calls.len(), 7, "{calls:?}");
    let mut targeted: Vec<Address> = Vec::new();
    for call in &calls {
        assert_eq!(call["function"], "executeGovernanceCall(address,bytes)");
        let data: Bytes = serde_json::from_value(call["calldata"].clone()).expect("calldata");
        let decoded = SystemPauseModules::executeGovernanceCallCall::abi_decode(&data).expect("forwarding call");
        assert_eq!(decoded.data.as_ref(), PausableModule::pauseCall {}.abi_encode().as_slice());
        targeted.push(decoded.target);
    }
    let others: Vec<Address> = s.modules().into_iter().filter(|m| *m != fee_pool).collect();
    assert_eq!(targeted, others, "the seven others, in the SystemPause's order");

    // The file says running: a partly paused system is drift that way too.
    let (code, stdout, _) = s.plan(&["--detailed-exitcode"]);
    assert_eq!(code, Some(2), "{stdout}");
    let plan = s.plan_json(&[]);
    assert_eq!(functions(&plan), ["executeGovernanceCall(address,bytes)"]);
}

#[tokio::test]
async fn a_stake_manager_fee_change_in_production_is_forwarded_and_refused_with_the_chain_of_authority() {
    let s = setup(Topology::Production { timelock_delay: DELAY }).await;
    let stake = s.chain.address("stake_manager");
    let plan = s.plan_json(&["stake_manager.fees_pct.fee=4"]);
    assert_eq!(functions(&plan), ["setFeePct(uint256)"]);
    let via = &plan["calls"][0]["via"];
    assert_eq!(via["function"], "executeGovernanceCall(address,bytes)");
    let outer: Bytes = serde_json::from_value(via["calldata"].clone()).expect("calldata");
    let outer = SystemPauseModules::executeGovernanceCallCall::abi_decode(&outer).expect("forwarding call");
    assert_eq!(outer.target, stake);
    assert_eq!(outer.data.as_ref(), StakeManager::setFeePctCall { pct: U256::from(4) }.abi_encode().as_slice());

    // A signer that is not a proposer of the timelock is refused, shown
    // the whole chain of authority (the timelock route schedules otherwise).
    let (stranger, _) = s.chain.account(1);
    let (code, stdout, stderr) = s.chain.govstate(&[
        "apply",
        &s.file,
        "--yes",
        "--no-cache",
        "--private-key",
        STRANGER_KEY,
        "--set",
        "stake_manager.fees_pct.fee=4",
    ]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let timelock = s.chain.devnet.wiring().timelock.expect("a timelock");
    let chain = format!(
        "StakeManager {stake} ← SystemPause {} ← TimelockController {timelock} (min delay {DELAY} s)",
        s.pause()
    );
    assert!(stderr.contains(&chain), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert_eq!(s.chain.nonce(stranger).await, 0, "nothing was sent");
}

#[tokio::test]
async fn a_file_whose_stake_manager_pause_contradicts_the_system_pause_is_refused_naming_both_keys() {
    let s = setup(Topology::Production { timelock_delay: DELAY }).await;
    let (code, stdout, stderr) = s.plan(&["--set", "system_pause.paused=true", "--set", "stake_manager.paused=false"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("system_pause.paused and stake_manager.paused"), "{stderr}");
    // Agreeing keys are one call, not two.
    let plan = s.plan_json(&["system_pause.paused=true", "stake_manager.paused=true"]);
    assert_eq!(functions(&plan), ["pauseAll()"]);
}

#[tokio::test]
async fn with_account_zero_governing_the_systempause_pause_all_converges_and_replans_empty() {
    let s = setup(Topology::Modules).await;
    let (code, stdout, stderr) = s.apply(&["system_pause.paused=true"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Applied 1 call;"), "{stdout}");
    for module in s.modules() {
        assert!(s.paused(module).await, "{module} paused");
    }
    let (code, stdout, _) = s.plan(&["--detailed-exitcode", "--set", "system_pause.paused=true"]);
    assert_eq!(code, Some(0), "{stdout}");
    // And back: one unpauseAll.
    let (code, stdout, stderr) = s.apply(&[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("unpauseAll()"), "{stdout}");
    let (code, stdout, _) = s.plan(&["--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[tokio::test]
async fn with_account_zero_governing_the_systempause_a_partial_pause_converges_and_replans_empty() {
    let s = setup(Topology::Modules).await;
    let stake = s.chain.address("stake_manager");
    let forwarded = SystemPauseModules::executeGovernanceCallCall {
        target: stake,
        data: StakeManager::pauseCall {}.abi_encode().into(),
    };
    s.chain.send(0, s.pause(), forwarded.abi_encode()).await;
    let (code, stdout, stderr) = s.apply(&["system_pause.paused=true"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Applied 7 calls;"), "{stdout}");
    for module in s.modules() {
        assert!(s.paused(module).await, "{module} paused");
    }
    let (code, stdout, _) = s.plan(&["--detailed-exitcode", "--set", "system_pause.paused=true"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[tokio::test]
async fn with_account_zero_governing_the_systempause_a_forwarded_fee_change_converges_and_replans_empty() {
    let s = setup(Topology::Modules).await;
    let (code, stdout, stderr) = s.apply(&["stake_manager.fees_pct.fee=4", "stake_manager.fees_pct.burn=1"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Applied 2 calls;"), "{stdout}");
    let fee = s.chain.read(s.chain.address("stake_manager"), StakeManager::feePctCall {}.abi_encode()).await;
    assert_eq!(StakeManager::feePctCall::abi_decode_returns(&fee).expect("uint"), U256::from(4));
    let (code, stdout, _) = s.plan(&[
        "--detailed-exitcode",
        "--set",
        "stake_manager.fees_pct.fee=4",
        "--set",
        "stake_manager.fees_pct.burn=1",
    ]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[tokio::test]
async fn a_revert_bubbling_up_from_a_module_is_named_by_the_modules_own_error() {
    let s = setup(Topology::Modules).await;
    // Out of band, the SystemPause loses a module: another account becomes
    // its owner and pauser, so pauseAll() reverts with the module's error.
    let module = s.modules()[3];
    let reader = s.chain.reader();
    let _: Json = reader.raw_request("anvil_impersonateAccount".into(), (s.pause(),)).await.expect("impersonate");
    let _: Json =
        reader.raw_request("anvil_setBalance".into(), (s.pause(), U256::from(10u128.pow(18)))).await.expect("fund");
    let (stranger, _) = s.chain.account(1);
    for data in [
        PausableModule::setPauserCall { pauser_: stranger }.abi_encode(),
        PausableModule::transferOwnershipCall { newOwner: stranger }.abi_encode(),
    ] {
        let tx =
            alloy::rpc::types::TransactionRequest::default().from(s.pause()).to(module).input(Bytes::from(data).into());
        let receipt = reader.send_transaction(tx).await.expect("sent").get_receipt().await.expect("mined");
        assert!(receipt.status());
    }
    let owner = s.chain.devnet.owner();
    let before = s.chain.nonce(owner).await;
    let (code, stdout, stderr) = s.apply(&["system_pause.paused=true"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("pauseAll() would revert Unauthorized()"), "{stderr}");
    assert_eq!(s.chain.nonce(owner).await, before, "nothing was sent");
}

#[tokio::test]
async fn a_signer_that_may_not_pause_is_named_once_when_pauser_and_governance_coincide() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = chain.write_state_file(dir.path()).await.display().to_string();
    let owner = chain.devnet.owner();
    let stake = chain.address("stake_manager");
    chain.send(0, stake, StakeManager::setPauserCall { pauser_: owner }.abi_encode()).await;
    let pauser = format!("stake_manager.pauser={owner}");
    let (code, stdout, stderr) = chain.govstate(&[
        "apply",
        &file,
        "--yes",
        "--no-cache",
        "--private-key",
        STRANGER_KEY,
        "--set",
        &pauser,
        "--set",
        "stake_manager.paused=true",
    ]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(stderr.matches(&owner.to_string()).count(), 1, "{stderr}");
}

#[tokio::test]
async fn a_file_setting_one_split_on_the_initial_splits_is_told_what_the_others_are_and_what_to_write() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = chain.write_state_file(dir.path()).await.display().to_string();
    let (code, stdout, stderr) =
        chain.govstate(&["plan", &file, "--no-cache", "--set", "arena.reward_splits_bps.teacher=6000"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    for expected in [
        "setRewardSplits(uint16,uint16,uint16) would revert InvalidSplit()",
        "arena.reward_splits_bps.student (10000 bps on chain)",
        "arena.reward_splits_bps.validator (10000 bps on chain)",
        "write them too",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
}
