//! StakeManager: Governable (its governance is a TimelockController in
//! production) + Pausable, with a pauser that may also pause and unpause.

use alloy::primitives::Address;
use alloy::sol;
use alloy::sol_types::{SolCall, SolConstructor, SolEvent};

use super::{Field, Kind, RoleSet, Unit, Value, decode_membership};

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
    fields: FIELDS,
    role_sets: ROLE_SETS,
    creation_code,
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
    calldata: |account| C::validatorLockManagersCall(account).abi_encode(),
    decode: decode_membership::<C::validatorLockManagersCall>,
}];

/// `roleMinimumStake(uint8)` takes the role as an argument (0 Agent,
/// 1 Validator, 2 Platform), so each role is its own field.
const fn role_minimum(key: &'static str, calldata: fn() -> Vec<u8>) -> Field {
    Field {
        key,
        getter: C::roleMinimumStakeCall::SIGNATURE,
        unit: Unit::Amount,
        calldata,
        decode: decode_role_minimum,
    }
}

fn role_minimum_call(role: u8) -> Vec<u8> {
    C::roleMinimumStakeCall(role).abi_encode()
}

fn decode_role_minimum(data: &[u8]) -> Result<Value, alloy::sol_types::Error> {
    C::roleMinimumStakeCall::abi_decode_returns(data).map(Value::Uint)
}

fn creation_code(governance: Address) -> Vec<u8> {
    let args = C::constructorCall {
        governance_: governance,
    }
    .abi_encode();
    [C::BYTECODE.as_ref(), &args].concat()
}
