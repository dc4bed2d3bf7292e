//! Prove a routed plan before anyone signs: run it on an anvil fork of the
//! block it was made at, each route's calls sent by its final authority
//! (impersonated, so no key is needed; a timelock's batch after its delay has
//! been skipped), then observe the fork and check it reached what the plan
//! promises — the same verification as after a real apply.
//!
//! The fork is a child process that dies with govstate.

use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::transports::TransportError;
use alloy::transports::http::reqwest::Url;

use crate::devnet::{AnvilError, AnvilOptions, AnvilProcess};
use crate::execute::{self, ApplyError, ApplyOptions, Sending, differences, promised, revert_name, scope_of};
use crate::observe::{AccountKind, ObserveError, ObserveOptions, observe};
use crate::plan::{Plan, RouteKind};

/// Why the simulation could not run (a revert is a result, not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulateError {
    /// The fork did not start.
    #[error("could not start an anvil fork: {0}")]
    Fork(#[from] AnvilError),
    /// A JSON-RPC request to the fork failed.
    #[error("the fork's RPC failed while {doing}: {source}")]
    Rpc {
        /// What govstate was doing.
        doing: String,
        /// The transport's error.
        #[source]
        source: TransportError,
    },
    /// Observing the fork failed.
    #[error(transparent)]
    Observe(#[from] ObserveError),
    /// No scratch directory for the fork's receipts could be made.
    #[error("could not make a scratch directory for the fork's receipts: {0}")]
    Scratch(String),
}

fn rpc(doing: impl Into<String>) -> impl FnOnce(TransportError) -> SimulateError {
    let doing = doing.into();
    move |source| SimulateError::Rpc { doing, source }
}

/// What happened on the fork.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Simulation {
    /// The block the fork was made at.
    pub block: u64,
    /// Who sent on the fork: the account apply would sign with, or `None`
    /// when each route's authority was impersonated (a Safe's route, whose
    /// signatures the fork cannot check).
    pub sender: Option<Address>,
    /// Transactions sent on the fork.
    pub sent: usize,
    /// Why apply would refuse the plan, in apply's own words.
    pub refused: Option<String>,
    /// The first call that reverted: its position (1-based), contract,
    /// function and decoded error.
    pub reverted: Option<(usize, String, String, String)>,
    /// What still differs from the promised state afterwards.
    pub remaining: Vec<String>,
}

impl Simulation {
    /// True when every call went through and the fork reached the plan's
    /// promised state.
    pub fn converged(&self) -> bool {
        self.refused.is_none() && self.reverted.is_none() && self.remaining.is_empty()
    }
}

impl std::fmt::Display for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let by = match self.sender {
            Some(sender) => format!("sent by {sender} as apply would"),
            None => "each route's authority impersonated".to_string(),
        };
        write!(f, "Simulated on a fork of block {} ({by}): {} transaction(s); ", self.block, self.sent)?;
        if let Some((call, contract, function, revert)) = &self.reverted {
            return write!(f, "call {call}, {contract}.{function} would revert {revert}.");
        }
        if let Some(refused) = &self.refused {
            return write!(f, "apply would refuse it: {refused}");
        }
        if self.remaining.is_empty() {
            write!(f, "the fork converged to the promised state.")
        } else {
            write!(f, "the fork did not converge:\n  {}", self.remaining.join("\n  "))
        }
    }
}

/// Runs `plan` on a fork of `url` at the plan's block, as apply would send
/// it from `sender` (default: the account the plan's direct calls need, else
/// a proposer of its timelock): apply's own checks and sends on the fork,
/// each timelock delay skipped, apply again, until nothing is left; then the
/// fork is observed and checked against the plan's promise. A plan through a
/// Safe is proven by impersonating each route's authority instead.
pub async fn on_fork(
    url: &Url,
    plan: &Plan,
    options: &ObserveOptions,
    sender: Option<Address>,
    cancel_stale: bool,
) -> Result<Simulation, SimulateError> {
    let (fork, provider) = start_fork(url, plan.block.number).await?;
    let through_safe = plan.routes.iter().any(|r| match &r.via {
        RouteKind::Safe(_) => true,
        RouteKind::Timelock(batch) => batch.proposer.is_some(),
        RouteKind::Direct => false,
    });
    let sender = sender.or_else(|| default_sender(plan)).filter(|_| !through_safe);
    let mut simulation =
        Simulation { block: plan.block.number, sender, sent: 0, refused: None, reverted: None, remaining: Vec::new() };
    match sender {
        Some(sender) => {
            as_apply(&provider, plan, sender, options, cancel_stale, &mut simulation).await?;
        }
        None => replay(&provider, plan, &mut simulation).await?,
    }
    if simulation.refused.is_some() || simulation.reverted.is_some() {
        return Ok(simulation);
    }
    let after = observe(&provider, &scope_of(plan), &ObserveOptions { cache_dir: None, ..options.clone() }).await?;
    simulation.remaining = differences(&promised(plan), &after);
    drop(fork);
    Ok(simulation)
}

