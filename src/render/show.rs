//! Reading back what govstate wrote: a saved plan or a receipt, for the
//! operator at a terminal, for the incident log in markdown, or as one JSON
//! shape for scripts.

use std::fmt::Write;

use serde::Serialize;

use super::receipt::decoded;
use super::rfc3339;
use super::{Style, show as shown, text};
use crate::execute::fees::gwei;
use crate::execute::{Receipt, TransactionRecord};
use crate::plan::{Plan, PlannedContract, Reviewed};

/// A file govstate wrote, as read back.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Written {
    /// A plan saved by `plan --out`.
    Plan {
        /// The file read.
        file: String,
        /// The plan.
        plan: Box<Plan>,
    },
    /// The receipt of an apply.
    Receipt {
        /// The file read.
        file: String,
        /// The receipt.
        receipt: Box<Receipt>,
    },
}

/// One field that an apply changed: observed before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Section key of the contract.
    pub contract: String,
    /// Key path of the field, or of the role set.
    pub field: String,
    /// Shown before (for a role set: the holder removed, or none).
    pub before: Option<String>,
    /// Shown after (for a role set: the holder added, or none).
    pub after: Option<String>,
}

/// Every field and role holder that differs between `before` and `after`,
/// contract by contract, values shown with their units.
pub fn field_changes(before: &[PlannedContract], after: &[PlannedContract]) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for old in before {
        let Some(new) = after.iter().find(|c| c.contract == old.contract) else { continue };
        let key = old.contract.as_str();
        for (field, value) in &old.fields {
            let next = new.fields.get(field).copied();
            if next != Some(*value) {
                let (before, after) = (Some(shown(key, field, Some(*value))), next.map(|v| shown(key, field, Some(v))));
                out.push(FieldChange { contract: key.to_string(), field: field.clone(), before, after });
            }
        }
        for (set, holders) in &old.role_sets {
            let now = new.role_sets.get(set).cloned().unwrap_or_default();
            let change = |before: Option<String>, after: Option<String>| FieldChange {
                contract: key.to_string(),
                field: set.clone(),
                before,
                after,
            };
            out.extend(holders.iter().filter(|h| !now.contains(h)).map(|h| change(Some(h.to_string()), None)));
            out.extend(now.iter().filter(|h| !holders.contains(h)).map(|h| change(None, Some(h.to_string()))));
        }
    }
    out
}

/// `state/devnet.yaml at commit 1a2b3c4d5e6f (with uncommitted changes)`.
pub fn reviewed_line(reviewed: &Reviewed) -> String {
    let commit = match &reviewed.commit {
        Some(commit) => format!(" at commit {}", &commit[..commit.len().min(12)]),
        None => " (not in a git repository)".to_string(),
    };
    let dirty = if reviewed.uncommitted { " (with uncommitted changes)" } else { "" };
    format!("{}{commit}{dirty}", reviewed.file)
}

/// A saved plan as text: where it came from, then the plan as `plan` shows it.
pub fn show_plan(plan: &Plan, file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Saved plan {file}, digest {}", plan.digest);
    if let Some(source) = &plan.source {
        let _ = writeln!(out, "Made from {}", reviewed_line(source));
    }
    let _ = writeln!(
        out,
        "Observed chain {} at block {}, chain time {}",
        plan.chain_id,
        plan.block.number,
        rfc3339(plan.block.timestamp)
    );
    out.push('\n');
    let source = plan.source.as_ref().map_or(file, |s| s.file.as_str());
    out.push_str(&text(plan, source, Style { color: false }));
    out
}

/// `21000 gas at 1.5 gwei = 0.0000315 ether`.
fn fee(tx: &TransactionRecord) -> Option<String> {
    let (gas, price) = (tx.gas_used?, tx.effective_gas_price?);
    let total = u128::from(gas).checked_mul(price)?;
    Some(format!("{gas} gas at {} = {}", gwei(price), ether(total)))
}

/// Wei as ether, trimmed: `0.0000315 ether`.
fn ether(wei: u128) -> String {
    format!("{} ether", decimal(wei, 18))
}

/// `value / 10^places` without rounding, trailing zeros trimmed.
fn decimal(value: u128, places: u32) -> String {
    let unit = 10u128.pow(places);
    let fraction = format!("{:0width$}", value % unit, width = places as usize);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() { (value / unit).to_string() } else { format!("{}.{fraction}", value / unit) }
}

/// The total fee of every mined transaction of a receipt, in wei.
fn total_fee(receipt: &Receipt) -> u128 {
    let fees = receipt.transactions.iter().filter_map(|t| u128::from(t.gas_used?).checked_mul(t.effective_gas_price?));
    fees.fold(0u128, u128::saturating_add)
}

/// A receipt as text: what was applied and by whom, each transaction with
/// its call, outcome and fee, the timelock operations, and what changed.
pub fn show_receipt(receipt: &Receipt, file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Receipt {file}");
    for (label, value) in receipt_facts(receipt) {
        let _ = writeln!(out, "  {label:<13} {value}");
    }
    if !receipt.transactions.is_empty() {
        let _ = writeln!(out, "\nTransactions, in nonce order:");
        let lines = super::transactions(receipt);
        for (tx, pair) in receipt.transactions.iter().zip(lines.lines().collect::<Vec<_>>().chunks(2)) {
            for line in pair {
                let _ = writeln!(out, "{line}");
            }
            if let Some(fee) = fee(tx) {
                let _ = writeln!(out, "      fee: {fee}");
            }
            if let Some(id) = tx.operation {
                let _ = writeln!(out, "      operation: {id}");
            }
        }
    }
    for op in &receipt.operations {
        let ready = op.ready_at.map(|t| format!(", ready at {} (chain time)", rfc3339(t))).unwrap_or_default();
        let _ = writeln!(out, "\nTimelock operation {} on {}: {}{ready}", op.id, op.timelock, op.action);
    }
    let changes = receipt.after.as_ref().map(|after| field_changes(&receipt.before, after)).unwrap_or_default();
    if !changes.is_empty() {
        let _ = writeln!(out, "\nWhat changed, observed before and after:");
        for line in change_lines(&changes) {
            let _ = writeln!(out, "  {line}");
        }
    }
    for warning in &receipt.warnings {
        let _ = writeln!(out, "\nwarning: {warning}");
    }
    out
}

