//! How calls reach their contract: forwarded by a managed contract that
//! governs it (a modules-kind SystemPause governing StakeManager: the call is
//! sent as that contract's forwarding call, by *its* authority), and grouped
//! by the account at the end of the chain. An account sends its calls
//! itself; a TimelockController's calls become one batch, whose salt comes
//! from the batch so the same change always has the same operation id, and
//! which is shown as scheduled once it is — never planned twice.

use alloy::primitives::{Address, B256, Bytes};

use super::{DesiredRecord, Forwarded, PendingOperation, PlannedCall, PlannedRoute, RouteKind, TimelockBatch};
use crate::contracts::{Setter, Value, timelock};
use crate::observe::{AccountKind, Observed, ObservedContract, OperationState, TimelockState};

/// The forwarding call that carries `call`, when its contract's authority
/// forwards calls to it (and no account may send it directly instead).
pub fn forwarded(call: &PlannedCall, observed: &Observed) -> Option<Forwarded> {
    if other_sender(call, observed).is_some() {
        return None;
    }
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

/// The account that must send `call`: an account the setter also accepts
/// (StakeManager's pauser, which may pause at once while governance waits
/// for a timelock), else the authority of the contract the transaction goes to.
fn authority(call: &PlannedCall, observed: &Observed) -> Address {
    if let Some(sender) = other_sender(call, observed) {
        return sender;
    }
    let key = call.sent_to_contract();
    observed.contracts.iter().find(|c| c.kind.key == key).map(|c| c.authority).unwrap_or_default()
}

/// The holder of the role the setter also accepts, when it is an account
/// without code and the contract's own authority is not one: sending by it
/// needs no forwarding and no delay.
fn other_sender(call: &PlannedCall, observed: &Observed) -> Option<Address> {
    let contract = observed.contracts.iter().find(|c| c.kind.key == call.contract)?;
    let setter = call.setter_in(contract.kind)?;
    let Some(Value::Address(holder)) = contract.field(setter.also_allowed?) else {
        return None;
    };
    let eoa = |address: Address| matches!(observed.account(address).map(|a| &a.kind), Some(AccountKind::Eoa));
    if setter.at.is_some() {
        // Sent straight to another contract (a module's own pause()):
        // only the holder may, whatever the authority is.
        return sends_itself(holder, observed).then_some(holder);
    }
    (eoa(holder) && !eoa(contract.authority)).then_some(holder)
}

/// True when `account` sends its own transactions: an account without
/// code, or a Safe (whose owners sign).
fn sends_itself(account: Address, observed: &Observed) -> bool {
    matches!(observed.account(account).map(|a| &a.kind), Some(AccountKind::Eoa | AccountKind::Safe { .. }))
}

/// How soon a call of `setter` on `contract` takes effect once apply runs,
/// in seconds: 0 when an account sends it itself (the holder of a role the
/// setter also accepts, or an account authority), a TimelockController's
/// minimum delay on the way, `None` when nobody who sends transactions may
/// send it. The planner takes the soonest lever for a pause.
pub fn delay_of(setter: &Setter, contract: &ObservedContract, observed: &Observed) -> Option<u64> {
    if let Some(field) = setter.also_allowed
        && let Some(Value::Address(holder)) = contract.field(field)
        && sends_itself(holder, observed)
    {
        return Some(0);
    }
    if setter.at.is_some() {
        return None;
    }
    authority_delay(contract.authority, observed, 0)
}

fn authority_delay(authority: Address, observed: &Observed, depth: u8) -> Option<u64> {
    match observed.account(authority).map(|a| &a.kind) {
        Some(AccountKind::Eoa | AccountKind::Safe { .. }) => Some(0),
        Some(AccountKind::Timelock(state)) => Some(state.min_delay),
        _ => {
            let forwarder = observed.contracts.iter().find(|c| c.address == authority && c.kind.forwarder.is_some())?;
            if depth > 4 {
                return None;
            }
            authority_delay(forwarder.authority, observed, depth + 1)
        }
    }
}

/// Groups the ordered calls by the account that must send them, in order
/// of their first call, and lists the pending timelock operations.
pub fn routes(
    calls: &[PlannedCall],
    observed: &Observed,
    desired: &[DesiredRecord],
) -> (Vec<PlannedRoute>, Vec<PendingOperation>) {
    let mut routes: Vec<PlannedRoute> = Vec::new();
    for (index, call) in calls.iter().enumerate() {
        let authority = authority(call, observed);
        match routes.iter_mut().find(|r| r.authority == authority) {
            Some(route) => route.calls.push(index),
            None => routes.push(PlannedRoute { authority, via: RouteKind::Direct, calls: vec![index] }),
        }
    }
    let mut operations = Vec::new();
    // Safe transactions take consecutive Safe nonces in the order apply
    // sends them: Safe routes first, then the timelock batches they schedule.
    let mut used = SafeNonces::default();
    for route in &mut routes {
        if let Some(AccountKind::Safe { .. }) = observed.account(route.authority).map(|a| &a.kind) {
            let carried = route.calls.iter().filter_map(|i| calls.get(*i));
            let sent: Vec<(Address, Bytes)> = carried.map(|c| (c.sent().0, c.sent().1.clone())).collect();
            if let Some(safe) = safe_batch_of(route.authority, &sent, observed, &mut used) {
                route.via = RouteKind::Safe(safe);
            }
        }
    }
    let mut sized = Vec::with_capacity(routes.len());
    for route in routes {
        let Some(AccountKind::Timelock(state)) = observed.account(route.authority).map(|a| &a.kind) else {
            sized.push(route);
            continue;
        };
        // A batch executes in one transaction: too large for a block, it is
        // cut into parts, each atomic, each waiting for the one before.
        let mut predecessor = B256::ZERO;
        for part in parts(&route.calls, calls, observed) {
            let mut batch = batch(route.authority, state, predecessor, part.iter().filter_map(|i| calls.get(*i)));
            if batch.state == OperationState::Unset {
                batch.proposer = proposer_safe(&batch, state, observed, &mut used);
            }
            predecessor = batch.operation;
            sized.push(PlannedRoute { authority: route.authority, via: RouteKind::Timelock(batch), calls: part });
        }
    }
    let routes = sized;
    let ours: Vec<B256> = routes
        .iter()
        .filter_map(|r| match &r.via {
            RouteKind::Timelock(b) => Some(b.operation),
            _ => None,
        })
        .collect();
    for (timelock, operation) in observed.pending_operations() {
        let judged = super::judge(operation, desired, observed, &ours);
        operations.push(PendingOperation {
            timelock,
            id: operation.id,
            state: operation.state,
            ready_at: operation.ready_at,
            calls: operation.calls.len(),
            scope: judged.scope,
            effects: judged.effects,
            undecoded: judged.undecoded,
        });
    }
    (routes, operations)
}

/// The share of the block gas limit one batch may take by the calls' gas
/// bounds (the bounds are generous; simulation checks each part again
/// before it is scheduled).
const BATCH_SHARE_PERCENT: u64 = 60;

/// `route_calls` cut, in order, into parts whose gas bounds together fit a
/// batch's share of the block: one part when the block's gas limit is
/// unknown or everything fits.
fn parts(route_calls: &[usize], calls: &[PlannedCall], observed: &Observed) -> Vec<Vec<usize>> {
    let limit = observed.block.gas_limit;
    let budget = if limit == 0 { u64::MAX } else { limit / 100 * BATCH_SHARE_PERCENT };
    let mut parts: Vec<Vec<usize>> = Vec::new();
    let mut used = 0u64;
    for index in route_calls {
        let bound = calls.get(*index).map_or(crate::contracts::SETTER_GAS, |c| gas_bound(c, observed));
        match parts.last_mut() {
            Some(part) if used.saturating_add(bound) <= budget => part.push(*index),
            _ => {
                parts.push(vec![*index]);
                used = 0;
            }
        }
        used = used.saturating_add(bound);
    }
    parts
}

/// The table's gas bound for a planned call (its setter's; a role change
/// counts as a plain setter).
fn gas_bound(call: &PlannedCall, observed: &Observed) -> u64 {
    let kind = observed.contracts.iter().find(|c| c.kind.key == call.contract).map(|c| c.kind);
    kind.and_then(|k| call.setter_in(k)).map_or(crate::contracts::SETTER_GAS, |s| s.gas)
}

/// How many transactions of each Safe the plan has placed so far.
type SafeNonces = Vec<(Address, u64)>;

/// The Safe transaction making `calls` from `safe`, as observed, at the
/// Safe's next nonce not yet used by this plan.
fn safe_batch_of(
    safe: Address,
    calls: &[(Address, Bytes)],
    observed: &Observed,
    used: &mut SafeNonces,
) -> Option<super::SafeBatch> {
    let Some(AccountKind::Safe { threshold, owners, nonce }) = observed.account(safe).map(|a| &a.kind) else {
        return None;
    };
    let offset = match used.iter_mut().find(|(s, _)| *s == safe) {
        Some((_, count)) => {
            *count += 1;
            *count - 1
        }
        None => {
            used.push((safe, 1));
            0
        }
    };
    let threshold = threshold.saturating_to();
    let nonce = nonce.saturating_add(offset);
    Some(super::safe_batch(observed.chain_id, safe, threshold, owners.clone(), nonce, calls))
}

/// When the timelock's proposers include a Safe: the Safe transaction that
/// schedules `batch` (a single call to the timelock).
fn proposer_safe(
    batch: &TimelockBatch,
    state: &TimelockState,
    observed: &Observed,
    used: &mut SafeNonces,
) -> Option<super::SafeBatch> {
    let safe = state
        .proposers
        .iter()
        .find(|p| matches!(observed.account(**p).map(|a| &a.kind), Some(AccountKind::Safe { .. })))?;
    let data = timelock::schedule_batch(&batch.targets, &batch.payloads, batch.predecessor, batch.salt, batch.delay);
    safe_batch_of(*safe, &[(batch.timelock, data.into())], observed, used)
}

/// The timelock batch carrying `calls`, with the first salt whose operation
/// has not been executed already (the same change made, undone and made
/// again gets a fresh id), and its state if it is scheduled.
fn batch<'a>(
    timelock: Address,
    state: &TimelockState,
    predecessor: B256,
    calls: impl Iterator<Item = &'a PlannedCall>,
) -> TimelockBatch {
    let (targets, payloads): (Vec<Address>, Vec<Bytes>) = calls.map(|c| (c.sent().0, c.sent().1.clone())).unzip();
    let done = |id: B256| state.operations.iter().any(|o| o.id == id && o.state == OperationState::Done);
    let mut counter = 0;
    let (salt, operation) = loop {
        let salt = timelock::salt(&targets, &payloads, counter);
        let id = timelock::operation_id(&targets, &payloads, predecessor, salt);
        if !done(id) || counter == u64::MAX {
            break (salt, id);
        }
        counter += 1;
    };
    let scheduled = state.operations.iter().find(|o| o.id == operation && o.is_pending());
    TimelockBatch {
        timelock,
        delay: state.min_delay,
        targets,
        payloads,
        predecessor,
        salt,
        operation,
        state: scheduled.map_or(OperationState::Unset, |o| o.state),
        ready_at: scheduled.map(|o| o.ready_at),
        proposer: None,
    }
}
