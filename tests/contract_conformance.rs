//! The reference contracts reproduce the governance surface described in
//! shared/contracts.md: access checks, argument checks, events and getters.
//! One table of cases, run against one devnet, returning to a snapshot of the
//! fresh deployment before each case.

mod common;

use alloy::primitives::{Address, B256, U256, address};
use alloy::sol_types::{SolCall, SolError, SolEvent, SolValue};
use common::TestChain;
use govstate::contracts::arena::SelfPlayArena as Arena;
use govstate::contracts::stake_manager::StakeManager as Stake;
use govstate::contracts::system_pause::SystemPause as Pause;
use govstate::observe::{ObserveOptions, Scope};

const OWNER: usize = 0;
const STRANGER: usize = 1;
const HELPER: usize = 2;
const ALICE: Address = address!("0x00000000000000000000000000000000000a11ce");

/// Which contract a call goes to.
#[derive(Clone, Copy, Debug)]
enum On {
    Arena,
    Stake,
    Pause,
}

impl On {
    fn key(self) -> &'static str {
        match self {
            On::Arena => "arena",
            On::Stake => "stake_manager",
            On::Pause => "system_pause",
        }
    }
}

/// A call: target and calldata.
#[derive(Clone, Debug)]
struct Call {
    on: On,
    data: Vec<u8>,
}

fn call(on: On, c: impl SolCall) -> Call {
    Call { on, data: c.abi_encode() }
}

/// What must happen.
#[derive(Debug)]
enum Expect {
    /// The call reverts with this custom error (selector and signature).
    Revert([u8; 4], &'static str),
    /// The call succeeds, emits exactly these events in this order, and
    /// afterwards each getter returns the given ABI-encoded value.
    Success { events: Vec<B256>, then: Vec<(Call, Vec<u8>)> },
}

struct Case {
    name: &'static str,
    setup: Vec<Call>,
    from: usize,
    call: Call,
    expect: Expect,
}

fn reverts<E: SolError>(name: &'static str, from: usize, call: Call) -> Case {
    Case { name, setup: vec![], from, call, expect: Expect::Revert(E::SELECTOR, E::SIGNATURE) }
}

fn succeeds(name: &'static str, call: Call, events: &[B256], then: Vec<(Call, Vec<u8>)>) -> Case {
    Case { name, setup: vec![], from: OWNER, call, expect: Expect::Success { events: events.to_vec(), then } }
}

impl Case {
    fn after(mut self, setup: Vec<Call>) -> Self {
        self.setup = setup;
        self
    }