/// `~ arena.paused: false → true`, `+ arena.orchestrators: 0x…`, `- …`.
pub fn change_lines(changes: &[FieldChange]) -> Vec<String> {
    changes
        .iter()
        .map(|c| match (&c.before, &c.after) {
            (Some(before), Some(after)) => format!("~ {}.{}: {before} → {after}", c.contract, c.field),
            (None, Some(after)) => format!("+ {}.{}: {after}", c.contract, c.field),
            (Some(before), None) => format!("- {}.{}: {before}", c.contract, c.field),
            (None, None) => format!("  {}.{}", c.contract, c.field),
        })
        .collect()
}

/// The labelled facts at the head of a receipt.
fn receipt_facts(receipt: &Receipt) -> Vec<(&'static str, String)> {
    let mut facts = vec![("applied", receipt.source.clone())];
    if let Some(reviewed) = &receipt.reviewed {
        facts.push(("reviewed", reviewed_line(reviewed)));
    }
    let digest = if receipt.plan_digest.is_zero() { receipt.plan.digest } else { receipt.plan_digest };
    facts.push(("plan digest", digest.to_string()));
    facts.push(("chain", format!("{} (planned at block {})", receipt.plan.chain_id, receipt.plan.block.number)));
    facts.push(("signer", receipt.signer.to_string()));
    facts.push(("started", receipt.started_at.clone()));
    facts.push(("finished", receipt.finished_at.clone().unwrap_or_else(|| "not recorded (the apply died?)".into())));
    facts.push(("outcome", receipt.outcome.clone().unwrap_or_else(|| "none recorded".into())));
    if !receipt.targets.is_empty() {
        facts.push(("targets", receipt.targets.join(", ")));
    }
    if !receipt.overrides.is_empty() {
        facts.push(("overrides", receipt.overrides.join(", ")));
    }
    let fees = total_fee(receipt);
    if fees > 0 {
        facts.push(("fees", ether(fees)));
    }
    facts
}

/// A saved plan or a receipt as markdown, for the incident log.
pub fn show_markdown(written: &Written) -> String {
    match written {
        Written::Plan { file, plan } => {
            let mut out = format!("### Saved plan `{file}`\n\n");
            if let Some(source) = &plan.source {
                let _ = writeln!(out, "Made from `{}`.\n", reviewed_line(source));
            }
            let source = plan.source.as_ref().map_or(file.as_str(), |s| s.file.as_str());
            out.push_str(&super::markdown(plan, source));
            out
        }
        Written::Receipt { file, receipt } => receipt_markdown(receipt, file),
    }
}

/// A receipt as markdown: facts, a table of transactions, what changed.
fn receipt_markdown(receipt: &Receipt, file: &str) -> String {
    let mut out = format!("### Receipt `{file}`\n\n");
    for (label, value) in receipt_facts(receipt) {
        let _ = writeln!(out, "- **{label}**: {}", code(&value));
    }
    if !receipt.transactions.is_empty() {
        out.push_str(
            "\n| # | phase | contract | call | outcome | transaction | fee |\n|---|---|---|---|---|---|---|\n",
        );
        for tx in &receipt.transactions {
            let call = if tx.call == 0 { "-".to_string() } else { tx.call.to_string() };
            let _ = writeln!(
                out,
                "| {call} | {} | {} | {} | {} | `{}` | {} |",
                tx.phase.name(),
                tx.contract,
                code(decoded(tx)),
                outcome_cell(tx),
                tx.hash,
                fee(tx).unwrap_or_default()
            );
        }
    }
    for op in &receipt.operations {
        let ready = op.ready_at.map(|t| format!(", ready at {} (chain time)", rfc3339(t))).unwrap_or_default();
        let _ = writeln!(out, "\nTimelock operation `{}` on `{}`: {}{ready}.", op.id, op.timelock, op.action);
    }
    let changes = receipt.after.as_ref().map(|after| field_changes(&receipt.before, after)).unwrap_or_default();
    if !changes.is_empty() {
        out.push_str("\nWhat changed, observed before and after:\n\n```diff\n");
        for line in change_lines(&changes) {
            let _ = writeln!(out, "{line}");
        }
        out.push_str("```\n");
    }
    out
}

/// Inline code, with backticks in the text made harmless.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'"))
}

/// A transaction's outcome in a table cell: `success in block 5`, or why
/// its receipt was not read.
fn outcome_cell(tx: &crate::execute::TransactionRecord) -> String {
    if let (None, Some(why)) = (tx.block, &tx.receipt_unread) {
        return cell(&format!("{}, receipt not read: {why}", tx.status));
    }
    let block = tx.block.map_or_else(|| "not mined".to_string(), |b| format!("block {b}"));
    let revert = tx.revert.as_ref().or(tx.orphaned.as_ref()).map(|r| format!(": {r}")).unwrap_or_default();
    format!("{} in {block}{}", tx.status, cell(&revert))
}

/// Text safe inside a markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
