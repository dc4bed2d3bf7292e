//! Plan: diff the desired state against the observed one and turn every
//! difference into calls, in an order the contracts accept.
//!
//! [`plan`] is synchronous and pure: it touches no network, so it is tested
//! with properties over random states. The rules, from design.md:
//!
//! - one call per setter whose arguments differ from the chain, and no other
//!   call; a multi-field setter carries the observed values of the fields the
//!   file leaves alone;
//! - phases run pause → revoke → grant → configure → unpause → ownership;
//!   SystemPause pauses first and unpauses last;
//! - inside configure, an order in which every intermediate state passes the
//!   contract's own checks, found by simulating them; if none exists the plan
//!   is refused;
//! - ownership and governance transfers only when explicitly allowed.

mod build;
mod integrity;
pub mod model;
mod pending;
mod reviewed;
mod route;
mod safe;
mod same_state;
mod saved;
mod types;
mod value_serde;

pub use crate::spec::{Desired, DesiredContract};
pub use build::{permitted, plan};
pub use integrity::{IntegrityError, rederive};
pub use pending::{Effect, Judged, OperationScope, judge};
pub use reviewed::Reviewed;
pub use safe::safe_batch;
pub use saved::{MAX_PLAN_BYTES, SavedPlanError, load, load_file};
pub use types::{
    Argument, Change, ChangeKind, DesiredField, DesiredRecord, FORMAT_VERSION, Forwarded, PendingOperation, Plan,
    PlannedCall, PlannedContract, PlannedRoute, RouteKind, SafeBatch, TimelockBatch,
};

use crate::contracts::ValueError;

/// Choices that change what may be planned.
#[derive(Debug, Clone, Copy, Default)]
#[must_use]
pub struct PlanOptions {
    /// Plan owner and governance transfers (default: `false`, which refuses
    /// a plan that would need one).
    pub allow_ownership_transfer: bool,
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The observed state lacks a contract the file manages.
    #[error("{contract} was not observed")]
    NotObserved {
        /// Section key of the contract.
        contract: String,
    },
    /// The file changes an owner or governance without permission.
    #[error(
        "the file changes control of a contract ({}); this is planned only with --allow-ownership-transfer",
        changes.iter().map(describe).collect::<Vec<_>>().join(", ")
    )]
    OwnershipTransferNotAllowed {
        /// The owner or governance differences.
        changes: Vec<Change>,
    },
    /// No order of the calls passes the contract's own checks.
    #[error("no safe order for {contract}: {function} would revert {revert} in every order that was tried")]
    NoSafeOrder {
        /// Section key of the contract.
        contract: String,
        /// A call that could not be placed.
        function: String,
        /// The revert the contract would give.
        revert: String,
    },
    /// The file asks one on-chain value to be two things through two keys
    /// (`system_pause.paused` and `stake_manager.paused`, when the
    /// SystemPause manages that StakeManager).
    #[error(
        "{first} and {second} are the same on-chain state ({state}), but the file asks {first_value} and {second_value}; make them agree or leave one out"
    )]
    Contradiction {
        /// The first key path.
        first: String,
        /// Its value in the file.
        first_value: String,
        /// The second key path.
        second: String,
        /// Its value in the file.
        second_value: String,
        /// What the state is, e.g. `paused() of 0x…`.
        state: String,
    },
    /// A setter's arguments fail its own check whatever the order, because
    /// of the values the file leaves as they are on chain.
    #[error(
        "{contract}.{function} would revert {revert} in any order: {requires}, but the file leaves {} as on chain; write {} too, so that all of them together pass",
        carried.join(", "),
        if carried.len() == 1 { "it" } else { "them" }
    )]
    Unreachable {
        /// Section key of the contract.
        contract: String,
        /// Solidity signature.
        function: String,
        /// The revert the contract would give.
        revert: String,
        /// What the contract requires of the arguments together.
        requires: String,
        /// The fields the file leaves alone, with their on-chain values.
        carried: Vec<String>,
    },
    /// The file writes a key the contract found on chain does not have
    /// (`system_pause.pauser` on the switch kind).
    #[error("{contract}.{key}: the {kind} found at {address} has no such setting; leave the key out")]
    NoSuchField {
        /// Section key of the contract.
        contract: String,
        /// The key written.
        key: String,
        /// What the contract was found to be.
        kind: String,
        /// Its address.
        address: alloy::primitives::Address,
    },
    /// A setter could not encode its arguments (a govstate bug).
    #[error("{contract}.{function}: could not encode the arguments: {source}")]
    Encode {
        /// Section key of the contract.
        contract: String,
        /// Solidity signature.
        function: String,
        /// The mismatch.
        #[source]
        source: ValueError,
    },
}

fn describe(change: &Change) -> String {
    let show = |v: &Option<crate::contracts::Value>| v.map(|v| v.to_string()).unwrap_or_default();
    format!("{}.{}: {} → {}", change.contract, change.field, show(&change.before), show(&change.after))
}
