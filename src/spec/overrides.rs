//! `--set key.path=value`: a field of the file overridden for one run (the
//! runbook's "pause now, review later"), checked like the file itself.

use std::path::Path;

use serde_json::Value as Json;

use super::{DesiredState, Diagnostic, Spec, SpecError, load_file};

/// Loads the file at `path` with each `key.path=value` override applied;
/// the result passes the same checks as the file alone.
pub fn load_file_with_overrides(path: &Path, overrides: &[String]) -> Result<Spec, SpecError> {
    let spec = load_file(path)?;
    if overrides.is_empty() {
        return Ok(spec);
    }
    let file = format!("{} (with --set)", path.display());
    let invalid = |path: &str, message: String| SpecError::invalid(&file, vec![Diagnostic::new(path, message)]);
    let mut tree = serde_json::to_value(spec.state()).map_err(|e| invalid("", e.to_string()))?;
    for item in overrides {
        let (key, value) = parse(item).map_err(|message| invalid(item, message))?;
        set(&mut tree, &key, value).map_err(|message| invalid(&key, message))?;
    }
    let state: DesiredState =
        serde_json::from_value(tree).map_err(|e| invalid("--set", format!("the overridden file is not valid: {e}")))?;
    Spec::from_state(state, &file)
}

/// `arena.paused=true` → (`arena.paused`, `true`); the value is read as YAML.
fn parse(item: &str) -> Result<(String, Json), String> {
    let (key, value) = item.split_once('=').ok_or("expected KEY=VALUE, e.g. arena.paused=true")?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!("{key:?} is not a key path like arena.paused"));
    }
    let value: serde_yaml::Value =
        serde_yaml::from_str(value.trim()).map_err(|e| format!("the value does not parse: {e}"))?;
    let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
    Ok((key.to_string(), value))
}

/// Sets `value` at a dotted key path, creating sections on the way.
fn set(tree: &mut Json, key: &str, value: Json) -> Result<(), String> {
    let mut node = tree;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Json::Object(map) = node else {
            return Err(format!("{} is not a section", parts[..i].join(".")));
        };
        if i + 1 == parts.len() {
            map.insert((*part).to_string(), value);
            return Ok(());
        }
        node = map.entry((*part).to_string()).or_insert_with(|| Json::Object(Default::default()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "version: 1\nchain_id: 31337\ncontracts:\n  arena: { address: \"0x5FbDB2315678afecb367f032d93F642f64180aa3\" }\narena:\n  paused: false\n";

    fn with(overrides: &[&str]) -> Result<Spec, SpecError> {
        let dir = tempfile::tempdir().map_err(|source| SpecError::Io { file: "tmp".into(), source })?;
        let path = dir.path().join("x.yaml");
        std::fs::write(&path, FILE).map_err(|source| SpecError::Io { file: "tmp".into(), source })?;
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        load_file_with_overrides(&path, &overrides)
    }

    #[test]
    fn an_override_replaces_a_written_field() {
        let spec = with(&["arena.paused=true"]).expect("valid");
        assert_eq!(spec.state().arena.as_ref().and_then(|a| a.paused), Some(true));
    }

    #[test]
    fn an_override_may_add_a_key_the_file_leaves_out() {
        let spec = with(&["arena.target_success_rate_bps=6000"]).expect("valid");
        assert_eq!(spec.state().arena.as_ref().and_then(|a| a.target_success_rate_bps), Some(6000));
    }

    #[test]
    fn a_mistyped_or_invalid_override_is_an_error() {
        assert!(with(&["arena.pausd=true"]).is_err());
        assert!(with(&["arena.paused"]).is_err());
        assert!(with(&["arena.target_success_rate_bps=0"]).is_err());
    }
}
