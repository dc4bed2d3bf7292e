//! Reads whose cost follows changes, not size (issue 18, item 8): a warm
//! role-holder cache keeps the holders confirmed at a block; the next run
//! reads that block's hash and the logs since, and confirms only the
//! holders those logs touch. On a real anvil.

mod common;

use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use govstate::contracts::arena::SelfPlayArena;
use govstate::observe::{ObserveOptions, Observed, ReadAt, Scope, observe};
use govstate::rpc::{RpcStats, connect};

use common::TestChain;

/// A chain with `holders` orchestrators and a state file naming them all.
async fn chain_with(holders: usize, dir: &std::path::Path) -> (TestChain, govstate::spec::Desired) {
    let chain = TestChain::start().await;
    chain.grant_orchestrators(holders).await;
    let file = chain.write_state_file(dir).await;
    let desired = govstate::spec::load_file(&file).expect("a valid file").desired();
    (chain, desired)
}

/// Observes what `desired` manages with the cache in `cache`; returns the
/// observation and the JSON-RPC requests it took.
async fn observe_counted(
    chain: &TestChain,
    desired: &govstate::spec::Desired,
    options: &ObserveOptions,
) -> (Observed, u64) {
    let stats = RpcStats::default();
    let provider = connect(chain.devnet.url().clone(), &stats);
    let observed = observe(&provider, &Scope::of(desired), options).await.expect("observe");
    (observed, stats.requests())
}

fn cached(dir: &std::path::Path) -> ObserveOptions {
    ObserveOptions { cache_dir: Some(dir.to_path_buf()), multicall: false, ..ObserveOptions::default() }
}

fn orchestrators(observed: &Observed) -> Vec<Address> {
    let arena = observed.contracts.iter().find(|c| c.kind.key == "arena").expect("the arena is observed");
    arena.role_set("orchestrators").map(|s| s.iter().copied().collect()).unwrap_or_default()
}

fn set_orchestrator(orchestrator: Address, allowed: bool) -> Vec<u8> {
    SelfPlayArena::setOrchestratorCall { orchestrator, allowed }.abi_encode()
}

#[tokio::test]
async fn a_warm_read_costs_the_same_requests_for_200_and_2000_holders() {
    let mut warm = Vec::new();
    for holders in [200, 2_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (chain, desired) = chain_with(holders, dir.path()).await;
        let options = cached(&dir.path().join("cache"));
        let (cold, cold_requests) = observe_counted(&chain, &desired, &options).await;
        assert_eq!(orchestrators(&cold).len(), holders);
        let (observed, requests) = observe_counted(&chain, &desired, &options).await;
        assert_eq!(orchestrators(&observed), orchestrators(&cold), "the warm read finds the same holders");
        assert!(requests < cold_requests, "warm {requests} requests, cold {cold_requests}");
        // Where Multicall3 is deployed, the fields ride in one aggregate too.
        chain.devnet.install_multicall3().await.expect("multicall3");
        let multicall = ObserveOptions { multicall: true, ..options.clone() };
        let (observed, through_multicall) = observe_counted(&chain, &desired, &multicall).await;
        assert_eq!(orchestrators(&observed).len(), holders);
        warm.push((requests, through_multicall));
    }
    assert_eq!(warm[0], warm[1], "warm requests (eth_call batch, Multicall3) at 200 and 2,000 holders: {warm:?}");
    assert!(warm[1].1 <= 40, "warm requests through Multicall3 at 2,000 holders: {}", warm[1].1);
}

