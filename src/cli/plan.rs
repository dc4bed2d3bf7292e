//! `govstate plan FILE`: observe, diff, order, show.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use govstate::plan::{Plan, PlanError, PlanOptions, plan};
use govstate::render::{Style, Subject, markdown_for, state_diff, text_for};
use govstate::rpc::RpcStats;
use govstate::spec::KeyPath;

use super::common::{ChainArgs, load_desired_with};

/// Output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Terraform-like text for a terminal.
    Text,
    /// The plan as JSON.
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
    /// A Safe{Wallet} Transaction Builder batch file of the plan's Safe
    /// transaction, with its checksum (with `--out`, written there instead
    /// of saving the plan).
    SafeTxBuilder,
}

/// Arguments of `govstate plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The desired-state file.
    file: PathBuf,
    /// Save the plan (JSON) for `govstate apply PLAN`; with `--format
    /// safe-tx-builder`, the Transaction Builder file instead.
    #[arg(long, value_name = "PLAN")]
    out: Option<PathBuf>,
    /// How to show the plan.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also show a unified diff of the managed state, chain vs file, as YAML
    /// (fenced in markdown; a `diff` member of the JSON document).
    #[arg(long)]
    diff: bool,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Plan owner and governance transfers (refused otherwise).
    #[arg(long)]
    allow_ownership_transfer: bool,
    /// Override a field of the file for this run only, e.g. `--set arena.paused=true`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Manage only this key path for this run (repeatable; Terraform's
    /// `-target`): a section (`arena`), a key (`arena.paused`) or a group
    /// (`stake_manager.fees_pct`). Default: every key the file manages.
    #[arg(long = "target", value_name = "KEY_PATH")]
    targets: Vec<KeyPath>,
    /// Prove the plan on an anvil fork of the block it was made at: every
    /// route's calls sent by its final authority (impersonated; a timelock's
    /// delay skipped), then the fork observed and checked. Sends nothing to
    /// the real chain and needs no key. Exit 1 when it would not converge.
    #[arg(long)]
    simulate: bool,
    /// With `--simulate`: the account apply would sign with, whose
    /// authority and timelock roles are checked on the fork as apply checks
    /// them. Default: the account the plan's direct calls need, else a
    /// proposer of its timelock.
    #[arg(long, value_name = "ADDRESS", requires = "simulate")]
    from: Option<alloy::primitives::Address>,
    /// With `--simulate`: cancel stale timelock operations first, as
    /// `apply --cancel-stale` would.
    #[arg(long, requires = "simulate")]
    cancel_stale: bool,
    /// Print the JSON-RPC requests and round trips used, on stderr.
    #[arg(long)]
    stats: bool,
    /// The block to read at: `finalized`, `safe`, `latest` or a number.
    #[arg(long, value_name = "BLOCK", default_value = "latest")]
    block: govstate::observe::ReadAt,
    #[command(flatten)]
    chain: ChainArgs,
}

