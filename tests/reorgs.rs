//! Reorganisations and failures after sending, on a real anvil: a signed
//! transaction an earlier apply recorded as mined, reorged away, is never
//! left valid behind govstate's back; a verification that fails after the
//! sends still says what was sent and where the receipt is.

mod common;
mod fault_proxy;

use alloy::primitives::{B256, Bytes};
use alloy::providers::Provider;
use common::TestChain;
use fault_proxy::{ALCHEMY_QUOTA, FaultProxy, Faults};
use govstate::devnet::AnvilOptions;

const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Run 1's change: a grant (grant phase) and fee 2 (configure phase), one
/// block each.
const RUN_1: [&str; 4] = [
    "--set=arena.orchestrators=[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"]",
    "--set",
    "stake_manager.fees_pct.fee=2",
    "--no-cache",
];

/// Run 2's file: the grant dropped, fee 5.
const RUN_2: [&str; 3] = ["--set", "stake_manager.fees_pct.fee=5", "--no-cache"];

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    file: String,
}

async fn setup() -> Setup {
    setup_with(&AnvilOptions::default()).await
}

async fn setup_with(options: &AnvilOptions) -> Setup {
    let chain = TestChain::start_with(options).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.display().to_string();
    Setup { chain, dir, file }
}

impl Setup {
    fn receipts(&self) -> std::path::PathBuf {
        self.dir.path().join("receipts")
    }

    fn apply(&self, url: &str, extra: &[&str]) -> (Option<i32>, String, String) {
        let receipts = self.receipts().display().to_string();
        let args = ["apply", &self.file, "--yes", "--private-key", OWNER_KEY, "--rpc-url", url];
        self.chain.govstate(&[&args[..], &["--receipts-dir", &receipts], extra].concat())
    }

    fn url(&self) -> String {
        self.chain.devnet.url().to_string()
    }

    /// The receipt whose source overrides include `needle`.
    fn receipt_with(&self, needle: &str) -> serde_json::Value {
        let all = common::receipts(&self.receipts());
        all.into_iter()
            .find(|r| r["overrides"].as_array().is_some_and(|o| o.iter().any(|v| v.as_str() == Some(needle))))
            .unwrap_or_else(|| panic!("a receipt with {needle}"))
    }

    /// Takes the last `depth` blocks away and mines as many empty ones: a
    /// reorganisation onto a branch without them.
    async fn reorg(&self, depth: u64) {
        let _: serde_json::Value =
            self.chain.reader().raw_request("anvil_rollback".into(), (depth,)).await.expect("anvil_rollback");
        for _ in 0..depth {
            self.chain.mine().await;
        }
    }

