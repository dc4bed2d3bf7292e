//! The pure planner, without a chain: ordering rules on hand-made states,
//! and properties over random observed and desired states, replayed against
//! an independent model of the contracts' checks that decodes the calldata.

use std::collections::BTreeSet;

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolInterface;
use govstate::contracts::arena::SelfPlayArena::SelfPlayArenaCalls as ArenaCall;
use govstate::contracts::stake_manager::StakeManager::StakeManagerCalls as StakeCall;
use govstate::contracts::system_pause::SystemPause::SystemPauseCalls as PauseCall;
use govstate::contracts::{Deployed, KINDS, Phase, Value, kind};
use govstate::observe::{BlockRef, Observed, ObservedContract};
use govstate::plan::{PlanError, PlanOptions, plan};
use govstate::spec::{Desired, DesiredContract};
use proptest::prelude::*;

mod common;

use common::fixtures::{ETHER, fresh_fields, uint};

fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

/// A chain state: every field of every contract, and the role sets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chain {
    fields: Vec<Vec<Value>>,
    orchestrators: BTreeSet<Address>,
    lock_managers: BTreeSet<Address>,
}

fn fresh_chain() -> Chain {
    Chain { fields: fresh_fields(), orchestrators: BTreeSet::new(), lock_managers: BTreeSet::new() }
}

fn address_of(key: &str) -> Address {
    match key {
        "system_pause" => addr(0xa1),
        "arena" => addr(0xa2),
        _ => addr(0xa3),
    }
}

fn observed(chain: &Chain) -> Observed {
    let contracts = KINDS
        .iter()
        .zip(&chain.fields)
        .map(|(kind, fields)| {
            let role_sets = match kind.key {
                "arena" => vec![("orchestrators", chain.orchestrators.clone())],
                "stake_manager" => vec![("validator_lock_managers", chain.lock_managers.clone())],
                _ => vec![],
            };
            let authority = Address::repeat_byte(0xf3);
            ObservedContract { kind, address: address_of(kind.key), fields: fields.clone(), authority, role_sets }
        })
        .collect();
    Observed {
        chain_id: 31337,
        block: BlockRef { number: 7, hash: B256::repeat_byte(7), timestamp: 0, gas_limit: 0 },
        contracts,
        accounts: vec![],
    }
}

/// A desired state writing the given keys (`contract.key`, dotted).
fn desired(fields: &[(&str, &str, Value)], roles: &[(&str, &str, &[Address])]) -> Desired {
    let contracts = KINDS
        .iter()
        .map(|kind| DesiredContract {
            deployed: Deployed { kind, address: address_of(kind.key), deployed_block: Some(0) },
            fields: fields
                .iter()
                .filter(|(c, ..)| *c == kind.key)
                .map(|(_, k, v)| (field_key(kind.key, k), *v))
                .collect(),
            role_sets: roles
                .iter()
                .filter(|(c, ..)| *c == kind.key)
                .map(|(_, k, set)| (role_key(kind.key, k), set.iter().copied().collect()))
                .collect(),
        })
        .collect();
    Desired { chain_id: 31337, contracts }
}

fn field_key(contract: &str, key: &str) -> &'static str {
    kind(contract).and_then(|k| k.field(key)).map(|f| f.key).expect("a field of the table")
}

fn role_key(contract: &str, key: &str) -> &'static str {
    kind(contract).and_then(|k| k.role_set(key)).map(|r| r.key).expect("a role set of the table")
}