pub async fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let source = args.file.display().to_string();
    let desired = load_desired_with(&args.file, &args.overrides)?.only(&args.targets, &source)?;
    let subject = Subject { source: &source, targets: &args.targets, overrides: &args.overrides };
    let stats = RpcStats::default();
    let provider = args.chain.connect(desired.rpc_url_env.as_deref(), &stats)?;
    let observed = args.chain.observe_at(&provider, &desired.desired, &source, args.block).await?;
    let options = PlanOptions { allow_ownership_transfer: args.allow_ownership_transfer };
    let made = plan(&desired.desired, &observed, &options);
    let refused = matches!(made, Err(PlanError::OwnershipTransferNotAllowed { .. }));
    let diff = (args.diff || refused).then(|| state_diff(&desired.desired, &observed, &source));
    if let (Some(diff), true) = (&diff, made.is_err()) {
        // Machine output stays parseable: the diff of a refused plan goes
        // to stderr unless the output is text for a person.
        if args.format == Format::Text { print!("{diff}") } else { eprint!("{diff}") }
    }
    let mut made = made.with_context(|| format!("no plan for {source}"))?;
    if args.out.is_some() {
        // A saved plan names the file it was made from, as reviewed.
        made.source = Some(govstate::plan::Reviewed::of(&args.file));
        made = made.sealed();
    }
    if args.format == Format::SafeTxBuilder {
        let json = tx_builder_file(&made, &source)?;
        match &args.out {
            Some(out) => {
                std::fs::write(out, json).with_context(|| format!("could not write {}", out.display()))?;
                print!("{}", text_for(&made, &subject, Style::detect()));
                println!("Transaction Builder file: {}", out.display());
            }
            None => print!("{json}"),
        }
        return Ok(if args.detailed_exitcode && !made.is_empty() { ExitCode::from(2) } else { ExitCode::SUCCESS });
    }
    if let Some(out) = &args.out {
        save(&made, out)?;
    }
    print!("{}", render(&made, &subject, args.format, diff.as_deref())?);
    if args.format == Format::Text {
        if !made.calls.is_empty() {
            let estimate = govstate::execute::estimate_blocks(&provider, &made, &observed).await;
            if let Some(line) = govstate::render::apply_blocks(&estimate) {
                println!("{line}");
            }
        }
        for note in subject.notes() {
            println!("{note}");
        }
        println!("Plan digest: {}", made.digest);
    }
    if args.stats {
        eprintln!("{}", stats.summary());
    }
    let cancelling = args.cancel_stale && made.operations.iter().any(|o| o.is_stale());
    if args.simulate && (!made.calls.is_empty() || cancelling) {
        let url = args.chain.url(desired.rpc_url_env.as_deref())?;
        let simulation =
            govstate::simulate::on_fork(&url, &made, &args.chain.observe_options(), args.from, args.cancel_stale)
                .await
                .context("could not simulate the plan on a fork")?;
        eprintln!("{simulation}");
        if !simulation.converged() {
            return Ok(ExitCode::from(1));
        }
    }
    Ok(if args.detailed_exitcode && !made.is_empty() { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

/// The plan in `format`, with the state diff when asked: before the text,
/// fenced in markdown, and as a `diff` member of the one JSON document.
fn render(plan: &Plan, subject: &Subject<'_>, format: Format, diff: Option<&str>) -> anyhow::Result<String> {
    Ok(match (format, diff) {
        (Format::Text, diff) => format!("{}{}", diff.unwrap_or_default(), text_for(plan, subject, Style::detect())),
        (Format::Markdown, None) => markdown_for(plan, subject),
        (Format::Markdown, Some(diff)) => format!("{}\n```diff\n{diff}```\n", markdown_for(plan, subject)),
        (Format::Json, diff) => {
            let mut document = serde_json::to_value(plan)?;
            // Every time as Unix seconds and RFC 3339 (the saved plan keeps its layout).
            govstate::render::with_rfc3339(&mut document);
            if let (Some(object), Some(diff)) = (document.as_object_mut(), diff) {
                object.insert("diff".to_string(), serde_json::Value::String(diff.to_string()));
            }
            format!("{}\n", serde_json::to_string_pretty(&document)?)
        }
        (Format::SafeTxBuilder, _) => tx_builder_file(plan, subject.source)?,
    })
}

/// The Transaction Builder file of the plan's one Safe transaction.
fn tx_builder_file(plan: &Plan, source: &str) -> anyhow::Result<String> {
    let batches = govstate::route::safe_batches(plan);
    let batch = match batches.as_slice() {
        [batch] => *batch,
        [] => anyhow::bail!("the plan for {source} has no Safe transaction: no call of it goes through a Safe"),
        _ => anyhow::bail!(
            "the plan for {source} has {} Safe transactions; a Transaction Builder file holds one Safe's batch",
            batches.len()
        ),
    };
    Ok(format!("{}\n", serde_json::to_string_pretty(&govstate::render::safe_tx_builder(plan, batch))?))
}

fn save(plan: &Plan, path: &Path) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(plan)?;
    std::fs::write(path, json + "\n").with_context(|| format!("could not write the plan to {}", path.display()))
}
