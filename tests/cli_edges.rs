//! The CLI's edges, each found by trying to break it: usage errors are
//! exit 1 (never the 2 scripts read as "changes"), an explicit signer flag
//! wins over the environment, machine output stays machine-readable with
//! `--diff`, prompts go to stderr, `--set` goes through the file's parser,
//! and a `deployed_block` after the deployment is refused.

mod common;

use alloy::primitives::Address;
use alloy::sol_types::SolCall;
use common::TestChain;
use govstate::contracts::arena::SelfPlayArena;

const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

struct Setup {
    chain: TestChain,
    _dir: tempfile::TempDir,
    file: String,
}

async fn setup() -> Setup {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = chain.write_state_file(dir.path()).await.display().to_string();
    Setup { chain, _dir: dir, file }
}

#[tokio::test]
async fn a_usage_error_exits_1_even_with_detailed_exitcode() {
    let s = setup().await;
    let (code, _, stderr) = s.chain.govstate(&["plan", &s.file, "--detailed-exitcode", "--log-chunk-blocks", "abc"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("--log-chunk-blocks"), "{stderr}");
}

#[tokio::test]
async fn an_explicit_private_key_wins_over_an_exported_keystore() {
    let s = setup().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["apply", &s.file, "--yes", "--no-cache", "--private-key", OWNER_KEY, "--set", "arena.paused=true"])
        .env("ETH_RPC_URL", s.chain.devnet.url().as_str())
        .env("ETH_KEYSTORE", "/nonexistent/keystore.json")
        .env("NO_COLOR", "1")
        .output()
        .expect("govstate runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("cannot be used with"), "{stderr}");
}

#[tokio::test]
async fn plan_json_with_diff_is_one_json_document_carrying_the_diff() {
    let s = setup().await;
    let (code, stdout, stderr) =
        s.chain.govstate(&["plan", &s.file, "--no-cache", "--format", "json", "--diff", "--set", "arena.paused=true"]);
    assert_eq!(code, Some(0), "{stderr}");
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is exactly one JSON document");
    let diff = document["diff"].as_str().unwrap_or_default();
    assert!(diff.contains("-  paused: false") && diff.contains("+  paused: true"), "{diff}");
    assert_eq!(document["calls"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn plan_markdown_with_diff_fences_the_diff_so_it_renders_as_code() {
    let s = setup().await;
    let (code, stdout, stderr) = s.chain.govstate(&[
        "plan",
        &s.file,
        "--no-cache",
        "--format",
        "markdown",
        "--diff",
        "--set",
        "stake_manager.fees_pct.fee=4",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let fence = stdout.find("```diff\n").expect("a fenced diff");
    let end = stdout[fence + 8..].find("```").map(|e| fence + 8 + e).expect("the fence is closed");
    let inside = &stdout[fence + 8..end];
    assert!(inside.contains("-    fee: 0") && inside.contains("+    fee: 4"), "{inside}");
    // Nothing of the diff outside the fence, where `-`/`+`/`#` lines would
    // render as lists and headings.
    let outside = format!("{}{}", &stdout[..fence], &stdout[end + 3..]);
    assert!(
        !outside.lines().any(|l| l.starts_with("-    ") || l.starts_with("+    ") || l.starts_with("@@")),
        "{stdout}"
    );
    // The file's path, the block hash and so the digest change from run to run.
    let stable: Vec<String> = stdout
        .replace(&s.file, "FILE")
        .lines()
        .map(|line| match line.split_once("(`0x") {
            Some((head, _)) if line.starts_with("Chain ") => format!("{head}(`BLOCK HASH`)."),
            _ if line.starts_with("Plan digest: ") => "Plan digest: `DIGEST`".to_string(),
            _ => line.to_string(),
        })
        .collect();
    insta::assert_snapshot!("plan_markdown_with_diff", stable.join("\n"));
}

#[tokio::test]
async fn a_refused_ownership_change_keeps_json_stdout_clean() {
    let s = setup().await;
    let stranger = Address::repeat_byte(0x77).to_checksum(None);
    let set = format!("arena.owner={stranger}");
    let (code, stdout, stderr) = s.chain.govstate(&["plan", &s.file, "--no-cache", "--format", "json", "--set", &set]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.trim().is_empty(), "no diff on stdout: {stdout}");
    assert!(stderr.contains("--allow-ownership-transfer") && stderr.contains("+  owner"), "{stderr}");
}

#[tokio::test]
async fn the_confirmation_prompt_goes_to_stderr_not_to_redirected_stdout() {
    // A real terminal on stdin, stdout to a file: the prompt must be seen.
    let s = setup().await;
    let Ok(script) = which("script") else {
        panic!("`script` (util-linux) is needed to give govstate a terminal");
    };
    let out = s._dir.path().join("out.txt");
    let command = format!(
        "{} apply {} --no-cache --private-key {OWNER_KEY} --set arena.paused=true > {} 2>{}",
        env!("CARGO_BIN_EXE_govstate"),
        s.file,
        out.display(),
        s._dir.path().join("err.txt").display()
    );
    let status = std::process::Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .env("ETH_RPC_URL", s.chain.devnet.url().as_str())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            if let Some(stdin) = child.stdin.as_mut() {
                let _ = stdin.write_all(b"n\n");
            }
            child.wait()
        })
        .expect("script runs");
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(s._dir.path().join("err.txt")).unwrap_or_default();
    assert!(!stdout.contains("[y/N]"), "the prompt is not in stdout: {stdout}");
    // The prompt says the most a transaction may pay per gas.
    assert!(
        stderr.contains("Apply these 1 calls, at most ") && stderr.contains(" gwei per gas? [y/N]"),
        "status {status:?}; stderr: {stderr}"
    );
    assert!(stdout.contains("Fees: at most"), "the fee is shown before the prompt: {stdout}");
    assert!(stdout.contains("Nothing was sent."), "{stdout}");
}

fn which(name: &str) -> Result<String, ()> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':').map(|dir| format!("{dir}/{name}")).find(|p| std::path::Path::new(p).is_file()).ok_or(())
}

#[tokio::test]
async fn set_refuses_an_empty_value_and_takes_an_amount_past_u128_like_the_file() {
    let s = setup().await;
    for empty in ["arena.paused=", "arena.paused=~"] {
        let (code, stdout, stderr) = s.chain.govstate(&["plan", &s.file, "--no-cache", "--set", empty]);
        assert_eq!(code, Some(1), "{empty}: {stdout}{stderr}");
        assert!(stderr.contains("arena.paused"), "{stderr}");
    }
    let (code, stdout, stderr) = s.chain.govstate(&[
        "plan",
        &s.file,
        "--no-cache",
        "--detailed-exitcode",
        "--set",
        "arena.rewards.teacher=200000000000000000000",
    ]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("200000000000000000000 (200 ether)"), "{stdout}");
}

#[tokio::test]
async fn a_deployed_block_after_the_deployment_is_refused_instead_of_hiding_holders() {
    let s = setup().await;
    let arena = s.chain.address("arena");
    let early = Address::repeat_byte(0x42);
    s.chain
        .send(0, arena, SelfPlayArena::setOrchestratorCall { orchestrator: early, allowed: true }.abi_encode())
        .await;
    let later = alloy::providers::Provider::get_block_number(&s.chain.reader()).await.expect("block") + 1;
    let text = std::fs::read_to_string(&s.file).expect("file");
    let deployed =
        s.chain.devnet.deployment().contracts.iter().find(|c| c.kind.key == "arena").and_then(|c| c.deployed_block);
    let from = format!("deployed_block: {}", deployed.expect("known"));
    let wrong = text.replacen(&from, &format!("deployed_block: {later}"), 1);
    assert_ne!(wrong, text);
    std::fs::write(&s.file, wrong).expect("written");
    let (code, stdout, stderr) = s.chain.govstate(&["plan", &s.file, "--no-cache"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains(&format!("contracts.arena.deployed_block is {later}")), "{stderr}");
    assert!(stderr.contains("already has code"), "{stderr}");
}
