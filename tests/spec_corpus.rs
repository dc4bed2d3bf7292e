//! The invalid-file corpus (`tests/spec_invalid/`, one mistake per file) and the
//! valid fixtures (`tests/spec_valid/`).
//!
//! Each invalid file states its expectation in its first comment lines:
//! `# expect-path:` (the exact key path, empty for the whole document),
//! `# expect-message:` (a fragment of the message), and optionally
//! `# expect-line:` (the line the diagnostic must carry) and `# expect-count:`
//! (how many diagnostics; 1 by default).

use std::fs;
use std::path::{Path, PathBuf};

use govstate::spec::{self, DesiredState, Diagnostic, SpecError};

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

struct Expectation {
    path: String,
    message: String,
    line: Option<usize>,
    count: usize,
}

fn header(text: &str, key: &str) -> Option<String> {
    let prefix = format!("# {key}:");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().to_owned())
}

fn expectation(file: &Path, text: &str) -> Expectation {
    let need = |key| header(text, key).unwrap_or_else(|| panic!("{}: no `# {key}:`", file.display()));
    let number = |key| header(text, key).map(|v| v.parse().expect("a number"));
    Expectation {
        path: need("expect-path"),
        message: need("expect-message"),
        line: number("expect-line"),
        count: number("expect-count").unwrap_or(1),
    }
}

fn diagnostics(file: &Path) -> Result<Vec<Diagnostic>, String> {
    match spec::load_file(file) {
        Ok(_) => Err("loaded, but it should be invalid".to_owned()),
        Err(SpecError::Invalid { diagnostics, .. }) => Ok(diagnostics),
        Err(other) => Err(format!("failed for another reason: {other}")),
    }
}

/// Checks one corpus file; `Err` says what did not match.
fn check_invalid(file: &Path) -> Result<(), String> {
    let text = fs::read_to_string(file).map_err(|e| e.to_string())?;
    let expected = expectation(file, &text);
    let found = diagnostics(file)?;
    let listing = found.iter().map(|d| format!("\n    {d}")).collect::<String>();
    let matches = |d: &&Diagnostic| {
        d.path == expected.path
            && d.message.contains(&expected.message)
            && expected.line.is_none_or(|line| d.line == Some(line))
            && d.file == file.display().to_string()
    };
    if !found.iter().any(|d| matches(&d)) {
        return Err(format!(
            "no diagnostic at `{}` containing {:?} (line {:?}); got:{listing}",
            expected.path, expected.message, expected.line
        ));
    }
    if found.len() != expected.count {
        return Err(format!("expected {} diagnostic(s), got:{listing}", expected.count));
    }
    Ok(())
}

