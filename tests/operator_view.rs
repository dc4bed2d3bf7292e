//! The operator's view (issue 19): what govstate wrote can be read back,
//! names the reviewed file and its commit, and each call with its arguments.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TestChain, receipts};

/// anvil's first development key (public, from the test mnemonic).
const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// Runs git in `dir` and returns its trimmed output.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applied_leaves_a_receipt_naming_the_reviewed_file_its_commit_the_digest_and_each_call_with_its_arguments()
 {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "devnet.yaml"]);
    git(dir.path(), &["commit", "-q", "-m", "the reviewed change"]);
    let commit = git(dir.path(), &["rev-parse", "HEAD"]);
    let (file, plan_file) = (file.to_string_lossy().into_owned(), dir.path().join("fee.plan.json"));
    let plan_path = plan_file.to_string_lossy().into_owned();
    let receipts_dir = dir.path().join("receipts").to_string_lossy().into_owned();

    let set = "--set=stake_manager.fees_pct.fee=5";
    let (code, stdout, stderr) = chain.govstate(&["plan", &file, set, "--no-cache", "--out", &plan_path]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&plan_file).expect("plan")).expect("json");
    assert_eq!(saved["source"]["file"], file.as_str(), "the plan names the file it was made from");
    assert_eq!(saved["source"]["commit"], commit.as_str());

    let args = ["apply", &plan_path, "--no-cache", "--private-key", OWNER_KEY, "--receipts-dir", &receipts_dir];
    let (code, stdout, stderr) = chain.govstate(&args);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("      setFeePct(fees_pct.fee: 5%)\n"), "apply shows the call with its argument: {stdout}");

    let receipt = &receipts(Path::new(&receipts_dir))[0];
    assert_eq!(receipt["reviewed"]["file"], file.as_str(), "{receipt}");
    assert_eq!(receipt["reviewed"]["commit"], commit.as_str(), "{receipt}");
    assert_eq!(receipt["plan_digest"], saved["digest"], "{receipt}");
    let sent = &receipt["transactions"][0];
    assert_eq!(sent["decoded"], "setFeePct(fees_pct.fee: 5%)", "{sent}");
    assert_eq!(sent["args"][0]["name"], "fees_pct.fee", "{sent}");
    assert!(!receipt.to_string().contains(&OWNER_KEY[2..]), "the key is never in a receipt");

    let receipt_file = std::fs::read_dir(&receipts_dir)
        .expect("receipts")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a receipt file");
    let receipt_path = receipt_file.to_string_lossy().into_owned();
    let (code, shown, stderr) = chain.govstate(&["show", &plan_path]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(shown.contains(&format!("Made from {file} at commit {}", &commit[..12])), "{shown}");
    assert!(shown.contains("configure  stake_manager  setFeePct(fees_pct.fee: 5%)"), "{shown}");
    let (code, shown, stderr) = chain.govstate(&["show", &receipt_path]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(shown.contains(&format!("reviewed      {file} at commit {}", &commit[..12])), "{shown}");
    assert!(shown.contains("success in block") && shown.contains("setFeePct(fees_pct.fee: 5%)"), "{shown}");
    assert!(shown.contains("~ stake_manager.fees_pct.fee: 0% → 5%"), "before and after: {shown}");
    assert!(shown.contains("      fee: ") && shown.contains(" gas at "), "fees: {shown}");

    let (code, json, stderr) = chain.govstate(&["show", "--format", "json", &plan_path, &receipt_path]);
    assert_eq!(code, Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(json[0]["kind"], "plan");
    assert_eq!(json[1]["kind"], "receipt");
    assert_eq!(json[1]["receipt"]["plan_digest"], saved["digest"]);
    let (code, markdown, _) = chain.govstate(&["show", "--format", "markdown", &receipt_path]);
    assert_eq!(code, Some(0));
    assert!(
        markdown.contains("| 1 | configure | stake_manager | `setFeePct(fees_pct.fee: 5%)` | success in block"),
        "{markdown}"
    );

    let explorer = "https://explorer.example/tx/{hash}";
    let (code, report, stderr) = chain.govstate(&["report", &receipt_path, "--explorer", explorer]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(report.contains("| stake_manager | fees_pct.fee | `0%` | `5%` |"), "{report}");
    let hash = sent["hash"].as_str().unwrap_or_default();
    assert!(report.contains(&format!("(https://explorer.example/tx/{hash})")), "{report}");
    let (code, json, _) = chain.govstate(&["report", "--format", "json", &receipt_path]);
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(json["transactions"][0]["hash"], hash);
    let (code, _, stderr) = chain.govstate(&["report", &plan_path]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("is a saved plan, not a receipt"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn planning_a_saved_plan_points_at_show_instead_of_listing_unknown_keys() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let plan_path = dir.path().join("p.plan.json").to_string_lossy().into_owned();
    let (code, _, stderr) = chain.govstate(&["plan", &file, "--no-cache", "--out", &plan_path]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = chain.govstate(&["plan", &plan_path]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains(&format!("`govstate show {plan_path}` reads it back")), "{stderr}");
    assert!(!stderr.contains("unknown key"), "{stderr}");
}

#[test]
fn a_receipt_outside_any_git_repository_says_so_and_still_shows() {
    let reviewed = govstate::plan::Reviewed { file: "state/x.yaml".into(), commit: None, uncommitted: false };
    assert_eq!(govstate::render::reviewed_line(&reviewed), "state/x.yaml (not in a git repository)");
}

#[test]
fn help_about_help_is_help_not_an_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_govstate")).args(["help", "--help"]).output().expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("Usage: govstate <COMMAND>"), "{stdout}");
    let output = Command::new(env!("CARGO_BIN_EXE_govstate")).args(["help", "plan", "-h"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: govstate plan"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_for_another_topology_is_told_its_address_looks_like_another_contract() {
    let chain = TestChain::start_wired(govstate::devnet::Topology::Production { timelock_delay: 60 }).await;
    let (code, _, stderr) = chain.govstate(&["plan", "examples/emergency-pause.yaml", "--no-cache"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("does not look like a SystemPause (its governance() reverted): is this the right address for contracts.system_pause.address?"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_names_the_transaction_block_and_sender_that_last_changed_each_drifted_field() {
    use alloy::sol_types::SolCall;
    use govstate::contracts::arena::SelfPlayArena;
    use govstate::contracts::stake_manager::StakeManager;
    let chain = TestChain::start().await;
    let (second, _) = chain.account(1);
    // The arena changes hands first; the file is written after, so only
    // what follows is drift.
    let handover = SelfPlayArena::transferOwnershipCall { newOwner: second }.abi_encode();
    chain.send(0, chain.address("arena"), handover).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();

    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(7) }.abi_encode();
    let fee_receipt = chain.send(0, chain.address("stake_manager"), fee).await;
    let rogue = govstate::devnet::dev_signer(3).expect("account 3").address();
    let grant = SelfPlayArena::setOrchestratorCall { orchestrator: rogue, allowed: true }.abi_encode();
    let grant_receipt = chain.send(1, chain.address("arena"), grant).await;

    let (code, json, stderr) = chain.govstate(&["drift", &file, "--format", "json", "--no-cache"]);
    assert_eq!(code, Some(2), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    let drift = report["deployments"][0]["drift"].as_array().cloned().unwrap_or_default();
    let change_of =
        |field: &str| drift.iter().find(|d| d["field"] == field).map(|d| d["last_change"].clone()).unwrap_or_default();
    let fee_change = change_of("fees_pct.fee");
    assert_eq!(fee_change["transaction"], fee_receipt.transaction_hash.to_string(), "{drift:?}");
    assert_eq!(fee_change["block"], fee_receipt.block_number.expect("mined"));
    assert_eq!(fee_change["sender"], chain.devnet.owner().to_string());
    assert_eq!(fee_change["event"], "FeePctUpdated");
    let grant_change = change_of("orchestrators");
    assert_eq!(grant_change["transaction"], grant_receipt.transaction_hash.to_string(), "{drift:?}");
    assert_eq!(grant_change["sender"], second.to_string(), "the other account granted it");
    assert_eq!(grant_change["event"], "OrchestratorUpdated");
    assert!(grant_change["time_rfc3339"].as_str().is_some_and(|t| t.ends_with('Z')), "{grant_change}");

    let (_, text, _) = chain.govstate(&["drift", &file, "--no-cache"]);
    let line = format!("last changed by {second} in block {}", grant_receipt.block_number.expect("mined"));
    assert!(text.contains(&line), "{text}");
    assert!(text.contains(&format!("transaction {} (FeePctUpdated)", fee_receipt.transaction_hash)), "{text}");
}

/// A TCP forwarder to `target` that can be switched off: the endpoint goes
/// down (connections refused, open ones cut) and comes back.
struct Switch {
    url: String,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Switch {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (is_up, tasks) = (up.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !is_up.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: the connection is closed at once
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().expect("lock").push(task);
            }
        });
        Switch { url, up, open }
    }

    fn set(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::SeqCst);
        if !up {
            for task in self.open.lock().expect("lock").drain(..) {
                task.abort();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_healthz_is_503_with_the_reason_while_the_endpoint_is_down_and_200_again_after() {
    use tokio::io::AsyncBufReadExt;
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let anvil = chain.devnet.url().as_str().trim_start_matches("http://").trim_end_matches('/').to_string();
    let switch = Switch::start(anvil).await;
    let args = ["drift", &file, "--watch", "1s", "--listen", "127.0.0.1:0", "--rpc-url", &switch.url, "--no-cache"];
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(args)
        .env_remove("ETH_RPC_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starts");
    let mut stderr = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let banner = stderr.next_line().await.expect("readable").unwrap_or_default();
    let address = banner.split("http://").nth(1).and_then(|s| s.split('/').next()).expect("an address").to_string();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let client = alloy::transports::http::reqwest::Client::builder().build().expect("client");
    let get = |route: &str| {
        let (client, url) = (client.clone(), format!("http://{address}{route}"));
        async move {
            let response = client.get(url).send().await.ok()?;
            Some((response.status().as_u16(), response.text().await.ok()?))
        }
    };
    let until = |status: u16| {
        let get = &get;
        async move {
            for _ in 0..600 {
                if let Some(answer) = get("/healthz").await.filter(|(s, _)| *s == status) {
                    return Some(answer);
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            None
        }
    };
    assert!(until(200).await.is_some(), "healthy while the endpoint answers");
    let line = stdout.next_line().await.expect("readable").unwrap_or_default();
    assert!(line.get(..4).is_some_and(|y| y.parse::<u16>().is_ok()) && line.contains("Z in sync"), "{line}");

    switch.set(false);
    let (_, reason) = until(503).await.expect("503 once a check failed");
    assert!(reason.starts_with("last check failed: ") && reason.contains(&file), "{reason}");
    let (_, metrics) = get("/metrics").await.expect("metrics");
    assert!(metrics.contains(&format!("govstate_check_success{{file=\"{file}\"}} 0")), "{metrics}");
    assert!(!metrics.contains(&format!("govstate_drifted_fields{{file=\"{file}\"}}")), "unknown, not 0: {metrics}");

    switch.set(true);
    assert!(until(200).await.is_some(), "healthy again once a check succeeds");
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_names_who_proposed_a_pending_operation_and_the_transaction_that_scheduled_it() {
    use alloy::sol_types::SolCall;
    use govstate::contracts::stake_manager::StakeManager;
    let chain = TestChain::start_wired(govstate::devnet::Topology::Production { timelock_delay: 60 }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(9) }.abi_encode();
    let salt = alloy::primitives::B256::repeat_byte(9);
    let scheduled = chain.schedule_through_timelock(chain.address("stake_manager"), fee, salt, 60).await;

    let (code, json, stderr) = chain.govstate(&["drift", &file, "--format", "json", "--no-cache"]);
    assert_eq!(code, Some(2), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    let drift = report["deployments"][0]["drift"].as_array().cloned().unwrap_or_default();
    let operation = drift.iter().find(|d| d["kind"] == "pending_operation").map(|d| d["operation"].clone());
    let operation = operation.unwrap_or_default();
    assert_eq!(operation["proposer"], chain.devnet.owner().to_string(), "{operation}");
    assert_eq!(operation["scheduled"]["transaction"], scheduled.transaction_hash.to_string(), "{operation}");
    assert_eq!(operation["scheduled"]["block"], scheduled.block_number.expect("mined"));
    assert_eq!(operation["scheduled"]["event"], "CallScheduled");

    let (_, text, _) = chain.govstate(&["drift", &file, "--no-cache"]);
    let line = format!("proposed by {} in block {}", chain.devnet.owner(), scheduled.block_number.expect("mined"));
    assert!(text.contains(&line), "{text}");
}

#[test]
fn a_drift_error_names_the_endpoint_by_its_variable_and_host_never_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("plain.yaml");
    let named = dir.path().join("named.yaml");
    let text = "version: 1\nchain_id: 31337\ncontracts:\n  arena: { address: \"0x5FbDB2315678afecb367f032d93F642f64180aa3\" }\narena:\n  paused: false\n";
    std::fs::write(&plain, text).expect("written");
    std::fs::write(&named, text.replacen("contracts:", "rpc_url_env: DEVNET_RPC\ncontracts:", 1)).expect("written");
    // Port 1 on loopback refuses at once; the path stands for an API key.
    let down = "http://127.0.0.1:1/v3/SECRETAPIKEY";
    let drift = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_govstate"))
            .args(["drift", "--no-cache", "--deadline", "20s", "--retries", "0"])
            .args(args)
            .env("ETH_RPC_URL", down)
            .env("DEVNET_RPC", down)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
    };
    let (plain, named) = (plain.to_string_lossy().into_owned(), named.to_string_lossy().into_owned());
    let out = drift(&[&plain]);
    assert!(out.contains("could not observe the chain at ETH_RPC_URL (127.0.0.1:1)"), "{out}");
    let out = drift(&[&named]);
    assert!(out.contains("could not observe the chain at DEVNET_RPC (127.0.0.1:1)"), "{out}");
    let out = drift(&["--rpc-url", down, &plain]);
    assert!(out.contains("could not observe the chain at --rpc-url (127.0.0.1:1)"), "{out}");
    assert!(!out.contains("SECRETAPIKEY"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_json_carries_every_time_as_unix_seconds_and_rfc_3339() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let args = ["plan", &file, "--no-cache", "--format", "json", "--set=stake_manager.fees_pct.fee=5"];
    let (code, json, stderr) = chain.govstate(&args);
    assert_eq!(code, Some(0), "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&json).expect("json");
    let seconds = plan["block"]["timestamp"].as_u64().expect("the block's time in seconds");
    let at = humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds));
    assert_eq!(plan["block"]["timestamp_rfc3339"], at.to_string(), "{}", plan["block"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_json_printed_with_both_forms_of_time_still_reads_back_as_a_saved_plan() {
    use alloy::sol_types::SolCall;
    use govstate::contracts::stake_manager::StakeManager;
    let chain = TestChain::start_wired(govstate::devnet::Topology::Production { timelock_delay: 60 }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(9) }.abi_encode();
    let salt = alloy::primitives::B256::repeat_byte(9);
    chain.schedule_through_timelock(chain.address("stake_manager"), fee, salt, 60).await;

    let (code, json, stderr) = chain.govstate(&["plan", &file, "--no-cache", "--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&json).expect("json");
    let operation = &plan["operations"][0];
    assert!(operation["ready_at"].as_u64().is_some(), "{plan}");
    assert!(operation["ready_at_rfc3339"].as_str().is_some_and(|t| t.ends_with('Z')), "{operation}");
    let printed = dir.path().join("printed.plan.json");
    std::fs::write(&printed, &json).expect("written");
    let (code, shown, stderr) = chain.govstate(&["show", &printed.to_string_lossy()]);
    assert_eq!(code, Some(0), "what plan printed reads back: {stderr}");
    assert!(shown.contains("Plan digest") || shown.contains("digest"), "{shown}");
}
