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
use crate::execute::{differences, promised, revert_name, scope_of};
use crate::observe::{ObserveError, ObserveOptions, observe};
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
    /// Transactions sent on the fork.
    pub sent: usize,
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
        self.reverted.is_none() && self.remaining.is_empty()
    }
}

impl std::fmt::Display for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Simulated on a fork of block {}: {} transaction(s); ", self.block, self.sent)?;
        if let Some((call, contract, function, revert)) = &self.reverted {
            return write!(f, "call {call}, {contract}.{function} would revert {revert}.");
        }
        if self.remaining.is_empty() {
            write!(f, "the fork converged to the promised state.")
        } else {
            write!(f, "the fork did not converge:\n  {}", self.remaining.join("\n  "))
        }
    }
}

/// Runs `plan` on a fork of `url` at the plan's block.
pub async fn on_fork(url: &Url, plan: &Plan, options: &ObserveOptions) -> Result<Simulation, SimulateError> {
    let (fork, provider) = start_fork(url, plan.block.number).await?;
    let mut simulation = Simulation { block: plan.block.number, sent: 0, reverted: None, remaining: Vec::new() };
    for route in routes_in_order(plan) {
        let sender = route.0;
        if let Some(delay) = route.1 {
            let _: serde_json::Value =
                provider.raw_request("evm_increaseTime".into(), (delay,)).await.map_err(rpc("skipping the delay"))?;
        }
        fund_and_impersonate(&provider, sender).await?;
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
                    return Ok(simulation);
                }
                Err(error) => return Err(rpc(format!("sending {}", call.function))(error)),
            };
            let receipt = pending.get_receipt().await.map_err(|e| SimulateError::Rpc {
                doing: format!("waiting for {}", call.function),
                source: TransportError::local_usage_str(&e.to_string()),
            })?;
            simulation.sent += 1;
            if !receipt.status() {
                let revert = revert_of(&provider, sender, to, data, &call.contract).await;
                simulation.reverted = Some((index + 1, call.contract.clone(), call.function.clone(), revert));
                return Ok(simulation);
            }
        }
    }
    let after = observe(&provider, &scope_of(plan), &ObserveOptions { cache_dir: None, ..options.clone() }).await?;
    simulation.remaining = differences(&promised(plan), &after);
    drop(fork);
    Ok(simulation)
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
