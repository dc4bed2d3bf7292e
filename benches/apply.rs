//! `apply` of a plan of 12 calls in 5 phases on anvil with one block per
//! second, against the runbook's way, measured in the same run on the same
//! starting state: one `cast send` per call, each waiting for its receipt.
//!
//! Run with `npm ci && cargo bench --bench apply`. Target: govstate uses no
//! more blocks than the plan has non-empty phases.
//!
//! Then a large direct apply: 600 orchestrator grants (one phase) on anvil
//! mining a block every 2 s, against a bare client in the same run on the
//! same starting state (alloy sending the same calls back to back, then
//! waiting for the receipts). Target: blocks used <= 2 x
//! ceil(total gas used / block gas limit).

use std::collections::BTreeSet;
#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use alloy::sol_types::SolCall;
use govstate::contracts::arena::SelfPlayArena;
use govstate::contracts::stake_manager::StakeManager;
use govstate::contracts::system_pause::SystemPause;
use govstate::devnet::{AnvilOptions, Devnet, owner_signer};

use common::TestChain;
use govstate::execute::{ApplyOptions, apply};
use govstate::observe::{ObserveOptions, Scope, desired_state_yaml, observe};
use govstate::plan::{Plan, PlanOptions, plan};
use govstate::rpc::{RpcStats, connect, connect_signing};

/// anvil's first development key (public, from the test mnemonic).
const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

const CHANGE: [&str; 8] = [
    "system_pause.paused=false",
    "arena.paused=true",
    "stake_manager.paused=true",
    "arena.orchestrators=[\"0x00000000000000000000000000000000000000b1\", \"0x00000000000000000000000000000000000000c1\"]",
    "stake_manager.validator_lock_managers=[\"0x00000000000000000000000000000000000000d2\"]",
    "stake_manager.fees_pct={fee: 5, burn: 2}",
    "arena.rewards={teacher: 200 ether}",
    "stake_manager.unbonding_period=3d",
];

fn cast() -> String {
    let local = concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules/@foundry-rs/cast-linux-amd64/bin/cast");
    if std::path::Path::new(local).is_file() { local.to_string() } else { "cast".to_string() }
}

/// The starting state: SystemPause paused, one orchestrator, one lock manager.
async fn prepare(chain: &TestChain) {
    let steps: Vec<(&str, Vec<u8>)> = vec![
        ("system_pause", SystemPause::pauseCall {}.abi_encode()),
        (
            "arena",
            SelfPlayArena::setOrchestratorCall { orchestrator: Address::repeat_byte(0xa1), allowed: true }.abi_encode(),
        ),
        (
            "stake_manager",
            StakeManager::setValidatorLockManagerCall { manager: Address::repeat_byte(0xd1), allowed: true }
                .abi_encode(),
        ),
    ];
    for (contract, data) in steps {
        chain.send(0, chain.address(contract), data).await;
    }
}

async fn make_plan(devnet: &Devnet, dir: &std::path::Path) -> Plan {
    let options = ObserveOptions::without_cache();
    let reader = connect(devnet.url().clone(), &RpcStats::default());
    let everything = observe(&reader, &Scope::everything(devnet.deployment()), &options).await.expect("observe");
    let file = dir.join("state.yaml");
    std::fs::write(&file, desired_state_yaml(&everything, devnet.deployment(), "")).expect("write");
    let overrides: Vec<String> = CHANGE.iter().map(|s| s.to_string()).collect();
    let desired = govstate::spec::load_file_with_overrides(&file, &overrides).expect("valid").desired();
    let observed = observe(&reader, &Scope::of(&desired), &options).await.expect("observe");
    plan(&desired, &observed, &PlanOptions::default()).expect("plan")
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let options = AnvilOptions { block_time: Some(1), ..AnvilOptions::default() };
        let chain = TestChain::start_with(&options).await;
        prepare(&chain).await;
        let devnet = &chain.devnet;
        let dir = std::env::temp_dir().join(format!("govstate-bench-apply-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let plan = make_plan(devnet, &dir).await;
        let phases = plan.phase_count();
        assert_eq!((plan.calls.len(), phases), (12, 5), "the benchmark's plan");
        let start_state = chain.snapshot().await;

        // govstate apply: preflight, simulate, phases back to back, verify.
        let signer = owner_signer();
        let address = signer.address();
        let sender = connect_signing(devnet.url().clone(), &RpcStats::default(), signer);
        let options = ApplyOptions {
            sending: govstate::execute::Sending { confirmations: 1, ..Default::default() },
            simulate_first: true,
            receipts_dir: dir.join("receipts"),
            observe: ObserveOptions::without_cache(),
            source: "bench".to_string(),
            reviewed: None,
            overrides: Vec::new(),
            targets: Vec::new(),
            cancel_stale: false,
            safe_signatures: Default::default(),
        };
        let start = Instant::now();
        let applied = apply(&sender, &plan, address, &options).await.expect("apply converges");
        let govstate = start.elapsed();
        let govstate_blocks: BTreeSet<u64> = applied.receipt.transactions.iter().filter_map(|t| t.block).collect();

        // The runbook: one `cast send` per call, each waiting for its receipt.
        chain.revert(start_state).await;
        let url = devnet.url().to_string();
        let start = Instant::now();
        let mut cast_blocks = BTreeSet::new();
        for call in &plan.calls {
            let output = Command::new(cast())
                .args([
                    "send",
                    "--json",
                    "--rpc-url",
                    &url,
                    "--private-key",
                    OWNER_KEY,
                    &call.target.to_string(),
                    "--data",
                ])
                .arg(call.calldata.to_string())
                .output()
                .expect("cast runs");
            assert!(output.status.success(), "cast send failed: {}", String::from_utf8_lossy(&output.stderr));
            let receipt: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
            let block =
                receipt["blockNumber"].as_str().and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok());
            cast_blocks.extend(block);
        }
        let cast = start.elapsed();
        let _ = std::fs::remove_dir_all(&dir);
        report(plan.calls.len(), phases, govstate, govstate_blocks.len(), cast, cast_blocks.len());
    });
    runtime.block_on(large_apply());
}

