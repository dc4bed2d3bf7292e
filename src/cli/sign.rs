//! `govstate sign PLAN`: an owner signs the plan's Safe transactions from
//! the plan file itself, offline (or through the endpoint's external signer
//! with `--unlocked`), with any signer, and the signature is kept beside it
//! in `PLAN.signatures.json` (one entry per owner; never a key).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use govstate::contracts::safe::safe_tx_typed_data;
use govstate::render::safe_transaction;
use govstate::route::{SignatureFile, add_signature, check_batch, may_sign, safe_batches, signatures_path};
use govstate::rpc::{Patience, RpcStats, connect_with};

use super::apply::read_plan;
use super::signer::SignerArgs;

/// Arguments of `govstate sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// A plan saved by `plan --out` with a Safe route.
    plan: PathBuf,
    /// The endpoint whose external signer signs, with `--unlocked`.
    /// Default: `ETH_RPC_URL`. Signing with any other signer is offline.
    #[arg(long, value_name = "URL")]
    rpc_url: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
}

pub async fn run(args: &SignArgs) -> anyhow::Result<ExitCode> {
    let plan = read_plan(&args.plan)?;
    let batches = safe_batches(&plan);
    if batches.is_empty() {
        bail!("{} has no Safe transaction to sign: no call of it goes through a Safe", args.plan.display());
    }
    let source = args.signer.source()?;
    let endpoint = if source.needs_endpoint() {
        Some(connect_with(endpoint(args)?, &RpcStats::default(), Patience::default()))
    } else {
        None
    };
    let signer = source.resolve(endpoint.as_ref()).await?;
    let path = signatures_path(&args.plan);
    let mut file = SignatureFile::load(&path)?;
    for batch in batches {
        check_batch(&plan, batch).with_context(|| format!("{} was not signed", args.plan.display()))?;
        print!("{}", safe_transaction(&plan, batch));
        may_sign(&file, batch, signer.address()).with_context(|| format!("{} was not changed", path.display()))?;
        if matches!(signer.kind(), "Ledger" | "Trezor") {
            println!("Confirm on the {}: it shows the SafeTx hash above.", signer.kind());
        }
        let typed = safe_tx_typed_data(plan.chain_id, batch.safe, batch.to, batch.operation, &batch.data, batch.nonce);
        let signature = signer
            .sign_safe_tx(&typed, batch.safe_tx_hash)
            .await
            .with_context(|| format!("{} was not changed", path.display()))?;
        add_signature(&mut file, batch, signer.address(), signature)
            .with_context(|| format!("{} was not changed", path.display()))?;
        let have = file.signatures.iter().filter(|s| s.safe_tx_hash == batch.safe_tx_hash).count();
        println!("Signed by {} ({have} of {} signatures)", signer.address(), batch.threshold);
    }
    file.save(&path)?;
    println!("Signatures: {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `--rpc-url`, else `ETH_RPC_URL`.
fn endpoint(args: &SignArgs) -> anyhow::Result<alloy::transports::http::reqwest::Url> {
    let (url, origin) = match &args.rpc_url {
        Some(url) => (url.clone(), "--rpc-url"),
        None => (
            std::env::var("ETH_RPC_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .context("--unlocked signs through the endpoint: pass --rpc-url or set ETH_RPC_URL")?,
            "ETH_RPC_URL",
        ),
    };
    Ok(govstate::rpc::parse_endpoint(&url, origin)?)
}
