//! govstate through a faulty endpoint: a seeded fault-injecting proxy in
//! front of a real anvil drops connections, answers 429/5xx, times out,
//! truncates bodies, loses batch answers and send answers. Reads come out
//! the same, applies converge without sending anything twice, and a dead
//! endpoint ends in a clear error within the configured budget.

mod common;
mod fault_proxy;

use std::time::{Duration, Instant};

use common::TestChain;
use fault_proxy::{COMMON, Fault, FaultProxy, Faults};
use govstate::rpc::Patience;

/// anvil's first development key (public, from the test mnemonic).
const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const OWNER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// Pause, rotate orchestrators, rebalance fees: calls in several phases.
const CHANGE: [&str; 4] = [
    "--set=arena.paused=true",
    "--set=arena.orchestrators=[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\", \"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\"]",
    "--set=stake_manager.fees_pct={fee: 5, burn: 2, validator_reward: 10}",
    "--set=arena.target_success_rate_bps=6500",
];

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    file: String,
}

async fn setup() -> Setup {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    chain.grant_orchestrators(2).await;
    Setup { chain, dir, file }
}

impl Setup {
    /// `plan --format json` of [`CHANGE`], read through `url` with many
    /// small batches (many round trips for the faults to land on).
    fn plan_json(&self, url: &str) -> (Option<i32>, String, String) {
        let mut args = vec!["plan", &self.file, "--format", "json", "--no-cache", "--no-multicall"];
        args.extend_from_slice(&["--max-batch", "4", "--rpc-url", url, "--timeout", "1s", "--retries", "8"]);
        args.extend_from_slice(&CHANGE);
        self.chain.govstate(&args)
    }

