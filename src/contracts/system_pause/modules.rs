//! The modules kind of SystemPause, as deployed: Governable, no pause state
//! of its own. The system's pause status is the `paused()` of the eight
//! modules it owns; it switches them all with `pauseAll()` / `unpauseAll()`
//! (which revert when any module is already in that state) or one at a time
//! with `executeGovernanceCall(module, pause())`, and forwards its
//! governance's calls to the modules (StakeManager's setters, in production).

use alloy::primitives::Address;
use alloy::sol;
use alloy::sol_types::{SolCall, SolError};

use crate::contracts::{
    Authority, ContractState, Derived, Field, Forwarder, Kind, Phase, Revert, Setter, Unit, Value, ValueError,
    address_arg, encode_switch,
};

sol!(
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[sol(rpc, all_derives)]
    SystemPauseModules,
    "contracts/out/SystemPauseModules.json"
);

sol!(
    #[allow(missing_docs, clippy::too_many_arguments)]
    #[sol(rpc, all_derives)]
    PausableModule,
    "contracts/out/PausableModule.json"
);

use PausableModule as M;
use SystemPauseModules as C;

/// The eight modules, in the order `pauseAll()` visits them: the key of the
/// field holding each one's address and of the field holding its `paused()`.
pub const MODULES: [(&str, &str); 8] = [
    ("modules.job_registry", "paused.job_registry"),
    ("modules.stake_manager", "paused.stake_manager"),
    ("modules.validation_module", "paused.validation_module"),
    ("modules.dispute_module", "paused.dispute_module"),
    ("modules.platform_registry", "paused.platform_registry"),
    ("modules.fee_pool", "paused.fee_pool"),
    ("modules.reputation_engine", "paused.reputation_engine"),
    ("modules.arbitrator_committee", "paused.arbitrator_committee"),
];

static ADDRESS_KEYS: [&str; 8] = column(true);
static PAUSED_KEYS: [&str; 8] = column(false);

/// The key of the field holding each module's `pauser()`, in [`MODULES`] order.
pub const PAUSER_KEYS: [&str; 8] = [
    "pauser.job_registry",
    "pauser.stake_manager",
    "pauser.validation_module",
    "pauser.dispute_module",
    "pauser.platform_registry",
    "pauser.fee_pool",
    "pauser.reputation_engine",
    "pauser.arbitrator_committee",
];

/// What the system's `pauser` stands for: the account `setGlobalPauser`
/// stored, and every module's own `pauser()`.
static PAUSER_FROM: [&str; 9] = [
    "active_pauser",
    PAUSER_KEYS[0],
    PAUSER_KEYS[1],
    PAUSER_KEYS[2],
    PAUSER_KEYS[3],
    PAUSER_KEYS[4],
    PAUSER_KEYS[5],
    PAUSER_KEYS[6],
    PAUSER_KEYS[7],
];

/// One column of [`MODULES`]: the address keys, or the `paused` keys.
const fn column(addresses: bool) -> [&'static str; 8] {
    let mut keys = [""; 8];
    let mut i = 0;
    while i < 8 {
        keys[i] = if addresses { MODULES[i].0 } else { MODULES[i].1 };
        i += 1;
    }
    keys
}

/// The modules kind's row in the contract table.
pub const MODULES_KIND: Kind = Kind {
    key: "system_pause",
    name: "SystemPause",
    variant: Some("modules"),
    fields: FIELDS,
    role_sets: &[],
    setters: SETTERS,
    authority: Authority::of::<C::governanceCall>(),
    error_signature,
    derived: &[Derived { key: "paused", from: &PAUSED_KEYS }, Derived { key: "pauser", from: &PAUSER_FROM }],
    forwarder: Some(Forwarder {
        function: C::executeGovernanceCallCall::SIGNATURE,
        targets: &ADDRESS_KEYS,
        encode: |target, data| C::executeGovernanceCallCall { target, data: data.to_vec().into() }.abi_encode(),
        decode: |data| C::executeGovernanceCallCall::abi_decode(data).ok().map(|c| (c.target, c.data.to_vec())),
    }),
    recognise: Some(|data| C::jobRegistryCall::abi_decode_returns(data).is_ok()),
    other_setters: OTHER_SETTERS,
    creation_code: None,
};

