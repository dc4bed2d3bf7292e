//! govstate through a faulty endpoint: a seeded fault-injecting proxy in
//! front of a real anvil drops connections, answers 429/5xx, times out,
//! truncates bodies, loses batch answers and send answers. Reads come out
//! the same, applies converge without sending anything twice, and a dead
//! endpoint ends in a clear error within the configured budget.

mod common;
mod fault_proxy;

use std::time::{Duration, Instant};

use alloy::providers::Provider;
use common::TestChain;
use fault_proxy::{COMMON, CapStyle, EntryError, Fault, FaultProxy, Faults, HttpAnswer, LogCap};
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

/// A load-balanced provider's answer for a block one backend has not seen.
const HEADER_NOT_FOUND: EntryError =
    EntryError { method: "eth_call", code: -32000, message: "header not found", times: 3, pinned: true };

#[tokio::test(flavor = "multi_thread")]
async fn header_not_found_inside_a_batch_is_retried_for_those_entries_only() {
    let setup = setup().await;
    let (code, clean, stderr) = setup.plan_json(setup.chain.devnet.url().as_str());
    assert_eq!(code, Some(0), "{stderr}");
    let faults = Faults { entry_error: Some(HEADER_NOT_FOUND), ..Faults::none(21) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
    let (code, faulty, stderr) = setup.plan_json(proxy.url.as_str());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(faulty, clean, "the same plan, digest included");
    assert_eq!(proxy.seen(|s| s.entry_errors), 3, "three eth_call entries met the error");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_that_never_stops_failing_is_reported_naming_its_request() {
    let setup = setup().await;
    let always = EntryError { times: u64::MAX, ..HEADER_NOT_FOUND };
    let proxy =
        FaultProxy::start(setup.chain.devnet.url().clone(), Faults { entry_error: Some(always), ..Faults::none(22) })
            .await;
    let url = proxy.url.to_string();
    let args = ["plan", &setup.file, "--no-cache", "--rpc-url", &url, "--timeout", "1s", "--retries", "2"];
    let (code, _, stderr) = setup.chain.govstate(&args);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("failed 3 times"), "{stderr}");
    assert!(stderr.contains("eth_call") && stderr.contains("header not found"), "names the request: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn http_429_with_a_json_rpc_error_body_is_retried() {
    let setup = setup().await;
    let limited = HttpAnswer {
        status: 429,
        code: 429,
        message: "Your app has exceeded its compute units per second capacity. If you have retries enabled, you can safely ignore this message.",
        times: 2,
    };
    let proxy =
        FaultProxy::start(setup.chain.devnet.url().clone(), Faults { http_answer: Some(limited), ..Faults::none(23) })
            .await;
    let url = proxy.url.to_string();
    let (code, stdout, stderr) = setup.chain.govstate(&["plan", &setup.file, "--no-cache", "--rpc-url", &url]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, setup.direct_plan(), "the plan made without the proxy");
    assert_eq!(proxy.seen(|s| s.http_answers), 2, "two rate-limited answers, then the real ones");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_quota_is_named_with_the_host_and_without_the_key() {
    let setup = setup().await;
    let quota = HttpAnswer {
        status: 402,
        code: -32001,
        message: "Monthly capacity limit exceeded. Upgrade your scaling policy for continued service.",
        times: u64::MAX,
    };
    let proxy =
        FaultProxy::start(setup.chain.devnet.url().clone(), Faults { http_answer: Some(quota), ..Faults::none(24) })
            .await;
    let url = format!("{}v2/SECRETKEY0123456789", proxy.url);
    let (code, _, stderr) = setup.chain.govstate(&["plan", &setup.file, "--no-cache", "--rpc-url", &url]);
    assert_eq!(code, Some(1), "{stderr}");
    let host = proxy.url.host_str().unwrap_or_default().to_string();
    assert!(stderr.contains("quota") && stderr.contains(&host), "{stderr}");
    assert!(!stderr.contains("SECRETKEY"), "the key is not shown: {stderr}");
    assert!(!stderr.contains("missing response"), "{stderr}");
    assert_eq!(proxy.seen(|s| s.http_answers), 1, "a spent quota is not asked again");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_round_trip_keeps_to_a_max_batch_below_the_first_ones_size() {
    let setup = setup().await;
    let faults = Faults { max_batch: Some(4), ..Faults::none(25) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
    let url = proxy.url.to_string();
    let args = ["plan", &setup.file, "--no-cache", "--rpc-url", &url, "--max-batch", "4"];
    let (code, stdout, stderr) = setup.chain.govstate(&args);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, setup.direct_plan(), "the plan made without the proxy");
    let log_batches: Vec<usize> = proxy.seen(|s| s.bodies.iter().filter_map(|body| log_batch(body)).collect());
    assert!(log_batches.iter().all(|n| *n <= 3), "every eth_getLogs batch within --max-batch: {log_batches:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn log_batches_survive_a_single_object_batch_cap_answer() {
    let setup = setup().await;
    let faults = Faults { max_batch: Some(3), ..Faults::none(26) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
    let url = proxy.url.to_string();
    let args = ["plan", &setup.file, "--no-cache", "--rpc-url", &url, "--log-chunk-blocks", "1"];
    let (code, stdout, stderr) = setup.chain.govstate(&args);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, setup.direct_plan(), "the plan made without the proxy");
    assert!(proxy.seen(|s| s.batches_refused) >= 1, "the cap was met");
}

/// `plan` through `url` with a role-holder cache in `cache` (none: `--no-cache`).
fn plan_via(setup: &Setup, url: &str, cache: Option<&str>) -> (Option<i32>, String, String) {
    let mut args = vec!["plan", &setup.file, "--rpc-url", url];
    match cache {
        Some(dir) => args.extend(["--cache-dir", dir]),
        None => args.push("--no-cache"),
    }
    setup.chain.govstate(&args)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_providers_log_cap_gives_the_same_plan_in_about_range_over_cap_requests() {
    let setup = setup().await;
    let blocks: u64 = 300;
    let _: serde_json::Value =
        setup.chain.reader().raw_request("anvil_mine".into(), (blocks,)).await.expect("anvil_mine");
    let direct = setup.direct_plan();
    let uncapped = LogCap { blocks: u64::MAX, style: CapStyle::Publicnode };
    let open =
        FaultProxy::start(setup.chain.devnet.url().clone(), Faults { log_cap: Some(uncapped), ..Faults::none(27) })
            .await;
    let (code, stdout, stderr) = plan_via(&setup, open.url.as_str(), None);
    assert_eq!((code, stdout.as_str()), (Some(0), direct.as_str()), "{stderr}");
    let queries = open.seen(|s| s.log_requests);
    assert!(queries >= 1, "role sets are listed from logs");
    let cap = 25;
    let ideal = (blocks + 20).div_ceil(cap);
    for style in [
        CapStyle::Infura,
        CapStyle::InfuraRange,
        CapStyle::Alchemy,
        CapStyle::Reth,
        CapStyle::RethResults,
        CapStyle::Publicnode,
        CapStyle::NoHint,
    ] {
        let faults = Faults { log_cap: Some(LogCap { blocks: cap, style }), ..Faults::none(28) };
        let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
        let (code, stdout, stderr) = plan_via(&setup, proxy.url.as_str(), None);
        assert_eq!(code, Some(0), "{style:?}: {stderr}");
        assert_eq!(stdout, direct, "{style:?}: the plan made without a cap");
        let (asked, refused) = proxy.seen(|s| (s.log_requests, s.logs_refused));
        assert!(refused >= 1, "{style:?}: the cap was met");
        if style != CapStyle::NoHint {
            let bound = queries * (1 + (ideal * 12).div_ceil(10));
            assert!(asked <= bound, "{style:?}: {asked} eth_getLogs for {queries} queries, at most {bound}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_learned_log_range_is_remembered_for_the_endpoint() {
    let setup = setup().await;
    let _: serde_json::Value =
        setup.chain.reader().raw_request("anvil_mine".into(), (100u64,)).await.expect("anvil_mine");
    let cache = setup.path("cache");
    let faults = Faults { log_cap: Some(LogCap { blocks: 10, style: CapStyle::Publicnode }), ..Faults::none(29) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
    let (code, first, stderr) = plan_via(&setup, proxy.url.as_str(), Some(&cache));
    assert_eq!(code, Some(0), "{stderr}");
    let refused = proxy.seen(|s| s.logs_refused);
    assert!(refused >= 1, "the cap was met");
    // The role holders are scanned again from the start; the range is not learned again.
    std::fs::remove_dir_all(std::path::Path::new(&cache).join("31337")).expect("holder cache removed");
    let (code, second, stderr) = plan_via(&setup, proxy.url.as_str(), Some(&cache));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(second, first);
    assert_eq!(proxy.seen(|s| s.logs_refused), refused, "no range over the cap was asked again");
}

/// `drift --format json` of `file` through `url`, without the cache (the
/// window is learned anew each run), and the deployment's drift entries.
fn drift_via(
    chain: &TestChain,
    file: &str,
    url: &str,
    extra: &[&str],
) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let mut args = vec!["drift", file, "--format", "json", "--no-cache", "--rpc-url", url];
    args.extend_from_slice(extra);
    let (code, json, stderr) = chain.govstate(&args);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    (code, report["deployments"][0]["drift"].as_array().cloned().unwrap_or_default(), stderr)
}

/// The length of `body` when it is a batch of `eth_getLogs`.
fn log_batch(body: &[u8]) -> Option<usize> {
    let request: serde_json::Value = serde_json::from_slice(body).ok()?;
    let batch = request.as_array()?;
    batch.iter().any(|r| r["method"] == "eth_getLogs").then_some(batch.len())
}

/// The `last_change` of the drift entry for `field`.
fn last_change(drift: &[serde_json::Value], field: &str) -> serde_json::Value {
    drift.iter().find(|d| d["field"] == field).map(|d| d["last_change"].clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_behind_a_log_range_cap_still_names_the_transaction_block_and_sender_of_each_change() {
    use alloy::sol_types::SolCall;
    use govstate::contracts::arena::SelfPlayArena;
    use govstate::contracts::stake_manager::StakeManager;
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(7) }.abi_encode();
    let fee_receipt = chain.send(0, chain.address("stake_manager"), fee).await;
    let rogue = govstate::devnet::dev_signer(3).expect("account 3").address();
    let grant = SelfPlayArena::setOrchestratorCall { orchestrator: rogue, allowed: true }.abi_encode();
    let grant_receipt = chain.send(0, chain.address("arena"), grant).await;
    // The changes lie well below the newest ranges a capped scan asks first.
    let _: serde_json::Value = chain.reader().raw_request("anvil_mine".into(), (1_200u64,)).await.expect("anvil_mine");
    for (blocks, style) in [(1_000, CapStyle::Infura), (10, CapStyle::Publicnode), (10, CapStyle::Reth)] {
        let faults = Faults { log_cap: Some(LogCap { blocks, style }), ..Faults::none(30) };
        let proxy = FaultProxy::start(chain.devnet.url().clone(), faults).await;
        let (code, drift, stderr) = drift_via(&chain, &file, proxy.url.as_str(), &[]);
        assert_eq!(code, Some(2), "{style:?} {blocks}: {stderr}");
        assert!(proxy.seen(|s| s.logs_refused) >= 1, "{style:?} {blocks}: the cap was met");
        let fee_change = last_change(&drift, "fees_pct.fee");
        assert_eq!(
            fee_change["transaction"],
            fee_receipt.transaction_hash.to_string(),
            "{style:?} {blocks}: {drift:?}"
        );
        assert_eq!(fee_change["block"], fee_receipt.block_number.expect("mined"), "{style:?} {blocks}");
        assert_eq!(fee_change["sender"], chain.devnet.owner().to_string(), "{style:?} {blocks}");
        assert_eq!(fee_change["event"], "FeePctUpdated", "{style:?} {blocks}");
        let grant_change = last_change(&drift, "orchestrators");
        assert_eq!(grant_change["transaction"], grant_receipt.transaction_hash.to_string(), "{style:?} {blocks}");
        assert_eq!(grant_change["block"], grant_receipt.block_number.expect("mined"), "{style:?} {blocks}");
        assert!(!stderr.contains("warning"), "{style:?} {blocks}: nothing was left unattributed: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_behind_a_log_range_cap_still_names_who_proposed_a_pending_operation() {
    use alloy::sol_types::SolCall;
    use govstate::contracts::stake_manager::StakeManager;
    let chain = TestChain::start_wired(govstate::devnet::Topology::Production { timelock_delay: 60 }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(9) }.abi_encode();
    let salt = alloy::primitives::B256::repeat_byte(9);
    let scheduled = chain.schedule_through_timelock(chain.address("stake_manager"), fee, salt, 60).await;
    let _: serde_json::Value = chain.reader().raw_request("anvil_mine".into(), (300u64,)).await.expect("anvil_mine");
    let cap = Some(LogCap { blocks: 10, style: CapStyle::Publicnode });
    let proxy =
        FaultProxy::start(chain.devnet.url().clone(), Faults { log_cap: cap, record: true, ..Faults::none(31) }).await;
    let (code, drift, stderr) = drift_via(&chain, &file, proxy.url.as_str(), &["--max-batch", "3"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(proxy.seen(|s| s.logs_refused) >= 1, "the cap was met");
    let log_batches: Vec<usize> = proxy.seen(|s| s.bodies.iter().filter_map(|body| log_batch(body)).collect());
    assert!(log_batches.iter().all(|n| *n <= 3), "every eth_getLogs batch within --max-batch: {log_batches:?}");
    let operation = drift.iter().find(|d| d["kind"] == "pending_operation").map(|d| d["operation"].clone());
    let operation = operation.unwrap_or_default();
    assert_eq!(operation["proposer"], chain.devnet.owner().to_string(), "{operation}");
    assert_eq!(operation["scheduled"]["transaction"], scheduled.transaction_hash.to_string(), "{operation}");
    assert_eq!(operation["scheduled"]["block"], scheduled.block_number.expect("mined"));
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_keeps_every_batch_within_max_batch_and_to_its_retries() {
    let setup = setup().await;
    let faults = Faults { max_batch: Some(3), record: true, ..Faults::none(33) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
    let (code, _, stderr) = drift_via(&setup.chain, &setup.file, proxy.url.as_str(), &["--max-batch", "3"]);
    assert_eq!(code, Some(2), "the granted orchestrators drifted: {stderr}");
    let batches: Vec<usize> = proxy.seen(|s| {
        s.bodies
            .iter()
            .filter_map(|b| serde_json::from_slice::<serde_json::Value>(b).ok()?.as_array().map(Vec::len))
            .collect()
    });
    assert!(batches.iter().all(|n| *n <= 3), "every batch within --max-batch 3: {batches:?}");
    assert_eq!(proxy.seen(|s| s.batches_refused), 0, "no batch met the provider's cap");

    // `--retries` reaches drift's reads too: a dead endpoint is asked once
    // more than the retries allow, not the default number of times.
    let dead = FaultProxy::start(
        setup.chain.devnet.url().clone(),
        Faults { always: Some(Fault::Unavailable), ..Faults::none(34) },
    )
    .await;
    let (code, _, stderr) =
        drift_via(&setup.chain, &setup.file, dead.url.as_str(), &["--retries", "1", "--timeout", "5s"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(dead.seen(|s| s.arrivals.len()), 2, "one request and one retry: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_attribution_leaves_the_drift_reported_unattributed_and_says_so() {
    use alloy::sol_types::SolCall;
    use govstate::contracts::stake_manager::StakeManager;
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(7) }.abi_encode();
    chain.send(0, chain.address("stake_manager"), fee).await;
    // Only the fees are checked: observing them reads no logs, so only
    // the attribution meets the refusal.
    let refused = EntryError {
        method: "eth_getLogs",
        code: -32601,
        message: "the method eth_getLogs does not exist/is not available",
        times: u64::MAX,
        pinned: false,
    };
    let proxy =
        FaultProxy::start(chain.devnet.url().clone(), Faults { entry_error: Some(refused), ..Faults::none(32) }).await;
    let (code, drift, stderr) = drift_via(&chain, &file, proxy.url.as_str(), &["--target", "stake_manager.fees_pct"]);
    assert_eq!(code, Some(2), "the drift is reported: {stderr}");
    assert!(drift.iter().any(|d| d["field"] == "fees_pct.fee"), "{drift:?}");
    assert!(last_change(&drift, "fees_pct.fee").is_null(), "unattributed: {drift:?}");
    assert!(stderr.contains("warning:") && stderr.contains("eth_getLogs"), "it says so: {stderr}");
    let asked = proxy.seen(|s| s.entry_errors);
    assert!((1..=2).contains(&asked), "a refusal that is not about the range is not halved: {asked} eth_getLogs");
}

#[tokio::test(flavor = "multi_thread")]
async fn warm_scans_of_a_few_new_blocks_do_not_grow_a_suggested_log_range() {
    let setup = setup().await;
    let _: serde_json::Value =
        setup.chain.reader().raw_request("anvil_mine".into(), (100u64,)).await.expect("anvil_mine");
    let cache = setup.path("cache");
    let faults = Faults { log_cap: Some(LogCap { blocks: 10, style: CapStyle::Infura }), ..Faults::none(33) };
    let proxy = FaultProxy::start(setup.chain.devnet.url().clone(), faults).await;
    let (code, first, stderr) = plan_via(&setup, proxy.url.as_str(), Some(&cache));
    assert_eq!(code, Some(0), "{stderr}");
    let refused = proxy.seen(|s| s.logs_refused);
    assert!(refused >= 1, "the cap was met");
    // Warm runs scan the one new block each: that says nothing of wider ranges.
    for _ in 0..4 {
        setup.chain.mine().await;
        let (code, _, stderr) = plan_via(&setup, proxy.url.as_str(), Some(&cache));
        assert_eq!(code, Some(0), "{stderr}");
    }
    std::fs::remove_dir_all(std::path::Path::new(&cache).join("31337")).expect("holder cache removed");
    let (code, cold, stderr) = plan_via(&setup, proxy.url.as_str(), Some(&cache));
    assert_eq!(code, Some(0), "{stderr}");
    let calls = |plan: &str| {
        plan.split_once("Calls, in order:").and_then(|(_, c)| Some(c.split_once("Plan digest")?.0.to_string()))
    };
    assert_eq!(calls(&cold), calls(&first), "the same calls");
    assert_eq!(proxy.seen(|s| s.logs_refused), refused, "the cold scan again kept to the range learned");
}

#[tokio::test(flavor = "multi_thread")]
async fn attribution_behind_a_cap_asks_the_ranges_down_to_the_last_change_not_the_whole_history() {
    use alloy::sol_types::SolCall;
    use govstate::contracts::arena::SelfPlayArena;
    use govstate::contracts::stake_manager::StakeManager;
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let (history, since, cap) = (1_000u64, 50u64, 10u64);
    let _: serde_json::Value = chain.reader().raw_request("anvil_mine".into(), (history,)).await.expect("anvil_mine");
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(7) }.abi_encode();
    chain.send(0, chain.address("stake_manager"), fee).await;
    let rogue = govstate::devnet::dev_signer(3).expect("account 3").address();
    let grant = SelfPlayArena::setOrchestratorCall { orchestrator: rogue, allowed: true }.abi_encode();
    chain.send(0, chain.address("arena"), grant).await;
    let _: serde_json::Value = chain.reader().raw_request("anvil_mine".into(), (since,)).await.expect("anvil_mine");
    let cache = dir.path().join("cache").to_string_lossy().into_owned();
    let faults = Faults { log_cap: Some(LogCap { blocks: cap, style: CapStyle::Publicnode }), ..Faults::none(34) };
    let proxy = FaultProxy::start(chain.devnet.url().clone(), faults).await;
    let url = proxy.url.to_string();
    let run = |command: &str| {
        let args = [command, &file, "--cache-dir", &cache, "--rpc-url", &url, "--stats"];
        let before = proxy.seen(|s| (s.log_requests, s.logs_refused));
        let (code, _, stderr) = chain.govstate(&args);
        let after = proxy.seen(|s| (s.log_requests, s.logs_refused));
        let stats = stderr.lines().find(|l| l.starts_with("RPC:")).unwrap_or_default().to_string();
        (code, after.0 - before.0, after.1 - before.1, stats, stderr)
    };
    let (code, cold, _, cold_stats, stderr) = run("drift");
    assert_eq!(code, Some(2), "{stderr}");
    // Warm: the holders and the range are known; the plan reads what drift
    // observes, drift adds the attribution.
    let (code, observing, _, plan_stats, stderr) = run("plan");
    assert_eq!(code, Some(0), "{stderr}");
    let (code, warm, refused, warm_stats, stderr) = run("drift");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("last changed") || !stderr.contains("warning"), "{stderr}");
    eprintln!(
        "cold drift: {cold} eth_getLogs ({cold_stats}); warm plan: {observing} ({plan_stats}); warm drift: {warm} ({warm_stats})"
    );
    assert_eq!(refused, 0, "the learned range is used");
    // Newest first, one range, then two, four…: under twice the ranges
    // down to the change, per contract (2), where a whole-history scan
    // would ask about history / cap per contract.
    let attributing = warm.saturating_sub(observing);
    let bound = 2 * (2 * (since + 2).div_ceil(cap) + 1);
    assert!(attributing <= bound, "{attributing} eth_getLogs to attribute, at most {bound}");
    assert!(attributing >= 2, "the attribution reads logs: {attributing}");
}
