//! The incident path on the production wiring (a TimelockController
//! governing the modules-kind SystemPause, which governs StakeManager and
//! seven modules): a pause is never held back by an unrelated route or
//! operation, pending operations are judged by the file's scope, routes
//! come from the chain whatever sections the file has, a saved plan carries
//! its change to the end, and a successful transfer is reported as one.

mod common;

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolError};
use common::TestChain;
use govstate::contracts::arena::SelfPlayArena;
use govstate::contracts::stake_manager::StakeManager;
use govstate::contracts::system_pause::{PausableModule, SystemPauseModules};
use govstate::contracts::timelock::TimelockController;
use govstate::devnet::Topology;
use serde_json::Value as Json;

const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const STRANGER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const DELAY: u64 = 60;

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    state: String,
}

async fn setup(topology: Topology) -> Setup {
    let chain = TestChain::start_wired(topology).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let state = chain.write_state_file(dir.path()).await.display().to_string();
    Setup { chain, dir, state }
}

async fn production() -> Setup {
    setup(Topology::Production { timelock_delay: DELAY }).await
}

impl Setup {
    fn timelock(&self) -> Address {
        self.chain.devnet.wiring().timelock.expect("a timelock")
    }

    fn owner(&self) -> Address {
        self.chain.devnet.owner()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// The state file with `edits` applied to its text, written as `name`.
    fn file(&self, name: &str, edits: &[(&str, &str)]) -> String {
        let mut text = std::fs::read_to_string(&self.state).expect("state file");
        for (from, to) in edits {
            assert!(text.contains(from), "{from:?} in {text}");
            text = text.replacen(from, to, 1);
        }
        let path = self.path(name);
        std::fs::write(&path, text).expect("written");
        path
    }

    /// A file of its own text, with this deployment's addresses.
    fn write(&self, name: &str, body: &str) -> String {
        let header = format!(
            "version: 1\nchain_id: 31337\ncontracts:\n  arena: {{ address: \"{}\" }}\n  stake_manager: {{ address: \"{}\" }}\n  system_pause: {{ address: \"{}\" }}\n",
            self.chain.address("arena"),
            self.chain.address("stake_manager"),
            self.chain.address("system_pause"),
        );
        let path = self.path(name);
        std::fs::write(&path, format!("{header}{body}")).expect("written");
        path
    }

    /// The state file's `system_pause:` section, as the devnet writes it.
    fn system_pause_section(&self) -> String {
        let text = std::fs::read_to_string(&self.state).expect("state file");
        let start = text.find("\nsystem_pause:\n").map(|i| i + 1).expect("a system_pause section");
        let rest = &text[start..];
        let end = rest.lines().skip(1).take_while(|l| l.starts_with(' ')).map(|l| l.len() + 1).sum::<usize>();
        rest[..end + "system_pause:\n".len()].to_string()
    }

    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        self.chain.govstate(args)
    }

    fn plan(&self, file: &str, extra: &[&str]) -> (Option<i32>, String, String) {
        self.run(&[&["plan", file, "--no-cache"], extra].concat())
    }

