//! A saved plan is the approval artifact: `apply PLAN` sends exactly what
//! the plan's own record plans, or nothing. Tampered calldata, a swapped
//! target, an extra call, reordered calls, an edit without a new digest, an
//! old layout, an unknown field and an oversized file are each refused with
//! the nonce unchanged; the untouched plan still applies, and `plan` and
//! `apply` print the same digest.

mod common;

use alloy::primitives::{Address, address};
use alloy::sol_types::SolCall;
use common::TestChain;
use govstate::contracts::stake_manager::StakeManager;
use govstate::plan::Plan;

/// anvil's first development key (public, from the test mnemonic).
const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const OWNER: Address = address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
const BEEF: Address = address!("0x000000000000000000000000000000000000bEEF");

const CHANGE: [&str; 3] = [
    "--set=arena.paused=true",
    "--set=stake_manager.fees_pct={fee: 4, burn: 1, validator_reward: 10}",
    "--set=arena.target_success_rate_bps=6500",
];

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    plan_file: String,
    plan: Plan,
    digest_printed: String,
}

async fn setup() -> Setup {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let plan_file = dir.path().join("plan.json").to_string_lossy().into_owned();
    let args = [&["plan", &file, "--no-cache", "--out", &plan_file][..], &CHANGE].concat();
    let (code, stdout, stderr) = chain.govstate(&args);
    assert_eq!(code, Some(0), "{stderr}");
    let digest_printed = stdout.lines().find_map(|l| l.strip_prefix("Plan digest: ")).unwrap_or_default().to_string();
    let plan = govstate::plan::load_file(std::path::Path::new(&plan_file)).expect("the saved plan loads");
    Setup { chain, dir, plan_file, plan, digest_printed }
}

impl Setup {
    /// Writes `plan` (sealed with a fresh digest, as a careful forger would)
    /// and applies it; returns (exit code, stdout, stderr, nonce change).
    async fn apply_forged(&self, plan: Plan) -> (Option<i32>, String, String, u64) {
        let json = serde_json::to_string_pretty(&plan.sealed()).expect("json");
        self.apply_text(&json).await
    }

    async fn apply_text(&self, text: &str) -> (Option<i32>, String, String, u64) {
        let path = self.dir.path().join("edited.json");
        std::fs::write(&path, text).expect("written");
        self.apply_path(&path.to_string_lossy()).await
    }

    async fn apply_path(&self, path: &str) -> (Option<i32>, String, String, u64) {
        let before = self.chain.nonce(OWNER).await;
        let (code, stdout, stderr) = self.chain.govstate(&["apply", path, "--no-cache", "--private-key", OWNER_KEY]);
        let after = self.chain.nonce(OWNER).await;
        (code, stdout, stderr, after - before)
    }

    fn call_index(&self, function: &str) -> usize {
        self.plan.calls.iter().position(|c| c.function.starts_with(function)).expect("the plan has that call")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_whose_fee_calldata_became_a_governance_transfer_is_refused_without_sending() {
    let setup = setup().await;
    let mut forged = setup.plan.clone();
    let fee = setup.call_index("setFeePct");
    forged.calls[fee].calldata = StakeManager::setGovernanceCall { newGovernance: BEEF }.abi_encode().into();
    let (code, _, stderr, sent) = setup.apply_forged(forged).await;
    assert_eq!(code, Some(1));
    assert_eq!(sent, 0, "nothing was sent");
    let expected = format!("call {} (stake_manager.setFeePct(uint256)): its calldata is 0x", fee + 1);
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("but the record plans 0x") && stderr.contains("nothing was sent"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_with_a_swapped_target_is_refused_without_sending() {
    let setup = setup().await;
    let mut forged = setup.plan.clone();
    forged.calls[0].target = BEEF;
    let (code, _, stderr, sent) = setup.apply_forged(forged).await;
    assert_eq!((code, sent), (Some(1), 0));
    assert!(stderr.contains("call 1 (") && stderr.contains(&format!("its target is {BEEF}")), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_with_an_extra_call_is_refused_without_sending() {
    let setup = setup().await;
    let mut forged = setup.plan.clone();
    let extra = forged.calls[0].clone();
    forged.calls.push(extra);
    let (code, _, stderr, sent) = setup.apply_forged(forged).await;
    assert_eq!((code, sent), (Some(1), 0));
    let n = setup.plan.calls.len() + 1;
    assert!(stderr.contains(&format!("call {n} (")) && stderr.contains("(an extra call)"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_with_reordered_calls_is_refused_without_sending() {
    let setup = setup().await;
    let mut forged = setup.plan.clone();
    let last = forged.calls.len() - 1;
    forged.calls.swap(0, last);
    let (code, _, stderr, sent) = setup.apply_forged(forged).await;
    assert_eq!((code, sent), (Some(1), 0));
    assert!(stderr.contains("call 1 (") && stderr.contains("but the record plans"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_edited_without_a_new_digest_is_refused_as_edited() {
    let setup = setup().await;
    let mut forged = setup.plan.clone();
    forged.calls[0].target = BEEF;
    let (code, _, stderr, sent) = setup.apply_text(&serde_json::to_string(&forged).expect("json")).await;
    assert_eq!((code, sent), (Some(1), 0));
    assert!(stderr.contains("the plan was edited after it was made: its digest is"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_format_version_or_an_unknown_field_is_refused_by_name() {
    let setup = setup().await;
    let mut json: serde_json::Value = serde_json::to_value(&setup.plan).expect("json");
    json["format_version"] = 2.into();
    let (code, _, stderr, sent) = setup.apply_text(&json.to_string()).await;
    assert_eq!((code, sent), (Some(1), 0));
    let expected = format!(
        "the plan has format_version 2, but this govstate reads format_version {}",
        govstate::plan::FORMAT_VERSION
    );
    assert!(stderr.contains(&expected), "{stderr}");

    let mut json: serde_json::Value = serde_json::to_value(&setup.plan).expect("json");
    json["calls"][0]["value_wei"] = "1".into();
    let (code, _, stderr, sent) = setup.apply_text(&json.to_string()).await;
    assert_eq!((code, sent), (Some(1), 0));
    assert!(stderr.contains("unknown field `value_wei`"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fifty_megabyte_plan_is_refused_before_parsing() {
    let setup = setup().await;
    let path = setup.dir.path().join("huge.json");
    let padding = " ".repeat(50 * 1024 * 1024);
    std::fs::write(&path, format!("{padding}{{}}")).expect("written");
    let (code, _, stderr, sent) = setup.apply_path(&path.to_string_lossy()).await;
    assert_eq!((code, sent), (Some(1), 0));
    assert!(stderr.contains("larger than a saved plan may be (33554432 bytes)"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_untouched_plan_applies_and_shows_the_digest_plan_printed() {
    let setup = setup().await;
    assert!(setup.digest_printed.starts_with("0x") && setup.digest_printed.len() == 66, "{}", setup.digest_printed);
    assert_eq!(setup.digest_printed, setup.plan.digest.to_string());
    let (code, stdout, stderr, sent) = setup.apply_path(&setup.plan_file).await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(sent, setup.plan.calls.len() as u64);
    assert!(stdout.contains(&format!("Plan digest: {}", setup.digest_printed)), "{stdout}");
}
