//! Where the managed contracts of one deployment live.

use alloy::primitives::Address;

use super::Kind;

/// Where one managed contract lives.
#[derive(Debug, Clone, Copy)]
pub struct Deployed {
    /// Which kind of contract it is.
    pub kind: &'static Kind,
    /// Its address.
    pub address: Address,
    /// The block it was deployed in, when known: role holders are listed
    /// from there on.
    pub deployed_block: Option<u64>,
}

impl PartialEq for Deployed {
    fn eq(&self, other: &Self) -> bool {
        self.kind.key == other.kind.key && self.address == other.address && self.deployed_block == other.deployed_block
    }
}

impl Eq for Deployed {}

/// The managed contracts of one deployment on one chain.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The chain they are deployed on.
    pub chain_id: u64,
    /// One entry per managed contract, in `KINDS` order.
    pub contracts: Vec<Deployed>,
}

impl Deployment {
    /// The address of the contract of the given kind, if it is managed.
    pub fn address_of(&self, key: &str) -> Option<Address> {
        self.contracts.iter().find(|c| c.kind.key == key).map(|c| c.address)
    }
}
