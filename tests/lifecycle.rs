//! The transaction lifecycle under real conditions, each case found by
//! trying to break apply: a send refused mid-phase, a node that cannot
//! simulate, a provider capping batches, Ctrl-C while transactions are in
//! flight, transactions queued behind a gap by an apply that died, and fee
//! flags. Through the fault proxy in front of a real anvil, or anvil's own
//! controls.

mod common;
mod fault_proxy;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use common::TestChain;
use fault_proxy::{FaultProxy, Faults};

const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    file: String,
}

async fn setup() -> Setup {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.display().to_string();
    Setup { chain, dir, file }
}

impl Setup {
    fn owner(&self) -> Address {
        self.chain.devnet.owner()
    }

    fn receipts(&self) -> String {
        self.dir.path().join("receipts").display().to_string()
    }

    /// `apply FILE --yes` as the owner through `url`, with `extra` flags.
    fn apply(&self, url: &str, extra: &[&str]) -> (Option<i32>, String, String) {
        let receipts = self.receipts();
        let args = ["apply", &self.file, "--yes", "--no-cache", "--private-key", OWNER_KEY, "--rpc-url", url];
        self.chain.govstate(&[&args[..], &["--receipts-dir", &receipts], extra].concat())
    }

    fn url(&self) -> String {
        self.chain.devnet.url().to_string()
    }
}

/// Two configure calls in one phase (fee, then burn).
const TWO_IN_ONE_PHASE: [&str; 4] = ["--set", "stake_manager.fees_pct.fee=5", "--set", "stake_manager.fees_pct.burn=2"];

