//! The incident report: what a set of applies changed, for the team and the
//! incident log. Per contract each field before → after; who sent what,
//! when and in which block; the timelock operations and when they take
//! effect; links through a block explorer when one is given.

use std::fmt::Write;

use serde::Serialize;

use super::receipt::decoded;
use super::rfc3339;
use super::show::{FieldChange, field_changes};
use crate::execute::Receipt;

/// The report's content, as JSON carries it.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentReport {
    /// The receipts read, in the order given.
    pub receipts: Vec<String>,
    /// The chains they are for.
    pub chain_ids: Vec<u64>,
    /// The reviewed files and commits, as the receipts name them.
    pub reviewed: Vec<String>,
    /// Each field's first observed value before → its last after; each
    /// holder granted (`after`) or revoked (`before`).
    pub changes: Vec<FieldChange>,
    /// Every transaction sent, in order.
    pub transactions: Vec<ReportedTransaction>,
    /// Every timelock operation scheduled, executed, cancelled or waiting.
    pub operations: Vec<ReportedOperation>,
}

/// One transaction of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportedTransaction {
    /// When its apply started (RFC 3339, UTC, wall clock).
    pub apply_started_at: String,
    /// Who signed it.
    pub sender: String,
    /// Section key of the contract it changed.
    pub contract: String,
    /// The call with its arguments.
    pub call: String,
    /// `success`, `reverted` or `sent`.
    pub status: String,
    /// The block it was included in.
    pub block: Option<u64>,
    /// Why its receipt could not be read, when it could not (it may well
    /// be mined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_unread: Option<String>,
    /// Its hash.
    pub hash: String,
    /// Its page on the explorer, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// One timelock operation of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportedOperation {
    /// The operation id.
    pub id: String,
    /// The TimelockController.
    pub timelock: String,
    /// `scheduled`, `executed`, `cancelled` or `waiting`.
    pub action: String,
    /// When it is ready, in seconds since the Unix epoch (chain time).
    pub ready_at: Option<u64>,
    /// The same, as RFC 3339 (UTC).
    pub ready_at_rfc3339: Option<String>,
}

/// A transaction's page: `{hash}` in `explorer` replaced by the hash, or
/// `/tx/<hash>` appended to a base URL.
fn link(explorer: &str, hash: &str) -> String {
    if explorer.contains("{hash}") {
        explorer.replace("{hash}", hash)
    } else {
        format!("{}/tx/{hash}", explorer.trim_end_matches('/'))
    }
}

/// Merges the receipts' changes: a field keeps its first before and last
/// after; role holders are listed as granted or revoked.
fn merged_changes(receipts: &[(String, Receipt)]) -> Vec<FieldChange> {
    let mut out: Vec<FieldChange> = Vec::new();
    for (_, receipt) in receipts {
        let Some(after) = &receipt.after else { continue };
        for change in field_changes(&receipt.before, after) {
            let holder = change.before.is_none() || change.after.is_none();
            let same = out.iter_mut().find(|c| !holder && c.contract == change.contract && c.field == change.field);
            match same {
                Some(existing) => existing.after = change.after,
                None => out.push(change),
            }
        }
    }
    out.retain(|c| c.before != c.after);
    out
}

/// The usual explorer of a public chain, by chain id, as a `{hash}`
/// template: what `report` links through when `--explorer` is not given.
pub const EXPLORERS: &[(u64, &str)] = &[
    (1, "https://etherscan.io/tx/{hash}"),
    (10, "https://optimistic.etherscan.io/tx/{hash}"),
    (137, "https://polygonscan.com/tx/{hash}"),
    (8453, "https://basescan.org/tx/{hash}"),
    (17000, "https://holesky.etherscan.io/tx/{hash}"),
    (42161, "https://arbiscan.io/tx/{hash}"),
    (560048, "https://hoodi.etherscan.io/tx/{hash}"),
    (11155111, "https://sepolia.etherscan.io/tx/{hash}"),
];

/// The explorer template for `chain_id` in [`EXPLORERS`], if it has one.
pub fn explorer_for(chain_id: u64) -> Option<&'static str> {
    EXPLORERS.iter().find(|(id, _)| *id == chain_id).map(|(_, template)| *template)
}

