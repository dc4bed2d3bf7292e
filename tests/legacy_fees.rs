//! Chains without EIP-1559: on a real pre-London anvil (`--hardfork berlin`,
//! no base fee) plan, apply and verify work with type-0 transactions priced
//! at `eth_gasPrice` or `--gas-price`, held to the fee ceiling; `--legacy`
//! forces them on a London chain; a timelock route and its fork simulation
//! work on Berlin too. Through the fault proxy answering as a pre-London
//! node (no base fee, no `eth_feeHistory`, typed transactions refused), the
//! same: the failure the issue saw, reproduced without `--hardfork`.

mod common;
mod fault_proxy;

use alloy::primitives::B256;
use alloy::providers::Provider;
use common::{TestChain, receipts};
use govstate::devnet::{AnvilOptions, Devnet, Topology};

/// anvil's first development key (public, from the test mnemonic).
const OWNER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A pause, an orchestrator granted, a fee change: three phases.
const CHANGE: [&str; 3] = [
    "--set=arena.paused=true",
    "--set=arena.orchestrators=[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"]",
    "--set=stake_manager.fees_pct={fee: 5, burn: 2, validator_reward: 10}",
];

fn berlin() -> AnvilOptions {
    AnvilOptions { hardfork: Some("berlin".to_string()), ..AnvilOptions::default() }
}

struct Setup {
    chain: TestChain,
    dir: tempfile::TempDir,
    file: String,
}

async fn setup(options: &AnvilOptions) -> Setup {
    let chain = TestChain::start_with(options).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.display().to_string();
    Setup { chain, dir, file }
}

impl Setup {
    fn apply(&self, extra: &[&str]) -> (Option<i32>, String, String) {
        let receipts = self.dir.path().join("receipts").display().to_string();
        let mut args = vec!["apply", &self.file, "--yes", "--no-cache", "--private-key", OWNER_KEY];
        args.extend_from_slice(&["--receipts-dir", &receipts]);
        args.extend_from_slice(&CHANGE);
        args.extend_from_slice(extra);
        self.chain.govstate(&args)
    }

    /// Plan of the same change again: exit 0 means the chain converged.
    fn converged(&self) -> bool {
        let mut args = vec!["plan", &self.file, "--no-cache", "--detailed-exitcode"];
        args.extend_from_slice(&CHANGE);
        self.chain.govstate(&args).0 == Some(0)
    }

    /// Every transaction the receipts record, as the node has it.
    async fn sent(&self) -> Vec<serde_json::Value> {
        let mut found = Vec::new();
        for receipt in receipts(&self.dir.path().join("receipts")) {
            for record in receipt["transactions"].as_array().cloned().unwrap_or_default() {
                let hash: B256 = record["hash"].as_str().and_then(|h| h.parse().ok()).expect("a hash");
                let tx: serde_json::Value = self
                    .chain
                    .reader()
                    .raw_request("eth_getTransactionByHash".into(), (hash,))
                    .await
                    .expect("the node has it");
                found.push(tx);
            }
        }
        found
    }
}

