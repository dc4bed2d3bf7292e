//! Times in JSON for people and programs alike: beside every Unix time a
//! plan carries (`block.timestamp`, each operation's `ready_at`), the same
//! instant as RFC 3339 UTC (`timestamp_rfc3339`, `ready_at_rfc3339`), as
//! drift's JSON has it. Only the JSON shown is augmented; a saved plan keeps
//! its exact layout, which its digest covers.

use serde_json::Value;

/// The keys whose whole-number values are Unix times (seconds, the chain's clock).
pub const TIME_KEYS: &[&str] = &["timestamp", "ready_at"];

/// Adds `<key>_rfc3339` beside every [`TIME_KEYS`] member of every object
/// in `document`, leaving a member already there as it is.
pub fn with_rfc3339(document: &mut Value) {
    match document {
        Value::Object(object) => {
            let found: Vec<(String, u64)> = object
                .iter()
                .filter(|(key, _)| TIME_KEYS.contains(&key.as_str()))
                .filter_map(|(key, value)| value.as_u64().map(|seconds| (format!("{key}_rfc3339"), seconds)))
                .collect();
            for (key, seconds) in found {
                object.entry(key).or_insert_with(|| Value::String(rfc3339(seconds)));
            }
            object.values_mut().for_each(with_rfc3339);
        }
        Value::Array(items) => items.iter_mut().for_each(with_rfc3339),
        _ => {}
    }
}

/// Unix seconds as RFC 3339 UTC: `2026-12-01T12:00:00Z`.
pub(crate) fn rfc3339(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unix_time_gets_its_rfc_3339_twin_at_any_depth() {
        let mut plan = serde_json::json!({
            "block": { "number": 3, "timestamp": 0 },
            "routes": [{ "batch": { "ready_at": 86_400, "delay": 60 } }],
            "operations": [{ "ready_at": 60, "ready_at_rfc3339": "kept" }, { "ready_at": null }],
        });
        with_rfc3339(&mut plan);
        assert_eq!(plan["block"]["timestamp_rfc3339"], "1970-01-01T00:00:00Z");
        assert_eq!(plan["routes"][0]["batch"]["ready_at_rfc3339"], "1970-01-02T00:00:00Z");
        assert_eq!(plan["routes"][0]["batch"].get("delay_rfc3339"), None, "a delay is no time");
        assert_eq!(plan["operations"][0]["ready_at_rfc3339"], "kept");
        assert_eq!(plan["operations"][1].get("ready_at_rfc3339"), None);
    }
}
