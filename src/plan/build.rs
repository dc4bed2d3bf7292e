//! Building a plan: differences → candidate calls → a safe order.

use std::collections::BTreeSet;

use alloy::primitives::Address;

use super::model::Model;
use super::{
    Argument, Change, ChangeKind, Desired, DesiredContract, DesiredRecord, FORMAT_VERSION, Plan, PlanError,
    PlanOptions, PlannedCall, PlannedContract, route, same_state,
};
use crate::contracts::{ContractState, KINDS, Phase, RoleSet, Setter, Shown, Unit, Value};
use crate::observe::{Observed, ObservedContract};

/// Plans the calls that take `observed` to `desired`.
pub fn plan(desired: &Desired, observed: &Observed, options: &PlanOptions) -> Result<Plan, PlanError> {
    let states = same_state::States::of(observed);
    let wanted = states.reconcile(desired, observed)?;
    let mut contracts = Vec::new();
    let mut candidates = Vec::new();
    for (wanted, original) in wanted.iter().zip(&desired.contracts) {
        let kind = wanted.deployed.kind;
        let seen = observed
            .contracts
            .iter()
            .find(|c| c.kind.key == kind.key)
            .ok_or_else(|| PlanError::NotObserved { contract: kind.key.to_string() })?;
        contracts.push(PlannedContract::observed(seen, original.deployed.deployed_block));
        candidates.extend(contract_calls(wanted, seen, observed)?);
    }
    // Contracts on a route the file has no section for (the SystemPause
    // governing StakeManager): recorded, so the route is derived again from
    // the plan, and checked unchanged before applying.
    for seen in observed.contracts.iter().filter(|c| on_the_route(c, desired, observed)) {
        if !contracts.iter().any(|c: &PlannedContract| c.contract == seen.kind.key) {
            contracts.push(PlannedContract::observed(seen, None));
        }
    }
    for call in &mut candidates {
        states.mirror(call, observed);
    }
    refuse_unallowed_transfers(&candidates, options)?;
    let changes = candidates.iter().flat_map(|c| c.changes.iter().cloned()).collect();
    let mut calls = order(candidates, Model::from_observed(observed))?;
    for call in &mut calls {
        call.via = route::forwarded(call, observed);
    }
    let records: Vec<DesiredRecord> = desired.contracts.iter().map(DesiredRecord::of).collect();
    let (routes, operations) = route::routes(&calls, observed, &records);
    let plan = Plan {
        format_version: FORMAT_VERSION,
        chain_id: observed.chain_id,
        block: observed.block,
        contracts,
        changes,
        calls,
        routes,
        operations,
        accounts: observed.accounts.clone(),
        desired: records,
        allow_ownership_transfer: options.allow_ownership_transfer,
        source: None,
        digest: Default::default(),
    };
    Ok(plan.sealed())
}

/// Every call one contract needs, unordered: setters first, role sets after.
fn contract_calls(
    wanted: &DesiredContract,
    seen: &ObservedContract,
    observed: &Observed,
) -> Result<Vec<PlannedCall>, PlanError> {
    let kind = seen.kind;
    let now = ContractState { kind, values: seen.fields.clone() };
    let mut target = now.clone();
    for (key, value) in &wanted.fields {
        if kind.field(key).is_none() && kind.derived(key).is_none() {
            return Err(PlanError::NoSuchField {
                contract: kind.key.to_string(),
                key: key.to_string(),
                kind: kind.display_name(),
                address: seen.address,
            });
        }
        target.set(key, *value);
    }
    let mut calls = Vec::new();
    let mut switched = BTreeSet::new();
    for setter in levers_soonest_first(kind.setters, seen, observed) {
        if !is_needed(setter, &now, &target, &switched) {
            continue;
        }
        if setter.produces.is_some() {
            switched.extend(setter.fields.iter().copied());
        }
        let call = setter_call(setter, wanted, &now, &target)?;
        refuse_unreachable(setter, &call, &target, wanted)?;
        calls.push(call);
    }
    for set in kind.role_sets {
        if let Some(desired) = wanted.role_set(set.key) {
            let observed = seen.role_set(set.key).cloned().unwrap_or_default();
            calls.extend(role_calls(wanted, set, &observed, desired));
        }
    }
    Ok(calls)
}

/// True when `seen` forwards the calls of a contract the file manages (the
/// SystemPause governing StakeManager), whether or not the file has a
/// section for it.
fn on_the_route(seen: &ObservedContract, desired: &Desired, observed: &Observed) -> bool {
    let managed = |c: &&ObservedContract| desired.contracts.iter().any(|d| d.deployed.kind.key == c.kind.key);
    seen.kind.forwarder.is_some() && observed.contracts.iter().filter(managed).any(|c| c.authority == seen.address)
}

