//! `govstate demo`: the whole story on a throwaway devnet.
//!
//! A devnet with a compromised orchestrator; a desired change (pause the
//! arena, rotate the orchestrator, rebalance fees); plan; apply; plan again
//! (no changes); a change made on-chain behind govstate's back; plan shows
//! the drift.

use std::process::ExitCode;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use anyhow::Context;
use govstate::devnet::{AnvilOptions, Devnet, dev_signer, owner_signer};
use govstate::execute::{ApplyOptions, apply};
use govstate::observe::{ObserveOptions, Scope, desired_state_yaml, observe};
use govstate::plan::{Plan, PlanOptions, plan};
use govstate::render::{Style, text, transactions};
use govstate::rpc::{RpcStats, connect, connect_signing};
use govstate::spec::load_file_with_overrides;

/// What the operator wants: pause the arena, replace the compromised
/// orchestrator, rebalance the fees.
const CHANGE: [&str; 3] = [
    "arena.paused=true",
    "arena.orchestrators=[\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\"]",
    "stake_manager.fees_pct={fee: 4, burn: 1, validator_reward: 10}",
];

pub async fn run() -> anyhow::Result<ExitCode> {
    let style = Style::detect();
    heading("1. A throwaway devnet");
    let devnet = Devnet::start(&AnvilOptions::default()).await.context("could not start the devnet")?;
    for deployed in &devnet.deployment().contracts {
        println!("  {:<14} {}  ({})", deployed.kind.key, deployed.address, deployed.kind.name);
    }
    let Story { dir, stats, reader, options, overrides, desired } =
        story(&devnet, "devnet.yaml", "2. The desired change, reviewed in git", &CHANGE).await?;
    let source = "devnet.yaml with the change";

    heading("3. govstate plan");
    let made = plan_now(&reader, &desired, &options).await?;
    print!("{}", text(&made, source, style));

    heading("4. govstate apply");
    let owner = Owner::new(&devnet, &stats, apply_options(&dir, &options, source, &overrides));
    let applied = owner.apply(&made).await?;
    print!("{}", transactions(&applied.receipt));
    println!("  verified: observing again finds the promised state; receipt written");

    heading("5. govstate plan, again");
    print!("{}", text(&plan_now(&reader, &desired, &options).await?, source, style));

    heading("6. Someone changes the chain behind govstate's back");
    let intruder = dev_signer(3).map(|s| s.address()).unwrap_or_default();
    grant_orchestrator(&devnet, intruder).await?;
    println!("  the owner key granted {intruder} the orchestrator role directly");
    print!("{}", text(&plan_now(&reader, &desired, &options).await?, source, style));

    heading("Done");
    println!("  {} JSON-RPC requests in {} round trips; the devnet is stopped.", stats.requests(), stats.round_trips());
    drop(devnet);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

/// The production story: the same incident where a TimelockController
/// governs the SystemPause, which governs StakeManager.
const PRODUCTION_CHANGE: [&str; 5] = [
    "system_pause.paused=true",
    "arena.paused=true",
    "arena.orchestrators=[\"0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\"]",
    "stake_manager.fees_pct={fee: 4, burn: 1, validator_reward: 10}",
    "stake_manager.min_stake=2 ether",
];

/// The emergency account the production story names: the devnet's owner.
const GUARDIAN: &str = "system_pause.pauser=\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"";

/// `govstate demo --topology production`: the incident planned without an
/// emergency account (the system pause waits for the timelock, and the plan
/// says so first); the team names one through the timelock; the incident
/// again: everything paused at once by that account, the rest scheduled,
/// executed after the delay, verified.
pub async fn run_production(delay: u64) -> anyhow::Result<ExitCode> {
    let style = Style::detect();
    heading("1. A throwaway devnet wired as production");
    let topology = govstate::devnet::Topology::Production { timelock_delay: delay };
    let devnet = Devnet::start_wired(&AnvilOptions::default(), topology).await.context("could not start the devnet")?;
    for deployed in &devnet.deployment().contracts {
        println!("  {:<14} {}  ({})", deployed.kind.key, deployed.address, deployed.kind.display_name());
    }
    if let Some(timelock) = devnet.wiring().timelock {
        println!("  timelock       {timelock}  (governs the SystemPause, which governs StakeManager; delay {delay} s)");
    }
    let Story { dir, stats, reader, options, overrides, desired } =
        story(&devnet, "production.yaml", "2. An incident, reviewed in git", &PRODUCTION_CHANGE).await?;
    let source = "production.yaml with the change";

    heading("3. govstate plan --simulate: without an emergency account, the pause waits");
    let made = plan_now(&reader, &desired, &options).await?;
    print!("{}", text(&made, source, style));
    let simulation = govstate::simulate::on_fork(devnet.url(), &made, &options, None, false).await?;
    println!("{simulation}");

    heading("4. Naming an emergency account (system_pause.pauser), through the timelock once");
    let file = dir.join("production.yaml");
    let guardian = load_file_with_overrides(&file, &[GUARDIAN.to_string()])?.desired();
    let owner = Owner::new(&devnet, &stats, apply_options(&dir, &options, "production.yaml", &[GUARDIAN.to_string()]));
    let applied = owner.apply(&plan_now(&reader, &guardian, &options).await?).await?;
    print!("{}", transactions(&applied.receipt));
    pass_delay(&reader, delay).await?;
    let applied = owner.apply(&plan_now(&reader, &guardian, &options).await?).await?;
    print!("{}", transactions(&applied.receipt));

    heading("5. The incident again: everything paused at once, the rest scheduled");
    let mut with_guardian = overrides.clone();
    with_guardian.push(GUARDIAN.to_string());
    let desired = load_file_with_overrides(&file, &with_guardian)?.desired();
    let made = plan_now(&reader, &desired, &options).await?;
    print!("{}", text(&made, source, style));
    let owner = Owner::new(&devnet, &stats, apply_options(&dir, &options, source, &with_guardian));
    let applied = owner.apply(&made).await?;
    print!("{}", transactions(&applied.receipt));
    print!("{}", govstate::render::operations(&applied.receipt, made.block.timestamp));

    heading("6. The delay passes (the devnet's clock is advanced)");
    pass_delay(&reader, delay).await?;
    println!("  {} s later", delay + 1);

    heading("7. govstate apply: the batch is executed and verified");
    let ready = plan_now(&reader, &desired, &options).await?;
    let applied = owner.apply(&ready).await?;
    print!("{}", transactions(&applied.receipt));
    println!("  verified: observing again finds the promised state; receipt written");

    heading("8. govstate plan, again");
    print!("{}", text(&plan_now(&reader, &desired, &options).await?, source, style));

    heading("Done");
    println!("  {} JSON-RPC requests in {} round trips; the devnet is stopped.", stats.requests(), stats.round_trips());
    drop(devnet);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

/// Advances the devnet's clock past the timelock's delay.
async fn pass_delay(reader: &impl Provider, delay: u64) -> anyhow::Result<()> {
    let _: serde_json::Value = reader.raw_request("evm_increaseTime".into(), (delay + 1,)).await?;
    let _: serde_json::Value = reader.raw_request("evm_mine".into(), ()).await?;
    Ok(())
}

/// How the demo applies: as `govstate apply --yes` does, receipts in `dir`.
fn apply_options(dir: &std::path::Path, observe: &ObserveOptions, source: &str, overrides: &[String]) -> ApplyOptions {
    ApplyOptions {
        sending: govstate::execute::Sending { confirmations: 1, ..Default::default() },
        simulate_first: true,
        receipts_dir: dir.join("receipts"),
        observe: observe.clone(),
        source: source.to_string(),
        reviewed: None,
        overrides: overrides.to_vec(),
        targets: Vec::new(),
        cancel_stale: false,
        safe_signatures: Default::default(),
    }
}

/// The devnet's owner, signing.
struct Owner {
    address: Address,
    sender: alloy::providers::DynProvider,
    options: ApplyOptions,
}

impl Owner {
    fn new(devnet: &Devnet, stats: &RpcStats, options: ApplyOptions) -> Self {
        let signer = owner_signer();
        let address = signer.address();
        Self { address, sender: connect_signing(devnet.url().clone(), stats, signer), options }
    }

    async fn apply(&self, plan: &Plan) -> anyhow::Result<govstate::execute::Applied> {
        Ok(apply(&self.sender, plan, self.address, &self.options).await?)
    }
}

/// What both stories start from: a compromised orchestrator on the chain,
/// the chain written as a file, and the change to it.
struct Story {
    dir: std::path::PathBuf,
    stats: RpcStats,
    reader: alloy::providers::DynProvider,
    options: ObserveOptions,
    overrides: Vec<String>,
    desired: govstate::spec::Desired,
}

async fn story(devnet: &Devnet, name: &str, title: &str, change: &[&str]) -> anyhow::Result<Story> {
    let compromised = dev_signer(1).map(|s| s.address()).unwrap_or_default();
    grant_orchestrator(devnet, compromised).await?;
    println!("  orchestrator {compromised} holds the role (and is about to be found compromised)");
    let dir = tempfile_dir()?;
    let file = dir.join(name);
    let stats = RpcStats::default();
    let reader = connect(devnet.url().clone(), &stats);
    let options = ObserveOptions::without_cache();
    let observed = observe(&reader, &Scope::everything(devnet.deployment()), &options).await?;
    std::fs::write(&file, desired_state_yaml(&observed, devnet.deployment(), ""))?;
    heading(title);
    for line in change {
        println!("  {line}");
    }
    let overrides: Vec<String> = change.iter().map(|s| s.to_string()).collect();
    let desired = load_file_with_overrides(&file, &overrides)?.desired();
    Ok(Story { dir, stats, reader, options, overrides, desired })
}

fn heading(title: &str) {
    println!("\n== {title}\n");
}

async fn plan_now(
    reader: &impl Provider,
    desired: &govstate::spec::Desired,
    options: &ObserveOptions,
) -> anyhow::Result<Plan> {
    let observed = observe(reader, &Scope::of(desired), options).await?;
    Ok(plan(desired, &observed, &PlanOptions::default())?)
}

/// Grants the orchestrator role directly, as the runbook's scripts would.
async fn grant_orchestrator(devnet: &Devnet, account: Address) -> anyhow::Result<()> {
    use alloy::sol_types::SolCall;
    use govstate::contracts::arena::SelfPlayArena;
    let provider =
        ProviderBuilder::new().wallet(EthereumWallet::from(owner_signer())).connect_http(devnet.url().clone());
    let arena = devnet.deployment().address_of("arena").context("no arena")?;
    let data = SelfPlayArena::setOrchestratorCall { orchestrator: account, allowed: true }.abi_encode();
    let tx = TransactionRequest::default().with_to(arena).with_input(Bytes::from(data));
    let receipt = provider.send_transaction(tx).await?.get_receipt().await?;
    anyhow::ensure!(receipt.status(), "granting {account} reverted");
    Ok(())
}

/// A fresh directory for the demo's files, removed at the end.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("govstate-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    Ok(dir)
}
