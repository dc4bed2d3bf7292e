//! `drift` and `import` on the production topology: a modules-kind
//! SystemPause owning StakeManager and seven modules, governed by a
//! TimelockController, changed out of band through the timelock.

mod common;
mod support;

use std::path::Path;

use alloy::sol_types::SolCall;
use common::TestChain;
use govstate::contracts::stake_manager::StakeManager;
use govstate::contracts::system_pause::PausableModule;
use govstate::devnet::Topology;
use serde_json::{Value, json};
use support::{TIMELOCK_DELAY, govstate, set_orchestrator, through_timelock, write_state};

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

async fn production() -> TestChain {
    TestChain::start_wired(Topology::Production { timelock_delay: TIMELOCK_DELAY }).await
}

/// A module paused, a fee changed (both through the timelock) and a rogue orchestrator granted.
async fn change_out_of_band(chain: &TestChain) -> alloy::primitives::Address {
    let fee_pool = chain.devnet.wiring().modules[5];
    through_timelock(chain, fee_pool, PausableModule::pauseCall {}.abi_encode()).await;
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(7) }.abi_encode();
    through_timelock(chain, chain.address("stake_manager"), fee).await;
    let rogue = govstate::devnet::dev_signer(3).expect("account 3").address();
    set_orchestrator(chain, rogue, true).await;
    rogue
}