/// The setters in table order, except that among switches (`pause()`,
/// `pauseAll()`) the one taking effect soonest comes first: a module's own
/// `pause()` by an emergency pauser before a `pauseAll()` that waits for a
/// timelock. A switch sent straight to another contract that nobody who
/// sends transactions may send is left out.
fn levers_soonest_first<'a>(setters: &'a [Setter], seen: &ObservedContract, observed: &Observed) -> Vec<&'a Setter> {
    let delay = |s: &Setter| route::delay_of(s, seen, observed);
    let available: Vec<&Setter> = setters.iter().filter(|s| s.at.is_none() || delay(s).is_some()).collect();
    // Switches change places among themselves only: soonest first, table
    // order on a tie (the authority's one call before many levers).
    let mut switches: Vec<&Setter> = available.iter().copied().filter(|s| s.produces.is_some()).collect();
    switches.sort_by_key(|s| delay(s).unwrap_or(u64::MAX));
    let mut switches = switches.into_iter();
    available.into_iter().filter_map(|s| if s.produces.is_some() { switches.next() } else { Some(s) }).collect()
}

/// A setter group is needed when one of its fields differs. A switch
/// (`pause()`, `pauseAll()`) only when every field it flips must take the
/// value it produces and none was switched by an earlier one: a switch over
/// several fields reverts when any is already in that state, so from a mixed
/// state the narrower switches do the work.
fn is_needed(setter: &Setter, now: &ContractState, target: &ContractState, switched: &BTreeSet<&str>) -> bool {
    let differs = |f: &&str| now.get(f) != target.get(f);
    match setter.produces {
        None => setter.fields.iter().any(differs),
        Some(value) => {
            setter.fields.iter().all(|f| differs(f) && target.get(f) == Some(value) && !switched.contains(f))
        }
    }
}

fn setter_call(
    setter: &Setter,
    wanted: &DesiredContract,
    now: &ContractState,
    target: &ContractState,
) -> Result<PlannedCall, PlanError> {
    let contract = wanted.deployed.kind.key;
    let mut args = Vec::new();
    for read in setter.reads {
        if let Some(value) = now.get(read) {
            args.push(Argument { name: read.to_string(), value });
        }
    }
    let mut changes = Vec::new();
    for field in setter.fields {
        let (before, after) = (now.get(field), target.get(field));
        if setter.produces.is_none()
            && let Some(value) = after
        {
            args.push(Argument { name: field.to_string(), value });
        }
        if before != after {
            changes.push(Change {
                contract: contract.to_string(),
                field: field.to_string(),
                kind: ChangeKind::Set,
                before,
                after,
            });
        }
    }
    let values: Vec<Value> = args.iter().map(|a| a.value).collect();
    let calldata = (setter.encode)(&values).map_err(|source| PlanError::Encode {
        contract: contract.to_string(),
        function: setter.function.to_string(),
        source,
    })?;
    // A call sent straight to another contract (a module's own pause())
    // goes to the address its field holds.
    let target = match setter.at.and_then(|key| now.get(key)) {
        Some(Value::Address(address)) => address,
        _ => wanted.deployed.address,
    };
    Ok(PlannedCall {
        phase: setter.phase,
        contract: contract.to_string(),
        target,
        function: setter.function.to_string(),
        args,
        calldata: calldata.into(),
        changes,
        note: setter.note.map(str::to_string),
        via: None,
    })
}

/// A setter whose own check fails on the state the file asks for fails in
/// every order: refused, naming the values the file leaves as on chain.
fn refuse_unreachable(
    setter: &Setter,
    call: &PlannedCall,
    target: &ContractState,
    wanted: &DesiredContract,
) -> Result<(), PlanError> {
    let Some(requires) = setter.requires else {
        return Ok(());
    };
    let values: Vec<Value> = call.args.iter().map(|a| a.value).collect();
    let Err(revert) = (setter.check)(target, &values) else {
        return Ok(());
    };
    let kind = wanted.deployed.kind;
    let written = |field: &&str| wanted.fields.iter().any(|(k, _)| k == field);
    let carried: Vec<String> = setter
        .fields
        .iter()
        .filter(|f| !written(f))
        .map(|f| {
            let shown = target.get(f).map(|v| Shown { value: v, unit: kind.field(f).map_or(Unit::Count, |x| x.unit) });
            let shown = shown.map_or("nothing".to_string(), |s| s.to_string());
            format!("{}.{f} ({shown} on chain)", kind.key)
        })
        .collect();
    if carried.is_empty() {
        return Ok(());
    }
    Err(PlanError::Unreachable {
        contract: kind.key.to_string(),
        function: setter.function.to_string(),
        revert: revert.to_string(),
        requires: requires.to_string(),
        carried,
    })
}

