//! `govstate apply FILE|PLAN`: show, confirm, send, verify.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use govstate::execute::{ApplyOptions, Sending, apply};
use govstate::plan::{Plan, PlanOptions, RouteKind, plan};
use govstate::render::{Style, Subject, operations, text_for, transactions};
use govstate::rpc::{RpcStats, connect_wallet_with, connect_with};
use govstate::spec::KeyPath;

use super::common::{ChainArgs, load_desired_with};
use super::signer::SignerArgs;

/// Arguments of `govstate apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A desired-state file (planned now), or a plan saved by `plan --out`
    /// (applied without asking: saving it was the approval).
    target: PathBuf,
    /// Apply without asking.
    #[arg(long)]
    yes: bool,
    /// Override a field of the file for this run only, e.g.
    /// `--set arena.paused=true`; shown in the plan and kept in the receipt.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Manage only this key path for this run (repeatable; Terraform's
    /// `-target`), e.g. `--target arena.paused`: a section, a key or a group
    /// (`stake_manager.fees_pct`); kept in the receipt. Default: every key
    /// the file manages.
    #[arg(long = "target", value_name = "KEY_PATH")]
    targets: Vec<KeyPath>,
    /// Plan owner and governance transfers (refused otherwise). A saved
    /// plan with such calls needs it too, at apply time: what the plan file
    /// says about itself is no permission.
    #[arg(long)]
    allow_ownership_transfer: bool,
    /// Apply the saved plan only if its digest is this one: the digest the
    /// reviewer saw (`plan` prints it; the CI comment shows it). Binds the
    /// apply to the reviewed plan, whatever file sits at the path.
    #[arg(long, value_name = "DIGEST")]
    expect_digest: Option<alloy::primitives::B256>,
    /// Confirmations to wait for after each phase.
    #[arg(long, default_value_t = 1)]
    confirmations: u64,
    /// Max fee per gas (EIP-1559 `maxFeePerGas`), e.g. `30 gwei` or wei;
    /// for legacy (type-0) transactions, their gas price. Default: the
    /// node's suggestion.
    #[arg(long, value_name = "PRICE", value_parser = parse_price)]
    gas_price: Option<u128>,
    /// Max priority fee per gas (the tip), e.g. `2 gwei` or wei. Default:
    /// the node's suggestion.
    #[arg(long, value_name = "PRICE", value_parser = parse_price)]
    priority_gas_price: Option<u128>,
    /// Send legacy (type-0) transactions priced at `--gas-price` or the
    /// node's `eth_gasPrice`, as Foundry's `--legacy`. Default: only on a
    /// chain without EIP-1559 (no base fee), where it is chosen by itself.
    #[arg(long)]
    legacy: bool,
    /// The most any transaction may offer per gas, replacements included:
    /// a fee above it (the node's suggestion or `--gas-price`) is refused
    /// before anything is sent.
    #[arg(long, value_name = "PRICE", value_parser = parse_price, default_value = "200 gwei")]
    max_fee_per_gas: u128,
    /// Replace a transaction still unmined after this long (`2m`) with the
    /// same call at the same nonce and a higher fee. Default: wait.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    bump_after: Option<std::time::Duration>,
    /// Run every call in order with `eth_simulateV1` at the current block
    /// before sending anything, and refuse if one would revert.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    simulate_first: bool,
    /// Where receipts are written, and where the lock that keeps two applies
    /// of one deployment apart lives. Default: `receipts/` beside the file.
    #[arg(long, value_name = "DIR")]
    receipts_dir: Option<PathBuf>,
    /// Before sending anything, prove the plan on an anvil fork (see
    /// `plan --simulate`) and refuse if it would not converge. Default: on
    /// for a plan with a timelock route.
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    simulate_fork: Option<bool>,
    /// Cancel pending timelock operations the file no longer asks for
    /// (needs CANCELLER_ROLE) before scheduling the new batch.
    #[arg(long)]
    cancel_stale: bool,
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    chain: ChainArgs,
}

