//! Routes: who may send each planned call, and how it reaches its contract.
//!
//! A call's authority is the account its contract requires (owner or
//! governance, or another role holder where the contract allows it), as
//! observed just before sending. A call forwarded by another contract (the
//! modules-kind SystemPause governing StakeManager) is sent to the forwarder,
//! whose own authority then counts. When that account is not the signer, the
//! route says what it is — an EOA, a TimelockController with its delay, a
//! Safe with its threshold — so a refusal can show the whole chain of
//! authority (`StakeManager ← SystemPause 0x… ← TimelockController 0x…
//! (min delay 60 s)`).
//!
//! Generic over the contract table: the authority getter, the extra allowed
//! role and the forwarder all come from each kind's row.

mod account;
mod safe;
mod steps;

pub use account::Account;
pub use safe::{
    OwnerSignature, SIGNATURES_FORMAT_VERSION, SafeError, SignatureFile, add_signature, check_batch, collect, may_sign,
    safe_batches, sign, signatures_path,
};
pub use steps::{RoleNeed, SafeStep, Steps, Transaction, Waiting, steps};

use std::fmt;

use alloy::primitives::Address;

use crate::contracts::{Kind, Value, kind_of};
use crate::observe::Observed;
use crate::plan::{Plan, PlannedCall};

/// Why routes could not be resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The plan names a contract that was not observed.
    #[error("the plan names {0:?}, which was not observed")]
    NotObserved(String),
}

/// How one planned call reaches its contract and who may send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Position of the call in the plan (0-based).
    pub call: usize,
    /// The contracts on the way, from the one changed to the one the
    /// transaction is sent to: `[StakeManager, SystemPause]`.
    pub hops: Vec<(String, Address)>,
    /// The accounts the last hop accepts the transaction from.
    pub allowed: Vec<Address>,
    /// What the first of them is.
    pub authority: Account,
}

impl Route {
    /// True when `signer` may send the transaction.
    pub fn allows(&self, signer: Address) -> bool {
        self.allowed.contains(&signer)
    }
}

impl fmt::Display for Route {
    /// `StakeManager 0x… ← SystemPause 0x… ← TimelockController 0x… (min delay 60 s)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, address) in &self.hops {
            write!(f, "{name} {address} ← ")?;
        }
        write!(f, "{}", self.authority)?;
        for other in self.allowed.iter().skip(1) {
            write!(f, " (or {other})")?;
        }
        Ok(())
    }
}

/// Resolves the route of every call of `plan` against the chain as
/// observed in `now`: who each transaction's contract answers to, and what
/// that account is.
pub fn resolve(plan: &Plan, now: &Observed, signer: Address) -> Result<Vec<Route>, RouteError> {
    let mut routes = Vec::with_capacity(plan.calls.len());
    for (index, call) in plan.calls.iter().enumerate() {
        let key = call.sent_to_contract();
        let contract = now.contracts.iter().find(|c| c.kind.key == key);
        let authority = contract.map(|c| c.authority).ok_or_else(|| RouteError::NotObserved(key.to_string()))?;
        let allowed = allowed(plan, call, authority);
        let first = allowed.first().copied().unwrap_or(authority);
        routes.push(Route { call: index, hops: hops(plan, call), authority: Account::of(first, signer, now), allowed });
    }
    Ok(routes)
}

/// The kind of the contract the plan saw under `key`.
fn kind_in(plan: &Plan, key: &str) -> Option<&'static Kind> {
    let variant = plan.contract(key).and_then(|c| c.variant.as_deref());
    kind_of(key, variant)
}

fn hops(plan: &Plan, call: &PlannedCall) -> Vec<(String, Address)> {
    let name = |key: &str| kind_in(plan, key).map_or(key.to_string(), |k| k.name.to_string());
    // A call sent straight to a contract another one reads (a module's own
    // pause()) is named by that field: `SystemPause's modules.fee_pool`.
    let at = kind_in(plan, &call.contract).and_then(|k| call.setter_in(k)).and_then(|s| s.at);
    let first = match at {
        Some(key) => format!("{}'s {key}", name(&call.contract)),
        None => name(&call.contract),
    };
    let mut hops = vec![(first, call.target)];
    if let Some(via) = &call.via {
        hops.push((name(&via.contract), via.target));
    }
    hops
}

/// The accounts allowed to send `call`: the authority of the contract it
/// goes to, and for some setters sent directly the holder of another role
/// (StakeManager's pauser); each once.
fn allowed(plan: &Plan, call: &PlannedCall, authority: Address) -> Vec<Address> {
    let setter = kind_in(plan, &call.contract).and_then(|k| call.setter_in(k));
    let holder = setter.filter(|_| call.via.is_none()).and_then(|s| s.also_allowed).and_then(|field| {
        match plan.contract(&call.contract)?.fields.get(field)? {
            Value::Address(holder) if !holder.is_zero() => Some(*holder),
            _ => None,
        }
    });
    if let (Some(holder), Some(_)) = (holder, setter.and_then(|s| s.at)) {
        // Sent straight to another contract (a module's own pause()): only
        // the role's holder may.
        return vec![holder];
    }
    let holder = holder.filter(|h| *h != authority);
    std::iter::once(authority).chain(holder).collect()
}