#[tokio::test]
async fn holders_granted_and_revoked_out_of_band_between_warm_runs_are_seen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) = chain_with(30, dir.path()).await;
    let options = cached(&dir.path().join("cache"));
    let (cold, _) = observe_counted(&chain, &desired, &options).await;
    let before = orchestrators(&cold);
    let arena = chain.address("arena");
    let (revoked, granted) = (before[3], Address::repeat_byte(0x77));
    chain.send(0, arena, set_orchestrator(revoked, false)).await;
    chain.send(0, arena, set_orchestrator(granted, true)).await;
    let (observed, requests) = observe_counted(&chain, &desired, &options).await;
    let mut expected: Vec<Address> = before.iter().copied().filter(|a| *a != revoked).collect();
    expected.push(granted);
    expected.sort();
    assert_eq!(orchestrators(&observed), expected);
    // Granted again and revoked again within the same blocks: the last word counts.
    chain.send(0, arena, set_orchestrator(revoked, true)).await;
    chain.send(0, arena, set_orchestrator(granted, false)).await;
    let (observed, again) = observe_counted(&chain, &desired, &options).await;
    assert_eq!(orchestrators(&observed), before);
    assert_eq!(requests, again, "two touched holders cost the same each time");
    // The cache agrees with a cold read.
    let (cold, _) = observe_counted(&chain, &desired, &ObserveOptions { cache_dir: None, ..options }).await;
    assert_eq!(orchestrators(&cold), before);
}

#[tokio::test]
async fn a_reorg_below_the_cached_block_rescans_in_full() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) = chain_with(5, dir.path()).await;
    let options = cached(&dir.path().join("cache"));
    let arena = chain.address("arena");
    let before = orchestrators(&observe_counted(&chain, &desired, &options).await.0);
    let snapshot = chain.snapshot().await;
    let (dropped, kept) = (Address::repeat_byte(0x51), Address::repeat_byte(0x52));
    chain.send(0, arena, set_orchestrator(dropped, true)).await;
    chain.send(0, arena, set_orchestrator(before[0], false)).await;
    let (cached_run, _) = observe_counted(&chain, &desired, &options).await;
    assert!(orchestrators(&cached_run).contains(&dropped));
    let cached_at = cached_run.block.number;
    // The chain forgets both transactions; another history, as long, follows.
    chain.revert(snapshot).await;
    chain.send(0, arena, set_orchestrator(kept, true)).await;
    while chain.reader().get_block_number().await.expect("block number") < cached_at + 1 {
        chain.mine().await;
    }
    let (observed, warm_requests) = observe_counted(&chain, &desired, &options).await;
    let mut expected = before.clone();
    expected.push(kept);
    expected.sort();
    assert_eq!(orchestrators(&observed), expected, "the dropped grant and revoke are gone, the new grant is seen");
    let (cold, cold_requests) = observe_counted(&chain, &desired, &ObserveOptions { cache_dir: None, ..options }).await;
    assert_eq!(orchestrators(&cold), expected);
    // A full scan, plus the read of the cached block's hash that found the reorg.
    assert!(warm_requests > cold_requests, "warm {warm_requests}, cold {cold_requests}: a full scan");
}

