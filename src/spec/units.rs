//! Amounts and durations as operators write them.
//!
//! An [`Amount`] is a `uint256` in base units (wei), written as an integer
//! (`150000000000000000000`) or as Foundry's `cast` reads a value: `150 ether`,
//! `1ether`, `5 gwei`, `1.5e18` (scientific notation counts base units),
//! `1e-3 ether`. Parsing is delegated to the parser `cast` itself uses
//! (alloy's `DynSolType::Uint(256).coerce_str`); this module only adds clear
//! messages. A [`Duration`] is whole seconds, written as an integer or with one
//! of the suffixes `s`, `m`, `h`, `d`.
//!
//! Both serialise to the most readable form that reads back to the same value.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use alloy::dyn_abi::{DynSolType, DynSolValue};
use alloy::primitives::U256;
use alloy::primitives::utils::{ParseUnits, Unit};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The units `cast` understands after a number.
const UNITS: [&str; 5] = ["ether", "gwei", "nano", "nanoether", "wei"];

const AMOUNT_FORMS: &str =
    "expected base units (`150000000000000000000`) or a number with a unit (`150 ether`, `5 gwei`, `1.5e18`)";

/// A token amount in base units (wei), as a `uint256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub U256);

impl Amount {
    /// Zero base units.
    pub const ZERO: Self = Self(U256::ZERO);

    /// The amount as base units.
    pub fn get(self) -> U256 {
        self.0
    }

    /// Whether the amount is zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl From<U256> for Amount {
    fn from(value: U256) -> Self {
        Self(value)
    }
}

impl From<Amount> for U256 {
    fn from(value: Amount) -> Self {
        value.0
    }
}

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// Nothing was written.
    #[error("an empty amount; {AMOUNT_FORMS}")]
    Empty,
    /// A minus sign: amounts are unsigned.
    #[error("`{0}` is negative; amounts are unsigned, {AMOUNT_FORMS}")]
    Negative(String),
    /// A unit `cast` does not know.
    #[error("`{0}` has the unknown unit `{1}`; use ether, gwei or wei (or none for base units)")]
    UnknownUnit(String, String),
    /// A fraction of a base unit, e.g. `1.5` or `1.5 wei`.
    #[error("`{0}` is not a whole number of base units; add a unit (`1.5 ether`) or drop the fraction")]
    FractionalBaseUnits(String),
    /// More decimals than the unit has, e.g. `0.1234567891 gwei`.
    #[error("`{0}` has more decimals than its unit allows ({1})")]
    TooManyDecimals(String, String),
    /// Past `2^256 - 1`.
    #[error("`{0}` is larger than the largest uint256")]
    Overflow(String),
    /// Not a number at all.
    #[error("`{0}` is not an amount; {AMOUNT_FORMS}")]
    Invalid(String),
    /// A small bare number: `150` is 150 wei, almost never what was meant.
    #[error(
        "`{0}` has no unit, so it is {0} wei; write `{0} ether`, or `{0} wei` if you mean it (a number without a unit is base units, and one below 10^9 must name its unit)"
    )]
    NoUnit(String),
}

/// Below this many base units (1 gwei), an amount must name its unit: a
/// bare `150` is far more likely a forgotten `ether` than 150 wei.
const BARE_MINIMUM: u64 = 1_000_000_000;

/// Refuses a non-zero amount below [`BARE_MINIMUM`] written without a unit.
fn refuse_small_bare(text: &str, value: U256) -> Result<Amount, AmountError> {
    let bare = unit_word(text.trim()).is_empty();
    if bare && !value.is_zero() && value < U256::from(BARE_MINIMUM) {
        return Err(AmountError::NoUnit(text.trim().to_owned()));
    }
    Ok(Amount(value))
}

impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(text: &str) -> Result<Self, AmountError> {
        let text = text.trim();
        precheck_amount(text)?;
        match DynSolType::Uint(256).coerce_str(text) {
            Ok(DynSolValue::Uint(value, _)) => Ok(Self(value)),
            Ok(_) => Err(AmountError::Invalid(text.to_owned())),
            Err(e) => Err(classify_amount_error(text, &e.to_string())),
        }
    }
}

/// Rejects what `cast` would reject with a less helpful message.
fn precheck_amount(text: &str) -> Result<(), AmountError> {
    if text.is_empty() {
        return Err(AmountError::Empty);
    }
    if text.starts_with('-') {
        return Err(AmountError::Negative(text.to_owned()));
    }
    let unit = unit_word(text);
    if unit.len() == text.len() {
        return Err(AmountError::Invalid(text.to_owned()));
    }
    if !unit.is_empty() && !UNITS.contains(&unit) {
        return Err(AmountError::UnknownUnit(text.to_owned(), unit.to_owned()));
    }
    Ok(())
}

