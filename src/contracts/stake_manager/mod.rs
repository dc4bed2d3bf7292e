//! StakeManager: Governable (its governance is a TimelockController in
//! production) + Pausable, with a pauser that may also pause and unpause.

pub mod desired;

use alloy::primitives::Address;
use alloy::sol;
use alloy::sol_types::{SolCall, SolConstructor, SolEvent};

use alloy::primitives::U256;

use super::{
    Authority, ContractState, Field, Kind, Phase, Revert, RoleSet, Setter, Unit, Value, address_arg, always_ok,
    decode_membership, pause_setter, uint_arg, unpause_setter,
};

sol!(
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[sol(rpc, all_derives)]
    StakeManager,
    "contracts/out/StakeManager.json"
);

use StakeManager as C;

/// The stake manager's row in the contract table.
pub const KIND: Kind = Kind {
    key: "stake_manager",
    name: "StakeManager",
    variant: None,
    fields: FIELDS,
    role_sets: ROLE_SETS,
    setters: SETTERS,
    authority: Authority::of::<C::governanceCall>(),
    error_signature: C::StakeManagerErrors::signature_by_selector,
    derived: &[],
    forwarder: None,
    recognise: None,
    other_setters: OTHER_SETTERS,
    creation_code: Some(creation_code),
};

const FIELDS: &[Field] = &[
    Field::of::<C::governanceCall>("governance", Unit::Address),
    Field::of::<C::pausedCall>("paused", Unit::Flag),
    Field::of::<C::pauserCall>("pauser", Unit::Address),
    Field::of::<C::feePctCall>("fees_pct.fee", Unit::Percent),
    Field::of::<C::burnPctCall>("fees_pct.burn", Unit::Percent),
    Field::of::<C::validatorRewardPctCall>("fees_pct.validator_reward", Unit::Percent),
    Field::of::<C::minStakeCall>("min_stake", Unit::Amount),
    Field::of::<C::maxStakePerAddressCall>("max_stake_per_address", Unit::Amount),
    role_minimum("role_minimums.agent", || role_minimum_call(0)),
    role_minimum("role_minimums.validator", || role_minimum_call(1)),
    role_minimum("role_minimums.platform", || role_minimum_call(2)),
    Field::of::<C::unbondingPeriodCall>("unbonding_period", Unit::Seconds),
];

const ROLE_SETS: &[RoleSet] = &[RoleSet {
    key: "validator_lock_managers",
    getter: C::validatorLockManagersCall::SIGNATURE,
    event_topic: C::ValidatorLockManagerUpdated::SIGNATURE_HASH,
    event_name: C::ValidatorLockManagerUpdated::SIGNATURE,
    calldata: |account| C::validatorLockManagersCall(account).abi_encode(),
    decode: decode_membership::<C::validatorLockManagersCall>,
    setter: C::setValidatorLockManagerCall::SIGNATURE,
    set_calldata: |manager, allowed| C::setValidatorLockManagerCall { manager, allowed }.abi_encode(),
}];

/// Setters govstate never plans: `setMinStake` and `setMaxStakePerAddress`
/// (it plans `setStakeRecommendations`, which checks both together) and
/// `transferOwnership` (it plans `setGovernance`, the same call).
const OTHER_SETTERS: &[Setter] = &[
    Setter {
        function: C::setMinStakeCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::MinStakeUpdated>()),
        fields: &["min_stake"],
        phase: Phase::Configure,
        produces: None,
        encode: |args| Ok(C::setMinStakeCall { minStake_: uint_arg(args, 0)? }.abi_encode()),
        check: always_ok,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setMaxStakePerAddressCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::MaxStakePerAddressUpdated>()),
        fields: &["max_stake_per_address"],
        phase: Phase::Configure,
        produces: None,
        encode: |args| Ok(C::setMaxStakePerAddressCall { maxStake: uint_arg(args, 0)? }.abi_encode()),
        check: always_ok,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::transferOwnershipCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::OwnershipTransferred>()),
        fields: &["governance"],
        phase: Phase::Ownership,
        produces: None,
        encode: |args| Ok(C::transferOwnershipCall { newOwner: address_arg(args, 0)? }.abi_encode()),
        check: always_ok,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
];

const FEE: &str = "fees_pct.fee";
const BURN: &str = "fees_pct.burn";
const VALIDATOR_REWARD: &str = "fees_pct.validator_reward";

