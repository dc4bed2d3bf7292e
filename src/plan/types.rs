//! The plan: plain, serialisable data. What to call, in which order, and
//! the state it was made for. Rendering lives elsewhere.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256, Bytes};
use serde::{Deserialize, Serialize};

use crate::contracts::{Phase, Value};
use crate::observe::{BlockRef, ObservedAccount, ObservedContract, OperationState};

/// The version of the plan's JSON layout; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 4;

/// A minimal, ordered set of calls that takes the chain to the desired state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Layout version, [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The chain the plan is for.
    pub chain_id: u64,
    /// The block the chain was observed at.
    pub block: BlockRef,
    /// Every managed contract and what was observed of it.
    pub contracts: Vec<PlannedContract>,
    /// Every difference between the chain and the file.
    pub changes: Vec<Change>,
    /// The calls, in execution order.
    pub calls: Vec<PlannedCall>,
    /// How the calls reach the chain, grouped by the account that must send
    /// them: at once by an account, or as one timelock batch.
    #[serde(default)]
    pub routes: Vec<PlannedRoute>,
    /// Timelock operations still pending on the contracts' authorities: the
    /// plan's own batch once scheduled, and any other (stale) one.
    #[serde(default)]
    pub operations: Vec<PendingOperation>,
    /// The contracts' authorities as observed (what each is; a timelock's
    /// operations): with `contracts`, what the routes are derived from.
    #[serde(default)]
    pub accounts: Vec<ObservedAccount>,
    /// What the file asked of each contract: `apply PLAN` derives the calls
    /// again from it and from what the plan observed, and refuses any
    /// difference.
    pub desired: Vec<DesiredRecord>,
    /// Whether owner and governance transfers were allowed when planning.
    pub allow_ownership_transfer: bool,
    /// The desired-state file the plan was made from, and its git commit:
    /// what a reviewer read (set by `plan --out`; none for a plan made in
    /// memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<super::Reviewed>,
    /// keccak256 of the plan's canonical content (its JSON with this field
    /// zero): what a reviewer approved, printed by `plan` and `apply`.
    pub digest: B256,
}

/// A group of calls one account must send, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedRoute {
    /// The account at the end of the chain of authority.
    pub authority: Address,
    /// How the calls get there.
    pub via: RouteKind,
    /// The plan's calls it carries, by position (0-based), in plan order.
    pub calls: Vec<usize>,
}

/// How a route's calls reach the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RouteKind {
    /// The authority sends each call itself, phase by phase.
    Direct,
    /// The authority is a TimelockController: the calls are one batch,
    /// scheduled by a proposer and executed after the delay.
    Timelock(TimelockBatch),
    /// The authority is a Safe: the calls are one Safe transaction (a
    /// MultiSend of them, or the single call), signed by its owners and
    /// sent by anyone.
    Safe(SafeBatch),
}

/// One Safe transaction: what the owners sign and what `execTransaction`
/// carries, with the Safe as observed when the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeBatch {
    /// The Safe.
    pub safe: Address,
    /// `getThreshold()` when the plan was made.
    pub threshold: u64,
    /// `getOwners()` when the plan was made.
    pub owners: Vec<Address>,
    /// `nonce()` when the plan was made: the nonce the transaction carries.
    pub nonce: u64,
    /// The calls' targets, in plan order.
    pub targets: Vec<Address>,
    /// The calls' data, in plan order (values are all zero).
    pub payloads: Vec<Bytes>,
    /// Where the Safe transaction goes: MultiSendCallOnly, or the single
    /// call's target.
    pub to: Address,
    /// 1 (delegatecall) to MultiSendCallOnly, 0 for a single call.
    pub operation: u8,
    /// `multiSend(packed calls)`, or the single call's data.
    pub data: Bytes,
    /// The EIP-712 `SafeTx` hash the owners sign.
    pub safe_tx_hash: B256,
}

/// One timelock batch: everything needed to schedule, find and execute it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelockBatch {
    /// The TimelockController.
    pub timelock: Address,
    /// Its minimum delay, in seconds: the delay the batch is scheduled with.
    pub delay: u64,
    /// The calls' targets, in plan order.
    pub targets: Vec<Address>,
    /// The calls' data, in plan order (values are all zero).
    pub payloads: Vec<Bytes>,
    /// Zero; or, when a change too large for one block is cut into parts,
    /// the operation of the part before this one, which must have run first.
    pub predecessor: B256,
    /// Derived from the batch itself, so the id is reproducible.
    pub salt: B256,
    /// `hashOperationBatch` of the above.
    pub operation: B256,
    /// Its state when the plan was made: unset (to schedule), waiting or ready.
    pub state: OperationState,
    /// When it is ready (seconds since the epoch), once scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<u64>,
    /// When the timelock's proposer is a Safe: the Safe transaction that
    /// schedules the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposer: Option<SafeBatch>,
}

/// A timelock operation pending on a contract's authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingOperation {
    /// The TimelockController.
    pub timelock: Address,
    /// The operation id.
    pub id: B256,
    /// Waiting or ready.
    pub state: OperationState,
    /// When it is ready (seconds since the epoch).
    pub ready_at: u64,
    /// How many calls it makes.
    pub calls: usize,
    /// How it stands to what the file manages.
    pub scope: super::OperationScope,
    /// What its calls set, decoded through the contract table.
    pub effects: Vec<super::Effect>,
    /// Targets of its calls the table could not decode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undecoded: Vec<Address>,
}

