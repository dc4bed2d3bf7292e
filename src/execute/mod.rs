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
//!   nothing twice;
//! - it never leaves a signed transaction valid behind its back: what
//!   earlier receipts recorded and a reorganisation took off the chain is
//!   sent again by the plan or has its nonce taken first (see `orphans`);
//! - whatever fails after the first send, the error carries the receipt of
//!   what was sent ([`ApplyError::AfterSending`]).
//!
//! Every apply that sends writes a receipt as it goes.

mod estimate;
pub mod fees;
mod fit;
mod integrity;
pub mod lock;
mod operations;
mod orphans;
mod preflight;
mod receipt;
mod safe;
mod send;
mod signer;
mod stale;

pub use estimate::{BlocksEstimate, Sizing, blocks as estimate_blocks};
pub use receipt::{OperationRecord, RECEIPT_FORMAT_VERSION, Receipt, ReceiptLog, TransactionRecord};
pub use send::{Sending, revert_name};
pub use signer::{GCP_KMS_ENDPOINT, GcpKey, HdPath, Signer, SignerError, SignerSource};
pub use stale::{differences, made_already, promised, promised_by, scope_of};

use std::path::PathBuf;

use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::transports::TransportError;

use crate::observe::{ObserveError, ObserveOptions, Observed, observe};
use crate::plan::{Plan, PlannedContract, RouteKind};
use crate::route::{self, Steps, Transaction, Waiting};

/// How to apply.
#[derive(Debug, Clone)]
#[must_use]
pub struct ApplyOptions {
    /// Confirmations, fees and stopping (default: 1 confirmation, the
    /// node's fees, no stop).
    pub sending: Sending,
    /// Simulate every call in order before sending anything (default `true`).
    pub simulate_first: bool,
    /// Where receipts are written.
    pub receipts_dir: PathBuf,
    /// How to observe.
    pub observe: ObserveOptions,
    /// What was applied, for the receipt (a file or a saved plan).
    pub source: String,
    /// The desired-state file reviewed, for the receipt (default: none).
    pub reviewed: Option<crate::plan::Reviewed>,
    /// Fields overridden for this run only, for the receipt.
    pub overrides: Vec<String>,
    /// The `--target` key paths the run was narrowed to, for the receipt
    /// (default: none, the whole file).
    pub targets: Vec<String>,
    /// Cancel pending timelock operations the file no longer asks for
    /// before scheduling the new batch (default `false`).
    pub cancel_stale: bool,
    /// Owners' signatures of the plan's Safe transactions (default: none;
    /// the signer still counts when it is an owner).
    pub safe_signatures: crate::route::SignatureFile,
}