const FIELDS: &[Field] = &[
    Field::context::<C::jobRegistryCall>(MODULES[0].0, Unit::Address, None),
    Field::context::<C::stakeManagerCall>(MODULES[1].0, Unit::Address, None),
    Field::context::<C::validationModuleCall>(MODULES[2].0, Unit::Address, None),
    Field::context::<C::disputeModuleCall>(MODULES[3].0, Unit::Address, None),
    Field::context::<C::platformRegistryCall>(MODULES[4].0, Unit::Address, None),
    Field::context::<C::feePoolCall>(MODULES[5].0, Unit::Address, None),
    Field::context::<C::reputationEngineCall>(MODULES[6].0, Unit::Address, None),
    Field::context::<C::arbitratorCommitteeCall>(MODULES[7].0, Unit::Address, None),
    Field::context::<M::pausedCall>(MODULES[0].1, Unit::Flag, Some(MODULES[0].0)),
    Field::context::<M::pausedCall>(MODULES[1].1, Unit::Flag, Some(MODULES[1].0)),
    Field::context::<M::pausedCall>(MODULES[2].1, Unit::Flag, Some(MODULES[2].0)),
    Field::context::<M::pausedCall>(MODULES[3].1, Unit::Flag, Some(MODULES[3].0)),
    Field::context::<M::pausedCall>(MODULES[4].1, Unit::Flag, Some(MODULES[4].0)),
    Field::context::<M::pausedCall>(MODULES[5].1, Unit::Flag, Some(MODULES[5].0)),
    Field::context::<M::pausedCall>(MODULES[6].1, Unit::Flag, Some(MODULES[6].0)),
    Field::context::<M::pausedCall>(MODULES[7].1, Unit::Flag, Some(MODULES[7].0)),
    Field::context::<C::activePauserCall>("active_pauser", Unit::Address, None),
    Field::context::<M::pauserCall>(PAUSER_KEYS[0], Unit::Address, Some(MODULES[0].0)),
    Field::context::<M::pauserCall>(PAUSER_KEYS[1], Unit::Address, Some(MODULES[1].0)),
    Field::context::<M::pauserCall>(PAUSER_KEYS[2], Unit::Address, Some(MODULES[2].0)),
    Field::context::<M::pauserCall>(PAUSER_KEYS[3], Unit::Address, Some(MODULES[3].0)),
    Field::context::<M::pauserCall>(PAUSER_KEYS[4], Unit::Address, Some(MODULES[4].0)),
    Field::context::<M::pauserCall>(PAUSER_KEYS[5], Unit::Address, Some(MODULES[5].0)),
    Field::context::<M::pauserCall>(PAUSER_KEYS[6], Unit::Address, Some(MODULES[6].0)),
    Field::context::<M::pauserCall>(PAUSER_KEYS[7], Unit::Address, Some(MODULES[7].0)),
];

/// Errors of the SystemPause itself, then of the modules (whose reverts
/// `pauseAll` and `executeGovernanceCall` re-raise).
fn error_signature(selector: [u8; 4]) -> Option<&'static str> {
    C::SystemPauseModulesErrors::signature_by_selector(selector)
        .or_else(|| M::PausableModuleErrors::signature_by_selector(selector))
}

/// No setter of it is left out of the plans.
const OTHER_SETTERS: &[Setter] = &[];

const SETTERS: &[Setter] = &[
    Setter {
        function: C::setGlobalPauserCall::SIGNATURE,
        event: Some(crate::contracts::Event::of::<C::PausersUpdated>()),
        fields: &["pauser"],
        phase: Phase::Revoke,
        produces: None,
        encode: |args| Ok(C::setGlobalPauserCall { pauser: address_arg(args, 0)? }.abi_encode()),
        check: |_, args| match address_arg(args, 0) {
            Ok(pauser) if !pauser.is_zero() => Ok(()),
            _ => Err(C::InvalidPauser::SIGNATURE),
        },
        note: Some(
            "makes this account the pauser() of all eight modules (StakeManager's pauser among them): it may then pause and unpause each module at once, with no timelock",
        ),
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        // Sixteen calls to the modules, and a write of its own.
        gas: 600_000,
    },
    all_switch(C::pauseAllCall::SIGNATURE, true, encode_switch::<C::pauseAllCall>),
    all_switch(C::unpauseAllCall::SIGNATURE, false, encode_switch::<C::unpauseAllCall>),
    module_switch(0, true),
    module_switch(1, true),
    module_switch(2, true),
    module_switch(3, true),
    module_switch(4, true),
    module_switch(5, true),
    module_switch(6, true),
    module_switch(7, true),
    module_switch(0, false),
    module_switch(1, false),
    module_switch(2, false),
    module_switch(3, false),
    module_switch(4, false),
    module_switch(5, false),
    module_switch(6, false),
    module_switch(7, false),
    module_direct(0, true),
    module_direct(1, true),
    module_direct(2, true),
    module_direct(3, true),
    module_direct(4, true),
    module_direct(5, true),
    module_direct(6, true),
    module_direct(7, true),
    module_direct(0, false),
    module_direct(1, false),
    module_direct(2, false),
    module_direct(3, false),
    module_direct(4, false),
    module_direct(5, false),
    module_direct(6, false),
    module_direct(7, false),
];

