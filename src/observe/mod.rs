//! Observe: read every managed field of a deployment at one pinned block.
//!
//! Three round trips, whatever the number of role holders:
//!
//! 1. pin: the chain id, the block read at (number and hash; `latest`
//!    unless [`ObserveOptions::block`] says otherwise), whether
//!    Multicall3 is deployed, and which kind each contract is (with the
//!    addresses of the modules a modules-kind SystemPause reads through),
//!    in one batch;
//! 2. list: every role set's change events since the last scan (chunked
//!    `eth_getLogs`, all chunks in one batch; a refused range is halved and
//!    asked again); with a warm cache, only the holders those events touch
//!    are confirmed in round trip 3 (see `holders.rs`);
//! 3. read: every getter (a module's at its address), each contract's
//!    authority, and the membership getter of every holder to confirm, at the
//!    pinned block's number, each batch also reading that block's hash (see
//!    `pin.rs`): one batch of `eth_call`s, or `aggregate3` calls to
//!    Multicall3 when it is deployed. Should a module address have moved
//!    since the first round trip, this one is made again; should the hash
//!    differ (a reorg), the whole observation is made once more.
//!
//! A contract without a known deployment block costs a bisection of
//! `eth_getCode` once; the result is cached with the role holders.
//!
//! With a cache, a warm run starts from what the last one found
//! (`hints.rs`): the kind probes shrink to one read for a contract of its
//! section's default kind, the authority probes and the deployment-block
//! checks below the confirmed block are left out, and an account that had
//! no code costs one `eth_getCode` instead of its identifying calls. Each
//! such fact is proven again by the same run's answers; should one not
//! hold, the observation is made again as a cold run makes it.

mod authorities;
pub mod cache;
mod discover;
mod export;
mod hints;
mod holders;
mod logs;
mod pin;
mod proposers;
mod read;
mod scope;
mod state;

pub use authorities::{AccountKind, ObservedAccount, Operation, OperationState, TimelockState};
pub use export::{desired_state_yaml, managed_yaml};
pub use logs::{EventsQuery, LogOrigin, deployment_block, scan_newest_first};
pub use pin::ReadAt;
pub use read::{MULTICALL3, ReadResult, decode_aggregate3, multicall3_code};
pub use scope::{Scope, ScopeContract};
pub use state::{BlockRef, Location, Observed, ObservedContract};

use std::collections::BTreeSet;
use std::path::PathBuf;

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, B256, Bytes, U64};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::Block;
use alloy::transports::TransportError;

use crate::contracts::{Deployed, Field, RoleSet};
use discover::Target;
use hints::Hints;
use holders::Listing;
use logs::LogQuery;
use read::Read;

/// How to observe.
#[derive(Debug, Clone)]
#[must_use]
pub struct ObserveOptions {
    /// Read through Multicall3 when it is deployed (default `true`).
    pub multicall: bool,
    /// Where the role-holder cache lives; `None` disables it (default:
    /// [`cache::default_dir`]).
    pub cache_dir: Option<PathBuf>,
    /// The largest block range asked of `eth_getLogs` at once (default
    /// `u64::MAX`: the whole range first, then what the endpoint accepts).
    pub log_chunk_blocks: u64,
    /// The most requests in one JSON-RPC batch (default 2,000); a batch the
    /// node refuses as a whole is halved and sent again.
    pub max_batch: usize,
    /// The endpoint's name in the cache ([`crate::rpc::endpoint_key`]),
    /// under which the `eth_getLogs` range it accepts is remembered; `None`
    /// (the default): not remembered.
    pub endpoint: Option<String>,
    /// The block to read at (default [`ReadAt::Latest`]).
    pub block: ReadAt,
}

impl ObserveOptions {
    /// The defaults without the role-holder cache: for a throwaway chain,
    /// whose history a cache would only outlive.
    pub fn without_cache() -> Self {
        Self { cache_dir: None, ..Self::default() }
    }
}

impl Default for ObserveOptions {
    fn default() -> Self {
        Self {
            multicall: true,
            cache_dir: cache::default_dir(),
            log_chunk_blocks: u64::MAX,
            max_batch: 2_000,
            endpoint: None,
            block: ReadAt::Latest,
        }
    }
}

