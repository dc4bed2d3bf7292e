//! Warm `plan` and `drift` at 1,000 and 10,000 orchestrators on anvil:
//! JSON-RPC requests and wall time of a run with a warm role-holder cache,
//! against a floor measured in the same run: the very same field reads and
//! the `eth_getLogs` of the blocks since the last run, sent as plain
//! batches, and nothing else. Goal: warm requests independent of the
//! holder count, at most 40 at 10,000 holders (every holder was confirmed
//! with an `eth_call` every run before: 10,057 requests).
//!
//! Between two runs the chain moves on: an extra orchestrator is granted
//! and revoked again (two blocks, two logs, one touched address; the file
//! stays in sync). Each row is measured with plain `eth_call` batches (a
//! fresh anvil) and through Multicall3 (installed, as on most chains).
//! Everything in-process (load, observe, plan or check), median of [`RUNS`].
//!
//! Run with `npm ci && cargo bench --bench warm` (sizes:
//! `GOVSTATE_BENCH_WARM_HOLDERS=1000,10000`); `cargo test --bench warm`
//! runs it once, small, as a check.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, Bytes};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::{Filter, Log, TransactionRequest};
use alloy::sol_types::SolCall;
use govstate::contracts::arena::SelfPlayArena;
use govstate::drift::{DriftOptions, Status, check_file};
use govstate::observe::{MULTICALL3, ObserveOptions, Scope, desired_state_yaml, observe};
use govstate::plan::{PlanOptions, plan};
use govstate::rpc::{RpcStats, connect};

use common::TestChain;

/// Warm runs per measurement; the median time is shown.
const RUNS: usize = 7;

alloy::sol! {
    struct Call3 { address target; bool allowFailure; bytes callData; }
    function aggregate3(Call3[] calls) external payable returns (bytes[] returnData);
}

/// One measurement: requests of one run (the largest over the runs) and
/// the median wall time.
#[derive(Clone, Copy)]
struct Cost {
    requests: u64,
    round_trips: u64,
    time: Duration,
    /// Of which observing (the reads), median; the rest is loading the
    /// file and planning or diffing, linear in its size (`benches/holders.rs`).
    observe: Duration,
}

struct Row {
    holders: usize,
    via: &'static str,
    cold: u64,
    plan: Cost,
    drift: Cost,
    floor: Cost,
}

/// The out-of-band change between two runs: grant and revoke `EXTRA`.
const EXTRA: Address = Address::repeat_byte(0xee);

