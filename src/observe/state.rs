//! The observed state: plain data, shown field by field.

use std::collections::BTreeSet;
use std::fmt;

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::contracts::{Kind, Shown, Value};

/// The block every read was made at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

/// Every managed field of a deployment, as read at one block.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The chain read.
    pub chain_id: u64,
    /// The block every value was read at.
    pub block: BlockRef,
    /// One entry per managed contract.
    pub contracts: Vec<ObservedContract>,
}

/// One contract's managed fields.
#[derive(Debug, Clone)]
pub struct ObservedContract {
    /// The contract's kind; its table gives the meaning of each value.
    pub kind: &'static Kind,
    /// The contract's address.
    pub address: Address,
    /// One value per entry of `kind.fields`, in the same order.
    pub fields: Vec<Value>,
    /// The holders of each role set that was listed, by key.
    pub role_sets: Vec<(&'static str, BTreeSet<Address>)>,
}

impl ObservedContract {
    /// The value of the field with the given key path, if the kind has one.
    pub fn field(&self, key: &str) -> Option<Value> {
        self.fields.get(self.kind.field_index(key)?).copied()
    }

    /// The holders of the role set with the given key, if the kind has one.
    pub fn role_set(&self, key: &str) -> Option<&BTreeSet<Address>> {
        self.role_sets.iter().find(|(k, _)| *k == key).map(|(_, set)| set)
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Chain {} at block {} ({})", self.chain_id, self.block.number, self.block.hash)?;
        for contract in &self.contracts {
            writeln!(f)?;
            write!(f, "{contract}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ObservedContract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind;
        writeln!(f, "{} ({}) at {}", kind.key, kind.name, self.address)?;
        let width = kind.fields.iter().map(|x| x.key.len()).chain(kind.role_sets.iter().map(|r| r.key.len()));
        let width = width.max().unwrap_or(0);
        for (field, value) in kind.fields.iter().zip(&self.fields) {
            let shown = Shown { value: *value, unit: field.unit };
            writeln!(f, "  {:width$}  {shown}", field.key)?;
        }
        for (set, holders) in &self.role_sets {
            if holders.is_empty() {
                writeln!(f, "  {set:width$}  (none)")?;
            }
            for (i, holder) in holders.iter().enumerate() {
                let key = if i == 0 { *set } else { "" };
                writeln!(f, "  {key:width$}  {holder}")?;
            }
        }
        Ok(())
    }
}
