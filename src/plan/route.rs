//! Which calls reach their contract through another: when a contract's
//! authority is a managed contract that forwards governance calls to it (a
//! modules-kind SystemPause governing StakeManager), the call is sent as
//! that contract's forwarding call, by *its* authority.

use super::{Forwarded, PlannedCall};
use crate::contracts::Value;
use crate::observe::Observed;

/// The forwarding call that carries `call`, when its contract's authority
/// forwards calls to it.
pub fn forwarded(call: &PlannedCall, observed: &Observed) -> Option<Forwarded> {
    let contract = observed.contracts.iter().find(|c| c.kind.key == call.contract)?;
    let forwarder =
        observed.contracts.iter().find(|f| f.address == contract.authority && f.kind.forwarder.is_some())?;
    let spec = forwarder.kind.forwarder.as_ref()?;
    let manages = spec.targets.iter().any(|key| forwarder.field(key) == Some(Value::Address(call.target)));
    manages.then(|| Forwarded {
        contract: forwarder.kind.key.to_string(),
        target: forwarder.address,
        function: spec.function.to_string(),
        calldata: (spec.encode)(call.target, &call.calldata).into(),
    })
}
