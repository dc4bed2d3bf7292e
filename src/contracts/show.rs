//! Values shown the way their unit is meant.

use std::fmt;

use alloy::primitives::{U256, utils::format_ether};

use super::{Unit, Value};

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
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { text }
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
    use super::*;

    #[test]
    fn amounts_are_shown_in_base_units_and_ether() {
        let shown = Shown { value: Value::Uint(U256::from(150u128 * 10u128.pow(18))), unit: Unit::Amount };
        assert_eq!(shown.to_string(), "150000000000000000000 (150 ether)");
        let shown = Shown { value: Value::Uint(U256::from(15u128 * 10u128.pow(17))), unit: Unit::Amount };
        assert_eq!(shown.to_string(), "1500000000000000000 (1.5 ether)");
    }

    #[test]
    fn whole_durations_are_shown_with_their_unit() {
        let week = Shown { value: Value::Uint(U256::from(604_800)), unit: Unit::Seconds };
        assert_eq!(week.to_string(), "604800 (7d)");
        let odd = Shown { value: Value::Uint(U256::from(61)), unit: Unit::Seconds };
        assert_eq!(odd.to_string(), "61");
    }
}
