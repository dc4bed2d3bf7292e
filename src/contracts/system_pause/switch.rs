//! The switch kind of SystemPause, as the operators' runbook uses it
//! (`pause()`, `unpause()`, `paused()`, governance only).

use alloy::primitives::Address;
use alloy::sol;
use alloy::sol_types::SolConstructor;

use crate::contracts::{Authority, Field, Kind, Setter, Unit, pause_setter, unpause_setter};

sol!(
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[sol(rpc, all_derives)]
    SystemPause,
    "contracts/out/SystemPause.json"
);

use SystemPause as C;

/// The switch kind's row in the contract table: the fallback when the
/// address is not the modules kind.
pub const KIND: Kind = Kind {
    key: "system_pause",
    name: "SystemPause",
    variant: Some("switch"),
    fields: FIELDS,
    role_sets: &[],
    setters: SETTERS,
    authority: Authority::of::<C::governanceCall>(),
    error_signature: C::SystemPauseErrors::signature_by_selector,
    derived: &[],
    forwarder: None,
    recognise: None,
    other_setters: OTHER_SETTERS,
    creation_code: Some(creation_code),
};

const FIELDS: &[Field] = &[Field::of::<C::pausedCall>("paused", Unit::Flag)];

fn creation_code(governance: Address) -> Vec<u8> {
    let args = C::constructorCall { governance_: governance }.abi_encode();
    [C::BYTECODE.as_ref(), &args].concat()
}

/// No setter of it is left out of the plans.
const OTHER_SETTERS: &[Setter] = &[];

const SETTERS: &[Setter] = &[pause_setter::<C::pauseCall>(None), unpause_setter::<C::unpauseCall>(None)];
