//! Governance routes on the production wiring: a TimelockController governs
//! the SystemPause, which governs StakeManager. Calls the signer may send go
//! now; the timelock's become one batch, scheduled, then executed after the
//! delay; pending operations are observed state; a routed plan is proven on
//! a fork before anyone signs.

mod common;
mod fault_proxy;

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use common::TestChain;
use govstate::contracts::stake_manager::StakeManager;
use govstate::contracts::system_pause::PausableModule;
use govstate::contracts::timelock::TimelockController;
use govstate::devnet::Topology;
use serde_json::Value as Json;

const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const STRANGER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const DELAY: u64 = 60;
const ROGUE: &str = "0x00000000000000000000000000000000000000aa";
const FRIEND: &str = "0x00000000000000000000000000000000000000bb";

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    state: String,
}

async fn setup() -> Setup {
    let chain = TestChain::start_wired(Topology::Production { timelock_delay: DELAY }).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let state = chain.write_state_file(dir.path()).await.display().to_string();
    Setup { chain, dir, state }
}

impl Setup {
    fn timelock(&self) -> Address {
        self.chain.devnet.wiring().timelock.expect("a timelock")
    }

    fn owner(&self) -> Address {
        self.chain.devnet.owner()
    }

    /// The state file with `edit` applied to its text, written beside it.
    fn file(&self, name: &str, edits: &[(&str, &str)]) -> String {
        let mut text = std::fs::read_to_string(&self.state).expect("state file");
        for (from, to) in edits {
            assert!(text.contains(from), "{from:?} in {text}");
            text = text.replacen(from, to, 1);
        }
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        path.display().to_string()
    }

    /// The incident: fees change, one orchestrator rotated for another,
    /// everything paused.
    fn incident(&self) -> String {
        self.chain_with_rogue_file(&[
            ("system_pause:\n  paused: false", "system_pause:\n  paused: true"),
            ("  paused: false\n  orchestrators:", "  paused: true\n  orchestrators:"),
            (&format!("  - \"{}\"", checksum(ROGUE)), &format!("  - \"{}\"", checksum(FRIEND))),
            ("    fee: 0\n", "    fee: 4\n"),
        ])
    }

    /// A file with the rogue orchestrator in it, then `edits`.
    fn chain_with_rogue_file(&self, edits: &[(&str, &str)]) -> String {
        let mut all = vec![("  orchestrators: []", ROGUE_LIST)];
        all.extend_from_slice(edits);
        self.file("incident.yaml", &all)
    }

    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        self.chain.govstate(args)
    }

    fn apply(&self, file: &str, key: &str, extra: &[&str]) -> (Option<i32>, String, String) {
        let receipts = self.dir.path().join("receipts").display().to_string();
        let args = [&["apply", file, "--yes", "--no-cache", "--private-key", key, "--receipts-dir", &receipts], extra];
        self.chain.govstate(&args.concat())
    }

    async fn warp_past_delay(&self) {
        let reader = self.chain.reader();
        let _: Json = reader.raw_request("evm_increaseTime".into(), (DELAY + 1,)).await.expect("warp");
        self.chain.mine().await;
    }

    async fn fee(&self) -> U256 {
        let data = self.chain.read(self.chain.address("stake_manager"), StakeManager::feePctCall {}.abi_encode()).await;
        StakeManager::feePctCall::abi_decode_returns(&data).expect("uint")
    }

    /// Grants the rogue orchestrator on chain, before the file is written.
    async fn grant_rogue(&self) {
        use govstate::contracts::arena::SelfPlayArena;
        let rogue: Address = ROGUE.parse().expect("address");
        let data = SelfPlayArena::setOrchestratorCall { orchestrator: rogue, allowed: true }.abi_encode();
        self.chain.send(0, self.chain.address("arena"), data).await;
    }

    fn receipts(&self) -> Vec<Json> {
        common::receipts(&self.dir.path().join("receipts"))
    }
}

const ROGUE_LIST: &str = "  orchestrators:\n  - \"0x00000000000000000000000000000000000000AA\"";

fn checksum(address: &str) -> String {
    address.parse::<Address>().expect("address").to_checksum(None)
}

