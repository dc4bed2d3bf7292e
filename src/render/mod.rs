//! Rendering plans for people and programs, kept apart from planning:
//! Terraform-like text for a terminal, markdown for a pull request, JSON
//! (the plan itself), and a unified diff of the state as YAML.

mod diff;
pub mod escape;
mod markdown;
mod receipt;
mod report;
mod safe_tx_builder;
mod show;
mod subject;
mod text;
mod times;

pub use diff::state_diff;
pub use markdown::{markdown, markdown_for};
pub use receipt::{operations, transactions};
pub use report::{
    EXPLORERS, IncidentReport, ReportedOperation, ReportedTransaction, explorer_for, incident_report, report_markdown,
};
pub use safe_tx_builder::{TX_BUILDER_VERSION, checksum, safe_transaction, safe_tx_builder};
pub use show::{
    FieldChange, Written, change_lines, field_changes, reviewed_line, show_markdown, show_plan, show_receipt,
};
pub use subject::Subject;
pub use text::{Style, text, text_for};
pub(crate) use times::rfc3339;
pub use times::{TIME_KEYS, with_rfc3339};

use crate::contracts::{Kind, Phase, Shown, Unit, Value, kind, kind_of};
use crate::observe::OperationState;
use crate::plan::{Change, ChangeKind, OperationScope, Plan, PlannedCall, PlannedContract, RouteKind};

/// How the value of `contract.field` is meant (role-set members are addresses).
fn unit_of(contract: &str, field: &str) -> Unit {
    kind(contract).and_then(|k| k.field(field)).map_or(Unit::Address, |f| f.unit)
}

/// A value with its unit: `150000000000000000000 (150 ether)`.
fn show(contract: &str, field: &str, value: Option<Value>) -> String {
    value.map_or_else(|| "(none)".to_string(), |value| Shown { value, unit: unit_of(contract, field) }.to_string())
}

/// The one-line summary scripts and people read last; `source` is what the
/// chain is compared with (a [`Subject`]).
pub fn summary(plan: &Plan, source: &str) -> String {
    let stale = plan.operations.iter().filter(|o| o.is_stale()).count();
    match plan.calls.len() {
        0 if stale > 0 => format!(
            "No changes, but {stale} stale timelock operation{} pending.",
            if stale == 1 { " is" } else { "s are" }
        ),
        0 => format!("No changes. The chain matches {source}."),
        1 => "Plan: 1 call in 1 phase.".to_string(),
        n => {
            let phases = plan.phase_count();
            format!("Plan: {n} calls in {phases} phase{}.", if phases == 1 { "" } else { "s" })
        }
    }
}

/// What an apply of the plan should take, in blocks, for people: the line
/// `plan` prints after its summary; none for a plan that sends nothing.
pub fn apply_blocks(estimate: &crate::execute::BlocksEstimate) -> Option<String> {
    let count = |n: usize, what: &str| if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") };
    let routed = (estimate.routed > 0).then(|| {
        format!(
            "{} through a timelock or a Safe, a block each at least (a timelock's execution after its delay)",
            count(estimate.routed, "transaction")
        )
    });
    if estimate.direct == 0 {
        return routed.map(|routed| format!("Apply: {routed}."));
    }
    let phases = match estimate.groups {
        0 | 1 => String::new(),
        n => format!(" in {n} phases, each mined before the next"),
    };
    let blocks = match &estimate.sizing {
        Ok(sizing) => format!(
            ", {} gas at most: about {} at a block gas limit of {}",
            sizing.gas,
            count(sizing.blocks, "block"),
            estimate.block_gas_limit
        ),
        Err(reason) => format!("; blocks not estimated: {reason}"),
    };
    let routed = routed.map(|routed| format!(" Besides, {routed}.")).unwrap_or_default();
    Some(format!("Apply: {} sent directly{phases}{blocks}.{routed}", count(estimate.direct, "transaction")))
}

