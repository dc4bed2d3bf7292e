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
    /// Block timestamp (seconds since the epoch): the chain's "now", which
    /// timelock delays count against.
    #[serde(default)]
    pub timestamp: u64,
    /// The block's gas limit: what one transaction (a timelock batch's
    /// execution) can use at most. Zero when unknown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub gas_limit: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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
    /// The contracts' authorities and what each one is (a timelock with
    /// its operations).
    pub accounts: Vec<super::ObservedAccount>,
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
    /// The account the contract's setters require (owner or governance).
    pub authority: Address,
    /// The holders of each role set that was listed, by key.
    pub role_sets: Vec<(&'static str, BTreeSet<Address>)>,
}

/// Where one observed field lives on chain: the address its getter is
/// called on, and the call. Two keys with one location are one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Section key of the contract the field belongs to.
    pub contract: &'static str,
    /// The field's key path.
    pub field: &'static str,
    /// Read through another field's address (a module's `paused()`).
    pub indirect: bool,
    /// The contract called.
    pub address: Address,
    /// The getter call.
    pub calldata: Vec<u8>,
}

impl Observed {
    /// The authority account at `address`, if one was observed.
    pub fn account(&self, address: Address) -> Option<&super::ObservedAccount> {
        self.accounts.iter().find(|a| a.address == address)
    }

    /// Timelock operations still pending (waiting or ready) on the
    /// contracts' authorities that call one of the managed contracts.
    pub fn pending_operations(&self) -> Vec<(Address, &super::Operation)> {
        let managed: Vec<Address> = self.contracts.iter().map(|c| c.address).collect();
        let mut out = Vec::new();
        for account in &self.accounts {
            let super::AccountKind::Timelock(state) = &account.kind else { continue };
            for operation in state.operations.iter().filter(|o| o.is_pending()) {
                if operation.calls.iter().any(|(target, _, _)| managed.contains(target)) {
                    out.push((account.address, operation));
                }
            }
        }
        out
    }

    /// Where every field of every contract lives.
    pub fn locations(&self) -> Vec<Location> {
        let mut out = Vec::new();
        for contract in &self.contracts {
            for field in contract.kind.fields {
                let at = field.at.and_then(|key| match contract.field(key) {
                    Some(Value::Address(address)) => Some(address),
                    _ => None,
                });
                out.push(Location {
                    contract: contract.kind.key,
                    field: field.key,
                    indirect: at.is_some(),
                    address: at.unwrap_or(contract.address),
                    calldata: (field.calldata)(),
                });
            }
        }
        out
    }

    /// Fields whose value another contract also reads, through its own
    /// key (StakeManager's `paused`, one of a SystemPause's modules): the
    /// file writes such a value once, under that other contract's key.
    pub fn covered_elsewhere(&self) -> Vec<(&'static str, &'static str)> {
        let locations = self.locations();
        let covered = |l: &Location| {
            !l.indirect
                && locations.iter().any(|o| {
                    o.indirect && o.contract != l.contract && o.address == l.address && o.calldata == l.calldata
                })
        };
        locations.iter().filter(|l| covered(l)).map(|l| (l.contract, l.field)).collect()
    }
}

impl ObservedContract {
    /// The value of the field (or derived value) with the given key path,
    /// if the kind has one; a derived value whose fields disagree has none.
    pub fn field(&self, key: &str) -> Option<Value> {
        self.kind.value_of(&self.fields, key)
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
        writeln!(f, "{} ({}) at {}", kind.key, kind.display_name(), self.address)?;
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
