//! The contract table: the one place that knows the managed contracts.
//!
//! Each managed contract kind is one folder here holding its `sol!` bindings
//! and a [`Kind`]: a declarative table of the fields govstate manages, the
//! getter that reads each one and how its value is shown. The observer and
//! the renderers are generic over this table, so supporting another contract
//! is one new folder and one line in [`KINDS`].

pub mod arena;
pub mod stake_manager;
pub mod system_pause;

mod deployment;
mod show;
mod table;

pub use deployment::{Deployed, Deployment};
pub use show::Shown;
pub use table::*;

/// Every managed contract kind, in the order they are shown and paused.
pub const KINDS: &[&Kind] = &[&system_pause::KIND, &arena::KIND, &stake_manager::KIND];

/// Looks a kind up by its section key in the desired-state file (`arena`).
pub fn kind(key: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|kind| kind.key == key)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use alloy::primitives::{Address, U256};

    use super::*;

    #[test]
    fn kinds_have_unique_keys_and_field_names() {
        let mut kinds = HashSet::new();
        for kind in KINDS {
            assert!(kinds.insert(kind.key), "duplicate kind {}", kind.key);
            let mut keys = HashSet::new();
            let all = kind.fields.iter().map(|f| f.key);
            for key in all.chain(kind.role_sets.iter().map(|r| r.key)) {
                assert!(keys.insert(key), "{}.{key} is listed twice", kind.key);
            }
        }
    }

    #[test]
    fn every_getter_encodes_its_own_selector() {
        for kind in KINDS {
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
        for kind in KINDS {
            for setter in kind.setters {
                for field in setter.fields {
                    assert!(
                        kind.fields.iter().any(|f| f.key == *field),
                        "{}: {} writes unknown {field}",
                        kind.key,
                        setter.function
                    );
                }
                let switch = setter.produces.is_some();
                assert!(
                    !switch || setter.fields.len() == 1,
                    "{}: switch {} must write one field",
                    kind.key,
                    setter.function
                );
            }
            for field in kind.fields {
                let groups =
                    kind.setters.iter().filter(|s| s.produces.is_none() && s.fields.contains(&field.key)).count();
                let switches =
                    kind.setters.iter().filter(|s| s.produces.is_some() && s.fields.contains(&field.key)).count();
                assert!(
                    (groups == 1 && switches == 0) || (groups == 0 && switches == 2),
                    "{}.{} needs exactly one setter group or an on/off pair",
                    kind.key,
                    field.key
                );
            }
        }
    }

    #[test]
    fn every_setter_encodes_its_own_selector() {
        for kind in KINDS {
            for setter in kind.setters {
                let args: Vec<Value> = setter
                    .fields
                    .iter()
                    .map(|key| match kind.field(key).map(|f| f.unit) {
                        Some(Unit::Address) => Value::Address(Address::repeat_byte(1)),
                        Some(Unit::Flag) => Value::Bool(true),
                        _ => Value::Uint(U256::from(1)),
                    })
                    .collect();
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
        for kind in KINDS {
            for setter in kind.setters {
                let pausing = setter.produces == Some(Value::Bool(true));
                assert_eq!(setter.phase == Phase::Pause, pausing, "{}.{}", kind.key, setter.function);
                let transfer = setter.fields == ["owner"] || setter.fields == ["governance"];
                assert_eq!(setter.phase == Phase::Ownership, transfer, "{}.{}", kind.key, setter.function);
            }
        }
    }
}
