//! `govstate import` against a real devnet changed out of band: the file it
//! writes validates and plans empty; `--out` is never overwritten silently;
//! bad addresses are clear errors.

mod common;
mod support;

use std::path::Path;

use alloy::primitives::Address;
use alloy::sol_types::SolCall;
use common::TestChain;
use govstate::contracts::arena::SelfPlayArena;
use support::{cast_send, govstate, set_orchestrator};

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn account(index: usize) -> Address {
    govstate::devnet::dev_signer(index).expect("a development account").address()
}

fn flags(chain: &TestChain) -> Vec<String> {
    ["arena", "stake_manager", "system_pause"]
        .iter()
        .flat_map(|key| [format!("--{}", key.replace('_', "-")), chain.address(key).to_string()])
        .collect()
}

#[tokio::test]
async fn import_after_out_of_band_changes_writes_a_file_that_validates_and_plans_empty() {
    let chain = TestChain::start().await;
    let (rogue, revoked, lock_manager) = (account(1), account(2), account(3));
    set_orchestrator(&chain, rogue, true).await;
    set_orchestrator(&chain, revoked, true).await;
    set_orchestrator(&chain, revoked, false).await;
    let stake_manager = chain.address("stake_manager");
    cast_send(&chain, stake_manager, "setFeePct(uint256)", &["7"]).await;
    cast_send(&chain, stake_manager, "setValidatorLockManager(address,bool)", &[&lock_manager.to_string(), "true"])
        .await;
    chain.send(0, chain.address("arena"), SelfPlayArena::pauseCall {}.abi_encode()).await;
    cast_send(&chain, chain.address("system_pause"), "pause()", &[]).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let (cache, out) = (dir.path().join("cache"), dir.path().join("imported.yaml"));
    let url = chain.devnet.url().to_string();
    let mut args: Vec<String> = vec!["import".into(), "--out".into(), path(&out).into()];
    args.extend(flags(&chain));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env = [("ETH_RPC_URL", url.as_str())];
    let run = govstate(&args, &cache, &env).await;
    assert_eq!(run.code, Some(0), "{run:?}");

    let text = std::fs::read_to_string(&out).expect("the file is written");
    assert!(text.starts_with("# yaml-language-server: $schema=../schema/govstate.schema.json\n"), "{text}");
    let block = latest_block(&chain).await;
    assert!(text.contains(&format!("from chain 31337 at block {block} (0x")), "{text}");
    assert!(text.contains("# Left out, not a valid desired state: arena.reward_splits_bps"), "{text}");
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("YAML");
    for deployed in &chain.devnet.deployment().contracts {
        let written = &yaml["contracts"][deployed.kind.key];
        assert_eq!(written["address"].as_str(), Some(deployed.address.to_checksum(None).as_str()));
        if !deployed.kind.role_sets.is_empty() {
            assert_eq!(written["deployed_block"].as_u64(), deployed.deployed_block, "found by bisection");
        }
    }
    assert_eq!(yaml["arena"]["orchestrators"], serde_yaml::to_value([rogue.to_checksum(None)]).expect("yaml"));
    let managers = serde_yaml::to_value([lock_manager.to_checksum(None)]).expect("yaml");
    assert_eq!(yaml["stake_manager"]["validator_lock_managers"], managers);
    assert_eq!(yaml["stake_manager"]["fees_pct"]["fee"].as_u64(), Some(7));
    assert_eq!(yaml["arena"]["paused"].as_bool(), Some(true));
    assert_eq!(yaml["system_pause"]["paused"].as_bool(), Some(true));

    let run = govstate(&["validate", path(&out)], &cache, &env).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = govstate(&["plan", path(&out), "--detailed-exitcode"], &cache, &env).await;
    assert_eq!(run.code, Some(0), "the imported file plans empty: {run:?}");
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    let run = govstate(&["drift", path(&out)], &cache, &env).await;
    assert_eq!(run.code, Some(0), "{run:?}");
}

async fn latest_block(chain: &TestChain) -> u64 {
    use alloy::providers::Provider;
    chain.reader().get_block_number().await.expect("block number")
}

#[tokio::test]
async fn import_out_refuses_to_overwrite_without_force() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (cache, out) = (dir.path().join("cache"), dir.path().join("state.yaml"));
    std::fs::write(&out, "keep me\n").expect("write");
    let url = chain.devnet.url().to_string();
    let env = [("ETH_RPC_URL", url.as_str())];
    let arena = chain.address("arena").to_string();
    let run = govstate(&["import", "--arena", &arena, "--out", path(&out)], &cache, &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("state.yaml exists; pass --force"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap_or_default(), "keep me\n");

    let run = govstate(&["import", "--arena", &arena, "--out", path(&out), "--force"], &cache, &env).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(text.contains("arena:") && !text.contains("stake_manager:"), "only the arena was named:\n{text}");
    let run = govstate(&["plan", path(&out), "--detailed-exitcode"], &cache, &env).await;
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[tokio::test]
async fn import_of_a_subset_prints_the_file_on_stdout() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = chain.devnet.url().to_string();
    let manager = chain.address("stake_manager").to_string();
    let run = govstate(&["import", "--stake-manager", &manager], dir.path(), &[("ETH_RPC_URL", &url)]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let spec = govstate::spec::load_str(&run.stdout, "stdout").expect("valid");
    let desired = spec.desired();
    let keys: Vec<&str> = desired.contracts.iter().map(|c| c.deployed.kind.key).collect();
    assert_eq!(keys, ["stake_manager"]);
}

#[tokio::test]
async fn import_reports_bad_addresses_and_the_wrong_contract_clearly_and_exits_1() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = chain.devnet.url().to_string();
    let env = [("ETH_RPC_URL", url.as_str())];
    let run = govstate(&["import", "--arena", "0x1234"], dir.path(), &env).await;
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("--arena: \"0x1234\" is not a valid address"), "{}", run.stderr);

    let run = govstate(&["import"], dir.path(), &env).await;
    assert_eq!(run.code, Some(1), "a usage error is 1, never the drift code 2: {run:?}");

    let empty = Address::repeat_byte(0x42).to_string();
    let run = govstate(&["import", "--arena", &empty], dir.path(), &env).await;
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("there is no contract at"), "{}", run.stderr);

    // The StakeManager has no orchestrators() getter: reading it as an arena fails by name.
    let wrong = chain.address("stake_manager").to_string();
    let run = govstate(&["import", "--arena", &wrong], dir.path(), &env).await;
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("arena."), "{}", run.stderr);
}
