//! The accounts the managed contracts answer to, and what each one is: an
//! account without code, a TimelockController (with its pending operations),
//! a Safe, or a contract govstate does not recognise.
//!
//! Recognising costs no round trip of its own: every authority is probed at
//! the latest block in the first round trip, and its `getMinDelay()`,
//! `getThreshold()`, `getOwners()` and `nonce()` ride along with the third,
//! at the pinned block (an account without code answers all with empty data). A TimelockController
//! then costs two more: its `CallScheduled`, `CallSalt`, `CallExecuted` and
//! `Cancelled` logs, and the state of each operation found there
//! (`getOperationState`, `getTimestamp`) at the pinned block.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Log;
use alloy::sol_types::{SolCall, SolEvent};
use serde::{Deserialize, Serialize};

use super::discover::{self, Target};
use super::logs::{self, LogQuery};
use super::read::{self, Read, ReadResult};
use super::{BlockRef, ObserveError, ObserveOptions, cache};
use crate::contracts::safe::SafeL2 as Safe;
use crate::contracts::timelock::TimelockController as T;

/// One authority account and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedAccount {
    /// Its address.
    pub address: Address,
    /// What it is.
    pub kind: AccountKind,
}

/// What an authority account is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum AccountKind {
    /// An account without code (a key holder).
    Eoa,
    /// An OpenZeppelin TimelockController.
    Timelock(TimelockState),
    /// A Safe multisig.
    Safe {
        /// `getThreshold()`.
        threshold: U256,
        /// `getOwners()`, in the Safe's order.
        #[serde(default)]
        owners: Vec<Address>,
        /// `nonce()`: the nonce its next transaction must carry.
        #[serde(default)]
        nonce: u64,
    },
    /// A contract govstate does not recognise.
    Contract,
}

/// A TimelockController as observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelockState {
    /// `getMinDelay()`, in seconds.
    pub min_delay: u64,
    /// Every operation its logs show, with its state at the pinned block.
    pub operations: Vec<Operation>,
    /// The accounts its `RoleGranted` logs show holding `PROPOSER_ROLE`,
    /// confirmed with `hasRole` at the pinned block.
    #[serde(default)]
    pub proposers: Vec<Address>,
}

/// One timelock operation, from its logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// The operation id (`hashOperationBatch`).
    pub id: B256,
    /// Its calls, in order: target, value, data.
    pub calls: Vec<(Address, U256, Bytes)>,
    /// The operation it waits for, or zero.
    pub predecessor: B256,
    /// Its salt (zero when no `CallSalt` was emitted).
    pub salt: B256,
    /// `getOperationState` at the pinned block.
    pub state: OperationState,
    /// `getTimestamp`: when it is (or was) ready, in seconds since the epoch;
    /// 1 once done, 0 when unset.
    pub ready_at: u64,
    /// The block and transaction of its newest `CallScheduled` log, as
    /// observed (who proposed it; not part of a saved plan).
    #[serde(skip)]
    pub scheduled_in: Option<logs::LogOrigin>,
}

impl Operation {
    /// True while it waits or is ready: scheduled, not executed, not cancelled.
    pub fn is_pending(&self) -> bool {
        matches!(self.state, OperationState::Waiting | OperationState::Ready)
    }
}

/// `getOperationState`: 0 Unset, 1 Waiting, 2 Ready, 3 Done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationState {
    /// Never scheduled, or cancelled.
    Unset,
    /// Scheduled, the delay not yet passed.
    Waiting,
    /// Scheduled and executable.
    Ready,
    /// Executed.
    Done,
}

impl OperationState {
    fn from_u8(state: u8) -> Self {
        match state {
            1 => OperationState::Waiting,
            2 => OperationState::Ready,
            3 => OperationState::Done,
            _ => OperationState::Unset,
        }
    }

    /// The state's name as shown.
    pub fn name(self) -> &'static str {
        match self {
            OperationState::Unset => "unset",
            OperationState::Waiting => "waiting",
            OperationState::Ready => "ready",
            OperationState::Done => "done",
        }
    }
}

/// The calls that tell an authority apart, at the pinned block: the
/// timelock's and the Safe's getters, and the probes of every managed kind
/// that forwards governance calls (a SystemPause governing StakeManager is
/// on the route whether or not the file has a section for it).
pub fn identify_reads(accounts: &[Address]) -> Vec<Read> {
    let mut reads = Vec::with_capacity(accounts.len() * 4);
    for to in accounts {
        reads.push(Read { to: *to, data: T::getMinDelayCall {}.abi_encode() });
        reads.push(Read { to: *to, data: Safe::getThresholdCall {}.abi_encode() });
        reads.push(Read { to: *to, data: Safe::getOwnersCall {}.abi_encode() });
        reads.push(Read { to: *to, data: Safe::nonceCall {}.abi_encode() });
        for (_, probe) in discover::forwarder_probes(*to) {
            reads.extend(probe);
        }
    }
    reads
}