    /// `plan` as text, straight from anvil.
    fn direct_plan(&self) -> String {
        let (code, stdout, stderr) = self.chain.govstate(&["plan", &self.file, "--no-cache"]);
        assert_eq!(code, Some(0), "{stderr}");
        stdout
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_through_twenty_percent_faults_is_the_plan_made_without_faults() {
    let setup = setup().await;
    let (code, clean, stderr) = setup.plan_json(setup.chain.devnet.url().as_str());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(clean.contains("\"calls\""), "{clean}");
    let mut kinds = COMMON.to_vec();
    kinds.extend([Fault::Slow, Fault::TooManyRequests]);
    let mut met = std::collections::BTreeSet::new();
    for seed in 1..=4 {
        let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), Faults::mixed(seed, 0.2, &kinds)).await;
        let (code, faulty, stderr) = setup.plan_json(proxy.url.as_str());
        assert_eq!(code, Some(0), "seed {seed}: {stderr}");
        assert_eq!(faulty, clean, "seed {seed}: the same plan, digest included");
        met.extend(proxy.seen(|s| s.faults.keys().copied().collect::<Vec<_>>()));
    }
    assert!(met.len() >= 5, "the runs met several kinds of fault: {met:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_through_faults_converges_and_advances_the_nonce_by_exactly_the_calls() {
    let setup = setup().await;
    let plan_file = setup.path("plan.json");
    let mut args = vec!["plan", &setup.file, "--no-cache", "--out", &plan_file];
    args.extend_from_slice(&CHANGE);
    let (code, _, stderr) = setup.chain.govstate(&args);
    assert_eq!(code, Some(0), "{stderr}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan_file).expect("saved")).expect("json");
    let calls = saved["calls"].as_array().map_or(0, |c| c.len()) as u64;
    assert!(calls >= 5, "a plan of several calls: {calls}");
    let owner = OWNER.parse().expect("address");
    let before = setup.chain.nonce(owner).await;

    let faults = Faults { lose_sends: 0.5, ..Faults::mixed(11, 0.2, COMMON) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
    let url = proxy.url.to_string();
    let receipts = setup.path("receipts");
    let args = ["apply", &plan_file, "--no-cache", "--private-key", OWNER_KEY, "--rpc-url", &url];
    let (code, stdout, stderr) = setup
        .chain
        .govstate(&[&args[..], &["--receipts-dir", &receipts, "--timeout", "2s", "--retries", "8"]].concat());
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("the chain now matches"), "{stdout}");

    assert_eq!(setup.chain.nonce(owner).await - before, calls, "one transaction per call, none twice");
    let lost = proxy.seen(|s| s.lost_sends);
    assert!(lost >= 1, "some send answers were lost and reconciled");
    assert!(proxy.seen(|s| s.sends_forwarded) >= calls, "every call reached anvil");
    let (code, again, _) = setup.chain.govstate(&[&["plan", &setup.file, "--no-cache"][..], &CHANGE].concat());
    assert_eq!(code, Some(0));
    assert!(again.contains("No changes"), "{again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanently_dead_endpoint_ends_in_exit_1_within_the_budget_naming_it() {
    let setup = setup().await;
    let dead = Faults { always: Some(Fault::Unavailable), ..Faults::none(3) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), dead).await;
    let url = proxy.url.to_string();
    let patience = Patience { timeout: Duration::from_secs(1), retries: 2, ..Patience::default() };
    let start = Instant::now();
    let (code, _, stderr) = setup.chain.govstate(&[
        "plan",
        &setup.file,
        "--no-cache",
        "--rpc-url",
        &url,
        "--timeout",
        "1s",
        "--retries",
        "2",
    ]);
    let took = start.elapsed();
    assert_eq!(code, Some(1), "{stderr}");
    let endpoint = url.trim_end_matches('/');
    assert!(stderr.contains(&format!("{endpoint} failed 3 times; last failure: HTTP error 503")), "{stderr}");
    assert!(took < patience.budget(), "gave up after {took:?}, budget {:?}", patience.budget());
    assert_eq!(proxy.seen(|s| s.arrivals.len()), 3, "one request and two retries");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_read_waits_for_retry_after_then_succeeds() {
    let setup = setup().await;
    let faults = Faults { first: Some(Fault::TooManyRequests), ..Faults::none(5) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
    let url = proxy.url.to_string();
    let (code, stdout, stderr) = setup.chain.govstate(&["plan", &setup.file, "--no-cache", "--rpc-url", &url]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, setup.direct_plan(), "the plan made without the proxy");
    let gap = proxy.seen(|s| s.arrivals[1] - s.arrivals[0]);
    assert!(gap >= Duration::from_millis(950), "Retry-After: 1 was honoured, waited {gap:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_reporting_another_chain_is_refused_before_anything_else() {
    let setup = setup().await;
    let faults = Faults { chain_id: Some(1), ..Faults::none(6) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
    let url = proxy.url.to_string();
    let (code, _, stderr) = setup.chain.govstate(&["plan", &setup.file, "--no-cache", "--rpc-url", &url]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("the RPC endpoint serves chain 1, but the file is for chain 31337"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reorg_under_the_reads_is_retried_once_then_reported() {
    let setup = setup().await;
    let once = Faults { forged_hashes: 1, ..Faults::none(8) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), once).await;
    let url = proxy.url.to_string();
    let (code, stdout, stderr) = setup.chain.govstate(&["plan", &setup.file, "--no-cache", "--rpc-url", &url]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, setup.direct_plan(), "the plan made without the proxy");
    assert_eq!(proxy.seen(|s| s.forged), 1, "one read saw another hash, and the observation was made again");

    let always = Faults { forged_hashes: u64::MAX, ..Faults::none(9) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), always).await;
    let url = proxy.url.to_string();
    let (code, _, stderr) = setup.chain.govstate(&["plan", &setup.file, "--no-cache", "--rpc-url", &url]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("the chain reorganised while reading block"), "{stderr}");
    assert_eq!(proxy.seen(|s| s.forged), 2, "observed twice, then reported");
}