/// The alphabetic word that ends `text` (its unit), unless `text` is hexadecimal.
fn unit_word(text: &str) -> &str {
    if text.starts_with("0x") || text.starts_with("0X") {
        return "";
    }
    let start = text.char_indices().rev().take_while(|(_, c)| c.is_alphabetic()).last().map_or(text.len(), |(i, _)| i);
    &text[start..]
}

fn classify_amount_error(text: &str, message: &str) -> AmountError {
    let owned = text.to_owned();
    if message.contains("fraction") || message.contains("negative units") {
        AmountError::FractionalBaseUnits(owned)
    } else if message.contains("decimals") {
        AmountError::TooManyDecimals(owned, unit_decimals(unit_word(text)))
    } else if message.contains("too large") || message.contains("overflow") {
        AmountError::Overflow(owned)
    } else {
        AmountError::Invalid(owned)
    }
}

fn unit_decimals(unit: &str) -> String {
    match unit {
        "ether" => "ether has 18 decimals".to_owned(),
        "gwei" | "nano" | "nanoether" => format!("{unit} has 9 decimals"),
        _ => "base units have none".to_owned(),
    }
}

impl fmt::Display for Amount {
    /// The readable form: `150 ether`, `1.5 ether`, `5 gwei`, else base units.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match readable_amount(self.0) {
            Some(text) => f.write_str(&text),
            None => write!(f, "{}", self.0),
        }
    }
}

/// `N ether` from 0.001 ether up when it needs at most 6 decimals, `N gwei`
/// when it needs at most 3; `None` when base units read better.
fn readable_amount(value: U256) -> Option<String> {
    let thousandth_ether = U256::from(10u64).pow(U256::from(15u64));
    let in_unit = |unit: Unit, decimals: u8| {
        let step = U256::from(10u64).pow(U256::from(unit.get() - decimals));
        (value % step).is_zero().then(|| with_unit(value, unit))
    };
    if value.is_zero() {
        return None;
    }
    let as_ether = (value >= thousandth_ether).then(|| in_unit(Unit::ETHER, 6));
    as_ether.flatten().or_else(|| in_unit(Unit::GWEI, 3))
}

/// `value` formatted in `unit` with trailing zero decimals removed, e.g. `1.5 ether`.
fn with_unit(value: U256, unit: Unit) -> String {
    let number = ParseUnits::U256(value).format_units(unit);
    let number = number.trim_end_matches('0').trim_end_matches('.');
    let name = if unit == Unit::ETHER { "ether" } else { "gwei" };
    format!("{number} {name}")
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(text) = readable_amount(self.0) {
            serializer.serialize_str(&text)
        } else if !self.0.is_zero() && self.0 < U256::from(BARE_MINIMUM) {
            // Read back, a small bare number must name its unit.
            serializer.serialize_str(&format!("{} wei", self.0))
        } else if let Ok(n) = u64::try_from(self.0) {
            serializer.serialize_u64(n)
        } else {
            serializer.serialize_str(&self.0.to_string())
        }
    }
}

struct AmountVisitor;

impl Visitor<'_> for AmountVisitor {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount: base units (`150000000000000000000`) or a number with a unit (`150 ether`)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
        refuse_small_bare(&v.to_string(), U256::from(v)).map_err(E::custom)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Amount, E> {
        refuse_small_bare(&v.to_string(), U256::from(v)).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
        self.visit_i128(i128::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Amount, E> {
        u128::try_from(v).map(|v| Amount(U256::from(v))).map_err(|_| E::custom(AmountError::Negative(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
        Err(E::custom(format!(
            "`{v}` is a floating-point number, which cannot hold an exact amount; write it as text, e.g. `1.5 ether`"
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
        let amount: Amount = v.parse().map_err(E::custom)?;
        refuse_small_bare(v, amount.0).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AmountVisitor)
    }
}

impl JsonSchema for Amount {
    fn schema_name() -> Cow<'static, str> {
        "Amount".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A uint256 amount in base units (wei): an integer, or a number with a unit as `cast` reads it (`150 ether`, `5 gwei`, `1.5e18`).",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                {
                    "type": "string",
                    "pattern": "^\\s*(0[xX][0-9a-fA-F]+|[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?\\s*(ether|gwei|nano|nanoether|wei)?)\\s*$"
                }
            ]
        })
    }
}

/// A length of time in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub u64);

impl Duration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// The duration in seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }
}

const DURATION_FORMS: &str = "expected whole seconds (`604800`) or a number with a unit: `30s`, `15m`, `12h`, `7d`";

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Not digits followed by an optional `s`, `m`, `h` or `d`.
    #[error("`{0}` is not a duration; {DURATION_FORMS}")]
    Invalid(String),
    /// A minus sign.
    #[error("`{0}` is negative; {DURATION_FORMS}")]
    Negative(String),
    /// Past `u64::MAX` seconds.
    #[error("`{0}` is too long (at most 18446744073709551615 seconds)")]
    Overflow(String),
}