async fn move_on(chain: &TestChain) {
    let arena = chain.address("arena");
    for allowed in [true, false] {
        let data = SelfPlayArena::setOrchestratorCall { orchestrator: EXTRA, allowed }.abi_encode();
        chain.send(0, arena, data).await;
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs `one` [`RUNS`] times after the chain moved on each time; `one`
/// returns the requests and round trips it made.
async fn measure<F, Fut>(chain: &TestChain, mut one: F) -> Cost
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (u64, u64, Duration)>,
{
    let (mut times, mut observing, mut requests, mut round_trips) = (Vec::new(), Vec::new(), 0, 0);
    for _ in 0..RUNS {
        move_on(chain).await;
        let start = Instant::now();
        let (r, t, observe) = one().await;
        times.push(start.elapsed());
        observing.push(observe);
        requests = requests.max(r);
        round_trips = round_trips.max(t);
    }
    Cost { requests, round_trips, time: median(times), observe: median(observing) }
}

/// Load, observe with the cache in `cache`, plan; the plan must be empty.
async fn plan_once(chain: &TestChain, file: &Path, options: &ObserveOptions) -> (u64, u64, Duration) {
    let stats = RpcStats::default();
    let provider = connect(chain.devnet.url().clone(), &stats);
    let desired = govstate::spec::load_file(file).expect("valid").desired();
    let start = Instant::now();
    let observed = observe(&provider, &Scope::of(&desired), options).await.expect("observe");
    let observing = start.elapsed();
    let made = plan(&desired, &observed, &PlanOptions::default()).expect("plan");
    assert!(made.is_empty(), "the file matches the chain");
    (stats.requests(), stats.round_trips(), observing)
}

/// `drift` of one file, in-process; it must be in sync.
async fn drift_once(chain: &TestChain, file: &Path, options: &ObserveOptions) -> (u64, u64, Duration) {
    let stats = RpcStats::default();
    let drift = DriftOptions {
        rpc_url: Some(chain.devnet.url().to_string()),
        observe: options.clone(),
        stats: stats.clone(),
        ..DriftOptions::default()
    };
    let report = check_file(file, &drift).await;
    assert_eq!(report.status, Status::InSync, "{:?}", report.error);
    (stats.requests(), stats.round_trips(), Duration::from_secs_f64(report.duration_seconds))
}

/// The floor: the pinned block, every field getter (one aggregate through
/// Multicall3), then the `eth_getLogs` of both role sets since `since`.
async fn floor_once(chain: &TestChain, multicall: bool, since: &std::cell::Cell<u64>) -> (u64, u64, Duration) {
    let start = Instant::now();
    let stats = RpcStats::default();
    let provider = connect(chain.devnet.url().clone(), &stats);
    let mut calls = Vec::new();
    for deployed in &chain.devnet.deployment().contracts {
        for field in deployed.kind.fields {
            calls.push((deployed.address, Bytes::from((field.calldata)())));
        }
        calls.push((deployed.address, Bytes::from((deployed.kind.authority.calldata)())));
    }
    let head = if multicall {
        let calls = calls.iter().map(|(to, data)| Call3 { target: *to, allowFailure: true, callData: data.clone() });
        calls_batch(&provider, &[(MULTICALL3, aggregate3Call { calls: calls.collect() }.abi_encode().into())]).await
    } else {
        calls_batch(&provider, &calls).await
    };
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::new();
    for deployed in &chain.devnet.deployment().contracts {
        for set in deployed.kind.role_sets {
            let filter = Filter::new()
                .address(deployed.address)
                .event_signature(set.event_topic)
                .from_block(BlockNumberOrTag::Number(since.get() + 1))
                .to_block(BlockNumberOrTag::Number(head));
            waiters.push(batch.add_call::<_, Vec<Log>>("eth_getLogs", &(filter,)).expect("eth_getLogs"));
        }
    }
    batch.send().await.expect("logs sent");
    for waiter in waiters {
        waiter.await.expect("logs");
    }
    since.set(head);
    (stats.requests(), stats.round_trips(), start.elapsed())
}

/// One batch: the latest block and `calls` at it; returns its number.
async fn calls_batch(provider: &impl Provider, calls: &[(Address, Bytes)]) -> u64 {
    let mut batch = BatchRequest::new(provider.client());
    let block = batch
        .add_call::<_, alloy::rpc::types::Block>("eth_getBlockByNumber", &(BlockNumberOrTag::Latest, false))
        .expect("block");
    let mut waiters = Vec::new();
    for (to, data) in calls {
        let tx = TransactionRequest::default().to(*to).input(data.clone().into());
        waiters.push(batch.add_call::<_, Bytes>("eth_call", &(tx, BlockNumberOrTag::Latest)).expect("eth_call"));
    }
    batch.send().await.expect("batch sent");
    let block = block.await.expect("block");
    for waiter in waiters {
        let _ = waiter.await;
    }
    block.header.number
}

async fn rows_for(holders: usize) -> Vec<Row> {
    let chain = TestChain::start().await;
    chain.grant_orchestrators(holders).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let deployment = chain.devnet.deployment();
    let reader = connect(chain.devnet.url().clone(), &RpcStats::default());
    let observed = observe(&reader, &Scope::everything(deployment), &ObserveOptions::without_cache()).await;
    let file = dir.path().join("state.yaml");
    std::fs::write(&file, desired_state_yaml(&observed.expect("observe"), deployment, "")).expect("write");
    let mut rows = Vec::new();
    for (via, multicall) in [("eth_call batch", false), ("Multicall3", true)] {
        if multicall {
            chain.devnet.install_multicall3().await.expect("multicall3");
        }
        let cold = ObserveOptions { cache_dir: None, multicall, ..ObserveOptions::default() };
        let (cold, _, _) = plan_once(&chain, &file, &cold).await;
        let cache = ObserveOptions { cache_dir: Some(dir.path().join(via)), multicall, ..ObserveOptions::default() };
        plan_once(&chain, &file, &cache).await;
        let plan = measure(&chain, || plan_once(&chain, &file, &cache)).await;
        let drift = measure(&chain, || drift_once(&chain, &file, &cache)).await;
        let since = std::cell::Cell::new(reader.get_block_number().await.expect("block number"));
        let floor = measure(&chain, || floor_once(&chain, multicall, &since)).await;
        rows.push(Row { holders, via, cold, plan, drift, floor });
    }
    rows
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --bench warm` does not.
    let testing = !std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = match std::env::var("GOVSTATE_BENCH_WARM_HOLDERS") {
        Ok(list) => list.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) if testing => vec![50, 200],
        Err(_) => vec![1_000, 10_000],
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let rows: Vec<Row> = sizes.iter().flat_map(|n| runtime.block_on(rows_for(*n))).collect();
    println!(
        "warm plan and drift vs the floor (the same field reads + the new logs only), in-process, median of {RUNS}"
    );
    println!(
        "| holders | reads via | cold requests | warm plan: requests | round trips | time | of which observe | warm drift: requests | round trips | time | floor: requests | round trips | time | plan observe ÷ floor | drift ÷ floor |"
    );
    println!("|--:|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    let ratio = |a: Duration, b: Duration| format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64());
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.holders,
            r.via,
            r.cold,
            r.plan.requests,
            r.plan.round_trips,
            ms(r.plan.time),
            ms(r.plan.observe),
            r.drift.requests,
            r.drift.round_trips,
            ms(r.drift.time),
            r.floor.requests,
            r.floor.round_trips,
            ms(r.floor.time),
            ratio(r.plan.observe, r.floor.time),
            ratio(r.drift.time, r.floor.time),
        );
    }
    for via in ["eth_call batch", "Multicall3"] {
        let of: Vec<&Row> = rows.iter().filter(|r| r.via == via).collect();
        if let (Some(first), Some(last)) = (of.first(), of.last()) {
            let same = first.plan.requests == last.plan.requests && first.drift.requests == last.drift.requests;
            let bounded = last.plan.requests <= 40 && last.drift.requests <= 40;
            let goal = match (same, bounded) {
                (true, true) => "independent of the holders and ≤ 40: met",
                (true, false) => "independent of the holders: met; ≤ 40: MISSED",
                (false, _) => "independent of the holders: MISSED",
            };
            println!(
                "{via}: warm plan requests {} → {}, drift {} → {} from {} to {} holders ({goal})",
                first.plan.requests,
                last.plan.requests,
                first.drift.requests,
                last.drift.requests,
                first.holders,
                last.holders,
            );
        }
    }
}
