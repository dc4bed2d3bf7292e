//! The contract table: the one place that knows the managed contracts.
//!
//! Each managed contract kind is one folder here holding its `sol!` bindings
//! and a [`Kind`]: a declarative table of the fields govstate manages, the
//! getter that reads each one and how its value is shown. The observer and
//! the renderers are generic over this table, so supporting another contract
//! is one new folder and one line in [`KINDS`].

pub mod arena;
pub mod safe;
pub mod stake_manager;
pub mod system_pause;
pub mod timelock;

mod deployment;
mod show;
mod table;

pub use deployment::{Deployed, Deployment};
pub use show::Shown;
pub use table::*;

/// The default kind of each section of the file, in the order they are
/// shown and paused.
pub const KINDS: &[&Kind] = &[&system_pause::KIND, &arena::KIND, &stake_manager::KIND];

/// Every kind govstate knows, the defaults first; a section with several
/// kinds (the SystemPause) is told apart on the chain.
pub const ALL_KINDS: &[&Kind] = &[&system_pause::KIND, &arena::KIND, &stake_manager::KIND, &system_pause::MODULES_KIND];

/// Looks the default kind up by its section key in the desired-state file (`arena`).
pub fn kind(key: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|kind| kind.key == key)
}

/// Looks a kind up by its section key and variant (`system_pause`, `modules`).
pub fn kind_of(key: &str, variant: Option<&str>) -> Option<&'static Kind> {
    ALL_KINDS.iter().copied().find(|kind| kind.key == key && kind.variant == variant)
}

/// The kinds a section may be, the most specific first: those that
/// recognise themselves from the chain, then the default.
pub fn candidates(key: &str) -> Vec<&'static Kind> {
    let mut found: Vec<&'static Kind> = ALL_KINDS.iter().copied().filter(|kind| kind.key == key).collect();
    found.sort_by_key(|kind| kind.recognise.is_none());
    found
}

