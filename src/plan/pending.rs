//! Pending timelock operations, judged by the file's scope like every
//! other field: each call is decoded through the contract table (a
//! forwarding call to what it carries), and the operation is *stale* only
//! when it would set a field the file manages to another value than the
//! file's, or is an earlier govstate batch of the same change, outdated. One
//! that touches nothing the file manages is out of scope: shown, never a
//! reason to refuse, never cancelled.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use serde::{Deserialize, Serialize};

use super::{ChangeKind, DesiredRecord};
use crate::contracts::{Kind, Setter, Unit, Value, timelock};
use crate::observe::{Observed, ObservedContract, Operation};

/// What a pending operation would do to what the file manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationScope {
    /// The plan's own batch, scheduled.
    Ours,
    /// It would set a managed field to another value than the file's, or it
    /// is an earlier govstate batch for managed fields that this plan
    /// replaces: `--cancel-stale` cancels it, and no new batch is scheduled
    /// beside it.
    Stale,
    /// It sets managed fields, to the file's values only.
    Converges,
    /// It touches nothing the file manages.
    OutOfScope,
    /// A call to a contract the file manages that the contract table cannot
    /// decode: shown, for people to judge; never cancelled by govstate.
    Unknown,
}

impl OperationScope {
    /// The scope's name as shown.
    pub fn name(self) -> &'static str {
        match self {
            OperationScope::Ours => "this plan's batch",
            OperationScope::Stale => "stale",
            OperationScope::Converges => "converges toward the file",
            OperationScope::OutOfScope => "out of the file's scope",
            OperationScope::Unknown => "not decodable",
        }
    }
}

/// One effect of a pending operation's call, in the table's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effect {
    /// Section key of the contract changed.
    pub contract: String,
    /// Key path of the field (or role set).
    pub field: String,
    /// Set, add or remove.
    pub kind: ChangeKind,
    /// The value set (the address added or removed, for a role set).
    pub value: Value,
}

/// What an operation does, decoded, and how it stands to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// Its scope.
    pub scope: OperationScope,
    /// What its calls set, in call order.
    pub effects: Vec<Effect>,
    /// Targets of calls that could not be decoded.
    pub undecoded: Vec<Address>,
}

/// Judges `operation` against what the file asks (`desired`) on the chain
/// as `observed`. `ours` is the plan's own batches' operation ids.
pub fn judge(operation: &Operation, desired: &[DesiredRecord], observed: &Observed, ours: &[B256]) -> Judged {
    let mut effects = Vec::new();
    let mut undecoded = Vec::new();
    for (target, _, data) in &operation.calls {
        match decode_call(observed, *target, data, 0) {
            Some(found) => effects.extend(found),
            None => undecoded.push(*target),
        }
    }
    let verdicts: Vec<Option<bool>> = effects.iter().map(|e| agrees(e, desired, observed)).collect();
    let unknown_managed = undecoded.iter().any(|t| managed_at(*t, desired, observed));
    let scope = if ours.contains(&operation.id) {
        OperationScope::Ours
    } else if verdicts.contains(&Some(false)) || (verdicts.contains(&Some(true)) && made_by_govstate(operation)) {
        // It moves a managed field away from the file, or it is an earlier
        // govstate batch for what this plan now does.
        OperationScope::Stale
    } else if unknown_managed {
        OperationScope::Unknown
    } else if verdicts.contains(&Some(true)) {
        OperationScope::Converges
    } else {
        OperationScope::OutOfScope
    };
    Judged { scope, effects, undecoded }
}

