//! The committed JSON Schema (`schema/govstate.schema.json`) and the example
//! and state files that point at it.

use std::fs;
use std::path::{Path, PathBuf};

use govstate::spec;

const SCHEMA_LINE: &str = "# yaml-language-server: $schema=../schema/govstate.schema.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The schema as committed: pretty JSON with a final newline.
fn live_schema() -> String {
    let pretty = serde_json::to_string_pretty(&spec::json_schema()).expect("JSON");
    format!("{pretty}\n")
}

#[test]
fn the_committed_schema_matches_the_live_one() {
    let path = root().join("schema/govstate.schema.json");
    let live = live_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        fs::write(&path, &live).expect("write the schema");
        return;
    }
    let committed = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == live,
        "schema/govstate.schema.json is stale; regenerate it with \
         `UPDATE_SCHEMA=1 cargo test --test spec_schema` and commit the result"
    );
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(root().join(dir)) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_and_state_file_validates_and_points_at_the_schema() {
    let files: Vec<_> = ["examples", "state"].iter().flat_map(|d| yaml_files(d)).collect();
    assert!(files.len() >= 4, "expected the four runbook examples");
    for file in files {
        let text = fs::read_to_string(&file).expect("read");
        assert!(text.starts_with(SCHEMA_LINE), "{} must start with `{SCHEMA_LINE}`", file.display());
        if let Err(e) = spec::load_file(&file) {
            panic!("{} is invalid:\n{e}", file.display());
        }
    }
}