/// What each account is, from the answers to [`identify_reads`]: empty
/// answers to all mean no code; a timelock's operations come later. Also
/// returns the accounts recognised as a managed kind that forwards calls,
/// to be read as contracts on the route.
pub fn identify(
    accounts: &[Address],
    answers: &mut impl Iterator<Item = ReadResult>,
) -> (Vec<ObservedAccount>, Vec<(Address, Target)>) {
    let mut out = Vec::with_capacity(accounts.len());
    let mut forwarders = Vec::new();
    for address in accounts {
        let (delay, threshold) = (answers.next(), answers.next());
        let (owners, nonce) = (answers.next(), answers.next());
        for (kind, probe) in discover::forwarder_probes(*address) {
            let answered: Vec<ReadResult> = probe.iter().map(|_| answers.next().unwrap_or(Ok(Bytes::new()))).collect();
            if let Some(target) = discover::recognise_as(kind, &answered) {
                forwarders.push((*address, target));
            }
        }
        let empty = |a: &Option<ReadResult>| matches!(a, Some(Ok(data)) if data.is_empty());
        let kind = if empty(&delay) && empty(&threshold) && empty(&owners) {
            AccountKind::Eoa
        } else if let Some(Ok(delay)) = &delay
            && let Ok(min_delay) = T::getMinDelayCall::abi_decode_returns(delay)
        {
            AccountKind::Timelock(TimelockState {
                min_delay: min_delay.saturating_to(),
                operations: Vec::new(),
                proposers: Vec::new(),
            })
        } else if let Some(Ok(threshold)) = &threshold
            && let Ok(threshold) = Safe::getThresholdCall::abi_decode_returns(threshold)
        {
            let owners = owners.and_then(Result::ok).and_then(|d| Safe::getOwnersCall::abi_decode_returns(&d).ok());
            let nonce = nonce.and_then(Result::ok).and_then(|d| Safe::nonceCall::abi_decode_returns(&d).ok());
            AccountKind::Safe {
                threshold,
                owners: owners.unwrap_or_default(),
                nonce: nonce.map_or(0, |n| n.saturating_to()),
            }
        } else {
            AccountKind::Contract
        };
        out.push(ObservedAccount { address: *address, kind });
    }
    (out, forwarders)
}

/// Fills in every timelock's operations: its logs up to the pinned block,
/// then each operation's state at it. Two round trips, only when there is
/// a timelock (plus finding its deployment block once, then cached).
pub async fn read_operations(
    provider: &impl Provider,
    chain_id: u64,
    accounts: &mut [ObservedAccount],
    pinned: BlockRef,
    options: &ObserveOptions,
) -> Result<(), ObserveError> {
    let timelocks: Vec<Address> =
        accounts.iter().filter(|a| matches!(a.kind, AccountKind::Timelock(_))).map(|a| a.address).collect();
    if timelocks.is_empty() {
        return Ok(());
    }
    let mut queries = Vec::new();
    for timelock in &timelocks {
        let from = deployment_block(provider, chain_id, *timelock, pinned, options).await?;
        for topic in EVENTS {
            queries.push(LogQuery { address: *timelock, topic, from, to: pinned.number });
        }
    }
    let found = logs::scan_logs(provider, &queries, options).await?;
    let mut per_timelock: BTreeMap<Address, Vec<Operation>> = BTreeMap::new();
    let mut candidates: Vec<(Address, Address)> = Vec::new();
    for (timelock, events) in timelocks.iter().zip(found.chunks(EVENTS.len())) {
        per_timelock.insert(*timelock, operations_from(events));
        candidates.extend(proposers_from(events).into_iter().map(|p| (*timelock, p)));
    }
    let proposers = confirm_states(provider, &mut per_timelock, &candidates, pinned, options).await?;
    for account in accounts.iter_mut() {
        if let AccountKind::Timelock(state) = &mut account.kind {
            state.operations = per_timelock.remove(&account.address).unwrap_or_default();
            state.proposers = proposers.iter().filter(|(t, _)| *t == account.address).map(|(_, p)| *p).collect();
        }
    }
    Ok(())
}

/// The accounts `RoleGranted` logs show receiving `PROPOSER_ROLE`, once each.
fn proposers_from(events: &[Vec<Log>]) -> Vec<Address> {
    let role = crate::contracts::timelock::role("PROPOSER_ROLE");
    let mut out = Vec::new();
    for log in events.get(2).into_iter().flatten() {
        if let Ok(event) = T::RoleGranted::decode_log_data(log.data())
            && event.role == role
            && !out.contains(&event.account)
        {
            out.push(event.account);
        }
    }
    out
}

