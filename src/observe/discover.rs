//! Which kind each contract is, and where the contracts it reads through
//! live (the modules of a modules-kind SystemPause).
//!
//! Probes ride along with the first round trip, at the latest block: for a
//! section with several kinds, the getters of each recognisable kind's
//! address fields. The third round trip reads those fields again at the
//! pinned block; if they moved in between, it is read once more.

use std::collections::BTreeMap;

use alloy::primitives::Address;

use super::ScopeContract;
use super::read::{Read, ReadResult};
use crate::contracts::{Kind, Value, candidates};

/// What one contract turned out to be.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its kind, recognised on the chain.
    pub kind: &'static Kind,
    /// The addresses its `at` fields are read at, by address field key.
    pub at: BTreeMap<&'static str, Address>,
}

/// The probes for every contract, in order, with each probe's owner: the
/// contract's index and the kind it would prove.
pub fn probes(contracts: &[ScopeContract]) -> Vec<(usize, &'static Kind, Vec<Read>)> {
    let mut out = Vec::new();
    for (index, contract) in contracts.iter().enumerate() {
        for kind in candidates(contract.deployed.kind.key).into_iter().filter(|k| k.recognise.is_some()) {
            let to = contract.deployed.address;
            let reads = address_fields(kind).map(|f| Read { to, data: (f.calldata)() }).collect();
            out.push((index, kind, reads));
        }
    }
    out
}

/// The own address fields other fields are read at, in table order.
fn address_fields(kind: &'static Kind) -> impl Iterator<Item = &'static crate::contracts::Field> {
    kind.own_fields().filter(move |f| kind.fields.iter().any(|other| other.at == Some(f.key)))
}

/// Every contract's target, from the probes' answers: the first kind whose
/// probes all answer and whose first answer it recognises, else the
/// section's default kind.
pub fn targets(
    contracts: &[ScopeContract],
    probes: &[(usize, &'static Kind, Vec<Read>)],
    answers: &[Vec<ReadResult>],
) -> Vec<Target> {
    let mut found: Vec<Option<Target>> = vec![None; contracts.len()];
    for ((index, kind, _), answers) in probes.iter().zip(answers) {
        if found[*index].is_some() {
            continue;
        }
        if let Some(at) = recognised(kind, answers) {
            found[*index] = Some(Target { kind, at });
        }
    }
    contracts
        .iter()
        .zip(found)
        .map(|(c, found)| found.unwrap_or_else(|| Target { kind: c.deployed.kind, at: BTreeMap::new() }))
        .collect()
}

fn recognised(kind: &'static Kind, answers: &[ReadResult]) -> Option<BTreeMap<&'static str, Address>> {
    let recognise = kind.recognise?;
    let first = answers.first()?.as_ref().ok()?;
    if !recognise(first) {
        return None;
    }
    let mut at = BTreeMap::new();
    for (field, answer) in address_fields(kind).zip(answers) {
        match (field.decode)(answer.as_ref().ok()?) {
            Ok(Value::Address(address)) => at.insert(field.key, address),
            _ => return None,
        };
    }
    Some(at)
}

/// Takes the address fields as read at the pinned block; true when one
/// differs from what the probe found (they moved between the two reads).
pub fn settle(target: &mut Target, fields: &[Value]) -> bool {
    let mut moved = false;
    for (key, address) in target.at.iter_mut() {
        let pinned = target.kind.field_index(key).and_then(|i| fields.get(i));
        if let Some(Value::Address(pinned)) = pinned
            && pinned != address
        {
            *address = *pinned;
            moved = true;
        }
    }
    moved
}
