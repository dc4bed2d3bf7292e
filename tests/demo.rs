//! `govstate demo` runs end to end on its own throwaway chain.

use std::process::Command;

#[test]
fn demo_plans_applies_converges_and_then_sees_drift() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_govstate")).arg("demo").env("NO_COLOR", "1").output().expect("demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "demo failed: {}", String::from_utf8_lossy(&output.stderr));
    let steps = [
        "== 3. govstate plan",
        "Plan: 6 calls in 4 phases.",
        "== 4. govstate apply",
        "verified: observing again finds the promised state",
        "== 5. govstate plan, again",
        "No changes. The chain matches",
        "== 6. Someone changes the chain behind govstate's back",
        "- orchestrators: 0x90F79bf6EB2c4f870365E785982E1f101E93b906",
        "Plan: 1 call in 1 phase.",
    ];
    let mut rest = stdout.as_ref();
    for step in steps {
        let at = rest.find(step).unwrap_or_else(|| panic!("{step:?} missing or out of order in:\n{stdout}"));
        rest = &rest[at + step.len()..];
    }
    assert_eq!(stdout.matches("success in block").count(), 6, "{stdout}");
}

#[test]
fn the_production_demo_names_an_emergency_account_then_pauses_everything_at_once_and_schedules_the_rest() {
    let output = Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["demo", "--topology", "production"])
        .env("NO_COLOR", "1")
        .output()
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "demo failed: {}", String::from_utf8_lossy(&output.stderr));
    let steps = [
        "== 3. govstate plan --simulate",
        "The system pause waits for the timelock",
        "through TimelockController",
        "The routes run at different times",
        "the fork converged to the promised state",
        "== 4. Naming an emergency account",
        "scheduleBatch(1 call)",
        "executeBatch(1 call)",
        "== 5. The incident again",
        "pause(modules.job_registry",
        "sent now by 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "pause()",
        "scheduleBatch(4 calls)",
        "Scheduled operation 0x",
        "== 7. govstate apply",
        "executeBatch(4 calls)",
        "verified: observing again finds the promised state",
        "== 8. govstate plan, again",
        "No changes. The chain matches",
    ];
    let mut rest = stdout.as_ref();
    for step in steps {
        let at = rest.find(step).unwrap_or_else(|| panic!("{step:?} missing or out of order in:\n{stdout}"));
        rest = &rest[at + step.len()..];
    }
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
    assert!(stderr.contains("could not start anvil at /nonexistent/anvil"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