/// Seconds in each duration unit.
const DURATION_UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, DurationError> {
        let invalid = || DurationError::Invalid(text.to_owned());
        if text.starts_with('-') {
            return Err(DurationError::Negative(text.to_owned()));
        }
        let (digits, scale) = match DURATION_UNITS.iter().find(|(u, _)| text.ends_with(*u)) {
            Some((_, scale)) => (&text[..text.len() - 1], *scale),
            None => (text, 1),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let overflow = || DurationError::Overflow(text.to_owned());
        let count: u64 = digits.parse().map_err(|_| overflow())?;
        count.checked_mul(scale).map(Self).ok_or_else(overflow)
    }
}

impl fmt::Display for Duration {
    /// `7d`, `12h`, `15m` when exact, else the number of seconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exact = DURATION_UNITS
            .iter()
            .filter(|(unit, _)| *unit != 's')
            .find(|(_, scale)| self.0 != 0 && self.0.is_multiple_of(*scale));
        match exact {
            Some((unit, scale)) => write!(f, "{}{unit}", self.0 / scale),
            None => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.to_string();
        match text.parse::<u64>() {
            Ok(seconds) => serializer.serialize_u64(seconds),
            Err(_) => serializer.serialize_str(&text),
        }
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration: whole seconds (`604800`) or `30s`, `15m`, `12h`, `7d`")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Ok(Duration(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        u64::try_from(v).map(Duration).map_err(|_| E::custom(DurationError::Negative(v.to_string())))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Duration, E> {
        Err(E::custom(DurationError::Overflow(v.to_string())))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Duration, E> {
        Err(E::custom(DurationError::Negative(v.to_string())))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        v.parse().map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: whole seconds, or a number with a unit: `30s`, `15m`, `12h`, `7d`.",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": "^[0-9]+[smhd]?$" }
            ]
        })
    }
}

/// A whole percentage from 0 to 100, written `4` or `4%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Percent(pub u64);

/// What a percentage may be, for errors.
const PERCENT_FORMS: &str = "expected a whole percentage from 0 to 100, e.g. `4` or `4%`";

struct PercentVisitor;