/// Why the chain could not be observed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObserveError {
    /// A JSON-RPC request failed.
    #[error("RPC request failed while {doing}: {source}")]
    Rpc {
        /// What govstate was reading.
        doing: String,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// The endpoint serves a different chain than the file names.
    #[error("the RPC endpoint serves chain {actual}, but the file is for chain {expected}")]
    WrongChain {
        /// The chain id in the file.
        expected: u64,
        /// The chain id the endpoint reports.
        actual: u64,
    },
    /// The node has no block to read at (a number past its head, or a
    /// tag it does not know yet).
    #[error("the RPC endpoint has no {at} block")]
    NoBlock {
        /// The block asked for: `latest`, `finalized`, a number.
        at: String,
    },
    /// The file's deployment block is after the contract was deployed: role
    /// holders granted before it would be missed.
    #[error(
        "contracts.{contract}.deployed_block is {block}, but {address} already has code at block {}: role holders granted before {block} would be missed; give the block it was deployed in, or leave the key out to have it found",
        block.saturating_sub(1)
    )]
    DeployedBlockTooLate {
        /// The contract's section key.
        contract: &'static str,
        /// Its address.
        address: Address,
        /// The block the file gives.
        block: u64,
    },
    /// A managed contract address holds no code.
    #[error("there is no contract at {address} (block {block})")]
    NoCode {
        /// The address.
        address: Address,
        /// The block checked.
        block: u64,
    },
    /// A getter failed.
    #[error("{contract}.{field}: {getter} failed: {reason}")]
    Getter {
        /// The contract's section key.
        contract: &'static str,
        /// The field's key path.
        field: String,
        /// The getter called.
        getter: &'static str,
        /// Why.
        reason: String,
    },
    /// A getter of the kind reverted at the file's address: most likely the
    /// address is another contract's (a file written for another topology).
    #[error(
        "{address} does not look like a {name} (its {getter} reverted): is this the right address for contracts.{contract}.address? ({reason})"
    )]
    WrongKind {
        /// The contract's section key.
        contract: &'static str,
        /// The address the file gives.
        address: Address,
        /// The kind's Solidity name, e.g. `SystemPause`.
        name: &'static str,
        /// The getter that reverted.
        getter: &'static str,
        /// What the node said.
        reason: String,
    },
    /// The chain reorganised under the read (twice, when retried).
    #[error("the chain reorganised while reading block {number}: its hash was {expected}, then {found}")]
    Reorg {
        /// The block number read at.
        number: u64,
        /// The hash pinned.
        expected: B256,
        /// The hash found in the same round trip as the reads.
        found: B256,
    },
    /// A Multicall3 `aggregate3` call failed or returned data that does not decode.
    #[error("Multicall3.aggregate3 failed: {reason}")]
    Multicall {
        /// What went wrong.
        reason: String,
    },
}

fn rpc(doing: impl Into<String>) -> impl FnOnce(TransportError) -> ObserveError {
    let doing = doing.into();
    move |source| ObserveError::Rpc { doing, source }
}

/// Reads everything `scope` names at one block (`options.block`, the
/// latest by default). Should the chain
/// reorganise under the reads, they are made once more from a new pin; a
/// second reorganisation is reported. What the last run found (`hints.rs`)
/// shortens the first round trip; should the chain contradict it, the
/// observation is made again without it.
pub async fn observe(
    provider: &impl Provider,
    scope: &Scope,
    options: &ObserveOptions,
) -> Result<Observed, ObserveError> {
    let mut hints = options.cache_dir.as_deref().and_then(|dir| hints::load(dir, scope));
    let mut reorganised = false;
    loop {
        match observe_once(provider, scope, options, hints.as_ref()).await {
            Ok(Some(observed)) => return Ok(observed),
            // Contradicted: as a cold run would.
            Ok(None) => hints = None,
            Err(ObserveError::Reorg { .. }) if !reorganised => reorganised = true,
            Err(other) => return Err(other),
        }
    }
}