#[test]
fn every_invalid_file_fails_with_its_expected_path_message_and_line() {
    let files = yaml_files("tests/spec_invalid");
    assert!(files.len() >= 45, "the corpus has only {} files", files.len());
    let failures: Vec<String> =
        files.iter().filter_map(|f| check_invalid(f).err().map(|e| format!("{}: {e}", f.display()))).collect();
    assert!(failures.is_empty(), "{} file(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_diagnostic_of_a_key_in_the_file_carries_a_line() {
    for file in yaml_files("tests/spec_invalid") {
        for d in diagnostics(&file).unwrap_or_default() {
            let missing_key = d.message.starts_with("missing required key");
            let whole_empty_file = d.path.is_empty() && d.message.contains("no settings");
            if !missing_key && !whole_empty_file {
                assert!(d.line.is_some() && d.column.is_some(), "{}: {d}", file.display());
            }
        }
    }
}

#[test]
fn a_file_with_three_separate_mistakes_yields_three_diagnostics() {
    let text = r#"
version: 1
chain_id: 31337
contracts:
  arena: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3" }
  stake_manager: { address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" }
arena:
  orchestrator: ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"]
  reward_splits_bps: { teacher: 6000, student: 4000, validator: 2000 }
stake_manager:
  governance: "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
"#;
    let Err(SpecError::Invalid { diagnostics, .. }) = spec::load_str(text, "three.yaml") else {
        panic!("three mistakes must be reported");
    };
    let found: Vec<_> = diagnostics.iter().map(|d| (d.path.as_str(), d.line)).collect();
    assert_eq!(
        found,
        [("arena.orchestrator", Some(8)), ("arena.reward_splits_bps", Some(9)), ("stake_manager.governance", Some(11)),],
        "{diagnostics:#?}"
    );
}

#[test]
fn a_zero_byte_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("empty.yaml");
    fs::write(&file, "").expect("write");
    let err = spec::load_file(&file).expect_err("an empty file is invalid");
    assert!(err.to_string().contains("no settings"), "{err}");
}

#[test]
fn every_valid_fixture_loads() {
    let files = yaml_files("tests/spec_valid");
    assert!(files.len() >= 4);
    for file in files {
        if let Err(e) = spec::load_file(&file) {
            panic!("{} should be valid:\n{e}", file.display());
        }
    }
}

/// serde's derived `Deserialize` and the loader agree on every key name: the
/// full example writes every key the schema knows (checked below), and both
/// read it to the same value.
#[test]
fn serde_and_the_loader_read_the_full_example_alike() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spec_valid/full.yaml");
    let text = fs::read_to_string(&file).expect("read");
    let loaded = spec::load_str(&text, "full.yaml").expect("valid").into_state();
    let derived: DesiredState = serde_yaml::from_str(&text).expect("serde reads it");
    assert_eq!(loaded, derived);
}

#[test]
fn the_full_example_writes_every_key_of_the_schema() {
    let schema = spec::json_schema();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spec_valid/full.yaml");
    let text = fs::read_to_string(&file).expect("read");
    let doc: serde_json::Value = serde_yaml::from_str(&text).expect("yaml");
    let mut missing = Vec::new();
    collect_missing(&schema, &schema, &doc, "", &mut missing);
    assert!(missing.is_empty(), "keys not written in full.yaml: {missing:?}");
}

fn collect_missing(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    doc: &serde_json::Value,
    path: &str,
    missing: &mut Vec<String>,
) {
    let schema = resolve(root, schema);
    let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) else {
        return;
    };
    for (key, sub) in properties {
        let here = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        match doc.get(key) {
            Some(value) => collect_missing(root, sub, value, &here, missing),
            None => missing.push(here),
        }
    }
}

fn resolve<'a>(root: &'a serde_json::Value, schema: &'a serde_json::Value) -> &'a serde_json::Value {
    match schema.get("$ref").and_then(|r| r.as_str()) {
        Some(reference) => {
            let name = reference.trim_start_matches("#/$defs/");
            &root["$defs"][name]
        }
        None => schema,
    }
}

/// The command line gives the same verdict: `govstate validate --format json`
/// exits 1 for every invalid file and names the expected key path and message.
#[test]
fn validate_exits_1_and_names_the_key_path_for_every_invalid_file() {
    let mut failures = Vec::new();
    for file in yaml_files("tests/spec_invalid") {
        let text = fs::read_to_string(&file).expect("readable");
        let expected = expectation(&file, &text);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
            .args(["validate", "--format", "json"])
            .arg(&file)
            .output()
            .expect("govstate runs");
        let reports: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        // One shape whatever the number of files: a list.
        let report = &reports[0];
        let named = report["diagnostics"].as_array().into_iter().flatten().any(|d| {
            d["path"] == expected.path.as_str() && d["message"].as_str().is_some_and(|m| m.contains(&expected.message))
        });
        if output.status.code() != Some(1) || report["valid"] != false || !named {
            failures.push(format!("{}: exit {:?}, report {report}", file.display(), output.status.code()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every committed desired-state file validates from the command line.
#[test]
fn validate_accepts_every_file_in_state_and_examples() {
    let mut files = yaml_files("state");
    files.extend(yaml_files("examples"));
    assert!(files.len() >= 5, "state/ and examples/ hold the runbook files");
    let output =
        std::process::Command::new(env!("CARGO_BIN_EXE_govstate")).arg("validate").args(&files).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}
