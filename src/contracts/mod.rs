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

use std::fmt;

use alloy::primitives::{Address, B256, U256, utils::format_ether};
use alloy::sol_types::SolCall;

/// Every managed contract kind, in the order they are shown and paused.
pub const KINDS: &[&Kind] = &[&system_pause::KIND, &arena::KIND, &stake_manager::KIND];

/// Looks a kind up by its section key in the desired-state file (`arena`).
pub fn kind(key: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|kind| kind.key == key)
}

/// One managed contract kind: what it is called and which fields it has.
#[derive(Debug)]
pub struct Kind {
    /// Section key in the desired-state file, e.g. `stake_manager`.
    pub key: &'static str,
    /// Solidity contract name, e.g. `StakeManager`.
    pub name: &'static str,
    /// Scalar fields, each read by one getter call.
    pub fields: &'static [Field],
    /// Address sets stored in a mapping, listed from events.
    pub role_sets: &'static [RoleSet],
    /// Creation code with constructor arguments, for the devnet: the
    /// argument is the address that owns or governs the new contract.
    pub creation_code: fn(Address) -> Vec<u8>,
}

/// Where one managed contract lives.
#[derive(Debug, Clone, Copy)]
pub struct Deployed {
    /// Which kind of contract it is.
    pub kind: &'static Kind,
    /// Its address.
    pub address: Address,
    /// The block it was deployed in, when known: role holders are listed
    /// from there on.
    pub deployed_block: Option<u64>,
}

/// The managed contracts of one deployment on one chain.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The chain they are deployed on.
    pub chain_id: u64,
    /// One entry per managed contract, in [`KINDS`] order.
    pub contracts: Vec<Deployed>,
}

impl Deployment {
    /// The address of the contract of the given kind, if it is managed.
    pub fn address_of(&self, key: &str) -> Option<Address> {
        self.contracts
            .iter()
            .find(|c| c.kind.key == key)
            .map(|c| c.address)
    }
}

/// How a field's value is meant, which decides how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A yes/no switch.
    Flag,
    /// An account or contract address.
    Address,
    /// A token amount in base units (wei).
    Amount,
    /// A plain count.
    Count,
    /// Basis points (1/10000).
    Bps,
    /// Percent.
    Percent,
    /// A duration in seconds.
    Seconds,
}

/// A field's value as read from the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// A `bool` getter.
    Bool(bool),
    /// An `address` getter.
    Address(Address),
    /// Any unsigned integer getter, widened to `uint256`.
    Uint(U256),
}

/// One scalar field of a contract and the getter that reads it.
#[derive(Debug)]
pub struct Field {
    /// Key path inside the contract's section, e.g. `rewards.teacher`.
    pub key: &'static str,
    /// Solidity getter, for people: `baseTeacherReward()`.
    pub getter: &'static str,
    /// How the value is meant.
    pub unit: Unit,
    /// ABI-encoded getter call.
    pub calldata: fn() -> Vec<u8>,
    /// Decodes the getter's return data.
    pub decode: fn(&[u8]) -> Result<Value, alloy::sol_types::Error>,
}

impl Field {
    /// A field read by the argument-less getter `C`.
    pub const fn of<C: Getter>(key: &'static str, unit: Unit) -> Field {
        Field {
            key,
            getter: C::SIGNATURE,
            unit,
            calldata: encode_default::<C>,
            decode: C::decode_value,
        }
    }
}

/// An address set kept in a `mapping(address => bool)`: its holders can only
/// be listed from the event that every change emits, then confirmed one by
/// one with the getter.
#[derive(Debug)]
pub struct RoleSet {
    /// Key inside the contract's section, e.g. `orchestrators`.
    pub key: &'static str,
    /// Solidity getter, for people: `orchestrators(address)`.
    pub getter: &'static str,
    /// topic0 of the event emitted on every change; topic1 is the address.
    pub event_topic: B256,
    /// ABI-encoded membership getter call for one address.
    pub calldata: fn(Address) -> Vec<u8>,
    /// Decodes the membership getter's return data.
    pub decode: fn(&[u8]) -> Result<bool, alloy::sol_types::Error>,
}

