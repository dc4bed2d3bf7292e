//! `plan` against real contracts on anvil: no changes on a fresh devnet,
//! one call per changed field, safe ordering, drift in role sets, and the
//! round-trip budget.

mod common;

use alloy::primitives::{Address, U256, address};
use alloy::sol_types::{SolCall, SolError};
use common::TestChain;
use govstate::contracts::stake_manager::StakeManager;
use govstate::contracts::{Phase, Value};
use govstate::plan::Plan;

const OTHER: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

fn ether(n: u64) -> Value {
    Value::Uint(U256::from(n) * U256::from(10u64).pow(U256::from(18)))
}

fn uint(n: u64) -> Value {
    Value::Uint(U256::from(n))
}

fn calls(plan: &Plan) -> Vec<(String, String, Vec<Value>)> {
    plan.calls
        .iter()
        .map(|c| {
            (
                c.contract.clone(),
                c.function.split('(').next().unwrap_or("").to_string(),
                c.args.iter().map(|a| a.value).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_fresh_devnet_matches_its_own_state_file() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let plan = chain.plan(&file, &[], dir.path()).await.expect("a plan");
    assert!(plan.is_empty(), "{plan:#?}");
    let (code, stdout, _) =
        chain.govstate(&["plan", file.to_str().unwrap_or_default(), "--detailed-exitcode", "--no-cache"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("No changes. The chain matches"), "{stdout}");
}

#[tokio::test]
async fn each_field_changed_alone_plans_exactly_one_call_to_its_setter() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let other = Value::Address(OTHER);
    let cases: Vec<(&str, &str, &str, Vec<Value>)> = vec![
        ("system_pause.paused=true", "system_pause", "pause", vec![]),
        ("arena.owner=0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "arena", "transferOwnership", vec![other]),
        ("arena.paused=true", "arena", "pause", vec![]),
        ("arena.rewards.teacher=200 ether", "arena", "setRewards", vec![ether(200), ether(50), ether(25)]),
        ("arena.rewards.student=60 ether", "arena", "setRewards", vec![ether(150), ether(60), ether(25)]),
        ("arena.rewards.validator=1 gwei", "arena", "setRewards", vec![ether(150), ether(50), uint(1_000_000_000)]),
        ("arena.committee.size=7", "arena", "setCommitteeParameters", vec![uint(7), ether(5)]),
        ("arena.committee.validator_stake=6 ether", "arena", "setCommitteeParameters", vec![uint(5), ether(6)]),
        ("arena.target_success_rate_bps=8000", "arena", "setTargetSuccessRateBps", vec![uint(8000)]),
        (
            "arena.reward_splits_bps={teacher: 6000, student: 2000, validator: 2000}",
            "arena",
            "setRewardSplits",
            vec![uint(6000), uint(2000), uint(2000)],
        ),
        (
            "arena.orchestrators=[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"]",
            "arena",
            "setOrchestrator",
            vec![other, Value::Bool(true)],
        ),
        (
            "stake_manager.governance=0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "stake_manager",
            "setGovernance",
            vec![other],
        ),
        ("stake_manager.paused=true", "stake_manager", "pause", vec![]),
        ("stake_manager.pauser=0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "stake_manager", "setPauser", vec![other]),
        (
            "stake_manager.validator_lock_managers=[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"]",
            "stake_manager",
            "setValidatorLockManager",
            vec![other, Value::Bool(true)],
        ),
        ("stake_manager.fees_pct.fee=4", "stake_manager", "setFeePct", vec![uint(4)]),
        ("stake_manager.fees_pct.burn=1", "stake_manager", "setBurnPct", vec![uint(1)]),
        ("stake_manager.fees_pct.validator_reward=10", "stake_manager", "setValidatorRewardPct", vec![uint(10)]),
        ("stake_manager.min_stake=2 ether", "stake_manager", "setStakeRecommendations", vec![ether(2), uint(0)]),
        (
            "stake_manager.max_stake_per_address=10 ether",
            "stake_manager",
            "setStakeRecommendations",
            vec![ether(1), ether(10)],
        ),
        (
            "stake_manager.role_minimums.agent=1 ether",
            "stake_manager",
            "setRoleMinimums",
            vec![ether(1), uint(0), uint(0)],
        ),
        (
            "stake_manager.role_minimums.validator=5 ether",
            "stake_manager",
            "setRoleMinimums",
            vec![uint(0), ether(5), uint(0)],
        ),
        (
            "stake_manager.role_minimums.platform=3 wei",
            "stake_manager",
            "setRoleMinimums",
            vec![uint(0), uint(0), uint(3)],
        ),
        ("stake_manager.unbonding_period=1d", "stake_manager", "setUnbondingPeriod", vec![uint(86_400)]),
    ];
    for (set, contract, function, args) in cases {
        let plan = chain.plan(&file, &[set], dir.path()).await.unwrap_or_else(|e| panic!("{set}: {e}"));
        let expected = vec![(contract.to_string(), function.to_string(), args)];
        assert_eq!(calls(&plan), expected, "{set}");
    }
}

#[tokio::test]
async fn fees_are_lowered_before_raised_and_that_order_is_the_one_the_contract_accepts() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let stake = chain.address("stake_manager");
    chain.send(0, stake, StakeManager::setFeePctCall { pct: U256::from(60) }.abi_encode()).await;
    chain.send(0, stake, StakeManager::setBurnPctCall { pct: U256::from(40) }.abi_encode()).await;
    let plan = chain
        .plan(&file, &["stake_manager.fees_pct={fee: 40, burn: 60, validator_reward: 0}"], dir.path())
        .await
        .expect("a plan");
    let names: Vec<String> = calls(&plan).into_iter().map(|(_, f, _)| f).collect();
    assert_eq!(names, ["setFeePct", "setBurnPct"]);

    // The reverse order reverts InvalidPercentage on the real contract...
    let snapshot = chain.snapshot().await;
    let (owner, _) = chain.account(0);
    let reversed = chain.revert_data(owner, stake, plan.calls[1].calldata.to_vec()).await;
    assert_eq!(reversed.as_ref().and_then(|d| d.get(..4)), Some(&StakeManager::InvalidPercentage::SELECTOR[..]));
    // ...while the plan's order succeeds and reaches the file.
    for call in &plan.calls {
        chain.send(0, call.target, call.calldata.to_vec()).await;
    }
    assert!(
        chain
            .plan(&file, &["stake_manager.fees_pct={fee: 40, burn: 60, validator_reward: 0}"], dir.path())
            .await
            .expect("plan")
            .is_empty()
    );
    chain.revert(snapshot).await;
}

#[tokio::test]
async fn an_orchestrator_granted_behind_govstates_back_is_revoked_with_or_without_a_warm_cache() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let first = chain.grant_orchestrators(1).await[0];
    let plan = chain.plan(&file, &[], cache.path()).await.expect("a plan");
    assert_eq!(
        calls(&plan),
        [("arena".to_string(), "setOrchestrator".to_string(), vec![Value::Address(first), Value::Bool(false)])]
    );
    assert_eq!(plan.calls[0].phase, Phase::Revoke);
    assert!(std::fs::read_dir(cache.path()).map(|d| d.count()).unwrap_or(0) > 0, "the cache was written");

    // A second grant after the cache is warm is found by the incremental scan.
    let second = Address::repeat_byte(0x42);
    let data = govstate::contracts::arena::SelfPlayArena::setOrchestratorCall { orchestrator: second, allowed: true }
        .abi_encode();
    chain.send(0, chain.address("arena"), data).await;
    let plan = chain.plan(&file, &[], cache.path()).await.expect("a plan");
    let revoked: Vec<Value> = plan.calls.iter().map(|c| c.args[0].value).collect();
    assert_eq!(revoked, [Value::Address(first), Value::Address(second)]);
}

#[tokio::test]
async fn pausing_roles_and_parameters_are_ordered_by_phase_and_unpausing_comes_last() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let holder = chain.grant_orchestrators(1).await[0];
    let plan = chain
        .plan(
            &file,
            &[
                "system_pause.paused=true",
                "arena.paused=true",
                "arena.committee.size=9",
                "arena.orchestrators=[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"]",
            ],
            dir.path(),
        )
        .await
        .expect("a plan");
    let order: Vec<(Phase, String)> = plan
        .calls
        .iter()
        .map(|c| (c.phase, format!("{}.{}", c.contract, c.function.split('(').next().unwrap_or(""))))
        .collect();
    let expected = [
        (Phase::Pause, "system_pause.pause"),
        (Phase::Pause, "arena.pause"),
        (Phase::Revoke, "arena.setOrchestrator"),
        (Phase::Grant, "arena.setOrchestrator"),
        (Phase::Configure, "arena.setCommitteeParameters"),
    ];
    let expected: Vec<(Phase, String)> = expected.iter().map(|(p, s)| (*p, s.to_string())).collect();
    assert_eq!(order, expected);
    assert_eq!(plan.calls[2].args[0].value, Value::Address(holder));
    for call in &plan.calls {
        chain.send(0, call.target, call.calldata.to_vec()).await;
    }
    // Now paused: unpausing with a parameter change configures first and
    // resumes SystemPause last.
    let plan = chain
        .plan(
            &file,
            &["system_pause.paused=false", "arena.paused=false", "arena.committee.size=4", "arena.orchestrators=[]"],
            dir.path(),
        )
        .await
        .expect("a plan");
    let order: Vec<String> =
        plan.calls.iter().map(|c| format!("{}.{}", c.contract, c.function.split('(').next().unwrap_or(""))).collect();
    assert_eq!(
        order,
        ["arena.setOrchestrator", "arena.setCommitteeParameters", "arena.unpause", "system_pause.unpause"]
    );
}

