//! Execute: send a plan safely, then verify that the chain reached it.
//!
//! The contract of [`apply`], which the tests hold it to:
//!
//! - it refuses, sending nothing, when the chain is not in the exact state
//!   the plan was made for (every field it observed, not only those it
//!   changes), when the endpoint serves another chain, when the signer may
//!   not make every call, when the signer has transactions pending, or when
//!   simulating the calls in order shows one would revert;
//! - it sends phase by phase, each phase's calls back to back with
//!   consecutive nonces, and waits for every receipt before the next phase;
//!   a revert stops it before the next phase, named by its custom error;
//! - success means observing again finds the state the plan promised;
//! - it is idempotent by construction: a plan is made from the chain as it
//!   is, so running it again after a crash plans only what is left and sends
//!   nothing twice.
//!
//! Every apply that sends writes a receipt as it goes.

mod integrity;
pub mod lock;
mod preflight;
mod receipt;
mod send;
mod signer;
mod stale;

pub use receipt::{Receipt, ReceiptLog, TransactionRecord};
pub use send::revert_name;
pub use signer::{SignerError, SignerSource};
pub use stale::{differences, promised, scope_of};

use std::path::PathBuf;

use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::transports::TransportError;

use crate::contracts::Phase;
use crate::observe::{ObserveError, ObserveOptions, Observed, observe};
use crate::plan::{Plan, PlannedContract};

/// How to apply.
#[derive(Debug, Clone)]
#[must_use]
pub struct ApplyOptions {
    /// Confirmations to wait for after each phase (default 1).
    pub confirmations: u64,
    /// Simulate every call in order before sending anything (default `true`).
    pub simulate_first: bool,
    /// Where receipts are written.
    pub receipts_dir: PathBuf,
    /// How to observe.
    pub observe: ObserveOptions,
    /// What was applied, for the receipt (a file or a saved plan).
    pub source: String,
    /// Fields overridden for this run only, for the receipt.
    pub overrides: Vec<String>,
}

/// What an apply did.
#[derive(Debug)]
#[must_use]
pub struct Applied {
    /// The receipt, as written.
    pub receipt: Receipt,
    /// Where it was written.
    pub receipt_path: PathBuf,
}

