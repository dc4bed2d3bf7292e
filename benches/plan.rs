//! `plan` with 10, 1,000 and 10,000 orchestrators on anvil, measured in the
//! same run against two baselines:
//!
//! - the floor: the very same JSON-RPC bodies sent by curl, same batch sizes,
//!   same concurrency (see `plan/floor.rs`); target: `govstate plan` (whole
//!   process) within 1.5× of it at 1,000 and 10,000 holders, peak memory
//!   reported;
//! - the runbook: one `cast call` per field and per address, in sequence
//!   (only up to `GOVSTATE_BENCH_CAST_MAX` holders, default 1,000: ten
//!   thousand sequential `cast` processes take minutes and show nothing new).
//!
//! Run with `npm ci && cargo bench --bench plan` (sizes can be narrowed with
//! `GOVSTATE_BENCH_SIZES=10,1000`). Prints the tables and the ratios.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/fault_proxy/mod.rs"]
mod fault_proxy;
#[path = "plan/floor.rs"]
mod floor;

use std::process::Command;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, Bytes};
use govstate::observe::{ObserveOptions, Scope, desired_state_yaml, observe};
use govstate::plan::{PlanOptions, plan};
use govstate::rpc::{RpcStats, connect};

use common::TestChain;

struct Row {
    holders: usize,
    govstate: Duration,
    govstate_round_trips: u64,
    govstate_warm: Duration,
    multicall: Duration,
    multicall_round_trips: u64,
    cast: Option<Duration>,
    cast_calls: usize,
    floor: floor::Floor,
    floor_multicall: floor::Floor,
}

fn cast() -> String {
    let local = concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules/@foundry-rs/cast-linux-amd64/bin/cast");
    if std::path::Path::new(local).is_file() { local.to_string() } else { "cast".to_string() }
}

