//! `govstate show PLAN|RECEIPT…`: read back what `plan --out` and `apply`
//! wrote, with decoded calls, routes, operation ids, fees and outcomes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use govstate::execute::Receipt;
use govstate::render::{Written, show_markdown, show_plan, show_receipt};

/// Output formats of `show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// Text for a terminal.
    Text,
    /// Markdown, for an incident log or a pull request.
    Markdown,
    /// Always a JSON list of `{kind, file, plan|receipt}`, whatever the
    /// number of files.
    Json,
}

/// Arguments of `govstate show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Saved plans (`plan --out`) and receipts (`apply`), in any order.
    #[arg(required = true, value_name = "PLAN|RECEIPT")]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    format: ShowFormat,
}

pub fn run(args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let written: Vec<Written> = args.files.iter().map(|f| read(f)).collect::<anyhow::Result<_>>()?;
    match args.format {
        ShowFormat::Json => println!("{}", serde_json::to_string_pretty(&written)?),
        ShowFormat::Markdown => {
            let shown: Vec<String> = written.iter().map(show_markdown).collect();
            print!("{}", shown.join("\n"));
        }
        ShowFormat::Text => {
            let shown: Vec<String> = written.iter().map(text).collect();
            print!("{}", shown.join("\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn text(written: &Written) -> String {
    match written {
        Written::Plan { file, plan } => show_plan(plan, file),
        Written::Receipt { file, receipt } => show_receipt(receipt, file),
    }
}

/// A receipt carries `transactions`; anything else must be a saved plan,
/// loaded with every check `apply` makes (size, layout, digest).
pub(super) fn read(path: &Path) -> anyhow::Result<Written> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("could not read {file}"))?;
    if looks_like_receipt(&bytes) {
        let receipt: Receipt = serde_json::from_slice(&bytes)
            .with_context(|| format!("{file}: not a receipt written by `govstate apply`"))?;
        return Ok(Written::Receipt { file, receipt: Box::new(receipt) });
    }
    let plan = govstate::plan::load(&bytes, &file)?;
    Ok(Written::Plan { file, plan: Box::new(plan) })
}

/// True for a JSON object with a `transactions` key (a receipt).
fn looks_like_receipt(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        transactions: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(bytes).is_ok_and(|p| p.transactions.is_some())
}
