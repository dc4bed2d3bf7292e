//! The role-holder cache: for each chain, contract and role set, the last
//! block scanned (number and hash), every address seen in its events, and
//! the holders confirmed with the getter at that block.
//!
//! A warm run checks that the chain still has that block (same hash: no
//! reorganisation at or below it), reads the logs since, and confirms with
//! the getter only the addresses those logs touch (and the file's addresses
//! no log ever named); every other holder is the one confirmed before. The
//! set changes only through the event every change emits, so a run costs
//! what changed, not how many hold the role. Should the hash differ, the
//! entry is thrown away and the set scanned and confirmed in full. It is
//! only an optimisation: deleting the cache changes no result.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

/// Blocks scanned again by a run resuming from an entry without confirmed
/// holders (an older govstate's); one with them resumes right after its
/// block, whose hash the run checks.
pub const REORG_MARGIN: u64 = 64;

/// Where the cache lives: `GOVSTATE_CACHE_DIR`, else `$XDG_CACHE_HOME/govstate`,
/// else `~/.cache/govstate`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GOVSTATE_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("govstate"))
}

/// What is remembered of one role set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The contract's deployment block, once known.
    pub deployed_block: Option<u64>,
    /// The first block the scans covered: a later run starting earlier (a
    /// corrected `deployed_block`) scans again from there.
    #[serde(default)]
    pub scanned_from: Option<u64>,
    /// Every block up to this one has been scanned.
    pub scanned_to: Option<u64>,
    /// The hash of block `scanned_to` when it was scanned: if the chain no
    /// longer has it (a reorganisation deeper than the margin, or a devnet
    /// started afresh), the entry is thrown away.
    pub scanned_hash: Option<B256>,
    /// Every address that appeared in the role set's events.
    #[serde(with = "packed")]
    pub candidates: BTreeSet<Address>,
    /// The holders confirmed with the getter at block `scanned_to` (hash
    /// `scanned_hash`); `None` until a run has confirmed them there (an
    /// entry from an older govstate).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "packed_option")]
    pub members: Option<BTreeSet<Address>>,
}

impl Entry {
    /// The entry for a scan starting at `start`: kept when its scans
    /// started there or earlier, else thrown away (holders between `start`
    /// and where they started were never looked for).
    pub fn starting_at(self, start: u64) -> Self {
        let mut entry = if self.scanned_from.is_some_and(|from| start < from) { Entry::default() } else { self };
        entry.deployed_block = Some(start);
        entry.scanned_from = Some(entry.scanned_from.map_or(start, |from| from.min(start)));
        entry
    }

    /// The first block still to scan, keeping the reorg margin (for an
    /// entry without confirmed holders; see [`super::holders`]).
    pub fn resume_from(&self, deployed_block: u64) -> u64 {
        self.scanned_to.map_or(deployed_block, |to| to.saturating_sub(REORG_MARGIN).max(deployed_block))
    }
}

/// An address set stored as one hex string of the addresses' bytes back to
/// back: ten thousand holders load and store in a fraction of the time a
/// list of checksummed strings takes. A list (older entries) still loads.
mod packed {
    use std::collections::BTreeSet;