/// Why an apply stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The endpoint serves another chain than the plan is for.
    #[error("the RPC endpoint serves chain {actual}, but the plan is for chain {expected}; nothing was sent")]
    WrongChain {
        /// The plan's chain.
        expected: u64,
        /// The endpoint's chain.
        actual: u64,
    },
    /// The chain changed since the plan was made.
    #[error("the chain changed since the plan was made; nothing was sent:\n  {}", changes.join("\n  "))]
    Stale {
        /// What changed, one line each.
        changes: Vec<String>,
    },
    /// The signer may not send some of the calls.
    #[error(
        "{signer} may not send {} of the plan's calls; nothing was sent. Who may, by the chain of authority:\n  {}",
        refused.len(),
        refused.join("\n  ")
    )]
    Unauthorised {
        /// The signer.
        signer: Address,
        /// Each call it may not send, with its chain of authority and what
        /// can be done, one entry each.
        refused: Vec<String>,
    },
    /// Resolving who may send the calls failed.
    #[error(transparent)]
    Route(#[from] crate::route::RouteError),
    /// The signer has transactions waiting to be mined.
    #[error("{signer} has pending transactions (nonce {latest} mined, {pending} pending); nothing was sent")]
    PendingTransactions {
        /// The signer.
        signer: Address,
        /// Nonce of the latest block.
        latest: u64,
        /// Nonce including pending transactions.
        pending: u64,
    },
    /// Simulating the calls in order showed one would revert.
    #[error("simulation: {contract}.{function} would revert {revert}; nothing was sent")]
    SimulationReverted {
        /// Section key of the contract.
        contract: String,
        /// Solidity signature.
        function: String,
        /// The custom error.
        revert: String,
    },
    /// A sent transaction reverted; later phases were not sent.
    #[error("{contract}.{function} reverted {revert} (transaction {hash}); later phases were not sent")]
    Reverted {
        /// Section key of the contract.
        contract: String,
        /// Solidity signature.
        function: String,
        /// The transaction.
        hash: B256,
        /// The custom error.
        revert: String,
    },
    /// After the last phase the chain is not in the promised state.
    #[error("the chain did not converge:\n  {}", remaining.join("\n  "))]
    NotConverged {
        /// What still differs, one line each.
        remaining: Vec<String>,
    },
    /// The plan names a contract kind govstate does not know.
    #[error("the plan names an unknown contract {0:?}")]
    UnknownContract(String),
    /// A getter's data did not decode.
    #[error("could not decode a getter's return data: {0}")]
    Decode(String),
    /// Waiting for a receipt failed.
    #[error("waiting for transaction {hash} failed: {reason}")]
    Waiting {
        /// The transaction.
        hash: B256,
        /// Why.
        reason: String,
    },
    /// Observing the chain failed.
    #[error(transparent)]
    Observe(#[from] ObserveError),
    /// A JSON-RPC request failed.
    #[error("RPC request failed while {doing}: {source}")]
    Rpc {
        /// What govstate was doing.
        doing: String,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// The receipt could not be written.
    #[error("could not write the receipt: {0}")]
    Receipt(#[source] std::io::Error),
    /// The plan's calls are not what its own record plans; nothing was sent.
    #[error("{0}; nothing was sent")]
    Integrity(#[from] crate::plan::IntegrityError),
    /// The plan's content is not what its digest names; nothing was sent.
    #[error("the plan was edited after it was made (digest {recorded}, content {computed}); nothing was sent")]
    Digest {
        /// The digest the plan carries.
        recorded: B256,
        /// The digest of its content.
        computed: B256,
    },
    /// Another apply holds the deployment's lock; nothing was sent.
    #[error(transparent)]
    Locked(#[from] lock::LockError),
}

impl ApplyError {
    /// True when transactions may have been sent before the error, so the
    /// receipt is worth reading.
    pub fn after_sending(&self) -> bool {
        matches!(self, ApplyError::Reverted { .. } | ApplyError::NotConverged { .. } | ApplyError::Waiting { .. })
    }

    fn rpc(doing: impl Into<String>) -> impl FnOnce(TransportError) -> ApplyError {
        let doing = doing.into();
        move |source| ApplyError::Rpc { doing, source }
    }
}

/// Checks that `plan` may be applied now by `signer`: same chain, same
/// state, authorised, nothing pending. Returns the next nonce and the state
/// observed. Sends nothing.
pub async fn preflight(
    provider: &impl Provider,
    plan: &Plan,
    signer: Address,
    options: &ApplyOptions,
) -> Result<(u64, Observed), ApplyError> {
    integrity::check(plan)?;
    let actual = provider.get_chain_id().await.map_err(ApplyError::rpc("reading the chain id"))?;
    if actual != plan.chain_id {
        return Err(ApplyError::WrongChain { expected: plan.chain_id, actual });
    }
    let now = observe(provider, &scope_of(plan), &options.observe).await?;
    let changes = differences(&plan.contracts, &now);
    if !changes.is_empty() {
        return Err(ApplyError::Stale { changes });
    }
    preflight::check_authorised(provider, plan, signer).await?;
    let nonce = preflight::next_nonce(provider, signer).await?;
    Ok((nonce, now))
}

/// Applies `plan` with a provider that signs as `signer`.
pub async fn apply(
    provider: &impl Provider,
    plan: &Plan,
    signer: Address,
    options: &ApplyOptions,
) -> Result<Applied, ApplyError> {
    let holder = lock::this_process(signer, &options.source, receipt::now());
    let _lock = lock::acquire(&options.receipts_dir, plan, &holder)?;
    let (mut nonce, before) = preflight(provider, plan, signer, options).await?;
    let gas = if options.simulate_first {
        send::simulate(provider, plan, signer).await?
    } else {
        vec![300_000; plan.calls.len()]
    };
    let mut log = ReceiptLog::create(&options.receipts_dir, new_receipt(plan, signer, &before, options))
        .map_err(ApplyError::Receipt)?;
    let result = send_all(provider, plan, signer, &gas, &mut nonce, options, &mut log).await;
    let result = match result {
        Ok(()) => verify(provider, plan, options, &mut log).await,
        Err(error) => Err(error),
    };
    log.receipt.finished_at = Some(receipt::now());
    log.receipt.outcome = Some(match &result {
        Ok(()) => "converged".to_string(),
        Err(error) => error.to_string(),
    });
    log.save().map_err(ApplyError::Receipt)?;
    result.map(|()| Applied { receipt_path: log.path().to_path_buf(), receipt: log.receipt })
}

async fn send_all(
    provider: &impl Provider,
    plan: &Plan,
    signer: Address,
    gas: &[u64],
    nonce: &mut u64,
    options: &ApplyOptions,
    log: &mut ReceiptLog,
) -> Result<(), ApplyError> {
    for phase in Phase::ALL {
        let calls: Vec<_> = plan
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.phase == phase)
            .map(|(i, c)| (i, c, gas.get(i).copied().unwrap_or(300_000)))
            .collect();
        if calls.is_empty() {
            continue;
        }
        send::send_phase(provider, &calls, signer, *nonce, options.confirmations, log).await?;
        *nonce += calls.len() as u64;
    }
    Ok(())
}

async fn verify(
    provider: &impl Provider,
    plan: &Plan,
    options: &ApplyOptions,
    log: &mut ReceiptLog,
) -> Result<(), ApplyError> {
    let after = observe(provider, &scope_of(plan), &options.observe).await?;
    log.receipt.after = Some(snapshot(plan, &after));
    let remaining = differences(&promised(plan), &after);
    if remaining.is_empty() { Ok(()) } else { Err(ApplyError::NotConverged { remaining }) }
}

fn new_receipt(plan: &Plan, signer: Address, before: &Observed, options: &ApplyOptions) -> Receipt {
    Receipt {
        format_version: receipt::RECEIPT_FORMAT_VERSION,
        source: options.source.clone(),
        started_at: receipt::now(),
        finished_at: None,
        signer,
        overrides: options.overrides.clone(),
        plan: plan.clone(),
        before: snapshot(plan, before),
        after: None,
        transactions: Vec::new(),
        outcome: None,
    }
}

/// The observed values of the plan's contracts, in the plan's own shape.
fn snapshot(plan: &Plan, observed: &Observed) -> Vec<PlannedContract> {
    let seen = |c: &PlannedContract| observed.contracts.iter().find(|o| o.kind.key == c.contract);
    plan.contracts.iter().filter_map(|c| seen(c).map(|o| PlannedContract::observed(o, c.deployed_block))).collect()
}
