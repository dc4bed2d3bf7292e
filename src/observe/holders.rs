//! Which role holders to confirm with the getter: all of them on a cold
//! cache, only those the logs since the cached block touch on a warm one.
//!
//! Pure bookkeeping between the cache, the logs and the reads, so that a
//! warm run costs the changes since the last one, not the size of the set:
//!
//! 1. [`Listing::prepare`]: from the cache entry and the pinned block, the
//!    first block whose logs are read;
//! 2. [`Listing::absorb`]: with the addresses those logs name, what to
//!    confirm and which cached holders stand as confirmed;
//! 3. [`Listing::members`] and [`Listing::settle`]: with the holders the
//!    getter confirmed, every holder, and the entry to store.

use std::collections::BTreeSet;

use alloy::primitives::Address;

use super::{BlockRef, cache};

/// How one role set is listed and confirmed in one observation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The cache entry, brought up to the pinned block as the steps go.
    pub entry: cache::Entry,
    /// The first block whose logs are read, up to the pinned block (past
    /// it: none to read).
    pub from: u64,
    /// Whether the cached holders stand, confirmed at the cached block.
    warm: bool,
    /// Whether the entry is stored once settled: not when reading below
    /// the cached block (a `--block` in the past), which would move it back.
    store: bool,
    /// Holders confirmed at the cached block that no log since touched.
    pub known: BTreeSet<Address>,
    /// Addresses whose membership getter is called at the pinned block.
    pub confirm: BTreeSet<Address>,
}

impl Listing {
    /// Step 1: for a cache entry whose block the chain still has (checked
    /// before), a set listed from `start`, read at block `pinned`.
    pub fn prepare(entry: cache::Entry, start: u64, pinned: u64) -> Self {
        let entry = entry.starting_at(start);
        match (entry.scanned_to, entry.members.is_some()) {
            // Reading below the cached block: its candidates cover every
            // block up to the pinned one; each is confirmed there.
            (Some(to), _) if to > pinned => Listing { from: pinned + 1, entry, ..Listing::default() },
            (Some(to), true) => Listing { from: to + 1, warm: true, store: true, entry, ..Listing::default() },
            _ => Listing { from: entry.resume_from(start), store: true, entry, ..Listing::default() },
        }
    }

    /// Step 2: the addresses the logs from [`Listing::from`] name, and the
    /// addresses the file names. Warm, only those touched and those no log
    /// ever named are confirmed; cold, every candidate and every name.
    pub fn absorb(mut self, touched: BTreeSet<Address>, named: &BTreeSet<Address>, pinned: BlockRef) -> Self {
        let never_logged: BTreeSet<Address> = named.difference(&self.entry.candidates).copied().collect();
        self.entry.candidates.extend(touched.iter().copied());
        if self.warm {
            let members = self.entry.members.take().unwrap_or_default();
            self.confirm = touched.union(&never_logged).copied().collect();
            self.known = members.difference(&self.confirm).copied().collect();
        } else {
            self.confirm = self.entry.candidates.union(named).copied().collect();
        }
        if self.store {
            self.entry.scanned_to = Some(pinned.number);
            self.entry.scanned_hash = Some(pinned.hash);
        }
        self
    }

    /// Every holder, given those found among [`Listing::confirm`].
    pub fn members(&self, confirmed: BTreeSet<Address>) -> BTreeSet<Address> {
        let mut members = confirmed;
        members.extend(self.known.iter().copied());
        members
    }

    /// Step 3: the entry to store with every holder ([`Listing::members`])
    /// confirmed at the pinned block; `None`: leave the cache as it is.
    pub fn settle(self, members: &BTreeSet<Address>) -> Option<cache::Entry> {
        self.store.then(|| cache::Entry { members: Some(members.clone()), ..self.entry })
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::B256;

    use super::*;

    fn a(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    fn block(number: u64) -> BlockRef {
        BlockRef { number, hash: B256::repeat_byte(number as u8), timestamp: 0, gas_limit: 0 }
    }

    fn warm_entry() -> cache::Entry {
        cache::Entry {
            deployed_block: Some(1),
            scanned_from: Some(1),
            scanned_to: Some(100),
            scanned_hash: Some(B256::repeat_byte(100)),
            candidates: [a(1), a(2), a(3)].into(),
            members: Some([a(1), a(2)].into()),
        }
    }

    #[test]
    fn a_warm_entry_reads_the_logs_after_its_block_and_confirms_only_what_they_touch() {
        let listing = Listing::prepare(warm_entry(), 1, 120);
        assert_eq!(listing.from, 101, "no margin: the cached block's hash was checked");
        // a(2) revoked, a(4) granted since; the file names a(1), a(4) and a(9).
        let named = [a(1), a(4), a(9)].into();
        let listing = listing.absorb([a(2), a(4)].into(), &named, block(120));
        assert_eq!(listing.known, [a(1)].into());
        assert_eq!(listing.confirm, [a(2), a(4), a(9)].into(), "touched, and named but never logged");
        let members = listing.members([a(4)].into());
        assert_eq!(members, [a(1), a(4)].into());
        let entry = listing.settle(&members).expect("stored");
        assert_eq!((entry.scanned_to, entry.members), (Some(120), Some([a(1), a(4)].into())));
        assert_eq!(entry.candidates, [a(1), a(2), a(3), a(4)].into());
    }

    #[test]
    fn a_cold_or_old_entry_confirms_every_candidate_and_every_name() {
        let old = cache::Entry { members: None, ..warm_entry() };
        let listing = Listing::prepare(old, 1, 120);
        assert_eq!(listing.from, 100 - cache::REORG_MARGIN);
        let listing = listing.absorb([a(4)].into(), &[a(9)].into(), block(120));
        assert!(listing.known.is_empty());
        assert_eq!(listing.confirm, [a(1), a(2), a(3), a(4), a(9)].into());
        let cold = Listing::prepare(cache::Entry::default(), 7, 120);
        assert_eq!(cold.from, 7);
        let cold = cold.absorb([a(5)].into(), &BTreeSet::new(), block(120));
        let members = cold.members([a(5)].into());
        assert_eq!(cold.settle(&members).and_then(|e| e.members), Some([a(5)].into()));
    }

    #[test]
    fn reading_below_the_cached_block_confirms_every_candidate_and_leaves_the_cache_alone() {
        let listing = Listing::prepare(warm_entry(), 1, 50);
        assert!(listing.from > 50, "no logs to read: the candidates cover block 50");
        let listing = listing.absorb(BTreeSet::new(), &BTreeSet::new(), block(50));
        assert_eq!(listing.confirm, [a(1), a(2), a(3)].into());
        let members = listing.members([a(3)].into());
        assert_eq!(members, [a(3)].into());
        assert_eq!(listing.settle(&members), None);
    }

    #[test]
    fn a_warm_entry_at_the_pinned_block_reads_no_logs_and_confirms_nothing_it_knows() {
        let listing = Listing::prepare(warm_entry(), 1, 100);
        assert_eq!(listing.from, 101);
        let listing = listing.absorb(BTreeSet::new(), &[a(1), a(3)].into(), block(100));
        assert!(listing.confirm.is_empty(), "a(3) is a known non-holder: {:?}", listing.confirm);
        assert_eq!(listing.members(BTreeSet::new()), [a(1), a(2)].into());
    }
}
