//! `govstate devnet`: a local chain to try govstate against.

use std::path::Path;
use std::process::ExitCode;

use alloy::providers::ProviderBuilder;
use anyhow::Context;
use clap::ValueEnum;
use govstate::devnet::{AnvilOptions, Devnet, SafeSetup, Topology};
use govstate::observe::{ObserveOptions, Scope};
use govstate::observe::{desired_state_yaml, observe};

/// The header of a written state file: editors validate it against the schema.
pub const STATE_HEADER: &str = "# yaml-language-server: $schema=../schema/govstate.schema.json\n\
# Written by `govstate devnet`: the governance state it deployed.\n";

/// `--topology`, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TopologyArg {
    /// One account owns and governs everything (the switch-kind SystemPause).
    Direct,
    /// The production wiring, the SystemPause governed by account 0.
    Modules,
    /// The production wiring, the SystemPause governed by a TimelockController.
    Production,
}

impl TopologyArg {
    /// The topology, with the timelock's delay where there is one.
    pub fn with_delay(self, timelock_delay: u64) -> Topology {
        match self {
            TopologyArg::Direct => Topology::Direct,
            TopologyArg::Modules => Topology::Modules,
            TopologyArg::Production => Topology::Production { timelock_delay },
        }
    }
}

/// Parses `--timelock-delay`: seconds, or a duration as the file writes one (`60s`, `2d`).
pub fn parse_delay(text: &str) -> Result<u64, String> {
    let parsed: govstate::spec::Duration = serde_yaml::from_str(text)
        .map_err(|_| format!("{text:?} is not a duration; expected e.g. 60, 60s, 15m, 2d"))?;
    Ok(parsed.0)
}

/// Parses `--hardfork`: a name a build of the reference contracts runs on.
pub fn parse_hardfork(text: &str) -> Result<String, String> {
    govstate::devnet::Evm::for_hardfork(text).map(|_| text.trim().to_ascii_lowercase()).map_err(|e| e.to_string())
}

pub async fn run(
    port: u16,
    state_path: &Path,
    multicall3: bool,
    topology: Topology,
    safe: Option<SafeSetup>,
    hardfork: Option<String>,
) -> anyhow::Result<ExitCode> {
    // Listen before anything is printed: a signal sent as soon as the banner
    // appears must find the handler in place.
    let stop = stop_signal()?;
    let options = AnvilOptions { port: Some(port), hardfork, ..AnvilOptions::default() };
    let devnet = Devnet::start_with_safe(&options, topology, safe).await.context("could not start the devnet")?;
    if multicall3 {
        devnet.install_multicall3().await.context("could not install Multicall3")?;
    }
    if safe.is_none() {
        devnet.set_example_splits().await.context("could not set the arena's reward splits")?;
    }
    write_state(&devnet, state_path).await?;
    print_address_book(&devnet, state_path);
    if let Some(hardfork) = &options.hardfork {
        println!("  hardfork             {hardfork}  (contracts built for it: {:?})", devnet.evm());
    }
    println!("Press Ctrl-C to stop.");
    stop.await?;
    drop(devnet);
    println!("Stopped the devnet.");
    Ok(ExitCode::SUCCESS)
}

async fn write_state(devnet: &Devnet, path: &Path) -> anyhow::Result<()> {
    let provider = ProviderBuilder::new().connect_http(devnet.url().clone());
    let observed =
        observe(&provider, &Scope::everything(devnet.deployment()), &ObserveOptions::without_cache()).await?;
    let text = desired_state_yaml(&observed, devnet.deployment(), STATE_HEADER);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("could not write {}", path.display()))
}

/// Prints where everything is.
pub fn print_address_book(devnet: &Devnet, state_path: &Path) {
    let deployment = devnet.deployment();
    println!("govstate devnet is running");
    println!("  RPC endpoint         {}  (anvil pid {})", devnet.url(), devnet.anvil_pid());
    println!("  chain id             {}", deployment.chain_id);
    let wiring = devnet.wiring();
    let role = match (wiring.modules.is_empty(), wiring.safe.is_some()) {
        (true, false) => "owns the arena, governs the others",
        (true, true) => "governs the SystemPause and StakeManager",
        (false, false) => "owns the arena",
        (false, true) => "deployed everything; executes timelock batches",
    };
    println!("  owner                {}  (anvil account 0: {role})", devnet.owner());
    for deployed in &deployment.contracts {
        println!("  {:<20} {}  ({})", deployed.kind.key, deployed.address, deployed.kind.display_name());
    }
    for ((key, _), module) in govstate::contracts::system_pause::MODULES.iter().zip(&wiring.modules) {
        println!("  {:<20} {module}  (a module of the SystemPause)", key.trim_start_matches("modules."));
    }
    if let Some(timelock) = wiring.timelock {
        let proposer = if wiring.safe.is_some() {
            "the Safe proposes, account 0 executes"
        } else {
            "account 0 proposes and executes"
        };
        println!("  timelock       {timelock}  (TimelockController: governs the SystemPause; {proposer})");
    }
    if let Some(safe) = wiring.safe {
        println!("  safe                 {safe}  (Safe v1.4.1, owners: development accounts; owns the arena)");
    }
    println!("  state file           {}", state_path.display());
}

/// Starts listening for Ctrl-C (SIGINT) and SIGTERM; the returned future
/// ends when either arrives.
pub(super) fn stop_signal() -> anyhow::Result<impl Future<Output = anyhow::Result<()>>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("could not listen for Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("could not listen for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => Ok(()),
            _ = terminate.recv() => Ok(()),
        }
    })
}
