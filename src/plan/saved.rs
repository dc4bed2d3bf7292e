//! A saved plan on disk: the digest that names its content, and loading it
//! defensively. A saved plan is untrusted input (it travels through pull
//! requests and artifact stores), so the loader bounds its size and nesting,
//! refuses another layout version by name, refuses unknown fields, and
//! refuses content that does not match the digest it carries.

use std::io::Read;
use std::path::Path;

use alloy::primitives::{B256, keccak256};
use serde::Deserialize;

use super::{DesiredField, DesiredRecord, FORMAT_VERSION, Plan};
use crate::spec::DesiredContract;

/// The largest saved plan accepted, in bytes (a plan revoking 10,000 role
/// holders is about 12 MB).
pub const MAX_PLAN_BYTES: u64 = 32 * 1024 * 1024;

/// Why a saved plan was not loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SavedPlanError {
    /// The file could not be read.
    #[error("{file}: could not read it: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than any plan govstate writes.
    #[error("{file}: {size} bytes or more, larger than a saved plan may be ({MAX_PLAN_BYTES} bytes)")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size, or the bytes read before giving up.
        size: u64,
    },
    /// The text is not a plan in this layout (bad JSON, nested too deep, a
    /// missing or unknown field, a wrong type).
    #[error("{file}: not a plan saved by `govstate plan --out`: {source}")]
    Json {
        /// The file.
        file: String,
        /// Where and what.
        #[source]
        source: serde_json::Error,
    },
    /// The plan was written by a govstate with another layout.
    #[error(
        "{file}: the plan has format_version {found}, but this govstate reads format_version {FORMAT_VERSION}; make the plan again with this govstate"
    )]
    Version {
        /// The file.
        file: String,
        /// The version it carries.
        found: u64,
    },
    /// The content is not the content the digest names.
    #[error(
        "{file}: the plan was edited after it was made: its digest is {recorded}, but its content hashes to {computed}"
    )]
    Digest {
        /// The file.
        file: String,
        /// The digest the file carries.
        recorded: B256,
        /// The digest of its content.
        computed: B256,
    },
}

impl Plan {
    /// keccak256 of the plan's canonical JSON with `digest` zero: the same
    /// content always gives the same digest.
    pub fn content_digest(&self) -> B256 {
        let unsealed = Plan { digest: B256::ZERO, ..self.clone() };
        keccak256(serde_json::to_vec(&unsealed).unwrap_or_default())
    }

    /// The plan with `digest` set to its content's.
    #[must_use]
    pub fn sealed(mut self) -> Self {
        self.digest = self.content_digest();
        self
    }
}

impl DesiredRecord {
    /// What the file asks of one contract, in the saved plan's shape.
    pub fn of(wanted: &DesiredContract) -> Self {
        let fields =
            wanted.fields.iter().map(|(key, value)| DesiredField { key: key.to_string(), value: *value }).collect();
        let role_sets =
            wanted.role_sets.iter().map(|(key, set)| (key.to_string(), set.iter().copied().collect())).collect();
        DesiredRecord { contract: wanted.deployed.kind.key.to_string(), fields, role_sets }
    }
}

/// Just the layout version, read before anything else.
#[derive(Deserialize)]
struct Version {
    format_version: Option<u64>,
}

/// Loads a saved plan from its text; `file` names it in errors. Checks the
/// size, the layout version, every field, and the digest.
pub fn load(text: &[u8], file: &str) -> Result<Plan, SavedPlanError> {
    if text.len() as u64 > MAX_PLAN_BYTES {
        return Err(SavedPlanError::TooLarge { file: file.to_string(), size: text.len() as u64 });
    }
    let json = |source| SavedPlanError::Json { file: file.to_string(), source };
    let version: Version = serde_json::from_slice(text).map_err(json)?;
    match version.format_version {
        Some(found) if found != u64::from(FORMAT_VERSION) => {
            return Err(SavedPlanError::Version { file: file.to_string(), found });
        }
        _ => {}
    }
    let plan: Plan = match serde_json::from_slice(text) {
        Ok(plan) => plan,
        // What `plan --format json` printed: the same plan with an RFC 3339
        // twin beside each Unix time. The first error is the one to show.
        Err(error) => serde_json::from_slice::<serde_json::Value>(text)
            .ok()
            .map(without_time_twins)
            .and_then(|value| serde_json::from_value(value).ok())
            .ok_or_else(|| json(error))?,
    };
    let computed = plan.content_digest();
    if computed != plan.digest {
        return Err(SavedPlanError::Digest { file: file.to_string(), recorded: plan.digest, computed });
    }
    Ok(plan)
}

/// `document` without the `<key>_rfc3339` members written beside a
/// `timestamp` or `ready_at` member holding a number.
fn without_time_twins(mut document: serde_json::Value) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(object) => {
                for key in ["timestamp", "ready_at"] {
                    if object.get(key).is_some_and(serde_json::Value::is_u64) {
                        object.remove(&format!("{key}_rfc3339"));
                    }
                }
                object.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut document);
    document
}

/// Loads a saved plan from `path`, reading at most [`MAX_PLAN_BYTES`] + 1
/// bytes whatever the file's size.
pub fn load_file(path: &Path) -> Result<Plan, SavedPlanError> {
    let file = path.display().to_string();
    let io = |source| SavedPlanError::Io { file: file.clone(), source };
    let mut text = Vec::new();
    std::fs::File::open(path).and_then(|f| f.take(MAX_PLAN_BYTES + 1).read_to_end(&mut text)).map_err(io)?;
    if text.len() as u64 > MAX_PLAN_BYTES {
        return Err(SavedPlanError::TooLarge { file, size: text.len() as u64 });
    }
    load(&text, &file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
        let text = format!(
            r#"{{"format_version": {FORMAT_VERSION}, "contracts": {}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let error = load(text.as_bytes(), "deep.json").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("deep.json: not a plan saved by"), "{error}");
        assert!(error.contains("line 1 column"), "{error}");
    }

    #[test]
    fn a_plan_larger_than_the_bound_is_refused_before_parsing() {
        let text = vec![b' '; MAX_PLAN_BYTES as usize + 1];
        let error = load(&text, "big.json").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("big.json: 33554433 bytes or more, larger than a saved plan may be"), "{error}");
    }

    #[test]
    fn another_format_version_is_refused_by_name() {
        let error = load(br#"{"format_version": 2, "chain_id": 1}"#, "old.json").err().map(|e| e.to_string());
        let error = error.unwrap_or_default();
        let expected =
            format!("old.json: the plan has format_version 2, but this govstate reads format_version {FORMAT_VERSION}");
        assert!(error.contains(&expected), "{error}");
    }
}