#[tokio::test]
async fn a_read_at_block_n_sees_the_holders_and_fields_of_block_n() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) = chain_with(3, dir.path()).await;
    let options = cached(&dir.path().join("cache"));
    let arena = chain.address("arena");
    let at = chain.reader().get_block_number().await.expect("block number");
    let later = Address::repeat_byte(0x61);
    chain.send(0, arena, set_orchestrator(later, true)).await;
    // Warm the cache at the latest block, then read the past.
    let latest = observe_counted(&chain, &desired, &options).await.0;
    assert!(orchestrators(&latest).contains(&later));
    let past = ObserveOptions { block: ReadAt::Number(at), ..options.clone() };
    let (observed, _) = observe_counted(&chain, &desired, &past).await;
    assert_eq!(observed.block.number, at);
    assert!(!orchestrators(&observed).contains(&later), "granted after block {at}");
    assert_eq!(orchestrators(&observed).len(), 3);
    // Reading the past left the cache at the latest block.
    let (again, _) = observe_counted(&chain, &desired, &options).await;
    assert_eq!(orchestrators(&again), orchestrators(&latest));
    // Through the command line, and a block the node does not have yet.
    let file = dir.path().join("devnet.yaml");
    let file = file.to_str().expect("utf-8 path");
    let cache = dir.path().join("cli-cache");
    let cache = cache.to_str().expect("utf-8 path");
    let block = at.to_string();
    let (code, stdout, stderr) =
        chain.govstate(&["plan", file, "--block", &block, "--format", "json", "--cache-dir", cache, "--stats"]);
    assert_eq!(code, Some(0), "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON plan");
    assert_eq!(plan["block"]["number"].as_u64(), Some(at), "{stdout}");
    assert!(stderr.contains("RPC: ") && stderr.contains("round trips"), "{stderr}");
    let (code, _, stderr) = chain.govstate(&["plan", file, "--block", "99999999", "--cache-dir", cache]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no 99999999 block"), "{stderr}");
    let (code, _, stderr) = chain.govstate(&["plan", file, "--block", "pending"]);
    assert_eq!(code, Some(1), "a usage error: {stderr}");
    assert!(stderr.contains("finalized, safe, latest or a block number"), "{stderr}");
    // The file matches block N, not the latest block.
    let (code, stdout, stderr) = chain.govstate(&["drift", file, "--block", &block, "--cache-dir", cache, "--stats"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("RPC: "), "{stderr}");
    let (code, stdout, stderr) = chain.govstate(&["drift", file, "--cache-dir", cache]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    // Before the deployment: said so, not a decoding error.
    let (code, _, stderr) = chain.govstate(&["plan", file, "--block", "0", "--cache-dir", cache]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("there is no contract at") && stderr.contains("(block 0)"), "{stderr}");
    // anvil's finalized block is 64 behind its latest: mine until it is
    // block N, where the file still matches, though the latest block has
    // one more orchestrator.
    let head = chain.reader().get_block_number().await.expect("block number");
    let _: serde_json::Value =
        chain.reader().raw_request("anvil_mine".into(), (at + 64 - head,)).await.expect("anvil_mine");
    let (code, stdout, stderr) =
        chain.govstate(&["drift", file, "--block", "finalized", "--format", "json", "--cache-dir", cache]);
    assert_eq!(code, Some(0), "in sync at the finalized block: {stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
    assert_eq!(report["deployments"][0]["block"].as_u64(), Some(at), "{stdout}");
}

alloy::sol! {
    struct Call3 { address target; bool allowFailure; bytes callData; }
    struct Result3 { bool success; bytes returnData; }
    function aggregate3(Call3[] calls) external payable returns (Result3[] returnData);
}

#[tokio::test]
async fn membership_checks_through_multicall3_fit_their_gas_budget_with_room_to_spare() {
    use alloy::rpc::types::TransactionRequest;
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) = chain_with(1_200, dir.path()).await;
    chain.devnet.install_multicall3().await.expect("multicall3");
    let arena = chain.address("arena");
    let holders = orchestrators(&observe_counted(&chain, &desired, &cached(&dir.path().join("none"))).await.0);
    // What one aggregate of a thousand checks costs on a real node.
    let calls: Vec<Call3> = holders
        .iter()
        .take(1_000)
        .map(|h| Call3 {
            target: arena,
            allowFailure: true,
            callData: SelfPlayArena::orchestratorsCall(*h).abi_encode().into(),
        })
        .collect();
    let data = aggregate3Call { calls }.abi_encode();
    let tx = TransactionRequest::default().to(govstate::observe::MULTICALL3).input(data.into());
    let gas = chain.reader().estimate_gas(tx).await.expect("estimateGas");
    let per_check = gas / 1_000;
    // The observer budgets 15,000 gas a read: at least twice what it costs.
    assert!(per_check * 2 <= 15_000, "{per_check} gas a membership check");
    eprintln!("{per_check} gas a membership check inside aggregate3");
    // Cold, through Multicall3: the 1,200 checks in two aggregates at most.
    let stats = RpcStats::default();
    let provider = connect(chain.devnet.url().clone(), &stats);
    let options = ObserveOptions { cache_dir: None, ..ObserveOptions::default() };
    let observed = observe(&provider, &Scope::of(&desired), &options).await.expect("observe");
    assert_eq!(orchestrators(&observed), holders);
    assert!(stats.requests() <= 40, "{} requests", stats.requests());
}

#[path = "fault_proxy/mod.rs"]
mod fault_proxy;

/// The requests in recorded JSON-RPC bodies, counted by method, and for an
/// `eth_call` by target and selector (what each of a warm run's requests is).
fn breakdown(bodies: &[Vec<u8>]) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for body in bodies {
        let value: serde_json::Value = serde_json::from_slice(body).expect("a JSON body");
        let entries = match value {
            serde_json::Value::Array(entries) => entries,
            one => vec![one],
        };
        for entry in entries {
            let method = entry["method"].as_str().unwrap_or("?").to_string();
            let key = match method.as_str() {
                "eth_call" => {
                    let call = &entry["params"][0];
                    let data = call["input"].as_str().or(call["data"].as_str()).unwrap_or("");
                    format!("eth_call {} {}", call["to"].as_str().unwrap_or("?"), &data[..data.len().min(10)])
                }
                "eth_getCode" => format!("eth_getCode {} at {}", entry["params"][0], entry["params"][1]),
                "eth_getBlockByNumber" => format!("eth_getBlockByNumber {}", entry["params"][0]),
                _ => method,
            };
            *out.entry(key).or_insert(0) += 1;
        }
    }
    out
}

/// Observes through a recording proxy; returns the observation, the
/// requests, and what they were.
async fn observe_recorded(
    chain: &TestChain,
    desired: &govstate::spec::Desired,
    options: &ObserveOptions,
) -> (Observed, u64, std::collections::BTreeMap<String, u64>) {
    let faults = fault_proxy::Faults { record: true, ..fault_proxy::Faults::none(1) };
    let proxy = fault_proxy::FaultProxy::start(chain.devnet.url().clone(), faults).await;
    let stats = RpcStats::default();
    let provider = connect(proxy.url.clone(), &stats);
    let observed = observe(&provider, &Scope::of(desired), options).await.expect("observe");
    let seen = proxy.seen(|s| breakdown(&s.bodies));
    (observed, stats.requests(), seen)
}

/// The out-of-band change between two warm runs in `benches/warm.rs`: an
/// extra orchestrator granted and revoked again.
async fn move_on(chain: &TestChain) {
    let arena = chain.address("arena");
    for allowed in [true, false] {
        chain.send(0, arena, set_orchestrator(Address::repeat_byte(0xee), allowed)).await;
    }
}

#[tokio::test]
async fn a_warm_read_through_plain_batches_makes_at_most_40_requests_at_2000_holders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) = chain_with(2_000, dir.path()).await;
    let options = cached(&dir.path().join("cache"));
    let (cold, _) = observe_counted(&chain, &desired, &options).await;
    let mut warm = Vec::new();
    for _ in 0..2 {
        move_on(&chain).await;
        let (observed, requests, seen) = observe_recorded(&chain, &desired, &options).await;
        assert_eq!(orchestrators(&observed), orchestrators(&cold));
        assert_eq!(observed.accounts, cold.accounts, "the authorities as a cold read sees them");
        eprintln!("warm, plain batches: {requests} requests: {seen:#?}");
        warm.push(requests);
    }
    assert!(warm.iter().all(|r| *r <= 40), "warm requests through plain eth_call batches: {warm:?}");
    // Through Multicall3: no more than the 22 it took before the hints.
    chain.devnet.install_multicall3().await.expect("multicall3");
    let multicall = ObserveOptions { multicall: true, ..options };
    observe_counted(&chain, &desired, &multicall).await;
    move_on(&chain).await;
    let (observed, requests, seen) = observe_recorded(&chain, &desired, &multicall).await;
    assert_eq!(orchestrators(&observed), orchestrators(&cold));
    assert!(requests <= 22, "warm requests through Multicall3: {requests}: {seen:#?}");
}