    fn by(mut self, from: usize) -> Self {
        self.from = from;
        self
    }
}

fn reads(getter: Call, value: impl SolValue) -> (Call, Vec<u8>) {
    (getter, value.abi_encode())
}

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

/// Every governance setter of every contract, with valid arguments.
fn every_setter(stranger: Address) -> Vec<(Call, [u8; 4], &'static str)> {
    let arena_owner = |c: Call| (c, Arena::OwnableUnauthorizedAccount::SELECTOR, "OwnableUnauthorizedAccount(address)");
    let governance = |c: Call| (c, Stake::NotGovernance::SELECTOR, Stake::NotGovernance::SIGNATURE);
    vec![
        arena_owner(call(On::Arena, Arena::pauseCall {})),
        arena_owner(call(On::Arena, Arena::unpauseCall {})),
        arena_owner(call(On::Arena, Arena::setOrchestratorCall { orchestrator: ALICE, allowed: true })),
        arena_owner(call(
            On::Arena,
            Arena::setRewardsCall { teacherReward: ether(1), studentReward: ether(1), validatorReward: ether(1) },
        )),
        arena_owner(call(
            On::Arena,
            Arena::setCommitteeParametersCall { committeeSize_: U256::from(3), validatorStake_: ether(1) },
        )),
        arena_owner(call(On::Arena, Arena::setTargetSuccessRateBpsCall { targetSuccessRateBps_: U256::from(5000) })),
        arena_owner(call(
            On::Arena,
            Arena::setRewardSplitsCall { teacherSplitBps: 5000, studentSplitBps: 3000, validatorSplitBps: 2000 },
        )),
        arena_owner(call(On::Arena, Arena::transferOwnershipCall { newOwner: ALICE })),
        arena_owner(call(On::Arena, Arena::renounceOwnershipCall {})),
        (call(On::Stake, Stake::pauseCall {}), Stake::Unauthorized::SELECTOR, Stake::Unauthorized::SIGNATURE),
        (call(On::Stake, Stake::unpauseCall {}), Stake::Unauthorized::SELECTOR, Stake::Unauthorized::SIGNATURE),
        (
            call(On::Stake, Stake::setPauserCall { pauser_: ALICE }),
            Stake::NotGovernanceOrPauserManager::SELECTOR,
            Stake::NotGovernanceOrPauserManager::SIGNATURE,
        ),
        governance(call(On::Stake, Stake::setPauserManagerCall { pauserManager_: ALICE })),
        governance(call(On::Stake, Stake::setValidatorLockManagerCall { manager: ALICE, allowed: true })),
        governance(call(On::Stake, Stake::setFeePctCall { pct: U256::from(1) })),
        governance(call(On::Stake, Stake::setBurnPctCall { pct: U256::from(1) })),
        governance(call(On::Stake, Stake::setValidatorRewardPctCall { pct: U256::from(1) })),
        governance(call(On::Stake, Stake::setMinStakeCall { minStake_: ether(2) })),
        governance(call(
            On::Stake,
            Stake::setRoleMinimumsCall { agent: U256::ZERO, validator: ether(1), platform: U256::ZERO },
        )),
        governance(call(On::Stake, Stake::setStakeRecommendationsCall { newMin: ether(1), newMax: ether(5) })),
        governance(call(On::Stake, Stake::setMaxStakePerAddressCall { maxStake: ether(9) })),
        governance(call(On::Stake, Stake::setUnbondingPeriodCall { period: U256::from(60) })),
        governance(call(On::Stake, Stake::setGovernanceCall { newGovernance: stranger })),
        governance(call(On::Stake, Stake::transferOwnershipCall { newOwner: stranger })),
        (call(On::Pause, Pause::pauseCall {}), Pause::NotGovernance::SELECTOR, Pause::NotGovernance::SIGNATURE),
        (call(On::Pause, Pause::unpauseCall {}), Pause::NotGovernance::SELECTOR, Pause::NotGovernance::SIGNATURE),
    ]
}

fn arena_cases(owner: Address) -> Vec<Case> {
    let pause = call(On::Arena, Arena::pauseCall {});
    let rewards = |t: u64, s: u64, v: u64| {
        call(
            On::Arena,
            Arena::setRewardsCall {
                teacherReward: U256::from(t),
                studentReward: U256::from(s),
                validatorReward: U256::from(v),
            },
        )
    };
    let committee = |n: u64, stake: U256| {
        call(On::Arena, Arena::setCommitteeParametersCall { committeeSize_: U256::from(n), validatorStake_: stake })
    };
    let target =
        |bps: u64| call(On::Arena, Arena::setTargetSuccessRateBpsCall { targetSuccessRateBps_: U256::from(bps) });
    let splits = |t: u16, s: u16, v: u16| {
        call(On::Arena, Arena::setRewardSplitsCall { teacherSplitBps: t, studentSplitBps: s, validatorSplitBps: v })
    };
    let params = Arena::ParametersUpdated::SIGNATURE_HASH;
    vec![
        succeeds(
            "arena pause",
            pause.clone(),
            &[Arena::Paused::SIGNATURE_HASH],
            vec![reads(call(On::Arena, Arena::pausedCall {}), true)],
        ),
        reverts::<Arena::EnforcedPause>("arena pause twice", OWNER, pause.clone()).after(vec![pause.clone()]),
        succeeds(
            "arena unpause",
            call(On::Arena, Arena::unpauseCall {}),
            &[Arena::Unpaused::SIGNATURE_HASH],
            vec![reads(call(On::Arena, Arena::pausedCall {}), false)],
        )
        .after(vec![pause.clone()]),
        reverts::<Arena::ExpectedPause>("arena unpause while running", OWNER, call(On::Arena, Arena::unpauseCall {})),
        succeeds(
            "arena grant orchestrator",
            call(On::Arena, Arena::setOrchestratorCall { orchestrator: ALICE, allowed: true }),
            &[Arena::OrchestratorUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Arena, Arena::orchestratorsCall(ALICE)), true)],
        ),
        succeeds(
            "arena revoke of a non-holder still emits",
            call(On::Arena, Arena::setOrchestratorCall { orchestrator: ALICE, allowed: false }),
            &[Arena::OrchestratorUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Arena, Arena::orchestratorsCall(ALICE)), false)],
        ),
        reverts::<Arena::ZeroAddress>(
            "arena orchestrator zero address",
            OWNER,
            call(On::Arena, Arena::setOrchestratorCall { orchestrator: Address::ZERO, allowed: true }),
        ),
        succeeds(
            "arena set rewards",
            rewards(3, 2, 1),
            &[Arena::RewardsUpdated::SIGNATURE_HASH, params],
            vec![
                reads(call(On::Arena, Arena::baseTeacherRewardCall {}), U256::from(3)),
                reads(call(On::Arena, Arena::baseStudentRewardCall {}), U256::from(2)),
                reads(call(On::Arena, Arena::baseValidatorRewardCall {}), U256::from(1)),
            ],
        ),
        reverts::<Arena::ZeroValue>("arena zero teacher reward", OWNER, rewards(0, 1, 1)),
        reverts::<Arena::ZeroValue>("arena zero student reward", OWNER, rewards(1, 0, 1)),
        reverts::<Arena::ZeroValue>("arena zero validator reward", OWNER, rewards(1, 1, 0)),
        succeeds(
            "arena set committee",
            committee(7, ether(2)),
            &[Arena::CommitteeParametersUpdated::SIGNATURE_HASH, params],
            vec![
                reads(call(On::Arena, Arena::committeeSizeCall {}), U256::from(7)),
                reads(call(On::Arena, Arena::validatorStakeCall {}), ether(2)),
            ],
        ),
        reverts::<Arena::ZeroValue>("arena zero committee size", OWNER, committee(0, ether(1))),
        reverts::<Arena::ZeroValue>("arena zero validator stake", OWNER, committee(3, U256::ZERO)),
        succeeds(
            "arena set target",
            target(10_000),
            &[Arena::TargetSuccessRateUpdated::SIGNATURE_HASH, params],
            vec![reads(call(On::Arena, Arena::targetSuccessRateBpsCall {}), U256::from(10_000))],
        ),
        reverts::<Arena::ZeroValue>("arena zero target", OWNER, target(0)),
        reverts::<Arena::ZeroValue>("arena target above 10000", OWNER, target(10_001)),
        succeeds(
            "arena set splits",
            splits(6000, 2000, 2000),
            &[Arena::RewardSplitsUpdated::SIGNATURE_HASH, params],
            vec![
                reads(call(On::Arena, Arena::teacherRewardSplitBpsCall {}), 6000u16),
                reads(call(On::Arena, Arena::studentRewardSplitBpsCall {}), 2000u16),
                reads(call(On::Arena, Arena::validatorRewardSplitBpsCall {}), 2000u16),
            ],
        ),
        reverts::<Arena::InvalidSplit>("arena split sum 0", OWNER, splits(0, 0, 0)),
        reverts::<Arena::InvalidSplit>("arena split sum above 10000", OWNER, splits(5000, 5000, 1)),
        reverts::<Arena::InvalidSplit>("arena initial split state is rejected", OWNER, splits(10_000, 10_000, 10_000)),
        succeeds(
            "arena works while paused",
            target(5000),
            &[Arena::TargetSuccessRateUpdated::SIGNATURE_HASH, params],
            vec![reads(call(On::Arena, Arena::targetSuccessRateBpsCall {}), U256::from(5000))],
        )
        .after(vec![pause.clone()]),
        succeeds(
            "arena transfer ownership",
            call(On::Arena, Arena::transferOwnershipCall { newOwner: ALICE }),
            &[Arena::OwnershipTransferred::SIGNATURE_HASH],
            vec![reads(call(On::Arena, Arena::ownerCall {}), ALICE)],
        ),
        reverts::<Arena::OwnableInvalidOwner>(
            "arena transfer ownership to zero",
            OWNER,
            call(On::Arena, Arena::transferOwnershipCall { newOwner: Address::ZERO }),
        ),
        succeeds(
            "arena owner is the deployer",
            call(On::Arena, Arena::ownerCall {}),
            &[],
            vec![reads(call(On::Arena, Arena::ownerCall {}), owner)],
        ),
    ]
}

