//! `govstate demo`: the whole story on a throwaway devnet.

use std::process::ExitCode;

use alloy::providers::ProviderBuilder;
use anyhow::Context;
use govstate::devnet::{AnvilOptions, Devnet};
use govstate::observe::observe;
use govstate::observe::{ObserveOptions, Scope};

pub async fn run() -> anyhow::Result<ExitCode> {
    println!(
        "Starting a throwaway devnet (anvil) and deploying SystemPause, SelfPlayArena and StakeManager…"
    );
    let devnet = Devnet::start(&AnvilOptions::default())
        .await
        .context("could not start the devnet")?;
    for deployed in &devnet.deployment().contracts {
        println!(
            "  deployed {:<14} at {}",
            deployed.kind.name, deployed.address
        );
    }
    let provider = ProviderBuilder::new().connect_http(devnet.url().clone());
    let observed = observe(
        &provider,
        &Scope::everything(devnet.deployment()),
        &throwaway(),
    )
    .await
    .context("could not read the chain")?;
    println!();
    println!("Governance state as observed on-chain:");
    println!();
    print!("{observed}");
    println!();
    println!("Demo finished; the devnet is stopped.");
    Ok(ExitCode::SUCCESS)
}

/// A throwaway chain needs no role-holder cache.
fn throwaway() -> ObserveOptions {
    ObserveOptions {
        cache_dir: None,
        ..ObserveOptions::default()
    }
}
