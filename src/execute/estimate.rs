//! How many blocks an apply of a plan should take, for `plan` to say
//! before anything is signed. The direct calls are simulated in sequence
//! once (one `eth_simulateV1`, each from the account its route needs) and
//! sized into bursts exactly as [`super::send::send_phase`] sizes them; a
//! timelock's or a Safe's transactions are counted, one block each at
//! least, since they cannot be simulated without the signer and the
//! owners' signatures.

use alloy::primitives::Address;
use alloy::providers::Provider;

use super::send::{DEFAULT_BLOCK_GAS_LIMIT, blocks_needed, gas_limit, in_sequence, request, revert_name};
use crate::observe::Observed;
use crate::plan::{Plan, RouteKind};
use crate::route::{self, Transaction};

/// What an apply of the plan should take, as far as it can be told now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlocksEstimate {
    /// Transactions the signer sends directly (plan calls, one each).
    pub direct: usize,
    /// Groups they go in: each mined before the next is sent.
    pub groups: usize,
    /// The block gas limit the bursts are sized by.
    pub block_gas_limit: u64,
    /// What the direct transactions need, or why it is not known (the node
    /// could not simulate them, or one reverts).
    pub sizing: Result<Sizing, String>,
    /// Timelock and Safe transactions besides, each in a block of its own
    /// at least (a timelock's execution after its delay).
    pub routed: usize,
}

/// The direct transactions' gas and blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    /// Their gas limits in all.
    pub gas: u64,
    /// Blocks they should take: apply sends them in bursts of one block's
    /// gas (by their gas limits, as it does), every group in blocks of its
    /// own; a node that packs by the gas used may need fewer.
    pub blocks: usize,
}

/// The estimate for `plan` on the chain as `observed` (nothing sent;
/// one request when the plan has direct calls, none otherwise).
pub async fn blocks(provider: &impl Provider, plan: &Plan, observed: &Observed) -> BlocksEstimate {
    let steps = route::steps(plan, observed, false, &[]);
    let routed_at = |g: usize, i: usize, t: &Transaction| {
        t.operation.is_some() || steps.safe.iter().any(|s| s.group == g && s.index == i)
    };
    let mut groups: Vec<Vec<&Transaction>> = Vec::new();
    let mut routed = 0;
    for (g, group) in steps.groups.iter().enumerate() {
        let direct: Vec<&Transaction> =
            group.iter().enumerate().filter(|(i, t)| !routed_at(g, *i, t)).map(|(_, t)| t).collect();
        routed += group.len() - direct.len();
        if !direct.is_empty() {
            groups.push(direct);
        }
    }
    let block_gas_limit = Some(plan.block.gas_limit).filter(|l| *l > 0).unwrap_or(DEFAULT_BLOCK_GAS_LIMIT);
    let direct: Vec<&Transaction> = groups.iter().flatten().copied().collect();
    let sizing = if direct.is_empty() {
        Ok(Sizing { gas: 0, blocks: 0 })
    } else {
        simulated_gas(provider, plan, &direct).await.map(|gas| {
            let mut limits = gas.iter().copied();
            let blocks = groups
                .iter()
                .map(|group| blocks_needed(&limits.by_ref().take(group.len()).collect::<Vec<_>>(), block_gas_limit))
                .sum();
            Sizing { gas: gas.iter().sum(), blocks }
        })
    };
    BlocksEstimate { direct: direct.len(), groups: groups.len(), block_gas_limit, sizing, routed }
}

/// The gas limit apply would give each transaction: simulated in sequence
/// at the latest block, each from the authority of the route that carries
/// its call. Why not, when the node cannot simulate or a call reverts.
async fn simulated_gas(provider: &impl Provider, plan: &Plan, direct: &[&Transaction]) -> Result<Vec<u64>, String> {
    let sender = |t: &Transaction| -> Address {
        let route =
            plan.routes.iter().find(|r| r.via == RouteKind::Direct && t.makes.iter().any(|m| r.calls.contains(m)));
        route.map_or(Address::ZERO, |r| r.authority)
    };
    let calls = direct.iter().map(|t| request(t, sender(t))).collect();
    let results = in_sequence(provider, calls).await.map_err(|error| match error.as_error_resp() {
        Some(e) => format!("the node cannot simulate the calls (eth_simulateV1: {} ({}))", e.message, e.code),
        None => format!("simulating the calls failed: {error}"),
    })?;
    if results.len() != direct.len() {
        return Err(format!("the node simulated {} of {} calls", results.len(), direct.len()));
    }
    direct
        .iter()
        .zip(results)
        .map(|(t, result)| match result.status {
            true => Ok(gas_limit(result.gas_used)),
            false => Err(format!(
                "{}.{} reverts when simulated: {}",
                t.contract,
                t.function,
                revert_name(&t.contract, &result.return_data)
            )),
        })
        .collect()
}
