//! SelfPlayArena: Ownable + Pausable; its owner is an EOA or a Safe.

use alloy::primitives::Address;
use alloy::sol;
use alloy::sol_types::{SolCall, SolConstructor, SolEvent};

use super::{Field, Kind, RoleSet, Unit, decode_membership};

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
    fields: FIELDS,
    role_sets: ROLE_SETS,
    creation_code,
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
    calldata: |account| C::orchestratorsCall(account).abi_encode(),
    decode: decode_membership::<C::orchestratorsCall>,
}];

fn creation_code(owner: Address) -> Vec<u8> {
    let args = C::constructorCall {
        initialOwner: owner,
        feePool_: owner,
    }
    .abi_encode();
    [C::BYTECODE.as_ref(), &args].concat()
}
