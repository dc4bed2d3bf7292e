//! `govstate report RECEIPT…`: the incident summary for the team and the
//! incident log, from the receipts of the applies that made the change.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, ValueEnum};
use govstate::render::{Written, incident_report, report_markdown};

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Markdown, for the incident log and the team's channel.
    Markdown,
    /// The same content as JSON.
    Json,
}

/// Arguments of `govstate report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Receipts written by `apply`, in the order the applies ran.
    #[arg(required = true, value_name = "RECEIPT")]
    receipts: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    format: ReportFormat,
    /// A block explorer to link transactions through: a template with
    /// `{hash}` (`https://etherscan.io/tx/{hash}`), or a base URL to which
    /// `/tx/<hash>` is added. Default: the chain's usual explorer for
    /// Ethereum, its testnets and the large L2s (Etherscan and its kin), no
    /// links on other chains.
    #[arg(long, value_name = "URL")]
    explorer: Option<String>,
}

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let mut receipts = Vec::with_capacity(args.receipts.len());
    for path in &args.receipts {
        match super::show::read(path)? {
            Written::Receipt { file, receipt } => receipts.push((file, *receipt)),
            Written::Plan { file, .. } => {
                bail!("{file} is a saved plan, not a receipt: a report is made from what apply did")
            }
        }
    }
    let report = incident_report(&receipts, args.explorer.as_deref());
    match args.format {
        ReportFormat::Markdown => print!("{}", report_markdown(&report)),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(ExitCode::SUCCESS)
}