/// One observation; `Ok(None)` when the chain contradicts `hints` (never
/// without them).
async fn observe_once(
    provider: &impl Provider,
    scope: &Scope,
    options: &ObserveOptions,
    hints: Option<&Hints>,
) -> Result<Option<Observed>, ObserveError> {
    let mut entries = load_cache(scope, options);
    let mut checkpoints: BTreeSet<u64> = entries.iter().flatten().filter_map(|e| e.scanned_to).collect();
    let mut probes = discover::probes(&scope.contracts);
    let mut authority_probes = discover::authority_probes(&scope.contracts);
    let mut starts = deployment_starts(scope);
    let mut known_starts = Vec::new();
    if let Some(hints) = hints {
        probes = discover::first_probes_only(&scope.contracts, probes, &hints.default_kinds);
        authority_probes.clear();
        (known_starts, starts) = starts.into_iter().partition(|(_, address, block)| {
            block.saturating_sub(1) <= hints.block && hints.no_code_before.contains(&(*address, *block))
        });
        if !known_starts.is_empty() {
            checkpoints.insert(hints.block);
        }
    }
    let pinned = pin(provider, options.block, &checkpoints, &probes, &authority_probes, &starts).await?;
    for ((contract, address, block), code) in starts.iter().zip(&pinned.code_before_start) {
        if *code {
            return Err(ObserveError::DeployedBlockTooLate { contract, address: *address, block: *block });
        }
    }
    if pinned.chain_id != scope.chain_id {
        return Err(ObserveError::WrongChain { expected: scope.chain_id, actual: pinned.chain_id });
    }
    if let Some(hints) = hints {
        let hash_now = pinned.checkpoints.get(&hints.block).copied().flatten();
        let history_holds = known_starts.iter().all(|(_, a, b)| hints.no_code_before(*a, *b, hash_now));
        let still_default = hints.default_kinds.iter().all(|address| {
            let index = scope.contracts.iter().position(|c| c.deployed.address == *address);
            let probed = probes.iter().zip(&pinned.probes).filter(|((i, _, _), _)| Some(*i) == index);
            probed.into_iter().all(|((_, kind, _), answers)| !discover::first_recognised(kind, answers))
        });
        if !history_holds || !still_default {
            return Ok(None);
        }
    }
    for entry in entries.iter_mut().flatten() {
        let still_there = entry.scanned_to.and_then(|n| pinned.checkpoints.get(&n).copied().flatten());
        if still_there.is_none() || still_there != entry.scanned_hash {
            *entry = cache::Entry::default();
        }
    }
    let mut targets = discover::targets(&scope.contracts, &probes, &pinned.probes);
    let mut accounts = match hints {
        Some(hints) => hints.accounts.clone(),
        None => discover::authorities(&pinned.authorities),
    };
    let mut listings = list_role_sets(provider, scope, entries, pinned.block, options).await?;
    let use_multicall = options.multicall && pinned.has_multicall;
    let at = pinned.block;
    // Accounts that had no code: one `eth_getCode` each proves it again.
    let without_code: BTreeSet<Address> = match hints {
        Some(hints) if !use_multicall => {
            hints.without_code.iter().copied().filter(|a| !hints::may_be_precompile(*a)).collect()
        }
        _ => BTreeSet::new(),
    };
    // Contracts on a route that the file has no section for (the
    // SystemPause governing StakeManager) join the reads once recognised.
    let file_contracts = scope.contracts.len();
    let mut scope = scope.clone();
    let mut attempts = 0;
    let mut added = false;
    let (contracts, mut accounts) = loop {
        let reads = Reads {
            targets: &targets,
            listings: &listings,
            accounts: &accounts,
            without_code: &without_code,
            at,
            multicall: use_multicall,
        };
        let Some((contracts, identified, forwarders)) =
            read_contracts(provider, &scope, &reads, options.max_batch).await?
        else {
            return Ok(None);
        };
        attempts += 1;
        let mut moved = false;
        for (target, contract) in targets.iter_mut().zip(&contracts) {
            moved |= discover::settle(target, &contract.fields);
        }
        for contract in &contracts {
            if !accounts.contains(&contract.authority) {
                accounts.push(contract.authority);
                moved = true;
                added = true;
            }
        }
        // Holders of roles a setter also accepts (a module's pauser, read
        // at the module): recognised too, so a lever they hold is known to
        // be one an account can pull.
        for holder in role_holders(&contracts) {
            if !accounts.contains(&holder) {
                accounts.push(holder);
                moved = true;
                added = true;
            }
        }
        for (address, target) in forwarders {
            let known =
                scope.contracts.iter().any(|c| c.deployed.address == address || c.deployed.kind.key == target.kind.key);
            if !known {
                let deployed = Deployed { kind: target.kind, address, deployed_block: None };
                scope.contracts.push(ScopeContract { deployed, role_sets: Vec::new() });
                targets.push(target);
                listings.push(Vec::new());
                moved = true;
            }
        }
        if !moved || attempts == MAX_READS {
            break (contracts, identified);
        }
    };
    if let Some(hints) = hints
        && (added || !hinted_accounts_hold(&hints.accounts, &scope.contracts[..file_contracts], &contracts))
    {
        return Ok(None);
    }
    authorities::read_operations(provider, pinned.chain_id, &mut accounts, pinned.block, options).await?;
    proposers::identify(provider, &mut accounts, pinned.block, options).await?;
    store_cache(&scope, listings, &contracts, options);
    if let Some(dir) = options.cache_dir.as_deref() {
        let original = Scope { chain_id: scope.chain_id, contracts: scope.contracts[..file_contracts].to_vec() };
        let checked = known_starts.iter().chain(&starts).filter(|(_, _, b)| b.saturating_sub(1) <= pinned.block.number);
        let found = Hints {
            block: pinned.block.number,
            hash: pinned.block.hash,
            default_kinds: original
                .contracts
                .iter()
                .zip(&targets)
                .filter(|(_, target)| target.kind.recognise.is_none())
                .map(|(c, _)| c.deployed.address)
                .collect(),
            accounts: accounts.iter().map(|a| a.address).collect(),
            without_code: accounts.iter().filter(|a| a.kind == AccountKind::Eoa).map(|a| a.address).collect(),
            no_code_before: checked.map(|(_, a, b)| (*a, *b)).collect(),
        };
        hints::store(dir, &original, &found);
    }
    Ok(Some(Observed { chain_id: pinned.chain_id, block: pinned.block, contracts, accounts }))
}

