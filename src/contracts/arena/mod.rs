//! SelfPlayArena: Ownable + Pausable; its owner is an EOA or a Safe.

pub mod desired;

use alloy::primitives::Address;
use alloy::sol;
use alloy::sol_types::{SolCall, SolConstructor, SolEvent};

use super::{
    Authority, ContractState, Field, Kind, Phase, Revert, RoleSet, Setter, Unit, Value, ValueError, address_arg,
    decode_membership, pause_setter, u16_arg, uint_arg, unpause_setter,
};

sol!(
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[sol(rpc, all_derives)]
    SelfPlayArena,
    "contracts/out/SelfPlayArena.json"
);

use SelfPlayArena as C;

/// The arena's row in the contract table.
pub const KIND: Kind = Kind {
    key: "arena",
    name: "SelfPlayArena",
    variant: None,
    fields: FIELDS,
    role_sets: ROLE_SETS,
    setters: SETTERS,
    authority: Authority::of::<C::ownerCall>(),
    error_signature: C::SelfPlayArenaErrors::signature_by_selector,
    derived: &[],
    forwarder: None,
    recognise: None,
    other_setters: OTHER_SETTERS,
    creation_code: Some(creation_code),
};

const FIELDS: &[Field] = &[
    Field::of::<C::ownerCall>("owner", Unit::Address),
    Field::of::<C::pausedCall>("paused", Unit::Flag),
    Field::of::<C::baseTeacherRewardCall>("rewards.teacher", Unit::Amount),
    Field::of::<C::baseStudentRewardCall>("rewards.student", Unit::Amount),
    Field::of::<C::baseValidatorRewardCall>("rewards.validator", Unit::Amount),
    Field::of::<C::committeeSizeCall>("committee.size", Unit::Count),
    Field::of::<C::validatorStakeCall>("committee.validator_stake", Unit::Amount),
    Field::of::<C::targetSuccessRateBpsCall>("target_success_rate_bps", Unit::Bps),
    Field::of::<C::teacherRewardSplitBpsCall>("reward_splits_bps.teacher", Unit::Bps),
    Field::of::<C::studentRewardSplitBpsCall>("reward_splits_bps.student", Unit::Bps),
    Field::of::<C::validatorRewardSplitBpsCall>("reward_splits_bps.validator", Unit::Bps),
];

const ROLE_SETS: &[RoleSet] = &[RoleSet {
    key: "orchestrators",
    getter: C::orchestratorsCall::SIGNATURE,
    event_topic: C::OrchestratorUpdated::SIGNATURE_HASH,
    event_name: C::OrchestratorUpdated::SIGNATURE,
    calldata: |account| C::orchestratorsCall(account).abi_encode(),
    decode: decode_membership::<C::orchestratorsCall>,
    setter: C::setOrchestratorCall::SIGNATURE,
    set_calldata: |orchestrator, allowed| C::setOrchestratorCall { orchestrator, allowed }.abi_encode(),
}];

const REWARDS: &[&str] = &["rewards.teacher", "rewards.student", "rewards.validator"];
const COMMITTEE: &[&str] = &["committee.size", "committee.validator_stake"];
const SPLITS: &[&str] = &["reward_splits_bps.teacher", "reward_splits_bps.student", "reward_splits_bps.validator"];

/// Setters govstate never plans: `renounceOwnership()`, which leaves the
/// arena without an owner for good.
const OTHER_SETTERS: &[Setter] = &[Setter {
    function: C::renounceOwnershipCall::SIGNATURE,
    event: Some(crate::contracts::Event::of::<C::OwnershipTransferred>()),
    fields: &["owner"],
    phase: Phase::Ownership,
    produces: Some(Value::Address(alloy::primitives::Address::ZERO)),
    encode: super::encode_switch::<C::renounceOwnershipCall>,
    check: super::always_ok,
    note: None,
    also_allowed: None,
    reads: &[],
    requires: None,
    at: None,
    gas: crate::contracts::SETTER_GAS,
}];

const SETTERS: &[Setter] = &[
    pause_setter::<C::pauseCall>(None),
    unpause_setter::<C::unpauseCall>(None),
    Setter {
        function: C::setRewardsCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::RewardsUpdated>()),
        fields: REWARDS,
        phase: Phase::Configure,
        produces: None,
        encode: |args| {
            let call = C::setRewardsCall {
                teacherReward: uint_arg(args, 0)?,
                studentReward: uint_arg(args, 1)?,
                validatorReward: uint_arg(args, 2)?,
            };
            Ok(call.abi_encode())
        },
        check: no_zero,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setCommitteeParametersCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::CommitteeParametersUpdated>()),
        fields: COMMITTEE,
        phase: Phase::Configure,
        produces: None,
        encode: |args| {
            let call = C::setCommitteeParametersCall {
                committeeSize_: uint_arg(args, 0)?,
                validatorStake_: uint_arg(args, 1)?,
            };
            Ok(call.abi_encode())
        },
        check: no_zero,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setTargetSuccessRateBpsCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::TargetSuccessRateUpdated>()),
        fields: &["target_success_rate_bps"],
        phase: Phase::Configure,
        produces: None,
        encode: |args| Ok(C::setTargetSuccessRateBpsCall { targetSuccessRateBps_: uint_arg(args, 0)? }.abi_encode()),
        check: check_target,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setRewardSplitsCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::RewardSplitsUpdated>()),
        fields: SPLITS,
        phase: Phase::Configure,
        produces: None,
        encode: |args| {
            let call = C::setRewardSplitsCall {
                teacherSplitBps: u16_arg(args, 0)?,
                studentSplitBps: u16_arg(args, 1)?,
                validatorSplitBps: u16_arg(args, 2)?,
            };
            Ok(call.abi_encode())
        },
        check: check_splits,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: Some("the three reward splits sum to 1..=10000 bps"),
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::transferOwnershipCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::OwnershipTransferred>()),
        fields: &["owner"],
        phase: Phase::Ownership,
        produces: None,
        encode: |args| Ok(C::transferOwnershipCall { newOwner: address_arg(args, 0)? }.abi_encode()),
        check: |_, args| match address_arg(args, 0) {
            Ok(owner) if !owner.is_zero() => Ok(()),
            _ => Err("OwnableInvalidOwner(address)"),
        },
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
];

fn no_zero(_: &ContractState, args: &[Value]) -> Result<(), Revert> {
    if args.iter().all(|v| matches!(v, Value::Uint(n) if !n.is_zero())) { Ok(()) } else { Err("ZeroValue()") }
}

fn check_target(_: &ContractState, args: &[Value]) -> Result<(), Revert> {
    match uint_arg(args, 0) {
        Ok(bps) if !bps.is_zero() && bps <= alloy::primitives::U256::from(10_000) => Ok(()),
        _ => Err("ZeroValue()"),
    }
}

fn check_splits(_: &ContractState, args: &[Value]) -> Result<(), Revert> {
    let splits: Result<Vec<u16>, ValueError> = (0..3).map(|i| u16_arg(args, i)).collect();
    let sum: u32 = splits.map_err(|_| "InvalidSplit()")?.into_iter().map(u32::from).sum();
    if (1..=10_000).contains(&sum) { Ok(()) } else { Err("InvalidSplit()") }
}

fn creation_code(owner: Address) -> Vec<u8> {
    let args = C::constructorCall { initialOwner: owner, feePool_: owner }.abi_encode();
    [C::BYTECODE.as_ref(), &args].concat()
}
