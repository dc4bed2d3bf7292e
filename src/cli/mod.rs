//! Commands and the exit codes scripts rely on: 0 ok, 1 error.

mod demo;
mod devnet;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keep the governance settings of SelfPlayArena, StakeManager and
/// SystemPause equal to a YAML file reviewed in git.
#[derive(Debug, Parser)]
#[command(name = "govstate", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a local anvil with the three contracts deployed, write a
    /// matching state file, and run until stopped (Ctrl-C).
    Devnet {
        /// Port for the JSON-RPC endpoint on 127.0.0.1 (0 = any free port).
        #[arg(long, default_value_t = 8545)]
        port: u16,
        /// Where to write the desired-state file matching the deployment.
        #[arg(long, default_value = "state/devnet.yaml")]
        write_state: PathBuf,
    },
    /// Run the whole story on a throwaway devnet, then exit.
    Demo,
}

/// Runs one command and returns its exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Devnet { port, write_state } => devnet::run(port, &write_state).await,
        Command::Demo => demo::run().await,
    }
}

/// Prints an error with its causes and returns exit code 1.
pub fn report(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    ExitCode::from(1)
}