fn round_trips(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("RPC: "))
        .and_then(|l| l.split(" in ").nth(1))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no stats in {stderr}"))
}

/// The bytes `--stats` says were received, from its `…, N KiB received`.
fn bytes_received(stderr: &str) -> f64 {
    let line = stderr.lines().find_map(|l| l.strip_prefix("RPC: ")).unwrap_or_else(|| panic!("no stats in {stderr}"));
    let part = line.split(", ").find(|p| p.ends_with(" received")).unwrap_or_else(|| panic!("no bytes in {line}"));
    let mut words = part.split_whitespace();
    let number: f64 = words.next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no number in {part}"));
    match words.next() {
        Some("B") => number,
        Some("KiB") => number * 1024.0,
        Some("MiB") => number * 1024.0 * 1024.0,
        unit => panic!("unit {unit:?} in {part}"),
    }
}

#[tokio::test]
async fn a_thousand_orchestrators_are_planned_in_three_round_trips_with_and_without_multicall() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let holders = chain.grant_orchestrators(1000).await;
    let file = chain.write_state_file(dir.path()).await;
    let text = std::fs::read_to_string(&file).expect("state file");
    assert!(text.contains(&holders[999].to_checksum(None)), "the file lists the holders");
    let path = file.to_str().unwrap_or_default();
    let cache = dir.path().join("cache");
    let cache = cache.to_str().unwrap_or_default();
    let (code, stdout, stderr) =
        chain.govstate(&["plan", path, "--stats", "--detailed-exitcode", "--no-multicall", "--cache-dir", cache]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let batch = round_trips(&stderr);
    // A thousand membership answers, each a 32-byte word in hex at least.
    let received = bytes_received(&stderr);
    assert!(received >= 1000.0 * 66.0, "{received} bytes received for 1,000 answers: {stderr}");
    chain.devnet.install_multicall3().await.expect("multicall installed");
    let (code, stdout, stderr) = chain.govstate(&["plan", path, "--stats", "--detailed-exitcode", "--no-cache"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let multicall = round_trips(&stderr);
    assert!(batch <= 3 && multicall <= 3, "batch {batch}, multicall {multicall} round trips");
    assert!(stderr.contains("RPC: "), "{stderr}");
}

/// Reads the arena's orchestrators with the given observe options.
async fn orchestrators(
    chain: &TestChain,
    deployed_block: Option<u64>,
    options: &govstate::observe::ObserveOptions,
) -> Vec<Address> {
    use govstate::observe::{Scope, ScopeContract, observe};
    let arena = govstate::contracts::kind("arena").expect("arena");
    let deployed = govstate::contracts::Deployed { kind: arena, address: chain.address("arena"), deployed_block };
    let scope = Scope {
        chain_id: 31337,
        contracts: vec![ScopeContract { deployed, role_sets: vec![(&arena.role_sets[0], Default::default())] }],
    };
    let observed = observe(&chain.reader(), &scope, options).await.expect("observe");
    observed.contracts[0].role_set("orchestrators").map(|s| s.iter().copied().collect()).unwrap_or_default()
}

#[tokio::test]
async fn role_holders_are_the_same_whatever_the_chunk_size_and_without_a_deployment_block() {
    let chain = TestChain::start().await;
    let mut holders = chain.grant_orchestrators(7).await;
    holders.sort();
    let cache = tempfile::tempdir().expect("tempdir");
    let options = |chunk: u64, cache: Option<std::path::PathBuf>| govstate::observe::ObserveOptions {
        multicall: false,
        cache_dir: cache,
        log_chunk_blocks: chunk,
        ..Default::default()
    };
    assert_eq!(orchestrators(&chain, Some(0), &options(50_000, None)).await, holders);
    assert_eq!(orchestrators(&chain, Some(0), &options(2, None)).await, holders, "two blocks per eth_getLogs");
    // No deployment block: found by bisection, then remembered in the cache.
    assert_eq!(orchestrators(&chain, None, &options(50_000, Some(cache.path().to_path_buf()))).await, holders);
    let cached =
        std::fs::read_dir(cache.path().join("31337")).expect("cache dir").next().expect("an entry").expect("entry");
    let entry: serde_json::Value = serde_json::from_slice(&std::fs::read(cached.path()).expect("read")).expect("json");
    let deployed =
        chain.devnet.deployment().contracts.iter().find(|c| c.kind.key == "arena").and_then(|c| c.deployed_block);
    assert_eq!(entry["deployed_block"].as_u64(), deployed, "bisection found the deployment block");
}

#[tokio::test]
async fn a_cache_from_an_earlier_devnet_at_the_same_addresses_is_thrown_away() {
    let cache = tempfile::tempdir().expect("tempdir");
    let options =
        govstate::observe::ObserveOptions { cache_dir: Some(cache.path().to_path_buf()), ..Default::default() };
    let earlier = TestChain::start().await;
    // Longer than the reorg margin, so only the block hash can tell.
    let mut first = earlier.grant_orchestrators(80).await;
    first.sort();
    assert_eq!(orchestrators(&earlier, Some(0), &options).await, first);
    drop(earlier);
    // A new devnet: same chain id, same addresses, a shorter history.
    let later = TestChain::start().await;
    let data = govstate::contracts::arena::SelfPlayArena::setOrchestratorCall { orchestrator: OTHER, allowed: true }
        .abi_encode();
    later.send(0, later.address("arena"), data).await;
    assert_eq!(orchestrators(&later, Some(0), &options).await, [OTHER]);
}

#[tokio::test]
async fn a_batch_the_node_refuses_as_too_large_is_halved_and_sent_again() {
    use govstate::observe::{ObserveOptions, Scope, ScopeContract, observe};
    use govstate::rpc::{RpcStats, connect};
    let chain = TestChain::start().await;
    let holder = chain.grant_orchestrators(1).await[0];
    // 12,000 addresses named in a file: one getter call each, a request body
    // over anvil's 2 MiB limit when sent as one batch.
    let mut named: std::collections::BTreeSet<Address> =
        (0..12_000u64).map(|i| Address::left_padding_from(&(i + 0x10_0000).to_be_bytes())).collect();
    named.insert(holder);
    let arena = govstate::contracts::kind("arena").expect("arena");
    let deployed =
        govstate::contracts::Deployed { kind: arena, address: chain.address("arena"), deployed_block: Some(0) };
    let scope = Scope {
        chain_id: 31337,
        contracts: vec![ScopeContract { deployed, role_sets: vec![(&arena.role_sets[0], named)] }],
    };
    let stats = RpcStats::default();
    let options = ObserveOptions { cache_dir: None, multicall: false, max_batch: 20_000, ..Default::default() };
    let observed = observe(&connect(chain.devnet.url().clone(), &stats), &scope, &options).await.expect("observe");
    assert_eq!(observed.contracts[0].role_set("orchestrators").map(|s| s.len()), Some(1));
    assert!(stats.round_trips() > 3, "the refused batch was split: {} round trips", stats.round_trips());
}
