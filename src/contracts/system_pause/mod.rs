//! SystemPause: the global switch, as the operators' runbook uses it
//! (`pause()`, `unpause()`, `paused()`, governance only).

use alloy::primitives::Address;
use alloy::sol;
use alloy::sol_types::{SolCall, SolConstructor};

use super::{Field, Kind, Phase, Setter, Unit, Value, encode_switch};

sol!(
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[sol(rpc, all_derives)]
    SystemPause,
    "contracts/out/SystemPause.json"
);

use SystemPause as C;

/// The system pause's row in the contract table.
pub const KIND: Kind = Kind {
    key: "system_pause",
    name: "SystemPause",
    fields: FIELDS,
    role_sets: &[],
    setters: SETTERS,
    creation_code,
};

const FIELDS: &[Field] = &[Field::of::<C::pausedCall>("paused", Unit::Flag)];

fn creation_code(governance: Address) -> Vec<u8> {
    let args = C::constructorCall {
        governance_: governance,
    }
    .abi_encode();
    [C::BYTECODE.as_ref(), &args].concat()
}

const SETTERS: &[Setter] = &[
    Setter {
        function: C::pauseCall::SIGNATURE,
        fields: &["paused"],
        phase: Phase::Pause,
        produces: Some(Value::Bool(true)),
        encode: encode_switch::<C::pauseCall>,
        check: |state, _| {
            if state.get("paused") == Some(Value::Bool(true)) {
                Err("EnforcedPause()")
            } else {
                Ok(())
            }
        },
        note: None,
    },
    Setter {
        function: C::unpauseCall::SIGNATURE,
        fields: &["paused"],
        phase: Phase::Unpause,
        produces: Some(Value::Bool(false)),
        encode: encode_switch::<C::unpauseCall>,
        check: |state, _| {
            if state.get("paused") == Some(Value::Bool(true)) {
                Ok(())
            } else {
                Err("ExpectedPause()")
            }
        },
        note: None,
    },
];
