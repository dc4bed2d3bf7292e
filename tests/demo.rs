//! `govstate demo` runs end to end on its own throwaway chain.

use std::process::Command;

#[test]
fn demo_deploys_reads_and_exits_zero() {
    let output = Command::new(env!("CARGO_BIN_EXE_govstate"))
        .arg("demo")
        .output()
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "system_pause (SystemPause) at 0x",
        "arena (SelfPlayArena) at 0x",
        "stake_manager (StakeManager) at 0x",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    assert!(
        stdout.contains("reward_splits_bps.teacher    10000 bps"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unbonding_period           604800 (7d)"),
        "{stdout}"
    );
}

#[test]
fn a_missing_anvil_is_an_error_not_a_panic() {
    let output = Command::new(env!("CARGO_BIN_EXE_govstate"))
        .arg("demo")
        .env("GOVSTATE_ANVIL", "/nonexistent/anvil")
        .output()
        .expect("demo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("could not start anvil at /nonexistent/anvil"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