/// What an apply did.
#[derive(Debug)]
#[must_use]
pub struct Applied {
    /// The receipt, as written.
    pub receipt: Receipt,
    /// Where it was written.
    pub receipt_path: PathBuf,
    /// Timelock batches scheduled earlier and still waiting for their delay.
    pub waiting: Vec<Waiting>,
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
    #[error(
        "the chain changed since the plan was made (beyond what the plan itself did); nothing was sent:\n  {}\nPlan again from the file (`govstate plan FILE --out PLAN`), review the new plan, and apply that",
        changes.join("\n  ")
    )]
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
    /// A Safe transaction's signatures do not hold or are too few.
    #[error(transparent)]
    Safe(#[from] crate::route::SafeError),
    /// Stale timelock operations are pending where a new batch would go.
    #[error(
        "stale timelock operations are pending ({}): the file no longer asks for them, and scheduling beside them would leave both executable; pass --cancel-stale to cancel them first (CANCELLER_ROLE); nothing was sent",
        operations.join(", ")
    )]
    StaleOperations {
        /// `0x… on 0x…`, one per operation.
        operations: Vec<String>,
    },
    /// The signer lacks a timelock role a step needs.
    #[error(
        "{signer} lacks {role} on TimelockController {timelock}, needed for {why}; nothing was sent. The chain of authority:\n  {}",
        chains.join("\n  ")
    )]
    MissingRole {
        /// The signer.
        signer: Address,
        /// The TimelockController.
        timelock: Address,
        /// The role.
        role: &'static str,
        /// What for.
        why: String,
        /// The chain of authority of each call concerned, one entry each.
        chains: Vec<String>,
    },
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
    /// The node holds transactions of the signer it cannot mine yet: signed
    /// by an apply that stopped before all its sends arrived. Sending now
    /// would fill the gap and let them run, whatever this plan says.
    #[error(
        "{signer} has transactions queued behind a gap (nonces {}; nonce {latest} is next): an earlier apply signed them and stopped before the transaction at nonce {latest} arrived. Sending now would let them run after this plan. Nothing was sent; see that apply's receipt, and either let it finish (replace nonce {latest}) or drop them from the node's pool",
        queued.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    QueuedTransactions {
        /// The signer.
        signer: Address,
        /// Its next nonce.
        latest: u64,
        /// The queued nonces.
        queued: Vec<u64>,
    },
    /// An earlier apply by the same signer stopped with transactions it sent
    /// that the node still holds unmined: sending now could leave both
    /// runs' calls on chain.
    #[error(
        "an earlier apply (receipt {}) sent transactions the node still holds unmined (nonces {}); nothing was sent. Wait for them to be mined (or dropped), then run apply again: it plans only what is left",
        receipt.display(),
        nonces.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    UnfinishedApply {
        /// The earlier apply's receipt.
        receipt: PathBuf,
        /// The nonces it sent, never saw mined, and the node still holds.
        nonces: Vec<u64>,
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
    /// Waiting for a receipt failed.
    #[error("waiting for transaction {hash} failed: {reason}")]
    Waiting {
        /// The transaction.
        hash: B256,
        /// Why.
        reason: String,
    },
    /// A sent transaction's receipt could not be read because the endpoint
    /// refuses every request now (its quota is spent): the transaction may
    /// well be mined. Nothing more was sent or waited for; the next apply
    /// looks it up again and corrects the receipt.
    #[error(
        "{call} was sent ({hash}), but its receipt could not be read: {reason}. It may well be mined: the next apply looks it up again and corrects the receipt; nothing after it was sent"
    )]
    ReceiptUnread {
        /// The call sent: `arena.setOrchestrator(address,bool)`.
        call: String,
        /// The transaction.
        hash: B256,
        /// Why its receipt could not be read, naming the endpoint's host.
        reason: String,
    },
    /// Observing the chain failed.
    #[error(transparent)]
    Observe(#[from] ObserveError),
    /// A send failed after others of its phase were sent: those were
    /// waited for and recorded.
    #[error(
        "sending {function} failed: {source}; {} of the phase were sent before it, waited for and recorded in the receipt; nothing after it was sent",
        if *sent == 1 { "1 transaction".to_string() } else { format!("{sent} transactions") }
    )]
    SendFailed {
        /// The call whose send failed.
        function: String,
        /// How many of its phase were sent before it.
        sent: usize,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// A stop was asked for (Ctrl-C, SIGTERM): nothing more was sent, what
    /// was sent was waited for briefly and recorded.
    #[error("stopped on request: {unsent} transaction(s) of the phase were not sent; what was sent is in the receipt")]
    Interrupted {
        /// Transactions of the phase left unsent.
        unsent: usize,
    },
    /// The node cannot simulate the calls in sequence, and one of them
    /// reverts when estimated alone (it may depend on an earlier one).
    #[error(
        "the node cannot simulate the calls in sequence (eth_simulateV1: {reason}), and {contract}.{function} estimated alone reverts {revert}; nothing was sent. Pass --simulate-first false to send without simulation"
    )]
    SimulationUnavailable {
        /// Why the node refused the simulation.
        reason: String,
        /// Section key of the contract.
        contract: String,
        /// Solidity signature.
        function: String,
        /// The revert, or the estimate's error.
        revert: String,
    },
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
    /// The plan was refused, but a pause is never held back: the pauses the
    /// signer may send were sent and verified, and nothing else.
    #[error(
        "sent the plan's {sent} pause transaction(s) at once and verified them: a pause is never held back by another route's refusal. The rest of the plan was not sent: {}",
        refused.to_string().replace("; nothing was sent", "")
    )]
    PausesOnly {
        /// Transactions sent (the pauses).
        sent: usize,
        /// Why the rest was refused.
        refused: Box<ApplyError>,
    },
    /// A batch needs more gas than a block holds: scheduled, it could never
    /// be executed.
    #[error(
        "the batch of {calls} calls through {sender} needs about {gas} gas to execute, more than the {allowed} a block of gas limit {limit} allows with a margin; nothing was sent. Split the change: apply a file with fewer of these changes first (`--target` narrows a run to some keys), then the rest"
    )]
    BatchTooLarge {
        /// The account that would execute it (the timelock, the Safe).
        sender: Address,
        /// Its calls.
        calls: usize,
        /// The gas its calls need, simulated, with the executing contract's overhead.
        gas: u64,
        /// The block gas limit.
        limit: u64,
        /// What a batch may use of it.
        allowed: u64,
    },
    /// After scheduling, the timelock does not hold the operation (a reorg
    /// dropped the `scheduleBatch`, or it never ran).
    #[error(
        "operation {id} is not scheduled on TimelockController {timelock} after its scheduleBatch was mined (state {state}): a reorganisation may have dropped it; run apply again to schedule it"
    )]
    NotScheduled {
        /// The TimelockController.
        timelock: Address,
        /// The operation.
        id: B256,
        /// Its state as read back.
        state: String,
    },
    /// Another apply holds the deployment's lock; nothing was sent.
    #[error(transparent)]
    Locked(#[from] lock::LockError),
    /// Observing the chain again after the sends failed: what was sent may
    /// well be on chain, unverified.
    #[error("verifying what was sent failed, the chain could not be observed again: {0}")]
    Verifying(#[source] ObserveError),
    /// Something failed after transactions were sent (a verification read,
    /// a reorganisation, a time-out): what was sent is in the receipt.
    #[error("{source}")]
    AfterSending {
        /// The receipt of what was sent.
        receipt: PathBuf,
        /// What failed.
        source: Box<ApplyError>,
    },
}

impl ApplyError {
    /// True when transactions may have been sent before the error, so the
    /// receipt is worth reading.
    pub fn after_sending(&self) -> bool {
        match self {
            ApplyError::SendFailed { sent, .. } => *sent > 0,
            ApplyError::Reverted { .. }
            | ApplyError::NotConverged { .. }
            | ApplyError::Waiting { .. }
            | ApplyError::ReceiptUnread { .. }
            | ApplyError::PausesOnly { .. }
            | ApplyError::NotScheduled { .. }
            | ApplyError::AfterSending { .. }
            | ApplyError::Verifying(_)
            | ApplyError::Interrupted { .. } => true,
            _ => false,
        }
    }

    /// The receipt of what was sent before the error, when the error says.
    pub fn receipt(&self) -> Option<&std::path::Path> {
        match self {
            ApplyError::AfterSending { receipt, .. } => Some(receipt),
            _ => None,
        }
    }

    /// The error itself, without what wraps it.
    pub fn cause(&self) -> &ApplyError {
        match self {
            ApplyError::AfterSending { source, .. } => source.cause(),
            other => other,
        }
    }

    fn rpc(doing: impl Into<String>) -> impl FnOnce(TransportError) -> ApplyError {
        let doing = doing.into();
        move |source| ApplyError::Rpc { doing, source }
    }
}

/// What preflight found: everything [`apply`] needs to send.
#[derive(Debug)]
pub struct Cleared {
    /// The signer's next nonce.
    pub nonce: u64,
    /// The chain as observed just now.
    pub now: Observed,
    /// What to send now.
    pub steps: Steps,
    /// The plan's calls already on chain (an earlier run of the plan made
    /// them), by position: not sent again.
    pub made_before: Vec<usize>,
    /// Set when the plan as a whole was refused but its pauses may go: the
    /// steps then hold only those, and this is the refusal of the rest.
    pub held_back: Option<Box<ApplyError>>,
}

/// Checks that `plan` may be applied now by `signer`: same chain, the
/// state the plan was made for (or that state advanced by the plan's own
/// calls), authorised (the signer sends every direct call and holds the
/// timelock roles its steps need), nothing pending. Sends nothing.
///
/// A refusal of some route never holds back a pause the signer may send:
/// then the steps are those pauses alone, and the refusal comes with them.
pub async fn preflight(
    provider: &impl Provider,
    plan: &Plan,
    signer: Address,
    options: &ApplyOptions,
) -> Result<Cleared, ApplyError> {
    integrity::check(plan)?;
    let actual = provider.get_chain_id().await.map_err(ApplyError::rpc("reading the chain id"))?;
    if actual != plan.chain_id {
        return Err(ApplyError::WrongChain { expected: plan.chain_id, actual });
    }
    let now = observe(provider, &scope_of(plan), &options.observe).await?;
    let made_before = made_already(plan, &now);
    let changes = differences(&promised_by(plan, &made_before), &now);
    if !changes.is_empty() {
        return Err(ApplyError::Stale { changes });
    }
    let mut steps = route::steps(plan, &now, options.cancel_stale, &made_before);
    let mut held_back = None;
    if let Err(refused) = authorise(provider, plan, &now, signer, &mut steps, options).await {
        let pauses = pauses_the_signer_may_send(plan, &now, signer, &steps)?;
        if pauses.is_empty() {
            return Err(refused);
        }
        steps = Steps { groups: vec![pauses], ..Steps::default() };
        held_back = Some(Box::new(refused));
    }
    let nonce = preflight::next_nonce(provider, signer).await?;
    if let Some((receipt, sent)) = receipt::unfinished(&options.receipts_dir, signer, nonce) {
        // Only what the node still holds can run after this apply; what it
        // lost cannot (its nonce goes to this apply's transaction).
        let mut nonces = Vec::new();
        for (nonce, hash) in sent {
            let held = provider
                .get_transaction_by_hash(hash)
                .await
                .map_err(ApplyError::rpc("looking up a sent transaction"))?;
            if held.is_some_and(|t| t.block_number.is_none()) {
                nonces.push(nonce);
            }
        }
        if !nonces.is_empty() {
            return Err(ApplyError::UnfinishedApply { receipt, nonces });
        }
    }
    Ok(Cleared { nonce, now, steps, made_before, held_back })
}

/// Every check of who may send what: stale operations in the way of a
/// new batch, the Safe's signatures, the direct calls' authority, the
/// timelock roles.
async fn authorise(
    provider: &impl Provider,
    plan: &Plan,
    now: &Observed,
    signer: Address,
    steps: &mut Steps,
    options: &ApplyOptions,
) -> Result<(), ApplyError> {
    if !steps.blocked_by.is_empty() {
        let operations = steps.blocked_by.iter().map(|(timelock, id)| format!("{id} on {timelock}")).collect();
        return Err(ApplyError::StaleOperations { operations });
    }
    preflight::check_timelock_delays(plan, now)?;
    safe::attach_signatures(plan, steps, now, signer, &options.safe_signatures)?;
    let routes = preflight::check_authorised(plan, now, signer)?;
    preflight::check_roles(provider, plan, &routes, steps, signer).await?;
    fit::check(provider, plan, steps).await
}

/// The direct pause-phase transactions of `steps` the signer may send.
fn pauses_the_signer_may_send(
    plan: &Plan,
    now: &Observed,
    signer: Address,
    steps: &Steps,
) -> Result<Vec<Transaction>, ApplyError> {
    let routes = route::resolve(plan, now, signer)?;
    let direct: Vec<usize> =
        plan.routes.iter().filter(|r| r.via == RouteKind::Direct).flat_map(|r| r.calls.iter().copied()).collect();
    let allowed = |i: usize| direct.contains(&i) && routes.get(i).is_some_and(|r| r.allows(signer));
    let pauses = steps.groups.iter().flatten().filter(|t| t.phase == crate::contracts::Phase::Pause);
    Ok(pauses.filter(|t| t.operation.is_none() && t.makes.iter().all(|i| allowed(*i))).cloned().collect())
}

/// The gas limit of each call sent without simulation (`--simulate-first false`).
const UNSIMULATED_GAS: u64 = 300_000;

/// Applies `plan` with a provider that signs as `signer`: every route's
/// part that can be done now, then verification of what was done.
pub async fn apply(
    provider: &impl Provider,
    plan: &Plan,
    signer: Address,
    options: &ApplyOptions,
) -> Result<Applied, ApplyError> {
    let holder = lock::this_process(signer, &options.source, receipt::now());
    let _lock = lock::acquire(&options.receipts_dir, plan, &holder)?;
    let (cleared, simulated) = cleared_and_simulated(provider, plan, signer, options).await?;
    let mut log =
        ReceiptLog::create(&options.receipts_dir, new_receipt(plan, signer, snapshot(plan, &cleared.now), options))
            .map_err(ApplyError::Receipt)?;
    let (result, steps) = send_and_verify(provider, plan, signer, options, cleared, simulated, &mut log).await;
    log.receipt.finished_at = Some(receipt::now());
    log.receipt.outcome = Some(match &result {
        Ok(()) if steps.scheduling.is_empty() && steps.waiting.is_empty() => "converged".to_string(),
        Ok(()) => "sent what can be sent now; a timelock batch is pending".to_string(),
        Err(error) => error.to_string(),
    });
    log.save().map_err(ApplyError::Receipt)?;
    match result {
        Ok(()) => Ok(Applied { receipt_path: log.path().to_path_buf(), receipt: log.receipt, waiting: steps.waiting }),
        // Whatever failed after a send, the receipt says what was sent.
        Err(error) if !log.receipt.transactions.is_empty() => {
            Err(ApplyError::AfterSending { receipt: log.path().to_path_buf(), source: Box::new(error) })
        }
        Err(error) => Err(error),
    }
}

/// Everything [`apply`] does once cleared, recorded in `log`: earlier
/// applies' orphaned transactions made harmless, each phase sent, then
/// verified. Returns the steps it sent (none when clearing again failed).
async fn send_and_verify(
    provider: &impl Provider,
    plan: &Plan,
    signer: Address,
    options: &ApplyOptions,
    cleared: Cleared,
    simulated: send::Simulated,
    log: &mut ReceiptLog,
) -> (Result<(), ApplyError>, Steps) {
    let outgoing: Vec<&Transaction> = cleared.steps.groups.iter().flatten().collect();
    let (cleared, simulated) =
        match orphans::settle(provider, (plan, signer), cleared.nonce, &outgoing, &options.sending, log).await {
            Ok(false) => (cleared, simulated),
            // Nonces were taken: clear again from the new one.
            Ok(true) => match cleared_and_simulated(provider, plan, signer, options).await {
                Ok((again, simulated)) => {
                    log.receipt.before = snapshot(plan, &again.now);
                    (again, simulated)
                }
                Err(error) => return (Err(error), Steps::default()),
            },
            Err(error) => return (Err(error), Steps::default()),
        };
    let Cleared { mut nonce, steps, made_before, held_back, .. } = cleared;
    log.receipt.warnings.extend(simulated.warning);
    let mut gas = simulated.gas.into_iter();
    let mut result = Ok(());
    // Bursts of one block's gas: the plan's block tells the limit.
    let limit = options.sending.block_gas_limit.or(Some(plan.block.gas_limit).filter(|l| *l > 0));
    let sending = Sending { block_gas_limit: limit, ..options.sending.clone() };
    for group in &steps.groups {
        let with_gas: Vec<(&Transaction, u64)> =
            group.iter().map(|t| (t, gas.next().unwrap_or(UNSIMULATED_GAS))).collect();
        result = send::send_phase(provider, &with_gas, signer, nonce, &sending, log).await;
        if result.is_err() {
            break;
        }
        nonce += group.len() as u64;
    }
    let mut made = made_before;
    made.extend(steps.groups.iter().flatten().flat_map(|t| t.makes.iter().copied()));
    if result.is_ok() {
        result = until_stopped(&options.sending, operations::record(provider, plan, &steps, log)).await;
    }
    if result.is_ok() {
        result = until_stopped(&options.sending, verify(provider, plan, &made, options, log)).await;
    }
    let result = match (result, held_back) {
        (Ok(()), Some(refused)) => Err(ApplyError::PausesOnly { sent: log.receipt.transactions.len(), refused }),
        (result, _) => result,
    };
    (result, steps)
}

/// Runs `work` (reads only: safe to abandon) unless a stop is asked for
/// first, which ends it as an interruption.
async fn until_stopped<T>(
    sending: &Sending,
    work: impl std::future::Future<Output = Result<T, ApplyError>>,
) -> Result<T, ApplyError> {
    let Some(mut stop) = sending.stop.clone() else { return work.await };
    let stopped = async move {
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    };
    tokio::select! {
        done = work => done,
        () = stopped => Err(ApplyError::Interrupted { unsent: 0 }),
    }
}

/// What [`settle_orphans`] did.
#[derive(Debug)]
#[must_use]
pub struct Settled {
    /// Corrections written into earlier receipts, one line each.
    pub corrections: Vec<String>,
    /// The apply, when transactions had to be sent (its receipt holds them).
    pub applied: Option<Applied>,
}

/// For an apply whose plan sends nothing: earlier applies' signed
/// transactions the chain no longer holds, their nonces unused, are still
/// made harmless (their nonces taken by zero-value self-transfers), and
/// their receipts corrected. A receipt is written only when something is
/// sent.
pub async fn settle_orphans(
    provider: &impl Provider,
    plan: &Plan,
    signer: Address,
    options: &ApplyOptions,
) -> Result<Settled, ApplyError> {
    if !options.receipts_dir.is_dir() {
        // No earlier receipt, no orphan: nothing to look at or lock.
        return Ok(Settled { corrections: Vec::new(), applied: None });
    }
    let holder = lock::this_process(signer, &options.source, receipt::now());
    let _lock = lock::acquire(&options.receipts_dir, plan, &holder)?;
    let next = provider.get_transaction_count(signer).await.map_err(ApplyError::rpc("reading the signer's nonce"))?;
    let found = orphans::look(provider, &options.receipts_dir, (plan, signer), next).await?;
    if found.settled() {
        return Ok(Settled { corrections: found.lines, applied: None });
    }
    // Nothing to send for the plan: the chain is as the plan observed it.
    let receipt = new_receipt(plan, signer, plan.contracts.clone(), options);
    let mut log = ReceiptLog::create(&options.receipts_dir, receipt).map_err(ApplyError::Receipt)?;
    let result = orphans::resolve(provider, (plan, signer), next, found, &[], &options.sending, &mut log).await;
    log.receipt.finished_at = Some(receipt::now());
    log.receipt.outcome = Some(match &result {
        Ok(_) => "converged; earlier orphaned transactions made harmless".to_string(),
        Err(error) => error.to_string(),
    });
    log.save().map_err(ApplyError::Receipt)?;
    match result {
        Ok(_) => {
            let applied = Applied { receipt_path: log.path().to_path_buf(), receipt: log.receipt, waiting: Vec::new() };
            Ok(Settled { corrections: Vec::new(), applied: Some(applied) })
        }
        Err(error) if !log.receipt.transactions.is_empty() => {
            Err(ApplyError::AfterSending { receipt: log.path().to_path_buf(), source: Box::new(error) })
        }
        Err(error) => Err(error),
    }
}

/// Preflight, then the simulation of what it clears. When the simulation
/// finds the plan's own ready batch already executed (someone else ran it
/// between the two reads), preflight runs once more: the batch is then
/// done, and only what is left is sent.
async fn cleared_and_simulated(
    provider: &impl Provider,
    plan: &Plan,
    signer: Address,
    options: &ApplyOptions,
) -> Result<(Cleared, send::Simulated), ApplyError> {
    let mut raced = false;
    loop {
        let cleared = preflight(provider, plan, signer, options).await?;
        let outgoing: Vec<&Transaction> = cleared.steps.groups.iter().flatten().collect();
        if !options.simulate_first {
            let gas = vec![UNSIMULATED_GAS; outgoing.len()];
            return Ok((cleared, send::Simulated { gas, warning: None }));
        }
        match send::simulate(provider, &outgoing, signer).await {
            Err(ApplyError::SimulationReverted { contract, revert, .. })
                if !raced && contract == "timelock" && revert.starts_with("TimelockUnexpectedOperationState") =>
            {
                raced = true;
            }
            simulated => return Ok((cleared, simulated?)),
        }
    }
}

/// Observes again and checks that every change of the calls made (`made`,
/// by position) is on chain and nothing else moved.
async fn verify(
    provider: &impl Provider,
    plan: &Plan,
    made: &[usize],
    options: &ApplyOptions,
    log: &mut ReceiptLog,
) -> Result<(), ApplyError> {
    let after = observe(provider, &scope_of(plan), &options.observe).await.map_err(ApplyError::Verifying)?;
    log.receipt.after = Some(snapshot(plan, &after));
    let remaining = differences(&promised_by(plan, made), &after);
    if remaining.is_empty() { Ok(()) } else { Err(ApplyError::NotConverged { remaining }) }
}

fn new_receipt(plan: &Plan, signer: Address, before: Vec<PlannedContract>, options: &ApplyOptions) -> Receipt {
    Receipt {
        format_version: receipt::RECEIPT_FORMAT_VERSION,
        source: options.source.clone(),
        reviewed: options.reviewed.clone(),
        plan_digest: plan.digest,
        started_at: receipt::now(),
        finished_at: None,
        signer,
        overrides: options.overrides.clone(),
        targets: options.targets.clone(),
        plan: plan.clone(),
        before,
        after: None,
        transactions: Vec::new(),
        operations: Vec::new(),
        outcome: None,
        warnings: Vec::new(),
        genesis: None,
    }
}

/// The observed values of the plan's contracts, in the plan's own shape.
fn snapshot(plan: &Plan, observed: &Observed) -> Vec<PlannedContract> {
    let seen = |c: &PlannedContract| observed.contracts.iter().find(|o| o.kind.key == c.contract);
    plan.contracts.iter().filter_map(|c| seen(c).map(|o| PlannedContract::observed(o, c.deployed_block))).collect()
}