fn quantity(value: &serde_json::Value) -> u128 {
    value.as_str().and_then(|s| u128::from_str_radix(s.trim_start_matches("0x"), 16).ok()).unwrap_or(u128::MAX)
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_apply_and_verify_work_on_a_berlin_chain_with_type_0_transactions_at_the_node_gas_price() {
    let s = setup(&berlin()).await;
    let latest = s.chain.reader().get_block_by_number(Default::default()).await.expect("block").expect("latest");
    assert_eq!(latest.header.base_fee_per_gas, None, "a Berlin chain has no base fee");
    let price = s.chain.reader().get_gas_price().await.expect("eth_gasPrice");

    let (code, stdout, stderr) = s.apply(&[]);
    assert_eq!(code, Some(0), "apply on Berlin:\n{stdout}\n{stderr}");
    assert!(stdout.contains("legacy (type-0)") && stdout.contains("no EIP-1559 base fee"), "{stdout}");
    let sent = s.sent().await;
    assert_eq!(sent.len(), 5, "pause, grant, three fee setters: {sent:?}");
    for tx in &sent {
        assert_eq!(tx["type"], "0x0", "a type-0 transaction: {tx}");
        assert_eq!(quantity(&tx["gasPrice"]), price, "priced at eth_gasPrice: {tx}");
    }
    assert!(s.converged(), "planning again finds nothing to do");
}

#[tokio::test(flavor = "multi_thread")]
async fn gas_price_with_or_without_a_tip_sends_type_0_on_berlin_and_one_above_the_ceiling_sends_nothing() {
    let s = setup(&berlin()).await;
    let owner = s.chain.devnet.owner();
    let before = s.chain.nonce(owner).await;
    let (code, _, stderr) = s.apply(&["--gas-price", "300 gwei"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("gas price 300 gwei asked for (--gas-price)") && stderr.contains("200 gwei"), "{stderr}");
    assert_eq!(s.chain.nonce(owner).await, before, "nothing was sent");

    let (code, stdout, stderr) = s.apply(&["--gas-price", "3 gwei", "--priority-gas-price", "1 gwei"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let sent = s.sent().await;
    assert!(!sent.is_empty());
    for tx in &sent {
        assert_eq!((tx["type"].as_str(), quantity(&tx["gasPrice"])), (Some("0x0"), 3_000_000_000), "{tx}");
    }
    assert!(s.converged());
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_forces_type_0_transactions_on_a_london_chain() {
    let s = setup(&AnvilOptions { hardfork: Some("london".to_string()), ..AnvilOptions::default() }).await;
    let (code, stdout, stderr) = s.apply(&["--legacy", "--gas-price", "5 gwei"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("legacy (type-0)") && stdout.contains("--legacy"), "{stdout}");
    for tx in s.sent().await {
        assert_eq!((tx["type"].as_str(), quantity(&tx["gasPrice"])), (Some("0x0"), 5_000_000_000), "{tx}");
    }
    assert!(s.converged());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timelock_route_and_its_fork_simulation_work_on_a_berlin_chain() {
    let devnet = Devnet::start_with_safe(&berlin(), Topology::Production { timelock_delay: 60 }, None)
        .await
        .expect("a Berlin devnet with the production wiring");
    let s = Setup { file: String::new(), dir: tempfile::tempdir().expect("tempdir"), chain: TestChain { devnet } };
    let file = s.chain.write_state_file(s.dir.path()).await.display().to_string();
    let receipts = s.dir.path().join("receipts").display().to_string();
    let fee = "--set=stake_manager.fees_pct={fee: 5, burn: 2, validator_reward: 10}";
    let args = ["apply", &file, "--yes", "--no-cache", "--private-key", OWNER_KEY, "--receipts-dir", &receipts, fee];
    let (code, stdout, stderr) = s.chain.govstate(&args);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Simulated on a fork"), "the fork simulation ran: {stdout}");
    let sent = Setup { file, ..s }.sent().await;
    assert_eq!(sent.len(), 1, "one scheduleBatch: {sent:?}");
    assert_eq!(sent[0]["type"], "0x0", "{}", sent[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_safe_route_sends_its_exec_transaction_as_type_0_on_a_berlin_chain() {
    let shape: govstate::devnet::SafeSetup = "1-of-3".parse().expect("a Safe shape");
    let devnet = Devnet::start_with_safe(&berlin(), Topology::Direct, Some(shape)).await.expect("a Berlin Safe devnet");
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = TestChain { devnet };
    let state = chain.write_state_file(dir.path()).await;
    let text =
        std::fs::read_to_string(&state).expect("state").replacen("    teacher: 150 ether", "    teacher: 175 ether", 1);
    std::fs::write(&state, text).expect("written");
    let s = Setup { file: state.display().to_string(), dir, chain };
    let receipts = s.dir.path().join("receipts").display().to_string();
    let args = ["apply", &s.file, "--yes", "--no-cache", "--private-key", OWNER_KEY, "--receipts-dir", &receipts];
    let (code, stdout, stderr) = s.chain.govstate(&args);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("execTransaction(1 call)"), "{stdout}");
    let sent = s.sent().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["type"], "0x0", "{}", sent[0]);
    let (code, stdout, _) = s.chain.govstate(&["plan", &s.file, "--no-cache", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "converged: {stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stuck_legacy_transaction_is_replaced_at_a_higher_gas_price_under_the_ceiling_and_made_once() {
    let s = setup(&berlin()).await;
    let owner = s.chain.devnet.owner();
    let before = s.chain.nonce(owner).await;
    s.chain.automine(false).await;
    let receipts = s.dir.path().join("receipts").display().to_string();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args([
            "apply",
            &s.file,
            "--yes",
            "--no-cache",
            "--private-key",
            OWNER_KEY,
            "--rpc-url",
            s.chain.devnet.url().as_str(),
        ])
        .args(["--receipts-dir", &receipts, "--set", "arena.paused=true"])
        .args(["--gas-price", "2 gwei", "--bump-after", "1s", "--max-fee-per-gas", "3 gwei"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("govstate starts");
    let price = |t: &serde_json::Value| quantity(&t["gasPrice"]);
    let replaced = common::eventually(60, || async {
        let pool: serde_json::Value =
            s.chain.reader().raw_request("txpool_content".into(), ()).await.unwrap_or_default();
        let txs = pool["pending"].as_object().into_iter().flat_map(|m| m.values());
        let mut txs = txs.flat_map(|t| t.as_object().into_iter().flat_map(|t| t.values()));
        txs.any(|t| price(t) > 2_000_000_000 && price(t) != u128::MAX)
    })
    .await;
    assert!(replaced, "a replacement at a higher gas price is in the pool");
    s.chain.mine().await;
    let output = child.wait_with_output().expect("govstate exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("replaced pause()"), "{stderr}");
    assert_eq!(s.chain.nonce(owner).await, before + 1, "the call was made once");
    let mined = s.sent().await;
    assert_eq!(mined.len(), 1);
    let paid = price(&mined[0]);
    assert!(mined[0]["type"] == "0x0" && paid > 2_000_000_000 && paid <= 3_000_000_000, "{}", mined[0]);
    s.chain.automine(true).await;
}

#[test]
fn devnet_hardfork_starts_a_berlin_chain_and_an_unknown_hardfork_names_the_choices() {
    use std::io::BufRead;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["devnet", "--port", "0", "--hardfork", "frontier"])
        .output()
        .expect("govstate runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("--hardfork frontier") && stderr.contains("berlin"), "{stderr}");

    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("devnet.yaml");
    let mut devnet = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["devnet", "--port", "0", "--hardfork", "berlin", "--write-state"])
        .arg(&state)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("govstate devnet starts");
    let stdout = devnet.stdout.take().expect("piped");
    let mut banner = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("readable");
        let done = line.starts_with("Press Ctrl-C");
        banner.push(line);
        if done {
            break;
        }
    }
    let _ = devnet.kill();
    let _ = devnet.wait();
    let text = banner.join("\n");
    assert!(text.contains("hardfork             berlin") && text.contains("Berlin"), "{text}");
    assert!(std::fs::read_to_string(&state).is_ok_and(|s| s.contains("arena:")), "the state file is written");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_answering_as_before_london_gets_legacy_transactions_with_default_fees_and_with_a_gas_price() {
    use fault_proxy::{FaultProxy, Faults};
    let s = setup(&AnvilOptions::default()).await;
    let proxy = FaultProxy::start(s.chain.devnet.url().clone(), Faults { pre_london: true, ..Faults::none(41) }).await;
    let url = proxy.url.to_string();
    let receipts = s.dir.path().join("receipts").display().to_string();
    let apply = |extra: &[&str]| {
        let mut args = vec!["apply", &s.file, "--yes", "--no-cache", "--private-key", OWNER_KEY, "--rpc-url", &url];
        args.extend_from_slice(&["--receipts-dir", &receipts]);
        args.extend_from_slice(extra);
        s.chain.govstate(&args)
    };
    let (code, stdout, stderr) = apply(&[CHANGE[0]]);
    assert_eq!(code, Some(0), "default fees on a node without base fee: {stdout}{stderr}");
    assert!(stdout.contains("legacy (type-0)"), "the fee line says so: {stdout}");
    let (code, stdout, stderr) = apply(&[&CHANGE[..], &["--gas-price", "3gwei"]].concat());
    assert_eq!(code, Some(0), "--gas-price alone: {stdout}{stderr}");
    let sent = s.sent().await;
    assert_eq!(sent.len(), 5, "the pause, then the grant and the three fee splits: {sent:?}");
    for tx in &sent {
        assert_eq!(tx["type"], "0x0", "a type-0 transaction: {tx}");
    }
    let at_the_flag = sent.iter().filter(|tx| quantity(&tx["gasPrice"]) == 3_000_000_000).count();
    assert_eq!(at_the_flag, 4, "the second apply's four at --gas-price: {sent:?}");
    assert!(s.converged(), "verified and converged");
}
