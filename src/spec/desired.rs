//! The desired state in the contract table's terms: which fields and role
//! sets the file manages, and the values it asks for.

use std::collections::BTreeSet;

use alloy::primitives::{Address, U256};

use super::{Amount, ChecksummedAddress, Duration, Spec};
use crate::contracts::{Deployed, Value};

/// What the file asks of every contract it manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// The chain the file is for.
    pub chain_id: u64,
    /// One entry per contract with a section in the file, in `KINDS` order.
    pub contracts: Vec<DesiredContract>,
}

/// What the file asks of one contract. Only written keys appear here: a key
/// left out is neither read into the plan nor changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredContract {
    /// Where the contract is and what kind it is.
    pub deployed: Deployed,
    /// Written scalar fields and their desired values.
    pub fields: Vec<(&'static str, Value)>,
    /// Written role sets and their exact desired holders.
    pub role_sets: Vec<(&'static str, BTreeSet<Address>)>,
}

impl DesiredContract {
    /// The desired holders of the role set `key`, when the file writes it.
    pub fn role_set(&self, key: &str) -> Option<&BTreeSet<Address>> {
        self.role_sets.iter().find(|(k, _)| *k == key).map(|(_, set)| set)
    }
}

/// Collects the keys a section writes, in the contract table's terms.
#[derive(Debug, Default)]
pub struct Managed {
    fields: Vec<(&'static str, Value)>,
    role_sets: Vec<(&'static str, BTreeSet<Address>)>,
}

impl Managed {
    /// A written flag.
    pub fn flag(&mut self, key: &'static str, value: Option<bool>) -> &mut Self {
        self.push(key, value.map(Value::Bool))
    }

    /// A written address.
    pub fn address(&mut self, key: &'static str, value: Option<ChecksummedAddress>) -> &mut Self {
        self.push(key, value.map(|a| Value::Address(a.get())))
    }

    /// A written amount.
    pub fn amount(&mut self, key: &'static str, value: Option<Amount>) -> &mut Self {
        self.push(key, value.map(|a| Value::Uint(a.get())))
    }

    /// A written plain number (count, bps, percent).
    pub fn number(&mut self, key: &'static str, value: Option<u64>) -> &mut Self {
        self.push(key, value.map(|n| Value::Uint(U256::from(n))))
    }

    /// A written duration, in seconds.
    pub fn seconds(&mut self, key: &'static str, value: Option<Duration>) -> &mut Self {
        self.push(key, value.map(|d| Value::Uint(U256::from(d.0))))
    }

    /// A written role set.
    pub fn role_set(&mut self, key: &'static str, holders: Option<&Vec<ChecksummedAddress>>) -> &mut Self {
        if let Some(holders) = holders {
            self.role_sets.push((key, holders.iter().map(|a| a.get()).collect()));
        }
        self
    }

    fn push(&mut self, key: &'static str, value: Option<Value>) -> &mut Self {
        if let Some(value) = value {
            self.fields.push((key, value));
        }
        self
    }

    fn into_contract(self, deployed: Deployed) -> DesiredContract {
        DesiredContract { deployed, fields: self.fields, role_sets: self.role_sets }
    }
}

impl Spec {
    /// What the file asks for, in the contract table's terms: one entry per
    /// section, in `KINDS` order.
    pub fn desired(&self) -> Desired {
        let state = self.state();
        let contracts = state
            .sections()
            .into_iter()
            .filter_map(|(key, section, address)| {
                let kind = crate::contracts::kind(key)?;
                let (address, deployed_block) = address?;
                let deployed = Deployed { kind, address: address.get(), deployed_block };
                Some(section?.managed().into_contract(deployed))
            })
            .collect();
        Desired { chain_id: state.chain_id, contracts }
    }

    /// The environment variable naming the RPC endpoint, if the file names one.
    pub fn rpc_url_env(&self) -> Option<&str> {
        self.state().rpc_url_env.as_deref()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_a_section_writes_is_a_field_of_the_table() {
        let text = std::fs::read_to_string("tests/spec_valid/full.yaml").unwrap_or_default();
        let spec = crate::spec::load_str(&text, "full.yaml").expect("the full example is valid");
        let desired = spec.desired();
        assert_eq!(desired.contracts.len(), 3);
        let mut written = std::collections::BTreeSet::new();
        for contract in &desired.contracts {
            let kinds = crate::contracts::candidates(contract.deployed.kind.key);
            let has =
                |key: &str| kinds.iter().any(|k| k.field(key).is_some_and(|f| f.in_file) || k.derived(key).is_some());
            for (key, _) in &contract.fields {
                assert!(has(key), "{}.{key}", contract.deployed.kind.key);
                written.insert(format!("{}.{key}", contract.deployed.kind.key));
            }
            for (key, _) in &contract.role_sets {
                let kind = contract.deployed.kind;
                assert!(kind.role_sets.iter().any(|r| r.key == *key), "{}.{key}", kind.key);
                written.insert(format!("{}.{key}", kind.key));
            }
        }
        for kind in crate::contracts::ALL_KINDS {
            let keys = kind.fields.iter().filter(|f| f.in_file).map(|f| f.key);
            let keys = keys.chain(kind.derived.iter().map(|d| d.key)).chain(kind.role_sets.iter().map(|r| r.key));
            for key in keys {
                assert!(written.contains(&format!("{}.{key}", kind.key)), "the full example writes {}.{key}", kind.key);
            }
        }
    }
}