/// What an observation found, as text: two observations of the same block
/// are the same when these are.
fn seen(observed: &Result<Observed, govstate::observe::ObserveError>) -> String {
    match observed {
        Ok(o) => format!("{:?}\n{:?}\n{:?}", o.block, o.contracts, o.accounts),
        Err(error) => format!("error: {error}"),
    }
}

/// Observes warm (the cache in `cache`, plain batches), then cold (no
/// cache) at the same block, asserts they found the same, down to the
/// authority accounts, and returns the warm observation and its requests.
async fn warm_is_cold(
    chain: &TestChain,
    desired: &govstate::spec::Desired,
    cache: &std::path::Path,
) -> (Result<Observed, govstate::observe::ObserveError>, u64) {
    let stats = RpcStats::default();
    let provider = connect(chain.devnet.url().clone(), &stats);
    let warm = observe(&provider, &Scope::of(desired), &cached(cache)).await;
    let cold_options = ObserveOptions { cache_dir: None, multicall: false, ..ObserveOptions::default() };
    let cold = observe(&chain.reader(), &Scope::of(desired), &cold_options).await;
    assert_eq!(seen(&warm), seen(&cold), "the warm read sees what a cold one sees");
    (warm, stats.requests())
}

async fn anvil(chain: &TestChain, method: &str, params: serde_json::Value) {
    let _: serde_json::Value = chain.reader().raw_request(method.to_string().into(), params).await.expect(method);
}