/// A getter call with no arguments whose return value is a [`Value`].
pub trait Getter: SolCall + Default {
    /// Decodes the return data of this getter into a [`Value`].
    fn decode_value(data: &[u8]) -> Result<Value, alloy::sol_types::Error>;
}

impl<C> Getter for C
where
    C: SolCall + Default,
    C::Return: IntoValue,
{
    fn decode_value(data: &[u8]) -> Result<Value, alloy::sol_types::Error> {
        C::abi_decode_returns(data).map(IntoValue::into_value)
    }
}

/// A Solidity return type that widens losslessly into a [`Value`].
pub trait IntoValue {
    /// The value, widened.
    fn into_value(self) -> Value;
}

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl IntoValue for Address {
    fn into_value(self) -> Value {
        Value::Address(self)
    }
}

impl IntoValue for U256 {
    fn into_value(self) -> Value {
        Value::Uint(self)
    }
}

impl IntoValue for u16 {
    fn into_value(self) -> Value {
        Value::Uint(U256::from(self))
    }
}

fn encode_default<C: SolCall + Default>() -> Vec<u8> {
    C::default().abi_encode()
}

/// Decodes a membership getter's `bool` return data.
pub fn decode_membership<C: SolCall<Return = bool>>(
    data: &[u8],
) -> Result<bool, alloy::sol_types::Error> {
    C::abi_decode_returns(data)
}

/// A value shown the way its unit is meant, e.g. `150000000000000000000 (150 ether)`.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    /// The value.
    pub value: Value,
    /// How it is meant.
    pub unit: Unit,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.value, self.unit) {
            (Value::Bool(b), _) => write!(f, "{b}"),
            (Value::Address(a), _) => write!(f, "{a}"),
            (Value::Uint(n), Unit::Amount) if !n.is_zero() => {
                write!(f, "{n} ({} ether)", trim_decimals(&format_ether(n)))
            }
            (Value::Uint(n), Unit::Seconds) => write!(f, "{n}{}", human_duration(n)),
            (Value::Uint(n), Unit::Bps) => write!(f, "{n} bps"),
            (Value::Uint(n), Unit::Percent) => write!(f, "{n}%"),
            (Value::Uint(n), _) => write!(f, "{n}"),
        }
    }
}

fn trim_decimals(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

fn human_duration(seconds: U256) -> String {
    const UNITS: [(u64, &str); 3] = [(86_400, "d"), (3_600, "h"), (60, "m")];
    let Ok(seconds) = u64::try_from(seconds) else {
        return String::new();
    };
    UNITS
        .iter()
        .find(|(size, _)| seconds >= *size && seconds % size == 0)
        .map(|(size, suffix)| format!(" ({}{suffix})", seconds / size))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

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
    fn amounts_are_shown_in_base_units_and_ether() {
        let shown = Shown {
            value: Value::Uint(U256::from(150u128 * 10u128.pow(18))),
            unit: Unit::Amount,
        };
        assert_eq!(shown.to_string(), "150000000000000000000 (150 ether)");
        let shown = Shown {
            value: Value::Uint(U256::from(15u128 * 10u128.pow(17))),
            unit: Unit::Amount,
        };
        assert_eq!(shown.to_string(), "1500000000000000000 (1.5 ether)");
    }

    #[test]
    fn whole_durations_are_shown_with_their_unit() {
        let week = Shown {
            value: Value::Uint(U256::from(604_800)),
            unit: Unit::Seconds,
        };
        assert_eq!(week.to_string(), "604800 (7d)");
        let odd = Shown {
            value: Value::Uint(U256::from(61)),
            unit: Unit::Seconds,
        };
        assert_eq!(odd.to_string(), "61");
    }
}
