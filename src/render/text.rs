//! The plan as text for a terminal: what changes, then the numbered calls,
//! then one summary line.

use std::fmt::Write;

use super::{
    call_signature, change_line, contract_title, partly, pause_wait, route_lines, stale_lines, summary, via_line,
};
use crate::plan::Plan;

/// Whether to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Use ANSI colours.
    pub color: bool,
}

impl Style {
    /// Colour only on a terminal, and never when `NO_COLOR` is set.
    pub fn detect() -> Self {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { color: !no_color && std::io::stdout().is_terminal() }
    }

    fn paint(self, sign: char, text: &str) -> String {
        let code = match sign {
            '+' => "32",
            '-' => "31",
            '~' => "33",
            _ => "1",
        };
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
}

/// Renders `plan`, made from the file `source` (its control characters
/// escaped: a file name is its author's text).
pub fn text(plan: &Plan, source: &str, style: Style) -> String {
    text_for(plan, &super::Subject::file(source), style)
}

/// Renders `plan`, made from `subject`: the summary says what the chain
/// matches (`the targeted keys of FILE`, `FILE with overrides`).
pub fn text_for(plan: &Plan, subject: &super::Subject<'_>, style: Style) -> String {
    let source = &super::escape::terminal(subject.source);
    let subject = &super::Subject { source, ..*subject };
    let mut out = String::new();
    let block = &plan.block;
    let _ = writeln!(
        out,
        "govstate plan: {source} against chain {} at block {} ({})",
        plan.chain_id, block.number, block.hash
    );
    if let Some(wait) = pause_wait(plan) {
        let _ = writeln!(out, "{}", style.paint('~', &format!("! {wait}")));
    }
    let managed = |c: &&crate::plan::PlannedContract| plan.desired.iter().any(|d| d.contract == c.contract);
    for contract in plan.contracts.iter().filter(|c| c.variant.is_some()).filter(managed) {
        let _ = writeln!(out, "{} is a {} at {}", contract.contract, contract_title(contract), contract.address);
    }
    for contract in plan.contracts.iter().filter(|c| !managed(c)) {
        let _ = writeln!(
            out,
            "{} ({}) at {} is on the route: read from the chain, not managed by {source}",
            contract.contract,
            contract_title(contract),
            contract.address
        );
    }
    for contract in &plan.contracts {
        let changes: Vec<_> = plan.changes.iter().filter(|c| c.contract == contract.contract).collect();
        let partly = partly(contract);
        if changes.is_empty() && partly.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} ({}) at {}", contract.contract, contract_title(contract), contract.address);
        for line in partly {
            let _ = writeln!(out, "  {}", style.paint('~', &format!("! {line}")));
        }
        for change in changes {
            let (sign, line) = change_line(change);
            let _ = writeln!(out, "  {}", style.paint(sign, &format!("{sign} {line}")));
        }
    }
    if !plan.calls.is_empty() {
        let _ = writeln!(out, "\nCalls, in order:");
        let width = plan.calls.len().to_string().len();
        for (i, call) in plan.calls.iter().enumerate() {
            let phase = call.phase.name();
            let _ = writeln!(out, "  {:>width$}. {phase:<9}  {:<13}  {}", i + 1, call.contract, call_signature(call));
            if let Some(via) = via_line(plan, call) {
                let _ = writeln!(out, "  {:>width$}  {:<9}  {via}", "", "");
            }
            if let Some(note) = &call.note {
                let _ = writeln!(out, "  {:>width$}  {:<9}  note: {note}", "", "");
            }
        }
    }
    let routes = route_lines(plan);
    if !routes.is_empty() {
        let _ = writeln!(out, "\nRoutes:");
        for line in routes {
            let _ = writeln!(out, "  {line}");
        }
    }
    for line in stale_lines(plan) {
        let _ = writeln!(out, "\n  {}", style.paint('~', &format!("! {line}")));
    }
    let _ = writeln!(out, "\n{}", style.paint('=', &summary(plan, &subject.to_string())));
    out
}