/// The account apply needs for `plan`: the sender of its direct calls, else
/// a proposer of one of its timelocks that is an account without code.
fn default_sender(plan: &Plan) -> Option<Address> {
    let eoa = |a: &Address| plan.accounts.iter().any(|x| x.address == *a && x.kind == AccountKind::Eoa);
    let direct = plan.routes.iter().filter(|r| r.via == RouteKind::Direct).map(|r| r.authority).find(eoa);
    direct.or_else(|| {
        plan.routes.iter().find_map(|r| match &r.via {
            RouteKind::Timelock(batch) => plan.accounts.iter().find_map(|a| match &a.kind {
                AccountKind::Timelock(state) if a.address == batch.timelock => {
                    state.proposers.iter().copied().find(eoa)
                }
                _ => None,
            }),
            _ => None,
        })
    })
}

/// Apply on the fork, as `sender` (impersonated): its checks, its sends;
/// after a batch is scheduled, the delay is skipped and apply runs again.
async fn as_apply(
    provider: &impl Provider,
    plan: &Plan,
    sender: Address,
    options: &ObserveOptions,
    cancel_stale: bool,
    simulation: &mut Simulation,
) -> Result<(), SimulateError> {
    fund_and_impersonate(provider, sender).await?;
    let receipts = tempfile_dir()?;
    for _ in 0..4 {
        let apply_options = ApplyOptions {
            sending: Sending { confirmations: 1, ..Sending::default() },
            simulate_first: true,
            receipts_dir: receipts.path().to_path_buf(),
            observe: ObserveOptions { cache_dir: None, ..options.clone() },
            source: "the fork".to_string(),
            reviewed: None,
            overrides: Vec::new(),
            targets: Vec::new(),
            cancel_stale,
            safe_signatures: Default::default(),
        };
        match execute::apply(provider, plan, sender, &apply_options).await {
            Ok(applied) => {
                simulation.sent += applied.receipt.transactions.len();
                let scheduled = applied.receipt.operations.iter().any(|o| o.action == "scheduled");
                if !scheduled && applied.waiting.is_empty() {
                    return Ok(());
                }
                skip_delays(provider, plan).await?;
            }
            Err(error) => {
                if let ApplyError::SimulationReverted { contract, .. } = &error
                    && contract == "timelock"
                {
                    // Which call of the batch reverts: replayed from the timelock.
                    replay(provider, plan, simulation).await?;
                    if simulation.reverted.is_some() {
                        return Ok(());
                    }
                }
                simulation.refused = Some(error.to_string());
                return Ok(());
            }
        }
    }
    Ok(())
}

/// A scratch directory for the fork's receipts and lock.
fn tempfile_dir() -> Result<tempfile::TempDir, SimulateError> {
    tempfile::tempdir().map_err(|e| SimulateError::Scratch(e.to_string()))
}

/// Moves the fork's clock past the longest delay of the plan's timelocks.
async fn skip_delays(provider: &impl Provider, plan: &Plan) -> Result<(), SimulateError> {
    let delay = plan.accounts.iter().filter_map(|a| match &a.kind {
        AccountKind::Timelock(state) => Some(state.min_delay),
        _ => None,
    });
    let delay = delay.max().unwrap_or(0) + 1;
    let _: serde_json::Value =
        provider.raw_request("evm_increaseTime".into(), (delay,)).await.map_err(rpc("skipping the delay"))?;
    let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.map_err(rpc("mining a block"))?;
    Ok(())
}