async fn measure(count: usize) -> Row {
    let chain = TestChain::start().await;
    let holders = chain.grant_orchestrators(count).await;
    let devnet = &chain.devnet;
    let dir = std::env::temp_dir().join(format!("govstate-bench-plan-{}-{count}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let throwaway = ObserveOptions::without_cache();
    let reader = connect(devnet.url().clone(), &RpcStats::default());
    let everything = observe(&reader, &Scope::everything(devnet.deployment()), &throwaway).await.expect("observe");
    let file = dir.join("state.yaml");
    std::fs::write(&file, desired_state_yaml(&everything, devnet.deployment(), "")).expect("write");

    // govstate: load, observe (cold cache), plan.
    let cache = ObserveOptions { cache_dir: Some(dir.join("cache")), ..ObserveOptions::default() };
    let stats = RpcStats::default();
    let provider = connect(devnet.url().clone(), &stats);
    let start = Instant::now();
    let desired = govstate::spec::load_file(&file).expect("valid").desired();
    let observed = observe(&provider, &Scope::of(&desired), &cache).await.expect("observe");
    let made = plan(&desired, &observed, &PlanOptions::default()).expect("plan");
    let govstate = start.elapsed();
    assert!(made.is_empty(), "the file matches the chain");
    let govstate_round_trips = stats.round_trips();
    // Warm cache: the incremental scan.
    let start = Instant::now();
    let observed = observe(&provider, &Scope::of(&desired), &cache).await.expect("observe");
    let _ = plan(&desired, &observed, &PlanOptions::default()).expect("plan");
    let govstate_warm = start.elapsed();
    // At the floor, JSON-RPC batches of eth_call (before Multicall3 is installed).
    let floor = floor::measure(devnet.url(), &file, &dir).await;
    // Through Multicall3, cold.
    chain.devnet.install_multicall3().await.expect("multicall3");
    let stats = RpcStats::default();
    let provider = connect(devnet.url().clone(), &stats);
    let start = Instant::now();
    let observed = observe(&provider, &Scope::of(&desired), &throwaway).await.expect("observe");
    let _ = plan(&desired, &observed, &PlanOptions::default()).expect("plan");
    let multicall = start.elapsed();
    let multicall_round_trips = stats.round_trips();
    let floor_multicall = floor::measure(devnet.url(), &file, &dir).await;

    // The runbook: one `cast call` per field and per address, in sequence.
    let url = devnet.url().to_string();
    let mut calls: Vec<(Address, Vec<String>)> = Vec::new();
    for deployed in &devnet.deployment().contracts {
        for field in deployed.kind.fields {
            let data = Bytes::from((field.calldata)()).to_string();
            calls.push((deployed.address, vec!["--data".to_string(), data]));
        }
    }
    let arena = devnet.deployment().address_of("arena").unwrap_or_default();
    for holder in &holders {
        calls.push((arena, vec!["orchestrators(address)(bool)".to_string(), holder.to_string()]));
    }
    let cast_max: usize = std::env::var("GOVSTATE_BENCH_CAST_MAX").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    let start = Instant::now();
    for (to, args) in calls.iter().filter(|_| count <= cast_max) {
        let output = Command::new(cast())
            .args(["call", "--rpc-url", &url, &to.to_string()])
            .args(args)
            .output()
            .expect("cast runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "cast call {args:?} failed: {stderr}");
    }
    let cast = (count <= cast_max).then(|| start.elapsed());
    let _ = std::fs::remove_dir_all(&dir);
    Row {
        holders: count,
        govstate,
        govstate_round_trips,
        govstate_warm,
        multicall,
        multicall_round_trips,
        cast,
        cast_calls: calls.len(),
        floor,
        floor_multicall,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("GOVSTATE_BENCH_SIZES")
        .unwrap_or_else(|_| "10,1000,10000".to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let rows: Vec<Row> = sizes.iter().map(|n| runtime.block_on(measure(*n))).collect();
    println!(
        "plan: govstate (load + observe + plan, in-process) vs the runbook (one `cast call` per field and address)"
    );
    println!(
        "| orchestrators | govstate batch | round trips | warm cache | Multicall3 | round trips | cast calls (= round trips) | cast, sequential | speed-up |"
    );
    println!(
        "|--------------:|---------------:|------------:|-----------:|-----------:|------------:|---------------------------:|-----------------:|---------:|"
    );
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    for r in &rows {
        let cast = r.cast.map_or("—".to_string(), ms);
        let speedup =
            r.cast.map_or("—".to_string(), |c| format!("{:.0}x", c.as_secs_f64() / r.govstate.as_secs_f64()));
        println!(
            "| {:>13} | {:>14} | {:>11} | {:>10} | {:>10} | {:>11} | {:>26} | {:>16} | {:>8} |",
            r.holders,
            ms(r.govstate),
            r.govstate_round_trips,
            ms(r.govstate_warm),
            ms(r.multicall),
            r.multicall_round_trips,
            r.cast_calls,
            cast,
            speedup,
        );
    }
    println!();
    println!(
        "plan at the floor: `govstate plan --no-cache` (whole process) vs curl sending the same bodies (same batches, same concurrency), median of {}",
        floor::RUNS
    );
    println!(
        "| orchestrators | reads via      | govstate plan | curl floor | ratio | target   | round trips | largest batch | peak RSS |"
    );
    println!(
        "|--------------:|:---------------|--------------:|-----------:|------:|:---------|------------:|--------------:|---------:|"
    );
    for r in &rows {
        for (via, f) in [("eth_call batch", &r.floor), ("Multicall3", &r.floor_multicall)] {
            let target = match (r.holders >= 1_000, f.ratio() <= 1.5) {
                (false, _) => "—",
                (true, true) => "≤1.5× ok",
                (true, false) => "≤1.5× MISSED",
            };
            println!(
                "| {:>13} | {:<14} | {:>13} | {:>10} | {:>4.2}× | {:<8} | {:>11} | {:>13} | {:>4} MiB |",
                r.holders,
                via,
                ms(f.govstate),
                ms(f.curl),
                f.ratio(),
                target,
                f.round_trips,
                f.largest_batch,
                f.peak_rss_kib / 1024,
            );
        }
    }
}