fn account(observed: &Observed, address: Address) -> &govstate::observe::ObservedAccount {
    observed.accounts.iter().find(|a| a.address == address).expect("the account is recognised")
}

#[tokio::test]
async fn a_swapped_authority_a_moved_pauser_and_an_account_gaining_code_are_seen_warm_as_cold() {
    use govstate::contracts::stake_manager::StakeManager;
    use govstate::observe::AccountKind;
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) = chain_with(20, dir.path()).await;
    let cache = dir.path().join("cache");
    let (_, cold_requests) = warm_is_cold(&chain, &desired, &cache).await;
    let (_, warm_requests) = warm_is_cold(&chain, &desired, &cache).await;
    assert!(warm_requests + 20 <= cold_requests, "warm {warm_requests}, cold {cold_requests}");
    // The arena's owner handed over, out of band.
    let (arena, new_owner) = (chain.address("arena"), Address::repeat_byte(0xa1));
    chain.send(0, arena, SelfPlayArena::transferOwnershipCall { newOwner: new_owner }.abi_encode()).await;
    let (observed, _) = warm_is_cold(&chain, &desired, &cache).await;
    let observed = observed.expect("observed");
    assert_eq!(account(&observed, new_owner).kind, AccountKind::Eoa);
    let (_, again) = warm_is_cold(&chain, &desired, &cache).await;
    assert!(again + 20 <= cold_requests, "warm again once seen: {again} requests");
    // The new owner gains code without any event (as an EIP-7702 delegation does).
    let code = govstate::observe::multicall3_code();
    anvil(&chain, "anvil_setCode", serde_json::json!([new_owner, code])).await;
    let (observed, _) = warm_is_cold(&chain, &desired, &cache).await;
    assert_ne!(account(&observed.expect("observed"), new_owner).kind, AccountKind::Eoa);
    // StakeManager's pauser, a lever its holder can pull, moved.
    let (stake_manager, pauser) = (chain.address("stake_manager"), Address::repeat_byte(0xb2));
    chain.send(0, stake_manager, StakeManager::setPauserCall { pauser_: pauser }.abi_encode()).await;
    let (observed, _) = warm_is_cold(&chain, &desired, &cache).await;
    assert_eq!(account(&observed.expect("observed"), pauser).kind, AccountKind::Eoa);
}

