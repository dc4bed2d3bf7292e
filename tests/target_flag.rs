//! `--target KEY_PATH` on `plan`, `apply` and `drift` against a real anvil:
//! the run manages only the targeted keys of the file, says so, and sends
//! nothing outside them; and `--set` overrides are shown before the plan
//! digest and named in the result line.

mod common;

use alloy::primitives::U256;
use alloy::sol_types::SolCall;
use common::{TestChain, receipts};
use govstate::contracts::arena::SelfPlayArena;
use govstate::contracts::stake_manager::StakeManager;
use serde_yaml::Value as Yaml;

/// anvil's first development key (public, from the test mnemonic): the
/// devnet's owner and governance.
const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    file: String,
}

/// A devnet and a state file that is behind the chain on two things: it
/// asks for `arena.paused: true` and `stake_manager.fees_pct.fee: 4`
/// (the chain has the arena running and a fee of 0).
async fn behind_on_fees_and_pause() -> Setup {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = chain.write_state_file(dir.path()).await;
    edit(&path, |root| {
        root["arena"]["paused"] = Yaml::Bool(true);
        root["stake_manager"]["fees_pct"]["fee"] = Yaml::Number(4.into());
    });
    let file = path.to_string_lossy().into_owned();
    Setup { chain, dir, file }
}

/// Rewrites the YAML file at `path` with `change` applied to its tree.
fn edit(path: &std::path::Path, change: impl FnOnce(&mut Yaml)) {
    let text = std::fs::read_to_string(path).expect("state file");
    let mut root: Yaml = serde_yaml::from_str(&text).expect("YAML");
    change(&mut root);
    std::fs::write(path, serde_yaml::to_string(&root).expect("YAML")).expect("state file written");
}

impl Setup {
    fn receipts_dir(&self) -> String {
        self.dir.path().join("receipts").to_string_lossy().into_owned()
    }

    fn apply(&self, extra: &[&str]) -> (Option<i32>, String, String) {
        let receipts = self.receipts_dir();
        let mut args = vec!["apply", &self.file, "--no-cache", "--private-key", OWNER_KEY, "--receipts-dir", &receipts];
        args.extend_from_slice(extra);
        self.chain.govstate(&args)
    }

    async fn arena_paused(&self) -> bool {
        let data = self.chain.read(self.chain.address("arena"), SelfPlayArena::pausedCall {}.abi_encode()).await;
        SelfPlayArena::pausedCall::abi_decode_returns(&data).expect("a bool")
    }

    async fn fee_pct(&self) -> U256 {
        let data = self.chain.read(self.chain.address("stake_manager"), StakeManager::feePctCall {}.abi_encode()).await;
        StakeManager::feePctCall::abi_decode_returns(&data).expect("a uint256")
    }
}

#[tokio::test]
async fn a_targeted_apply_pauses_the_arena_and_sends_nothing_else() {
    let s = behind_on_fees_and_pause().await;
    let (owner, _) = s.chain.account(0);
    let nonce = s.chain.nonce(owner).await;
    let fee = s.fee_pct().await;

    let (code, stdout, stderr) = s.apply(&["--target", "arena.paused", "--yes"]);

    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(s.arena_paused().await, "the arena is paused");
    assert_eq!(s.chain.nonce(owner).await, nonce + 1, "exactly one transaction: {stdout}");
    assert_eq!(s.fee_pct().await, fee, "the fee is left alone");
    let targeted = stdout.find("Targeted run: only arena.paused is managed").unwrap_or(usize::MAX);
    let digest = stdout.find("Plan digest:").unwrap_or(0);
    assert!(targeted < digest, "the run says it was targeted, before the digest: {stdout}");
    assert!(!stdout.contains("setFeePct"), "{stdout}");
    assert!(stdout.contains(&format!("the chain now matches the targeted keys of {}.", s.file)), "{stdout}");
    let receipt = &receipts(s.dir.path().join("receipts").as_path())[0];
    assert_eq!(receipt["targets"], serde_json::json!(["arena.paused"]), "{receipt}");
}

#[tokio::test]
async fn a_targeted_plan_shows_only_the_targeted_keys_and_a_group_prefix_takes_all_keys_under_it() {
    let s = behind_on_fees_and_pause().await;
    let plan = |targets: &[&str]| {
        let mut args = vec!["plan", s.file.as_str(), "--no-cache", "--format", "json"];
        for target in targets {
            args.extend_from_slice(&["--target", target]);
        }
        let (code, stdout, stderr) = s.chain.govstate(&args);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        let plan: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON plan");
        let functions: Vec<String> =
            plan["calls"].as_array().into_iter().flatten().map(|c| c["function"].to_string()).collect();
        functions.join(" ")
    };
    let untargeted = plan(&[]);
    assert!(untargeted.contains("pause()") && untargeted.contains("setFeePct"), "{untargeted}");
    let paused = plan(&["arena.paused"]);
    assert!(paused.contains("pause()") && !paused.contains("setFeePct"), "{paused}");
    let fees = plan(&["stake_manager.fees_pct"]);
    assert!(fees.contains("setFeePct") && !fees.contains("pause()"), "{fees}");
    let both = plan(&["stake_manager.fees_pct.fee", "arena"]);
    assert!(both.contains("setFeePct") && both.contains("pause()"), "{both}");
}

