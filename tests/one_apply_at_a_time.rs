//! One apply at a time per deployment: a second apply while one runs is
//! refused before sending, naming the holder; a crashed apply leaves no
//! lock behind (the pending-nonce check then speaks); nothing is sent twice.

mod common;

use std::process::{Command, Stdio};

use alloy::primitives::{Address, address};
use common::{TestChain, eventually};
use govstate::execute::lock;

/// anvil's first development key (public, from the test mnemonic).
const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const OWNER: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

const CHANGE: [&str; 3] = [
    "--set=arena.paused=true",
    "--set=stake_manager.fees_pct={fee: 4, burn: 1, validator_reward: 10}",
    "--set=arena.target_success_rate_bps=6500",
];

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    plan_file: String,
    plan: govstate::plan::Plan,
}

async fn setup() -> Setup {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let plan_file = dir.path().join("plan.json").to_string_lossy().into_owned();
    let (code, _, stderr) =
        chain.govstate(&[&["plan", &file, "--no-cache", "--out", &plan_file][..], &CHANGE].concat());
    assert_eq!(code, Some(0), "{stderr}");
    let plan = govstate::plan::load_file(std::path::Path::new(&plan_file)).expect("loads");
    Setup { chain, dir, plan_file, plan }
}

impl Setup {
    fn apply_command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_govstate"));
        command
            .args(["apply", &self.plan_file, "--no-cache", "--private-key", OWNER_KEY])
            .env("ETH_RPC_URL", self.chain.devnet.url().as_str())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn receipts_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("receipts")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_applies_at_once_one_converges_the_other_is_refused_and_nothing_is_sent_twice() {
    let setup = setup().await;
    let before = setup.chain.nonce(OWNER).await;
    let first = setup.apply_command().spawn().expect("starts");
    let second = setup.apply_command().spawn().expect("starts");
    let outputs = [first.wait_with_output().expect("runs"), second.wait_with_output().expect("runs")];
    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, vec![Some(0), Some(1)], "one converged, one was refused");
    let refused = outputs.iter().find(|o| o.status.code() == Some(1)).map(|o| String::from_utf8_lossy(&o.stderr));
    let refused = refused.unwrap_or_default();
    let by_lock = refused.contains("another govstate apply of this deployment is running");
    let by_state = refused.contains("the chain changed since the plan was made; nothing was sent");
    let by_nonce = refused.contains("has pending transactions");
    assert!(by_lock || by_state || by_nonce, "refused before sending, saying why: {refused}");
    assert_eq!(setup.chain.nonce(OWNER).await - before, setup.plan.calls.len() as u64, "each call sent once");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_while_another_holds_the_lock_is_refused_naming_the_holder() {
    let setup = setup().await;
    let holder = lock::this_process(OWNER, "the other plan.json", "2026-11-26T12:00:00Z".to_string());
    let held = lock::acquire(&setup.receipts_dir(), &setup.plan, &holder).expect("free");
    let before = setup.chain.nonce(OWNER).await;
    let output = setup.apply_command().output().expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let who = format!("process {} on ", std::process::id());
    assert!(stderr.contains("another govstate apply of this deployment is running"), "{stderr}");
    assert!(stderr.contains(&who) && stderr.contains("applying the other plan.json"), "{stderr}");
    assert_eq!(setup.chain.nonce(OWNER).await, before, "nothing was sent");
    drop(held);
    let output = setup.apply_command().output().expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_apply_leaves_no_lock_and_the_next_is_stopped_by_its_pending_transactions() {
    let setup = setup().await;
    setup.chain.automine(false).await;
    let mut crashed = setup.apply_command().stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("starts");
    let first_phase = setup.plan.calls.iter().filter(|c| c.phase == setup.plan.calls[0].phase).count();
    let sent = eventually(30, || async { setup.chain.pending_count().await == first_phase }).await;
    assert!(sent, "the first phase waits in the pool");
    crashed.kill().expect("killed");
    let _ = crashed.wait();
    let lock_file = lock::path_for(&setup.receipts_dir(), &setup.plan);
    assert!(lock_file.exists(), "the file stays; the lock on it went with the process");

    let output = setup.apply_command().output().expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("another govstate apply"), "no stale lock: {stderr}");
    assert!(stderr.contains("has pending transactions"), "{stderr}");
    setup.chain.automine(true).await;
}
