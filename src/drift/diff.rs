//! Drift as data: every managed field and role-set member on which the
//! chain and the file disagree. Pure; the table says what is managed.

use std::collections::BTreeSet;

use alloy::primitives::Address;

use super::report::{DriftKind, Drifted};
use crate::contracts::Value;
use crate::observe::{Observed, ObservedContract};
use crate::spec::{Desired, DesiredContract};

/// Every difference between what `desired` manages and what was `observed`,
/// in the file's order: fields first, then role sets, holder by holder. A
/// value the chain keeps in several fields that disagree (a partly paused
/// modules-kind SystemPause) is reported field by field.
pub fn differences(desired: &Desired, observed: &Observed) -> Vec<Drifted> {
    let mut found = Vec::new();
    for wanted in &desired.contracts {
        let key = wanted.deployed.kind.key;
        let seen = observed.contracts.iter().find(|c| c.kind.key == key);
        found.extend(field_differences(wanted, seen));
        for (set, holders) in &wanted.role_sets {
            let empty = BTreeSet::new();
            let chain = seen.and_then(|c| c.role_set(set)).unwrap_or(&empty);
            found.extend(holder_differences(key, set, chain, holders));
        }
    }
    found
}

fn field_differences(wanted: &DesiredContract, seen: Option<&ObservedContract>) -> Vec<Drifted> {
    let contract = wanted.deployed.kind.key;
    let entry = |field: &str, chain: Option<Value>, file: Value| Drifted {
        contract: contract.to_string(),
        field: field.to_string(),
        kind: DriftKind::Value,
        chain: chain.map(|v| v.to_string()),
        file: Some(file.to_string()),
        operation: None,
        last_change: None,
    };
    let mut found = Vec::new();
    for (field, value) in &wanted.fields {
        let chain = seen.and_then(|c| c.field(field));
        if chain == Some(*value) {
            continue;
        }
        match (seen, seen.and_then(|c| c.kind.derived(field))) {
            (Some(seen), Some(derived)) if chain.is_none() => {
                for part in derived.from {
                    let chain = seen.field(part);
                    if chain != Some(*value) {
                        found.push(entry(part, chain, *value));
                    }
                }
            }
            _ => found.push(entry(field, chain, *value)),
        }
    }
    found
}

fn holder_differences(contract: &str, set: &str, chain: &BTreeSet<Address>, file: &BTreeSet<Address>) -> Vec<Drifted> {
    let entry = |kind, holder: &Address| {
        let (chain, file) = match kind {
            DriftKind::HolderAdded => (Some(holder.to_string()), None),
            _ => (None, Some(holder.to_string())),
        };
        Drifted {
            contract: contract.to_string(),
            field: set.to_string(),
            kind,
            chain,
            file,
            operation: None,
            last_change: None,
        }
    };
    let added = chain.difference(file).map(|h| entry(DriftKind::HolderAdded, h));
    let missing = file.difference(chain).map(|h| entry(DriftKind::HolderMissing, h));
    added.chain(missing).collect()
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{B256, U256};

    use super::*;
    use crate::contracts::{Deployed, kind};
    use crate::observe::BlockRef;

    fn arena(fields: Vec<(&'static str, Value)>, orchestrators: &[u8]) -> (Desired, Deployed) {
        let kind = kind("arena").expect("the arena is in the table");
        let deployed = Deployed { kind, address: Address::repeat_byte(9), deployed_block: Some(0) };
        let holders = orchestrators.iter().map(|b| Address::repeat_byte(*b)).collect();
        let contract = DesiredContract { deployed, fields, role_sets: vec![("orchestrators", holders)] };
        (Desired { chain_id: 1, contracts: vec![contract] }, deployed)
    }

    fn observed(deployed: Deployed, paused: bool, orchestrators: &[u8]) -> Observed {
        let kind = deployed.kind;
        let mut fields: Vec<Value> = kind.fields.iter().map(|_| Value::Uint(U256::from(1))).collect();
        if let Some(i) = kind.field_index("paused") {
            fields[i] = Value::Bool(paused);
        }
        let holders = orchestrators.iter().map(|b| Address::repeat_byte(*b)).collect();
        let contract = ObservedContract {
            kind,
            address: deployed.address,
            fields,
            authority: Address::ZERO,
            role_sets: vec![("orchestrators", holders)],
        };
        Observed {
            chain_id: 1,
            block: BlockRef { number: 7, hash: B256::ZERO, timestamp: 0, gas_limit: 0 },
            contracts: vec![contract],
            accounts: vec![],
        }
    }

    #[test]
    fn a_chain_equal_to_the_file_has_no_differences() {
        let (desired, deployed) = arena(vec![("paused", Value::Bool(false))], &[1, 2]);
        assert!(differences(&desired, &observed(deployed, false, &[2, 1])).is_empty());
    }

    #[test]
    fn a_changed_field_reports_chain_and_file_values() {
        let (desired, deployed) = arena(vec![("paused", Value::Bool(false))], &[1]);
        let found = differences(&desired, &observed(deployed, true, &[1]));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].field.as_str(), found[0].kind), ("paused", DriftKind::Value));
        assert_eq!((found[0].chain.as_deref(), found[0].file.as_deref()), (Some("true"), Some("false")));
    }

    #[test]
    fn role_holders_are_reported_as_added_on_chain_or_missing_from_it() {
        let (desired, deployed) = arena(vec![], &[1, 2]);
        let found = differences(&desired, &observed(deployed, false, &[2, 3]));
        let kinds: Vec<(DriftKind, Option<String>, Option<String>)> =
            found.into_iter().map(|d| (d.kind, d.chain, d.file)).collect();
        let one = Address::repeat_byte(1).to_string();
        let three = Address::repeat_byte(3).to_string();
        assert_eq!(
            kinds,
            vec![(DriftKind::HolderAdded, Some(three), None), (DriftKind::HolderMissing, None, Some(one))]
        );
    }

    #[test]
    fn a_partly_paused_system_is_reported_module_by_module() {
        use crate::contracts::Unit;
        use crate::contracts::system_pause::MODULES_KIND;
        let kind = &MODULES_KIND;
        let deployed = Deployed {
            kind: crate::contracts::kind("system_pause").expect("switch"),
            address: Address::ZERO,
            deployed_block: None,
        };
        let wanted = DesiredContract { deployed, fields: vec![("paused", Value::Bool(false))], role_sets: vec![] };
        let desired = Desired { chain_id: 1, contracts: vec![wanted] };
        let mut fields: Vec<Value> = kind
            .fields
            .iter()
            .map(|f| if f.unit == Unit::Flag { Value::Bool(false) } else { Value::Address(Address::repeat_byte(1)) })
            .collect();
        let fee_pool = kind.field_index("paused.fee_pool").expect("a module flag");
        fields[fee_pool] = Value::Bool(true);
        let contract =
            ObservedContract { kind, address: Address::ZERO, fields, authority: Address::ZERO, role_sets: vec![] };
        let observed = Observed {
            chain_id: 1,
            block: BlockRef { number: 1, hash: B256::ZERO, timestamp: 0, gas_limit: 0 },
            contracts: vec![contract],
            accounts: vec![],
        };
        let found = differences(&desired, &observed);
        let fields: Vec<(&str, Option<&str>)> = found.iter().map(|d| (d.field.as_str(), d.chain.as_deref())).collect();
        assert_eq!(fields, [("paused.fee_pool", Some("true"))]);
    }
}