/// Calls in the large apply.
const LARGE: u64 = 600;

/// 600 grants on a 2 s-block devnet: govstate apply against a bare client.
async fn large_apply() {
    use alloy::providers::Provider;
    let chain = TestChain::start().await;
    let devnet = &chain.devnet;
    let dir = std::env::temp_dir().join(format!("govstate-bench-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = chain.write_state_file(&dir).await;
    let list: Vec<String> =
        (0x7000..0x7000 + LARGE).map(|i| format!("\"{}\"", Address::left_padding_from(&i.to_be_bytes()))).collect();
    let wanted = format!("arena.orchestrators=[{}]", list.join(", "));
    let plan = chain.plan(&file, &[&wanted], &dir.join("cache")).await.expect("plan");
    assert_eq!(plan.calls.len() as u64, LARGE, "one grant per orchestrator");
    let _: serde_json::Value =
        chain.reader().raw_request("evm_setIntervalMining".into(), (2,)).await.expect("interval");
    let start_state = chain.snapshot().await;

    let signer = owner_signer();
    let address = signer.address();
    let sender = connect_signing(devnet.url().clone(), &RpcStats::default(), signer);
    let options = ApplyOptions {
        sending: govstate::execute::Sending { confirmations: 1, ..Default::default() },
        simulate_first: true,
        receipts_dir: dir.join("receipts"),
        observe: ObserveOptions::without_cache(),
        source: "bench".to_string(),
        reviewed: None,
        overrides: Vec::new(),
        targets: Vec::new(),
        cancel_stale: false,
        safe_signatures: Default::default(),
    };
    let start = Instant::now();
    let applied = apply(&sender, &plan, address, &options).await.expect("apply converges");
    let govstate = start.elapsed();
    let blocks: BTreeSet<u64> = applied.receipt.transactions.iter().filter_map(|t| t.block).collect();
    let gas: u64 = applied.receipt.transactions.iter().filter_map(|t| t.gas_used).sum();

    // The bare client: the same calls, nonces and gas limits, sent back to back.
    chain.revert(start_state).await;
    let (_, bare) = chain.account(0);
    let mut nonce = bare.get_transaction_count(address).await.expect("nonce");
    let start = Instant::now();
    let mut hashes = Vec::new();
    for (call, record) in plan.calls.iter().zip(&applied.receipt.transactions) {
        let (to, data) = call.sent();
        let tx = alloy::rpc::types::TransactionRequest::default()
            .to(to)
            .input(data.clone().into())
            .nonce(nonce)
            .gas_limit(record.gas_used.unwrap_or(100_000) * 3 / 2);
        hashes.push(*bare.send_transaction(tx).await.expect("sent").tx_hash());
        nonce += 1;
    }
    let mut bare_blocks = BTreeSet::new();
    for hash in hashes {
        let receipt = loop {
            if let Some(receipt) = bare.get_transaction_receipt(hash).await.expect("receipt") {
                break receipt;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        bare_blocks.extend(receipt.block_number);
    }
    let bare_time = start.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    let limit = plan.block.gas_limit.max(1);
    let goal = 2 * gas.div_ceil(limit) as usize;
    println!();
    println!(
        "apply: {LARGE} direct calls in one phase ({gas} gas used, block gas limit {limit}), anvil mining every 2 s"
    );
    println!("| way                                     | wall time | blocks used |");
    println!("|-----------------------------------------|----------:|------------:|");
    println!("| govstate apply (simulate + verify)      | {:>7.2} s | {:>11} |", govstate.as_secs_f64(), blocks.len());
    println!(
        "| bare client: sends back to back, waits  | {:>7.2} s | {:>11} |",
        bare_time.as_secs_f64(),
        bare_blocks.len()
    );
    println!(
        "ratio govstate / bare client: time {:.2}x, blocks {:.2}x; target blocks <= 2 x ceil(gas / limit): {} <= {goal} {}",
        govstate.as_secs_f64() / bare_time.as_secs_f64(),
        blocks.len() as f64 / bare_blocks.len().max(1) as f64,
        blocks.len(),
        if blocks.len() <= goal { "met" } else { "MISSED" }
    );
}

fn report(calls: usize, phases: usize, govstate: Duration, govstate_blocks: usize, cast: Duration, cast_blocks: usize) {
    println!("apply: {calls} calls in {phases} phases, anvil --block-time 1");
    println!("| way                                   | wall time | blocks used |");
    println!("|---------------------------------------|----------:|------------:|");
    println!("| govstate apply (simulate + verify)    | {:>7.2} s | {govstate_blocks:>11} |", govstate.as_secs_f64());
    println!("| runbook: cast send per call, waiting  | {:>7.2} s | {cast_blocks:>11} |", cast.as_secs_f64());
    println!(
        "ratio runbook / govstate: time {:.2}x, blocks {:.2}x; target blocks <= phases: {} <= {phases} {}",
        cast.as_secs_f64() / govstate.as_secs_f64(),
        cast_blocks as f64 / govstate_blocks.max(1) as f64,
        govstate_blocks,
        if govstate_blocks <= phases { "met" } else { "MISSED" }
    );
}