impl PendingOperation {
    /// True when `--cancel-stale` cancels it and no batch is scheduled
    /// beside it.
    pub fn is_stale(&self) -> bool {
        self.scope == super::OperationScope::Stale
    }
}

/// What the file asked of one contract, as recorded in a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesiredRecord {
    /// Section key, e.g. `arena`.
    pub contract: String,
    /// The written scalar fields, in the order the file's section lists them.
    pub fields: Vec<DesiredField>,
    /// The written role sets and their exact holders.
    pub role_sets: BTreeMap<String, Vec<Address>>,
}

/// One written scalar field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesiredField {
    /// Key path inside the section.
    pub key: String,
    /// The value asked for.
    pub value: Value,
}

/// One managed contract as the plan saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedContract {
    /// Section key, e.g. `arena`.
    pub contract: String,
    /// Solidity name, e.g. `SelfPlayArena`.
    pub name: String,
    /// Which of the section's kinds it was found to be (`modules`), when
    /// the section has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Its address.
    pub address: Address,
    /// The account its setters require (owner or governance), as observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<Address>,
    /// The block it was deployed in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_block: Option<u64>,
    /// The observed value of every field read (managed fields and the
    /// co-fields and checks they depend on).
    pub fields: BTreeMap<String, Value>,
    /// The observed holders of every managed role set.
    pub role_sets: BTreeMap<String, Vec<Address>>,
}

impl PlannedContract {
    /// What was observed of one contract, in the plan's shape.
    pub fn observed(seen: &ObservedContract, deployed_block: Option<u64>) -> Self {
        let fields = seen.kind.fields.iter().zip(&seen.fields).map(|(f, v)| (f.key.to_string(), *v)).collect();
        let role_sets = seen.role_sets.iter().map(|(k, s)| (k.to_string(), s.iter().copied().collect())).collect();
        PlannedContract {
            contract: seen.kind.key.to_string(),
            name: seen.kind.name.to_string(),
            variant: seen.kind.variant.map(str::to_string),
            address: seen.address,
            authority: Some(seen.authority),
            deployed_block,
            fields,
            role_sets,
        }
    }
}

/// What a difference does to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A scalar field takes a new value.
    Set,
    /// An address joins a role set.
    Add,
    /// An address leaves a role set.
    Remove,
}

/// One difference between the chain and the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Section key of the contract.
    pub contract: String,
    /// Key path of the field or role set.
    pub field: String,
    /// What happens.
    pub kind: ChangeKind,
    /// The value before (the address removed, for a role set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after (the address added, for a role set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// One argument of a call, named after the field it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Argument {
    /// The field (or role-set member) the argument carries.
    pub name: String,
    /// Its value.
    pub value: Value,
}

/// One transaction of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedCall {
    /// When it runs.
    pub phase: Phase,
    /// Section key of the contract called.
    pub contract: String,
    /// The contract's address.
    pub target: Address,
    /// Solidity signature.
    pub function: String,
    /// Decoded arguments.
    pub args: Vec<Argument>,
    /// ABI-encoded call data.
    pub calldata: Bytes,
    /// The differences this call resolves.
    pub changes: Vec<Change>,
    /// A side effect worth knowing before sending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Set when the call's authority is a contract that forwards it (the
    /// SystemPause governing StakeManager): the transaction actually sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Forwarded>,
}

/// A call wrapped in a forwarding call (`executeGovernanceCall(target, data)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forwarded {
    /// Section key of the forwarding contract.
    pub contract: String,
    /// Its address: where the transaction goes.
    pub target: Address,
    /// Solidity signature of the forwarding function.
    pub function: String,
    /// ABI-encoded forwarding call, carrying the inner call data.
    pub calldata: Bytes,
}

impl PlannedCall {
    /// Where the transaction goes and what it carries: the forwarding call
    /// when there is one, else the call itself.
    pub fn sent(&self) -> (Address, &Bytes) {
        match &self.via {
            Some(via) => (via.target, &via.calldata),
            None => (self.target, &self.calldata),
        }
    }

    /// The setter of `kind` that made this call.
    pub fn setter_in(&self, kind: &crate::contracts::Kind) -> Option<&'static crate::contracts::Setter> {
        let names: Vec<&str> = self.args.iter().map(|a| a.name.as_str()).collect();
        let args: Vec<Value> = self.args.iter().map(|a| a.value).collect();
        kind.setter_of(&self.function, &names, &args, &self.calldata)
    }

    /// Section key of the contract the transaction goes to.
    pub fn sent_to_contract(&self) -> &str {
        self.via.as_ref().map_or(&self.contract, |v| &v.contract)
    }
}

impl Plan {
    /// True when the chain already matches the file and nothing is pending.
    pub fn is_empty(&self) -> bool {
        use super::OperationScope::{Ours, Stale, Unknown};
        let pending = self.operations.iter().any(|o| matches!(o.scope, Ours | Stale | Unknown));
        self.calls.is_empty() && self.changes.is_empty() && !pending
    }

    /// The contract the plan observed under section key `key`.
    pub fn contract(&self, key: &str) -> Option<&PlannedContract> {
        self.contracts.iter().find(|c| c.contract == key)
    }

    /// How many distinct phases the calls use.
    pub fn phase_count(&self) -> usize {
        let mut phases: Vec<Phase> = self.calls.iter().map(|c| c.phase).collect();
        phases.dedup();
        phases.len()
    }
}