/// The effects of one call to `target`, or `None` when `target` is a
/// contract govstate reads but the call is none the table knows. A call to
/// an address govstate does not read has no effect it manages.
fn decode_call(observed: &Observed, target: Address, data: &[u8], depth: u8) -> Option<Vec<Effect>> {
    let Some(contract) = observed.contracts.iter().find(|c| c.address == target) else {
        return Some(Vec::new());
    };
    let kind = contract.kind;
    let forwarded = kind.forwarder.as_ref().and_then(|f| (f.decode)(data)).filter(|_| depth < 4);
    if let Some((inner, carried)) = &forwarded
        && observed.contracts.iter().any(|c| c.address == *inner)
    {
        return decode_call(observed, *inner, carried, depth + 1);
    }
    let selector = data.get(..4)?;
    let known = kind.setters.iter().chain(kind.other_setters);
    for setter in known.filter(|s| keccak256(s.function.as_bytes())[..4] == *selector) {
        if let Some(effects) = setter_effects(contract, setter, data) {
            return Some(effects);
        }
    }
    if forwarded.is_some() {
        // Forwarded to a contract govstate does not read, in no way the
        // forwarder's own fields see: nothing the file can manage.
        return Some(Vec::new());
    }
    for set in kind.role_sets.iter().filter(|s| keccak256(s.setter.as_bytes())[..4] == *selector) {
        let words = words(data)?;
        let (Some(account), Some(allowed)) = (words.first(), words.get(1)) else { continue };
        let account = Address::from_word(B256::from(*account));
        let allowed = *allowed == U256::from(1u8).to_be_bytes::<32>();
        if (set.set_calldata)(account, allowed) == data {
            let kind = if allowed { ChangeKind::Add } else { ChangeKind::Remove };
            let effect =
                Effect { contract: key(contract), field: set.key.to_string(), kind, value: Value::Address(account) };
            return Some(vec![effect]);
        }
    }
    None
}

/// The fields `setter` sets when called with exactly `data`: its
/// arguments decoded word by word by the fields' units, re-encoded and
/// compared (a switch: its call data for the contract's current reads).
fn setter_effects(contract: &ObservedContract, setter: &Setter, data: &[u8]) -> Option<Vec<Effect>> {
    let kind = contract.kind;
    let reads: Vec<Value> = setter.reads.iter().map(|r| contract.field(r)).collect::<Option<_>>()?;
    let set = |field: &str, value: Value| Effect {
        contract: key(contract),
        field: field.to_string(),
        kind: ChangeKind::Set,
        value,
    };
    if let Some(value) = setter.produces {
        let encoded = (setter.encode)(&reads).ok()?;
        return (encoded == data).then(|| setter.fields.iter().map(|f| set(f, value)).collect());
    }
    let words = words(data)?;
    if words.len() != reads.len() + setter.fields.len() {
        return None;
    }
    let mut args = reads.clone();
    for (field, word) in setter.fields.iter().zip(words.iter().skip(reads.len())) {
        args.push(as_value(unit_of(kind, field), word)?);
    }
    let encoded = (setter.encode)(&args).ok()?;
    if encoded != data {
        return None;
    }
    Some(setter.fields.iter().zip(args.iter().skip(reads.len())).map(|(f, v)| set(f, *v)).collect())
}

fn key(contract: &ObservedContract) -> String {
    contract.kind.key.to_string()
}

/// The unit of a field or derived key (a derived key: its first field's).
fn unit_of(kind: &Kind, key: &str) -> Unit {
    let first = kind.derived(key).and_then(|d| d.from.first().copied()).unwrap_or(key);
    kind.field(first).map_or(Unit::Count, |f| f.unit)
}

/// A word as a value of `unit`, when it is one (an address's high bytes
/// zero, a flag 0 or 1).
fn as_value(unit: Unit, word: &[u8; 32]) -> Option<Value> {
    match unit {
        Unit::Address => word[..12].iter().all(|b| *b == 0).then(|| Value::Address(Address::from_word((*word).into()))),
        Unit::Flag => match U256::from_be_bytes(*word) {
            n if n.is_zero() => Some(Value::Bool(false)),
            n if n == U256::from(1u8) => Some(Value::Bool(true)),
            _ => None,
        },
        _ => Some(Value::Uint(U256::from_be_bytes(*word))),
    }
}

/// The static arguments of a call, 32 bytes each, after the selector.
fn words(data: &[u8]) -> Option<Vec<[u8; 32]>> {
    let body = data.get(4..)?;
    if body.len() % 32 != 0 {
        return None;
    }
    Some(body.chunks_exact(32).filter_map(|w| <[u8; 32]>::try_from(w).ok()).collect())
}

