//! Commands and the exit codes scripts rely on: 0 ok (in sync), 2 changes
//! (with `--detailed-exitcode`), 1 error.

mod apply;
mod common;
mod completions;
mod demo;
mod devnet;
mod drift;
mod import;
mod plan;
mod report;
mod show;
mod sign;
mod signer;
mod validate;

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
    /// Check desired-state files offline: exit 0 when all are valid, 1 otherwise.
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema of the desired-state file.
    Schema,
    /// Observe the chain, diff it against the file, and show the ordered calls.
    Plan(plan::PlanArgs),
    /// Show the plan, confirm, send it phase by phase, and verify.
    Apply(apply::ApplyArgs),
    /// Sign a saved plan's Safe transactions as one owner, offline: the
    /// signature goes to `PLAN.signatures.json` beside it.
    Sign(sign::SignArgs),
    /// Read back saved plans and receipts: decoded calls with their
    /// arguments, routes, operation ids, fees and outcomes.
    Show(show::ShowArgs),
    /// The incident summary of some applies, from their receipts: each field
    /// before → after, who sent what and when, pending operations.
    Report(report::ReportArgs),
    /// Check many deployment files against their chains, read-only: exit 0
    /// all in sync, 2 any drift, 1 any error.
    Drift(drift::DriftArgs),
    /// Write a desired-state file from the chain as it is, at one block.
    Import(import::ImportArgs),
    /// Start a local anvil with the three contracts deployed, write a
    /// matching state file, and run until stopped (Ctrl-C).
    Devnet {
        /// Port for the JSON-RPC endpoint on 127.0.0.1 (0 = any free port).
        #[arg(long, default_value_t = 8545)]
        port: u16,
        /// Where to write the desired-state file matching the deployment.
        #[arg(long, default_value = "state/devnet.yaml")]
        write_state: PathBuf,
        /// Also install Multicall3 at its canonical address, as on most
        /// public chains (a fresh anvil has none).
        #[arg(long)]
        multicall3: bool,
        /// How the contracts are wired: `direct` (one account owns and
        /// governs everything), `modules` (the production SystemPause owning
        /// StakeManager and seven module stand-ins, governed by account 0), or
        /// `production` (the same, governed by a TimelockController).
        #[arg(long, value_enum, default_value_t = devnet::TopologyArg::Direct)]
        topology: devnet::TopologyArg,
        /// The TimelockController's minimum delay with `--topology production`.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = devnet::parse_delay)]
        timelock_delay: u64,
        /// Deploy a real Safe v1.4.1 owned by the first development
        /// accounts, e.g. `2-of-3` (accounts 0, 1 and 2, threshold 2): it owns
        /// the arena, and is the timelock's proposer with `--topology production`.
        #[arg(long, value_name = "T-of-N")]
        safe: Option<govstate::devnet::SafeSetup>,
        /// Run anvil on this hardfork (anvil's names, e.g. `berlin`, a chain
        /// without EIP-1559 fees), with the reference contracts built for it.
        /// Default: anvil's latest.
        #[arg(long, value_name = "NAME", value_parser = devnet::parse_hardfork)]
        hardfork: Option<String>,
    },
    /// Print a shell completion script, e.g. `govstate completions bash > /etc/bash_completion.d/govstate`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `govstate man > govstate.1`.
    Man,
    /// Run the whole story on a throwaway devnet, then exit.
    Demo {
        /// `direct` (the default): one account owns and governs everything.
        /// `production`: the incident through a TimelockController.
        #[arg(long, value_enum, default_value_t = devnet::TopologyArg::Direct)]
        topology: devnet::TopologyArg,
        /// The TimelockController's minimum delay with `--topology production`.
        #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = devnet::parse_delay)]
        timelock_delay: u64,
    },
}

/// Runs one command and returns its exit code.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Schema => validate::schema(),
        Command::Plan(args) => plan::run(args).await,
        Command::Apply(args) => apply::run(args).await,
        Command::Sign(args) => sign::run(&args).await,
        Command::Show(args) => show::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Drift(args) => drift::run(args).await,
        Command::Import(args) => import::run(args).await,
        Command::Devnet { port, write_state, multicall3, topology, timelock_delay, safe, hardfork } => {
            let topology = topology.with_delay(timelock_delay);
            devnet::run(port, &write_state, multicall3, topology, safe, hardfork).await
        }
        Command::Completions { shell } => completions::completions(shell),
        Command::Man => completions::man(),
        Command::Demo { topology: devnet::TopologyArg::Production, timelock_delay } => {
            demo::run_production(timelock_delay).await
        }
        Command::Demo { .. } => demo::run().await,
    }
}

/// The command line with `--help`/`-h` dropped after the `help` command:
/// clap reads `govstate help --help` as an unknown command, while people
/// mean "help about help" (`help` alone), or `help plan --help` ("help
/// about plan").
pub fn help_flags_after_help(args: impl IntoIterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    if args.get(1).is_none_or(|a| a != "help") {
        return args;
    }
    let flag = |a: &std::ffi::OsString| a == "--help" || a == "-h";
    args.into_iter().enumerate().filter(|(i, a)| *i < 2 || !flag(a)).map(|(_, a)| a).collect()
}

/// Prints help, the version or a usage error. A usage error exits 1, not
/// clap's 2: schedulers read 2 as drift (or changes), never as a typo.
pub fn usage(error: &clap::Error) -> ExitCode {
    let _ = error.print();
    if error.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// Prints an error with its causes and returns exit code 1. A cause whose
/// text the message above it already contains is not repeated.
pub fn report(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", for_terminal(&error.to_string()));
    let mut shown = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !shown.contains(&text) {
            eprintln!("  caused by: {}", for_terminal(&text));
        }
        shown = text;
    }
    ExitCode::from(1)
}

/// The longest error line shown; a longer one (a node's huge answer quoted
/// by a library) is cut, saying how much was left out.
const LONGEST_ERROR_LINE: usize = 2_000;

/// An error's text made safe for a terminal: control characters escaped,
/// its length bounded.
fn for_terminal(text: &str) -> String {
    let text = govstate::render::escape::terminal(text);
    match text.char_indices().nth(LONGEST_ERROR_LINE) {
        Some((cut, _)) => format!("{}… ({} more bytes not shown)", &text[..cut], text.len() - cut),
        None => text.into_owned(),
    }
}
