//! The plan as markdown, for a pull-request comment.

use std::fmt::Write;

use super::escape::code_span;
use super::{call_signature, contract_title, partly, route_lines, show, stale_lines, summary, via_line};
use crate::plan::RouteKind;
use crate::plan::{ChangeKind, Plan};

/// Renders `plan`, made from the file `source`, as markdown. The file name
/// is the author's text: it is only shown inside code spans, so it cannot
/// add markup, mentions, links or comments to the posted comment.
pub fn markdown(plan: &Plan, source: &str) -> String {
    markdown_for(plan, &super::Subject::file(source))
}

/// Renders `plan`, made from `subject`, as markdown: how the run differs
/// from the file is quoted before the digest, and the summary says what
/// the chain matches.
pub fn markdown_for(plan: &Plan, subject: &super::Subject<'_>) -> String {
    let source = &code_span(subject.source, false);
    // The name is the pull request's to choose: shown only escaped.
    let subject = &super::Subject { source, ..*subject };
    let mut out = String::new();
    let _ = writeln!(out, "### govstate plan: {source}\n");
    let _ = writeln!(out, "Chain {}, block {} (`{}`).\n", plan.chain_id, plan.block.number, plan.block.hash);
    if let Some(wait) = super::pause_wait(plan) {
        let _ = writeln!(out, "> **{wait}**\n");
    }
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
    let routes = route_lines(plan);
    if !routes.is_empty() {
        let _ = writeln!(out, "#### Routes\n");
        for line in routes {
            match line.strip_prefix("   ") {
                Some(status) => writeln!(out, "   - {status}"),
                None => writeln!(out, "{line}"),
            }
            .ok();
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", mermaid(plan));
    }
    for line in stale_lines(plan) {
        let _ = writeln!(out, "> **Pending:** {line}\n");
    }
    let _ = writeln!(out, "**{}**\n", summary(plan, &subject.to_string()));
    for note in subject.notes() {
        let _ = writeln!(out, "> {note}\n");
    }
    let _ = writeln!(out, "Plan digest: `{}`", plan.digest);
    out
}

/// A Mermaid diagram of each route's chain of authority, which GitHub
/// renders in a pull-request comment.
fn mermaid(plan: &Plan) -> String {
    let mut out = String::from("```mermaid\nflowchart RL\n");
    let name = |key: &str| plan.contract(key).map_or(key.to_string(), |c| c.name.clone());
    for (n, route) in plan.routes.iter().enumerate() {
        let sender = format!("r{n}a");
        let label = match &route.via {
            RouteKind::Direct => format!("{}<br/>sends now", short(&route.authority.to_string())),
            RouteKind::Timelock(batch) => {
                let timelock = format!(
                    "TimelockController {}<br/>batch after {} s",
                    short(&batch.timelock.to_string()),
                    batch.delay
                );
                match &batch.proposer {
                    Some(safe) => format!(
                        "{timelock}\"] --> {sender}s[\"Safe {}<br/>{} of {} schedules",
                        short(&safe.safe.to_string()),
                        safe.threshold,
                        safe.owners.len()
                    ),
                    None => timelock,
                }
            }
            RouteKind::Safe(safe) => format!(
                "Safe {}<br/>{} of {}, one transaction",
                short(&safe.safe.to_string()),
                safe.threshold,
                safe.owners.len()
            ),
        };
        out.push_str(&format!("  {sender}[\"{label}\"]\n"));
        let mut seen: Vec<String> = Vec::new();
        for call in route.calls.iter().filter_map(|i| plan.calls.get(*i)) {
            let target = format!("r{n}_{}", call.contract);
            let via = call.via.as_ref().map(|v| (format!("r{n}_{}", v.contract), name(&v.contract)));
            let link = match &via {
                Some((via_id, via_name)) => {
                    format!("  {target}[\"{}\"] --> {via_id}[\"{via_name}\"] --> {sender}\n", name(&call.contract))
                }
                None => format!("  {target}[\"{}\"] --> {sender}\n", name(&call.contract)),
            };
            if !seen.contains(&link) {
                out.push_str(&link);
                seen.push(link);
            }
        }
    }
    out.push_str("```\n");
    out
}

/// `0x3Aa5…443c`.
fn short(address: &str) -> String {
    match (address.get(..6), address.get(address.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) => format!("{head}…{tail}"),
        _ => address.to_string(),
    }
}