#[tokio::test(flavor = "multi_thread")]
async fn a_send_refused_mid_phase_still_waits_for_and_records_what_was_sent_and_says_so() {
    let s = setup().await;
    let faults = Faults { refuse_sends: vec![1], ..Faults::none(1) };
    let proxy = FaultProxy::start(s.chain.devnet.url().clone(), faults).await;
    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(proxy.url.as_str(), &TWO_IN_ONE_PHASE);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(proxy.seen(|p| p.sends_refused), 1);
    assert!(stderr.contains("sending setBurnPct(uint256) failed"), "{stderr}");
    assert!(stderr.contains("1 transaction of the phase were sent before it"), "{stderr}");
    assert!(stderr.contains("The receipt of what was sent is in"), "{stderr}");
    assert!(
        stderr.contains("setFeePct(fees_pct.fee: 5%)") && stderr.contains("success in block"),
        "on chain: {stderr}"
    );
    assert_eq!(s.chain.nonce(s.owner()).await, before + 1, "the first was sent and mined, nothing else");
    let receipts = common::receipts(std::path::Path::new(&s.receipts()));
    let sent = &receipts[0]["transactions"][0];
    assert_eq!(sent["status"], "success", "{sent}");
    assert!(sent["block"].as_u64().is_some(), "the block is recorded: {sent}");
    assert!(receipts[0]["outcome"].as_str().is_some_and(|o| o.contains("failed")), "{}", receipts[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_cannot_simulate_is_named_and_independent_calls_are_estimated_one_by_one() {
    for code in [-32601, -32600] {
        let s = setup().await;
        let faults = Faults { method_error: Some(("eth_simulateV1", code)), ..Faults::none(2) };
        let proxy = FaultProxy::start(s.chain.devnet.url().clone(), faults).await;
        let (exit, stdout, stderr) =
            s.apply(proxy.url.as_str(), &["--set", "arena.paused=true", "--set", "arena.target_success_rate_bps=6500"]);
        assert_eq!(exit, Some(0), "{code}: {stdout}{stderr}");
        assert!(proxy.seen(|p| p.method_errors) >= 1);
        assert!(stderr.contains("warning: the node cannot simulate the calls in sequence"), "{stderr}");
        let receipts = common::receipts(std::path::Path::new(&s.receipts()));
        assert!(receipts[0]["warnings"][0].as_str().is_some_and(|w| w.contains("estimated call by call")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_simulation_dependent_calls_are_refused_unless_sent_unsimulated_on_purpose() {
    let s = setup().await;
    // fee 60 / burn 40 on chain; the file swaps them: setBurnPct(60) only
    // passes after setFeePct(40), so estimating it alone reverts.
    let stake = s.chain.address("stake_manager");
    for data in [govstate::contracts::stake_manager::StakeManager::setFeePctCall { pct: U256::from(60) }]
        .map(|c| alloy::sol_types::SolCall::abi_encode(&c))
    {
        s.chain.send(0, stake, data).await;
    }
    let burn =
        alloy::sol_types::SolCall::abi_encode(&govstate::contracts::stake_manager::StakeManager::setBurnPctCall {
            pct: U256::from(40),
        });
    s.chain.send(0, stake, burn).await;
    let faults = Faults { method_error: Some(("eth_simulateV1", -32601)), ..Faults::none(3) };
    let proxy = FaultProxy::start(s.chain.devnet.url().clone(), faults).await;
    let swap = ["--set", "stake_manager.fees_pct.fee=40", "--set", "stake_manager.fees_pct.burn=60"];
    let before = s.chain.nonce(s.owner()).await;
    let (code, stdout, stderr) = s.apply(proxy.url.as_str(), &swap);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("InvalidPercentage()") && stderr.contains("--simulate-first false"), "{stderr}");
    assert_eq!(s.chain.nonce(s.owner()).await, before, "nothing was sent");
    let (code, stdout, stderr) = s.apply(proxy.url.as_str(), &[&swap[..], &["--simulate-first", "false"]].concat());
    assert_eq!(code, Some(0), "sent unsimulated on purpose, in the safe order: {stdout}{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn log_scans_keep_to_max_batch_on_a_node_that_caps_batches() {
    let s = setup().await;
    s.chain.grant_orchestrators(3).await;
    // A cap above the fixed first round trip (about 20 requests), far below
    // the log scan: one block per chunk is some 40 eth_getLogs requests a
    // role set.
    let faults = Faults { max_batch: Some(25), ..Faults::none(4) };
    let proxy = FaultProxy::start(s.chain.devnet.url().clone(), faults).await;
    let url = proxy.url.to_string();
    let args = ["plan", &s.file, "--no-cache", "--rpc-url", &url, "--max-batch", "25", "--log-chunk-blocks", "1"];
    let (code, stdout, stderr) = s.chain.govstate(&args);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("- orchestrators: "), "the holders were found: {stdout}");
    assert_eq!(proxy.seen(|p| p.batches_refused), 0, "no batch over the cap was sent");
    assert!(proxy.seen(|p| p.longest_batch) <= 25);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_apply_stops_sending_finishes_the_receipt_and_says_how_to_resume() {
    let s = setup().await;
    s.chain.automine(false).await;
    let receipts = s.receipts();
    let url = s.url();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["apply", &s.file, "--yes", "--no-cache", "--private-key", OWNER_KEY, "--rpc-url", &url])
        .args([
            "--receipts-dir",
            &receipts,
            "--set",
            "arena.paused=true",
            "--set",
            "arena.target_success_rate_bps=6500",
        ])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("govstate starts");
    // The first phase (pause) is in the pool, unmined: interrupt now.
    assert!(common::eventually(60, || async { s.chain.pending_count().await >= 1 }).await, "the pause was sent");
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    s.chain.mine().await;
    let output = child.wait_with_output().expect("govstate exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Stopping: nothing more will be sent"), "{stderr}");
    assert!(stderr.contains("Run the same apply again to resume"), "{stderr}");
    s.chain.automine(true).await;
    let receipt = &common::receipts(std::path::Path::new(&receipts))[0];
    assert!(receipt["finished_at"].as_str().is_some(), "the receipt is finished: {receipt}");
    assert!(receipt["outcome"].as_str().is_some_and(|o| o.contains("stopped on request")), "{receipt}");
    let sent = receipt["transactions"].as_array().cloned().unwrap_or_default();
    assert_eq!(sent.len(), 1, "only the first phase was sent: {sent:?}");
    assert_eq!(sent[0]["status"], "success", "what was sent is recorded as mined: {sent:?}");
    // Resuming sends only what is left.
    let (code, stdout, stderr) =
        s.apply(&url, &["--set", "arena.paused=true", "--set", "arena.target_success_rate_bps=6500"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Applied 1 call;"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn transactions_queued_behind_a_gap_by_a_dead_apply_are_refused_with_nothing_sent() {
    let s = setup().await;
    s.chain.automine(false).await;
    // What an apply that died leaves when the first send of its phase never
    // reached the node: the next one, signed and queued behind the gap.
    let next = s.chain.nonce(s.owner()).await;
    let burn =
        alloy::sol_types::SolCall::abi_encode(&govstate::contracts::stake_manager::StakeManager::setBurnPctCall {
            pct: U256::from(2),
        });
    let leftover = alloy::rpc::types::TransactionRequest::default()
        .from(s.owner())
        .to(s.chain.address("stake_manager"))
        .input(alloy::primitives::Bytes::from(burn).into())
        .nonce(next + 1)
        .gas_limit(100_000);
    let _: alloy::primitives::B256 =
        s.chain.reader().raw_request("eth_sendTransaction".into(), (leftover,)).await.expect("queued");
    // A retry with another file: refused, nothing sent.
    let (code, stdout, stderr) = s.apply(&s.url(), &["--set", "stake_manager.fees_pct.burn=1"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("queued behind a gap") && stderr.contains(&format!("nonce {next} is next")), "{stderr}");
    assert!(stderr.contains(&format!("nonces {}", next + 1)), "{stderr}");
    s.chain.mine().await;
    assert_eq!(s.chain.nonce(s.owner()).await, next, "nothing was sent, so the queued one cannot run");
    let burn = s
        .chain
        .read(
            s.chain.address("stake_manager"),
            alloy::sol_types::SolCall::abi_encode(&govstate::contracts::stake_manager::StakeManager::burnPctCall {}),
        )
        .await;
    assert_eq!(U256::from_be_slice(&burn), U256::ZERO, "the chain is in neither file's state: untouched");
    s.chain.automine(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fee_flags_set_the_transactions_fees() {
    let s = setup().await;
    let url = s.url();
    let (code, stdout, stderr) =
        s.apply(&url, &["--set", "arena.paused=true", "--gas-price", "50 gwei", "--priority-gas-price", "3 gwei"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let receipt = &common::receipts(std::path::Path::new(&s.receipts()))[0];
    let hash: alloy::primitives::B256 =
        serde_json::from_value(receipt["transactions"][0]["hash"].clone()).expect("hash");
    let tx = s.chain.reader().get_transaction_by_hash(hash).await.expect("rpc").expect("found");
    use alloy::consensus::Transaction as _;
    assert_eq!(tx.inner.max_fee_per_gas(), 50_000_000_000);
    assert_eq!(tx.inner.max_priority_fee_per_gas(), Some(3_000_000_000));
    let (code, _, stderr) = s.apply(&url, &["--set", "arena.paused=false", "--gas-price", "fifty"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("is not a price"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_base_fee_spike_a_stuck_transaction_is_replaced_at_a_higher_fee_and_made_once() {
    let s = setup().await;
    let before = s.chain.nonce(s.owner()).await;
    s.chain.automine(false).await;
    let receipts = s.receipts();
    let url = s.url();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["apply", &s.file, "--yes", "--no-cache", "--private-key", OWNER_KEY, "--rpc-url", &url])
        .args(["--receipts-dir", &receipts, "--set", "arena.paused=true"])
        .args(["--gas-price", "2 gwei", "--priority-gas-price", "1 gwei", "--bump-after", "1s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("govstate starts");
    assert!(common::eventually(60, || async { s.chain.pending_count().await >= 1 }).await, "sent");
    // The base fee spikes far above the 2 gwei offered: the block leaves the
    // transaction out (anvil also drops it from its pool).
    let spike = U256::from(100_000_000_000u64);
    let _: serde_json::Value =
        s.chain.reader().raw_request("anvil_setNextBlockBaseFeePerGas".into(), (spike,)).await.expect("spike");
    s.chain.mine().await;
    assert_eq!(s.chain.nonce(s.owner()).await, before, "stuck");
    // govstate sends it again at a fee the chain takes, same nonce; mine
    // once a replacement above the spike is waiting.
    let above = common::eventually(60, || async {
        let pool: serde_json::Value =
            s.chain.reader().raw_request("txpool_content".into(), ()).await.unwrap_or_default();
        let fees = pool["pending"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
            .flat_map(|t| t.as_object().into_iter().flat_map(|t| t.values()));
        let fee = |t: &serde_json::Value| {
            t["maxFeePerGas"].as_str().and_then(|f| u128::from_str_radix(f.trim_start_matches("0x"), 16).ok())
        };
        fees.filter_map(fee).any(|f| f >= 100_000_000_000)
    })
    .await;
    assert!(above, "a replacement paying the spiked base fee is in the pool");
    s.chain.mine().await;
    let output = child.wait_with_output().expect("govstate exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("replaced pause()") && stderr.contains("same nonce"), "{stderr}");
    assert_eq!(s.chain.nonce(s.owner()).await, before + 1, "the call was made once");
    let receipt = &common::receipts(std::path::Path::new(&receipts))[0];
    let sent = &receipt["transactions"][0];
    assert_eq!(sent["status"], "success", "{sent}");
    assert!(sent["replaced"].as_array().is_some_and(|r| !r.is_empty()), "earlier versions are kept: {sent}");
    s.chain.automine(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_waiting_for_receipts_exits_130_and_the_receipt_keeps_the_sent_transaction() {
    let s = setup().await;
    s.chain.automine(false).await;
    let receipts = s.receipts();
    let url = s.url();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["apply", &s.file, "--yes", "--no-cache", "--private-key", OWNER_KEY, "--rpc-url", &url])
        .args(["--receipts-dir", &receipts, "--set", "arena.paused=true"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("govstate starts");
    // The only transaction is in the pool and is never mined: interrupt the wait.
    assert!(common::eventually(60, || async { s.chain.pending_count().await >= 1 }).await, "the pause was sent");
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().expect("govstate exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Run the same apply again to resume"), "{stderr}");
    s.chain.automine(true).await;
    let receipt = &common::receipts(std::path::Path::new(&receipts))[0];
    let sent = receipt["transactions"].as_array().cloned().unwrap_or_default();
    assert_eq!(sent.len(), 1, "the sent transaction is recorded: {sent:?}");
}
