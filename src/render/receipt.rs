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

/// `  1. pause      arena          pause()   success in block 5 (0x…)`.
pub fn transactions(receipt: &Receipt) -> String {
    let mut out = String::new();
    for tx in &receipt.transactions {
        let block = tx.block.map_or_else(|| "not mined".to_string(), |b| format!("in block {b}"));
        let revert = tx.revert.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
        // A transaction that makes no call of the plan (a cancellation).
        let call = if tx.call == 0 { "-".to_string() } else { tx.call.to_string() };
        let _ = writeln!(
            out,
            "  {call:>2}. {:<9}  {:<13}  {:<32} {}{revert} {block} ({})",
            tx.phase.name(),
            tx.contract,
            tx.function,
            tx.status,
            tx.hash
        );
    }
    out
}