fn plan_json(s: &Setup, file: &str) -> Json {
    let (code, stdout, stderr) = s.run(&["plan", file, "--no-cache", "--format", "json"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    serde_json::from_str(&stdout).expect("JSON plan")
}

#[tokio::test]
async fn an_incident_is_two_routes_the_arena_paused_now_and_the_rest_scheduled_then_executed_after_the_delay() {
    let s = setup().await;
    s.grant_rogue().await;
    let file = s.incident();
    let plan = plan_json(&s, &file);
    let routes = plan["routes"].as_array().cloned().unwrap_or_default();
    assert_eq!(routes.len(), 2, "{routes:?}");
    let timelock = routes.iter().find(|r| r["via"]["type"] == "timelock").expect("a timelock route");
    let direct = routes.iter().find(|r| r["via"]["type"] == "direct").expect("a direct route");
    assert_eq!(direct["authority"].as_str().map(str::to_lowercase), Some(s.owner().to_string().to_lowercase()));
    let direct_calls = direct["calls"].as_array().map_or(0, Vec::len);
    assert_eq!(direct_calls, 3, "arena pause, revoke, grant: {direct:?}");
    assert_eq!(timelock["calls"].as_array().map_or(0, Vec::len), 2, "pauseAll and setFeePct: {timelock:?}");
    let (_, text, _) = s.run(&["plan", &file, "--no-cache"]);
    assert!(text.contains("The routes run at different times"), "{text}");

    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(&file, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Scheduled operation"), "{stdout}");
    assert_eq!(s.chain.nonce(s.owner()).await, before + 4, "three arena calls and one scheduleBatch");
    assert_eq!(s.fee().await, U256::ZERO, "not before the delay");

    // Before the delay: nothing is sent, and it says when.
    let (code, stdout, stderr) = s.apply(&file, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Nothing was sent.") && stdout.contains("ready at"), "{stdout}");
    assert_eq!(s.chain.nonce(s.owner()).await, before + 4);
    let (code, stdout, _) = s.run(&["plan", &file, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(2), "pending: {stdout}");
    assert!(stdout.contains("scheduled as 0x"), "{stdout}");

    s.warp_past_delay().await;
    let (code, stdout, stderr) = s.apply(&file, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("executeBatch(2 calls)"), "{stdout}");
    assert_eq!(s.fee().await, U256::from(4));
    let (code, stdout, _) = s.run(&["plan", &file, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[tokio::test]
async fn the_operation_id_in_the_receipt_is_hash_operation_batch_of_the_batch_in_the_saved_plan() {
    let s = setup().await;
    let file = s.file("fee.yaml", &[("    fee: 0\n", "    fee: 4\n")]);
    let saved = s.dir.path().join("plan.json").display().to_string();
    let (code, stdout, stderr) = s.run(&["plan", &file, "--no-cache", "--out", &saved]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, stdout, stderr) = s.apply(&saved, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");

    let plan: Json = serde_json::from_str(&std::fs::read_to_string(&saved).expect("plan")).expect("json");
    let batch = &plan["routes"][0]["via"];
    let targets: Vec<Address> = serde_json::from_value(batch["targets"].clone()).expect("targets");
    let payloads: Vec<Bytes> = serde_json::from_value(batch["payloads"].clone()).expect("payloads");
    let predecessor: B256 = serde_json::from_value(batch["predecessor"].clone()).expect("predecessor");
    let salt: B256 = serde_json::from_value(batch["salt"].clone()).expect("salt");
    let values = vec![U256::ZERO; targets.len()];
    let hash = TimelockController::hashOperationBatchCall { targets, values, payloads, predecessor, salt };
    let answer = s.chain.read(s.timelock(), hash.abi_encode()).await;
    let id = TimelockController::hashOperationBatchCall::abi_decode_returns(&answer).expect("bytes32");

    let receipts = s.receipts();
    let operation = &receipts[0]["operations"][0];
    assert_eq!(operation["action"], "scheduled");
    assert_eq!(serde_json::from_value::<B256>(operation["id"].clone()).expect("id"), id);
    assert!(operation["ready_at"].as_u64().is_some_and(|t| t > 0), "{operation}");
    let mut untagged = batch.clone();
    untagged.as_object_mut().map(|o| o.remove("type"));
    assert_eq!(operation["batch"], untagged, "the exact batch");
    let state = TimelockController::getOperationStateCall { id }.abi_encode();
    let state = s.chain.read(s.timelock(), state).await;
    assert_eq!(TimelockController::getOperationStateCall::abi_decode_returns(&state).expect("u8"), 1, "waiting");
}

#[tokio::test]
async fn a_file_changed_after_scheduling_shows_the_operation_stale_and_cancel_stale_replaces_it() {
    let s = setup().await;
    let four = s.file("four.yaml", &[("    fee: 0\n", "    fee: 4\n")]);
    let (code, stdout, stderr) = s.apply(&four, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");

    let five = s.file("five.yaml", &[("    fee: 0\n", "    fee: 5\n")]);
    let (code, stdout, _) = s.run(&["plan", &five, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stdout.contains("is stale"), "{stdout}");
    let plan = plan_json(&s, &five);
    assert_eq!(plan["operations"].as_array().map(|o| o.iter().filter(|o| o["scope"] == "stale").count()), Some(1));

    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(&five, OWNER_KEY, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("--cancel-stale"), "{stderr}");
    assert_eq!(s.chain.nonce(s.owner()).await, before, "nothing was sent");

    let (code, stdout, stderr) = s.apply(&five, OWNER_KEY, &["--cancel-stale"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Cancelled stale operation"), "{stdout}");
    s.warp_past_delay().await;
    let (code, stdout, stderr) = s.apply(&five, OWNER_KEY, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(s.fee().await, U256::from(5), "the chain ends where the new file says");
    let (code, stdout, _) = s.run(&["plan", &five, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[tokio::test]
async fn plan_simulate_proves_the_routed_change_on_a_fork_without_sending_anything() {
    let s = setup().await;
    s.grant_rogue().await;
    let file = s.incident();
    let before = s.chain.nonce(s.owner()).await;
    let block = s.chain.reader().get_block_number().await.expect("block");
    let (code, stdout, stderr) = s.run(&["plan", &file, "--no-cache", "--simulate"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("the fork converged to the promised state"), "{stderr}");
    assert_eq!(s.chain.nonce(s.owner()).await, before, "nothing sent");
    assert_eq!(s.chain.reader().get_block_number().await.expect("block"), block, "no block mined");
    assert_eq!(s.fee().await, U256::ZERO);
}

#[tokio::test]
async fn plan_simulate_reports_the_decoded_revert_of_a_plan_made_to_fail() {
    let s = setup().await;
    // Out of band, a module stops answering to the SystemPause: pauseAll()
    // will revert with that module's own error.
    let pause = s.chain.address("system_pause");
    let module = s.chain.devnet.wiring().modules[3];
    let reader = s.chain.reader();
    let _: Json = reader.raw_request("anvil_impersonateAccount".into(), (pause,)).await.expect("impersonate");
    let _: Json =
        reader.raw_request("anvil_setBalance".into(), (pause, U256::from(10u128.pow(18)))).await.expect("fund");
    let (stranger, _) = s.chain.account(1);
    // Its pauser a contract that sends nothing, so no lever reaches it at once.
    let nobody = s.chain.address("arena");
    for data in [
        PausableModule::setPauserCall { pauser_: nobody }.abi_encode(),
        PausableModule::transferOwnershipCall { newOwner: stranger }.abi_encode(),
    ] {
        let tx =
            alloy::rpc::types::TransactionRequest::default().from(pause).to(module).input(Bytes::from(data).into());
        assert!(reader.send_transaction(tx).await.expect("sent").get_receipt().await.expect("mined").status());
    }
    let file = s.file("pause.yaml", &[("system_pause:\n  paused: false", "system_pause:\n  paused: true")]);
    let (code, stdout, stderr) = s.run(&["plan", &file, "--no-cache", "--simulate"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("system_pause.pauseAll() would revert Unauthorized()"), "{stderr}");
}

#[tokio::test]
async fn a_signer_without_the_proposer_role_is_refused_in_preflight_with_the_chain_of_authority() {
    let s = setup().await;
    let file = s.file("fee.yaml", &[("    fee: 0\n", "    fee: 4\n")]);
    let (stranger, _) = s.chain.account(1);
    let (code, stdout, stderr) = s.apply(&file, STRANGER_KEY, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("lacks PROPOSER_ROLE"), "{stderr}");
    let chain = format!(
        "StakeManager {} ← SystemPause {} ← TimelockController {} (min delay {DELAY} s)",
        s.chain.address("stake_manager"),
        s.chain.address("system_pause"),
        s.timelock()
    );
    assert!(stderr.contains(&chain), "{stderr}");
    assert_eq!(s.chain.nonce(stranger).await, 0, "nothing was sent");
}

#[tokio::test]
async fn no_fork_is_left_behind_when_plan_simulate_is_interrupted() {
    let s = setup().await;
    let mut holders = String::from("  orchestrators:\n");
    for i in 0..400u32 {
        holders.push_str(&format!("  - \"{}\"\n", Address::left_padding_from(&(0x9000 + i).to_be_bytes())));
    }
    let file = s.file("many.yaml", &[("  orchestrators: []\n", &holders)]);
    // The fork reads its state through a proxy that holds every storage
    // fetch (the plan itself never asks one): it is still working when the
    // signal comes, however fast the machine.
    let hold = Some(("eth_getStorageAt", std::time::Duration::from_secs(120)));
    let faults = fault_proxy::Faults { hold_method: hold, ..fault_proxy::Faults::none(7) };
    let proxy = fault_proxy::FaultProxy::start(s.chain.devnet.url().clone(), faults).await;
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // Counted before govstate starts: its fork may ask its first fetch
        // at once, and then wait on it.
        let held = proxy.seen(|seen| seen.held);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
            .args(["plan", &file, "--no-cache", "--simulate"])
            .env("ETH_RPC_URL", proxy.url.as_str())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("govstate starts");
        // The fork URL is never on anvil's command line: the fork is found
        // as govstate's anvil child.
        let mut forks = Vec::new();
        let started = common::eventually(60, || {
            forks = anvil_children_of(child.id());
            let found = !forks.is_empty();
            async move { found }
        })
        .await;
        assert!(started, "the fork started");
        let busy = common::eventually(60, || {
            let more = proxy.seen(|seen| seen.held) > held;
            async move { more }
        })
        .await;
        assert!(busy, "the fork is waiting for its state when the signal comes");
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().expect("govstate exits");
        assert!(!status.success(), "interrupted");
        let gone = common::eventually(10, || {
            let alive: Vec<u32> = forks.iter().copied().filter(|pid| is_running(*pid)).collect();
            async move { alive.is_empty() }
        })
        .await;
        assert!(gone, "a fork of govstate is left after signal {signal}: {forks:?}");
    }
}

/// The anvil processes whose parent is `parent`.
fn anvil_children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // `pid (comm) state ppid …`; comm may hold spaces, so split after ')'.
            let comm = stat.split_once('(').and_then(|(_, rest)| rest.rsplit_once(')'));
            let ppid = comm.and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|p| p.parse::<u32>().ok());
            comm.is_some_and(|(name, _)| name == "anvil") && ppid == Some(parent)
        })
        .collect()
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn is_running(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
    state.is_some_and(|s| s != "Z" && s != "X")
}

#[tokio::test]
async fn an_eoa_pauser_pauses_stake_manager_at_once_while_governance_would_need_the_timelock() {
    let s = setup().await;
    let stake = s.chain.address("stake_manager");
    let (pauser, _) = s.chain.account(2);
    s.chain.through_timelock(stake, StakeManager::setPauserCall { pauser_: pauser }.abi_encode(), DELAY).await;
    let pause_address = s.chain.address("system_pause").to_checksum(None);
    // StakeManager alone is paused: the file leaves the system's status alone.
    let file = s.file(
        "pauser.yaml",
        &[
            (&format!("system_pause:\n  paused: false\n  pauser: \"{pause_address}\"\n"), "system_pause: {}\n"),
            ("\nstake_manager:\n", &format!("\nstake_manager:\n  pauser: \"{pauser}\"\n  paused: true\n")),
        ],
    );
    let plan = plan_json(&s, &file);
    let routes = plan["routes"].as_array().cloned().unwrap_or_default();
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(routes[0]["via"]["type"], "direct");
    assert_eq!(routes[0]["authority"].as_str().map(str::to_lowercase), Some(pauser.to_string().to_lowercase()));
    assert!(plan["calls"][0].get("via").is_none(), "sent straight to StakeManager: {plan}");
    let pauser_key = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
    let (code, stdout, stderr) = s.apply(&file, pauser_key, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let paused = s.chain.read(stake, StakeManager::pausedCall {}.abi_encode()).await;
    assert!(StakeManager::pausedCall::abi_decode_returns(&paused).expect("bool"));
    let (code, stdout, _) = s.run(&["plan", &file, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{stdout}");
}
