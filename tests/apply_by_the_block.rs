//! Large direct applies use the blocks their gas needs, not one block per
//! few calls: on anvil mining a block every 2 s (`evm_setIntervalMining`),
//! a phase of many calls lands in at most twice the blocks its gas fills.
//! The blocks are made small (3M gas) so that the node's packing, not how
//! fast a debug build signs, sets how many blocks are needed. `plan` says
//! beforehand how many blocks the apply should take, and it takes them.

mod common;

use std::collections::BTreeSet;

use alloy::providers::Provider;
use common::TestChain;
use govstate::devnet::owner_signer;
use govstate::execute::{ApplyOptions, Sending, apply};
use govstate::observe::ObserveOptions;
use govstate::rpc::{RpcStats, connect_signing};

/// Orchestrators `from..from + count` (fresh addresses), as a `--set` list.
fn orchestrators(from: u64, count: u64) -> String {
    let list: Vec<String> = (from..from + count)
        .map(|i| format!("\"{}\"", alloy::primitives::Address::left_padding_from(&i.to_be_bytes())))
        .collect();
    format!("arena.orchestrators=[{}]", list.join(", "))
}

fn options(dir: &std::path::Path) -> ApplyOptions {
    ApplyOptions {
        sending: Sending { confirmations: 1, ..Sending::default() },
        simulate_first: true,
        receipts_dir: dir.join("receipts"),
        observe: ObserveOptions::without_cache(),
        source: "test".to_string(),
        reviewed: None,
        overrides: Vec::new(),
        targets: Vec::new(),
        cancel_stale: false,
        safe_signatures: Default::default(),
    }
}

/// The blocks `plan` says the apply should take, from its line
/// `Apply: N transactions sent directly, G gas at most: about B blocks at …`.
fn stated_blocks(stdout: &str) -> usize {
    let line =
        stdout.lines().find(|l| l.starts_with("Apply: ")).unwrap_or_else(|| panic!("no Apply line in:\n{stdout}"));
    assert!(line.starts_with("Apply: 200 transactions sent directly, "), "{line}");
    let (_, rest) = line.split_once("about ").unwrap_or_else(|| panic!("no block count in {line:?}"));
    let count = rest.split_whitespace().next().unwrap_or_default();
    count.parse().unwrap_or_else(|_| panic!("no block count in {line:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_grants_on_a_two_second_chain_land_in_the_blocks_plan_stated_and_at_most_twice_what_their_gas_fills()
 {
    let chain = TestChain::start().await;
    let _: serde_json::Value =
        chain.reader().raw_request("evm_setBlockGasLimit".into(), (3_000_000u64,)).await.expect("gas limit");
    chain.mine().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let wanted = orchestrators(0x5000, 200);
    let plan = chain.plan(&file, &[&wanted], &dir.path().join("cache")).await.expect("plan");
    assert_eq!(plan.calls.len(), 200, "one grant per orchestrator");
    let (code, stdout, stderr) =
        chain.govstate(&["plan", file.to_str().expect("utf-8 path"), "--no-cache", "--set", &wanted]);
    assert_eq!(code, Some(0), "plan: {stderr}");
    let stated = stated_blocks(&stdout);
    let _: serde_json::Value =
        chain.reader().raw_request("evm_setIntervalMining".into(), (2,)).await.expect("interval mining");

    let signer = owner_signer();
    let address = signer.address();
    let sender = connect_signing(chain.devnet.url().clone(), &RpcStats::default(), signer);
    let applied = apply(&sender, &plan, address, &options(dir.path())).await.expect("apply converges");

    let blocks: BTreeSet<u64> = applied.receipt.transactions.iter().filter_map(|t| t.block).collect();
    let gas: u64 = applied.receipt.transactions.iter().filter_map(|t| t.gas_used).sum();
    let limit = plan.block.gas_limit.max(1);
    assert_eq!(limit, 3_000_000, "the plan knows the block gas limit");
    let bound = 2 * gas.div_ceil(limit);
    assert_eq!(applied.receipt.transactions.len(), 200);
    assert!(
        blocks.len() as u64 <= bound,
        "{} calls ({gas} gas, block gas limit {limit}) used {} blocks; at most {bound} expected",
        applied.receipt.transactions.len(),
        blocks.len()
    );
    assert!(
        (gas.div_ceil(limit)..=2 * gas.div_ceil(limit)).contains(&(stated as u64)) && blocks.len() <= 2 * stated,
        "plan stated about {stated} blocks; the apply used {} ({gas} gas used, block gas limit {limit})",
        blocks.len()
    );
    let hashes: BTreeSet<_> = applied.receipt.transactions.iter().map(|t| t.hash).collect();
    assert_eq!(hashes.len(), 200, "each call sent once");
    assert!(applied.receipt.transactions.iter().all(|t| t.status == "success"), "every call mined and recorded");
}