    use alloy::primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(set: &BTreeSet<Address>, serializer: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(set.len() * 20);
        for address in set {
            bytes.extend_from_slice(address.as_slice());
        }
        serializer.serialize_str(&alloy::hex::encode(bytes))
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    pub(super) enum Stored {
        Packed(String),
        List(BTreeSet<Address>),
    }

    pub(super) fn unpack<E: serde::de::Error>(stored: Stored) -> Result<BTreeSet<Address>, E> {
        let text = match stored {
            Stored::List(set) => return Ok(set),
            Stored::Packed(text) => text,
        };
        let bytes = alloy::hex::decode(&text).map_err(E::custom)?;
        if bytes.len() % 20 != 0 {
            return Err(E::custom("a packed address set is not a whole number of addresses"));
        }
        Ok(bytes.chunks_exact(20).map(Address::from_slice).collect())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeSet<Address>, D::Error> {
        unpack(Stored::deserialize(deserializer)?)
    }
}

/// [`packed`], for an optional set.
mod packed_option {
    use std::collections::BTreeSet;

    use alloy::primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(set: &Option<BTreeSet<Address>>, serializer: S) -> Result<S::Ok, S::Error> {
        match set {
            Some(set) => super::packed::serialize(set, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<BTreeSet<Address>>, D::Error> {
        Option::<super::packed::Stored>::deserialize(deserializer)?.map(super::packed::unpack).transpose()
    }
}

fn file(dir: &Path, chain_id: u64, contract: Address, role_set: &str) -> PathBuf {
    dir.join(format!("{chain_id}")).join(format!("{contract}-{role_set}.json"))
}

/// Reads an entry; a missing or unreadable one is simply empty.
pub fn load(dir: &Path, chain_id: u64, contract: Address, role_set: &str) -> Entry {
    read_json(&file(dir, chain_id, contract, role_set)).unwrap_or_default()
}

/// Writes an entry. Failing to write only costs a longer scan next time.
pub fn store(dir: &Path, chain_id: u64, contract: Address, role_set: &str, entry: &Entry) {
    write_json(&file(dir, chain_id, contract, role_set), entry);
}

/// What a cache file holds; none when it is missing or unreadable (every
/// cache file is only an optimisation).
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

/// Writes a cache file whole (its folder made first, the file replaced, never
/// half written). Failing to write only costs work next time.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) {
    let Ok(json) = serde_json::to_vec(value) else { return };
    if path.parent().map(std::fs::create_dir_all).transpose().is_ok() {
        let _ = crate::execute::lock::replace_file(path, &json);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resuming_rescans_the_reorg_margin_but_not_before_deployment() {
        let entry = Entry { scanned_to: Some(1_000), ..Entry::default() };
        assert_eq!(entry.resume_from(0), 1_000 - REORG_MARGIN);
        assert_eq!(entry.resume_from(990), 990);
        assert_eq!(Entry::default().resume_from(7), 7);
    }

    #[test]
    fn entries_round_trip_and_missing_ones_are_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let contract = Address::repeat_byte(1);
        assert_eq!(load(dir.path(), 1, contract, "orchestrators"), Entry::default());
        let entry = Entry {
            deployed_block: Some(3),
            scanned_from: Some(3),
            scanned_to: Some(9),
            scanned_hash: Some(B256::repeat_byte(9)),
            candidates: [Address::repeat_byte(2)].into(),
            members: Some([Address::repeat_byte(2)].into()),
        };
        store(dir.path(), 1, contract, "orchestrators", &entry);
        assert_eq!(load(dir.path(), 1, contract, "orchestrators"), entry);
    }

    #[test]
    fn address_sets_are_stored_packed_and_an_older_list_still_loads() {
        let entry = Entry {
            candidates: [Address::repeat_byte(2), Address::repeat_byte(3)].into(),
            members: Some([Address::repeat_byte(3)].into()),
            ..Entry::default()
        };
        let json = serde_json::to_value(&entry).expect("json");
        assert_eq!(json["candidates"], format!("{}{}", "02".repeat(20), "03".repeat(20)));
        assert_eq!(serde_json::from_value::<Entry>(json).expect("loads"), entry);
        let older = serde_json::json!({
            "deployed_block": 1, "scanned_to": 5, "scanned_hash": null,
            "candidates": [Address::repeat_byte(2).to_string()],
        });
        let older: Entry = serde_json::from_value(older).expect("an older entry loads");
        assert_eq!((older.candidates.len(), older.members), (1, None));
        let torn =
            serde_json::json!({ "deployed_block": 1, "scanned_to": 5, "scanned_hash": null, "candidates": "0202" });
        assert!(serde_json::from_value::<Entry>(torn).is_err(), "a torn set is no set");
    }

    #[test]
    fn an_entry_scanned_from_a_later_block_is_thrown_away_when_the_start_moves_earlier() {
        let scanned = Entry { scanned_from: Some(50), scanned_to: Some(90), ..Entry::default() }.starting_at(50);
        assert_eq!(scanned.scanned_to, Some(90), "same start: kept");
        let earlier = scanned.clone().starting_at(10);
        assert_eq!((earlier.scanned_to, earlier.scanned_from), (None, Some(10)), "earlier start: scanned again");
        let later = scanned.starting_at(70);
        assert_eq!((later.scanned_to, later.scanned_from), (Some(90), Some(50)), "a later start is covered");
    }
}