fn stake_cases(owner: Address, helper: Address) -> Vec<Case> {
    let pct = |f: fn(U256) -> Call, n: u64| f(U256::from(n));
    let fee = |n: U256| call(On::Stake, Stake::setFeePctCall { pct: n });
    let burn = |n: U256| call(On::Stake, Stake::setBurnPctCall { pct: n });
    let reward = |n: U256| call(On::Stake, Stake::setValidatorRewardPctCall { pct: n });
    let pause = call(On::Stake, Stake::pauseCall {});
    let set_pauser = call(On::Stake, Stake::setPauserCall { pauser_: helper });
    let set_manager = call(On::Stake, Stake::setPauserManagerCall { pauserManager_: helper });
    let governance = |who: Address| call(On::Stake, Stake::setGovernanceCall { newGovernance: who });
    vec![
        succeeds(
            "stake pause by governance",
            pause.clone(),
            &[Stake::Paused::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::pausedCall {}), true)],
        ),
        succeeds("stake pause by the pauser", pause.clone(), &[Stake::Paused::SIGNATURE_HASH], vec![])
            .after(vec![set_pauser.clone()])
            .by(HELPER),
        succeeds(
            "stake unpause by the pauser",
            call(On::Stake, Stake::unpauseCall {}),
            &[Stake::Unpaused::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::pausedCall {}), false)],
        )
        .after(vec![set_pauser.clone(), pause.clone()])
        .by(HELPER),
        reverts::<Stake::EnforcedPause>("stake pause twice", OWNER, pause.clone()).after(vec![pause.clone()]),
        reverts::<Stake::ExpectedPause>("stake unpause while running", OWNER, call(On::Stake, Stake::unpauseCall {})),
        succeeds(
            "stake set pauser",
            set_pauser.clone(),
            &[Stake::PauserUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::pauserCall {}), helper)],
        ),
        succeeds(
            "stake clear pauser",
            call(On::Stake, Stake::setPauserCall { pauser_: Address::ZERO }),
            &[Stake::PauserUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::pauserCall {}), Address::ZERO)],
        )
        .after(vec![set_pauser.clone()]),
        succeeds(
            "stake set pauser manager",
            set_manager.clone(),
            &[Stake::PauserManagerUpdated::SIGNATURE_HASH],
            vec![
                reads(call(On::Stake, Stake::pauserManagerCall {}), helper),
                reads(call(On::Stake, Stake::pauserCall {}), Address::ZERO),
            ],
        ),
        succeeds(
            "stake clear pauser manager",
            call(On::Stake, Stake::setPauserManagerCall { pauserManager_: Address::ZERO }),
            &[Stake::PauserManagerUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::pauserManagerCall {}), Address::ZERO)],
        )
        .after(vec![set_manager.clone()]),
        succeeds(
            "stake set pauser by the pauser manager",
            call(On::Stake, Stake::setPauserCall { pauser_: ALICE }),
            &[Stake::PauserUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::pauserCall {}), ALICE)],
        )
        .after(vec![set_manager.clone()])
        .by(HELPER),
        reverts::<Stake::NotGovernance>(
            "stake pauser manager cannot name the pauser manager",
            HELPER,
            call(On::Stake, Stake::setPauserManagerCall { pauserManager_: ALICE }),
        )
        .after(vec![set_manager.clone()]),
        reverts::<Stake::Unauthorized>("stake pauser manager cannot pause", HELPER, pause.clone())
            .after(vec![set_manager.clone()]),
        reverts::<Stake::NotGovernanceOrPauserManager>(
            "stake pauser cannot name the pauser",
            HELPER,
            call(On::Stake, Stake::setPauserCall { pauser_: ALICE }),
        )
        .after(vec![set_pauser.clone()]),
        reverts::<Stake::NotGovernanceOrPauserManager>(
            "stake former pauser manager cannot name the pauser",
            HELPER,
            call(On::Stake, Stake::setPauserCall { pauser_: ALICE }),
        )
        .after(vec![set_manager.clone(), call(On::Stake, Stake::setPauserManagerCall { pauserManager_: ALICE })]),
        succeeds(
            "stake grant lock manager",
            call(On::Stake, Stake::setValidatorLockManagerCall { manager: ALICE, allowed: true }),
            &[Stake::ValidatorLockManagerUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::validatorLockManagersCall(ALICE)), true)],
        ),
        reverts::<Stake::InvalidUser>(
            "stake lock manager zero address",
            OWNER,
            call(On::Stake, Stake::setValidatorLockManagerCall { manager: Address::ZERO, allowed: true }),
        ),
        succeeds(
            "stake set fee",
            pct(fee, 4),
            &[Stake::FeePctUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::feePctCall {}), U256::from(4))],
        ),
        succeeds(
            "stake unchanged fee emits nothing",
            pct(fee, 0),
            &[],
            vec![reads(call(On::Stake, Stake::feePctCall {}), U256::ZERO)],
        ),
        succeeds(
            "stake set burn",
            pct(burn, 1),
            &[Stake::BurnPctUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::burnPctCall {}), U256::from(1))],
        ),
        succeeds(
            "stake set validator reward",
            pct(reward, 10),
            &[Stake::ValidatorRewardPctUpdated::SIGNATURE_HASH],
            vec![
                reads(call(On::Stake, Stake::validatorRewardPctCall {}), U256::from(10)),
                reads(call(On::Stake, Stake::validatorSlashRewardPctCall {}), U256::from(10)),
            ],
        ),
        reverts::<Stake::InvalidPercentage>("stake fee above 100", OWNER, pct(fee, 101)),
        reverts::<Stake::InvalidPercentage>("stake burn against current fee", OWNER, pct(burn, 41))
            .after(vec![pct(fee, 60)]),
        reverts::<Stake::InvalidPercentage>("stake raise burn before lowering fee", OWNER, pct(burn, 60))
            .after(vec![pct(fee, 60), pct(burn, 40)]),
        succeeds(
            "stake lower fee then raise burn",
            pct(burn, 60),
            &[Stake::BurnPctUpdated::SIGNATURE_HASH],
            vec![
                reads(call(On::Stake, Stake::feePctCall {}), U256::from(40)),
                reads(call(On::Stake, Stake::burnPctCall {}), U256::from(60)),
            ],
        )
        .after(vec![pct(fee, 60), pct(burn, 40), pct(fee, 40)]),
        reverts::<Stake::InvalidPercentage>(
            "stake validator reward against current fee and burn",
            OWNER,
            pct(reward, 1),
        )
        .after(vec![pct(fee, 60), pct(burn, 40)]),
        succeeds(
            "stake set min stake",
            call(On::Stake, Stake::setMinStakeCall { minStake_: ether(2) }),
            &[Stake::MinStakeUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::minStakeCall {}), ether(2))],
        ),
        reverts::<Stake::InvalidMinStake>(
            "stake zero min stake",
            OWNER,
            call(On::Stake, Stake::setMinStakeCall { minStake_: U256::ZERO }),
        ),
        succeeds(
            "stake set role minimums",
            call(
                On::Stake,
                Stake::setRoleMinimumsCall { agent: U256::from(1), validator: ether(5), platform: U256::from(3) },
            ),
            &[Stake::RoleMinimumUpdated::SIGNATURE_HASH; 3],
            vec![
                reads(call(On::Stake, Stake::roleMinimumStakeCall(0)), U256::from(1)),
                reads(call(On::Stake, Stake::roleMinimumStakeCall(1)), ether(5)),
                reads(call(On::Stake, Stake::roleMinimumStakeCall(2)), U256::from(3)),
            ],
        ),
        succeeds(
            "stake set stake recommendations",
            call(On::Stake, Stake::setStakeRecommendationsCall { newMin: ether(2), newMax: ether(10) }),
            &[Stake::MinStakeUpdated::SIGNATURE_HASH, Stake::MaxStakePerAddressUpdated::SIGNATURE_HASH],
            vec![
                reads(call(On::Stake, Stake::minStakeCall {}), ether(2)),
                reads(call(On::Stake, Stake::maxStakePerAddressCall {}), ether(10)),
            ],
        ),
        reverts::<Stake::InvalidMinStake>(
            "stake recommendations with zero min",
            OWNER,
            call(On::Stake, Stake::setStakeRecommendationsCall { newMin: U256::ZERO, newMax: U256::ZERO }),
        ),
        reverts::<Stake::InvalidParams>(
            "stake recommendations with max below min",
            OWNER,
            call(On::Stake, Stake::setStakeRecommendationsCall { newMin: ether(5), newMax: ether(4) }),
        ),
        succeeds(
            "stake set max stake",
            call(On::Stake, Stake::setMaxStakePerAddressCall { maxStake: ether(3) }),
            &[Stake::MaxStakePerAddressUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::maxStakePerAddressCall {}), ether(3))],
        ),
        succeeds(
            "stake set unbonding period",
            call(On::Stake, Stake::setUnbondingPeriodCall { period: U256::from(86_400) }),
            &[Stake::UnbondingPeriodUpdated::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::unbondingPeriodCall {}), U256::from(86_400))],
        ),
        reverts::<Stake::InvalidUnbondingPeriod>(
            "stake zero unbonding period",
            OWNER,
            call(On::Stake, Stake::setUnbondingPeriodCall { period: U256::ZERO }),
        ),
        succeeds(
            "stake set governance",
            governance(ALICE),
            &[Stake::GovernanceUpdated::SIGNATURE_HASH, Stake::OwnershipTransferred::SIGNATURE_HASH],
            vec![
                reads(call(On::Stake, Stake::governanceCall {}), ALICE),
                reads(call(On::Stake, Stake::ownerCall {}), ALICE),
            ],
        ),
        succeeds(
            "stake transfer ownership is set governance",
            call(On::Stake, Stake::transferOwnershipCall { newOwner: ALICE }),
            &[Stake::GovernanceUpdated::SIGNATURE_HASH, Stake::OwnershipTransferred::SIGNATURE_HASH],
            vec![reads(call(On::Stake, Stake::governanceCall {}), ALICE)],
        ),
        reverts::<Stake::ZeroAddress>("stake governance to zero", OWNER, governance(Address::ZERO)),
        succeeds(
            "stake owner is governance",
            call(On::Stake, Stake::ownerCall {}),
            &[],
            vec![
                reads(call(On::Stake, Stake::ownerCall {}), owner),
                reads(call(On::Stake, Stake::pauserManagerCall {}), Address::ZERO),
            ],
        ),
    ]
}