fn functions(desired: &Desired, chain: &Chain) -> Vec<(Phase, String, String)> {
    let plan = plan(desired, &observed(chain), &PlanOptions { allow_ownership_transfer: true }).expect("a plan");
    plan.calls
        .iter()
        .map(|c| (c.phase, c.contract.clone(), c.function.split('(').next().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn fee_decrease_is_planned_before_the_burn_increase() {
    let mut chain = fresh_chain();
    chain.fields[2][3] = uint(60);
    chain.fields[2][4] = uint(40);
    let want =
        desired(&[("stake_manager", "fees_pct.fee", uint(40)), ("stake_manager", "fees_pct.burn", uint(60))], &[]);
    let names: Vec<String> = functions(&want, &chain).into_iter().map(|(_, _, f)| f).collect();
    assert_eq!(names, ["setFeePct", "setBurnPct"]);
    let want =
        desired(&[("stake_manager", "fees_pct.fee", uint(60)), ("stake_manager", "fees_pct.burn", uint(40))], &[]);
    chain.fields[2][3] = uint(40);
    chain.fields[2][4] = uint(60);
    let names: Vec<String> = functions(&want, &chain).into_iter().map(|(_, _, f)| f).collect();
    assert_eq!(names, ["setBurnPct", "setFeePct"]);
}

#[test]
fn pause_roles_and_parameters_run_in_phase_order() {
    let chain = Chain { orchestrators: [addr(1)].into(), ..fresh_chain() };
    let want = desired(
        &[
            ("arena", "target_success_rate_bps", uint(6000)),
            ("arena", "paused", Value::Bool(true)),
            ("system_pause", "paused", Value::Bool(true)),
        ],
        &[("arena", "orchestrators", &[addr(2)])],
    );
    let calls = functions(&want, &chain);
    let expected = [
        (Phase::Pause, "system_pause", "pause"),
        (Phase::Pause, "arena", "pause"),
        (Phase::Revoke, "arena", "setOrchestrator"),
        (Phase::Grant, "arena", "setOrchestrator"),
        (Phase::Configure, "arena", "setTargetSuccessRateBps"),
    ];
    let calls: Vec<(Phase, &str, &str)> = calls.iter().map(|(p, c, f)| (*p, c.as_str(), f.as_str())).collect();
    assert_eq!(calls, expected);
}

#[test]
fn unpause_comes_after_parameters_and_system_pause_resumes_last() {
    let mut chain = fresh_chain();
    chain.fields[0][0] = Value::Bool(true);
    chain.fields[1][1] = Value::Bool(true);
    let want = desired(
        &[
            ("system_pause", "paused", Value::Bool(false)),
            ("arena", "paused", Value::Bool(false)),
            ("arena", "committee.size", uint(9)),
        ],
        &[],
    );
    let calls: Vec<(String, String)> = functions(&want, &chain).into_iter().map(|(_, c, f)| (c, f)).collect();
    let calls: Vec<(&str, &str)> = calls.iter().map(|(c, f)| (c.as_str(), f.as_str())).collect();
    assert_eq!(calls, [("arena", "setCommitteeParameters"), ("arena", "unpause"), ("system_pause", "unpause")]);
}

#[test]
fn a_multi_field_setter_carries_the_observed_co_fields() {
    let want = desired(&[("arena", "rewards.student", uint(70 * ETHER))], &[]);
    let plan = plan(&want, &observed(&fresh_chain()), &PlanOptions::default()).expect("a plan");
    assert_eq!(plan.calls.len(), 1);
    let args: Vec<Value> = plan.calls[0].args.iter().map(|a| a.value).collect();
    assert_eq!(args, [uint(150 * ETHER), uint(70 * ETHER), uint(25 * ETHER)]);
    assert_eq!(plan.changes.len(), 1, "only the written field changes");
}

#[test]
fn an_ownership_change_is_refused_unless_allowed() {
    let want = desired(&[("arena", "owner", Value::Address(addr(9)))], &[]);
    let refused = plan(&want, &observed(&fresh_chain()), &PlanOptions::default());
    assert!(matches!(refused, Err(PlanError::OwnershipTransferNotAllowed { ref changes }) if changes.len() == 1));
    let allowed =
        plan(&want, &observed(&fresh_chain()), &PlanOptions { allow_ownership_transfer: true }).expect("a plan");
    assert_eq!(allowed.calls.len(), 1);
    assert_eq!(allowed.calls[0].phase, Phase::Ownership);
}

#[test]
fn a_target_no_order_can_reach_is_refused_with_the_revert() {
    let mut chain = fresh_chain();
    chain.fields[2][4] = uint(50);
    let want = desired(&[("stake_manager", "fees_pct.fee", uint(60))], &[]);
    let refused = plan(&want, &observed(&chain), &PlanOptions::default());
    assert!(
        matches!(refused, Err(PlanError::NoSafeOrder { ref revert, .. }) if revert == "InvalidPercentage()"),
        "{refused:?}"
    );
}

#[test]
fn a_file_equal_to_the_chain_plans_nothing() {
    let chain = Chain { orchestrators: [addr(1), addr(2)].into(), ..fresh_chain() };
    let want = desired(
        &[("arena", "paused", Value::Bool(false)), ("stake_manager", "min_stake", uint(ETHER))],
        &[("arena", "orchestrators", &[addr(2), addr(1)])],
    );
    let plan = plan(&want, &observed(&chain), &PlanOptions::default()).expect("a plan");
    assert!(plan.is_empty(), "{plan:?}");
}

// ---- properties --------------------------------------------------------

/// The contracts' checks, written again from contracts.md and applied to
/// decoded calldata: independent of the planner's own table.
fn replay(chain: &mut Chain, contract: &str, calldata: &[u8]) -> Result<(), String> {
    let arena = |i: usize| 1 + i;
    match contract {
        "system_pause" => match PauseCall::abi_decode(calldata).map_err(|e| e.to_string())? {
            PauseCall::pause(_) => toggle(&mut chain.fields[0][0], true),
            PauseCall::unpause(_) => toggle(&mut chain.fields[0][0], false),
            other => Err(format!("unexpected {other:?}")),
        },
        "arena" => {
            let f = &mut chain.fields[1];
            match ArenaCall::abi_decode(calldata).map_err(|e| e.to_string())? {
                ArenaCall::pause(_) => toggle(&mut f[1], true),
                ArenaCall::unpause(_) => toggle(&mut f[1], false),
                ArenaCall::setOrchestrator(c) => {
                    if c.orchestrator.is_zero() {
                        return Err("ZeroAddress".into());
                    }
                    if c.allowed {
                        chain.orchestrators.insert(c.orchestrator)
                    } else {
                        chain.orchestrators.remove(&c.orchestrator)
                    };
                    Ok(())
                }
                ArenaCall::setRewards(c) => {
                    let values = [c.teacherReward, c.studentReward, c.validatorReward];
                    if values.iter().any(U256::is_zero) {
                        return Err("ZeroValue".into());
                    }
                    for (i, v) in values.into_iter().enumerate() {
                        f[arena(i + 1)] = Value::Uint(v);
                    }
                    Ok(())
                }
                ArenaCall::setCommitteeParameters(c) => {
                    if c.committeeSize_.is_zero() || c.validatorStake_.is_zero() {
                        return Err("ZeroValue".into());
                    }
                    f[5] = Value::Uint(c.committeeSize_);
                    f[6] = Value::Uint(c.validatorStake_);
                    Ok(())
                }
                ArenaCall::setTargetSuccessRateBps(c) => {
                    let bps = c.targetSuccessRateBps_;
                    if bps.is_zero() || bps > U256::from(10_000) {
                        return Err("ZeroValue".into());
                    }
                    f[7] = Value::Uint(bps);
                    Ok(())
                }
                ArenaCall::setRewardSplits(c) => {
                    let splits = [c.teacherSplitBps, c.studentSplitBps, c.validatorSplitBps];
                    let sum: u32 = splits.iter().map(|s| u32::from(*s)).sum();
                    if sum == 0 || sum > 10_000 {
                        return Err("InvalidSplit".into());
                    }
                    for (i, s) in splits.into_iter().enumerate() {
                        f[8 + i] = uint(u128::from(s));
                    }
                    Ok(())
                }
                ArenaCall::transferOwnership(c) => {
                    if c.newOwner.is_zero() {
                        return Err("OwnableInvalidOwner".into());
                    }
                    f[0] = Value::Address(c.newOwner);
                    Ok(())
                }
                other => Err(format!("unexpected {other:?}")),
            }
        }
        _ => {
            let f = &mut chain.fields[2];
            let pct = |f: &Vec<Value>, i: usize| match f[i] {
                Value::Uint(n) => n,
                _ => U256::MAX,
            };
            let set_pct = |f: &mut Vec<Value>, i: usize, new: U256| {
                let others: U256 =
                    [3, 4, 5].iter().filter(|j| **j != i).map(|j| pct(f, *j)).fold(U256::ZERO, |a, b| a + b);
                if new + others > U256::from(100) {
                    return Err("InvalidPercentage".to_string());
                }
                f[i] = Value::Uint(new);
                Ok(())
            };
            match StakeCall::abi_decode(calldata).map_err(|e| e.to_string())? {
                StakeCall::pause(_) => toggle(&mut f[1], true),
                StakeCall::unpause(_) => toggle(&mut f[1], false),
                StakeCall::setPauser(c) => {
                    f[2] = Value::Address(c.pauser_);
                    Ok(())
                }
                StakeCall::setValidatorLockManager(c) => {
                    if c.manager.is_zero() {
                        return Err("InvalidUser".into());
                    }
                    if c.allowed {
                        chain.lock_managers.insert(c.manager)
                    } else {
                        chain.lock_managers.remove(&c.manager)
                    };
                    Ok(())
                }
                StakeCall::setFeePct(c) => set_pct(f, 3, c.pct),
                StakeCall::setBurnPct(c) => set_pct(f, 4, c.pct),
                StakeCall::setValidatorRewardPct(c) => set_pct(f, 5, c.pct),
                StakeCall::setStakeRecommendations(c) => {
                    if c.newMin.is_zero() {
                        return Err("InvalidMinStake".into());
                    }
                    if !c.newMax.is_zero() && c.newMax < c.newMin {
                        return Err("InvalidParams".into());
                    }
                    f[6] = Value::Uint(c.newMin);
                    f[7] = Value::Uint(c.newMax);
                    Ok(())
                }
                StakeCall::setRoleMinimums(c) => {
                    f[8] = Value::Uint(c.agent);
                    f[9] = Value::Uint(c.validator);
                    f[10] = Value::Uint(c.platform);
                    Ok(())
                }
                StakeCall::setUnbondingPeriod(c) => {
                    if c.period.is_zero() {
                        return Err("InvalidUnbondingPeriod".into());
                    }
                    f[11] = Value::Uint(c.period);
                    Ok(())
                }
                StakeCall::setGovernance(c) => {
                    if c.newGovernance.is_zero() {
                        return Err("ZeroAddress".into());
                    }
                    f[0] = Value::Address(c.newGovernance);
                    Ok(())
                }
                other => Err(format!("unexpected {other:?}")),
            }
        }
    }
}

fn toggle(slot: &mut Value, to: bool) -> Result<(), String> {
    if *slot == Value::Bool(to) {
        return Err(if to { "EnforcedPause" } else { "ExpectedPause" }.into());
    }
    *slot = Value::Bool(to);
    Ok(())
}

/// The setter groups of the table as field indexes, and whether a merged
/// state is one the contracts' own checks accept.
const GROUPS: &[(usize, &[usize])] = &[
    (0, &[0]),
    (1, &[0]),
    (1, &[1]),
    (1, &[2, 3, 4]),
    (1, &[5, 6]),
    (1, &[7]),
    (1, &[8, 9, 10]),
    (2, &[0]),
    (2, &[1]),
    (2, &[2]),
    (2, &[3]),
    (2, &[4]),
    (2, &[5]),
    (2, &[6, 7]),
    (2, &[8, 9, 10]),
    (2, &[11]),
];

fn reachable(target: &Chain) -> bool {
    let n = |c: usize, i: usize| match target.fields[c][i] {
        Value::Uint(n) => n,
        _ => U256::ZERO,
    };
    let splits = n(1, 8) + n(1, 9) + n(1, 10);
    let pct = n(2, 3) + n(2, 4) + n(2, 5);
    let (min, max) = (n(2, 6), n(2, 7));
    !splits.is_zero() && splits <= U256::from(10_000) && pct <= U256::from(100) && (max.is_zero() || max >= min)
}

fn small_uint(max: u128) -> impl Strategy<Value = Value> {
    (1..=max).prop_map(uint)
}

/// Random values for every field, valid one by one (as the file checks them).
fn field_values() -> impl Strategy<Value = Vec<Vec<Value>>> {
    let who = (1u8..6).prop_map(|b| Value::Address(addr(b)));
    let flag = any::<bool>().prop_map(Value::Bool);
    let arena = (
        who.clone(),
        flag.clone(),
        proptest::collection::vec(small_uint(300), 3),
        small_uint(9),
        small_uint(9),
        small_uint(10_000),
        proptest::collection::vec((0u128..=5000).prop_map(uint), 3),
    )
        .prop_map(|(owner, paused, rewards, size, stake, target, splits)| {
            let mut f = vec![owner, paused];
            f.extend(rewards);
            f.extend([size, stake, target]);
            f.extend(splits);
            f
        });
    let stake = (
        who.clone(),
        flag.clone(),
        (0u8..6).prop_map(|b| Value::Address(if b == 0 { Address::ZERO } else { addr(b) })),
        proptest::collection::vec((0u128..=60).prop_map(uint), 3),
        small_uint(20),
        (0u128..=40).prop_map(uint),
        proptest::collection::vec((0u128..=9).prop_map(uint), 3),
        small_uint(1_000_000),
    )
        .prop_map(|(gov, paused, pauser, pcts, min, max, roles, period)| {
            let mut f = vec![gov, paused, pauser];
            f.extend(pcts);
            f.extend([min, max]);
            f.extend(roles);
            f.push(period);
            f
        });
    (flag, arena, stake).prop_map(|(p, a, s)| vec![vec![p], a, s])
}

fn holders() -> impl Strategy<Value = BTreeSet<Address>> {
    proptest::collection::btree_set((1u8..12).prop_map(addr), 0..6)
}

/// A reachable chain state to start from.
fn chain_state() -> impl Strategy<Value = Chain> {
    (field_values(), holders(), holders())
        .prop_map(|(fields, orchestrators, lock_managers)| Chain { fields, orchestrators, lock_managers })
        .prop_filter("the chain only holds states its setters accept", reachable)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn replaying_a_plan_passes_every_check_and_reaches_the_file(
        start in chain_state(),
        wanted in field_values(),
        mask in proptest::collection::vec(any::<bool>(), 35),
        orchestrators in proptest::option::of(holders()),
        lock_managers in proptest::option::of(holders()),
    ) {
        // The file writes a random subset of keys.
        let mut written = Vec::new();
        let mut target = start.clone();
        let mut bit = mask.iter();
        for (c, kind) in KINDS.iter().enumerate() {
            for (i, field) in kind.fields.iter().enumerate() {
                if *bit.next().unwrap_or(&false) {
                    written.push((kind.key, field.key, wanted[c][i]));
                    target.fields[c][i] = wanted[c][i];
                }
            }
        }
        let mut roles: Vec<(&str, &str, Vec<Address>)> = Vec::new();
        if let Some(set) = &orchestrators {
            roles.push(("arena", "orchestrators", set.iter().copied().collect()));
            target.orchestrators = set.clone();
        }
        if let Some(set) = &lock_managers {
            roles.push(("stake_manager", "validator_lock_managers", set.iter().copied().collect()));
            target.lock_managers = set.clone();
        }
        let role_refs: Vec<(&str, &str, &[Address])> = roles.iter().map(|(c, k, v)| (*c, *k, v.as_slice())).collect();
        let desired = desired(&written, &role_refs);
        let result = plan(&desired, &observed(&start), &PlanOptions { allow_ownership_transfer: true });

        if !reachable(&target) {
            let refused = matches!(result, Err(PlanError::NoSafeOrder { .. } | PlanError::Unreachable { .. }));
            prop_assert!(refused, "an unreachable target must be refused, got {:?}", result);
            return Ok(());
        }
        let plan = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Saved and loaded, the plan is what its own record plans.
        let saved = serde_json::to_vec(&plan).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let loaded = govstate::plan::load(&saved, "plan.json").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let rederived = govstate::plan::rederive(&loaded).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&rederived, &plan);

        // Every call passes the contracts' checks, in plan order.
        let mut chain = start.clone();
        for call in &plan.calls {
            replay(&mut chain, &call.contract, &call.calldata).map_err(|e| TestCaseError::fail(format!("{} reverts {e}", call.function)))?;
        }
        // The chain ends in the desired state.
        prop_assert_eq!(&chain, &target);
        // Exactly one call per setter group that differs, plus one per role change.
        let groups = GROUPS.iter().filter(|(c, fields)| fields.iter().any(|i| start.fields[*c][*i] != target.fields[*c][*i])).count();
        let roles = start.orchestrators.symmetric_difference(&target.orchestrators).count()
            + start.lock_managers.symmetric_difference(&target.lock_managers).count();
        prop_assert_eq!(plan.calls.len(), groups + roles);
        // Phases never go backwards.
        prop_assert!(plan.calls.windows(2).all(|w| w[0].phase <= w[1].phase));
    }
}
