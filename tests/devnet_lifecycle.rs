//! `govstate devnet` runs until stopped and never leaves an anvil behind,
//! whichever way it ends.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

struct Running {
    govstate: Child,
    anvil_pid: i32,
    banner: Vec<String>,
}

/// Starts `govstate devnet` on a free port and reads its banner.
fn start_devnet(state: &Path) -> Running {
    let mut govstate = Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["devnet", "--port", "0", "--write-state"])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("govstate starts");
    let stdout = govstate.stdout.take().expect("stdout is piped");
    let banner = read_banner(stdout);
    let anvil_pid = banner
        .iter()
        .find_map(|line| line.split("(anvil pid ").nth(1))
        .and_then(|rest| rest.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("no anvil pid in the banner: {banner:#?}"));
    Running { govstate, anvil_pid, banner }
}

fn read_banner(stdout: ChildStdout) -> Vec<String> {
    let mut banner = Vec::new();
    let mut lines_left = BufReader::new(stdout).lines();
    while let Some(line) = lines_left.next() {
        let line = line.expect("readable stdout");
        let done = line.starts_with("Press Ctrl-C");
        banner.push(line);
        if done {
            drain(lines_left);
            return banner;
        }
    }
    panic!("govstate devnet exited before it was ready: {banner:#?}");
}

/// Keeps reading the rest of stdout so govstate never writes to a closed pipe.
fn drain(lines: std::io::Lines<BufReader<ChildStdout>>) {
    std::thread::spawn(move || lines.for_each(drop));
}

/// True while `pid` is a live process (a zombie waiting to be reaped is dead).
fn is_running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit(')').next().map(|rest| rest.trim_start().starts_with('Z')) == Some(false),
        Err(_) => false,
    }
}

fn wait_until_gone(pid: i32) -> bool {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if !is_running(pid) {
            return true;
        }
        std::thread::yield_now();
    }
    false
}

fn stop_with(signal: i32) -> (std::process::ExitStatus, i32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut running = start_devnet(&dir.path().join("devnet.yaml"));
    assert!(is_running(running.anvil_pid), "anvil runs while the devnet does");
    let pid = i32::try_from(running.govstate.id()).expect("pid fits i32");
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "signal sent");
    let status = running.govstate.wait().expect("govstate exits");
    assert!(wait_until_gone(running.anvil_pid), "anvil (pid {}) outlived govstate", running.anvil_pid);
    (status, running.anvil_pid)
}

#[test]
fn ctrl_c_stops_devnet_and_its_anvil() {
    let (status, _) = stop_with(libc::SIGINT);
    assert!(status.success(), "a clean stop exits 0, got {status}");
}

#[test]
fn sigterm_stops_devnet_and_its_anvil() {
    let (status, _) = stop_with(libc::SIGTERM);
    assert!(status.success(), "a clean stop exits 0, got {status}");
}

#[test]
fn sigkill_of_devnet_takes_its_anvil_down_too() {
    let (status, _) = stop_with(libc::SIGKILL);
    assert!(!status.success());
}

#[test]
fn devnet_prints_the_address_book_and_writes_the_state_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("nested/devnet.yaml");
    let mut running = start_devnet(&state);
    let text = std::fs::read_to_string(&state).expect("state file written");
    for key in ["system_pause", "arena", "stake_manager"] {
        let line = running.banner.iter().find(|l| l.trim_start().starts_with(key));
        let address = line.and_then(|l| l.split_whitespace().nth(1)).unwrap_or_else(|| panic!("{key} in banner"));
        assert!(text.contains(address), "state file names {key} at {address}");
    }
    assert!(text.contains("chain_id: 31337"));
    assert!(!text.contains("Left out"), "the devnet's own file manages every key: {text}");
    assert!(text.contains("reward_splits_bps:"), "{text}");
    let validate = Command::new(env!("CARGO_BIN_EXE_govstate")).arg("validate").arg(&state).output().expect("runs");
    assert_eq!(validate.status.code(), Some(0), "valid as written: {}", String::from_utf8_lossy(&validate.stdout));
    running.govstate.kill().expect("kill");
    running.govstate.wait().expect("wait");
    assert!(wait_until_gone(running.anvil_pid));
}