fn pause_cases() -> Vec<Case> {
    let pause = call(On::Pause, Pause::pauseCall {});
    let unpause = call(On::Pause, Pause::unpauseCall {});
    let paused = || call(On::Pause, Pause::pausedCall {});
    vec![
        succeeds("system pause", pause.clone(), &[Pause::Paused::SIGNATURE_HASH], vec![reads(paused(), true)]),
        succeeds("system unpause", unpause.clone(), &[Pause::Unpaused::SIGNATURE_HASH], vec![reads(paused(), false)])
            .after(vec![pause.clone()]),
        reverts::<Pause::EnforcedPause>("system pause twice", OWNER, pause.clone()).after(vec![pause.clone()]),
        reverts::<Pause::ExpectedPause>("system unpause while running", OWNER, unpause),
    ]
}

async fn run_case(chain: &TestChain, case: &Case) {
    for step in &case.setup {
        chain.send(OWNER, chain.address(step.on.key()), step.data.clone()).await;
    }
    let to = chain.address(case.call.on.key());
    let (from, _) = chain.account(case.from);
    match &case.expect {
        Expect::Revert(selector, signature) => {
            let data = chain.revert_data(from, to, case.call.data.clone()).await;
            let data = data.unwrap_or_else(|| panic!("{}: expected {signature}, but the call succeeded", case.name));
            assert_eq!(
                data.get(..4),
                Some(&selector[..]),
                "{}: expected {signature}, got revert data {data}",
                case.name
            );
        }
        Expect::Success { events, then } => {
            let receipt = chain.send(case.from, to, case.call.data.clone()).await;
            let emitted: Vec<B256> =
                receipt.inner.logs().iter().filter_map(|log| log.topics().first().copied()).collect();
            assert_eq!(&emitted, events, "{}: events", case.name);
            for (getter, expected) in then {
                let got = chain.read(chain.address(getter.on.key()), getter.data.clone()).await;
                assert_eq!(got.as_ref(), &expected[..], "{}: getter after the call", case.name);
            }
        }
    }
}