/// Revokes for holders the file does not list, grants for listed addresses
/// that do not hold the role; each in address order.
fn role_calls(
    wanted: &DesiredContract,
    set: &RoleSet,
    observed: &BTreeSet<Address>,
    desired: &BTreeSet<Address>,
) -> Vec<PlannedCall> {
    let revokes = observed.difference(desired).map(|a| (*a, false));
    let grants = desired.difference(observed).map(|a| (*a, true));
    revokes.chain(grants).map(|(account, allowed)| role_call(wanted, set, account, allowed)).collect()
}

fn role_call(wanted: &DesiredContract, set: &RoleSet, account: Address, allowed: bool) -> PlannedCall {
    let contract = wanted.deployed.kind.key.to_string();
    let member = Value::Address(account);
    let (phase, kind, before, after) = if allowed {
        (Phase::Grant, ChangeKind::Add, None, Some(member))
    } else {
        (Phase::Revoke, ChangeKind::Remove, Some(member), None)
    };
    PlannedCall {
        phase,
        contract: contract.clone(),
        target: wanted.deployed.address,
        function: set.setter.to_string(),
        args: vec![
            Argument { name: set.key.to_string(), value: member },
            Argument { name: "allowed".to_string(), value: Value::Bool(allowed) },
        ],
        calldata: (set.set_calldata)(account, allowed).into(),
        changes: vec![Change { contract, field: set.key.to_string(), kind, before, after }],
        note: None,
        via: None,
    }
}

/// Whether `options` (the flags given *now*) permit every call of `plan`.
/// What a plan file says about itself (`allow_ownership_transfer`) is data,
/// never permission: a saved plan with owner or governance transfers is
/// applied only when the operator passes `--allow-ownership-transfer` at
/// apply time.
pub fn permitted(plan: &Plan, options: &PlanOptions) -> Result<(), PlanError> {
    refuse_unallowed_transfers(&plan.calls, options)
}

fn refuse_unallowed_transfers(calls: &[PlannedCall], options: &PlanOptions) -> Result<(), PlanError> {
    if options.allow_ownership_transfer {
        return Ok(());
    }
    let changes: Vec<Change> =
        calls.iter().filter(|c| c.phase == Phase::Ownership).flat_map(|c| c.changes.iter().cloned()).collect();
    if changes.is_empty() { Ok(()) } else { Err(PlanError::OwnershipTransferNotAllowed { changes }) }
}

/// Orders the calls phase by phase. SystemPause pauses first and unpauses
/// last; inside a phase each call must pass the contract's check on the
/// state the earlier calls leave, and the first call (in table order) that
/// passes goes next.
fn order(mut pending: Vec<PlannedCall>, mut model: Model) -> Result<Vec<PlannedCall>, PlanError> {
    let mut ordered = Vec::with_capacity(pending.len());
    for phase in Phase::ALL {
        let (mut in_phase, rest): (Vec<PlannedCall>, Vec<PlannedCall>) =
            pending.into_iter().partition(|c| c.phase == phase);
        pending = rest;
        in_phase.sort_by_key(|c| contract_rank(&c.contract, phase));
        // A deque: the call that goes next is nearly always the first, and
        // taking it is then O(1), so 190,000 grants order in linear time.
        let mut in_phase = std::collections::VecDeque::from(in_phase);
        while !in_phase.is_empty() {
            let next = in_phase.iter().position(|c| model.check(c).is_ok());
            let Some(call) = next.and_then(|next| in_phase.remove(next)) else {
                return Err(stuck(in_phase.make_contiguous(), &model));
            };
            model.apply(&call);
            ordered.push(call);
        }
    }
    Ok(ordered)
}

/// Contracts pause in `KINDS` order (SystemPause first) and unpause in reverse.
fn contract_rank(contract: &str, phase: Phase) -> usize {
    let rank = KINDS.iter().position(|k| k.key == contract).unwrap_or(KINDS.len());
    if phase == Phase::Unpause { KINDS.len() - rank } else { rank }
}

fn stuck(calls: &[PlannedCall], model: &Model) -> PlanError {
    let first = &calls[0];
    PlanError::NoSafeOrder {
        contract: first.contract.clone(),
        function: first.function.clone(),
        revert: model.check(first).err().unwrap_or("a revert").to_string(),
    }
}