/// When a pause of the plan can only wait for a timelock: what takes effect
/// when, by whom, and what would make it immediate. People read it first.
pub fn pause_wait(plan: &Plan) -> Option<String> {
    let pauses_of = |calls: &[usize]| -> Vec<String> {
        let pauses = calls.iter().filter_map(|i| plan.calls.get(*i)).filter(|c| c.phase == Phase::Pause);
        pauses.map(|c| format!("{}.{}", c.contract, c.function)).collect()
    };
    let mut waiting = Vec::new();
    for route in &plan.routes {
        let RouteKind::Timelock(batch) = &route.via else { continue };
        let pauses = pauses_of(&route.calls);
        if pauses.is_empty() {
            continue;
        }
        let delay = humantime::format_duration(std::time::Duration::from_secs(batch.delay));
        let when = match batch.ready_at {
            Some(ready_at) => format!("scheduled, {}", when(ready_at, plan.block.timestamp)),
            None => format!("at least {delay} after apply schedules it"),
        };
        waiting.push(format!(
            "{} takes effect only when TimelockController {} executes its batch ({when})",
            pauses.join(", "),
            batch.timelock
        ));
    }
    if waiting.is_empty() {
        return None;
    }
    let direct = plan.routes.iter().filter(|r| r.via == RouteKind::Direct);
    let now: Vec<String> = direct.flat_map(|r| pauses_of(&r.calls)).collect();
    let now = if now.is_empty() {
        "Nothing is paused at once.".to_string()
    } else {
        format!("Paused at once: {}.", now.join(", "))
    };
    let advice = match plan.contracts.iter().filter_map(kind_seen).find_map(lever_of) {
        Some((kind, key, setter)) => format!(
            "To pause at once, name an emergency account as {}.{key} ({setter}, through the timelock once): its pause of each contract it reaches takes effect immediately.",
            kind.key
        ),
        None => "These contracts offer no lever that pauses sooner.".to_string(),
    };
    Some(format!("The system pause waits for the timelock: {}. {now} {advice}", waiting.join("; ")))
}

/// The key naming the account that may pull a kind's pause straight on the
/// contracts it reaches (a setter sent `at` another contract, allowed to
/// the holder of a field), and the setter that writes it: the modules
/// kind's `pauser` and `setGlobalPauser(address)`.
fn lever_of(kind: &'static Kind) -> Option<(&'static Kind, &'static str, &'static str)> {
    let pause = kind.setters.iter().find(|s| s.at.is_some() && s.phase == Phase::Pause)?;
    let holder = pause.also_allowed?;
    let derived = kind.derived.iter().find(|d| d.from.contains(&holder))?;
    let writer = kind.setters.iter().find(|s| s.fields == [derived.key])?;
    Some((kind, derived.key, writer.function))
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
    Some(format!("sent as {name} {}.{function}({}, the call above)", via.target, call.contract))
}

/// `ready at 2026-11-26T14:40:00Z chain time, in 1m 0s` (or `ready since
/// …`), against the chain's clock `now`: labelled, since a devnet's clock
/// (moved by `evm_increaseTime`) need not be the wall clock.
pub fn when(ready_at: u64, now: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(ready_at);
    let at = humantime::format_rfc3339_seconds(at);
    if ready_at > now {
        let wait = humantime::format_duration(std::time::Duration::from_secs(ready_at - now));
        format!("ready at {at} chain time, in {wait}")
    } else {
        let ago = humantime::format_duration(std::time::Duration::from_secs(now - ready_at));
        format!("ready since {at} chain time, {ago} ago")
    }
}

/// The distinct chains of contracts `calls` go through, e.g.
/// `StakeManager ← SystemPause`.
fn chains(plan: &Plan, calls: &[usize]) -> Vec<String> {
    let name = |key: &str| plan.contract(key).map_or(key.to_string(), |c| c.name.clone());
    let mut out: Vec<String> = Vec::new();
    for call in calls.iter().filter_map(|i| plan.calls.get(*i)) {
        let chain = match &call.via {
            Some(via) => format!("{} ← {}", name(&call.contract), name(&via.contract)),
            None => name(&call.contract),
        };
        if !out.contains(&chain) {
            out.push(chain);
        }
    }
    out
}