/// Whether `effect` agrees with the file: `Some(true)` when it sets a
/// managed value to the file's, `Some(false)` to another, `None` when the
/// file does not manage what it sets. Values read through two keys (a
/// module's `paused()` under the SystemPause and under StakeManager) are
/// compared where they live on chain.
fn agrees(effect: &Effect, desired: &[DesiredRecord], observed: &Observed) -> Option<bool> {
    if effect.kind != ChangeKind::Set {
        let holders = desired.iter().find(|d| d.contract == effect.contract)?.role_sets.get(&effect.field)?;
        let Value::Address(account) = effect.value else { return None };
        return Some(holders.contains(&account) == (effect.kind == ChangeKind::Add));
    }
    let wanted = wanted_locations(desired, observed);
    let mut verdict = None;
    for place in places(observed, &effect.contract, &effect.field) {
        for (at, value) in wanted.iter().filter(|(at, _)| *at == place) {
            let _ = at;
            if *value != effect.value {
                return Some(false);
            }
            verdict = Some(true);
        }
    }
    verdict
}

/// Where on chain a key lives: (address called, getter data), one per
/// field it stands for.
fn places(observed: &Observed, contract: &str, key: &str) -> Vec<(Address, Vec<u8>)> {
    let Some(seen) = observed.contracts.iter().find(|c| c.kind.key == contract) else {
        return Vec::new();
    };
    let fields: Vec<&str> = match seen.kind.derived(key) {
        Some(derived) => derived.from.to_vec(),
        None => vec![key],
    };
    let locations = observed.locations();
    fields
        .iter()
        .filter_map(|f| locations.iter().find(|l| l.contract == contract && l.field == *f))
        .map(|l| (l.address, l.calldata.clone()))
        .collect()
}

/// Every value the file asks for, by where it lives on chain.
fn wanted_locations(desired: &[DesiredRecord], observed: &Observed) -> Vec<((Address, Vec<u8>), Value)> {
    let mut out = Vec::new();
    for record in desired {
        for field in &record.fields {
            for place in places(observed, &record.contract, &field.key) {
                out.push((place, field.value));
            }
        }
    }
    out
}

/// True when `target` is a contract whose section the file writes.
fn managed_at(target: Address, desired: &[DesiredRecord], observed: &Observed) -> bool {
    let Some(seen) = observed.contracts.iter().find(|c| c.address == target) else {
        return false;
    };
    desired.iter().any(|d| d.contract == seen.kind.key && (!d.fields.is_empty() || !d.role_sets.is_empty()))
}

