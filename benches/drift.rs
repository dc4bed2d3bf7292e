//! `drift` over 20 deployments (one file each, all on one anvil) against the
//! way a scheduler checks them without it: 20 `plan --detailed-exitcode`
//! runs in sequence. Both as processes, measured in the same run, with a
//! cold role-holder cache (`--no-cache`) and with a warm one.
//!
//! Run with `npm ci && cargo bench --bench drift` (the count can be changed
//! with `GOVSTATE_BENCH_DEPLOYMENTS=50`). Prints a table and the ratio.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use govstate::contracts::{Deployed, Deployment, KINDS};
use govstate::observe::{ObserveOptions, Scope, desired_state_yaml, observe};

use common::TestChain;

/// Runs of each measurement; the median is shown.
const RUNS: usize = 7;

/// Deploys one more set of the managed contracts, owned by account 0.
async fn deploy_set(chain: &TestChain) -> Deployment {
    let (owner, provider) = chain.account(0);
    let mut contracts = Vec::new();
    for kind in KINDS.iter().copied() {
        let code = kind.creation_code.expect("the default kinds deploy with their owner alone");
        let tx = TransactionRequest::default().with_deploy_code(code(owner));
        let receipt = provider.send_transaction(tx).await.expect("sent").get_receipt().await.expect("receipt");
        let address = receipt.contract_address.expect("deployed");
        contracts.push(Deployed { kind, address, deployed_block: receipt.block_number });
    }
    Deployment { chain_id: chain.devnet.deployment().chain_id, contracts }
}

async fn write_files(chain: &TestChain, count: usize, dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::with_capacity(count);
    for i in 0..count {
        let deployment = if i == 0 { chain.devnet.deployment().clone() } else { deploy_set(chain).await };
        let everything = Scope::everything(&deployment);
        let observed = observe(&chain.reader(), &everything, &ObserveOptions::without_cache()).await.expect("observe");
        let file = dir.join(format!("deployment-{i:02}.yaml"));
        std::fs::write(&file, desired_state_yaml(&observed, &deployment, "")).expect("write");
        files.push(file);
    }
    files
}

fn govstate(args: &[&str], url: &str, cache: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(args)
        .env("ETH_RPC_URL", url)
        .env("GOVSTATE_CACHE_DIR", cache)
        .output()
        .expect("govstate runs");
    assert_eq!(output.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(mut run: impl FnMut()) -> Duration {
    median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                run();
                start.elapsed()
            })
            .collect(),
    )
}

struct Row {
    cache: &'static str,
    drift: Duration,
    drift_one_job: Duration,
    plans: Duration,
}

fn measure(files: &[PathBuf], dir: &Path, url: &str, warm: bool) -> Row {
    let cache = dir.join(if warm { "cache-warm" } else { "cache-cold" });
    let mut flags: Vec<&str> = if warm { vec![] } else { vec!["--no-cache"] };
    flags.extend(["--format", "json"]);
    let folder = dir.to_str().expect("UTF-8");
    let drift_args = |jobs: &'static str| [vec!["drift", folder, "--jobs", jobs], flags.clone()].concat();
    if warm {
        govstate(&drift_args("8"), url, &cache);
    }
    let drift = time(|| govstate(&drift_args("8"), url, &cache));
    let drift_one_job = time(|| govstate(&drift_args("1"), url, &cache));
    let plan_flags: Vec<&str> =
        if warm { vec!["--detailed-exitcode"] } else { vec!["--detailed-exitcode", "--no-cache"] };
    let plans = time(|| {
        for file in files {
            let file = file.to_str().expect("UTF-8");
            govstate(&[vec!["plan", file], plan_flags.clone()].concat(), url, &cache);
        }
    });
    Row { cache: if warm { "warm" } else { "cold (--no-cache)" }, drift, drift_one_job, plans }
}

fn main() {
    let count: usize =
        std::env::var("GOVSTATE_BENCH_DEPLOYMENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(20).max(1);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let chain = runtime.block_on(TestChain::start());
    let dir = tempfile::tempdir().expect("tempdir");
    let files = runtime.block_on(write_files(&chain, count, dir.path()));
    let url = chain.devnet.url().to_string();
    let rows = [measure(&files, dir.path(), &url, false), measure(&files, dir.path(), &url, true)];
    println!("drift over {count} deployment files on one anvil vs {count} sequential `plan --detailed-exitcode` runs");
    println!("(whole processes, median of {RUNS} runs each, same run)");
    println!("| role-holder cache | drift --jobs 8 | drift --jobs 1 | {count} × plan, sequential | plan ÷ drift |");
    println!("|-------------------|---------------:|---------------:|--------------------------:|-------------:|");
    for r in &rows {
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        println!(
            "| {:<17} | {:>14} | {:>14} | {:>25} | {:>11.1}x |",
            r.cache,
            ms(r.drift),
            ms(r.drift_one_job),
            ms(r.plans),
            r.plans.as_secs_f64() / r.drift.as_secs_f64()
        );
    }
}
