//! The desired state in the contract table's terms: which fields and role
//! sets the file manages, and the values it asks for.

use std::collections::BTreeSet;

use alloy::primitives::Address;

use crate::contracts::{Deployed, Deployment, Kind, Value};

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

impl Desired {
    /// The contracts the file manages, to observe.
    pub fn deployment(&self) -> Deployment {
        Deployment {
            chain_id: self.chain_id,
            contracts: self.contracts.iter().map(|c| c.deployed).collect(),
        }
    }

    /// The desired contract of the given kind, if the file manages it.
    pub fn contract(&self, kind: &Kind) -> Option<&DesiredContract> {
        self.contracts
            .iter()
            .find(|c| c.deployed.kind.key == kind.key)
    }
}

impl DesiredContract {
    /// The desired holders of the role set `key`, when the file writes it.
    pub fn role_set(&self, key: &str) -> Option<&BTreeSet<Address>> {
        self.role_sets
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, set)| set)
    }
}