/// True when the operation's salt is one govstate derives from its batch:
/// an earlier plan's batch.
fn made_by_govstate(operation: &Operation) -> bool {
    let (targets, payloads): (Vec<Address>, Vec<Bytes>) =
        operation.calls.iter().map(|(t, _, d)| (*t, d.clone())).unzip();
    (0..8).any(|n| timelock::salt(&targets, &payloads, n) == operation.salt)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, B256, Bytes, U256};
    use alloy::sol_types::SolCall;

    use super::*;
    use crate::contracts::stake_manager::{KIND, StakeManager};
    use crate::observe::{BlockRef, ObservedContract, OperationState};
    use crate::plan::DesiredField;

    const STAKE: Address = Address::repeat_byte(0x5a);

    /// A StakeManager as a fresh devnet has it: every field zero but the
    /// minimum stake and the unbonding period.
    fn observed() -> Observed {
        let mut fields: Vec<Value> = KIND
            .fields
            .iter()
            .map(|f| match f.unit {
                Unit::Address => Value::Address(Address::ZERO),
                Unit::Flag => Value::Bool(false),
                _ => Value::Uint(U256::ZERO),
            })
            .collect();
        if let Some(i) = KIND.field_index("unbonding_period") {
            fields[i] = Value::Uint(U256::from(604_800));
        }
        let contract =
            ObservedContract { kind: &KIND, address: STAKE, fields, authority: Address::ZERO, role_sets: vec![] };
        let block = BlockRef { number: 1, hash: B256::ZERO, timestamp: 0, gas_limit: 0 };
        Observed { chain_id: 31337, block, contracts: vec![contract], accounts: vec![] }
    }

    fn wants_fee(fee: u64) -> Vec<DesiredRecord> {
        let field = DesiredField { key: "fees_pct.fee".to_string(), value: Value::Uint(U256::from(fee)) };
        vec![DesiredRecord {
            contract: "stake_manager".to_string(),
            fields: vec![field],
            role_sets: Default::default(),
        }]
    }

    fn operation(data: Vec<u8>, salt: B256) -> Operation {
        let calls = vec![(STAKE, U256::ZERO, Bytes::from(data))];
        Operation {
            id: B256::repeat_byte(1),
            calls,
            predecessor: B256::ZERO,
            salt,
            state: OperationState::Waiting,
            ready_at: 1,
            scheduled_in: None,
        }
    }

    fn fee(pct: u64) -> Vec<u8> {
        StakeManager::setFeePctCall { pct: U256::from(pct) }.abi_encode()
    }

    #[test]
    fn an_operation_setting_a_managed_field_elsewhere_is_stale_and_its_effect_decoded() {
        let judged = judge(&operation(fee(83), B256::repeat_byte(7)), &wants_fee(4), &observed(), &[]);
        assert_eq!(judged.scope, OperationScope::Stale);
        assert_eq!(judged.effects.len(), 1);
        assert_eq!(
            (judged.effects[0].field.as_str(), judged.effects[0].value),
            ("fees_pct.fee", Value::Uint(U256::from(83)))
        );
    }

    #[test]
    fn a_foreign_operation_setting_the_files_own_value_converges_and_an_earlier_govstate_batch_is_stale() {
        let foreign = judge(&operation(fee(4), B256::repeat_byte(7)), &wants_fee(4), &observed(), &[]);
        assert_eq!(foreign.scope, OperationScope::Converges);
        let data = fee(4);
        let salt = timelock::salt(&[STAKE], &[Bytes::from(data.clone())], 0);
        let earlier = judge(&operation(data, salt), &wants_fee(4), &observed(), &[]);
        assert_eq!(earlier.scope, OperationScope::Stale, "an earlier batch of govstate's, which this plan replaces");
    }

    #[test]
    fn an_operation_on_fields_the_file_leaves_alone_is_out_of_scope_and_ours_is_ours() {
        let min = StakeManager::setMinStakeCall { minStake_: U256::from(7) }.abi_encode();
        let judged = judge(&operation(min, B256::repeat_byte(7)), &wants_fee(4), &observed(), &[]);
        assert_eq!(judged.scope, OperationScope::OutOfScope);
        assert_eq!(judged.effects[0].field, "min_stake", "decoded through a setter govstate never plans");
        let ours = judge(&operation(fee(4), B256::repeat_byte(7)), &wants_fee(4), &observed(), &[B256::repeat_byte(1)]);
        assert_eq!(ours.scope, OperationScope::Ours);
    }

    #[test]
    fn a_call_that_does_not_decode_is_unknown_only_on_a_managed_contract() {
        let garbage = judge(&operation(vec![0xde, 0xad, 0xbe, 0xef], B256::ZERO), &wants_fee(4), &observed(), &[]);
        assert_eq!((garbage.scope, garbage.undecoded.as_slice()), (OperationScope::Unknown, [STAKE].as_slice()));
        // Arguments that do not re-encode the same (a bool of 2) are no decoding.
        let mut bad = StakeManager::setValidatorLockManagerCall { manager: STAKE, allowed: true }.abi_encode();
        if let Some(last) = bad.last_mut() {
            *last = 2;
        }
        let judged = judge(&operation(bad, B256::ZERO), &wants_fee(4), &observed(), &[]);
        assert_eq!(judged.scope, OperationScope::Unknown);
        let elsewhere = Operation {
            calls: vec![(Address::repeat_byte(9), U256::ZERO, Bytes::from(fee(83)))],
            ..operation(vec![], B256::ZERO)
        };
        assert_eq!(judge(&elsewhere, &wants_fee(4), &observed(), &[]).scope, OperationScope::OutOfScope);
    }
}
