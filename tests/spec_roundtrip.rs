//! Any valid desired state, written with `to_yaml` and loaded again, is equal.

use alloy::primitives::{Address, U256};
use govstate::contracts::arena::desired::{ArenaDesired, Committee, RewardSplits, Rewards};
use govstate::contracts::stake_manager::desired::{FeesPct, RoleMinimums, StakeManagerDesired};
use govstate::contracts::system_pause::desired::SystemPauseDesired;
use govstate::spec::{
    self, Amount, ChecksummedAddress, ContractRef, Contracts, DesiredState, Duration, FormatVersion, Spec,
};
use proptest::collection::btree_set;
use proptest::prelude::*;

fn address() -> impl Strategy<Value = ChecksummedAddress> {
    any::<[u8; 20]>().prop_map(|bytes| ChecksummedAddress(Address::from(bytes)))
}

fn non_zero_address() -> impl Strategy<Value = ChecksummedAddress> {
    address().prop_filter("non-zero", |a| !a.is_zero())
}

fn role_set() -> impl Strategy<Value = Vec<ChecksummedAddress>> {
    btree_set(non_zero_address(), 0..6).prop_map(|set| set.into_iter().collect())
}

/// Amounts of every shape: small, whole ether, gwei, fractions, full uint256.
fn amount() -> impl Strategy<Value = Amount> {
    let ether = U256::from(10u64).pow(U256::from(18u64));
    prop_oneof![
        any::<u64>().prop_map(U256::from),
        (0u64..1_000_000).prop_map(move |n| U256::from(n) * ether),
        (0u64..1_000_000).prop_map(|n| U256::from(n) * U256::from(1_000_000u64)),
        any::<[u64; 4]>().prop_map(U256::from_limbs),
    ]
    .prop_map(Amount)
}

fn non_zero_amount() -> impl Strategy<Value = Amount> {
    amount().prop_filter("non-zero", |a| !a.is_zero())
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        1u64..,
        (1u64..1000).prop_map(|d| d * 86_400),
        (1u64..1000).prop_map(|h| h * 3_600),
        (1u64..1000).prop_map(|m| m * 60),
    ]
    .prop_map(Duration::from_secs)
}

/// Three optional parts whose written values sum to at most `max` (and, when
/// all three are written, to at least `min_complete`).
fn bounded_parts(max: u64, min_complete: u64) -> impl Strategy<Value = [Option<u64>; 3]> {
    (0..=max)
        .prop_flat_map(move |a| (Just(a), 0..=max - a))
        .prop_flat_map(move |(a, b)| (Just(a), Just(b), 0..=max - a - b))
        .prop_flat_map(|(a, b, c)| {
            let written = any::<[bool; 3]>();
            written.prop_map(move |w| [w[0].then_some(a), w[1].then_some(b), w[2].then_some(c)])
        })
        .prop_map(move |mut parts| {
            let sum: u64 = parts.iter().flatten().sum();
            if parts.iter().all(Option::is_some) && sum < min_complete {
                parts[0] = parts[0].map(|a| a + min_complete - sum);
            }
            parts
        })
}

