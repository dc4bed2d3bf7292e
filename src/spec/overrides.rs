//! `--set key.path=value`: a field of the file overridden for one run (the
//! runbook's "pause now, review later"), checked like the file itself.

use std::path::Path;

use serde_yaml::Value as Yaml;

use super::{Diagnostic, Spec, SpecError, load_file, load_str};

/// Loads the file at `path` with each `key.path=value` override applied;
/// the value goes through exactly the file's parser and rules (it is
/// written into the file's text as it was typed), so `--set` accepts and
/// refuses what the file would.
pub fn load_file_with_overrides(path: &Path, overrides: &[String]) -> Result<Spec, SpecError> {
    let spec = load_file(path)?;
    if overrides.is_empty() {
        return Ok(spec);
    }
    let file = format!("{} (with --set)", path.display());
    let invalid = |path: &str, message: String| SpecError::invalid(&file, vec![Diagnostic::new(path, message)]);
    let mut tree: Yaml = serde_yaml::from_str(&spec.to_yaml()).map_err(|e| invalid("", e.to_string()))?;
    let mut typed = Vec::with_capacity(overrides.len());
    for (n, item) in overrides.iter().enumerate() {
        let (key, value) = parse(item).map_err(|message| invalid(item, message))?;
        let placeholder = format!("govstate-set-placeholder-{n}");
        set(&mut tree, &key, Yaml::String(placeholder.clone())).map_err(|message| invalid(&key, message))?;
        typed.push((placeholder, value));
    }
    let mut text = serde_yaml::to_string(&tree).map_err(|e| invalid("", e.to_string()))?;
    for (placeholder, value) in typed {
        text = text.replacen(&placeholder, &value, 1);
    }
    load_str(&text, &file)
}

/// `arena.paused=true` → (`arena.paused`, `true`): the value as typed, a
/// YAML scalar or flow collection on one line.
fn parse(item: &str) -> Result<(String, String), String> {
    let (key, value) = item.split_once('=').ok_or("expected KEY=VALUE, e.g. arena.paused=true")?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!("{key:?} is not a key path like arena.paused"));
    }
    let value = value.trim();
    if value.contains('\n') || value.starts_with('#') {
        return Err("expected a value on one line, e.g. true, 4, \"150 ether\" or [\"0x…\"]".to_string());
    }
    Ok((key.to_string(), value.to_string()))
}

/// Sets `value` at a dotted key path, creating sections on the way.
fn set(tree: &mut Yaml, key: &str, value: Yaml) -> Result<(), String> {
    let mut node = tree;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Yaml::Mapping(map) = node else {
            return Err(format!("{} is not a section", parts[..i].join(".")));
        };
        if i + 1 == parts.len() {
            map.insert(Yaml::String((*part).to_string()), value);
            return Ok(());
        }
        node = map.entry(Yaml::String((*part).to_string())).or_insert_with(|| Yaml::Mapping(Default::default()));
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

    #[test]
    fn an_empty_or_null_override_is_refused_as_the_file_refuses_it_not_unmanaged() {
        for empty in ["arena.paused=", "arena.paused=~", "arena.paused=null"] {
            let error = with(&[empty]).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("arena.paused"), "{empty}: {error}");
        }
    }

    #[test]
    fn an_override_takes_what_the_file_takes_big_amounts_and_unquoted_addresses() {
        let spec = with(&["arena.rewards.teacher=200000000000000000000"]).expect("valid");
        let teacher = spec.state().arena.as_ref().and_then(|a| a.rewards.as_ref()).and_then(|r| r.teacher);
        assert_eq!(teacher.map(|t| t.get().to_string()), Some("200000000000000000000".to_string()));
        let spec = with(&["arena.owner=0x00000000000000000000000000000000000000e1"]).expect("valid");
        assert!(spec.state().arena.as_ref().and_then(|a| a.owner).is_some());
    }
}
