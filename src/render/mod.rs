//! Rendering plans for people and programs, kept apart from planning:
//! Terraform-like text for a terminal, markdown for a pull request, JSON
//! (the plan itself), and a unified diff of the state as YAML.

mod diff;
mod markdown;
mod receipt;
mod text;

pub use diff::state_diff;
pub use markdown::markdown;
pub use receipt::transactions;
pub use text::{Style, text};

use crate::contracts::{Kind, Shown, Unit, Value, kind, kind_of};
use crate::plan::{Change, ChangeKind, Plan, PlannedCall, PlannedContract};

/// How the value of `contract.field` is meant (role-set members are addresses).
fn unit_of(contract: &str, field: &str) -> Unit {
    kind(contract).and_then(|k| k.field(field)).map_or(Unit::Address, |f| f.unit)
}

/// A value with its unit: `150000000000000000000 (150 ether)`.
fn show(contract: &str, field: &str, value: Option<Value>) -> String {
    value.map_or_else(|| "(none)".to_string(), |value| Shown { value, unit: unit_of(contract, field) }.to_string())
}

/// The one-line summary scripts and people read last.
pub fn summary(plan: &Plan, source: &str) -> String {
    match plan.calls.len() {
        0 => format!("No changes. The chain matches {source}."),
        1 => "Plan: 1 call in 1 phase.".to_string(),
        n => {
            let phases = plan.phase_count();
            format!("Plan: {n} calls in {phases} phase{}.", if phases == 1 { "" } else { "s" })
        }
    }
}

/// `~ field: old → new`, `+ set: 0x…` or `- set: 0x…`, without colour.
fn change_line(change: &Change) -> (char, String) {
    let (contract, field) = (change.contract.as_str(), change.field.as_str());
    match change.kind {
        ChangeKind::Set => {
            let (before, after) = (show(contract, field, change.before), show(contract, field, change.after));
            ('~', format!("{field}: {before} → {after}"))
        }
        ChangeKind::Add => ('+', format!("{field}: {}", show(contract, field, change.after))),
        ChangeKind::Remove => ('-', format!("{field}: {}", show(contract, field, change.before))),
    }
}

/// The kind the plan found a contract to be.
fn kind_seen(contract: &PlannedContract) -> Option<&'static Kind> {
    kind_of(&contract.contract, contract.variant.as_deref())
}

/// `SystemPause, modules kind` or `SelfPlayArena`: what a contract was found to be.
fn contract_title(contract: &PlannedContract) -> String {
    match &contract.variant {
        Some(variant) => format!("{}, {variant} kind", contract.name),
        None => contract.name.clone(),
    }
}

/// For each derived value whose fields disagree (a partly paused system):
/// `paused: partly, 1 of 8 true (paused.stake_manager)`.
fn partly(contract: &PlannedContract) -> Vec<String> {
    let Some(kind) = kind_seen(contract) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for derived in kind.derived {
        let values: Vec<(&str, Option<&Value>)> = derived.from.iter().map(|f| (*f, contract.fields.get(*f))).collect();
        let on: Vec<&str> = values.iter().filter(|(_, v)| *v == Some(&Value::Bool(true))).map(|(f, _)| *f).collect();
        if !on.is_empty() && on.len() < values.len() {
            out.push(format!("{}: partly, {} of {} true ({})", derived.key, on.len(), values.len(), on.join(", ")));
        }
    }
    out
}

/// `via SystemPause 0x….executeGovernanceCall(…)`, for a forwarded call.
fn via_line(plan: &Plan, call: &PlannedCall) -> Option<String> {
    let via = call.via.as_ref()?;
    let name = plan.contract(&via.contract).map_or(via.contract.clone(), |c| c.name.clone());
    let function = via.function.split('(').next().unwrap_or(&via.function);
    Some(format!("sent as {name} {}.{function}({}, <the call above>)", via.target, call.contract))
}

/// `setRewards(rewards.teacher: 150 ether, …)` with short values.
fn call_signature(call: &crate::plan::PlannedCall) -> String {
    let name = call.function.split('(').next().unwrap_or(&call.function);
    let args: Vec<String> =
        call.args.iter().map(|a| format!("{}: {}", a.name, show(&call.contract, &a.name, Some(a.value)))).collect();
    format!("{name}({})", args.join(", "))
}