/// Each route's calls sent by its final authority, impersonated, a
/// timelock's after its delay: the first revert is named.
async fn replay(provider: &impl Provider, plan: &Plan, simulation: &mut Simulation) -> Result<(), SimulateError> {
    for route in routes_in_order(plan) {
        let sender = route.0;
        if let Some(delay) = route.1 {
            let _: serde_json::Value =
                provider.raw_request("evm_increaseTime".into(), (delay,)).await.map_err(rpc("skipping the delay"))?;
        }
        fund_and_impersonate(provider, sender).await?;
        for index in route.2 {
            let Some(call) = plan.calls.get(index) else { continue };
            let (to, data) = call.sent();
            let tx = TransactionRequest::default().from(sender).to(to).input(data.clone().into());
            let pending = match provider.send_transaction(tx).await {
                Ok(pending) => pending,
                // The node estimates gas first: a call that would revert
                // is refused with its revert data.
                Err(error) if error.as_error_resp().and_then(|e| e.as_revert_data()).is_some() => {
                    let data = error.as_error_resp().and_then(|e| e.as_revert_data()).unwrap_or_default();
                    let revert = revert_name(&call.contract, &data);
                    simulation.reverted = Some((index + 1, call.contract.clone(), call.function.clone(), revert));
                    return Ok(());
                }
                Err(error) => return Err(rpc(format!("sending {}", call.function))(error)),
            };
            let receipt = pending.get_receipt().await.map_err(|e| SimulateError::Rpc {
                doing: format!("waiting for {}", call.function),
                source: TransportError::local_usage_str(&e.to_string()),
            })?;
            simulation.sent += 1;
            if !receipt.status() {
                let revert = revert_of(provider, sender, to, data, &call.contract).await;
                simulation.reverted = Some((index + 1, call.contract.clone(), call.function.clone(), revert));
                return Ok(());
            }
        }
    }
    Ok(())
}

/// A fresh anvil, then forked from `url` at `block` through its own loopback
/// JSON-RPC (`anvil_reset`): the URL, which may hold an API key, is never on
/// the child's command line. An error is told without the URL.
async fn start_fork(url: &Url, block: u64) -> Result<(AnvilProcess, impl Provider + use<>), SimulateError> {
    let fork = AnvilProcess::spawn(&AnvilOptions::default())?;
    let endpoint: Url = fork.endpoint().parse().map_err(|_| AnvilError::NotListening {
        path: "anvil".into(),
        detail: format!("bad endpoint {}", fork.endpoint()),
    })?;
    let provider = ProviderBuilder::new().connect_http(endpoint);
    let forking = serde_json::json!({ "forking": { "jsonRpcUrl": url.as_str(), "blockNumber": block } });
    let reset: Result<serde_json::Value, TransportError> = provider.raw_request("anvil_reset".into(), (forking,)).await;
    if let Err(error) = reset {
        let text = crate::rpc::Redactor::new(url).redact(&error.to_string());
        return Err(SimulateError::Rpc {
            doing: "forking the chain".into(),
            source: TransportError::local_usage_str(&text),
        });
    }
    Ok((fork, provider))
}

/// Each route's final authority, the delay to skip first, and its calls:
/// direct routes first, then Safe transactions (the Safe impersonated:
/// signatures are what the fork cannot check), then timelock batches, as
/// apply sends them.
fn routes_in_order(plan: &Plan) -> Vec<(Address, Option<u64>, Vec<usize>)> {
    let direct =
        plan.routes.iter().filter(|r| r.via == RouteKind::Direct).map(|r| (r.authority, None, r.calls.clone()));
    let timelocks = plan.routes.iter().filter_map(|r| match &r.via {
        RouteKind::Timelock(batch) => Some((batch.timelock, Some(batch.delay + 1), r.calls.clone())),
        RouteKind::Direct | RouteKind::Safe(_) => None,
    });
    let safes = plan.routes.iter().filter_map(|r| match &r.via {
        RouteKind::Safe(batch) => Some((batch.safe, None, r.calls.clone())),
        _ => None,
    });
    direct.chain(safes).chain(timelocks).collect()
}

async fn fund_and_impersonate(provider: &impl Provider, account: Address) -> Result<(), SimulateError> {
    let ether = U256::from(10u128.pow(21));
    let _: serde_json::Value =
        provider.raw_request("anvil_setBalance".into(), (account, ether)).await.map_err(rpc("funding an authority"))?;
    let _: serde_json::Value = provider
        .raw_request("anvil_impersonateAccount".into(), (account,))
        .await
        .map_err(rpc("impersonating an authority"))?;
    Ok(())
}

/// The decoded revert of a call that failed on the fork, replayed as an
/// `eth_call` at the block before it.
async fn revert_of(
    provider: &impl Provider,
    from: Address,
    to: Address,
    data: &alloy::primitives::Bytes,
    contract: &str,
) -> String {
    let tx = TransactionRequest::default().from(from).to(to).input(data.clone().into());
    match provider.call(tx).await {
        Err(error) => match error.as_error_resp().and_then(|e| e.as_revert_data()) {
            Some(data) => revert_name(contract, &data),
            None => format!("a revert ({error})"),
        },
        Ok(_) => "a revert that replaying does not reproduce".to_string(),
    }
}
