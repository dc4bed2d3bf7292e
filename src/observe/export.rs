//! The observed state written as a desired-state file: what `govstate devnet`
//! writes, and a file that, applied, changes nothing.

use serde_yaml::{Mapping, Value as Yaml};

use super::{Observed, ObservedContract};
use crate::contracts::{Deployment, Kind, Unit, Value};
use crate::spec::{Amount, Desired, Duration, load_str};

/// Renders `observed` as a desired-state file (YAML) for `deployment`, with
/// every managed field and role set written out.
///
/// A value the file format rejects as a desired state (the arena's initial
/// 10000/10000/10000 splits, which `setRewardSplits` itself refuses) is left
/// out, with a comment saying why, so the file stays valid and applying it
/// changes nothing.
pub fn desired_state_yaml(observed: &Observed, deployment: &Deployment, header: &str) -> String {
    let mut root = observed_mapping(observed, deployment);
    let mut left_out = mixed(observed);
    let mut notes: Vec<String> = observed
        .covered_elsewhere()
        .iter()
        .map(|(contract, field)| {
            format!("# {contract}.{field} is not written: another contract's key covers the same on-chain value\n")
        })
        .collect();
    notes.sort();
    let header = format!("{header}{}", notes.concat());
    let header = header.as_str();
    for _ in 0..MAX_LEFT_OUT {
        let text = serde_yaml::to_string(&Yaml::Mapping(root.clone())).unwrap_or_default();
        let error = match load_str(&text, "the observed state") {
            Ok(spec) => return format!("{header}{}{}", comments(&left_out), spec.to_yaml()),
            Err(error) => error,
        };
        let mut removed = false;
        for diagnostic in error.diagnostics() {
            let key = diagnostic.path.split('[').next().unwrap_or_default().to_string();
            if remove_path(&mut root, &key) {
                left_out.push(format!("{key}: {}", diagnostic.message));
                removed = true;
            }
        }
        if !removed {
            break;
        }
    }
    // Unreachable for the managed contracts; still better than nothing.
    format!("{header}{}", serde_yaml::to_string(&Yaml::Mapping(root)).unwrap_or_default())
}

/// At most this many keys are ever left out of a written file.
const MAX_LEFT_OUT: usize = 8;

/// Derived values whose fields disagree (a partly paused system): no single
/// value says it, so the key is left out.
fn mixed(observed: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    for contract in &observed.contracts {
        for derived in contract.kind.derived.iter().filter(|d| contract.field(d.key).is_none()) {
            let values: Vec<Option<Value>> = derived.from.iter().map(|f| contract.field(f)).collect();
            let of = derived.from.len();
            let line = if values.iter().all(|v| matches!(v, Some(Value::Bool(_)))) {
                let on = values.iter().filter(|v| **v == Some(Value::Bool(true))).count();
                format!("{}.{}: partly ({on} of {of} true on chain)", contract.kind.key, derived.key)
            } else {
                format!("{}.{}: its {of} fields disagree on chain", contract.kind.key, derived.key)
            };
            out.push(line);
        }
    }
    out
}

fn comments(left_out: &[String]) -> String {
    left_out.iter().map(|line| format!("# Left out, not a valid desired state: {line}\n")).collect()
}

fn observed_mapping(observed: &Observed, deployment: &Deployment) -> Mapping {
    let mut root = Mapping::new();
    root.insert("version".into(), 1.into());
    root.insert("chain_id".into(), observed.chain_id.into());
    let mut contracts = Mapping::new();
    for deployed in &deployment.contracts {
        let mut entry = Mapping::new();
        entry.insert("address".into(), deployed.address.to_checksum(None).into());
        if let (Some(block), true) = (deployed.deployed_block, !deployed.kind.role_sets.is_empty()) {
            entry.insert("deployed_block".into(), block.into());
        }
        contracts.insert(deployed.kind.key.into(), entry.into());
    }
    root.insert("contracts".into(), contracts.into());
    let covered = observed.covered_elsewhere();
    for contract in &observed.contracts {
        let mut section = section(contract);
        for (_, field) in covered.iter().filter(|(c, _)| *c == contract.kind.key) {
            remove_path(&mut section, field);
        }
        root.insert(contract.kind.key.into(), section.into());
    }
    root
}

/// Removes the key at a dotted path; true when there was one.
fn remove_path(map: &mut Mapping, path: &str) -> bool {
    match path.split_once('.') {
        None => map.remove(path).is_some(),
        Some((head, rest)) => match map.get_mut(head) {
            Some(Yaml::Mapping(child)) => remove_path(child, rest),
            _ => false,
        },
    }
}

