//! How a [`Value`] is written in plans and receipts: `true`, a checksummed
//! address, or a `uint256` as decimal digits (JSON numbers lose precision).

use alloy::primitives::{Address, U256};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::contracts::Value;

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Address(a) => serializer.serialize_str(&a.to_checksum(None)),
            Value::Uint(n) => serializer.serialize_str(&n.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl Visitor<'_> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a bool, an address, or a decimal uint256 string")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Uint(U256::from(n)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Value, E> {
        if text.starts_with("0x") {
            text.parse::<Address>().map(Value::Address).map_err(E::custom)
        } else {
            U256::from_str_radix(text, 10).map(Value::Uint).map_err(E::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_json_exactly() {
        let values = [Value::Bool(true), Value::Address(Address::repeat_byte(0xab)), Value::Uint(U256::MAX)];
        for value in values {
            let json = serde_json::to_string(&value).unwrap_or_default();
            let back: Value = serde_json::from_str(&json).unwrap_or(Value::Bool(false));
            assert_eq!(back, value, "{json}");
        }
        assert_eq!(serde_json::to_string(&Value::Uint(U256::from(150))).ok().as_deref(), Some("\"150\""));
    }
}