#[tokio::test]
async fn a_contract_becoming_another_kind_of_its_section_is_seen_warm_as_cold() {
    use govstate::contracts::system_pause::SystemPause;
    use govstate::devnet::Topology;
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) = wired(TestChain::start_wired(Topology::Modules).await, dir.path()).await;
    let cache = dir.path().join("cache");
    let pause = chain.address("system_pause");
    let modules = chain.reader().get_code_at(pause).await.expect("eth_getCode");
    let variant =
        |observed: &Observed| observed.contracts.iter().find(|c| c.address == pause).and_then(|c| c.kind.variant);
    // Its code swapped for the switch kind's, no event: the default kind.
    anvil(&chain, "anvil_setCode", serde_json::json!([pause, SystemPause::DEPLOYED_BYTECODE.clone()])).await;
    let (observed, _) = warm_is_cold(&chain, &desired, &cache).await;
    assert_eq!(variant(&observed.expect("observed")), Some("switch"));
    let (_, switch_warm) = warm_is_cold(&chain, &desired, &cache).await;
    // And back, no event either: the first probe, asked warm, tells.
    anvil(&chain, "anvil_setCode", serde_json::json!([pause, modules])).await;
    let (observed, warm) = warm_is_cold(&chain, &desired, &cache).await;
    assert_eq!(variant(&observed.expect("observed")), Some("modules"));
    assert!(warm > switch_warm, "the run was made again with every probe: {warm} requests, {switch_warm} before");
}

/// A chain, its state file and the cache, for the tests of authorities.
async fn wired(chain: TestChain, dir: &std::path::Path) -> (TestChain, govstate::spec::Desired) {
    let file = chain.write_state_file(dir).await;
    let desired = govstate::spec::load_file(&file).expect("a valid file").desired();
    (chain, desired)
}

#[tokio::test]
async fn a_safe_threshold_set_without_an_event_is_seen_warm_as_cold() {
    use alloy::primitives::{B256, U256};
    use govstate::contracts::safe::SafeL2;
    use govstate::devnet::{AnvilOptions, Devnet, Topology};
    use govstate::observe::AccountKind;
    let shape = "2-of-3".parse().expect("a Safe shape");
    let devnet =
        Devnet::start_with_safe(&AnvilOptions::default(), Topology::Direct, Some(shape)).await.expect("devnet");
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) = wired(TestChain { devnet }, dir.path()).await;
    let cache = dir.path().join("cache");
    let safe = chain.devnet.wiring().safe.expect("a Safe");
    let (_, cold_requests) = warm_is_cold(&chain, &desired, &cache).await;
    let (_, warm_requests) = warm_is_cold(&chain, &desired, &cache).await;
    assert!(warm_requests < cold_requests, "warm {warm_requests}, cold {cold_requests}");
    // The Safe's threshold (storage slot 4) written behind its back: no event.
    anvil(&chain, "anvil_setStorageAt", serde_json::json!([safe, "0x4", B256::with_last_byte(1)])).await;
    let threshold = chain.read(safe, SafeL2::getThresholdCall {}.abi_encode()).await;
    assert_eq!(SafeL2::getThresholdCall::abi_decode_returns(&threshold).expect("uint"), U256::from(1));
    let (observed, _) = warm_is_cold(&chain, &desired, &cache).await;
    let observed = observed.expect("observed");
    let kind = &account(&observed, safe).kind;
    assert!(matches!(kind, AccountKind::Safe { threshold, .. } if *threshold == U256::from(1)), "{kind:?}");
}