/// The keys `desired` manages, as YAML: first as observed on the chain, then
/// as the file wants them. Both have the same shape, ready to diff.
pub fn managed_yaml(desired: &Desired, observed: &Observed) -> (String, String) {
    let (mut chain, mut file) = (Mapping::new(), Mapping::new());
    for wanted in &desired.contracts {
        let kind = wanted.deployed.kind;
        let Some(seen) = observed.contracts.iter().find(|c| c.kind.key == kind.key) else {
            continue;
        };
        let (mut on_chain, mut in_file) = (Mapping::new(), Mapping::new());
        for (key, value) in &wanted.fields {
            let unit = unit_of(kind, key);
            insert_path(&mut in_file, key, scalar(*value, unit));
            if let Some(seen) = seen.field(key) {
                insert_path(&mut on_chain, key, scalar(seen, unit));
            }
        }
        for (key, holders) in &wanted.role_sets {
            insert_path(&mut in_file, key, addresses(holders));
            insert_path(&mut on_chain, key, addresses(seen.role_set(key).unwrap_or(&Default::default())));
        }
        chain.insert(kind.key.into(), on_chain.into());
        file.insert(kind.key.into(), in_file.into());
    }
    let text = |map: Mapping| serde_yaml::to_string(&Yaml::Mapping(map)).unwrap_or_default();
    (text(chain), text(file))
}

fn unit_of(kind: &Kind, key: &str) -> Unit {
    kind.field(key).map_or(Unit::Count, |f| f.unit)
}

fn addresses<'a>(holders: impl IntoIterator<Item = &'a alloy::primitives::Address>) -> Yaml {
    Yaml::Sequence(holders.into_iter().map(|a| Yaml::from(a.to_checksum(None))).collect())
}

fn section(contract: &ObservedContract) -> Mapping {
    let mut section = Mapping::new();
    for (field, value) in contract.kind.fields.iter().zip(&contract.fields).filter(|(f, _)| f.in_file) {
        insert_path(&mut section, field.key, scalar(*value, field.unit));
    }
    for derived in contract.kind.derived {
        if let Some(value) = contract.field(derived.key) {
            let unit = derived.from.first().and_then(|f| contract.kind.field(f)).map_or(Unit::Flag, |f| f.unit);
            insert_path(&mut section, derived.key, scalar(value, unit));
        }
    }
    for (set, holders) in &contract.role_sets {
        insert_path(&mut section, set, addresses(holders));
    }
    section
}

/// Inserts `value` at a dotted key path, creating the mappings on the way.
fn insert_path(map: &mut Mapping, path: &str, value: Yaml) {
    match path.split_once('.') {
        None => {
            map.insert(path.into(), value);
        }
        Some((head, rest)) => {
            let child = map.entry(head.into()).or_insert_with(|| Mapping::new().into());
            if let Yaml::Mapping(child) = child {
                insert_path(child, rest, value);
            }
        }
    }
}

/// A value as the file writes it: amounts and durations through the spec's
/// own types (`150 ether`, `7d`), so the two never disagree.
fn scalar(value: Value, unit: Unit) -> Yaml {
    match value {
        Value::Bool(b) => b.into(),
        Value::Address(a) => a.to_checksum(None).into(),
        Value::Uint(n) => match (unit, u64::try_from(n)) {
            (Unit::Amount, _) => serde_yaml::to_value(Amount(n)).unwrap_or_else(|_| n.to_string().into()),
            (Unit::Seconds, Ok(seconds)) => serde_yaml::to_value(Duration(seconds)).unwrap_or_else(|_| seconds.into()),
            (_, Ok(small)) => small.into(),
            // YAML parsers read integers past u64 as floats: write the digits.
            (_, Err(_)) => n.to_string().into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;

    use super::*;

    #[test]
    fn amounts_and_durations_are_written_the_way_the_spec_writes_them() {
        let ether = U256::from(150u128 * 1_000_000_000_000_000_000);
        assert_eq!(scalar(Value::Uint(ether), Unit::Amount), Yaml::from("150 ether"));
        assert_eq!(scalar(Value::Uint(U256::from(604_800)), Unit::Seconds), Yaml::from("7d"));
        assert_eq!(scalar(Value::Uint(U256::from(7)), Unit::Count), Yaml::from(7u64));
        assert_eq!(scalar(Value::Uint(U256::MAX), Unit::Count), Yaml::from(U256::MAX.to_string()));
    }

    #[test]
    fn dotted_keys_become_nested_mappings() {
        let mut map = Mapping::new();
        insert_path(&mut map, "rewards.teacher", 1.into());
        insert_path(&mut map, "rewards.student", 2.into());
        let text = serde_yaml::to_string(&map).unwrap_or_default();
        assert_eq!(text, "rewards:\n  teacher: 1\n  student: 2\n");
    }
}