pub async fn run(args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let source = args.target.display().to_string();
    let signing = args.signer.source()?;
    // A key, a device or a KMS is reached first, so a missing device fails
    // before anything is read; an unlocked account once the endpoint is known.
    let early = if signing.needs_endpoint() { None } else { Some(signing.resolve(None).await?) };
    let stats = RpcStats::default();
    let (plan, rpc_env) = if is_saved_plan(&args.target) {
        if !args.overrides.is_empty() {
            bail!("--set applies to a desired-state file, not to a saved plan");
        }
        if !args.targets.is_empty() {
            bail!("--target applies to a desired-state file, not to a saved plan; pass it to `plan --out` instead");
        }
        let saved = read_plan(&args.target)?;
        authorise_saved(&saved, &args)?;
        (saved, None)
    } else {
        if args.expect_digest.is_some() {
            bail!("--expect-digest binds apply to a saved plan (`plan --out PLAN`); a file is planned afresh");
        }
        let loaded = load_desired_with(&args.target, &args.overrides)?.only(&args.targets, &source)?;
        let provider = args.chain.connect(loaded.rpc_url_env.as_deref(), &stats)?;
        let observed = args.chain.observe(&provider, &loaded.desired, &source).await?;
        let options = PlanOptions { allow_ownership_transfer: args.allow_ownership_transfer };
        (
            plan(&loaded.desired, &observed, &options).with_context(|| format!("no plan for {source}"))?,
            loaded.rpc_url_env,
        )
    };
    let url = args.chain.url(rpc_env.as_deref())?;
    let signer = match early {
        Some(signer) => signer,
        None => signing.resolve(Some(&connect_with(url.clone(), &stats, args.chain.patience()))).await?,
    };
    let subject = Subject { source: &source, targets: &args.targets, overrides: &args.overrides };
    print!("{}", text_for(&plan, &subject, Style::detect()));
    for note in subject.notes() {
        println!("{note}");
    }
    println!("Plan digest: {}", plan.digest);
    let cancelling = args.cancel_stale && plan.operations.iter().any(|o| o.is_stale());
    if plan.calls.is_empty() && !cancelling {
        // Nothing to send for the file, but a signed transaction of an
        // earlier apply the chain lost must not stay valid.
        let stop = stop_on_signal()?;
        let sending =
            Sending { stop: Some(stop.clone()), progress: Some(|line| eprintln!("{line}")), ..Sending::default() };
        let options = apply_options(&args, &plan, &source, sending)?;
        let provider = connect_wallet_with(url, &stats, signer.wallet(), args.chain.patience());
        let settled = match govstate::execute::settle_orphans(&provider, &plan, signer.address(), &options).await {
            Ok(settled) => settled,
            Err(error) if error.after_sending() => return Ok(after_sending(error, &options, &stop)),
            Err(error) => return Err(error.into()),
        };
        for line in &settled.corrections {
            eprintln!("warning: {line}");
        }
        if let Some(applied) = settled.applied {
            print!("{}", transactions(&applied.receipt));
            for warning in &applied.receipt.warnings {
                eprintln!("warning: {warning}");
            }
            println!("Receipt: {}", applied.receipt_path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let fees = settle_fees(&args, &url, &stats).await?;
    println!("{fees}");
    if !is_saved_plan(&args.target) && !args.yes && !confirmed(plan.calls.len(), &fees)? {
        println!("Nothing was sent.");
        return Ok(ExitCode::from(1));
    }
    let routed = plan.routes.iter().any(|r| r.via != RouteKind::Direct);
    if args.simulate_fork.unwrap_or(routed) {
        let from = Some(signer.address());
        let simulation =
            govstate::simulate::on_fork(&url, &plan, &args.chain.observe_options(), from, args.cancel_stale)
                .await
                .context("could not simulate the plan on a fork")?;
        println!("{simulation}");
        // A refusal is apply's own: applying for real refuses the same way,
        // and still sends the pauses it may.
        if simulation.reverted.is_some() || !simulation.remaining.is_empty() {
            bail!("the plan would not converge on a fork of block {}; nothing was sent", plan.block.number);
        }
    }
    let stop = stop_on_signal()?;
    let address = signer.address();
    let provider = connect_wallet_with(url, &stats, signer.wallet(), args.chain.patience());
    let sending = Sending {
        confirmations: args.confirmations,
        max_fee_per_gas: Some(fees.max_fee_per_gas),
        priority_fee_per_gas: Some(fees.priority_fee_per_gas),
        fee_ceiling: Some(fees.ceiling),
        legacy: fees.legacy.is_some(),
        block_gas_limit: None,
        stop: Some(stop.clone()),
        progress: Some(|line| eprintln!("{line}")),
        bump_after: args.bump_after,
    };
    let options = apply_options(&args, &plan, &source, sending)?;
    let applied = match apply(&provider, &plan, address, &options).await {
        Ok(applied) => applied,
        Err(error) if error.after_sending() => return Ok(after_sending(error, &options, &stop)),
        Err(error) => return Err(error.into()),
    };
    print!("{}", transactions(&applied.receipt));
    for warning in &applied.receipt.warnings {
        eprintln!("warning: {warning}");
    }
    let sent = applied.receipt.transactions.len();
    let now = plan.block.timestamp;
    let pending = operations(&applied.receipt, now);
    let plural = if sent == 1 { "" } else { "s" };
    if pending.is_empty() && sent == plan.calls.len() {
        println!("Applied {sent} call{plural}; the chain now matches {subject}.");
    } else if pending.is_empty() && sent == 0 {
        println!("Nothing to send: the plan's calls are on chain already; the chain now matches {subject}.");
    } else if pending.is_empty() {
        println!("Sent {sent} transaction{plural}; the chain now matches {subject}.");
    } else if sent == 0 {
        println!("Nothing was sent.");
        print!("{pending}");
    } else {
        println!("Sent {sent} transaction{plural}; what they did is on chain and verified.");
        print!("{pending}");
    }
    if let Some(wait) = govstate::render::pause_wait(&plan) {
        println!("{wait}");
    }
    println!("Receipt: {}", applied.receipt_path.display());
    Ok(ExitCode::SUCCESS)
}

/// How to apply, from the command line.
fn apply_options(args: &ApplyArgs, plan: &Plan, source: &str, sending: Sending) -> anyhow::Result<ApplyOptions> {
    Ok(ApplyOptions {
        sending,
        simulate_first: args.simulate_first,
        receipts_dir: args.receipts_dir.clone().unwrap_or_else(|| default_receipts_dir(&args.target)),
        observe: args.chain.observe_options(),
        source: source.to_string(),
        reviewed: if is_saved_plan(&args.target) {
            plan.source.clone()
        } else {
            Some(govstate::plan::Reviewed::of(&args.target))
        },
        overrides: args.overrides.clone(),
        targets: args.targets.iter().map(ToString::to_string).collect(),
        cancel_stale: args.cancel_stale,
        safe_signatures: signatures_beside(&args.target)?,
    })
}

/// Reports an error that came after transactions were sent: the error,
/// then what was sent and where it stands, the receipt's path last. Exit
/// 130 when a stop was asked for, else 1.
fn after_sending(
    error: govstate::ApplyError,
    options: &ApplyOptions,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> ExitCode {
    // A stop asked for while waiting for receipts ends in a waiting error:
    // it was an interruption all the same.
    let interrupted = matches!(error.cause(), govstate::ApplyError::Interrupted { .. }) || *stop.borrow();
    let receipt = error.receipt().map(Path::to_path_buf).or_else(|| latest_receipt(&options.receipts_dir));
    super::report(&error.into());
    if let Some(receipt) = receipt.as_deref().and_then(read_receipt) {
        for warning in &receipt.warnings {
            eprintln!("warning: {warning}");
        }
        eprintln!("What was sent, and where it stands:");
        eprint!("{}", transactions(&receipt));
    }
    if interrupted {
        eprintln!("Run the same apply again to resume: it plans only what is left and sends nothing twice.");
    }
    let shown = receipt.unwrap_or_else(|| options.receipts_dir.clone());
    eprintln!("The receipt of what was sent is in {}", shown.display());
    ExitCode::from(if interrupted { 130 } else { 1 })
}

/// A saved plan is applied only as the operator allows now: its digest must
/// be the reviewed one when `--expect-digest` is given, and ownership
/// transfers need `--allow-ownership-transfer` on this command line.
fn authorise_saved(plan: &Plan, args: &ApplyArgs) -> anyhow::Result<()> {
    let source = args.target.display();
    if let Some(expected) = args.expect_digest
        && plan.digest != expected
    {
        bail!(
            "{source}: refused; nothing was sent: its digest is {}, not the reviewed {expected} (--expect-digest)",
            plan.digest
        );
    }
    if args.expect_digest.is_none() && !plan.calls.is_empty() {
        eprintln!(
            "warning: {source} is applied without --expect-digest: nothing binds it to the plan that was reviewed (its digest is {})",
            plan.digest
        );
    }
    let now = PlanOptions { allow_ownership_transfer: args.allow_ownership_transfer };
    govstate::plan::permitted(plan, &now)
        .with_context(|| format!("{source}: refused; nothing was sent (pass --allow-ownership-transfer to apply it)"))
}

/// The owners' signatures kept beside a saved plan (`PLAN.signatures.json`),
/// if any.
fn signatures_beside(target: &Path) -> anyhow::Result<govstate::route::SignatureFile> {
    if !is_saved_plan(target) {
        return Ok(govstate::route::SignatureFile::default());
    }
    Ok(govstate::route::SignatureFile::load(&govstate::route::signatures_path(target))?)
}

/// The fees every transaction of this apply offers, checked against the
/// latest block's base fee and the ceiling before anything is sent.
async fn settle_fees(
    args: &ApplyArgs,
    url: &govstate::rpc::Url,
    stats: &RpcStats,
) -> anyhow::Result<govstate::execute::fees::Fees> {
    let reader = govstate::rpc::connect_with(url.clone(), stats, args.chain.patience());
    let request = govstate::execute::fees::FeeRequest {
        max_fee_per_gas: args.gas_price,
        priority_fee_per_gas: args.priority_gas_price,
        ceiling: args.max_fee_per_gas,
        legacy: args.legacy,
    };
    Ok(govstate::execute::fees::settle(&reader, request).await?)
}

/// A fee as the file writes amounts: wei, or a number with a unit (`30 gwei`).
fn parse_price(text: &str) -> Result<u128, String> {
    // FromStr, not the file's reader: a price below 1 gwei is ordinary on
    // some chains and needs no unit.
    let amount: govstate::spec::Amount =
        text.parse().map_err(|_| format!("{text:?} is not a price; expected e.g. 30 gwei or 30000000000"))?;
    u128::try_from(amount.get()).map_err(|_| format!("{text:?} is too large a price"))
}

/// Turns true on the first Ctrl-C or SIGTERM, so apply stops sending and
/// finishes its receipt instead of dying mid-phase.
fn stop_on_signal() -> anyhow::Result<tokio::sync::watch::Receiver<bool>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("could not listen for Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("could not listen for SIGTERM")?;
    let (tell, stop) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        eprintln!("Stopping: nothing more will be sent; waiting briefly for what was sent…");
        let _ = tell.send(true);
    });
    Ok(stop)
}

/// The most recent receipt in `dir`, to show what an unfinished apply sent.
fn latest_receipt(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let newest = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())?;
    Some(newest.path())
}

/// A receipt as written, if it can be read.
fn read_receipt(path: &Path) -> Option<govstate::execute::Receipt> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// A saved plan is JSON; a desired-state file is YAML.
fn is_saved_plan(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Loads a saved plan and checks, before showing it, that its calls are
/// what its own record plans: what is shown is what would be sent.
pub(super) fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let plan = govstate::plan::load_file(path)?;
    govstate::plan::rederive(&plan).with_context(|| format!("{}: refused; nothing was sent", path.display()))?;
    Ok(plan)
}

fn default_receipts_dir(target: &Path) -> PathBuf {
    target.parent().unwrap_or(Path::new(".")).join("receipts")
}

/// Asks on the terminal; without one, refuses.
fn confirmed(calls: usize, fees: &govstate::execute::fees::Fees) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing to apply without confirmation: no terminal to ask on; pass --yes to apply {calls} calls");
    }
    // The prompt goes to stderr: stdout carries only the result, and may be
    // redirected to a file.
    let most = govstate::execute::fees::gwei(fees.max_fee_per_gas);
    eprint!("Apply these {calls} calls, at most {most} per gas? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
