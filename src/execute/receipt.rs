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
    /// The desired-state file reviewed, with its git commit: the file
    /// applied, or the one a saved plan was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed: Option<crate::plan::Reviewed>,
    /// The digest of the plan applied: what the reviewer approved.
    #[serde(default)]
    pub plan_digest: B256,
    /// When the apply started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended, once it has.
    pub finished_at: Option<String>,
    /// Who signed.
    pub signer: Address,
    /// Fields overridden for this run only (`arena.paused=true`).
    pub overrides: Vec<String>,
    /// The only key paths this run managed (`--target arena.paused`);
    /// empty for the whole file.
    #[serde(default)]
    pub targets: Vec<String>,
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
    /// The hash of the chain's block 0: tells this chain from another with
    /// the same id (a restarted devnet), whose transactions are no orphans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis: Option<B256>,
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
    /// The call with its arguments, decoded: `setOrchestrator(orchestrator:
    /// 0x…, allowed: true)`, or a batch's calls by contract.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub decoded: String,
    /// The arguments of a single plan call, by the field they carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<crate::plan::Argument>,
    /// Transaction hash.
    pub hash: B256,
    /// Sender nonce.
    pub nonce: u64,
    /// `sent`, `success`, `reverted`, or `orphaned` (recorded, then no
    /// longer on chain: see `orphaned`).
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
    /// Set by a later apply that found it no longer on chain: what became
    /// of it (`orphaned by a reorg at block 5; its nonce 4 was taken by …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphaned: Option<String>,
    /// Set when the transaction was sent but its receipt could not be read
    /// (the endpoint's quota was spent): why. It may well be mined; the next
    /// apply looks it up again and corrects the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_unread: Option<String>,
}

impl TransactionRecord {
    /// The record of `tx`, just sent as `hash` at `nonce`: nothing is known
    /// of its outcome yet.
    pub fn sent(tx: &crate::route::Transaction, hash: B256, nonce: u64) -> Self {
        TransactionRecord {
            call: tx.call,
            phase: tx.phase,
            contract: tx.contract.clone(),
            function: tx.function.clone(),
            decoded: tx.decoded.clone(),
            args: tx.args.clone(),
            hash,
            nonce,
            status: "sent".to_string(),
            block: None,
            gas_used: None,
            effective_gas_price: None,
            revert: None,
            operation: tx.operation,
            replaced: Vec::new(),
            orphaned: None,
            receipt_unread: None,
        }
    }

    /// Records what the chain's receipt says of this transaction: `status`
    /// (`success` or `reverted`), its block, gas used and price.
    pub fn mined_as(&mut self, status: &str, receipt: &alloy::rpc::types::TransactionReceipt) {
        self.receipt_unread = None;
        self.status = status.to_string();
        self.block = receipt.block_number;
        self.gas_used = Some(receipt.gas_used);
        self.effective_gas_price = Some(receipt.effective_gas_price);
    }
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

/// The receipt in `dir` of an apply by `signer` that sent transactions it
/// never saw mined, at nonces from `next` on (a lower one is mined or
/// replaced by now), with those nonces: a crash or kill mid-phase leaves
/// them signed and perhaps still in a node's pool.
pub fn unfinished(dir: &Path, signer: Address, next: u64) -> Option<(PathBuf, Vec<(u64, B256)>)> {
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Some(receipt) = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Receipt>(&b).ok()) else {
            continue;
        };
        if receipt.signer != signer || receipt.finished_at.is_some() {
            continue;
        }
        let open = receipt.transactions.iter().filter(|t| t.status == "sent" && t.nonce >= next);
        let sent: Vec<(u64, B256)> = open.map(|t| (t.nonce, t.hash)).collect();
        if !sent.is_empty() {
            return Some((path, sent));
        }
    }
    None
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
        super::lock::replace_file(&self.path, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(nonce: u64, status: &str) -> TransactionRecord {
        TransactionRecord {
            call: 1,
            phase: Phase::Configure,
            contract: "arena".into(),
            function: "pause()".into(),
            decoded: "pause()".into(),
            args: Vec::new(),
            hash: B256::repeat_byte(nonce as u8),
            nonce,
            status: status.into(),
            block: None,
            gas_used: None,
            effective_gas_price: None,
            revert: None,
            operation: None,
            replaced: Vec::new(),
            orphaned: None,
            receipt_unread: None,
        }
    }

    fn receipt(signer: Address, finished: bool, transactions: Vec<TransactionRecord>) -> Receipt {
        let plan = Plan {
            format_version: crate::plan::FORMAT_VERSION,
            chain_id: 31337,
            block: crate::observe::BlockRef { number: 1, hash: B256::ZERO, timestamp: 0, gas_limit: 0 },
            contracts: Vec::new(),
            changes: Vec::new(),
            calls: Vec::new(),
            routes: Vec::new(),
            operations: Vec::new(),
            accounts: Vec::new(),
            desired: Vec::new(),
            allow_ownership_transfer: false,
            source: None,
            digest: B256::ZERO,
        };
        Receipt {
            format_version: RECEIPT_FORMAT_VERSION,
            source: "x.yaml".into(),
            reviewed: None,
            plan_digest: B256::ZERO,
            started_at: now(),
            finished_at: finished.then(now),
            signer,
            overrides: Vec::new(),
            targets: Vec::new(),
            plan,
            before: Vec::new(),
            after: None,
            transactions,
            operations: Vec::new(),
            outcome: None,
            warnings: Vec::new(),
            genesis: None,
        }
    }

    #[test]
    fn an_apply_that_died_with_unmined_sends_is_found_and_a_finished_or_mined_one_is_not() {
        let dir = tempfile::tempdir().expect("dir");
        let signer = Address::repeat_byte(7);
        let died = receipt(signer, false, vec![record(4, "success"), record(5, "sent"), record(6, "sent")]);
        ReceiptLog::create(dir.path(), died).expect("written");
        let found = unfinished(dir.path(), signer, 5).map(|(_, sent)| sent.iter().map(|(n, _)| *n).collect::<Vec<_>>());
        assert_eq!(found, Some(vec![5, 6]));
        assert!(unfinished(dir.path(), signer, 7).is_none(), "nonces below the next one are mined or replaced");
        assert!(unfinished(dir.path(), Address::repeat_byte(8), 5).is_none(), "another signer's");
        let other = tempfile::tempdir().expect("dir");
        ReceiptLog::create(other.path(), receipt(signer, true, vec![record(5, "sent")])).expect("written");
        assert!(unfinished(other.path(), signer, 5).is_none(), "a finished apply recorded its end");
    }
}
