//! A cold scan (`plan --no-cache`) of a 1,000,000-block history through
//! endpoints capping `eth_getLogs` at 10,000 and 50,000 blocks and not at
//! all, each refusing the way a real provider does (the fault proxy of
//! `tests/fault_proxy`, in front of a real anvil). Against a baseline
//! measured in the same run: the same scan told the cap in advance
//! (`--log-chunk-blocks CAP`), which needs exactly ⌈range / cap⌉ requests a
//! query. Goal: within 1.2 × that, and a handful when nothing caps.
//!
//! The history is real to anvil: its genesis is block 1,000,000 (mining a
//! million blocks takes anvil hours), the contracts are deployed after it,
//! and the file's `deployed_block` is 0, so every role set is scanned over
//! the whole million blocks.
//!
//! Run with `npm ci && cargo bench --bench log_scan` (the history can be
//! changed with `GOVSTATE_BENCH_HISTORY=200000`); `cargo test --bench
//! log_scan` runs it once, small, as a check.

#[path = "../tests/fault_proxy/mod.rs"]
mod fault_proxy;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::transports::http::reqwest::Url;
use fault_proxy::{CapStyle, FaultProxy, Faults, LogCap};
use govstate::contracts::{Deployed, Deployment, KINDS};
use govstate::devnet::dev_signer;
use govstate::observe::{ObserveOptions, Scope, desired_state_yaml, observe};

/// anvil, stopped when dropped.
struct Anvil(Child, Url);

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn anvil_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("GOVSTATE_ANVIL") {
        return path.into();
    }
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    if bundled.is_file() { bundled } else { "anvil".into() }
}

/// anvil whose chain starts at block `history`, account 0 funded.
async fn start_anvil(history: u64, dir: &Path) -> Anvil {
    let owner = dev_signer(0).expect("account 0").address();
    let genesis = serde_json::json!({
        "config": {"chainId": 31337, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
            "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
            "berlinBlock": 0, "londonBlock": 0, "shanghaiTime": 0, "cancunTime": 0},
        "number": format!("{history:#x}"),
        "gasLimit": "0x1c9c380",
        "difficulty": "0x0",
        "baseFeePerGas": "0x3b9aca00",
        "alloc": {owner.to_string(): {"balance": "0x21e19e0c9bab2400000"}},
    });
    let path = dir.join("genesis.json");
    std::fs::write(&path, genesis.to_string()).expect("genesis written");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let child = Command::new(anvil_binary())
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--silent", "--init"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("anvil starts (npm ci installs it)");
    let url: Url = format!("http://127.0.0.1:{port}").parse().expect("url");
    let anvil = Anvil(child, url.clone());
    let provider = ProviderBuilder::new().connect_http(url);
    let deadline = Instant::now() + Duration::from_secs(30);
    while provider.get_block_number().await.is_err() {
        assert!(Instant::now() < deadline, "anvil did not start listening");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anvil
}

/// Deploys the managed contracts (owned by account 0) and writes the file
/// for them, its deployment block 0.
async fn write_file(url: &Url, dir: &Path) -> PathBuf {
    let signer = dev_signer(0).expect("account 0");
    let owner = signer.address();
    let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url.clone());
    let mut contracts = Vec::new();
    for kind in KINDS.iter().copied() {
        let code = kind.creation_code.expect("the default kinds deploy with their owner alone");
        let tx = TransactionRequest::default().with_deploy_code(code(owner));
        let receipt = provider.send_transaction(tx).await.expect("sent").get_receipt().await.expect("receipt");
        let address = receipt.contract_address.expect("deployed");
        contracts.push(Deployed { kind, address, deployed_block: Some(0) });
    }
    let deployment = Deployment { chain_id: 31337, contracts };
    let reader = ProviderBuilder::new().connect_http(url.clone()).erased();
    let observed =
        observe(&reader, &Scope::everything(&deployment), &ObserveOptions::without_cache()).await.expect("observe");
    let file = dir.join("deployment.yaml");
    std::fs::write(&file, desired_state_yaml(&observed, &deployment, "")).expect("write");
    file
}

