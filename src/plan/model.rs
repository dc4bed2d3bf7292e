//! An in-memory model of the managed contracts: their fields, role sets and
//! the checks each setter makes, used to find a safe order and to replay a
//! plan without a chain.

use std::collections::BTreeSet;

use alloy::primitives::Address;

use super::{ChangeKind, PlannedCall};
use crate::contracts::{ContractState, Revert, Value};
use crate::observe::Observed;

/// The state of every managed contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    contracts: Vec<ModelContract>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ModelContract {
    state: ContractState,
    role_sets: Vec<(&'static str, BTreeSet<Address>)>,
}

impl Model {
    /// The model of what was observed.
    pub fn from_observed(observed: &Observed) -> Self {
        let contracts = observed
            .contracts
            .iter()
            .map(|c| ModelContract {
                state: ContractState { kind: c.kind, values: c.fields.clone() },
                role_sets: c.role_sets.clone(),
            })
            .collect();
        Self { contracts }
    }

    /// The revert the contract would give for `call` now, if any.
    pub fn check(&self, call: &PlannedCall) -> Result<(), Revert> {
        let Some(contract) = self.contract(&call.contract) else {
            return Ok(());
        };
        let kind = contract.state.kind;
        let args: Vec<Value> = call.args.iter().map(|a| a.value).collect();
        let Some(setter) = call.setter_in(kind) else {
            return Ok(());
        };
        (setter.check)(&contract.state, &args)
    }

    /// Applies the effects of `call`, on every contract it changes.
    pub fn apply(&mut self, call: &PlannedCall) {
        for change in &call.changes {
            let Some(contract) = self.contracts.iter_mut().find(|c| c.state.kind.key == change.contract) else {
                continue;
            };
            match (change.kind, change.after, change.before) {
                (ChangeKind::Set, Some(after), _) => contract.state.set(&change.field, after),
                (ChangeKind::Add, Some(Value::Address(a)), _) => {
                    role_set_mut(contract, &change.field).insert(a);
                }
                (ChangeKind::Remove, _, Some(Value::Address(a))) => {
                    role_set_mut(contract, &change.field).remove(&a);
                }
                _ => {}
            }
        }
    }

    fn contract(&self, key: &str) -> Option<&ModelContract> {
        self.contracts.iter().find(|c| c.state.kind.key == key)
    }
}

fn role_set_mut<'a>(contract: &'a mut ModelContract, key: &str) -> &'a mut BTreeSet<Address> {
    let index = match contract.role_sets.iter().position(|(k, _)| *k == key) {
        Some(index) => index,
        None => {
            let key = contract.state.kind.role_set(key).map_or("", |r| r.key);
            contract.role_sets.push((key, BTreeSet::new()));
            contract.role_sets.len() - 1
        }
    };
    &mut contract.role_sets[index].1
}