/// Whether the hinted authority accounts are those a cold run finds: the
/// authority probes' accounts, as the pinned reads answer them, first and
/// in order, then only accounts the reads still name.
fn hinted_accounts_hold(hinted: &[Address], file: &[ScopeContract], contracts: &[ObservedContract]) -> bool {
    let Some(probed) = discover::authorities_as_read(file, contracts) else { return false };
    let named: BTreeSet<Address> = contracts.iter().map(|c| c.authority).chain(role_holders(contracts)).collect();
    hinted.starts_with(&probed) && hinted[probed.len()..].iter().all(|a| named.contains(a))
}

/// The accounts holding a role some setter also accepts, as read, that are
/// not themselves contracts being read.
fn role_holders(contracts: &[ObservedContract]) -> Vec<Address> {
    let mut out = Vec::new();
    for contract in contracts {
        for key in contract.kind.setters.iter().filter_map(|s| s.also_allowed) {
            if let Some(crate::contracts::Value::Address(holder)) = contract.field(key)
                && !holder.is_zero()
                && !contracts.iter().any(|c| c.address == holder)
                && !out.contains(&holder)
            {
                out.push(holder);
            }
        }
    }
    out
}

/// The cached entry of every role set in scope (empty without a cache).
fn load_cache(scope: &Scope, options: &ObserveOptions) -> Vec<Vec<cache::Entry>> {
    let load = |address: Address, set: &RoleSet| match options.cache_dir.as_deref() {
        Some(dir) => cache::load(dir, scope.chain_id, address, set.key),
        None => cache::Entry::default(),
    };
    scope.contracts.iter().map(|c| c.role_sets.iter().map(|(set, _)| load(c.deployed.address, set)).collect()).collect()
}

/// Every contract whose role holders are listed from a deployment block the
/// file gives (not 0): the contract must have no code the block before, or
/// holders granted earlier would be missed.
fn deployment_starts(scope: &Scope) -> Vec<(&'static str, Address, u64)> {
    let given = |c: &ScopeContract| c.deployed.deployed_block.filter(|b| *b > 0 && !c.role_sets.is_empty());
    scope.contracts.iter().filter_map(|c| given(c).map(|b| (c.deployed.kind.key, c.deployed.address, b))).collect()
}

/// How often the third round trip is made at most, should module addresses
/// keep moving under it.
/// (A route through a contract the file has no section for costs up to
/// two more: reading it, then recognising its own authority.)
const MAX_READS: usize = 4;

