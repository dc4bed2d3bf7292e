//! Is the chain still in the state a plan was made for? And did applying
//! it reach the state it promised?

use std::collections::BTreeSet;

use alloy::primitives::Address;

use crate::contracts::{Deployed, Value, kind_of};
use crate::observe::{Observed, Scope, ScopeContract};
use crate::plan::{ChangeKind, Plan, PlannedContract};

/// What to observe to check `plan`: its contracts, every field, and its
/// role sets with every address the plan mentions as a candidate.
pub fn scope_of(plan: &Plan) -> Scope {
    let contracts = plan
        .contracts
        .iter()
        .filter_map(|c| {
            let kind = kind_of(&c.contract, c.variant.as_deref())?;
            let deployed = Deployed { kind, address: c.address, deployed_block: c.deployed_block };
            let role_sets = kind
                .role_sets
                .iter()
                .filter_map(|set| {
                    let observed = c.role_sets.get(set.key)?;
                    let mut named: BTreeSet<Address> = observed.iter().copied().collect();
                    named.extend(mentioned(plan, &c.contract, set.key));
                    Some((set, named))
                })
                .collect();
            Some(ScopeContract { deployed, role_sets })
        })
        .collect();
    Scope { chain_id: plan.chain_id, contracts }
}

fn mentioned<'a>(plan: &'a Plan, contract: &'a str, key: &'a str) -> impl Iterator<Item = Address> + 'a {
    plan.changes
        .iter()
        .filter(move |c| c.contract == contract && c.field == key)
        .flat_map(|c| [c.before, c.after])
        .filter_map(|v| match v {
            Some(Value::Address(a)) => Some(a),
            _ => None,
        })
}

/// The differences between what `expected` records and what is observed
/// now, one line each (`arena.paused: plan saw false, chain has true`).
pub fn differences(expected: &[PlannedContract], now: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    for contract in expected {
        let Some(seen) = now.contracts.iter().find(|c| c.kind.key == contract.contract) else {
            out.push(format!("{}: not observed", contract.contract));
            continue;
        };
        if seen.address != contract.address {
            out.push(format!("{}: address {} instead of {}", contract.contract, seen.address, contract.address));
        }
        if seen.kind.variant.map(str::to_string) != contract.variant {
            let kind = |v: Option<&str>| v.map_or("no variant".to_string(), |v| format!("the {v} kind"));
            let (was, now) = (kind(contract.variant.as_deref()), kind(seen.kind.variant));
            out.push(format!("{}: plan saw {was}, chain has {now}", contract.contract));
        }
        if let Some(authority) = contract.authority
            && authority != seen.authority
        {
            let getter = seen.kind.authority.getter;
            out.push(format!("{}.{getter}: expected {authority}, chain has {}", contract.contract, seen.authority));
        }
        for (key, value) in &contract.fields {
            let current = seen.field(key);
            if current != Some(*value) {
                let current = current.map_or("nothing".to_string(), |v| v.to_string());
                out.push(format!("{}.{key}: expected {value}, chain has {current}", contract.contract));
            }
        }
        for (key, holders) in &contract.role_sets {
            let expected: BTreeSet<Address> = holders.iter().copied().collect();
            let current = seen.role_set(key).cloned().unwrap_or_default();
            for extra in current.difference(&expected) {
                out.push(format!("{}.{key}: {extra} holds the role, unexpected", contract.contract));
            }
            for missing in expected.difference(&current) {
                out.push(format!("{}.{key}: {missing} no longer holds the role", contract.contract));
            }
        }
    }
    out
}

/// The plan's calls (by position) whose every change is already on chain in
/// `now`: made by an earlier run of the same plan (its direct calls before
/// its timelock batch ran), or by someone else to the same effect. Applying
/// the plan again sends them no more.
pub fn made_already(plan: &Plan, now: &Observed) -> Vec<usize> {
    let on_chain = |change: &crate::plan::Change| {
        let Some(seen) = now.contracts.iter().find(|c| c.kind.key == change.contract) else {
            return false;
        };
        let holds = |a: &Option<Value>| match a {
            Some(Value::Address(a)) => seen.role_set(&change.field).is_some_and(|s| s.contains(a)),
            _ => false,
        };
        match change.kind {
            ChangeKind::Set => seen.field(&change.field) == change.after,
            ChangeKind::Add => holds(&change.after),
            ChangeKind::Remove => !holds(&change.before),
        }
    };
    let made = |call: &crate::plan::PlannedCall| !call.changes.is_empty() && call.changes.iter().all(on_chain);
    plan.calls.iter().enumerate().filter(|(_, c)| made(c)).map(|(i, _)| i).collect()
}

/// True when `field` is the contract's authority itself (`owner`,
/// `governance`): setting it moves who the contract answers to.
fn transfers_control(contract: &PlannedContract, field: &str) -> bool {
    let Some(kind) = kind_of(&contract.contract, contract.variant.as_deref()) else {
        return false;
    };
    kind.field(field).is_some_and(|f| f.getter == kind.authority.getter)
}

/// The state `plan` promises once applied: what it observed, with every
/// change made.
pub fn promised(plan: &Plan) -> Vec<PlannedContract> {
    let all: Vec<usize> = (0..plan.calls.len()).collect();
    promised_by(plan, &all)
}

/// The state `plan` promises once the calls at positions `made` are on
/// chain (the others, waiting in a timelock, not yet).
pub fn promised_by(plan: &Plan, made: &[usize]) -> Vec<PlannedContract> {
    let mut contracts = plan.contracts.clone();
    let changes = made.iter().filter_map(|i| plan.calls.get(*i)).flat_map(|c| &c.changes);
    for change in changes {
        let Some(contract) = contracts.iter_mut().find(|c| c.contract == change.contract) else {
            continue;
        };
        match (change.kind, change.before, change.after) {
            (ChangeKind::Set, _, Some(after)) => {
                // A derived key (the modules' `pauser`) stands for its fields.
                let kind = kind_of(&contract.contract, contract.variant.as_deref());
                match kind.and_then(|k| k.derived(&change.field)) {
                    Some(derived) => {
                        for field in derived.from {
                            contract.fields.insert(field.to_string(), after);
                        }
                    }
                    None => {
                        contract.fields.insert(change.field.clone(), after);
                    }
                }
                if transfers_control(contract, &change.field)
                    && let Value::Address(new) = after
                {
                    contract.authority = Some(new);
                }
            }
            (ChangeKind::Add, _, Some(Value::Address(a))) => {
                let holders = contract.role_sets.entry(change.field.clone()).or_default();
                if !holders.contains(&a) {
                    holders.push(a);
                    holders.sort();
                }
            }
            (ChangeKind::Remove, Some(Value::Address(a)), _) => {
                if let Some(holders) = contract.role_sets.get_mut(&change.field) {
                    holders.retain(|h| *h != a);
                }
            }
            _ => {}
        }
    }
    contracts
}
