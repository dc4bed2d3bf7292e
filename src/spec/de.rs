//! A serde `Deserializer` over one [`Node`], used for leaf values (numbers,
//! booleans, amounts, durations, addresses) so that each type's own
//! `Deserialize` impl decides what it accepts.
//!
//! Plain scalars are resolved as YAML 1.2's core schema does for null, booleans
//! and integers; anything else, including integers past `i128`/`u128` and
//! decimals such as `1.5e18`, reaches the visitor as its exact text.
//! `deserialize_str` always gives the text, as serde_yaml does.

use std::fmt;

use serde::de::{self, Unexpected, Visitor};
use serde::forward_to_deserialize_any;

use super::yaml::{Node, Value};

/// Why a leaf value could not be deserialised.
#[derive(Debug)]
pub(crate) struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// Deserialises a leaf value from a node.
pub(crate) struct NodeDeserializer<'a>(pub &'a Node);

impl<'de> de::Deserializer<'de> for NodeDeserializer<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Scalar { text, plain: true } => visit_plain(text, visitor),
            Value::Scalar { text, plain: false } => visitor.visit_str(text),
            Value::List(_) => Err(de::Error::invalid_type(Unexpected::Seq, &visitor)),
            Value::Map(_) => Err(de::Error::invalid_type(Unexpected::Map, &visitor)),
            Value::Unsupported(what) => Err(DeError((*what).to_owned())),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.value {
            Value::Scalar { text, .. } if !self.0.is_null() => visitor.visit_str(text),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct
        enum identifier ignored_any
    }
}

/// A `u64` whose errors read "expected a whole number" rather than "expected u64".
pub(crate) struct WholeNumber(pub u64);

impl<'de> de::Deserialize<'de> for WholeNumber {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_u64(WholeNumberVisitor)
    }
}

struct WholeNumberVisitor;

impl Visitor<'_> for WholeNumberVisitor {
    type Value = WholeNumber;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a whole number from 0 to {}", u64::MAX)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<WholeNumber, E> {
        Ok(WholeNumber(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<WholeNumber, E> {
        let found = format!("integer `{v}`");
        Err(E::invalid_value(Unexpected::Other(&found), &self))
    }
}

fn visit_plain<'de, V: Visitor<'de>>(text: &str, visitor: V) -> Result<V::Value, DeError> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => visitor.visit_unit(),
        "true" | "True" | "TRUE" => visitor.visit_bool(true),
        "false" | "False" | "FALSE" => visitor.visit_bool(false),
        _ => visit_integer(text, visitor),
    }
}

fn visit_integer<'de, V: Visitor<'de>>(text: &str, visitor: V) -> Result<V::Value, DeError> {
    let (digits, radix) = match text.get(..2) {
        Some("0x") => (&text[2..], 16),
        Some("0o") => (&text[2..], 8),
        _ => (text, 10),
    };
    if digits.starts_with(['+', '-']) && radix != 10 {
        return visitor.visit_str(text);
    }
    if let Ok(n) = u64::from_str_radix(digits, radix) {
        visitor.visit_u64(n)
    } else if let Ok(n) = i64::from_str_radix(digits, radix) {
        visitor.visit_i64(n)
    } else if let Ok(n) = u128::from_str_radix(digits, radix) {
        visitor.visit_u128(n)
    } else if let Ok(n) = i128::from_str_radix(digits, radix) {
        visitor.visit_i128(n)
    } else {
        visitor.visit_str(text)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::spec::yaml::Mark;

    fn plain(text: &str) -> Node {
        Node { mark: Mark { line: 1, column: 1 }, value: Value::Scalar { text: text.to_owned(), plain: true } }
    }

    fn de<T: for<'de> Deserialize<'de>>(node: &Node) -> Result<T, String> {
        T::deserialize(NodeDeserializer(node)).map_err(|e| e.to_string())
    }

    #[test]
    fn plain_scalars_resolve_like_yaml_core() {
        assert_eq!(de::<bool>(&plain("true")), Ok(true));
        assert_eq!(de::<u64>(&plain("0x10")), Ok(16));
        assert_eq!(de::<u64>(&plain("0o10")), Ok(8));
        assert_eq!(de::<i64>(&plain("-3")), Ok(-3));
        assert_eq!(de::<u128>(&plain("18446744073709551616")), Ok(1 << 64));
    }

    #[test]
    fn wrong_types_say_what_was_found_and_expected() {
        let err = de::<bool>(&plain("yes")).err().unwrap_or_default();
        assert!(err.contains("\"yes\"") && err.contains("boolean"), "{err}");
        let err = de::<WholeNumber>(&plain("99999999999999999999")).map(|n| n.0);
        let err = err.err().unwrap_or_default();
        assert!(err.contains("`99999999999999999999`, expected a whole number"), "{err}");
        let err = de::<WholeNumber>(&plain("1.5")).map(|n| n.0).err().unwrap_or_default();
        assert!(err.contains("\"1.5\", expected a whole number"), "{err}");
    }

    #[test]
    fn strings_get_the_exact_text_of_any_scalar() {
        assert_eq!(
            de::<String>(&plain("0x0000000000000000000000000000000000000001")).as_deref(),
            Ok("0x0000000000000000000000000000000000000001")
        );
        assert_eq!(de::<String>(&plain("1.5e18")).as_deref(), Ok("1.5e18"));
    }
}