#[tokio::test]
async fn a_target_that_is_not_a_govstate_key_is_refused_naming_it_with_a_suggestion() {
    let s = behind_on_fees_and_pause().await;
    let (code, stdout, stderr) = s.chain.govstate(&["plan", &s.file, "--no-cache", "--target", "no.such.key"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("no.such.key"), "{stderr}");
    assert!(stderr.contains("arena") && stderr.contains("stake_manager"), "lists the sections: {stderr}");

    let (code, stdout, stderr) = s.chain.govstate(&["plan", &s.file, "--no-cache", "--target", "arena.pausd"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("arena.pausd") && stderr.contains("did you mean arena.paused"), "{stderr}");

    let (owner, _) = s.chain.account(0);
    let nonce = s.chain.nonce(owner).await;
    let (code, stdout, stderr) = s.apply(&["--target", "stake_manager.fees_pc", "--yes"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("did you mean stake_manager.fees_pct"), "{stderr}");
    assert_eq!(s.chain.nonce(owner).await, nonce, "nothing was sent");
}

#[tokio::test]
async fn a_target_the_file_does_not_write_is_refused_as_only_narrowing() {
    let s = behind_on_fees_and_pause().await;
    edit(std::path::Path::new(&s.file), |root| {
        if let Some(arena) = root["arena"].as_mapping_mut() {
            arena.remove("paused");
        }
    });
    let (code, stdout, stderr) = s.chain.govstate(&["plan", &s.file, "--no-cache", "--target", "arena.paused"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("does not manage arena.paused"), "{stderr}");
    assert!(stderr.contains("--target can only narrow what the file manages"), "{stderr}");
}

#[tokio::test]
async fn a_target_on_a_saved_plan_is_refused_before_reading_it() {
    let s = behind_on_fees_and_pause().await;
    let saved = s.dir.path().join("plan.json").to_string_lossy().into_owned();
    let (code, stdout, stderr) = s.chain.govstate(&["plan", &s.file, "--no-cache", "--out", &saved]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (owner, _) = s.chain.account(0);
    let nonce = s.chain.nonce(owner).await;
    let (code, stdout, stderr) =
        s.chain.govstate(&["apply", &saved, "--no-cache", "--private-key", OWNER_KEY, "--target", "arena.paused"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("--target applies to a desired-state file, not to a saved plan"), "{stderr}");
    assert_eq!(s.chain.nonce(owner).await, nonce, "nothing was sent");
}

#[tokio::test]
async fn a_targeted_drift_ignores_drift_outside_the_targets_and_reports_drift_inside_them() {
    let s = behind_on_fees_and_pause().await;
    // A second file of the same deployment without an arena section: a
    // target in a section one of many files lacks is no error for it.
    let other = s.dir.path().join("no-arena.yaml");
    std::fs::copy(&s.file, &other).expect("copied");
    edit(&other, |root| {
        if let Some(root) = root.as_mapping_mut() {
            root.remove("arena");
        }
    });
    let other = other.to_string_lossy().into_owned();
    let drift = |targets: &[&str]| {
        let mut args = vec!["drift", s.file.as_str(), other.as_str(), "--no-cache"];
        for target in targets {
            args.extend_from_slice(&["--target", target]);
        }
        s.chain.govstate(&args)
    };

    let (code, stdout, stderr) = drift(&[]);
    assert_eq!(code, Some(2), "untargeted, the file has drifted: {stdout}{stderr}");

    let (code, stdout, stderr) = drift(&["stake_manager.unbonding_period", "system_pause"]);
    assert_eq!(code, Some(0), "no drift inside the targets: {stdout}{stderr}");

    let (code, stdout, stderr) = drift(&["arena.paused"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("arena.paused"), "{stdout}");
    assert!(!stdout.contains("fees_pct"), "{stdout}");
    assert!(stdout.contains(&format!("in sync  {other}")), "the file without the section is in sync: {stdout}");

    let (code, stdout, stderr) = drift(&["arena.pasued"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("did you mean arena.paused"), "{stderr}");
}

#[tokio::test]
async fn set_overrides_are_shown_before_the_digest_and_the_result_says_with_overrides() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let receipts = dir.path().join("receipts").to_string_lossy().into_owned();
    let set = "--set=arena.paused=true";
    let override_line = "Override for this run only: arena.paused=true";
    let before_digest = |stdout: &str| {
        let line = stdout.find(override_line).unwrap_or(usize::MAX);
        line < stdout.find("Plan digest:").unwrap_or(0)
    };

    let (code, stdout, stderr) = chain.govstate(&["plan", &file, "--no-cache", set]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(before_digest(&stdout), "plan: {stdout}");

    let apply = ["apply", &file, "--no-cache", "--private-key", OWNER_KEY, "--receipts-dir", &receipts, set, "--yes"];
    let (code, stdout, stderr) = chain.govstate(&apply);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(before_digest(&stdout), "apply: {stdout}");
    assert!(stdout.contains(&format!("the chain now matches {file} with overrides.")), "{stdout}");

    let (code, stdout, stderr) = chain.govstate(&["plan", &file, "--no-cache", set]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("The chain matches {file} with overrides.")), "{stdout}");
}
