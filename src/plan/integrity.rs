//! Is a saved plan what the planner makes of its own record? A saved plan
//! records what the file asked and what the chain held; [`rederive`] plans
//! again from those two with the same pure planner and refuses the plan,
//! naming the first difference, unless every call (target, function,
//! arguments, calldata, forwarding call, phase, order) and every other part
//! comes out identical. What is sent is then provably what was shown.

use std::collections::BTreeSet;

use alloy::primitives::Address;

use super::{Desired, DesiredContract, Plan, PlanOptions, PlannedCall, PlannedContract, plan};
use crate::contracts::{Deployed, Kind, Value, candidates, kind, kind_of};
use crate::observe::{Observed, ObservedContract};

/// Why a saved plan is not what its own record plans.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// The record cannot be read back into states (an unknown contract or
    /// key, a missing value).
    #[error("the plan's record is incomplete: {0}")]
    Record(String),
    /// Planning from the record fails.
    #[error("the plan's own record does not plan: {0}")]
    Replan(#[source] Box<super::PlanError>),
    /// Planning from the record gives something else.
    #[error("the plan is not what its recorded desired and observed state plan: {0}")]
    Differs(String),
}

/// Plans again from `saved`'s recorded desired and observed state and
/// returns the result when it is identical to `saved` (digest aside).
pub fn rederive(saved: &Plan) -> Result<Plan, IntegrityError> {
    let desired = desired_of(saved)?;
    let observed = observed_of(saved)?;
    let options = PlanOptions { allow_ownership_transfer: saved.allow_ownership_transfer };
    let derived = plan(&desired, &observed, &options).map_err(|e| IntegrityError::Replan(Box::new(e)))?;
    if let Some(difference) = first_difference(saved, &derived) {
        return Err(IntegrityError::Differs(difference));
    }
    Ok(derived)
}

/// The first way `saved` differs from `derived`, in plan order: the calls
/// first, then the rest.
fn first_difference(saved: &Plan, derived: &Plan) -> Option<String> {
    for (i, (s, d)) in saved.calls.iter().zip(&derived.calls).enumerate() {
        if let Some(what) = call_difference(s, d) {
            return Some(format!("call {} ({}.{}): {what}", i + 1, s.contract, s.function));
        }
    }
    if let Some(extra) = saved.calls.get(derived.calls.len()) {
        let n = derived.calls.len() + 1;
        return Some(format!(
            "call {n} ({}.{}) is not planned from the record (an extra call)",
            extra.contract, extra.function
        ));
    }
    if let Some(missing) = derived.calls.get(saved.calls.len()) {
        let n = saved.calls.len() + 1;
        return Some(format!(
            "call {n} ({}.{}) is planned from the record but missing",
            missing.contract, missing.function
        ));
    }
    let rest = [
        ("chain_id", saved.chain_id == derived.chain_id),
        ("block", saved.block == derived.block),
        ("contracts", saved.contracts == derived.contracts),
        ("changes", saved.changes == derived.changes),
        ("routes", saved.routes == derived.routes),
        ("operations", saved.operations == derived.operations),
        ("desired", saved.desired == derived.desired),
    ];
    rest.iter().find(|(_, same)| !same).map(|(part, _)| format!("its `{part}` differ from what the record plans"))
}

fn call_difference(saved: &PlannedCall, derived: &PlannedCall) -> Option<String> {
    let show = |d: &dyn std::fmt::Debug| format!("{d:?}");
    let parts: [(&str, String, String); 9] = [
        ("contract", saved.contract.clone(), derived.contract.clone()),
        ("target", saved.target.to_string(), derived.target.to_string()),
        ("function", saved.function.clone(), derived.function.clone()),
        ("phase", saved.phase.name().to_string(), derived.phase.name().to_string()),
        ("args", show(&saved.args), show(&derived.args)),
        ("calldata", saved.calldata.to_string(), derived.calldata.to_string()),
        ("via", show(&saved.via), show(&derived.via)),
        ("changes", show(&saved.changes), show(&derived.changes)),
        ("note", show(&saved.note), show(&derived.note)),
    ];
    let (part, s, d) = parts.into_iter().find(|(_, s, d)| s != d)?;
    Some(format!("its {part} is {s}, but the record plans {d}"))
}

