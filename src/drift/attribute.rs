//! Who changed what: for each drifted field and role holder, the transaction
//! that last changed it, found from the event its setter emits (the contract
//! table names it, so this stays generic over the kinds). The logs are read
//! through the shared scanner ([`scan_newest_first`]), newest ranges
//! first, within the ranges the endpoint accepts, stopping once every entry
//! has its newest change. Read-only and best effort: a node that refuses
//! the logs leaves the drift unattributed, never unreported, and a warning
//! says so. Likewise, each pending timelock operation is given who proposed
//! it, from the `CallScheduled` log the observation rebuilt it from (no
//! second read of the logs).

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::{Block, BlockNumberOrTag, Log, Transaction};

use super::report::{Attribution, DriftKind, Drifted};
use crate::observe::{
    AccountKind, EventsQuery, LogOrigin, ObserveOptions, Observed, ObservedContract, scan_newest_first,
};
use crate::spec::Desired;

/// What one drift entry is looked for by: the events that change it and,
/// for a role holder, the holder as topic1.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    topics: Vec<(B256, &'static str)>,
    holder: Option<B256>,
}

/// Fills `last_change` of every drift entry whose field's setter names an
/// event, from the managed contracts' logs up to the observed block: one
/// newest-first scan of all the contracts at once. Returns what could not
/// be attributed, and why, as warnings.
pub async fn attribute(
    provider: &impl Provider,
    desired: &Desired,
    observed: &Observed,
    options: &ObserveOptions,
    drift: &mut [Drifted],
) -> Vec<String> {
    let mut queries = Vec::new();
    let mut wants: Vec<Vec<(usize, Wanted)>> = Vec::new();
    for contract in &observed.contracts {
        let wanted: Vec<(usize, Wanted)> = drift
            .iter()
            .enumerate()
            .filter(|(_, d)| d.contract == contract.kind.key && d.kind != DriftKind::PendingOperation)
            .filter_map(|(i, d)| wanted(contract, d).map(|w| (i, w)))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let from = desired
            .contracts
            .iter()
            .find(|c| c.deployed.kind.key == contract.kind.key)
            .and_then(|c| c.deployed.deployed_block)
            .unwrap_or(0);
        let mut topics: Vec<B256> = wanted.iter().flat_map(|(_, w)| w.topics.iter().map(|t| t.0)).collect();
        topics.sort_unstable();
        topics.dedup();
        queries.push(EventsQuery { address: contract.address, topics, from, to: observed.block.number });
        wants.push(wanted);
    }
    if queries.is_empty() {
        return Vec::new();
    }
    let enough = |query: usize, logs: &[Log]| wants[query].iter().all(|(_, want)| newest(logs, want).is_some());
    let found = match scan_newest_first(provider, &queries, options, enough).await {
        Ok(found) => found,
        Err(error) => return vec![format!("the drift is not attributed to the transactions that made it: {error}")],
    };
    let changes: Vec<(usize, LogOrigin, &'static str)> = found
        .iter()
        .zip(&wants)
        .flat_map(|(logs, wanted)| wanted.iter().filter_map(|(i, want)| newest(logs, want).map(|(o, e)| (*i, o, e))))
        .collect();
    let origins: Vec<(LogOrigin, &'static str)> = changes.iter().map(|(_, o, e)| (*o, *e)).collect();
    let mut warnings = Vec::new();
    for ((index, origin, _), described) in changes.iter().zip(describe_all(provider, &origins).await) {
        match described {
            Some((attribution, _)) => drift[*index].last_change = Some(attribution),
            None => warnings.push(unread(&drift[*index].field, *origin)),
        }
    }
    warnings
}

/// Fills `proposer` and `scheduled` of every pending operation in `drift`
/// from the newest `CallScheduled` log of its id, as the observation found
/// it on its timelock. Returns the warnings of what could not be read.
pub async fn proposers(provider: &impl Provider, observed: &Observed, drift: &mut [Drifted]) -> Vec<String> {
    let mut scheduled: Vec<(usize, Address, LogOrigin)> = Vec::new();
    for (index, drifted) in drift.iter().enumerate() {
        let Some(operation) = drifted.operation.as_ref() else { continue };
        let (Ok(timelock), Ok(id)) = (operation.timelock.parse::<Address>(), operation.id.parse::<B256>()) else {
            continue;
        };
        if let Some(origin) = scheduled_in(observed, timelock, id) {
            scheduled.push((index, timelock, origin));
        }
    }
    // The event's name, as the contract table's timelock declares it.
    let event =
        <crate::contracts::timelock::TimelockController::CallScheduled as alloy::sol_types::SolEvent>::SIGNATURE;
    let origins: Vec<(LogOrigin, &'static str)> = scheduled.iter().map(|(_, _, o)| (*o, event)).collect();
    let mut warnings = Vec::new();
    for ((index, timelock, origin), described) in scheduled.into_iter().zip(describe_all(provider, &origins).await) {
        let Some(operation) = drift[index].operation.as_mut() else { continue };
        let Some((attribution, to)) = described else {
            warnings.push(unread(&format!("operation {}", operation.id), origin));
            continue;
        };
        operation.proposer = Some(proposer(&attribution.sender, to, timelock));
        operation.scheduled = Some(attribution);
    }
    warnings
}

/// Where the observation found operation `id` of `timelock` scheduled.
fn scheduled_in(observed: &Observed, timelock: Address, id: B256) -> Option<LogOrigin> {
    let AccountKind::Timelock(state) = &observed.account(timelock)?.kind else { return None };
    state.operations.iter().find(|o| o.id == id)?.scheduled_in
}

/// The warning for a change whose transaction could not be read.
fn unread(what: &str, origin: LogOrigin) -> String {
    format!("{what} is not attributed: transaction {} (block {}) could not be read", origin.transaction, origin.block)
}

/// Who called the timelock: the sender when the transaction went to the
/// timelock itself, else the contract it went to (a Safe, whose
/// `execTransaction` makes the call; a MultiSend it delegates to keeps the
/// Safe as the caller).
fn proposer(sender: &str, to: Option<Address>, timelock: Address) -> String {
    match to {
        Some(to) if to != timelock => to.to_string(),
        _ => sender.to_string(),
    }
}

/// The events that change `drifted`'s field on this contract, if the table
/// names any.
fn wanted(contract: &ObservedContract, drifted: &Drifted) -> Option<Wanted> {
    let kind = contract.kind;
    if let Some(set) = kind.role_set(&drifted.field) {
        let holder: Address = drifted.chain.as_deref().or(drifted.file.as_deref())?.parse().ok()?;
        return Some(Wanted { topics: vec![(set.event_topic, set.event_name)], holder: Some(holder.into_word()) });
    }
    let topics: Vec<(B256, &'static str)> = kind
        .setters
        .iter()
        .filter(|s| s.fields.contains(&drifted.field.as_str()))
        .filter_map(|s| s.event.map(|e| (e.topic, e.name)))
        .collect();
    (!topics.is_empty()).then_some(Wanted { topics, holder: None })
}

/// The newest of `logs` (in block order) that `want` looks for, with its
/// event's name.
fn newest(logs: &[Log], want: &Wanted) -> Option<(LogOrigin, &'static str)> {
    logs.iter().rev().find_map(|log| Some((LogOrigin::of(log)?, matches(log, want)?)))
}

/// The name of `log`'s event, when it is one `want` looks for.
fn matches(log: &Log, want: &Wanted) -> Option<&'static str> {
    let topics = log.topics();
    let (_, name) = want.topics.iter().find(|(t, _)| topics.first() == Some(t))?;
    if want.holder.is_some() && topics.get(1) != want.holder.as_ref() {
        return None;
    }
    Some(*name)
}

/// Block, chain time, hash and sender of the transaction at each origin,
/// and whom that transaction was sent to (`None` where it could not be
/// read): every transaction, and every block whose time the logs did not
/// give, in one batch.
async fn describe_all(
    provider: &impl Provider,
    origins: &[(LogOrigin, &'static str)],
) -> Vec<Option<(Attribution, Option<Address>)>> {
    if origins.is_empty() {
        return Vec::new();
    }
    let Ok((transactions, times)) = read_all(provider, origins).await else { return vec![None; origins.len()] };
    origins
        .iter()
        .map(|(origin, event)| {
            let time = origin.time.or_else(|| times.get(&origin.block).copied())?;
            let sent = transactions.get(&origin.transaction)?;
            Some((attribution(*origin, time, event, sent), alloy::consensus::Transaction::to(sent)))
        })
        .collect()
}

/// The transactions of `origins` by hash, and the times of the blocks
/// whose time the logs did not give, by number, from one batch.
async fn read_all(
    provider: &impl Provider,
    origins: &[(LogOrigin, &'static str)],
) -> Result<(BTreeMap<B256, Transaction>, BTreeMap<u64, u64>), alloy::transports::TransportError> {
    let hashes: BTreeSet<B256> = origins.iter().map(|(o, _)| o.transaction).collect();
    let blocks: BTreeSet<u64> = origins.iter().filter(|(o, _)| o.time.is_none()).map(|(o, _)| o.block).collect();
    let mut batch = BatchRequest::new(provider.client());
    let mut sent = Vec::with_capacity(hashes.len());
    for hash in hashes {
        sent.push((hash, batch.add_call::<_, Option<Transaction>>("eth_getTransactionByHash", &(hash,))?));
    }
    let mut headers = Vec::with_capacity(blocks.len());
    for block in blocks {
        let params = (BlockNumberOrTag::Number(block), false);
        headers.push((block, batch.add_call::<_, Option<Block>>("eth_getBlockByNumber", &params)?));
    }
    batch.send().await?;
    let mut transactions = BTreeMap::new();
    for (hash, waiter) in sent {
        if let Ok(Some(transaction)) = waiter.await {
            transactions.insert(hash, transaction);
        }
    }
    let mut times = BTreeMap::new();
    for (block, waiter) in headers {
        if let Ok(Some(header)) = waiter.await {
            times.insert(block, header.header.timestamp);
        }
    }
    Ok((transactions, times))
}

/// The attribution of the change at `origin`, made by `sent` at `time`.
fn attribution(origin: LogOrigin, time: u64, event: &str, sent: &Transaction) -> Attribution {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(time);
    Attribution {
        block: origin.block,
        time,
        time_rfc3339: humantime::format_rfc3339_seconds(at).to_string(),
        transaction: origin.transaction.to_string(),
        sender: sent.inner.signer().to_string(),
        event: event.split('(').next().unwrap_or(event).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::contracts::{KINDS, PAUSED, UNPAUSED};

    #[test]
    fn the_proposer_is_the_contract_a_scheduling_transaction_went_through() {
        let (timelock, safe) = (alloy::primitives::Address::repeat_byte(1), alloy::primitives::Address::repeat_byte(2));
        assert_eq!(super::proposer("0xEOA", Some(timelock), timelock), "0xEOA");
        assert_eq!(super::proposer("0xEOA", Some(safe), timelock), safe.to_string());
        assert_eq!(super::proposer("0xEOA", None, timelock), "0xEOA");
    }

    #[test]
    fn every_setter_of_the_arena_and_stake_manager_names_the_event_drift_attributes_it_by() {
        for kind in KINDS.iter().filter(|k| k.key != "system_pause") {
            for setter in kind.setters {
                assert!(setter.event.is_some(), "{}.{} names no event", kind.key, setter.function);
            }
            for set in kind.role_sets {
                let topic = alloy::primitives::keccak256(set.event_name.as_bytes());
                assert_eq!(topic, set.event_topic, "{}.{}", kind.key, set.key);
            }
        }
    }

    #[test]
    fn the_pause_events_topics_are_their_signatures_hashes() {
        for event in [PAUSED, UNPAUSED] {
            assert_eq!(alloy::primitives::keccak256(event.name.as_bytes()), event.topic, "{}", event.name);
        }
    }
}