/// The name of a custom error by its selector, looked up in every kind (a
/// module's revert bubbles up through the contract that called it).
pub fn error_name(preferred: Option<&Kind>, selector: [u8; 4]) -> Option<&'static str> {
    let first = preferred.and_then(|kind| (kind.error_signature)(selector));
    let managed = || ALL_KINDS.iter().find_map(|kind| (kind.error_signature)(selector));
    // The authorities on the way revert too: the timelock's own errors
    // (a delay raised, an operation executed by someone else first).
    first
        .or_else(managed)
        .or_else(|| timelock::TimelockController::TimelockControllerErrors::signature_by_selector(selector))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use alloy::primitives::{Address, U256};

    use super::*;

    #[test]
    fn kinds_have_unique_keys_and_field_names() {
        let mut kinds = HashSet::new();
        for kind in ALL_KINDS {
            assert!(kinds.insert((kind.key, kind.variant)), "duplicate kind {}", kind.key);
            let mut keys = HashSet::new();
            let all = kind.fields.iter().map(|f| f.key);
            let derived = kind.derived.iter().map(|d| d.key);
            for key in all.chain(kind.role_sets.iter().map(|r| r.key)).chain(derived) {
                assert!(keys.insert(key), "{}.{key} is listed twice", kind.key);
            }
            for field in kind.fields {
                if let Some(at) = field.at {
                    let holder = kind.field(at).map(|f| (f.unit, f.at));
                    assert_eq!(holder, Some((Unit::Address, None)), "{}.{}: at {at}", kind.key, field.key);
                }
            }
            for derived in kind.derived {
                assert!(derived.from.iter().all(|f| kind.field(f).is_some()), "{}.{}", kind.key, derived.key);
            }
        }
    }

    #[test]
    fn every_section_has_one_fallback_kind_and_the_others_recognise_themselves() {
        for default in KINDS {
            let candidates = candidates(default.key);
            assert_eq!(candidates.last().map(|k| k.variant), Some(default.variant), "{}", default.key);
            assert_eq!(candidates.iter().filter(|k| k.recognise.is_none()).count(), 1, "{}", default.key);
        }
    }

    #[test]
    fn every_getter_encodes_its_own_selector() {
        for kind in ALL_KINDS {
            for field in kind.fields {
                let data = (field.calldata)();
                let selector = alloy::primitives::keccak256(field.getter.as_bytes());
                assert_eq!(&data[..4], &selector[..4], "{}.{}", kind.key, field.key);
            }
            for set in kind.role_sets {
                let data = (set.calldata)(Address::ZERO);
                let selector = alloy::primitives::keccak256(set.getter.as_bytes());
                assert_eq!(&data[..4], &selector[..4], "{}.{}", kind.key, set.key);
            }
        }
    }

    #[test]
    fn every_setter_writes_fields_of_its_own_kind_and_every_field_has_a_setter() {
        for kind in ALL_KINDS {
            for setter in kind.setters {
                for field in setter.fields {
                    assert!(
                        kind.fields.iter().any(|f| f.key == *field) || kind.derived(field).is_some(),
                        "{}: {} writes unknown {field}",
                        kind.key,
                        setter.function
                    );
                }
                for read in setter.reads {
                    assert!(kind.field(read).is_some(), "{}: {} reads unknown {read}", kind.key, setter.function);
                }
            }
            for field in kind.fields {
                let groups =
                    kind.setters.iter().filter(|s| s.produces.is_none() && s.fields.contains(&field.key)).count();
                let on = kind.setters.iter().filter(|s| s.produces == Some(Value::Bool(true)));
                let off = kind.setters.iter().filter(|s| s.produces == Some(Value::Bool(false)));
                let on = on.filter(|s| s.fields.contains(&field.key)).count();
                let off = off.filter(|s| s.fields.contains(&field.key)).count();
                let context = !field.in_file && field.unit == Unit::Address;
                assert!(
                    (groups == 1 && on + off == 0) || (groups == 0 && on >= 1 && on == off) || context,
                    "{}.{} needs exactly one setter group or on/off pairs",
                    kind.key,
                    field.key
                );
            }
        }
    }

    #[test]
    fn every_setter_encodes_its_own_selector() {
        for kind in ALL_KINDS {
            for setter in kind.setters {
                let args: Vec<Value> = setter
                    .fields
                    .iter()
                    .map(|key| match kind.unit_of(key) {
                        Some(Unit::Address) => Value::Address(Address::repeat_byte(1)),
                        Some(Unit::Flag) => Value::Bool(true),
                        _ => Value::Uint(U256::from(1)),
                    })
                    .collect();
                let reads = setter.reads.iter().map(|_| Value::Address(Address::repeat_byte(2)));
                let args: Vec<Value> = reads.chain(args).collect();
                let data = (setter.encode)(&args).expect("encodes");
                let selector = alloy::primitives::keccak256(setter.function.as_bytes());
                assert_eq!(&data[..4], &selector[..4], "{}.{}", kind.key, setter.function);
            }
            for set in kind.role_sets {
                let data = (set.set_calldata)(Address::ZERO, true);
                let selector = alloy::primitives::keccak256(set.setter.as_bytes());
                assert_eq!(&data[..4], &selector[..4], "{}.{}", kind.key, set.setter);
            }
        }
    }

    #[test]
    fn pausing_is_the_only_pause_phase_and_transfers_the_only_ownership_phase() {
        for kind in ALL_KINDS {
            for setter in kind.setters {
                let pausing = setter.produces == Some(Value::Bool(true));
                assert_eq!(setter.phase == Phase::Pause, pausing, "{}.{}", kind.key, setter.function);
                let transfer = setter.fields == ["owner"] || setter.fields == ["governance"];
                assert_eq!(setter.phase == Phase::Ownership, transfer, "{}.{}", kind.key, setter.function);
            }
        }
    }
}