const SETTERS: &[Setter] = &[
    pause_setter::<C::pauseCall>(Some("pauser")),
    unpause_setter::<C::unpauseCall>(Some("pauser")),
    Setter {
        function: C::setPauserCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::PauserUpdated>()),
        fields: &["pauser"],
        phase: Phase::Revoke,
        produces: None,
        encode: |args| Ok(C::setPauserCall { pauser_: address_arg(args, 0)? }.abi_encode()),
        check: always_ok,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setFeePctCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::FeePctUpdated>()),
        fields: &[FEE],
        phase: Phase::Configure,
        produces: None,
        encode: |args| Ok(C::setFeePctCall { pct: uint_arg(args, 0)? }.abi_encode()),
        check: |state, args| percent_sum(args, state.uint(BURN), state.uint(VALIDATOR_REWARD)),
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setBurnPctCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::BurnPctUpdated>()),
        fields: &[BURN],
        phase: Phase::Configure,
        produces: None,
        encode: |args| Ok(C::setBurnPctCall { pct: uint_arg(args, 0)? }.abi_encode()),
        check: |state, args| percent_sum(args, state.uint(FEE), state.uint(VALIDATOR_REWARD)),
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setValidatorRewardPctCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::ValidatorRewardPctUpdated>()),
        fields: &[VALIDATOR_REWARD],
        phase: Phase::Configure,
        produces: None,
        encode: |args| Ok(C::setValidatorRewardPctCall { pct: uint_arg(args, 0)? }.abi_encode()),
        check: |state, args| percent_sum(args, state.uint(FEE), state.uint(BURN)),
        note: Some("also sets the slash-reward share to the same percentage"),
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setStakeRecommendationsCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::MinStakeUpdated>()),
        fields: &["min_stake", "max_stake_per_address"],
        phase: Phase::Configure,
        produces: None,
        encode: |args| {
            let call = C::setStakeRecommendationsCall { newMin: uint_arg(args, 0)?, newMax: uint_arg(args, 1)? };
            Ok(call.abi_encode())
        },
        check: check_stake_recommendations,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: Some("min_stake is not 0, and max_stake_per_address is 0 or at least min_stake"),
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setRoleMinimumsCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::RoleMinimumUpdated>()),
        fields: &["role_minimums.agent", "role_minimums.validator", "role_minimums.platform"],
        phase: Phase::Configure,
        produces: None,
        encode: |args| {
            let call = C::setRoleMinimumsCall {
                agent: uint_arg(args, 0)?,
                validator: uint_arg(args, 1)?,
                platform: uint_arg(args, 2)?,
            };
            Ok(call.abi_encode())
        },
        check: always_ok,
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setUnbondingPeriodCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::UnbondingPeriodUpdated>()),
        fields: &["unbonding_period"],
        phase: Phase::Configure,
        produces: None,
        encode: |args| Ok(C::setUnbondingPeriodCall { period: uint_arg(args, 0)? }.abi_encode()),
        check: |_, args| match uint_arg(args, 0) {
            Ok(period) if !period.is_zero() => Ok(()),
            _ => Err("InvalidUnbondingPeriod()"),
        },
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
    Setter {
        function: C::setGovernanceCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::GovernanceUpdated>()),
        fields: &["governance"],
        phase: Phase::Ownership,
        produces: None,
        encode: |args| Ok(C::setGovernanceCall { newGovernance: address_arg(args, 0)? }.abi_encode()),
        check: |_, args| match address_arg(args, 0) {
            Ok(governance) if !governance.is_zero() => Ok(()),
            _ => Err("ZeroAddress()"),
        },
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    },
];

/// The percentage setters' check: the new value plus the other two
/// *current* values may not exceed 100.
fn percent_sum(args: &[Value], other: U256, another: U256) -> Result<(), Revert> {
    let new = uint_arg(args, 0).map_err(|_| "InvalidPercentage()")?;
    let sum = new.saturating_add(other).saturating_add(another);
    if sum <= U256::from(100) { Ok(()) } else { Err("InvalidPercentage()") }
}

fn check_stake_recommendations(_: &ContractState, args: &[Value]) -> Result<(), Revert> {
    let (Ok(min), Ok(max)) = (uint_arg(args, 0), uint_arg(args, 1)) else {
        return Err("InvalidParams()");
    };
    if min.is_zero() {
        Err("InvalidMinStake()")
    } else if !max.is_zero() && max < min {
        Err("InvalidParams()")
    } else {
        Ok(())
    }
}

/// `roleMinimumStake(uint8)` takes the role as an argument (0 Agent,
/// 1 Validator, 2 Platform), so each role is its own field.
const fn role_minimum(key: &'static str, calldata: fn() -> Vec<u8>) -> Field {
    Field {
        key,
        getter: C::roleMinimumStakeCall::SIGNATURE,
        unit: Unit::Amount,
        calldata,
        decode: decode_role_minimum,
        at: None,
        in_file: true,
    }
}

fn role_minimum_call(role: u8) -> Vec<u8> {
    C::roleMinimumStakeCall(role).abi_encode()
}

fn decode_role_minimum(data: &[u8]) -> Result<Value, alloy::sol_types::Error> {
    C::roleMinimumStakeCall::abi_decode_returns(data).map(Value::Uint)
}

fn creation_code(governance: Address) -> Vec<u8> {
    let args = C::constructorCall { governance_: governance }.abi_encode();
    [C::BYTECODE.as_ref(), &args].concat()
}
