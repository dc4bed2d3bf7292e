//! A 12-call change that a TimelockController must make (StakeManager's
//! settings and lock managers, through the SystemPause), on the production
//! wiring: govstate's one batch against scheduling each call on its own,
//! measured in the same run on the same starting state.
//!
//! Run with `npm ci && cargo bench --bench routed`. Target: 1 schedule + 1
//! execute transaction, against 24.

use std::time::Instant;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use govstate::contracts::timelock::TimelockController;
use govstate::devnet::{AnvilOptions, Devnet, Topology, owner_signer};
use govstate::execute::{ApplyOptions, apply};
use govstate::observe::{ObserveOptions, Scope, desired_state_yaml, observe};
use govstate::plan::{Plan, PlanOptions, plan};
use govstate::rpc::{RpcStats, connect, connect_signing};

const DELAY: u64 = 60;

const CHANGE: [&str; 7] = [
    "stake_manager.fees_pct={fee: 5, burn: 2, validator_reward: 10}",
    "stake_manager.min_stake=2 ether",
    "stake_manager.role_minimums={agent: 1 ether, validator: 5 ether, platform: 0}",
    "stake_manager.unbonding_period=3d",
    "stake_manager.validator_lock_managers=[\"0x00000000000000000000000000000000000000d1\", \"0x00000000000000000000000000000000000000d2\", \"0x00000000000000000000000000000000000000d3\", \"0x00000000000000000000000000000000000000d4\", \"0x00000000000000000000000000000000000000d5\"]",
    "stake_manager.pauser=\"0x00000000000000000000000000000000000000e1\"",
    "system_pause.paused=false",
];

struct Run {
    transactions: usize,
    blocks: u64,
    seconds: f64,
}

async fn devnet() -> Devnet {
    let topology = Topology::Production { timelock_delay: DELAY };
    Devnet::start_wired(&AnvilOptions::default(), topology).await.expect("devnet")
}

async fn the_plan(devnet: &Devnet, dir: &std::path::Path) -> Plan {
    let stats = RpcStats::default();
    let reader = connect(devnet.url().clone(), &stats);
    let options = ObserveOptions::without_cache();
    let observed = observe(&reader, &Scope::everything(devnet.deployment()), &options).await.expect("observe");
    let file = dir.join("state.yaml");
    std::fs::write(&file, desired_state_yaml(&observed, devnet.deployment(), "")).expect("state");
    let overrides: Vec<String> = CHANGE.iter().map(|s| s.to_string()).collect();
    let desired = govstate::spec::load_file_with_overrides(&file, &overrides).expect("valid").desired();
    let observed = observe(&reader, &Scope::of(&desired), &options).await.expect("observe");
    plan(&desired, &observed, &PlanOptions::default()).expect("plan")
}

async fn warp(devnet: &Devnet) {
    let reader = connect(devnet.url().clone(), &RpcStats::default());
    let _: serde_json::Value = reader.raw_request("evm_increaseTime".into(), (DELAY + 1,)).await.expect("warp");
    let _: serde_json::Value = reader.raw_request("evm_mine".into(), ()).await.expect("mine");
}

async fn block(devnet: &Devnet) -> u64 {
    connect(devnet.url().clone(), &RpcStats::default()).get_block_number().await.expect("block")
}