fn arena() -> impl Strategy<Value = ArenaDesired> {
    let rewards = (
        proptest::option::of(non_zero_amount()),
        proptest::option::of(non_zero_amount()),
        proptest::option::of(non_zero_amount()),
    )
        .prop_map(|(teacher, student, validator)| Rewards { teacher, student, validator });
    let committee = (proptest::option::of(1u64..), proptest::option::of(non_zero_amount()))
        .prop_map(|(size, validator_stake)| Committee { size, validator_stake });
    let splits =
        bounded_parts(10_000, 1).prop_map(|[teacher, student, validator]| RewardSplits { teacher, student, validator });
    (
        proptest::option::of(non_zero_address()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(role_set()),
        proptest::option::of(rewards),
        proptest::option::of(committee),
        proptest::option::of(1u64..=10_000),
        proptest::option::of(splits),
    )
        .prop_map(|(owner, paused, orchestrators, rewards, committee, target, splits)| ArenaDesired {
            owner,
            paused,
            orchestrators,
            rewards,
            committee,
            target_success_rate_bps: target,
            reward_splits_bps: splits,
        })
}

/// A minimum stake and a cap that is 0 or at least the minimum.
fn stakes() -> impl Strategy<Value = (Option<Amount>, Option<Amount>)> {
    (proptest::option::of(non_zero_amount()), proptest::option::of(amount()), any::<bool>()).prop_map(
        |(min, max, no_cap)| match (min, max) {
            (Some(min), Some(_)) if no_cap => (Some(min), Some(Amount::ZERO)),
            (Some(min), Some(max)) => (Some(min), Some(Amount(min.0.saturating_add(max.0)))),
            other => other,
        },
    )
}

fn stake_manager() -> impl Strategy<Value = StakeManagerDesired> {
    let fees = bounded_parts(100, 0).prop_map(|[fee, burn, validator_reward]| FeesPct { fee, burn, validator_reward });
    let minimums = (proptest::option::of(amount()), proptest::option::of(amount()), proptest::option::of(amount()))
        .prop_map(|(agent, validator, platform)| RoleMinimums { agent, validator, platform });
    (
        (
            proptest::option::of(non_zero_address()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(address()),
            proptest::option::of(role_set()),
        ),
        proptest::option::of(fees),
        stakes(),
        proptest::option::of(minimums),
        proptest::option::of(duration()),
    )
        .prop_map(|((governance, paused, pauser, managers), fees, (min, max), minimums, unbonding)| {
            StakeManagerDesired {
                governance,
                paused,
                pauser,
                validator_lock_managers: managers,
                fees_pct: fees,
                min_stake: min,
                max_stake_per_address: max,
                role_minimums: minimums,
                unbonding_period: unbonding,
            }
        })
}

fn contracts() -> impl Strategy<Value = Contracts> {
    let distinct = btree_set(non_zero_address(), 3).prop_shuffle_vec();
    (distinct, proptest::option::of(any::<u64>()), proptest::option::of(any::<u64>()), any::<[bool; 3]>()).prop_map(
        |(addresses, arena_block, stake_block, written)| Contracts {
            arena: written[0].then_some(ContractRef { address: addresses[0], deployed_block: arena_block }),
            stake_manager: written[1].then_some(ContractRef { address: addresses[1], deployed_block: stake_block }),
            system_pause: written[2].then_some(ContractRef { address: addresses[2], deployed_block: None }),
        },
    )
}

/// Turns a set into a shuffled vector.
trait ShuffleVec {
    fn prop_shuffle_vec(self) -> BoxedStrategy<Vec<ChecksummedAddress>>;
}

impl<S: Strategy<Value = std::collections::BTreeSet<ChecksummedAddress>> + 'static> ShuffleVec for S {
    fn prop_shuffle_vec(self) -> BoxedStrategy<Vec<ChecksummedAddress>> {
        self.prop_map(|set| set.into_iter().collect::<Vec<_>>()).prop_shuffle().boxed()
    }
}

prop_compose! {
    /// A desired state that satisfies every invariant.
    fn desired_state()(
        chain_id in 1u64..,
        rpc_url_env in proptest::option::of("[A-Z_][A-Z0-9_]{0,20}"),
        contracts in contracts(),
        paused in proptest::option::of(any::<bool>()),
        arena in proptest::option::of(arena()),
        stake_manager in proptest::option::of(stake_manager()),
    ) -> DesiredState {
        DesiredState {
            version: FormatVersion::V1,
            chain_id,
            rpc_url_env,
            system_pause: contracts.system_pause.as_ref().map(|_| SystemPauseDesired { paused, pauser: None }),
            arena: arena.filter(|_| contracts.arena.is_some()),
            stake_manager: stake_manager.filter(|_| contracts.stake_manager.is_some()),
            contracts,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_valid_desired_state_reads_back_equal(state in desired_state()) {
        let spec = Spec::from_state(state, "generated").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let yaml = spec.to_yaml_with_schema(spec::SCHEMA_PATH);
        let again = spec::load_str(&yaml, "generated.yaml")
            .map_err(|e| TestCaseError::fail(format!("{e}\n---\n{yaml}")))?;
        prop_assert_eq!(spec, again);
    }
}
