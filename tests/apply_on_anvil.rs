//! `apply` against real contracts on anvil: it converges, refuses before
//! sending anything whenever it should, stops at a revert, survives being
//! killed, and never shows the key.

mod common;

use alloy::sol_types::SolCall;
use common::{TestChain, eventually, receipts, spawn_govstate};
use govstate::contracts::stake_manager::StakeManager;

/// anvil's first development key (public, from the test mnemonic).
const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// anvil's second development key.
const STRANGER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// Pause + rotate an orchestrator + rebalance fees: calls in four phases.
const CHANGE: [&str; 4] = [
    "--set=arena.paused=true",
    "--set=arena.orchestrators=[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"]",
    "--set=stake_manager.fees_pct={fee: 5, burn: 2, validator_reward: 10}",
    "--set=stake_manager.paused=true",
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
    chain.grant_orchestrators(1).await;
    Setup { chain, dir, file }
}

impl Setup {
    fn receipts_dir(&self) -> String {
        self.dir.path().join("receipts").to_string_lossy().into_owned()
    }

    /// Starts `apply --yes` of [`CHANGE`] with mining off, and returns once
    /// its first phase (two pauses) waits in the pool.
    async fn apply_with_mining_off(&self) -> std::process::Child {
        self.chain.automine(false).await;
        let receipts_dir = self.receipts_dir();
        let mut args = vec!["apply", &self.file, "--no-cache", "--private-key", OWNER_KEY];
        args.extend_from_slice(&["--receipts-dir", &receipts_dir, "--yes"]);
        args.extend_from_slice(&CHANGE);
        let child = spawn_govstate(&self.chain, &args);
        let sent = eventually(30, || async { self.chain.pending_count().await == 2 }).await;
        assert!(sent, "the pause phase was sent");
        child
    }

    fn apply(&self, key: &str, extra: &[&str]) -> (Option<i32>, String, String) {
        let receipts = self.receipts_dir();
        let mut args = vec!["apply", &self.file, "--no-cache", "--private-key", key, "--receipts-dir", &receipts];
        args.extend_from_slice(extra);
        self.chain.govstate(&args)
    }
}

#[tokio::test]
async fn apply_converges_and_planning_again_finds_nothing() {
    let s = setup().await;
    let (code, stdout, stderr) = s.apply(OWNER_KEY, &[&CHANGE[..], &["--yes"]].concat());
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("the chain now matches"), "{stdout}");
    let mut plan_args = vec!["plan", s.file.as_str(), "--no-cache", "--detailed-exitcode"];
    plan_args.extend_from_slice(&CHANGE);
    let (code, stdout, _) = s.chain.govstate(&plan_args);
    assert_eq!(code, Some(0), "{stdout}");
    let receipt = &receipts(s.dir.path().join("receipts").as_path())[0];
    assert_eq!(receipt["outcome"], "converged");
    assert_eq!(receipt["transactions"].as_array().map(Vec::len), Some(7));
    assert!(
        receipt["transactions"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|t| t["status"] == "success" && t["gas_used"].is_u64())
    );
}

#[tokio::test]
async fn a_stale_saved_plan_is_refused_naming_the_field_and_sending_nothing() {
    let s = setup().await;
    let saved = s.dir.path().join("plan.json").to_string_lossy().into_owned();
    let mut plan_args = vec!["plan", s.file.as_str(), "--no-cache", "--out", &saved];
    plan_args.extend_from_slice(&CHANGE);
    let (code, stdout, stderr) = s.chain.govstate(&plan_args);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // Someone changes the unbonding period (a field the plan does not touch).
    let stake = s.chain.address("stake_manager");
    s.chain
        .send(0, stake, StakeManager::setUnbondingPeriodCall { period: alloy::primitives::U256::from(60) }.abi_encode())
        .await;
    let (owner, _) = s.chain.account(0);
    let before = s.chain.nonce(owner).await;
    let receipts_dir = s.receipts_dir();
    let (code, stdout, stderr) =
        s.chain.govstate(&["apply", &saved, "--no-cache", "--private-key", OWNER_KEY, "--receipts-dir", &receipts_dir]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("stake_manager.unbonding_period"), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert_eq!(s.chain.nonce(owner).await, before);
}

#[tokio::test]
async fn a_signer_that_is_not_the_owner_is_refused_before_any_transaction() {
    let s = setup().await;
    let (stranger, _) = s.chain.account(1);
    let (code, stdout, stderr) = s.apply(STRANGER_KEY, &[&CHANGE[..], &["--yes"]].concat());
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains(&format!("{stranger} may not send")), "{stderr}");
    assert!(stderr.contains(&s.chain.devnet.owner().to_string()), "names who may: {stderr}");
    assert_eq!(s.chain.nonce(stranger).await, 0);
}

#[tokio::test]
async fn a_wrong_chain_id_in_the_file_is_refused_before_any_transaction() {
    let s = setup().await;
    let (owner, _) = s.chain.account(0);
    let before = s.chain.nonce(owner).await;
    let (code, stdout, stderr) = s.apply(OWNER_KEY, &["--set=chain_id=1", "--set=arena.paused=true", "--yes"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("serves chain 31337, but the file is for chain 1"), "{stderr}");
    assert_eq!(s.chain.nonce(owner).await, before);
}

#[tokio::test]
async fn without_a_terminal_or_yes_apply_refuses_and_sends_nothing() {
    let s = setup().await;
    let (owner, _) = s.chain.account(0);
    let before = s.chain.nonce(owner).await;
    let (code, stdout, stderr) = s.apply(OWNER_KEY, &CHANGE);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("refusing to apply without confirmation"), "{stderr}");
    assert_eq!(s.chain.nonce(owner).await, before);
}

