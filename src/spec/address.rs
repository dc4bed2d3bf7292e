//! Addresses as operators write them: `0x` and 40 hex digits. An all-lowercase
//! or all-uppercase address is accepted as is; a mixed-case one must carry a
//! valid EIP-55 checksum, because mixed case is how a checksum is written and a
//! wrong one means a typo. Addresses are always written back checksummed.
//!
//! Also home to the role-set check shared by every contract with role lists.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use alloy::primitives::Address;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::diagnostic::Diagnostic;

/// An address read with its checksum verified, written back in EIP-55 form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ChecksummedAddress(pub Address);

impl ChecksummedAddress {
    /// The zero address.
    pub const ZERO: Self = Self(Address::ZERO);

    /// The address itself.
    pub fn get(self) -> Address {
        self.0
    }

    /// Whether this is the zero address.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl From<Address> for ChecksummedAddress {
    fn from(address: Address) -> Self {
        Self(address)
    }
}

impl From<ChecksummedAddress> for Address {
    fn from(address: ChecksummedAddress) -> Self {
        address.0
    }
}

impl fmt::Display for ChecksummedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_checksum(None))
    }
}

/// Why a text is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Not `0x` followed by 40 hex digits.
    #[error("`{0}` is not an address; expected `0x` followed by 40 hex digits")]
    Malformed(String),
    /// Mixed case whose EIP-55 checksum does not match.
    #[error("`{found}` has a wrong EIP-55 checksum; expected `{expected}` (or write it all lowercase)")]
    BadChecksum {
        /// What was written.
        found: String,
        /// The correctly checksummed form of the same hex digits.
        expected: String,
    },
}

impl FromStr for ChecksummedAddress {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, AddressError> {
        let malformed = || AddressError::Malformed(text.to_owned());
        let hex = text.strip_prefix("0x").ok_or_else(malformed)?;
        if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        let address = Address::from_str(text).map_err(|_| malformed())?;
        let single_case = !hex.bytes().any(|b| b.is_ascii_lowercase()) || !hex.bytes().any(|b| b.is_ascii_uppercase());
        if single_case || Address::parse_checksummed(text, None).is_ok() {
            Ok(Self(address))
        } else {
            Err(AddressError::BadChecksum { found: text.to_owned(), expected: address.to_checksum(None) })
        }
    }
}

impl Serialize for ChecksummedAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

struct AddressVisitor;

impl Visitor<'_> for AddressVisitor {
    type Value = ChecksummedAddress;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an address: `0x` followed by 40 hex digits")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ChecksummedAddress, E> {
        v.parse().map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for ChecksummedAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(AddressVisitor)
    }
}

impl JsonSchema for ChecksummedAddress {
    fn schema_name() -> Cow<'static, str> {
        "Address".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An address: `0x` and 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum.",
            "type": "string",
            "pattern": "^0x[0-9a-fA-F]{40}$"
        })
    }
}

/// Checks a role set (an exact list of holders): no zero address, no duplicate.
pub(crate) fn check_role_set(path: &str, holders: &[ChecksummedAddress], out: &mut Vec<Diagnostic>) {
    let mut first_seen: HashMap<ChecksummedAddress, usize> = HashMap::new();
    for (i, holder) in holders.iter().enumerate() {
        let item = format!("{path}[{i}]");
        if holder.is_zero() {
            out.push(Diagnostic::new(item, "the zero address cannot hold a role; remove it"));
        } else if let Some(first) = first_seen.get(holder) {
            let message =
                format!("{holder} is listed twice (also at {path}[{first}]); a role set lists each holder once");
            out.push(Diagnostic::new(item, message));
        } else {
            first_seen.insert(*holder, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECKSUMMED: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

    #[test]
    fn checksummed_lowercase_and_uppercase_forms_are_accepted() {
        let expected: ChecksummedAddress = CHECKSUMMED.parse().unwrap_or_default();
        assert!(!expected.is_zero());
        let lower = CHECKSUMMED.to_ascii_lowercase();
        let upper = format!("0x{}", CHECKSUMMED[2..].to_ascii_uppercase());
        assert_eq!(lower.parse(), Ok(expected));
        assert_eq!(upper.parse(), Ok(expected));
        assert_eq!(expected.to_string(), CHECKSUMMED);
    }

    #[test]
    fn a_wrong_checksum_names_the_expected_form() {
        let typo = CHECKSUMMED.replace("f39F", "f39f");
        match typo.parse::<ChecksummedAddress>() {
            Err(AddressError::BadChecksum { expected, .. }) => assert_eq!(expected, CHECKSUMMED),
            other => panic!("expected a checksum error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for text in [
            "",
            "0x",
            "0x1234",
            "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "0x0000000000000000000000000000000000000000 ",
        ] {
            assert!(matches!(text.parse::<ChecksummedAddress>(), Err(AddressError::Malformed(_))), "{text:?}");
        }
    }

    #[test]
    fn role_sets_refuse_zero_and_duplicates() {
        let a: ChecksummedAddress = CHECKSUMMED.parse().unwrap_or_default();
        let mut out = Vec::new();
        check_role_set("arena.orchestrators", &[a, ChecksummedAddress::ZERO, a], &mut out);
        let paths: Vec<_> = out.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["arena.orchestrators[1]", "arena.orchestrators[2]"]);
    }
}