struct Pinned {
    chain_id: u64,
    /// The answers to the kind probes, one list per probe.
    probes: Vec<Vec<ReadResult>>,
    /// The answers to the authority probes, one per contract.
    authorities: Vec<ReadResult>,
    /// For each deployment start checked, whether the contract already had
    /// code the block before.
    code_before_start: Vec<bool>,
    block: BlockRef,
    has_multicall: bool,
    /// The hash of each cache checkpoint block, `None` when the chain no
    /// longer has that block.
    checkpoints: std::collections::BTreeMap<u64, Option<B256>>,
}

/// Round trip 1: chain id, the block read at, Multicall3 presence, the kind
/// probes, and the hashes of the blocks the cache was last scanned to.
async fn pin(
    provider: &impl Provider,
    at: ReadAt,
    checkpoints: &BTreeSet<u64>,
    probes: &[(usize, &'static crate::contracts::Kind, Vec<Read>)],
    authority_probes: &[Read],
    starts: &[(&'static str, Address, u64)],
) -> Result<Pinned, ObserveError> {
    let mut batch = BatchRequest::new(provider.client());
    let chain_id = batch.add_call::<_, U64>("eth_chainId", &()).map_err(rpc("preparing eth_chainId"))?;
    let block = batch
        .add_call::<_, Option<Block>>("eth_getBlockByNumber", &(at.tag(), false))
        .map_err(rpc("preparing eth_getBlockByNumber"))?;
    let code =
        batch.add_call::<_, Bytes>("eth_getCode", &(MULTICALL3, at.tag())).map_err(rpc("preparing eth_getCode"))?;
    let mut checks = Vec::with_capacity(checkpoints.len());
    for number in checkpoints {
        let waiter = batch
            .add_call::<_, Option<Block>>("eth_getBlockByNumber", &(BlockNumberOrTag::Number(*number), false))
            .map_err(rpc("preparing eth_getBlockByNumber"))?;
        checks.push((*number, waiter));
    }
    let mut probe_waiters = Vec::with_capacity(probes.len());
    for (_, _, reads) in probes {
        let waiters: Result<Vec<_>, _> =
            reads.iter().map(|r| read::add_call(&mut batch, r, BlockId::Number(at.tag()))).collect();
        probe_waiters.push(waiters.map_err(rpc("preparing the kind probes"))?);
    }
    let authority_waiters: Result<Vec<_>, _> =
        authority_probes.iter().map(|r| read::add_call(&mut batch, r, BlockId::Number(at.tag()))).collect();
    let authority_waiters = authority_waiters.map_err(rpc("preparing the authority probes"))?;
    let mut start_waiters = Vec::with_capacity(starts.len());
    for (_, address, block) in starts {
        let before = BlockNumberOrTag::Number(block.saturating_sub(1));
        let waiter =
            batch.add_call::<_, Bytes>("eth_getCode", &(*address, before)).map_err(rpc("preparing eth_getCode"))?;
        start_waiters.push(waiter);
    }
    batch.send().await.map_err(rpc(format!("pinning the {at} block")))?;
    let chain_id = chain_id.await.map_err(rpc("reading the chain id"))?.to::<u64>();
    let no_block = || ObserveError::NoBlock { at: at.to_string() };
    let block = block.await.map_err(rpc(format!("reading the {at} block")))?.ok_or_else(no_block)?;
    let has_multicall = !code.await.map_err(rpc("looking for Multicall3"))?.is_empty();
    let mut hashes = std::collections::BTreeMap::new();
    for (number, waiter) in checks {
        let found = waiter.await.map_err(rpc(format!("reading block {number}")))?;
        hashes.insert(number, found.map(|b| b.header.hash));
    }
    let mut probes = Vec::with_capacity(probe_waiters.len());
    for waiters in probe_waiters {
        probes.push(read::answers(waiters).await.map_err(rpc("probing the contracts' kinds"))?);
    }
    let authorities = read::answers(authority_waiters).await.map_err(rpc("probing the authorities"))?;
    let mut code_before_start = Vec::with_capacity(start_waiters.len());
    for waiter in start_waiters {
        code_before_start.push(!waiter.await.map_err(rpc("checking a deployment block"))?.is_empty());
    }
    let header = &block.header;
    let block =
        BlockRef { number: header.number, hash: header.hash, timestamp: header.timestamp, gas_limit: header.gas_limit };
    Ok(Pinned { chain_id, probes, authorities, code_before_start, block, has_multicall, checkpoints: hashes })
}

/// Round trip 2: the logs of every role set in scope since its cache
/// entry's block (all of them on a cold cache), and from them which
/// addresses round trip 3 confirms (see `holders.rs`).
async fn list_role_sets(
    provider: &impl Provider,
    scope: &Scope,
    entries: Vec<Vec<cache::Entry>>,
    pinned: BlockRef,
    options: &ObserveOptions,
) -> Result<Vec<Vec<Listing>>, ObserveError> {
    let mut queries = Vec::new();
    let mut listings = Vec::with_capacity(entries.len());
    for (contract, per_contract) in scope.contracts.iter().zip(entries) {
        let deployed = contract.deployed;
        let mut sets = Vec::with_capacity(per_contract.len());
        for ((set, _), entry) in contract.role_sets.iter().zip(per_contract) {
            let start = match deployed.deployed_block.or(entry.deployed_block) {
                Some(block) => block,
                None => logs::deployment_block(provider, deployed.address, pinned.number).await?,
            };
            let listing = Listing::prepare(entry, start, pinned.number);
            let (from, to) = (listing.from, pinned.number);
            queries.push(LogQuery { address: deployed.address, topic: set.event_topic, from, to });
            sets.push(listing);
        }
        listings.push(sets);
    }
    let mut found = logs::scan(provider, &queries, options).await?.into_iter();
    for (contract, sets) in scope.contracts.iter().zip(listings.iter_mut()) {
        for ((_, named), listing) in contract.role_sets.iter().zip(sets.iter_mut()) {
            let touched = found.next().unwrap_or_default();
            *listing = std::mem::take(listing).absorb(touched, named, pinned);
        }
    }
    Ok(listings)
}

/// Stores each role set's entry, its holders confirmed at the pinned block,
/// once the whole observation has succeeded.
fn store_cache(scope: &Scope, listings: Vec<Vec<Listing>>, contracts: &[ObservedContract], options: &ObserveOptions) {
    let Some(dir) = options.cache_dir.as_deref() else { return };
    for ((contract, sets), observed) in scope.contracts.iter().zip(listings).zip(contracts) {
        for ((set, _), listing) in contract.role_sets.iter().zip(sets) {
            let Some(members) = observed.role_set(set.key) else { continue };
            if let Some(entry) = listing.settle(members) {
                cache::store(dir, scope.chain_id, contract.deployed.address, set.key, &entry);
            }
        }
    }
}

/// What round trip 3 reads, beyond the scope.
struct Reads<'a> {
    targets: &'a [Target],
    listings: &'a [Vec<Listing>],
    /// The authority accounts to recognise.
    accounts: &'a [Address],
    /// Those of them that had no code: recognised by their code alone
    /// (plain batches only).
    without_code: &'a BTreeSet<Address>,
    at: BlockRef,
    multicall: bool,
}

/// Round trip 3: every getter, every authority and what it is, and the
/// membership of every holder to confirm. `None` when an account that had
/// no code has code now.
async fn read_contracts(
    provider: &impl Provider,
    scope: &Scope,
    plan: &Reads<'_>,
    max_batch: usize,
) -> Result<Option<ReadOutcome>, ObserveError> {
    let mut reads = Vec::new();
    for ((contract, target), sets) in scope.contracts.iter().zip(plan.targets).zip(plan.listings) {
        let own = contract.deployed.address;
        for field in target.kind.fields {
            let to = field.at.and_then(|key| target.at.get(key).copied()).unwrap_or(own);
            reads.push(Read { to, data: (field.calldata)() });
        }
        reads.push(Read { to: own, data: (target.kind.authority.calldata)() });
        for ((set, _), listing) in contract.role_sets.iter().zip(sets) {
            reads.extend(listing.confirm.iter().map(|h| Read { to: own, data: (set.calldata)(*h) }));
        }
    }
    let (by_code, identify): (Vec<Address>, Vec<Address>) =
        plan.accounts.iter().partition(|a| plan.without_code.contains(*a));
    reads.extend(authorities::identify_reads(&identify));
    let (results, codes) = if plan.multicall {
        (read::read_all(provider, &reads, plan.at, true, max_batch).await?, Vec::new())
    } else {
        read::read_with_code(provider, &reads, &by_code, plan.at, max_batch).await?
    };
    if codes.len() != by_code.len() || codes.iter().any(|code| !code.is_empty()) {
        return Ok(None);
    }
    let mut results = results.into_iter();
    let mut observed = Vec::with_capacity(scope.contracts.len());
    for ((contract, target), sets) in scope.contracts.iter().zip(plan.targets).zip(plan.listings) {
        observed.push(collect(contract, target.kind, sets, plan.at.number, &mut results)?);
    }
    let (identified, forwarders) = authorities::identify(&identify, &mut results);
    let accounts = plan
        .accounts
        .iter()
        .map(|address| match identified.iter().find(|a| a.address == *address) {
            Some(account) => account.clone(),
            None => ObservedAccount { address: *address, kind: AccountKind::Eoa },
        })
        .collect();
    Ok(Some((observed, accounts, forwarders)))
}

/// What round trip 3 found: the contracts, the authority accounts, and the
/// authorities recognised as managed kinds that forward calls.
type ReadOutcome = (Vec<ObservedContract>, Vec<ObservedAccount>, Vec<(Address, Target)>);

fn collect(
    contract: &ScopeContract,
    kind: &'static crate::contracts::Kind,
    listings: &[Listing],
    block: u64,
    results: &mut impl Iterator<Item = ReadResult>,
) -> Result<ObservedContract, ObserveError> {
    let wrong = |error| wrong_kind(error, contract.deployed.address, kind);
    let mut fields = Vec::with_capacity(kind.fields.len());
    for field in kind.fields {
        let result = results.next();
        // A getter of its own answering nothing: no code there at this
        // block (read before its deployment, with `--block`).
        if field.at.is_none() && matches!(&result, Some(Ok(data)) if data.is_empty()) {
            return Err(ObserveError::NoCode { address: contract.deployed.address, block });
        }
        fields.push(decode_field(kind.key, field, result).map_err(wrong)?);
    }
    let authority = decode(results.next(), kind.authority.decode, |reason| ObserveError::Getter {
        contract: kind.key,
        field: "authority".to_string(),
        getter: kind.authority.getter,
        reason,
    })
    .map_err(wrong)?;
    let mut role_sets = Vec::with_capacity(listings.len());
    for ((set, _), listing) in contract.role_sets.iter().zip(listings) {
        let mut confirmed = BTreeSet::new();
        for holder in &listing.confirm {
            if decode_member(kind.key, set, *holder, results.next())? {
                confirmed.insert(*holder);
            }
        }
        role_sets.push((set.key, listing.members(confirmed)));
    }
    Ok(ObservedContract { kind, address: contract.deployed.address, fields, authority, role_sets })
}

/// A getter of the contract's own that reverted says the address is likely
/// not this kind's: the error says so (a field read at another address,
/// a module's, keeps its own error).
fn wrong_kind(error: ObserveError, address: Address, kind: &'static crate::contracts::Kind) -> ObserveError {
    match error {
        ObserveError::Getter { contract, field, getter, reason } if reason.contains("revert") => {
            let own = field == "authority" || kind.field(&field).is_some_and(|f| f.at.is_none());
            if own {
                return ObserveError::WrongKind { contract, address, name: kind.name, getter, reason };
            }
            ObserveError::Getter { contract, field, getter, reason }
        }
        other => other,
    }
}

fn decode_field(
    contract: &'static str,
    field: &Field,
    result: Option<ReadResult>,
) -> Result<crate::contracts::Value, ObserveError> {
    decode(result, field.decode, |reason| ObserveError::Getter {
        contract,
        field: field.key.to_string(),
        getter: field.getter,
        reason,
    })
}

fn decode_member(
    contract: &'static str,
    set: &RoleSet,
    holder: Address,
    result: Option<ReadResult>,
) -> Result<bool, ObserveError> {
    decode(result, set.decode, |reason| ObserveError::Getter {
        contract,
        field: format!("{}[{holder}]", set.key),
        getter: set.getter,
        reason,
    })
}

/// One getter's answer, decoded; a missing answer, a revert or bad data is
/// reported through `failed`.
fn decode<T>(
    result: Option<ReadResult>,
    decoder: fn(&[u8]) -> Result<T, alloy::sol_types::Error>,
    failed: impl Fn(String) -> ObserveError,
) -> Result<T, ObserveError> {
    let data = result.unwrap_or_else(|| Err("no answer".to_string())).map_err(&failed)?;
    decoder(&data).map_err(|e| failed(e.to_string()))
}