#[tokio::test]
async fn the_private_key_appears_nowhere_in_output_or_receipts() {
    let s = setup().await;
    let (code, stdout, stderr) = s.apply(OWNER_KEY, &[&CHANGE[..], &["--yes"]].concat());
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (_, bad_stdout, bad_stderr) = s.apply("0xnot-a-key-but-secret", &["--yes"]);
    let key = OWNER_KEY.trim_start_matches("0x");
    let receipts = receipts(s.dir.path().join("receipts").as_path());
    assert!(!receipts.is_empty());
    for text in [stdout, stderr, bad_stdout, bad_stderr.clone(), serde_json::to_string(&receipts).unwrap_or_default()] {
        assert!(!text.contains(key), "the key leaked");
        assert!(!text.contains("not-a-key-but-secret"), "a bad key leaked: {text}");
    }
    assert!(bad_stderr.contains("not a 32-byte hex key"), "{bad_stderr}");
}

#[tokio::test]
async fn a_revert_stops_the_apply_at_its_phase_and_the_receipt_records_it() {
    let s = setup().await;
    let (owner, _) = s.chain.account(0);
    let stake = s.chain.address("stake_manager");
    // A pauser who can pause StakeManager from another account.
    s.chain.send(0, stake, StakeManager::setPauserCall { pauser_: s.chain.account(2).0 }.abi_encode()).await;
    let before = s.chain.nonce(owner).await;
    let mut child = s.apply_with_mining_off().await;
    // The pause phase is in the pool: let the pauser pause StakeManager
    // first, with a higher tip, in the same block.
    let (_, pauser) = s.chain.account(2);
    let tx = alloy::rpc::types::TransactionRequest::default()
        .to(stake)
        .input(alloy::primitives::Bytes::from(StakeManager::pauseCall {}.abi_encode()).into())
        .max_priority_fee_per_gas(50_000_000_000)
        .max_fee_per_gas(100_000_000_000)
        .gas_limit(100_000);
    use alloy::providers::Provider;
    let _pending = pauser.send_transaction(tx).await.expect("sent");
    s.chain.mine().await;
    let status = child.wait().expect("apply ends");
    assert_eq!(status.code(), Some(1));
    // Only the pause phase was sent: later phases never reached the pool.
    assert_eq!(s.chain.pending_count().await, 0);
    assert_eq!(s.chain.nonce(owner).await, before + 2);
    let receipt = &receipts(s.dir.path().join("receipts").as_path())[0];
    let reverted: Vec<&serde_json::Value> =
        receipt["transactions"].as_array().into_iter().flatten().filter(|t| t["status"] == "reverted").collect();
    assert_eq!(reverted.len(), 1, "{receipt:#}");
    assert_eq!(reverted[0]["revert"], "EnforcedPause()");
    assert!(
        receipt["outcome"]
            .as_str()
            .is_some_and(|o| o.contains("EnforcedPause()") && o.contains("later phases were not sent"))
    );
    s.chain.automine(true).await;
}

#[tokio::test]
async fn killed_after_the_first_phase_apply_resumes_and_sends_nothing_twice() {
    let s = setup().await;
    let (owner, _) = s.chain.account(0);
    let before = s.chain.nonce(owner).await;
    let mut plan_args = vec!["plan", s.file.as_str(), "--no-cache", "--format", "json"];
    plan_args.extend_from_slice(&CHANGE);
    let (_, json, _) = s.chain.govstate(&plan_args);
    let planned: serde_json::Value = serde_json::from_str(&json).expect("plan json");
    let total = planned["calls"].as_array().map(Vec::len).unwrap_or(0) as u64;
    assert_eq!(total, 7);

    let mut child = s.apply_with_mining_off().await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    s.chain.mine().await;
    s.chain.automine(true).await;

    let (code, stdout, stderr) = s.apply(OWNER_KEY, &[&CHANGE[..], &["--yes"]].concat());
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(s.chain.nonce(owner).await, before + total, "every call was sent exactly once");
    assert!(!stdout.contains("pause()"), "the pause phase was not planned again: {stdout}");
}

#[tokio::test]
async fn a_keystore_with_its_password_file_signs_and_a_wrong_password_sends_nothing() {
    let s = setup().await;
    let key = alloy::primitives::hex::decode(OWNER_KEY).expect("hex key");
    let keys = s.dir.path().join("keys");
    std::fs::create_dir_all(&keys).expect("dir");
    let mut rng = rand::thread_rng();
    let (_, name) = alloy::signers::local::PrivateKeySigner::encrypt_keystore(&keys, &mut rng, key, "hunter2", None)
        .expect("keystore written");
    let keystore = keys.join(name).to_string_lossy().into_owned();
    let right = s.dir.path().join("right");
    let wrong = s.dir.path().join("wrong");
    std::fs::write(&right, "hunter2\n").expect("password file");
    std::fs::write(&wrong, "hunter3\n").expect("password file");
    let (owner, _) = s.chain.account(0);
    let before = s.chain.nonce(owner).await;
    let receipts = s.receipts_dir();
    let run = |password: &std::path::Path| {
        let password = password.to_string_lossy();
        s.chain.govstate(&[
            "apply",
            &s.file,
            "--no-cache",
            "--keystore",
            &keystore,
            "--password-file",
            &password,
            "--receipts-dir",
            &receipts,
            "--yes",
            "--set=arena.paused=true",
        ])
    };
    let (code, _, stderr) = run(&wrong);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("could not decrypt the keystore"), "{stderr}");
    assert!(!stderr.contains("hunter3"), "the password leaked: {stderr}");
    assert_eq!(s.chain.nonce(owner).await, before);
    let (code, stdout, stderr) = run(&right);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(s.chain.nonce(owner).await, before + 2, "revoke of the extra orchestrator and the pause");
}