    /// Whether the chain matches run 2's file: `plan` finds nothing to do.
    fn matches_run_2(&self) -> (bool, String) {
        let url = self.url();
        let args = ["plan", &self.file, "--rpc-url", &url, "--detailed-exitcode"];
        let (code, stdout, stderr) = self.chain.govstate(&[&args[..], &RUN_2].concat());
        (code == Some(0), format!("{stdout}{stderr}"))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_reorged_away_is_never_left_valid_behind_the_next_apply() {
    let s = setup().await;
    let url = s.url();
    let owner = s.chain.devnet.owner();
    let first = s.chain.nonce(owner).await;
    let (code, stdout, stderr) = s.apply(&url, &RUN_1);
    assert_eq!(code, Some(0), "run 1: {stdout}{stderr}");
    let run_1 = s.receipt_with("stake_manager.fees_pct.fee=2");
    let fee_2 = &run_1["transactions"][1];
    assert_eq!(fee_2["nonce"], first + 1, "{fee_2}");
    let hash: B256 = serde_json::from_value(fee_2["hash"].clone()).expect("a hash");
    let mined_in = fee_2["block"].as_u64().expect("mined");
    // Whoever relayed it keeps the signed transaction.
    let raw: Bytes = s.chain.reader().raw_request("eth_getRawTransactionByHash".into(), (hash,)).await.expect("raw");

    s.reorg(2).await;
    assert_eq!(s.chain.nonce(owner).await, first, "both of run 1's transactions are gone");

    let (code, stdout, stderr) = s.apply(&url, &RUN_2);
    assert_eq!(code, Some(0), "run 2: {stdout}{stderr}");
    let shown = format!("{stdout}{stderr}");
    assert!(shown.contains(&format!("orphaned by a reorg at block {mined_in}")), "the correction is shown: {shown}");

    // Run 1's signed setFeePct(2) is broadcast again: it must not run.
    let rebroadcast = s.chain.reader().send_raw_transaction(&raw).await;
    if let Ok(pending) = rebroadcast {
        let _ = pending.get_receipt().await;
    }
    let (matches, plan) = s.matches_run_2();
    assert!(matches, "the chain ends as run 2's file says, whatever was re-broadcast: {plan}");

    let run_1 = s.receipt_with("stake_manager.fees_pct.fee=2");
    for tx in run_1["transactions"].as_array().expect("transactions") {
        assert_eq!(tx["status"], "orphaned", "run 1's receipt is corrected: {tx}");
        let note = tx["orphaned"].as_str().unwrap_or_default();
        assert!(note.contains("orphaned by a reorg at block"), "{tx}");
    }
    let path = std::fs::read_dir(s.receipts())
        .expect("receipts")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("stake_manager.fees_pct.fee=2")))
        .expect("run 1's receipt");
    let (code, stdout, stderr) = s.chain.govstate(&["show", &path.display().to_string()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&format!("orphaned from block {mined_in}")), "show reads the correction: {stdout}");
    assert!(stdout.contains("was taken by a zero-value self-transfer"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verification_read_failing_after_the_sends_still_shows_what_was_sent_and_the_receipt() {
    let s = setup().await;
    let faults = Faults { calls_fail_after_send: Some((-32000, "header not found")), ..Faults::none(18) };
    let proxy = FaultProxy::start(s.chain.devnet.url().clone(), faults).await;
    let (code, stdout, stderr) = s.apply(proxy.url.as_str(), &[&RUN_1[..], &["--retries", "1"]].concat());
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(proxy.seen(|p| p.sends_forwarded) >= 2, "both were sent");
    assert!(stderr.contains("header not found"), "the read error is named: {stderr}");
    let receipt = common::receipts(&s.receipts()).pop().expect("a receipt");
    let path = std::fs::read_dir(s.receipts())
        .expect("receipts")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a receipt file");
    for tx in receipt["transactions"].as_array().expect("transactions") {
        let hash = tx["hash"].as_str().expect("hash");
        assert_eq!(tx["status"], "success", "{tx}");
        assert!(stderr.contains(hash), "each transaction is listed: {hash} in {stderr}");
    }
    assert!(stderr.contains("success in block"), "{stderr}");
    let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or_default();
    assert!(last.contains(&path.display().to_string()), "the receipt's path is the last line: {stderr}");
}

impl Setup {
    /// Run 1, its signed transactions kept as a relayer would, then a
    /// reorganisation that takes both away; returns the raw transactions
    /// and the blocks they were mined in.
    async fn run_1_then_reorg(&self) -> Vec<(Bytes, u64)> {
        let (code, stdout, stderr) = self.apply(&self.url(), &RUN_1);
        assert_eq!(code, Some(0), "run 1: {stdout}{stderr}");
        let run_1 = self.receipt_with("stake_manager.fees_pct.fee=2");
        let mut kept = Vec::new();
        for tx in run_1["transactions"].as_array().expect("transactions") {
            let hash: B256 = serde_json::from_value(tx["hash"].clone()).expect("a hash");
            let raw: Bytes =
                self.chain.reader().raw_request("eth_getRawTransactionByHash".into(), (hash,)).await.expect("raw");
            kept.push((raw, tx["block"].as_u64().expect("mined")));
        }
        self.reorg(2).await;
        kept
    }

    /// Broadcasts each kept transaction again and mines what is accepted.
    async fn rebroadcast(&self, kept: &[(Bytes, u64)]) {
        for (raw, _) in kept {
            if let Ok(pending) = self.chain.reader().send_raw_transaction(raw).await {
                let _ = pending.get_receipt().await;
            }
        }
    }

    /// Whether `plan` with `extra` finds nothing to do.
    fn in_sync(&self, extra: &[&str]) -> (bool, String) {
        let url = self.url();
        let args = ["plan", &self.file, "--rpc-url", &url, "--detailed-exitcode", "--no-cache"];
        let (code, stdout, stderr) = self.chain.govstate(&[&args[..], extra].concat());
        (code == Some(0), format!("{stdout}{stderr}"))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reorged_transaction_the_file_still_wants_is_sent_again_at_its_nonce_and_nothing_is_cancelled() {
    let s = setup().await;
    let owner = s.chain.devnet.owner();
    let first = s.chain.nonce(owner).await;
    let kept = s.run_1_then_reorg().await;
    let (code, stdout, stderr) = s.apply(&s.url(), &RUN_1);
    assert_eq!(code, Some(0), "run 1 again: {stdout}{stderr}");
    assert!(stderr.contains("this apply sends the same call again at nonce"), "{stderr}");
    assert!(!format!("{stdout}{stderr}").contains("self-transfer"), "nothing to cancel: {stdout}{stderr}");
    assert_eq!(s.chain.nonce(owner).await, first + 2, "the same two nonces, no more");
    s.rebroadcast(&kept).await;
    let (matches, plan) = s.in_sync(&RUN_1[..3]);
    assert!(matches, "{plan}");
    assert_eq!(s.chain.nonce(owner).await, first + 2, "the kept ones could not run");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reorged_transaction_is_cancelled_even_when_the_next_apply_has_nothing_to_send() {
    let s = setup().await;
    let kept = s.run_1_then_reorg().await;
    let (code, stdout, stderr) = s.apply(&s.url(), &["--no-cache"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let shown = format!("{stdout}{stderr}");
    assert!(shown.contains(&format!("orphaned by a reorg at block {}", kept[0].1)), "{shown}");
    assert!(shown.contains("zero-value self-transfer"), "{shown}");
    s.rebroadcast(&kept).await;
    let (matches, plan) = s.in_sync(&[]);
    assert!(matches, "the fresh file still holds, whatever was re-broadcast: {plan}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_verification_hangs_exits_130_at_once_and_shows_what_was_sent() {
    let s = setup().await;
    let hold = std::time::Duration::from_secs(120);
    let faults = Faults { calls_hang_after_send: Some(hold), ..Faults::none(19) };
    let proxy = FaultProxy::start(s.chain.devnet.url().clone(), faults).await;
    let receipts = s.receipts().display().to_string();
    let url = proxy.url.to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["apply", &s.file, "--yes", "--private-key", OWNER_KEY, "--rpc-url", &url, "--receipts-dir", &receipts])
        .args(["--timeout", "300s"])
        .args(RUN_1)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("govstate starts");
    assert!(
        common::eventually(60, || async { proxy.seen(|p| p.calls_held) >= 1 }).await,
        "verification started after the sends"
    );
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let exited = loop {
        match child.try_wait().expect("wait") {
            Some(_) => break true,
            None if std::time::Instant::now() > deadline => break false,
            None => tokio::task::yield_now().await,
        }
    };
    if !exited {
        let _ = child.kill();
    }
    let output = child.wait_with_output().expect("govstate exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(exited, "a stop during verification ends it at once, not after the {hold:?} hold: {stderr}");
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("success in block"), "what was sent is shown: {stderr}");
    assert!(stderr.lines().last().unwrap_or_default().contains("The receipt of what was sent is in"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn receipts_of_another_chain_with_the_same_id_are_no_orphans() {
    // A devnet restarted: the same chain id, the same addresses, the old
    // receipts still beside the file.
    let old = setup().await;
    let (code, stdout, stderr) = old.apply(&old.url(), &RUN_1);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // A restart gets a genesis of its own (anvil's is the wall clock at
    // start, so two nodes started in the same second would share one).
    let genesis = old.chain.reader().get_block_by_number(0.into()).await.expect("genesis read").expect("genesis");
    let options = AnvilOptions { genesis_timestamp: Some(genesis.header.timestamp + 1), ..AnvilOptions::default() };
    let s = setup_with(&options).await;
    std::fs::create_dir_all(s.receipts()).expect("receipts dir");
    for entry in std::fs::read_dir(old.receipts()).expect("old receipts").filter_map(Result::ok) {
        std::fs::copy(entry.path(), s.receipts().join(entry.file_name())).expect("copied");
    }
    let owner = s.chain.devnet.owner();
    let first = s.chain.nonce(owner).await;
    let (code, stdout, stderr) = s.apply(&s.url(), &RUN_2);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(!format!("{stdout}{stderr}").contains("orphaned"), "{stdout}{stderr}");
    assert_eq!(s.chain.nonce(owner).await, first + 1, "only the plan's call was sent");
    let copied = s.receipt_with("stake_manager.fees_pct.fee=2");
    assert_eq!(copied["transactions"][1]["status"], "success", "the other chain's receipt is left alone");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reorg_seen_while_verifying_still_shows_what_was_sent_and_the_receipt_last() {
    let s = setup().await;
    let faults = Faults { forged_hashes: 100, forge_after_send: true, ..Faults::none(20) };
    let proxy = FaultProxy::start(s.chain.devnet.url().clone(), faults).await;
    let (code, stdout, stderr) = s.apply(proxy.url.as_str(), &RUN_1);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(proxy.seen(|p| p.forged) >= 1, "the verification met the reorg");
    assert!(stderr.contains("verifying what was sent failed") && stderr.contains("reorganised"), "{stderr}");
    let receipt = common::receipts(&s.receipts()).pop().expect("a receipt");
    for tx in receipt["transactions"].as_array().expect("transactions") {
        assert!(stderr.contains(tx["hash"].as_str().expect("hash")), "each transaction is listed: {stderr}");
    }
    let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or_default();
    assert!(last.starts_with("The receipt of what was sent is in") && last.ends_with(".json"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quota_spent_right_after_a_send_records_the_receipt_as_unread_and_the_next_apply_finds_it_mined() {
    let s = setup().await;
    let owner = s.chain.devnet.owner();
    let first = s.chain.nonce(owner).await;
    let faults = Faults { quota_after_sends: Some(ALCHEMY_QUOTA), ..Faults::none(31) };
    let proxy = FaultProxy::start(s.chain.devnet.url().clone(), faults).await;
    let keyed = format!("{}v2/SECRETKEY0123456789", proxy.url);
    let (code, stdout, stderr) = s.apply(&keyed, &RUN_1);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(proxy.seen(|p| p.sends_forwarded), 1, "the grant was sent, then the quota ran out");
    let polls = proxy.seen(|p| p.over_quota_methods.clone());
    assert_eq!(
        polls,
        ["eth_getTransactionReceipt"],
        "one receipt poll met the spent quota, and nothing more was asked"
    );
    assert_eq!(s.chain.nonce(owner).await, first + 1, "the node mined the grant");

    // What the operator reads last: what was sent, why its receipt is unread, where the receipt is.
    let host = proxy.url.host_str().unwrap_or_default().to_string();
    let receipt = common::receipts(&s.receipts()).pop().expect("a receipt");
    let grant = &receipt["transactions"][0];
    let hash = grant["hash"].as_str().expect("hash").to_string();
    assert!(!stderr.contains("SECRETKEY") && !stdout.contains("SECRETKEY"), "the key is never shown: {stderr}");
    assert!(!stderr.contains("not mined"), "a mined transaction is not said to be unmined: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(4)..].join("\n");
    assert!(tail.contains(&hash) && tail.contains("sent, receipt not read"), "the grant is listed last: {stderr}");
    assert!(
        tail.contains(&host) && tail.contains("says its request quota is exhausted (HTTP 402"),
        "why its receipt is unread, naming the host: {stderr}"
    );
    let last = lines.last().copied().unwrap_or_default();
    assert!(last.starts_with("The receipt of what was sent is in") && last.ends_with(".json"), "{stderr}");

    // The receipt records it as sent, its receipt unread and why, never as unmined.
    assert_eq!(receipt["transactions"].as_array().map(Vec::len), Some(1), "the configure phase was not sent");
    assert_eq!(grant["status"], "sent", "{grant}");
    assert!(grant["block"].is_null(), "{grant}");
    let unread = grant["receipt_unread"].as_str().unwrap_or_default();
    assert!(unread.contains(&host) && unread.contains("says its request quota is exhausted"), "{grant}");
    assert!(!unread.contains("SECRETKEY"), "{grant}");
    let outcome = receipt["outcome"].as_str().unwrap_or_default();
    assert!(outcome.contains("its receipt could not be read") && outcome.contains("quota"), "{outcome}");
    let path = last.trim_start_matches("The receipt of what was sent is in ").to_string();
    let (code, shown, _) = s.chain.govstate(&["show", &path]);
    assert_eq!(code, Some(0));
    assert!(shown.contains("sent, receipt not read") && !shown.contains("not mined"), "{shown}");
    let (code, markdown, _) = s.chain.govstate(&["show", &path, "--format", "markdown"]);
    assert_eq!(code, Some(0));
    assert!(markdown.contains("receipt not read: ") && !markdown.contains("not mined"), "{markdown}");
    let (code, report, _) = s.chain.govstate(&["report", &path]);
    assert_eq!(code, Some(0));
    assert!(report.contains("sent, receipt not read: ") && !report.contains("not mined"), "{report}");

    // A healthy endpoint: the record is corrected to mined, nothing is sent twice, and it converges.
    let (code, stdout, stderr) = s.apply(&s.url(), &RUN_1);
    assert_eq!(code, Some(0), "run 2: {stdout}{stderr}");
    let mined: serde_json::Value =
        s.chain.reader().raw_request("eth_getTransactionReceipt".into(), (hash.clone(),)).await.expect("receipt");
    let block = mined["blockNumber"].as_str().and_then(|b| u64::from_str_radix(&b[2..], 16).ok()).expect("mined");
    assert!(
        format!("{stdout}{stderr}").contains(&format!("was recorded as sent; it is mined in block {block} (success)")),
        "the correction is shown: {stdout}{stderr}"
    );
    let corrected = common::receipts(&s.receipts())
        .into_iter()
        .find(|r| r["transactions"][0]["hash"] == hash.as_str())
        .expect("run 1's receipt");
    let grant = &corrected["transactions"][0];
    assert_eq!((grant["status"].as_str(), grant["block"].as_u64()), (Some("success"), Some(block)), "{grant}");
    assert!(grant.get("receipt_unread").is_none_or(serde_json::Value::is_null), "no longer unread: {grant}");
    assert_eq!(s.chain.nonce(owner).await, first + 2, "the grant once, then the fee: nothing twice");
    let url = s.url();
    let (code, again, _) =
        s.chain.govstate(&[&["plan", &s.file, "--rpc-url", &url, "--detailed-exitcode"][..], &RUN_1].concat());
    assert_eq!(code, Some(0), "converged: {again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quota_spent_after_the_self_transfers_that_cancel_orphans_records_them_unread_until_the_next_apply() {
    let s = setup().await;
    let owner = s.chain.devnet.owner();
    let first = s.chain.nonce(owner).await;
    let kept = s.run_1_then_reorg().await;
    let quota = fault_proxy::QuotaAfterSends { sends: 2, ..ALCHEMY_QUOTA };
    let proxy =
        FaultProxy::start(s.chain.devnet.url().clone(), Faults { quota_after_sends: Some(quota), ..Faults::none(32) })
            .await;
    let (code, stdout, stderr) = s.apply(proxy.url.as_str(), &["--no-cache"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(proxy.seen(|p| p.sends_forwarded), 2, "both nonces were taken, then the quota ran out");
    assert_eq!(proxy.seen(|p| p.over_quota), 1, "one receipt poll met the spent quota, and nothing more was asked");
    assert_eq!(s.chain.nonce(owner).await, first + 2, "the node mined both self-transfers");
    assert!(!stderr.contains("not mined"), "{stderr}");
    let transfers = s.receipt_with_transfers();
    for tx in transfers["transactions"].as_array().expect("transactions") {
        assert_eq!((tx["status"].as_str(), tx["block"].as_u64()), (Some("sent"), None), "{tx}");
        let unread = tx["receipt_unread"].as_str().unwrap_or_default();
        assert!(unread.contains("says its request quota is exhausted"), "{tx}");
        assert!(stderr.contains(tx["hash"].as_str().unwrap_or("?")), "each is listed: {stderr}");
    }
    assert_eq!(stderr.matches("sent, receipt not read").count(), 2, "{stderr}");
    let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or_default();
    assert!(last.starts_with("The receipt of what was sent is in"), "{stderr}");

    let (code, stdout, stderr) = s.apply(&s.url(), &["--no-cache"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let transfers = s.receipt_with_transfers();
    for tx in transfers["transactions"].as_array().expect("transactions") {
        assert_eq!(tx["status"], "success", "corrected to mined: {tx}");
        assert!(tx["block"].is_u64() && tx.get("receipt_unread").is_none(), "{tx}");
    }
    assert_eq!(s.chain.nonce(owner).await, first + 2, "nothing more was sent");
    s.rebroadcast(&kept).await;
    let (matches, plan) = s.in_sync(&[]);
    assert!(matches, "the kept transactions cannot run: {plan}");
}

impl Setup {
    /// The receipt of the apply that sent zero-value self-transfers.
    fn receipt_with_transfers(&self) -> serde_json::Value {
        common::receipts(&self.receipts())
            .into_iter()
            .find(|r| r["transactions"][0]["function"] == "zero-value self-transfer")
            .expect("a receipt of self-transfers")
    }
}
