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
use crate::contracts::{ALL_KINDS, Kind, Value, candidates};

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

/// Each contract's authority getter (owner or governance), asked at the
/// latest block so that the authorities can be recognised in the pinned
/// read; the same getter serves every kind of a section.
pub fn authority_probes(contracts: &[ScopeContract]) -> Vec<Read> {
    let mut reads = Vec::new();
    for contract in contracts {
        let (to, kind) = (contract.deployed.address, contract.deployed.kind);
        reads.push(Read { to, data: (kind.authority.calldata)() });
        // Holders of roles a setter also accepts (StakeManager's pauser).
        let also = kind.setters.iter().filter_map(|s| s.also_allowed).filter_map(|key| kind.field(key));
        let mut seen = Vec::new();
        for field in also.filter(|f| f.unit == crate::contracts::Unit::Address) {
            if !seen.contains(&field.key) {
                seen.push(field.key);
                reads.push(Read { to, data: (field.calldata)() });
            }
        }
    }
    reads
}

/// The distinct accounts the authority probes named, in order (the zero
/// address, an unset role, left out).
pub fn authorities(answers: &[ReadResult]) -> Vec<Address> {
    let mut out = Vec::new();
    for answer in answers.iter().flatten() {
        if let Ok(address) = alloy::sol_types::SolValue::abi_decode(answer)
            && !out.contains(&address)
            && address != Address::ZERO
        {
            out.push(address);
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

/// For an authority account: each managed kind that forwards governance
/// calls, with the reads that would recognise the account as one.
pub fn forwarder_probes(to: Address) -> Vec<(&'static Kind, Vec<Read>)> {
    let forwarding = ALL_KINDS.iter().copied().filter(|k| k.forwarder.is_some() && k.recognise.is_some());
    forwarding.map(|kind| (kind, address_fields(kind).map(|f| Read { to, data: (f.calldata)() }).collect())).collect()
}

/// The target `kind` makes of an account, when the probe's answers
/// recognise it as one.
pub fn recognise_as(kind: &'static Kind, answers: &[ReadResult]) -> Option<Target> {
    recognised(kind, answers).map(|at| Target { kind, at })
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

/// The probes with only the first read of each kind's, for the contracts
/// in `first_only` (see `hints.rs`): enough to prove a contract is not
/// that kind.
pub fn first_probes_only(
    contracts: &[ScopeContract],
    mut probes: Vec<(usize, &'static Kind, Vec<Read>)>,
    first_only: &std::collections::BTreeSet<Address>,
) -> Vec<(usize, &'static Kind, Vec<Read>)> {
    for (index, _, reads) in probes.iter_mut() {
        if contracts.get(*index).is_some_and(|c| first_only.contains(&c.deployed.address)) {
            reads.truncate(1);
        }
    }
    probes
}

/// Whether a probe's first answer is recognised as its kind (where only
/// the first was asked, the full probe is needed to tell).
pub fn first_recognised(kind: &'static Kind, answers: &[ReadResult]) -> bool {
    let first = answers.first().and_then(|a| a.as_ref().ok());
    matches!((kind.recognise, first), (Some(recognise), Some(first)) if recognise(first))
}

/// What the authority probes of `contracts` would have answered, given each
/// one's fields and authority as read: the accounts [`authorities`] makes
/// of them, in order; `None` when a probed field is not among what was read
/// at the contract's own address.
pub fn authorities_as_read(contracts: &[ScopeContract], observed: &[super::ObservedContract]) -> Option<Vec<Address>> {
    let mut out = Vec::new();
    let push = |out: &mut Vec<Address>, address: Address| {
        if !address.is_zero() && !out.contains(&address) {
            out.push(address);
        }
    };
    for (contract, observed) in contracts.iter().zip(observed) {
        push(&mut out, observed.authority);
        let kind = contract.deployed.kind;
        let also = kind.setters.iter().filter_map(|s| s.also_allowed).filter_map(|key| kind.field(key));
        for field in also.filter(|f| f.unit == crate::contracts::Unit::Address) {
            let own = observed.kind.field(field.key).is_some_and(|f| f.at.is_none());
            match observed.field(field.key) {
                Some(Value::Address(address)) if own => push(&mut out, address),
                _ => return None,
            }
        }
    }
    Some(out)
}