/// The report of `receipts` (file name, receipt), with links through
/// `explorer` when given, else through each chain's usual explorer
/// ([`EXPLORERS`]; a devnet has none).
pub fn incident_report(receipts: &[(String, Receipt)], explorer: Option<&str>) -> IncidentReport {
    let mut chain_ids: Vec<u64> = receipts.iter().map(|(_, r)| r.plan.chain_id).collect();
    chain_ids.dedup();
    let mut reviewed: Vec<String> =
        receipts.iter().filter_map(|(_, r)| r.reviewed.as_ref()).map(super::reviewed_line).collect();
    reviewed.dedup();
    let transactions = receipts
        .iter()
        .flat_map(|(_, r)| {
            r.transactions.iter().map(move |tx| ReportedTransaction {
                apply_started_at: r.started_at.clone(),
                sender: r.signer.to_string(),
                contract: tx.contract.clone(),
                call: decoded(tx).to_string(),
                status: tx.status.clone(),
                block: tx.block,
                receipt_unread: tx.receipt_unread.clone(),
                hash: tx.hash.to_string(),
                link: explorer.or(explorer_for(r.plan.chain_id)).map(|e| link(e, &tx.hash.to_string())),
            })
        })
        .collect();
    let operations = receipts
        .iter()
        .flat_map(|(_, r)| r.operations.iter())
        .map(|op| ReportedOperation {
            id: op.id.to_string(),
            timelock: op.timelock.to_string(),
            action: op.action.clone(),
            ready_at: op.ready_at,
            ready_at_rfc3339: op.ready_at.map(rfc3339),
        })
        .collect();
    IncidentReport {
        receipts: receipts.iter().map(|(f, _)| f.clone()).collect(),
        chain_ids,
        reviewed,
        changes: merged_changes(receipts),
        transactions,
        operations,
    }
}

/// The report as markdown, for the incident log and the team's channel.
pub fn report_markdown(report: &IncidentReport) -> String {
    let mut out = String::from("## Governance changes\n\n");
    let chains: Vec<String> = report.chain_ids.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        out,
        "- **receipts**: {}",
        report.receipts.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(out, "- **chain**: {}", chains.join(", "));
    for reviewed in &report.reviewed {
        let _ = writeln!(out, "- **reviewed**: `{reviewed}`");
    }
    out.push_str("\n### What changed\n\n");
    if report.changes.is_empty() {
        out.push_str("Nothing changed on chain.\n");
    } else {
        out.push_str("| contract | field | before | after |\n|---|---|---|---|\n");
        for c in &report.changes {
            let show = |v: &Option<String>| v.as_ref().map_or("—".to_string(), |v| format!("`{v}`"));
            let _ = writeln!(out, "| {} | {} | {} | {} |", c.contract, c.field, show(&c.before), show(&c.after));
        }
    }
    if !report.transactions.is_empty() {
        out.push_str("\n### Who sent what\n\n| apply started | sender | contract | call | outcome | transaction |\n|---|---|---|---|---|---|\n");
        for tx in &report.transactions {
            let outcome = match (tx.block, &tx.receipt_unread) {
                (None, Some(why)) => format!("{}, receipt not read: {}", tx.status, why.replace('|', "\\|")),
                (block, _) => {
                    let block = block.map_or_else(|| "not mined".to_string(), |b| format!("block {b}"));
                    format!("{} in {block}", tx.status)
                }
            };
            let hash = match &tx.link {
                Some(link) => format!("[`{}`]({link})", tx.hash),
                None => format!("`{}`", tx.hash),
            };
            let call = tx.call.replace('|', "\\|");
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | `{call}` | {outcome} | {hash} |",
                tx.apply_started_at, tx.sender, tx.contract
            );
        }
    }
    if !report.operations.is_empty() {
        out.push_str("\n### Timelock operations\n\n| operation | timelock | action | takes effect (chain time) |\n|---|---|---|---|\n");
        for op in &report.operations {
            let when = op.ready_at_rfc3339.clone().unwrap_or_else(|| "—".to_string());
            let _ = writeln!(out, "| `{}` | `{}` | {} | {when} |", op.id, op.timelock, op.action);
        }
    }
    out
}
