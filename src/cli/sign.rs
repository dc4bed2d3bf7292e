//! `govstate sign PLAN`: an owner signs the plan's Safe transactions from
//! the plan file itself, offline, and the signature is kept beside it in
//! `PLAN.signatures.json` (one entry per owner; never a key).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use govstate::render::safe_transaction;
use govstate::route::{SignatureFile, check_batch, safe_batches, sign, signatures_path};

use super::apply::{SignerArgs, read_plan};

/// Arguments of `govstate sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// A plan saved by `plan --out` with a Safe route.
    plan: PathBuf,
    #[command(flatten)]
    signer: SignerArgs,
}

pub fn run(args: &SignArgs) -> anyhow::Result<ExitCode> {
    let plan = read_plan(&args.plan)?;
    let batches = safe_batches(&plan);
    if batches.is_empty() {
        bail!("{} has no Safe transaction to sign: no call of it goes through a Safe", args.plan.display());
    }
    let signer = args.signer.source()?.signer()?;
    let path = signatures_path(&args.plan);
    let mut file = SignatureFile::load(&path)?;
    for batch in batches {
        check_batch(&plan, batch).with_context(|| format!("{} was not signed", args.plan.display()))?;
        print!("{}", safe_transaction(&plan, batch));
        sign(&mut file, batch, &signer).with_context(|| format!("{} was not changed", path.display()))?;
        let have = file.signatures.iter().filter(|s| s.safe_tx_hash == batch.safe_tx_hash).count();
        println!("Signed by {} ({have} of {} signatures)", signer.address(), batch.threshold);
    }
    file.save(&path)?;
    println!("Signatures: {}", path.display());
    Ok(ExitCode::SUCCESS)
}