#[tokio::test]
async fn drift_on_production_reports_a_partly_paused_system_module_by_module() {
    let chain = production().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("production.yaml");
    write_state(&chain, &file, None).await;
    let cache = dir.path().join("cache");
    let url = chain.devnet.url().to_string();
    let args = ["drift", path(&file), "--format", "json", "--rpc-url", url.as_str()];
    assert_eq!(govstate(&args, &cache, &[]).await.code, Some(0), "a fresh production devnet is in sync");

    let rogue = change_out_of_band(&chain).await;
    let run = govstate(&args, &cache, &[]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let mut drift = report["deployments"][0]["drift"].as_array().cloned().unwrap_or_default();
    drift.sort_by_key(|d| d["contract"].to_string() + &d["field"].to_string());
    let attributed: Vec<Option<Value>> =
        drift.iter_mut().map(|d| d.as_object_mut().and_then(|o| o.remove("last_change"))).collect();
    // The module's pause is emitted at the module, which the table does not
    // name; the fee and the grant are attributed.
    assert!(attributed[0].is_some() && attributed[1].is_some() && attributed[2].is_none(), "{attributed:?}");
    let expected = json!([
        {"contract": "arena", "field": "orchestrators", "kind": "holder_added", "chain": rogue.to_string()},
        {"contract": "stake_manager", "field": "fees_pct.fee", "kind": "value", "chain": "7", "file": "0"},
        {"contract": "system_pause", "field": "paused.fee_pool", "kind": "value", "chain": "true", "file": "false"},
    ]);
    assert_eq!(Value::Array(drift), expected);
}

#[tokio::test]
async fn import_on_production_after_out_of_band_changes_validates_and_plans_empty() {
    let chain = production().await;
    change_out_of_band(&chain).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (cache, out) = (dir.path().join("cache"), dir.path().join("imported.yaml"));
    let url = chain.devnet.url().to_string();
    let env = [("ETH_RPC_URL", url.as_str())];
    let mut args = vec!["import".to_string(), "--out".into(), path(&out).into()];
    for key in ["arena", "stake_manager", "system_pause"] {
        args.extend([format!("--{}", key.replace('_', "-")), chain.address(key).to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = govstate(&args, &cache, &env).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let text = std::fs::read_to_string(&out).expect("written");
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("YAML");
    assert_eq!(yaml["stake_manager"]["fees_pct"]["fee"].as_u64(), Some(7), "{text}");
    let governance = yaml["stake_manager"]["governance"].as_str().unwrap_or_default().to_lowercase();
    assert_eq!(governance, chain.address("system_pause").to_string().to_lowercase(), "{text}");
    assert!(text.contains("# Left out, not a valid desired state: system_pause.paused: partly (1 of 8"), "{text}");
    assert!(yaml["system_pause"]["paused"].is_null(), "a partly paused system has no one value to write");

    let run = govstate(&["validate", path(&out)], &cache, &env).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = govstate(&["plan", path(&out), "--detailed-exitcode"], &cache, &env).await;
    assert_eq!(run.code, Some(0), "the imported file plans empty on production: {run:?}\n{text}");
    let run = govstate(&["drift", path(&out)], &cache, &env).await;
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[tokio::test]
async fn drift_reports_a_scheduled_timelock_operation_as_a_change_on_its_way() {
    let chain = production().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("production.yaml");
    write_state(&chain, &file, None).await;
    let cache = dir.path().join("cache");
    let url = chain.devnet.url().to_string();
    // Someone schedules a fee change and does not execute it (yet).
    let timelock = chain.devnet.wiring().timelock.expect("a timelock");
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(9) }.abi_encode();
    let forwarded = govstate::contracts::system_pause::SystemPauseModules::executeGovernanceCallCall {
        target: chain.address("stake_manager"),
        data: fee.into(),
    };
    let schedule = govstate::contracts::timelock::TimelockController::scheduleCall {
        target: chain.address("system_pause"),
        value: alloy::primitives::U256::ZERO,
        data: forwarded.abi_encode().into(),
        predecessor: alloy::primitives::B256::ZERO,
        salt: alloy::primitives::B256::repeat_byte(9),
        delay: alloy::primitives::U256::from(TIMELOCK_DELAY),
    };
    chain.send(0, timelock, schedule.abi_encode()).await;

    let args = ["drift", path(&file), "--format", "json", "--rpc-url", url.as_str()];
    let run = govstate(&args, &cache, &[]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let drift = report["deployments"][0]["drift"].as_array().cloned().unwrap_or_default();
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(drift[0]["kind"], "pending_operation");
    let chain_side = drift[0]["chain"].as_str().unwrap_or_default();
    assert!(chain_side.contains(&timelock.to_string()) && chain_side.contains("waiting"), "{chain_side}");
    let text = govstate(&["drift", path(&file), "--rpc-url", url.as_str()], &cache, &[]).await;
    assert!(text.stdout.contains("! timelock.pending_operation"), "{text:?}");
}

/// Schedules `setFeePct(pct)` on StakeManager through the SystemPause and
/// the timelock, and leaves it waiting.
async fn schedule_fee(chain: &TestChain, pct: u64, salt: u8) {
    let timelock = chain.devnet.wiring().timelock.expect("a timelock");
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(pct) }.abi_encode();
    let forwarded = govstate::contracts::system_pause::SystemPauseModules::executeGovernanceCallCall {
        target: chain.address("stake_manager"),
        data: fee.into(),
    };
    let schedule = govstate::contracts::timelock::TimelockController::scheduleCall {
        target: chain.address("system_pause"),
        value: alloy::primitives::U256::ZERO,
        data: forwarded.abi_encode().into(),
        predecessor: alloy::primitives::B256::ZERO,
        salt: alloy::primitives::B256::repeat_byte(salt),
        delay: alloy::primitives::U256::from(TIMELOCK_DELAY),
    };
    chain.send(0, timelock, schedule.abi_encode()).await;
}

#[tokio::test]
async fn a_hostile_pending_batch_and_a_fixing_one_are_decoded_and_classified_apart() {
    let chain = production().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("production.yaml");
    write_state(&chain, &file, None).await;
    let cache = dir.path().join("cache");
    let url = chain.devnet.url().to_string();
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(7) }.abi_encode();
    through_timelock(&chain, chain.address("stake_manager"), fee).await;
    schedule_fee(&chain, 9, 0x09).await;
    schedule_fee(&chain, 0, 0x0a).await;

    let args = ["drift", path(&file), "--format", "json", "--rpc-url", url.as_str()];
    let run = govstate(&args, &cache, &[]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let drift = report["deployments"][0]["drift"].as_array().cloned().unwrap_or_default();
    let pending: Vec<&Value> = drift.iter().filter(|d| d["kind"] == "pending_operation").collect();
    assert_eq!(pending.len(), 2, "{drift:?}");
    let verdict_of = |pct: u64| {
        let effect = format!("set stake_manager.fees_pct.fee to {pct}%");
        let found = pending.iter().find(|d| d["operation"]["effects"][0] == effect.as_str());
        found.map(|d| d["operation"]["verdict"].clone()).unwrap_or_default()
    };
    assert_eq!(verdict_of(9), "moves_away", "{pending:?}");
    assert_eq!(verdict_of(0), "converges", "{pending:?}");
    let checked = report["checked_at_rfc3339"].as_str().unwrap_or_default();
    assert!(checked.ends_with('Z') && report["checked_at"].as_u64().is_some(), "both forms of time: {report}");
    let ready = pending[0]["operation"]["ready_at_rfc3339"].as_str().unwrap_or_default();
    assert!(ready.ends_with('Z') && pending[0]["operation"]["ready_at"].as_u64().is_some(), "{pending:?}");

    let text = govstate(&["drift", path(&file), "--rpc-url", url.as_str()], &cache, &[]).await;
    let out = &text.stdout;
    assert!(out.contains("moves away from the file: it would set stake_manager.fees_pct.fee to 9%"), "{out}");
    assert!(out.contains("converges toward the file: it would set stake_manager.fees_pct.fee to 0%"), "{out}");
    assert!(out.contains(" chain time, in "), "times are labelled as the chain's: {out}");
    assert!(out.contains(": 1 field, 2 pending operations\n"), "the count matches the lines: {out}");
}