/// govstate: apply schedules one batch; after the delay, apply executes it.
async fn govstate_run(calls: usize) -> Run {
    let devnet = devnet().await;
    let dir = tempfile::tempdir().expect("dir");
    let made = the_plan(&devnet, dir.path()).await;
    assert_eq!(made.calls.len(), calls, "a {calls}-call change");
    let options = ApplyOptions {
        sending: govstate::execute::Sending { confirmations: 1, ..Default::default() },
        simulate_first: true,
        receipts_dir: dir.path().join("receipts"),
        observe: ObserveOptions::without_cache(),
        source: "bench".into(),
        reviewed: None,
        overrides: vec![],
        targets: vec![],
        cancel_stale: false,
        safe_signatures: Default::default(),
    };
    let signer = owner_signer();
    let address = signer.address();
    let sender = connect_signing(devnet.url().clone(), &RpcStats::default(), signer);
    let (start, first) = (Instant::now(), block(&devnet).await);
    let scheduled = apply(&sender, &made, address, &options).await.expect("schedule");
    let mut seconds = start.elapsed().as_secs_f64();
    warp(&devnet).await;
    let ready = the_plan(&devnet, dir.path()).await;
    let start = Instant::now();
    let executed = apply(&sender, &ready, address, &options).await.expect("execute");
    seconds += start.elapsed().as_secs_f64();
    let transactions = scheduled.receipt.transactions.len() + executed.receipt.transactions.len();
    let after = the_plan(&devnet, dir.path()).await;
    assert!(after.is_empty(), "converged");
    // The warp mined one block that no transaction of either run used.
    Run { transactions, blocks: block(&devnet).await - first - 1, seconds }
}

/// The one-operation-per-call way: each forwarded call scheduled alone,
/// then each executed alone after the delay.
async fn one_by_one(calls: usize) -> Run {
    let devnet = devnet().await;
    let dir = tempfile::tempdir().expect("dir");
    let made = the_plan(&devnet, dir.path()).await;
    assert_eq!(made.calls.len(), calls);
    let timelock = devnet.wiring().timelock.expect("timelock");
    let owner = owner_signer();
    let sender = connect_signing(devnet.url().clone(), &RpcStats::default(), owner);
    let (start, first) = (Instant::now(), block(&devnet).await);
    let payloads: Vec<(Address, alloy::primitives::Bytes)> =
        made.calls.iter().map(|c| (c.sent().0, c.sent().1.clone())).collect();
    let send = |data: Vec<u8>| {
        let sender = sender.clone();
        async move {
            let tx = alloy::rpc::types::TransactionRequest::default().to(timelock).input(data.into());
            let receipt = sender.send_transaction(tx).await.expect("sent").get_receipt().await.expect("mined");
            assert!(receipt.status(), "reverted");
        }
    };
    for (i, (target, data)) in payloads.iter().enumerate() {
        let salt = B256::from(U256::from(i));
        let call = TimelockController::scheduleCall {
            target: *target,
            value: U256::ZERO,
            data: data.clone(),
            predecessor: B256::ZERO,
            salt,
            delay: U256::from(DELAY),
        };
        send(call.abi_encode()).await;
    }
    let mut seconds = start.elapsed().as_secs_f64();
    warp(&devnet).await;
    let start = Instant::now();
    for (i, (target, data)) in payloads.iter().enumerate() {
        let salt = B256::from(U256::from(i));
        let call = TimelockController::executeCall {
            target: *target,
            value: U256::ZERO,
            payload: data.clone(),
            predecessor: B256::ZERO,
            salt,
        };
        send(call.abi_encode()).await;
    }
    seconds += start.elapsed().as_secs_f64();
    Run { transactions: payloads.len() * 2, blocks: block(&devnet).await - first - 1, seconds }
}

#[tokio::main]
async fn main() {
    const CALLS: usize = 12;
    let batch = govstate_run(CALLS).await;
    let single = one_by_one(CALLS).await;
    println!("A {CALLS}-call change through TimelockController → SystemPause → StakeManager (anvil, automine)\n");
    println!("| way | transactions | blocks | wall time |");
    println!("|---|--:|--:|--:|");
    println!(
        "| govstate: one scheduleBatch, one executeBatch | {} | {} | {:.2} s |",
        batch.transactions, batch.blocks, batch.seconds
    );
    println!(
        "| one schedule + one execute per call | {} | {} | {:.2} s |",
        single.transactions, single.blocks, single.seconds
    );
    println!(
        "\nRatio: {:.1}× fewer transactions, {:.1}× fewer blocks. Target (2 transactions): {}",
        single.transactions as f64 / batch.transactions as f64,
        single.blocks as f64 / batch.blocks.max(1) as f64,
        if batch.transactions == 2 { "met" } else { "NOT met" }
    );
}
