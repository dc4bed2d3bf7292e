//! The plan as markdown, for a pull-request comment.

use std::fmt::Write;

use super::{call_signature, contract_title, partly, show, summary, via_line};
use crate::plan::{ChangeKind, Plan};

/// Renders `plan`, made from the file `source`, as markdown.
pub fn markdown(plan: &Plan, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### govstate plan: `{source}`\n");
    let _ = writeln!(out, "Chain {}, block {} (`{}`).\n", plan.chain_id, plan.block.number, plan.block.hash);
    for contract in plan.contracts.iter().filter(|c| c.variant.is_some()) {
        let _ = writeln!(out, "`{}` is a {} at `{}`.\n", contract.contract, contract_title(contract), contract.address);
    }
    for contract in &plan.contracts {
        for line in partly(contract) {
            let _ = writeln!(out, "**{}.{line}**\n", contract.contract);
        }
    }
    if !plan.changes.is_empty() {
        let _ = writeln!(out, "| contract | field | change | before | after |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for c in &plan.changes {
            let kind = match c.kind {
                ChangeKind::Set => "set",
                ChangeKind::Add => "add",
                ChangeKind::Remove => "remove",
            };
            let before = c.before.map(|v| show(&c.contract, &c.field, Some(v))).unwrap_or_default();
            let after = c.after.map(|v| show(&c.contract, &c.field, Some(v))).unwrap_or_default();
            let _ = writeln!(out, "| {} | `{}` | {kind} | {before} | {after} |", c.contract, c.field);
        }
        let _ = writeln!(out);
    }
    if !plan.calls.is_empty() {
        let _ = writeln!(out, "| # | phase | contract | call |");
        let _ = writeln!(out, "|---|---|---|---|");
        for (i, call) in plan.calls.iter().enumerate() {
            let note = call.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
            let via = via_line(plan, call).map(|v| format!("; {v}")).unwrap_or_default();
            let note = format!("{via}{note}");
            let _ = writeln!(
                out,
                "| {} | {} | {} | `{}`{note} |",
                i + 1,
                call.phase.name(),
                call.contract,
                call_signature(call)
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "**{}**\n", summary(plan, source));
    let _ = writeln!(out, "Plan digest: `{}`", plan.digest);
    out
}
