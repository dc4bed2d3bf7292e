//! What to observe: which contracts, and which role sets to list.

use std::collections::BTreeSet;

use alloy::primitives::Address;

use crate::contracts::{Deployed, Deployment, RoleSet};
use crate::spec::Desired;

/// The contracts to read, and for each the role sets to list.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The chain they are on.
    pub chain_id: u64,
    /// One entry per contract.
    pub contracts: Vec<ScopeContract>,
}

/// One contract to read.
#[derive(Debug, Clone)]
pub struct ScopeContract {
    /// Where it is.
    pub deployed: Deployed,
    /// The role sets to list, each with addresses to confirm besides those
    /// found in the logs (the addresses the file names).
    pub role_sets: Vec<(&'static RoleSet, BTreeSet<Address>)>,
}

impl Scope {
    /// Every field and every role set of every contract of a deployment.
    pub fn everything(deployment: &Deployment) -> Self {
        let contracts = deployment
            .contracts
            .iter()
            .map(|deployed| ScopeContract {
                deployed: *deployed,
                role_sets: deployed.kind.role_sets.iter().map(|set| (set, BTreeSet::new())).collect(),
            })
            .collect();
        Self { chain_id: deployment.chain_id, contracts }
    }

    /// What planning `desired` needs: every field of each contract it
    /// manages (co-fields and checks depend on them) and the role sets it
    /// writes.
    pub fn of(desired: &Desired) -> Self {
        let contracts = desired
            .contracts
            .iter()
            .map(|wanted| {
                let role_sets = wanted.deployed.kind.role_sets.iter();
                let role_sets = role_sets.filter_map(|set| wanted.role_set(set.key).map(|named| (set, named.clone())));
                ScopeContract { deployed: wanted.deployed, role_sets: role_sets.collect() }
            })
            .collect();
        Self { chain_id: desired.chain_id, contracts }
    }
}
