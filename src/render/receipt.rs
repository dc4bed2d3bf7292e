//! What an apply sent, one line per transaction.

use std::fmt::Write;

use crate::execute::Receipt;

/// What happened to each timelock operation, with its ready time against
/// the chain's clock `now`: `Scheduled 0x… on TimelockController 0x…: ready at …, in 1m 0s.`
pub fn operations(receipt: &Receipt, now: u64) -> String {
    let mut out = String::new();
    for op in &receipt.operations {
        let ready = op.ready_at.map(|t| super::when(t, now)).unwrap_or_default();
        let line = match op.action.as_str() {
            "scheduled" => format!(
                "Scheduled operation {} on TimelockController {}: {ready}. Run apply again then to execute it.",
                op.id, op.timelock
            ),
            "waiting" => format!(
                "Operation {} on TimelockController {} is scheduled and not ready yet: {ready}. Nothing was sent for it.",
                op.id, op.timelock
            ),
            "executed" => format!("Executed operation {} on TimelockController {}.", op.id, op.timelock),
            _ => format!("Cancelled stale operation {} on TimelockController {}.", op.id, op.timelock),
        };
        if op.action != "executed" {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// One line per transaction, its columns aligned across the receipt, and
/// the call it made with its arguments beneath:
///
/// ```text
///    1. pause      arena          success in block 5   0x…
///       pause()
/// ```
///
/// A transaction whose receipt could not be read says so, and why,
/// beneath its call: it may well be mined.
pub fn transactions(receipt: &Receipt) -> String {
    let rows: Vec<[String; 4]> = receipt.transactions.iter().map(row).collect();
    let width = |column: usize| rows.iter().map(|r| r[column].chars().count()).max().unwrap_or(0);
    let (phase, contract, outcome) = (width(1), width(2), width(3));
    let mut out = String::new();
    for (tx, [call, phase_name, contract_name, result]) in receipt.transactions.iter().zip(rows) {
        let revert = tx.revert.as_ref().map(|r| format!(" reverted with {r}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {call:>2}. {phase_name:<phase$}  {contract_name:<contract$}  {result:<outcome$}  {}{revert}",
            tx.hash
        );
        let _ = writeln!(out, "      {}", decoded(tx));
        if let Some(note) = &tx.orphaned {
            let _ = writeln!(out, "      {note}");
        }
        if let (None, Some(why)) = (tx.block, &tx.receipt_unread) {
            let _ = writeln!(out, "      receipt not read: {why}");
        }
    }
    out
}

/// The call a transaction made, with its arguments when the receipt has
/// them (receipts before they were recorded name the signature only).
pub(super) fn decoded(tx: &crate::execute::TransactionRecord) -> &str {
    if tx.decoded.is_empty() { &tx.function } else { &tx.decoded }
}

/// The columns of one transaction's line: call, phase, contract, outcome.
fn row(tx: &crate::execute::TransactionRecord) -> [String; 4] {
    // A transaction that makes no call of the plan (a cancellation).
    let call = if tx.call == 0 { "-".to_string() } else { tx.call.to_string() };
    let outcome = match (tx.status.as_str(), tx.block) {
        // Recorded once, then taken off the chain (see `orphaned`).
        ("orphaned", Some(block)) => format!("orphaned from block {block}"),
        (_, Some(block)) => format!("{} in block {block}", tx.status),
        // Sent, but the endpoint would not say where it stands (see `receipt_unread`).
        (_, None) if tx.receipt_unread.is_some() => format!("{}, receipt not read", tx.status),
        (_, None) => format!("{}, not mined", tx.status),
    };
    [call, tx.phase.name().to_string(), tx.contract.clone(), outcome]
}
