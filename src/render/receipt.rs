//! What an apply sent, one line per transaction.

use std::fmt::Write;

use crate::execute::Receipt;

/// `  1. pause      arena          pause()   success in block 5 (0x…)`.
pub fn transactions(receipt: &Receipt) -> String {
    let mut out = String::new();
    for tx in &receipt.transactions {
        let block = tx.block.map_or_else(|| "not mined".to_string(), |b| format!("in block {b}"));
        let revert = tx.revert.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:>2}. {:<9}  {:<13}  {:<32} {}{revert} {block} ({})",
            tx.call,
            tx.phase.name(),
            tx.contract,
            tx.function,
            tx.status,
            tx.hash
        );
    }
    out
}
