//! Shell completions and the man page come from the same clap definitions
//! as the parser, and cover the newest commands and flags.

use std::process::Command;

fn govstate(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_govstate")).args(args).output().expect("govstate runs");
    (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn completions_for_bash_zsh_and_fish_know_every_command_and_drift_flag() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, script) = govstate(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}");
        // Flags without their dashes: fish writes `-l prometheus-out`.
        for word in ["validate", "plan", "apply", "drift", "import", "prometheus-out", "webhook", "stake-manager"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error_that_exits_1() {
    let output = Command::new(env!("CARGO_BIN_EXE_govstate")).args(["completions", "cmd.exe"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("possible values"), "the error lists the shells");
}

#[test]
fn the_man_page_is_roff_for_section_1_listing_the_commands() {
    let (code, page) = govstate(&["man"]);
    assert_eq!(code, Some(0));
    assert!(page.lines().any(|l| l.starts_with(".TH govstate 1")), "{page}");
    for command in ["drift", "import", "completions"] {
        assert!(page.contains(command), "the man page lacks {command}");
    }
}
