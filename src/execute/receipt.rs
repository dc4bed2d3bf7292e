//! The receipt of an apply: written as the apply goes, so even a crash
//! leaves a record an operator can archive in the incident log.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::contracts::Phase;
use crate::plan::{Plan, PlannedContract};

/// The version of the receipt's JSON layout.
pub const RECEIPT_FORMAT_VERSION: u32 = 1;

/// Everything an apply did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    /// Layout version, [`RECEIPT_FORMAT_VERSION`].
    pub format_version: u32,
    /// The file or saved plan applied.
    pub source: String,
    /// When the apply started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended, once it has.
    pub finished_at: Option<String>,
    /// Who signed.
    pub signer: Address,
    /// Fields overridden for this run only (`arena.paused=true`).
    pub overrides: Vec<String>,
    /// The plan applied.
    pub plan: Plan,
    /// What was observed just before sending.
    pub before: Vec<PlannedContract>,
    /// What was observed after the last phase.
    pub after: Option<Vec<PlannedContract>>,
    /// One entry per transaction sent, in nonce order.
    pub transactions: Vec<TransactionRecord>,
    /// Timelock operations scheduled, executed, cancelled or waiting.
    #[serde(default)]
    pub operations: Vec<OperationRecord>,
    /// How it ended: `converged`, or what went wrong.
    pub outcome: Option<String>,
    /// What the operator should know (simulation unavailable, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What happened to one transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransactionRecord {
    /// The call's position in the plan (1-based).
    pub call: usize,
    /// Its phase.
    pub phase: Phase,
    /// Section key of the contract called.
    pub contract: String,
    /// Solidity signature.
    pub function: String,
    /// Transaction hash.
    pub hash: B256,
    /// Sender nonce.
    pub nonce: u64,
    /// `sent`, `success` or `reverted`.
    pub status: String,
    /// The block it was included in.
    pub block: Option<u64>,
    /// Gas used.
    pub gas_used: Option<u64>,
    /// Effective gas price in wei.
    pub effective_gas_price: Option<u128>,
    /// The custom error it reverted with.
    pub revert: Option<String>,
    /// The timelock operation it schedules, executes or cancels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<B256>,
    /// Earlier versions at the same nonce, replaced with a higher fee
    /// (`--bump-after`); `hash` is the latest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<B256>,
}

/// What an apply did with one timelock operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperationRecord {
    /// The TimelockController.
    pub timelock: Address,
    /// The operation id.
    pub id: B256,
    /// `scheduled`, `executed`, `cancelled` or `waiting`.
    pub action: String,
    /// When it is ready (seconds since the epoch), as the timelock says.
    pub ready_at: Option<u64>,
    /// The exact batch, for a scheduled or executed operation.
    pub batch: Option<crate::plan::TimelockBatch>,
}

/// A receipt kept on disk: every update rewrites the file atomically.
#[derive(Debug)]
pub struct ReceiptLog {
    path: PathBuf,
    /// The receipt as written so far.
    pub receipt: Receipt,
}

/// The current time as RFC 3339 (UTC).
pub fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

impl ReceiptLog {
    /// Starts a receipt in `dir`, named after the start time and the block.
    pub fn create(dir: &Path, receipt: Receipt) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let stamp = receipt.started_at.replace(':', "-");
        let path = dir.join(format!("apply-{stamp}-block{}.json", receipt.plan.block.number));
        let log = Self { path, receipt };
        log.save()?;
        Ok(log)
    }

    /// Where the receipt is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rewrites the file with the current receipt.
    pub fn save(&self) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(&self.receipt).map_err(std::io::Error::other)?;
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, &self.path)
    }
}