/// One cold `plan` through an endpoint capping at `cap` blocks as `style`
/// says, with `flags`: the `eth_getLogs` requests it made, and its time.
async fn scan(url: &Url, file: &Path, cap: Option<u64>, style: CapStyle, flags: &[String]) -> (u64, Duration) {
    let log_cap = LogCap { blocks: cap.unwrap_or(u64::MAX), style };
    let proxy = FaultProxy::start(url.clone(), Faults { log_cap: Some(log_cap), ..Faults::none(1) }).await;
    let start = Instant::now();
    // The proxy answers on the runtime's workers while this thread waits.
    let output = Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["plan", file.to_str().expect("UTF-8"), "--no-cache", "--rpc-url", proxy.url.as_str()])
        .args(flags)
        .env_remove("GOVSTATE_PRIVATE_KEY")
        .output()
        .expect("govstate runs");
    let took = start.elapsed();
    assert!(output.status.code() == Some(0), "plan: {}", String::from_utf8_lossy(&output.stderr));
    (proxy.seen(|s| s.log_requests), took)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --bench log_scan` does not.
    let testing = !std::env::args().any(|a| a == "--bench");
    let history: u64 = std::env::var("GOVSTATE_BENCH_HISTORY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if testing { 20_000 } else { 1_000_000 });
    let caps = [Some(history / 100), Some(history / 20), None];
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    runtime.block_on(async {
        let anvil = start_anvil(history, dir.path()).await;
        let url = anvil.1.clone();
        let file = write_file(&url, dir.path()).await;
        let latest = ProviderBuilder::new().connect_http(url.clone()).get_block_number().await.expect("latest");
        let range = latest + 1; // blocks 0..=latest
        let (queries, _) = scan(&url, &file, None, CapStyle::Publicnode, &[]).await;
        println!("cold scan (plan --no-cache) of a {range}-block history, {queries} role-set queries");
        println!("baseline: the same scan told the cap (--log-chunk-blocks CAP); goal ≤ 1.2 × baseline");
        println!(
            "| cap       | provider's words | eth_getLogs | told the cap | goal (1.2×) | ratio | time     | time told |"
        );
        println!(
            "|-----------|------------------|------------:|-------------:|------------:|------:|---------:|----------:|"
        );
        let mut met = true;
        for cap in caps {
            let styles: &[CapStyle] = match cap {
                Some(_) => &[CapStyle::Publicnode, CapStyle::Reth, CapStyle::Infura, CapStyle::Alchemy],
                None => &[CapStyle::Publicnode],
            };
            let told: Vec<String> = cap.map(|c| vec!["--log-chunk-blocks".into(), c.to_string()]).unwrap_or_default();
            let (baseline, baseline_time) = scan(&url, &file, cap, CapStyle::Publicnode, &told).await;
            let ideal = queries * cap.map_or(1, |c| range.div_ceil(c));
            assert_eq!(baseline, ideal, "told the cap, a scan needs ⌈range / cap⌉ requests a query");
            for style in styles {
                let (asked, took) = scan(&url, &file, cap, *style, &[]).await;
                let goal = (ideal * 12).div_ceil(10);
                met &= asked <= goal;
                let cap_text = cap.map_or("unlimited".to_string(), |c| c.to_string());
                println!(
                    "| {cap_text:<9} | {:<16} | {asked:>11} | {baseline:>12} | {goal:>11} | {:>5.2} | {:>6.0} ms | {:>7.0} ms |",
                    format!("{style:?}"),
                    asked as f64 / baseline as f64,
                    took.as_secs_f64() * 1e3,
                    baseline_time.as_secs_f64() * 1e3,
                );
            }
        }
        let (fixed, fixed_time) = scan(&url, &file, None, CapStyle::Publicnode, &["--log-chunk-blocks".into(), "50000".into()]).await;
        println!("for comparison, fixed 50,000-block chunks (the old default) with no cap: {fixed} eth_getLogs, {:.0} ms", fixed_time.as_secs_f64() * 1e3);
        println!("goal met: {}", if met { "yes" } else { "NO" });
        drop(anvil);
    });
}
