//! `govstate devnet`: a local chain to try govstate against.

use std::path::Path;
use std::process::ExitCode;

use alloy::providers::ProviderBuilder;
use anyhow::Context;
use govstate::devnet::{AnvilOptions, Devnet};
use govstate::observe::{ObserveOptions, Scope};
use govstate::observe::{desired_state_yaml, observe};

/// The header of a written state file: editors validate it against the schema.
pub const STATE_HEADER: &str = "# yaml-language-server: $schema=../schema/govstate.schema.json\n\
# Written by `govstate devnet`: the governance state it deployed.\n";

pub async fn run(port: u16, state_path: &Path, multicall3: bool) -> anyhow::Result<ExitCode> {
    // Listen before anything is printed: a signal sent as soon as the banner
    // appears must find the handler in place.
    let stop = stop_signal()?;
    let devnet = Devnet::start(&AnvilOptions { port: Some(port), ..AnvilOptions::default() })
        .await
        .context("could not start the devnet")?;
    if multicall3 {
        devnet.install_multicall3().await.context("could not install Multicall3")?;
    }
    write_state(&devnet, state_path).await?;
    print_address_book(&devnet, state_path);
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
    println!("  RPC endpoint   {}  (anvil pid {})", devnet.url(), devnet.anvil_pid());
    println!("  chain id       {}", deployment.chain_id);
    println!("  owner          {}  (anvil account 0: owns the arena, governs the others)", devnet.owner());
    for deployed in &deployment.contracts {
        println!("  {:<14} {}  ({})", deployed.kind.key, deployed.address, deployed.kind.name);
    }
    println!("  state file     {}", state_path.display());
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