/// `Safe 0x… (2 of 3, nonce 4), SafeTx hash 0x…: owners sign with `govstate sign PLAN`, anyone applies`.
fn safe_line(safe: &crate::plan::SafeBatch) -> String {
    format!(
        "Safe {} ({} of {}, nonce {}), SafeTx hash {}: owners sign it with `govstate sign PLAN`, then anyone applies",
        safe.safe,
        safe.threshold,
        safe.owners.len(),
        safe.nonce,
        safe.safe_tx_hash
    )
}

/// The routes, when any is not a plain direct one: who sends what, how,
/// and when it will have run.
fn route_lines(plan: &Plan) -> Vec<String> {
    let routed = plan.routes.iter().any(|r| r.via != RouteKind::Direct) || plan.routes.len() > 1;
    if !routed {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (n, route) in plan.routes.iter().enumerate() {
        let calls = call_list(&route.calls);
        match &route.via {
            RouteKind::Direct => out.push(format!("{}. sent now by {}: {calls}", n + 1, route.authority)),
            RouteKind::Timelock(batch) => {
                out.push(format!(
                    "{}. through TimelockController {} (delay {}): {calls}, as one batch, operation {}",
                    n + 1,
                    batch.timelock,
                    humantime::format_duration(std::time::Duration::from_secs(batch.delay)),
                    batch.operation
                ));
                let status = match (batch.state, batch.ready_at) {
                    (OperationState::Unset, _) => format!(
                        "not scheduled: apply schedules it ({}), a later apply executes it {} after",
                        if batch.proposer.is_some() { "as the Safe, once its owners signed" } else { "PROPOSER_ROLE" },
                        humantime::format_duration(std::time::Duration::from_secs(batch.delay))
                    ),
                    (state, Some(ready_at)) => {
                        format!(
                            "scheduled as {}, {} ({})",
                            batch.operation,
                            when(ready_at, plan.block.timestamp),
                            state.name()
                        )
                    }
                    (state, None) => format!("scheduled as {} ({})", batch.operation, state.name()),
                };
                out.push(format!("   {status}"));
                if !batch.predecessor.is_zero() {
                    out.push(format!(
                        "   runs after operation {} (the change is cut into batches that each fit a block)",
                        batch.predecessor
                    ));
                }
                if let Some(safe) = &batch.proposer {
                    out.push(format!("   scheduled by {}", safe_line(safe)));
                    for chain in chains(plan, &route.calls) {
                        out.push(format!(
                            "   {chain} ← TimelockController {} ← Safe {} ({} of {})",
                            batch.timelock,
                            safe.safe,
                            safe.threshold,
                            safe.owners.len()
                        ));
                    }
                }
            }
            RouteKind::Safe(safe) => {
                out.push(format!("{}. through {}: {calls}, as one transaction", n + 1, safe_line(safe)));
            }
        }
    }
    if plan.routes.len() > 1 {
        out.push("The routes run at different times: calls sent now take effect at once, a timelock batch only once executed.".to_string());
    }
    out
}

/// Pending operations that are not the plan's own batch, each decoded and
/// judged by the file's scope.
fn stale_lines(plan: &Plan) -> Vec<String> {
    plan.operations
        .iter()
        .filter(|o| o.scope != OperationScope::Ours)
        .map(|o| {
            let verdict = match o.scope {
                OperationScope::Stale => {
                    "is stale: it sets fields the file manages to other values, or is an earlier batch this plan replaces; `apply --cancel-stale` cancels it".to_string()
                }
                OperationScope::Converges => "converges toward the file; left alone".to_string(),
                OperationScope::OutOfScope => "is out of the file's scope; left alone".to_string(),
                OperationScope::Unknown => format!(
                    "calls {} in a way govstate cannot decode; judge it yourself (govstate never cancels it)",
                    o.undecoded.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
                OperationScope::Ours => String::new(),
            };
            format!(
                "operation {} on TimelockController {} ({} call{}, {}, {}{}) {verdict}",
                o.id,
                o.timelock,
                o.calls,
                if o.calls == 1 { "" } else { "s" },
                o.state.name(),
                when(o.ready_at, plan.block.timestamp),
                effects(&o.effects),
            )
        })
        .collect()
}

/// `; it would set stake_manager.fees_pct.fee to 4%, grant arena.orchestrators to 0x…`.
fn effects(effects: &[crate::plan::Effect]) -> String {
    if effects.is_empty() {
        return String::new();
    }
    format!("; it would {}", effect_phrases(effects).join(", "))
}

/// Each effect of a pending operation, for people:
/// `set stake_manager.fees_pct.fee to 4%`, `grant arena.orchestrators to 0x…`.
pub fn effect_phrases(effects: &[crate::plan::Effect]) -> Vec<String> {
    effects
        .iter()
        .map(|e| {
            let value = show(&e.contract, &e.field, Some(e.value));
            match e.kind {
                ChangeKind::Set => format!("set {}.{} to {value}", e.contract, e.field),
                ChangeKind::Add => format!("grant {}.{} to {value}", e.contract, e.field),
                ChangeKind::Remove => format!("revoke {}.{} from {value}", e.contract, e.field),
            }
        })
        .collect()
}

/// `calls 1-3` or `call 2` or `calls 1, 4`.
fn call_list(calls: &[usize]) -> String {
    let numbers: Vec<usize> = calls.iter().map(|i| i + 1).collect();
    match numbers.as_slice() {
        [one] => format!("call {one}"),
        [first, .., last] if last - first + 1 == numbers.len() => format!("calls {first}-{last}"),
        _ => format!("calls {}", numbers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// `setRewards(rewards.teacher: 150 ether, …)` with short values.
pub fn call_signature(call: &crate::plan::PlannedCall) -> String {
    let name = call.function.split('(').next().unwrap_or(&call.function);
    let args: Vec<String> =
        call.args.iter().map(|a| format!("{}: {}", a.name, show(&call.contract, &a.name, Some(a.value)))).collect();
    format!("{name}({})", args.join(", "))
}

#[cfg(test)]
mod tests {
    use super::apply_blocks;
    use crate::execute::{BlocksEstimate, Sizing};

    fn estimate(direct: usize, groups: usize, sizing: Result<Sizing, String>, routed: usize) -> BlocksEstimate {
        BlocksEstimate { direct, groups, block_gas_limit: 30_000_000, sizing, routed }
    }

    #[test]
    fn the_apply_line_says_transactions_gas_and_blocks() {
        let sized = Ok(Sizing { gas: 42_900_000, blocks: 3 });
        assert_eq!(
            apply_blocks(&estimate(600, 2, sized, 0)).as_deref(),
            Some(
                "Apply: 600 transactions sent directly in 2 phases, each mined before the next, 42900000 gas at most: about 3 blocks at a block gas limit of 30000000."
            )
        );
        let one = Ok(Sizing { gas: 71_500, blocks: 1 });
        assert_eq!(
            apply_blocks(&estimate(1, 1, one, 2)).as_deref(),
            Some(
                "Apply: 1 transaction sent directly, 71500 gas at most: about 1 block at a block gas limit of 30000000. Besides, 2 transactions through a timelock or a Safe, a block each at least (a timelock's execution after its delay)."
            )
        );
    }

    #[test]
    fn an_apply_that_cannot_be_sized_says_why_and_one_that_sends_nothing_says_nothing() {
        let refused = Err("the node cannot simulate the calls (eth_simulateV1: method not found (-32601))".to_string());
        assert_eq!(
            apply_blocks(&estimate(3, 1, refused, 0)).as_deref(),
            Some(
                "Apply: 3 transactions sent directly; blocks not estimated: the node cannot simulate the calls (eth_simulateV1: method not found (-32601))."
            )
        );
        let none = || Ok(Sizing { gas: 0, blocks: 0 });
        assert_eq!(
            apply_blocks(&estimate(0, 0, none(), 1)).as_deref(),
            Some(
                "Apply: 1 transaction through a timelock or a Safe, a block each at least (a timelock's execution after its delay)."
            )
        );
        assert_eq!(apply_blocks(&estimate(0, 0, none(), 0)), None);
    }
}