/// The revert a module gives when asked for the state it is already in.
const fn already(pause: bool) -> Revert {
    if pause { M::EnforcedPause::SIGNATURE } else { M::ExpectedPause::SIGNATURE }
}

/// `pauseAll()` / `unpauseAll()`: every module at once, refused by the first
/// module already in the wanted state.
const fn all_switch(
    function: &'static str,
    pause: bool,
    encode: fn(&[Value]) -> Result<Vec<u8>, ValueError>,
) -> Setter {
    Setter {
        function,
        // The modules emit Paused/Unpaused, each at its own address.
        event: None,
        fields: &PAUSED_KEYS,
        phase: if pause { Phase::Pause } else { Phase::Unpause },
        produces: Some(Value::Bool(pause)),
        encode,
        check: if pause { |state, _| all_unlike(state, true) } else { |state, _| all_unlike(state, false) },
        note: None,
        also_allowed: None,
        reads: &[],
        requires: None,
        at: None,
        // A call to each of the eight modules.
        gas: 400_000,
    }
}

fn all_unlike(state: &ContractState, pause: bool) -> Result<(), Revert> {
    let any_already = PAUSED_KEYS.iter().any(|key| state.get(key) == Some(Value::Bool(pause)));
    if any_already { Err(already(pause)) } else { Ok(()) }
}

/// `executeGovernanceCall(module, pause())` (or `unpause()`) for one module:
/// what a partly paused system needs, since `pauseAll()` would revert.
const fn module_switch(index: usize, pause: bool) -> Setter {
    Setter {
        function: C::executeGovernanceCallCall::SIGNATURE,
        event: None,
        fields: std::slice::from_ref(&PAUSED_KEYS[index]),
        phase: if pause { Phase::Pause } else { Phase::Unpause },
        produces: Some(Value::Bool(pause)),
        encode: if pause { encode_module_pause } else { encode_module_unpause },
        check: if pause {
            |state, args| module_unlike(state, args, true)
        } else {
            |state, args| module_unlike(state, args, false)
        },
        note: Some(if pause {
            "pauses this module alone: pauseAll() would revert on the modules already paused"
        } else {
            "unpauses this module alone: unpauseAll() would revert on the modules already running"
        }),
        also_allowed: None,
        reads: std::slice::from_ref(&ADDRESS_KEYS[index]),
        requires: None,
        at: None,
        gas: crate::contracts::SETTER_GAS,
    }
}

/// A module's own `pause()` (or `unpause()`), sent straight to it by its
/// `pauser()`: the emergency lever, effective at once, when the pauser is
/// an account that sends transactions.
const fn module_direct(index: usize, pause: bool) -> Setter {
    Setter {
        function: if pause { M::pauseCall::SIGNATURE } else { M::unpauseCall::SIGNATURE },
        event: None,
        fields: std::slice::from_ref(&PAUSED_KEYS[index]),
        phase: if pause { Phase::Pause } else { Phase::Unpause },
        produces: Some(Value::Bool(pause)),
        encode: if pause { encode_switch::<M::pauseCall> } else { encode_switch::<M::unpauseCall> },
        check: if pause {
            |state, args| module_unlike(state, args, true)
        } else {
            |state, args| module_unlike(state, args, false)
        },
        note: None,
        also_allowed: Some(PAUSER_KEYS[index]),
        reads: std::slice::from_ref(&ADDRESS_KEYS[index]),
        requires: None,
        at: Some(ADDRESS_KEYS[index]),
        gas: crate::contracts::SETTER_GAS,
    }
}

fn encode_module_pause(args: &[Value]) -> Result<Vec<u8>, ValueError> {
    forward(address_arg(args, 0)?, &M::pauseCall {}.abi_encode())
}

fn encode_module_unpause(args: &[Value]) -> Result<Vec<u8>, ValueError> {
    forward(address_arg(args, 0)?, &M::unpauseCall {}.abi_encode())
}

fn forward(target: Address, data: &[u8]) -> Result<Vec<u8>, ValueError> {
    Ok(C::executeGovernanceCallCall { target, data: data.to_vec().into() }.abi_encode())
}

/// The module named by the first argument must not already be in the state.
fn module_unlike(state: &ContractState, args: &[Value], pause: bool) -> Result<(), Revert> {
    let module = address_arg(args, 0).map_err(|_| C::UnknownGovernanceTarget::SIGNATURE)?;
    let position = MODULES.iter().position(|(address, _)| state.get(address) == Some(Value::Address(module)));
    let Some(index) = position else {
        return Err(C::UnknownGovernanceTarget::SIGNATURE);
    };
    if state.get(MODULES[index].1) == Some(Value::Bool(pause)) { Err(already(pause)) } else { Ok(()) }
}
