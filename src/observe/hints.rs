//! What the last run of the same scope found, kept so that a warm run can
//! ask less in its first round trip — and never trusted beyond what the
//! chain proves again in the same run.
//!
//! | fact | how a warm run uses it | why that is sound |
//! |---|---|---|
//! | a contract's kind was its section's default | asks only the *first* probe of each other kind, not all of them | a kind is recognised only when its first probe's answer is (see `discover.rs`): the first probe failing proves "not that kind" exactly as all of them would; one that passes makes the run start again with every probe |
//! | the authority accounts, in order | stand in for the authority probes | the third round trip reads every authority at the pinned block anyway: a new one (an authority swapped) or a listed one no longer anyone's makes the run start again with the probes, so the accounts are those a cold run finds |
//! | an account had no code | one `eth_getCode` at the pinned block instead of its identifying calls (plain batches only) | empty code at the pinned block *is* the proof (no code: no getter answers, EIP-7702 delegation included, as that is code); code there makes the run start again |
//! | no code before the file's deployment block | the `eth_getCode` of that block is not asked | history below a block is fixed by its hash: used only while the block the fact was confirmed at has the same hash and is at or above the block checked; else the run starts again and asks |
//!
//! A Safe's owners and threshold and a timelock's delay, roles and
//! operations are not kept: they are read every run.
//!
//! Like the role-holder cache, only an optimisation: deleting it changes
//! no result.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, keccak256};
use serde::{Deserialize, Serialize};

use super::Scope;
use super::cache::{read_json, write_json};

/// What one run of a scope found, at the block it read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hints {
    /// The block read at: number.
    pub block: u64,
    /// The block read at: hash.
    pub hash: B256,
    /// The contracts whose kind was their section's default.
    #[serde(default)]
    pub default_kinds: BTreeSet<Address>,
    /// The authority accounts recognised, in order.
    #[serde(default)]
    pub accounts: Vec<Address>,
    /// The accounts among them without code.
    #[serde(default)]
    pub without_code: BTreeSet<Address>,
    /// (contract, deployment block) pairs checked to have no code the block
    /// before.
    #[serde(default)]
    pub no_code_before: BTreeSet<(Address, u64)>,
}

impl Hints {
    /// Whether `(contract, start)` was checked to have no code at block
    /// `start − 1`, given the hash the chain now has at [`Hints::block`]
    /// (`None`: not asked, or no such block any more).
    pub fn no_code_before(&self, contract: Address, start: u64, hash_now: Option<B256>) -> bool {
        hash_now == Some(self.hash)
            && start.saturating_sub(1) <= self.block
            && self.no_code_before.contains(&(contract, start))
    }
}

/// Accounts at addresses this low may be precompiles, which answer calls
/// without code: never taken as code-less on `eth_getCode` alone.
pub fn may_be_precompile(address: Address) -> bool {
    address.as_slice()[..18].iter().all(|b| *b == 0)
}

/// The file the hints of `scope` live in: one per chain and set of
/// contracts (address and deployment block).
fn file(dir: &Path, scope: &Scope) -> PathBuf {
    let mut key = Vec::new();
    for contract in &scope.contracts {
        key.extend_from_slice(contract.deployed.kind.key.as_bytes());
        key.extend_from_slice(contract.deployed.address.as_slice());
        key.extend_from_slice(&contract.deployed.deployed_block.unwrap_or(u64::MAX).to_be_bytes());
    }
    let key = keccak256(&key);
    dir.join(format!("{}", scope.chain_id)).join(format!("hints-{}.json", alloy::hex::encode(&key[..8])))
}

/// The hints of `scope`; none when missing or unreadable.
pub fn load(dir: &Path, scope: &Scope) -> Option<Hints> {
    read_json(&file(dir, scope))
}

/// Writes the hints of `scope`. Failing to write only costs a longer first
/// round trip next time.
pub fn store(dir: &Path, scope: &Scope, hints: &Hints) {
    write_json(&file(dir, scope), hints);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_below_the_block_counts_only_while_its_hash_is_the_same() {
        let contract = Address::repeat_byte(1);
        let hints = Hints {
            block: 100,
            hash: B256::repeat_byte(7),
            no_code_before: [(contract, 50)].into(),
            ..Hints::default()
        };
        assert!(hints.no_code_before(contract, 50, Some(B256::repeat_byte(7))));
        assert!(!hints.no_code_before(contract, 50, Some(B256::repeat_byte(8))), "reorganised");
        assert!(!hints.no_code_before(contract, 50, None), "the block is gone");
        assert!(!hints.no_code_before(contract, 40, Some(B256::repeat_byte(7))), "another start");
        let later = Hints { no_code_before: [(contract, 200)].into(), ..hints.clone() };
        assert!(!later.no_code_before(contract, 200, Some(B256::repeat_byte(7))), "above the confirmed block");
    }

    #[test]
    fn low_addresses_may_be_precompiles() {
        assert!(may_be_precompile(Address::with_last_byte(4)));
        assert!(may_be_precompile(Address::left_padding_from(&[0x01, 0x00])));
        assert!(!may_be_precompile(Address::repeat_byte(0x11)));
    }

    #[test]
    fn hints_round_trip_and_missing_ones_are_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let scope = Scope { chain_id: 1, contracts: Vec::new() };
        assert_eq!(load(dir.path(), &scope), None);
        let hints = Hints { block: 3, accounts: vec![Address::repeat_byte(2)], ..Hints::default() };
        store(dir.path(), &scope, &hints);
        assert_eq!(load(dir.path(), &scope), Some(hints));
    }
}