/// The events an operation is rebuilt from, in query order; whether it was
/// executed or cancelled since is the chain's answer, not the logs'.
/// `RoleGranted` names the proposer candidates (confirmed with `hasRole`).
const EVENTS: [B256; 3] =
    [T::CallScheduled::SIGNATURE_HASH, T::CallSalt::SIGNATURE_HASH, T::RoleGranted::SIGNATURE_HASH];

/// The timelock's deployment block: cached, else found by bisection.
async fn deployment_block(
    provider: &impl Provider,
    chain_id: u64,
    timelock: Address,
    pinned: BlockRef,
    options: &ObserveOptions,
) -> Result<u64, ObserveError> {
    const KEY: &str = "timelock-operations";
    let cached = options.cache_dir.as_deref().map(|dir| cache::load(dir, chain_id, timelock, KEY));
    if let Some(block) = cached.as_ref().and_then(|e| e.deployed_block).filter(|b| *b <= pinned.number) {
        return Ok(block);
    }
    let block = logs::deployment_block(provider, timelock, pinned.number).await?;
    if let Some(dir) = options.cache_dir.as_deref() {
        let entry = cache::Entry { deployed_block: Some(block), ..cache::Entry::default() };
        cache::store(dir, chain_id, timelock, KEY, &entry);
    }
    Ok(block)
}

/// Rebuilds each scheduled operation from its `CallScheduled` logs (one
/// per call) and its `CallSalt`; the state comes from the chain after.
fn operations_from(events: &[Vec<Log>]) -> Vec<Operation> {
    let (scheduled, salts) = (events.first(), events.get(1));
    let mut operations: Vec<Operation> = Vec::new();
    for log in scheduled.into_iter().flatten() {
        let Ok(event) = T::CallScheduled::decode_log_data(log.data()) else { continue };
        let call = (event.target, event.value, event.data.clone());
        let scheduled_in = logs::LogOrigin::of(log);
        match operations.iter_mut().find(|o| o.id == event.id) {
            Some(operation) => {
                // Scheduled again after a cancellation: the same calls anew.
                if event.index.is_zero() {
                    operation.calls.clear();
                }
                operation.calls.push(call);
                operation.scheduled_in = scheduled_in;
            }
            None => operations.push(Operation {
                id: event.id,
                calls: vec![call],
                predecessor: event.predecessor,
                salt: B256::ZERO,
                state: OperationState::Unset,
                ready_at: 0,
                scheduled_in,
            }),
        }
    }
    for log in salts.into_iter().flatten() {
        if let Ok(event) = T::CallSalt::decode_log_data(log.data())
            && let Some(operation) = operations.iter_mut().find(|o| o.id == event.id)
        {
            operation.salt = event.salt;
        }
    }
    operations
}

/// `getOperationState` and `getTimestamp` of every operation, in one batch
/// at the pinned block.
/// The proposer candidates' `hasRole` ride along in the same batch; the
/// confirmed (timelock, proposer) pairs are returned.
async fn confirm_states(
    provider: &impl Provider,
    per_timelock: &mut BTreeMap<Address, Vec<Operation>>,
    candidates: &[(Address, Address)],
    pinned: BlockRef,
    options: &ObserveOptions,
) -> Result<Vec<(Address, Address)>, ObserveError> {
    let mut reads = super::proposers::reads(candidates);
    for (timelock, operations) in per_timelock.iter() {
        for operation in operations {
            reads.push(Read { to: *timelock, data: T::getOperationStateCall { id: operation.id }.abi_encode() });
            reads.push(Read { to: *timelock, data: T::getTimestampCall { id: operation.id }.abi_encode() });
        }
    }
    if reads.is_empty() {
        return Ok(Vec::new());
    }
    let mut answers = read::read_all(provider, &reads, pinned, false, options.max_batch).await?.into_iter();
    let proposers = super::proposers::confirmed(candidates, &mut answers);
    for operations in per_timelock.values_mut() {
        for operation in operations.iter_mut() {
            let state = answers.next().and_then(Result::ok);
            let timestamp = answers.next().and_then(Result::ok);
            let state = state.and_then(|d| T::getOperationStateCall::abi_decode_returns(&d).ok());
            let timestamp = timestamp.and_then(|d| T::getTimestampCall::abi_decode_returns(&d).ok());
            operation.state = OperationState::from_u8(state.unwrap_or_default());
            operation.ready_at = timestamp.map_or(0, |t| t.saturating_to());
        }
    }
    Ok(proposers)
}