    fn plan_json(&self, file: &str) -> Json {
        let (code, stdout, stderr) = self.plan(file, &["--format", "json"]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        serde_json::from_str(&stdout).expect("JSON plan")
    }

    fn apply(&self, file: &str, key: &str, extra: &[&str]) -> (Option<i32>, String, String) {
        let receipts = self.path("receipts");
        let args = [&["apply", file, "--yes", "--no-cache", "--private-key", key, "--receipts-dir", &receipts], extra];
        self.run(&args.concat())
    }

    async fn warp_past_delay(&self) {
        let _: Json = self.chain.reader().raw_request("evm_increaseTime".into(), (DELAY + 1,)).await.expect("warp");
        self.chain.mine().await;
    }

    async fn fee(&self) -> U256 {
        let data = self.chain.read(self.chain.address("stake_manager"), StakeManager::feePctCall {}.abi_encode()).await;
        StakeManager::feePctCall::abi_decode_returns(&data).expect("uint")
    }

    async fn paused(&self, contract: Address) -> bool {
        let data = self.chain.read(contract, PausableModule::pausedCall {}.abi_encode()).await;
        PausableModule::pausedCall::abi_decode_returns(&data).expect("a bool")
    }

    async fn operation_state(&self, id: B256) -> u8 {
        let data =
            self.chain.read(self.timelock(), TimelockController::getOperationStateCall { id }.abi_encode()).await;
        TimelockController::getOperationStateCall::abi_decode_returns(&data).expect("u8")
    }

    /// Schedules `data` on `target` through the SystemPause, out of band,
    /// and leaves it waiting; returns its operation id.
    async fn schedule_out_of_band(&self, target: Address, data: Vec<u8>, salt: u8) -> B256 {
        let forwarded = SystemPauseModules::executeGovernanceCallCall { target, data: data.into() }.abi_encode();
        self.schedule_on_the_system_pause(forwarded, salt).await
    }

    /// Schedules a call of the SystemPause itself on the timelock, out of
    /// band, and leaves it waiting; returns its operation id.
    async fn schedule_on_the_system_pause(&self, data: Vec<u8>, salt: u8) -> B256 {
        let pause = self.chain.address("system_pause");
        let forwarded: Bytes = data.into();
        let salt = B256::repeat_byte(salt);
        let schedule = TimelockController::scheduleCall {
            target: pause,
            value: U256::ZERO,
            data: forwarded.clone(),
            predecessor: B256::ZERO,
            salt,
            delay: U256::from(DELAY),
        };
        self.chain.send(0, self.timelock(), schedule.abi_encode()).await;
        let id = TimelockController::hashOperationCall {
            target: pause,
            value: U256::ZERO,
            data: forwarded,
            predecessor: B256::ZERO,
            salt,
        };
        let answer = self.chain.read(self.timelock(), id.abi_encode()).await;
        TimelockController::hashOperationCall::abi_decode_returns(&answer).expect("bytes32")
    }

    fn operations(plan: &Json) -> Vec<Json> {
        plan["operations"].as_array().cloned().unwrap_or_default()
    }
}

fn id_of(operation: &Json) -> B256 {
    serde_json::from_value(operation["id"].clone()).expect("an operation id")
}

#[tokio::test]
async fn a_pause_only_file_pauses_the_arena_at_once_and_leaves_an_unrelated_fee_batch_alone() {
    let s = production().await;
    let fee = s.file("fee.yaml", &[("    fee: 0\n", "    fee: 4\n")]);
    let (code, stdout, stderr) = s.apply(&fee, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "the fee batch is scheduled: {stdout}{stderr}");
    let fee_operation = id_of(&Setup::operations(&s.plan_json(&fee))[0]);
    assert_eq!(s.operation_state(fee_operation).await, 1, "waiting");

    let pause = s.write("pause.yaml", "system_pause:\n  paused: true\narena:\n  paused: true\n");
    let plan = s.plan_json(&pause);
    let operations = Setup::operations(&plan);
    let foreign = operations.iter().find(|o| id_of(o) == fee_operation).expect("the fee batch is shown");
    assert_eq!(foreign["scope"], "out_of_scope", "{foreign}");
    let (_, text, _) = s.plan(&pause, &[]);
    assert!(text.contains("is out of the file's scope; left alone"), "{text}");
    assert!(!text.contains("is stale"), "{text}");

    let (code, stdout, stderr) = s.apply(&pause, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(s.paused(s.chain.address("arena")).await, "the arena is paused at once");
    assert_eq!(s.operation_state(fee_operation).await, 1, "the fee batch is untouched, still waiting");

    // With --cancel-stale, the pause file still never cancels the fee batch.
    let (code, stdout, stderr) = s.apply(&pause, OWNER_KEY, &["--cancel-stale"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(s.operation_state(fee_operation).await, 1, "not cancelled: {stdout}");
}

#[tokio::test]
async fn cancel_stale_alone_cancels_a_hostile_batch_that_sets_a_managed_field() {
    let s = production().await;
    let stake = s.chain.address("stake_manager");
    let hostile =
        s.schedule_out_of_band(stake, StakeManager::setFeePctCall { pct: U256::from(83) }.abi_encode(), 7).await;
    let plan = s.plan_json(&s.state);
    assert!(plan["calls"].as_array().is_some_and(Vec::is_empty), "nothing to change: {plan}");
    let operation = Setup::operations(&plan).into_iter().find(|o| id_of(o) == hostile).expect("shown");
    assert_eq!(operation["scope"], "stale", "{operation}");
    let (_, text, _) = s.plan(&s.state, &[]);
    assert!(text.contains("stake_manager.fees_pct.fee to 83%"), "decoded: {text}");

    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(&s.state, OWNER_KEY, &["--cancel-stale"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Cancelled stale operation"), "{stdout}");
    assert_eq!(s.chain.nonce(s.owner()).await, before + 1, "one cancel");
    assert_eq!(s.operation_state(hostile).await, 0, "cancelled");
}

#[tokio::test]
async fn the_routine_fee_file_with_cancel_stale_never_cancels_a_pending_emergency_pause() {
    let s = production().await;
    let emergency = s.schedule_on_the_system_pause(SystemPauseModules::pauseAllCall {}.abi_encode(), 8).await;
    // The fee file names the SystemPause but manages nothing of it.
    let fee =
        s.file("fee.yaml", &[(&s.system_pause_section(), "system_pause: {}\n"), ("    fee: 0\n", "    fee: 4\n")]);
    let plan = s.plan_json(&fee);
    let operation = Setup::operations(&plan).into_iter().find(|o| id_of(o) == emergency).expect("shown");
    assert_eq!(operation["scope"], "out_of_scope", "{operation}");
    let (code, stdout, stderr) = s.apply(&fee, OWNER_KEY, &["--cancel-stale"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("Cancelled"), "{stdout}");
    assert_eq!(s.operation_state(emergency).await, 1, "the emergency pause is still waiting");
    assert!(stdout.contains("Scheduled operation"), "the fee batch is scheduled beside it: {stdout}");
}

#[tokio::test]
async fn a_stake_manager_only_file_routes_through_the_system_pause_and_the_timelock_and_converges() {
    let s = production().await;
    // No system_pause section, its address still under `contracts:`; and
    // no mention of the SystemPause at all.
    let section = s.system_pause_section();
    let listed = s.file("listed.yaml", &[(&section, ""), ("    fee: 0\n", "    fee: 4\n")]);
    let pause_ref = format!("  system_pause:\n    address: \"{}\"\n", s.chain.address("system_pause"));
    let bare = s.file(
        "bare.yaml",
        &[(&pause_ref, ""), (&section, ""), ("    fee: 0\n", "    fee: 4\n"), ("    burn: 0\n", "    burn: 2\n")],
    );
    for (file, expected) in [(&listed, (4, 0)), (&bare, (4, 2))] {
        let plan = s.plan_json(file);
        let routes = plan["routes"].as_array().cloned().unwrap_or_default();
        assert_eq!(routes.len(), 1, "{routes:?}");
        assert_eq!(routes[0]["via"]["type"], "timelock", "{routes:?}");
        assert!(plan["calls"][0]["via"]["function"].as_str().is_some_and(|f| f.starts_with("executeGovernanceCall")));
        let (code, stdout, stderr) = s.apply(file, OWNER_KEY, &[]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(stdout.contains("Scheduled operation"), "{stdout}");
        s.warp_past_delay().await;
        let (code, stdout, stderr) = s.apply(file, OWNER_KEY, &[]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert_eq!(s.fee().await, U256::from(expected.0), "{stdout}");
        let (code, stdout, _) = s.plan(file, &["--detailed-exitcode"]);
        assert_eq!(code, Some(0), "converged: {stdout}");
    }
}

#[tokio::test]
async fn a_saved_plan_schedules_its_batch_and_after_the_delay_executes_it_and_converges() {
    let s = production().await;
    let file = s.file(
        "incident.yaml",
        &[("  paused: false\n  orchestrators:", "  paused: true\n  orchestrators:"), ("    fee: 0\n", "    fee: 4\n")],
    );
    let saved = s.path("plan.json");
    let (code, stdout, stderr) = s.plan(&file, &["--out", &saved]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, stdout, stderr) = s.apply(&saved, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Scheduled operation"), "{stdout}");
    assert!(s.paused(s.chain.address("arena")).await, "the arena's pause went at once");
    assert_eq!(s.fee().await, U256::ZERO);

    s.warp_past_delay().await;
    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(&saved, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "the saved plan finishes what it scheduled: {stdout}{stderr}");
    assert!(stdout.contains("executeBatch(1 call)"), "{stdout}");
    assert_eq!(s.chain.nonce(s.owner()).await, before + 1, "only the execution; the arena is not paused twice");
    assert_eq!(s.fee().await, U256::from(4));
    let (code, stdout, _) = s.plan(&file, &["--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[tokio::test]
async fn a_really_stale_saved_plan_is_refused_saying_what_to_run_instead() {
    let s = production().await;
    let file = s.file("fee.yaml", &[("    fee: 0\n", "    fee: 4\n")]);
    let saved = s.path("plan.json");
    let (code, _, _) = s.plan(&file, &["--out", &saved]);
    assert_eq!(code, Some(0));
    s.chain.send(0, s.chain.address("arena"), SelfPlayArena::pauseCall {}.abi_encode()).await;
    let (code, stdout, stderr) = s.apply(&saved, OWNER_KEY, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("govstate plan FILE --out PLAN"), "{stderr}");
}

#[tokio::test]
async fn a_pause_is_sent_even_when_another_route_of_the_plan_is_refused() {
    let s = production().await;
    // The signer owns the arena but lacks the timelock's PROPOSER_ROLE.
    let (stranger, _) = s.chain.account(1);
    let arena = s.chain.address("arena");
    s.chain.send(0, arena, SelfPlayArena::transferOwnershipCall { newOwner: stranger }.abi_encode()).await;
    let file = s.write(
        "incident.yaml",
        "arena:\n  paused: true\nstake_manager:\n  fees_pct: { fee: 4, burn: 0, validator_reward: 0 }\n",
    );
    let (code, stdout, stderr) = s.apply(&file, STRANGER_KEY, &[]);
    assert_eq!(code, Some(1), "the fee route is refused: {stdout}{stderr}");
    assert!(stderr.contains("pause is never held back") && stderr.contains("lacks PROPOSER_ROLE"), "{stderr}");
    assert!(s.paused(arena).await, "the arena's pause was sent all the same");
    assert_eq!(s.chain.nonce(stranger).await, 1, "only the pause");
    assert_eq!(s.fee().await, U256::ZERO);
}

#[tokio::test]
async fn plan_simulate_refuses_what_apply_would_refuse_with_the_same_message() {
    let s = production().await;
    let file = s.file("fee.yaml", &[(&s.system_pause_section(), ""), ("    fee: 0\n", "    fee: 4\n")]);
    let (stranger, _) = s.chain.account(1);
    let stranger = stranger.to_string();
    let (code, stdout, stderr) = s.plan(&file, &["--simulate", "--from", &stranger]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("lacks PROPOSER_ROLE"), "{stderr}");
    assert!(!stderr.contains("converged"), "no converged line beside a refusal: {stderr}");
    let (code, _, apply_err) = s.apply(&file, STRANGER_KEY, &[]);
    assert_eq!(code, Some(1));
    assert!(apply_err.contains("lacks PROPOSER_ROLE"), "{apply_err}");

    // As the proposer the same plan converges on the fork, and nothing is sent.
    let before = s.chain.nonce(s.owner()).await;
    let owner = s.owner().to_string();
    let (code, stdout, stderr) = s.plan(&file, &["--simulate", "--from", &owner]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("converged"), "{stderr}");
    assert_eq!(s.chain.nonce(s.owner()).await, before);
}

#[tokio::test]
async fn with_an_emergency_pauser_pause_everything_pauses_the_eight_modules_now_without_the_timelock() {
    let s = production().await;
    let owner = s.owner().to_checksum(None);
    let pause_address = s.chain.address("system_pause").to_checksum(None);
    // Without a pauser, the pause waits for the timelock, and says so first.
    let all = s.write("all.yaml", "system_pause:\n  paused: true\narena:\n  paused: true\n");
    let (code, text, stderr) = s.plan(&all, &[]);
    assert_eq!(code, Some(0), "{text}{stderr}");
    let head: String = text.lines().take(4).collect::<Vec<_>>().join("\n");
    assert!(head.contains("The system pause waits for the timelock"), "{text}");

    // The emergency account is named through the timelock once.
    let guardian =
        s.file("guardian.yaml", &[(&format!("  pauser: \"{pause_address}\"\n"), &format!("  pauser: \"{owner}\"\n"))]);
    let (code, stdout, stderr) = s.apply(&guardian, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    s.warp_past_delay().await;
    let (code, stdout, stderr) = s.apply(&guardian, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, stdout, _) = s.plan(&guardian, &["--detailed-exitcode"]);
    assert_eq!(code, Some(0), "the pauser converged: {stdout}");

    // Now "pause everything" is one pause() per module by that account, now.
    let plan = s.plan_json(&all);
    let routes = plan["routes"].as_array().cloned().unwrap_or_default();
    assert!(routes.iter().all(|r| r["via"]["type"] == "direct"), "no timelock route: {routes:?}");
    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(&all, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("Scheduled"), "{stdout}");
    for module in s.chain.devnet.wiring().modules.clone() {
        assert!(s.paused(module).await, "{module} paused in the same apply");
    }
    assert_eq!(s.chain.nonce(s.owner()).await, before + 9, "eight module pauses and the arena's");
}

#[tokio::test]
async fn a_governance_transfer_and_an_arena_ownership_transfer_exit_zero_and_converge() {
    let s = setup(Topology::Direct).await;
    let (next, _) = s.chain.account(3);
    let owner = s.owner().to_checksum(None);
    let file = s.file(
        "handover.yaml",
        &[
            (&format!("  owner: \"{owner}\""), &format!("  owner: \"{}\"", next.to_checksum(None))),
            (&format!("  governance: \"{owner}\""), &format!("  governance: \"{}\"", next.to_checksum(None))),
        ],
    );
    let (code, stdout, stderr) = s.apply(&file, OWNER_KEY, &["--allow-ownership-transfer"]);
    assert_eq!(code, Some(0), "a successful transfer is a success: {stdout}{stderr}");
    assert!(stdout.contains("the chain now matches"), "{stdout}");
    let (code, stdout, _) = s.plan(&file, &["--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[tokio::test]
async fn a_timelock_revert_is_named_by_its_error() {
    let selector = TimelockController::TimelockUnexpectedOperationState::SELECTOR;
    let name = govstate::contracts::error_name(None, selector);
    assert_eq!(name, Some("TimelockUnexpectedOperationState(bytes32,bytes32)"));
    let selector = TimelockController::TimelockInsufficientDelay::SELECTOR;
    assert_eq!(govstate::contracts::error_name(None, selector), Some("TimelockInsufficientDelay(uint256,uint256)"));
}

#[tokio::test]
async fn a_change_too_large_for_one_block_is_cut_into_chained_batches_that_each_execute_after_the_delay() {
    let s = production().await;
    let stake = s.chain.address("stake_manager");
    let pause = s.chain.address("system_pause");
    // 450 lock managers granted out of band, as StakeManager's governance
    // (the SystemPause) would, many to a block.
    let reader = s.chain.reader();
    let _: Json = reader.raw_request("anvil_impersonateAccount".into(), (pause,)).await.expect("impersonate");
    let _: Json =
        reader.raw_request("anvil_setBalance".into(), (pause, U256::from(10u128.pow(20)))).await.expect("fund");
    s.chain.automine(false).await;
    let mut nonce = reader.get_transaction_count(pause).await.expect("nonce");
    for i in 0..450u64 {
        let manager = Address::left_padding_from(&(0x9000 + i).to_be_bytes());
        let data = StakeManager::setValidatorLockManagerCall { manager, allowed: true }.abi_encode();
        let tx = alloy::rpc::types::TransactionRequest::default()
            .from(pause)
            .to(stake)
            .input(Bytes::from(data).into())
            .nonce(nonce)
            .gas_limit(100_000);
        let _ = reader.send_transaction(tx).await.expect("sent");
        nonce += 1;
    }
    while s.chain.pending_count().await > 0 {
        s.chain.mine().await;
    }
    s.chain.automine(true).await;
    let replacements: Vec<String> = (0..450u64)
        .map(|i| format!("  - \"{}\"", Address::left_padding_from(&(0xa000 + i).to_be_bytes()).to_checksum(None)))
        .collect();
    let list = format!("  validator_lock_managers:\n{}", replacements.join("\n"));
    let file = s.file("rotate.yaml", &[("  validator_lock_managers: []", &list)]);
    let plan = s.plan_json(&file);
    assert_eq!(plan["calls"].as_array().map(Vec::len), Some(900), "450 revokes and 450 grants");
    let routes = plan["routes"].as_array().cloned().unwrap_or_default();
    assert!(
        routes.len() > 1 && routes.iter().all(|r| r["via"]["type"] == "timelock"),
        "cut into parts: {}",
        routes.len()
    );
    let covered: usize = routes.iter().map(|r| r["calls"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(covered, 900, "every call in exactly one part");
    for pair in routes.windows(2) {
        assert_eq!(pair[1]["via"]["predecessor"], pair[0]["via"]["operation"], "each part waits for the one before");
    }
    let ids: Vec<B256> =
        routes.iter().map(|r| serde_json::from_value(r["via"]["operation"].clone()).expect("an id")).collect();

    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(&file, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(s.chain.nonce(s.owner()).await, before + ids.len() as u64, "one scheduleBatch per part");
    for id in &ids {
        assert_eq!(s.operation_state(*id).await, 1, "waiting");
    }
    s.warp_past_delay().await;
    let (code, stdout, stderr) = s.apply(&file, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for id in &ids {
        assert_eq!(s.operation_state(*id).await, 3, "executed");
    }
    let (code, stdout, _) = s.plan(&file, &["--detailed-exitcode"]);
    assert_eq!(code, Some(0), "converged: {stdout}");
}

#[tokio::test]
async fn a_saved_plan_whose_batch_someone_else_executed_first_reports_the_chain_matching() {
    let s = production().await;
    let file = s.file("fee.yaml", &[("    fee: 0\n", "    fee: 4\n")]);
    let (code, stdout, stderr) = s.apply(&file, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "scheduled: {stdout}{stderr}");
    s.warp_past_delay().await;
    let saved = s.path("ready.json");
    let (code, _, _) = s.plan(&file, &["--out", &saved]);
    assert_eq!(code, Some(0));
    // Another executor runs the ready batch first.
    let plan: Json = serde_json::from_str(&std::fs::read_to_string(&saved).expect("plan")).expect("json");
    let batch = &plan["routes"][0]["via"];
    let targets: Vec<Address> = serde_json::from_value(batch["targets"].clone()).expect("targets");
    let payloads: Vec<Bytes> = serde_json::from_value(batch["payloads"].clone()).expect("payloads");
    let salt: B256 = serde_json::from_value(batch["salt"].clone()).expect("salt");
    let values = vec![U256::ZERO; targets.len()];
    let execute = TimelockController::executeBatchCall { targets, values, payloads, predecessor: B256::ZERO, salt };
    s.chain.send(0, s.timelock(), execute.abi_encode()).await;
    assert_eq!(s.fee().await, U256::from(4));

    let (code, stdout, stderr) = s.apply(&saved, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "the chain matches the plan: {stdout}{stderr}");
    assert!(stdout.contains("the chain now matches"), "{stdout}");
}

#[tokio::test]
async fn a_timelock_delay_raised_after_the_plan_was_made_is_refused_by_name() {
    let s = production().await;
    let file = s.file("fee.yaml", &[("    fee: 0\n", "    fee: 4\n")]);
    let saved = s.path("plan.json");
    let (code, _, _) = s.plan(&file, &["--out", &saved]);
    assert_eq!(code, Some(0));
    // The timelock raises its own delay (through itself, as it must).
    let update = TimelockController::updateDelayCall { newDelay: U256::from(DELAY * 2) }.abi_encode();
    let salt = B256::repeat_byte(9);
    let schedule = TimelockController::scheduleCall {
        target: s.timelock(),
        value: U256::ZERO,
        data: update.clone().into(),
        predecessor: B256::ZERO,
        salt,
        delay: U256::from(DELAY),
    };
    s.chain.send(0, s.timelock(), schedule.abi_encode()).await;
    s.warp_past_delay().await;
    let execute = TimelockController::executeCall {
        target: s.timelock(),
        value: U256::ZERO,
        payload: update.into(),
        predecessor: B256::ZERO,
        salt,
    };
    s.chain.send(0, s.timelock(), execute.abi_encode()).await;

    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(&saved, OWNER_KEY, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("min delay 60 s when the plan was made, 120 s now"), "{stderr}");
    assert!(!stderr.contains("unknown error"), "{stderr}");
    assert_eq!(s.chain.nonce(s.owner()).await, before, "nothing was sent");
}

#[tokio::test]
async fn an_emergency_pauser_held_by_another_key_is_named_and_the_pauses_the_signer_may_send_go() {
    let s = production().await;
    let (guardian, _) = s.chain.account(2);
    let pause_address = s.chain.address("system_pause").to_checksum(None);
    let named = s.file(
        "guardian.yaml",
        &[(&format!("  pauser: \"{pause_address}\"\n"), &format!("  pauser: \"{}\"\n", guardian.to_checksum(None)))],
    );
    for _ in 0..2 {
        let (code, stdout, stderr) = s.apply(&named, OWNER_KEY, &[]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        s.warp_past_delay().await;
    }
    let all = s.write("all.yaml", "system_pause:\n  paused: true\narena:\n  paused: true\n");
    let (code, stdout, stderr) = s.apply(&all, OWNER_KEY, &[]);
    assert_eq!(code, Some(1), "the module pauses are the guardian's: {stdout}{stderr}");
    assert!(stderr.contains("SystemPause's modules.job_registry"), "{stderr}");
    assert!(stderr.contains(&guardian.to_string()) && stderr.contains("apply with that account's key"), "{stderr}");
    assert!(s.paused(s.chain.address("arena")).await, "the arena's pause, the signer's own, went");
    let guardian_key = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
    let (code, stdout, stderr) = s.apply(&all, guardian_key, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for module in s.chain.devnet.wiring().modules.clone() {
        assert!(s.paused(module).await, "{module} paused by the guardian");
    }
}

#[tokio::test]
async fn a_production_incident_in_one_test_pause_now_fee_batch_untouched_then_everything_paused_by_the_guardian() {
    let s = production().await;
    // A routine fee change is scheduled and waiting.
    let fee = s.file("fee.yaml", &[("    fee: 0\n", "    fee: 4\n")]);
    let (code, stdout, stderr) = s.apply(&fee, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let fee_operation = id_of(&Setup::operations(&s.plan_json(&fee))[0]);
    // Without an emergency account, the plan's first lines say the pause waits.
    let all = s.write("all.yaml", "system_pause:\n  paused: true\narena:\n  paused: true\n");
    let (_, text, _) = s.plan(&all, &[]);
    let head: String = text.lines().take(4).collect::<Vec<_>>().join("\n");
    assert!(head.contains("The system pause waits for the timelock"), "{text}");
    // The pause-only file: the arena at once, the fee batch shown out of scope and untouched.
    let arena = s.write("arena.yaml", "system_pause: {}\narena:\n  paused: true\n");
    let operation = Setup::operations(&s.plan_json(&arena)).into_iter().find(|o| id_of(o) == fee_operation);
    assert_eq!(operation.map(|o| o["scope"].clone()), Some(Json::from("out_of_scope")));
    let (code, stdout, stderr) = s.apply(&arena, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(s.paused(s.chain.address("arena")).await);
    assert_eq!(s.operation_state(fee_operation).await, 1, "the fee batch still waits");
    // The guardian is named through the timelock; then everything pauses at once.
    let pause_address = s.chain.address("system_pause").to_checksum(None);
    let owner = s.owner().to_checksum(None);
    let guardian =
        s.file("guardian.yaml", &[(&format!("  pauser: \"{pause_address}\"\n"), &format!("  pauser: \"{owner}\"\n"))]);
    for _ in 0..2 {
        let (code, stdout, stderr) = s.apply(&guardian, OWNER_KEY, &["--target", "system_pause.pauser"]);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        s.warp_past_delay().await;
    }
    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(&all, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("scheduleBatch"), "no timelock operation: {stdout}");
    for module in s.chain.devnet.wiring().modules.clone() {
        assert!(s.paused(module).await, "{module} paused in the same apply");
    }
    assert_eq!(s.chain.nonce(s.owner()).await, before + 8, "one pause() per module");
}
