//! Who changed what: for each drifted field and role holder, the transaction
//! that last changed it, found from the event its setter emits (the contract
//! table names it, so this stays generic over the kinds). Read-only and
//! best effort: a node that refuses the logs leaves the drift unattributed,
//! never unreported. Likewise, each pending timelock operation is given who
//! proposed it, from the `CallScheduled` log of its id.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::rpc::types::{BlockNumberOrTag, Filter, Log};

use super::report::{Attribution, DriftKind, Drifted};
use crate::observe::{Observed, ObservedContract};
use crate::spec::Desired;

/// Blocks per `eth_getLogs` range, scanned newest first: the last change is
/// usually recent, and a public endpoint refuses unbounded ranges.
const CHUNK_BLOCKS: u64 = 50_000;

/// What one drift entry is looked for by: the events that change it and,
/// for a role holder, the holder as topic1.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    topics: Vec<(B256, &'static str)>,
    holder: Option<B256>,
}

/// Fills `last_change` of every drift entry whose field's setter names an
/// event, from the managed contracts' logs up to the observed block.
pub async fn attribute(provider: &impl Provider, desired: &Desired, observed: &Observed, drift: &mut [Drifted]) {
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
        let found = latest_logs(provider, contract.address, &wanted, from, observed.block.number).await;
        let mut times = BTreeMap::new();
        for (index, (log, event)) in found {
            if let Some((attribution, _)) = describe(provider, &log, event, &mut times).await {
                drift[index].last_change = Some(attribution);
            }
        }
    }
}

/// Fills `proposer` and `scheduled` of every pending operation in `drift`
/// from the newest `CallScheduled` log of its id on its timelock, scanned
/// newest first from the observed block down to the earliest deployment
/// block the file gives.
pub async fn proposers(provider: &impl Provider, desired: &Desired, observed: &Observed, drift: &mut [Drifted]) {
    let from = desired.contracts.iter().map(|c| c.deployed.deployed_block.unwrap_or(0)).min().unwrap_or(0);
    let mut times = BTreeMap::new();
    for drifted in drift.iter_mut() {
        let Some(operation) = drifted.operation.as_mut() else { continue };
        let (Ok(timelock), Ok(id)) = (operation.timelock.parse::<Address>(), operation.id.parse::<B256>()) else {
            continue;
        };
        let Some(log) = scheduled_log(provider, timelock, id, from, observed.block.number).await else { continue };
        let Some((scheduled, to)) = describe(provider, &log, "CallScheduled", &mut times).await else { continue };
        operation.proposer = Some(proposer(&scheduled.sender, to, timelock));
        operation.scheduled = Some(scheduled);
    }
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

/// The newest `CallScheduled` log of operation `id` at `timelock` in `from..=to`.
async fn scheduled_log(provider: &impl Provider, timelock: Address, id: B256, from: u64, to: u64) -> Option<Log> {
    use alloy::sol_types::SolEvent;
    let topic = crate::contracts::timelock::TimelockController::CallScheduled::SIGNATURE_HASH;
    let mut end = to;
    loop {
        let start = end.saturating_sub(CHUNK_BLOCKS - 1).max(from);
        let filter = Filter::new()
            .address(timelock)
            .event_signature(topic)
            .topic1(id)
            .from_block(BlockNumberOrTag::Number(start))
            .to_block(BlockNumberOrTag::Number(end));
        let logs = provider.get_logs(&filter).await.ok()?;
        if let Some(log) = logs.into_iter().rev().find(|l| l.topics().get(1) == Some(&id)) {
            return Some(log);
        }
        if start <= from {
            return None;
        }
        end = start - 1;
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

/// For each wanted entry, its newest matching log at `address` in
/// `from..=to`, scanning ranges newest first until all are found.
async fn latest_logs(
    provider: &impl Provider,
    address: Address,
    wanted: &[(usize, Wanted)],
    from: u64,
    to: u64,
) -> Vec<(usize, (Log, &'static str))> {
    let mut topics: Vec<B256> = wanted.iter().flat_map(|(_, w)| w.topics.iter().map(|t| t.0)).collect();
    topics.sort_unstable();
    topics.dedup();
    let mut found: Vec<(usize, (Log, &'static str))> = Vec::new();
    let mut end = to;
    loop {
        let start = end.saturating_sub(CHUNK_BLOCKS - 1).max(from);
        let filter = Filter::new()
            .address(address)
            .event_signature(topics.clone())
            .from_block(BlockNumberOrTag::Number(start))
            .to_block(BlockNumberOrTag::Number(end));
        let Ok(logs) = provider.get_logs(&filter).await else { return found };
        let open: Vec<&(usize, Wanted)> = wanted.iter().filter(|(i, _)| !found.iter().any(|(f, _)| f == i)).collect();
        for (index, want) in open {
            if let Some(hit) = logs.iter().rev().find_map(|log| matches(log, want)) {
                found.push((*index, hit));
            }
        }
        if found.len() == wanted.len() || start <= from {
            return found;
        }
        end = start - 1;
    }
}

/// The log with its event's name, when it is one `want` looks for.
fn matches(log: &Log, want: &Wanted) -> Option<(Log, &'static str)> {
    let topics = log.topics();
    let (_, name) = want.topics.iter().find(|(t, _)| topics.first() == Some(t))?;
    if want.holder.is_some() && topics.get(1) != want.holder.as_ref() {
        return None;
    }
    Some((log.clone(), *name))
}

/// Block, chain time, hash and sender of the transaction that emitted
/// `log`, and whom that transaction was sent to.
async fn describe(
    provider: &impl Provider,
    log: &Log,
    event: &'static str,
    times: &mut BTreeMap<u64, u64>,
) -> Option<(Attribution, Option<Address>)> {
    let (block, hash) = (log.block_number?, log.transaction_hash?);
    let time = match (log.block_timestamp, times.get(&block)) {
        (Some(time), _) | (None, Some(&time)) => time,
        (None, None) => {
            let header = provider.get_block_by_number(BlockNumberOrTag::Number(block)).await.ok()??;
            header.header.timestamp
        }
    };
    times.insert(block, time);
    let sender = provider.get_transaction_by_hash(hash).await.ok()??;
    let to = alloy::consensus::Transaction::to(&sender);
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(time);
    let attribution = Attribution {
        block,
        time,
        time_rfc3339: humantime::format_rfc3339_seconds(at).to_string(),
        transaction: hash.to_string(),
        sender: sender.inner.signer().to_string(),
        event: event.split('(').next().unwrap_or(event).to_string(),
    };
    Some((attribution, to))
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