impl Visitor<'_> for PercentVisitor {
    type Value = Percent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PERCENT_FORMS)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
        if v <= 100 { Ok(Percent(v)) } else { Err(E::custom(format!("`{v}` is more than 100; {PERCENT_FORMS}"))) }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!("`{v}` is negative; {PERCENT_FORMS}"))),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Percent, E> {
        Err(E::custom(format!("`{v}` is more than 100; {PERCENT_FORMS}")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Percent, E> {
        let number = v.trim().strip_suffix('%').unwrap_or(v).trim();
        match number.parse::<u64>() {
            Ok(n) => self.visit_u64(n),
            Err(_) if number.starts_with('-') => Err(E::custom(format!("`{v}` is negative; {PERCENT_FORMS}"))),
            Err(_) => Err(E::custom(format!("`{v}` is not a percentage; {PERCENT_FORMS}"))),
        }
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PercentVisitor)
    }
}

/// The JSON Schema of a percentage: `4` or `"4%"`, 0 to 100.
pub fn percent_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A whole percentage from 0 to 100: `4` or `4%`.",
        "anyOf": [
            { "type": "integer", "minimum": 0, "maximum": 100 },
            { "type": "string", "pattern": "^\\s*(100|[1-9]?[0-9])\\s*%\\s*$" }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(text: &str) -> Result<U256, AmountError> {
        text.parse::<Amount>().map(Amount::get)
    }

    fn ether(n: u64) -> U256 {
        U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
    }

    #[test]
    fn amounts_parse_as_cast_reads_them() {
        assert_eq!(amount("150 ether"), Ok(ether(150)));
        assert_eq!(amount("150ether"), Ok(ether(150)));
        assert_eq!(amount("1.5e18"), Ok(ether(3) / U256::from(2u64)));
        assert_eq!(amount("5 gwei"), Ok(U256::from(5_000_000_000u64)));
        assert_eq!(amount("1e-3 ether"), Ok(ether(1) / U256::from(1000u64)));
        assert_eq!(amount("150000000000000000000"), Ok(ether(150)));
        assert_eq!(amount("7 wei"), Ok(U256::from(7u64)));
        assert_eq!(amount("0"), Ok(U256::ZERO));
    }

    #[test]
    fn the_largest_uint256_is_accepted_and_one_more_is_not() {
        let max = U256::MAX.to_string();
        assert_eq!(amount(&max), Ok(U256::MAX));
        let past = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert!(matches!(amount(past), Err(AmountError::Overflow(_))));
        assert!(matches!(amount("1e78"), Err(AmountError::Overflow(_))));
    }

    #[test]
    fn bad_amounts_say_why() {
        assert!(matches!(amount("-5 ether"), Err(AmountError::Negative(_))));
        assert!(matches!(amount("1.5"), Err(AmountError::FractionalBaseUnits(_))));
        assert!(matches!(amount("1.5 wei"), Err(AmountError::FractionalBaseUnits(_))));
        assert!(matches!(amount("1e-3"), Err(AmountError::FractionalBaseUnits(_))));
        assert!(matches!(amount("5 finney"), Err(AmountError::UnknownUnit(_, _))));
        assert!(matches!(amount("5 ETH"), Err(AmountError::UnknownUnit(_, _))));
        assert!(matches!(amount("0.1234567891 gwei"), Err(AmountError::TooManyDecimals(_, _))));
        assert!(matches!(amount("lots"), Err(AmountError::Invalid(_))));
        assert!(matches!(amount("1..5 ether"), Err(AmountError::Invalid(_))));
        assert!(matches!(amount(""), Err(AmountError::Empty)));
    }

    #[test]
    fn amounts_display_in_the_most_readable_exact_form() {
        let cases = [
            (ether(150), "150 ether"),
            (ether(3) / U256::from(2u64), "1.5 ether"),
            (U256::from(5_000_000_000u64), "5 gwei"),
            (U256::from(1_500_000_000u64), "1.5 gwei"),
            (U256::from(123u64), "123"),
            (U256::ZERO, "0"),
            (ether(1) + U256::from(1u64), "1000000000000000001"),
        ];
        for (value, text) in cases {
            assert_eq!(Amount(value).to_string(), text);
            assert_eq!(amount(text), Ok(value), "{text} reads back");
        }
    }

    #[test]
    fn durations_parse_seconds_and_suffixes() {
        let parse = |t: &str| t.parse::<Duration>().map(Duration::as_secs);
        assert_eq!(parse("604800"), Ok(604_800));
        assert_eq!(parse("30s"), Ok(30));
        assert_eq!(parse("15m"), Ok(900));
        assert_eq!(parse("12h"), Ok(43_200));
        assert_eq!(parse("7d"), Ok(604_800));
        assert_eq!(parse("0"), Ok(0));
    }

    #[test]
    fn bad_durations_are_refused() {
        for text in ["d", "7dd", "7 d", "7w", "1.5h", "", "s7", "+7d"] {
            assert!(matches!(text.parse::<Duration>(), Err(DurationError::Invalid(_))), "{text}");
        }
        assert!(matches!("-7d".parse::<Duration>(), Err(DurationError::Negative(_))));
        let huge = "213503982334602d";
        assert!(matches!(huge.parse::<Duration>(), Err(DurationError::Overflow(_))));
        let digits = "99999999999999999999s";
        assert!(matches!(digits.parse::<Duration>(), Err(DurationError::Overflow(_))));
    }

    #[test]
    fn durations_display_in_the_largest_exact_unit() {
        for (secs, text) in [(604_800, "7d"), (43_200, "12h"), (900, "15m"), (45, "45"), (0, "0")] {
            assert_eq!(Duration(secs).to_string(), text);
            assert_eq!(text.parse::<Duration>(), Ok(Duration(secs)));
        }
    }

    #[test]
    fn a_small_amount_without_a_unit_is_refused_with_the_fix_and_written_back_with_its_unit() {
        let read = |yaml: &str| serde_yaml::from_str::<Amount>(yaml).map_err(|e| e.to_string());
        let refused = read("150").err().unwrap_or_default();
        assert!(refused.contains("write `150 ether`, or `150 wei` if you mean it"), "{refused}");
        assert!(read("\"1e3\"").is_err(), "scientific notation without a unit is base units too");
        assert_eq!(read("150 wei"), Ok(Amount(U256::from(150u64))));
        assert_eq!(read("0"), Ok(Amount::ZERO));
        assert_eq!(read("1000000000"), Ok(Amount(U256::from(1_000_000_000u64))));
        let written = serde_yaml::to_string(&Amount(U256::from(150u64))).unwrap_or_default();
        assert_eq!(written.trim(), "150 wei");
        assert_eq!(read(&written), Ok(Amount(U256::from(150u64))), "what is written reads back");
    }

    #[test]
    fn a_percentage_reads_with_or_without_its_sign_and_states_its_real_range() {
        let read = |yaml: &str| serde_yaml::from_str::<Percent>(yaml).map(|p| p.0).map_err(|e| e.to_string());
        assert_eq!(read("4"), Ok(4));
        assert_eq!(read("4%"), Ok(4));
        assert_eq!(read("\"100 %\""), Ok(100));
        let past = read("101").err().unwrap_or_default();
        assert!(past.contains("from 0 to 100"), "{past}");
        assert!(read("-1").is_err() && read("4.5%").is_err());
    }
}
