//! Untrusted files of absurd size or depth are refused quickly, with a
//! clear error naming the file, and bounded memory: a 50 MB desired-state
//! file is not read past the bound, a deeply nested one is not recursed into.

use std::process::Command;

fn validate(path: &std::path::Path) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_govstate"))
        .arg("validate")
        .arg(path)
        .env("NO_COLOR", "1")
        .output()
        .expect("govstate runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout),
    )
}

#[test]
fn a_fifty_megabyte_desired_state_file_is_refused_naming_the_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.yaml");
    std::fs::write(&path, format!("version: 1\n#{}\n", "x".repeat(50 * 1024 * 1024))).expect("written");
    let (code, output) = validate(&path);
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("huge.yaml"), "{output}");
    assert!(output.contains("the file is larger than a desired-state file may be (8388608 bytes)"), "{output}");
}

#[test]
fn a_deeply_nested_desired_state_file_is_refused_without_overflowing_the_stack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("deep.yaml");
    std::fs::write(&path, format!("version: 1\narena: {}{}\n", "[".repeat(200_000), "]".repeat(200_000)))
        .expect("written");
    let (code, output) = validate(&path);
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("deep.yaml") && output.contains("YAML syntax error: recursion limit exceeded"), "{output}");
}