/// What the file asked, from the plan's record.
fn desired_of(saved: &Plan) -> Result<Desired, IntegrityError> {
    let mut contracts = Vec::with_capacity(saved.desired.len());
    for record in &saved.desired {
        let name = &record.contract;
        let kind = kind(name).ok_or_else(|| record_error(format!("unknown contract {name:?}")))?;
        let seen = contract(saved, name)?;
        let deployed = Deployed { kind, address: seen.address, deployed_block: seen.deployed_block };
        let mut fields = Vec::with_capacity(record.fields.len());
        for field in &record.fields {
            let key = static_key(name, &field.key)
                .ok_or_else(|| record_error(format!("{name}.{} is not a key govstate manages", field.key)))?;
            fields.push((key, field.value));
        }
        let mut role_sets = Vec::with_capacity(record.role_sets.len());
        for (key, holders) in &record.role_sets {
            let set =
                kind.role_set(key).ok_or_else(|| record_error(format!("{name}.{key} is not a role set of {name}")))?;
            role_sets.push((set.key, holders.iter().copied().collect::<BTreeSet<Address>>()));
        }
        contracts.push(DesiredContract { deployed, fields, role_sets });
    }
    Ok(Desired { chain_id: saved.chain_id, contracts })
}

/// The table's own `&'static str` for a written key of section `contract`
/// (a field or derived key of any of the section's kinds).
fn static_key(contract: &str, key: &str) -> Option<&'static str> {
    candidates(contract)
        .into_iter()
        .find_map(|k: &'static Kind| k.field(key).map(|f| f.key).or_else(|| k.derived(key).map(|d| d.key)))
}

/// What the chain held, from the plan's record.
fn observed_of(saved: &Plan) -> Result<Observed, IntegrityError> {
    let contracts = saved.contracts.iter().map(observed_contract).collect::<Result<_, _>>()?;
    Ok(Observed { chain_id: saved.chain_id, block: saved.block, contracts, accounts: saved.accounts.clone() })
}

fn observed_contract(seen: &PlannedContract) -> Result<ObservedContract, IntegrityError> {
    let name = &seen.contract;
    let kind = kind_of(name, seen.variant.as_deref())
        .ok_or_else(|| record_error(format!("unknown contract {name:?} (variant {:?})", seen.variant)))?;
    let mut fields: Vec<Value> = Vec::with_capacity(kind.fields.len());
    for field in kind.fields {
        let value =
            seen.fields.get(field.key).ok_or_else(|| record_error(format!("{name}.{} was not recorded", field.key)))?;
        fields.push(*value);
    }
    if let Some(extra) = seen.fields.keys().find(|k| kind.field(k).is_none()) {
        return Err(record_error(format!("{name}.{extra} is not a field of {}", kind.display_name())));
    }
    let authority = seen.authority.ok_or_else(|| record_error(format!("{name}: its authority was not recorded")))?;
    let mut role_sets = Vec::with_capacity(seen.role_sets.len());
    for set in kind.role_sets {
        if let Some(holders) = seen.role_sets.get(set.key) {
            role_sets.push((set.key, holders.iter().copied().collect()));
        }
    }
    if let Some(extra) = seen.role_sets.keys().find(|k| kind.role_set(k).is_none()) {
        return Err(record_error(format!("{name}.{extra} is not a role set of {}", kind.display_name())));
    }
    Ok(ObservedContract { kind, address: seen.address, fields, authority, role_sets })
}

fn contract<'a>(saved: &'a Plan, name: &str) -> Result<&'a PlannedContract, IntegrityError> {
    saved.contract(name).ok_or_else(|| record_error(format!("{name} is asked for but was not observed")))
}

fn record_error(what: String) -> IntegrityError {
    IntegrityError::Record(what)
}