#[tokio::test]
async fn a_timelock_delay_changed_is_seen_warm_as_cold() {
    use alloy::primitives::{B256, U256};
    use govstate::contracts::timelock::TimelockController;
    use govstate::devnet::Topology;
    use govstate::observe::AccountKind;
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) =
        wired(TestChain::start_wired(Topology::Production { timelock_delay: 60 }).await, dir.path()).await;
    let cache = dir.path().join("cache");
    let timelock = chain.devnet.wiring().timelock.expect("a timelock");
    let (_, cold_requests) = warm_is_cold(&chain, &desired, &cache).await;
    let (_, warm_requests) = warm_is_cold(&chain, &desired, &cache).await;
    assert!(warm_requests < cold_requests, "warm {warm_requests}, cold {cold_requests}");
    assert_eq!(warm_is_cold(&chain, &desired, &cache).await.1, warm_requests, "no restart once warm");
    // The delay changed the way it must be: through the timelock itself.
    let update = TimelockController::updateDelayCall { newDelay: U256::from(120) }.abi_encode();
    let (zero, salt, value) = (B256::ZERO, B256::repeat_byte(0x5a), U256::ZERO);
    let schedule = TimelockController::scheduleCall {
        target: timelock,
        value,
        data: update.clone().into(),
        predecessor: zero,
        salt,
        delay: U256::from(60),
    };
    chain.send(0, timelock, schedule.abi_encode()).await;
    anvil(&chain, "evm_increaseTime", serde_json::json!([61])).await;
    chain.mine().await;
    let execute =
        TimelockController::executeCall { target: timelock, value, payload: update.into(), predecessor: zero, salt };
    chain.send(0, timelock, execute.abi_encode()).await;
    let (observed, _) = warm_is_cold(&chain, &desired, &cache).await;
    let observed = observed.expect("observed");
    let kind = &account(&observed, timelock).kind;
    assert!(matches!(kind, AccountKind::Timelock(t) if t.min_delay == 120), "{kind:?}");
}

#[tokio::test]
async fn a_reorg_that_moves_a_deployment_before_the_files_deployment_block_is_seen_warm_as_cold() {
    use alloy::primitives::{B256, Bytes};
    use govstate::observe::ObserveError;
    let dir = tempfile::tempdir().expect("tempdir");
    let (chain, desired) = chain_with(3, dir.path()).await;
    let cache = dir.path().join("cache");
    warm_is_cold(&chain, &desired, &cache).await.0.expect("observed");
    warm_is_cold(&chain, &desired, &cache).await.0.expect("observed warm");
    // Every transaction so far, signed, as it was mined.
    let head = chain.reader().get_block_number().await.expect("block number");
    let mut raws: Vec<Bytes> = Vec::new();
    for number in 1..=head {
        let block = chain.reader().get_block_by_number(number.into()).await.expect("block").expect("a block");
        for hash in block.transactions.hashes() {
            let raw: Bytes =
                chain.reader().raw_request("eth_getRawTransactionByHash".into(), (hash,)).await.expect("raw");
            raws.push(raw);
        }
    }
    // Another history, longer: the very same transactions, all in block 1.
    anvil(&chain, "anvil_rollback", serde_json::json!([head])).await;
    chain.automine(false).await;
    for raw in &raws {
        let _: B256 = chain.reader().raw_request("eth_sendRawTransaction".into(), (raw,)).await.expect("sent");
    }
    chain.mine().await;
    chain.automine(true).await;
    while chain.reader().get_block_number().await.expect("block number") <= head + 1 {
        chain.mine().await;
    }
    let arena = chain.address("arena");
    let code = chain.reader().get_code_at(arena).block_id(1.into()).await.expect("eth_getCode");
    assert!(!code.is_empty(), "the arena now has code in block 1");
    let (observed, _) = warm_is_cold(&chain, &desired, &cache).await;
    assert!(matches!(observed, Err(ObserveError::DeployedBlockTooLate { .. })), "{}", seen(&observed));
}