#[tokio::test]
async fn every_setter_refuses_a_caller_without_the_role() {
    let chain = TestChain::start().await;
    let (stranger, _) = chain.account(STRANGER);
    for (call, selector, signature) in every_setter(stranger) {
        let data = chain.revert_data(stranger, chain.address(call.on.key()), call.data.clone()).await;
        let data = data.unwrap_or_else(|| panic!("{signature}: a stranger's call succeeded"));
        assert_eq!(data.get(..4), Some(&selector[..]), "expected {signature}, got {data}");
    }
}

#[tokio::test]
async fn setters_check_arguments_emit_events_and_change_getters() {
    let chain = TestChain::start().await;
    let (owner, _) = chain.account(OWNER);
    let (helper, _) = chain.account(HELPER);
    let cases: Vec<Case> =
        arena_cases(owner).into_iter().chain(stake_cases(owner, helper)).chain(pause_cases()).collect();
    assert!(cases.len() >= 60, "the table lost cases: {}", cases.len());
    for case in &cases {
        let snapshot = chain.snapshot().await;
        run_case(&chain, case).await;
        chain.revert(snapshot).await;
    }
}

#[tokio::test]
async fn fresh_contracts_start_with_the_documented_values() {
    let chain = TestChain::start().await;
    let observed = govstate::observe(
        &chain.reader(),
        &Scope::everything(chain.devnet.deployment()),
        &ObserveOptions::without_cache(),
    )
    .await
    .expect("observe");
    let find = |key: &str| observed.contracts.iter().find(|c| c.kind.key == key).expect("observed");
    let stake = find("stake_manager");
    let uint = |n: u64| govstate::Value::Uint(U256::from(n));
    let expected = [
        ("fees_pct.fee", uint(0)),
        ("fees_pct.burn", uint(0)),
        ("fees_pct.validator_reward", uint(0)),
        ("min_stake", govstate::Value::Uint(ether(1))),
        ("role_minimums.agent", uint(0)),
        ("role_minimums.validator", uint(0)),
        ("role_minimums.platform", uint(0)),
        ("max_stake_per_address", uint(0)),
        ("unbonding_period", uint(604_800)),
        ("pauser", govstate::Value::Address(Address::ZERO)),
        ("paused", govstate::Value::Bool(false)),
    ];
    for (key, value) in expected {
        assert_eq!(stake.field(key), Some(value), "stake_manager.{key}");
    }
    let arena = find("arena");
    for key in ["reward_splits_bps.teacher", "reward_splits_bps.student", "reward_splits_bps.validator"] {
        assert_eq!(arena.field(key), Some(uint(10_000)), "arena.{key}");
    }
    assert_eq!(find("system_pause").field("paused"), Some(govstate::Value::Bool(false)));
}
