//! What to send now for each route of a plan, given the chain as it is:
//! a direct route's calls phase by phase; for a timelock route, cancelling
//! stale operations (when asked), then scheduling the batch, or executing it
//! once ready, or nothing while it waits.
//!
//! Pure: the same builder serves simulation and sending.

use alloy::primitives::{Address, B256, Bytes};

use crate::contracts::{Phase, safe, timelock};
use crate::observe::{AccountKind, Observed, OperationState};
use crate::plan::{OperationScope, Plan, RouteKind, SafeBatch, TimelockBatch};

/// One transaction to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The plan call it makes (1-based), or the first of a batch's.
    pub call: usize,
    /// Its phase (a timelock action counts as the phase of its last call).
    pub phase: Phase,
    /// Section key of the contract changed, or `timelock`.
    pub contract: String,
    /// What it calls, for people: `setFeePct(uint256)`, `scheduleBatch(3 calls)`.
    pub function: String,
    /// Where it goes.
    pub to: Address,
    /// Its data.
    pub data: Bytes,
    /// The timelock operation it schedules, executes or cancels.
    pub operation: Option<B256>,
    /// The plan calls (0-based) whose changes it makes once mined.
    pub makes: Vec<usize>,
    /// What it does with its arguments, for people and receipts:
    /// `setOrchestrator(orchestrator: 0x…, allowed: true)`, or a batch's
    /// calls, `scheduleBatch(2 calls): arena.pause(), stake_manager.setFeePct(fees_pct.fee: 4%)`.
    pub decoded: String,
    /// The arguments of a single plan call (empty for a batch).
    pub args: Vec<crate::plan::Argument>,
}

/// A call with its arguments, named by contract: `arena.pause()`.
fn named_call(plan: &Plan, i: usize) -> Option<String> {
    plan.calls.get(i).map(|c| format!("{}.{}", c.contract, crate::render::call_signature(c)))
}

/// `scheduleBatch(2 calls): a.f(x), b.g()`: a batch or a Safe transaction
/// with its calls.
fn batch_call(plan: &Plan, function: &str, calls: &[usize]) -> String {
    let inner: Vec<String> = calls.iter().filter_map(|i| named_call(plan, *i)).collect();
    format!("{function}: {}", inner.join(", "))
}

/// A role the signer needs on a timelock for a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleNeed {
    /// The TimelockController.
    pub timelock: Address,
    /// `PROPOSER_ROLE`, `EXECUTOR_ROLE` or `CANCELLER_ROLE`.
    pub role: &'static str,
    /// What for, e.g. `scheduling operation 0x…`.
    pub why: String,
    /// The plan calls (0-based) the step is for.
    pub calls: Vec<usize>,
}

/// A timelock batch that is scheduled and not yet ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The TimelockController.
    pub timelock: Address,
    /// The operation.
    pub operation: B256,
    /// When it is ready (seconds since the epoch).
    pub ready_at: u64,
}

/// Everything to do now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Steps {
    /// Groups of transactions: each group back to back, all mined before
    /// the next group.
    pub groups: Vec<Vec<Transaction>>,
    /// Timelock roles the signer needs.
    pub needs: Vec<RoleNeed>,
    /// Batches scheduled and waiting for their delay.
    pub waiting: Vec<Waiting>,
    /// Batches this run schedules: (timelock, operation, delay).
    pub scheduling: Vec<(Address, B256, u64)>,
    /// Stale operations left pending (no `cancel_stale`): scheduling beside
    /// them would leave two batches that both may execute.
    pub blocked_by: Vec<(Address, B256)>,
    /// Safe transactions among the groups: (group, position in it, the
    /// batch). Their data carries no signatures yet: see [`SafeStep`].
    pub safe: Vec<SafeStep>,
}

/// A Safe transaction to send: `execTransaction` whose signatures are
/// collected from the owners before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeStep {
    /// The group it is in.
    pub group: usize,
    /// Its position in the group.
    pub index: usize,
    /// What the owners sign.
    pub batch: SafeBatch,
}

impl Steps {
    /// Puts `signatures` into the Safe transaction of `step`.
    pub fn sign(&mut self, step: &SafeStep, signatures: alloy::primitives::Bytes) {
        if let Some(tx) = self.groups.get_mut(step.group).and_then(|g| g.get_mut(step.index)) {
            let b = &step.batch;
            tx.data = safe::exec_transaction(b.to, b.operation, &b.data, signatures).into();
        }
    }
}

/// The steps for `plan` on the chain as observed in `now`, leaving out the
/// calls already `made` (by an earlier run of the same plan). With
/// `cancel_stale`, stale pending operations are cancelled first, whether or
/// not the plan has calls of its own; without it, a stale operation only
/// stands in the way of scheduling a new batch on its timelock, never of
/// executing the plan's own.
pub fn steps(plan: &Plan, now: &Observed, cancel_stale: bool, made: &[usize]) -> Steps {
    let mut steps = Steps::default();
    let stale = stale_operations(plan, now);
    // Direct calls first (pauses before anything), then the cancellations,
    // then what goes through a Safe or a timelock.
    direct(plan, made, &mut steps);
    if cancel_stale {
        cancel(&stale, &mut steps);
    }
    for route in &plan.routes {
        if let RouteKind::Safe(batch) = &route.via
            && !route.calls.iter().all(|i| made.contains(i))
        {
            safe_steps(plan, batch, &route.calls, &mut steps);
        }
    }
    for route in &plan.routes {
        if let RouteKind::Timelock(batch) = &route.via {
            let done = route.calls.iter().all(|i| made.contains(i));
            timelock_steps(plan, batch, &route.calls, phase_of(plan, &route.calls), now, done, &mut steps);
        }
    }
    if !cancel_stale {
        let scheduling: Vec<Address> = steps.scheduling.iter().map(|(t, _, _)| *t).collect();
        steps.blocked_by.extend(stale.iter().filter(|(t, _)| scheduling.contains(t)).copied());
    }
    steps
}

/// Every pending operation on the chain now that is stale for the plan's
/// file: judged by what the file manages, like the plan's own list.
fn stale_operations(plan: &Plan, now: &Observed) -> Vec<(Address, B256)> {
    let ours: Vec<B256> = plan
        .routes
        .iter()
        .filter_map(|r| match &r.via {
            RouteKind::Timelock(batch) => Some(batch.operation),
            _ => None,
        })
        .collect();
    now.pending_operations()
        .into_iter()
        .filter(|(_, operation)| {
            crate::plan::judge(operation, &plan.desired, now, &ours).scope == OperationScope::Stale
        })
        .map(|(timelock, operation)| (timelock, operation.id))
        .collect()
}

/// One `cancel(id)` per stale operation, before any batch is scheduled
/// (CANCELLER_ROLE). It makes no call of the plan (`call` 0).
fn cancel(stale: &[(Address, B256)], steps: &mut Steps) {
    if stale.is_empty() {
        return;
    }
    let cancels = stale.iter().map(|(timelock, id)| Transaction {
        call: 0,
        phase: Phase::Revoke,
        contract: "timelock".to_string(),
        function: "cancel(bytes32)".to_string(),
        to: *timelock,
        data: timelock::cancel(*id).into(),
        operation: Some(*id),
        makes: Vec::new(),
        decoded: format!("cancel(id: {id})"),
        args: Vec::new(),
    });
    let mut timelocks: Vec<Address> = stale.iter().map(|(t, _)| *t).collect();
    timelocks.dedup();
    for timelock in timelocks {
        steps.needs.push(need(timelock, "CANCELLER_ROLE", "cancelling stale operations", &[]));
    }
    steps.groups.push(cancels.collect());
}

/// The latest phase among `calls`: a batch counts as that phase.
fn phase_of(plan: &Plan, calls: &[usize]) -> Phase {
    calls.iter().filter_map(|i| plan.calls.get(*i)).map(|c| c.phase).max().unwrap_or(Phase::Configure)
}

/// A Safe route: one `execTransaction` making all its calls, sent by anyone.
fn safe_steps(plan: &Plan, batch: &SafeBatch, calls: &[usize], steps: &mut Steps) {
    let phase = calls.iter().filter_map(|i| plan.calls.get(*i)).map(|c| c.phase).max().unwrap_or(Phase::Configure);
    let n = calls.len();
    let tx = Transaction {
        call: calls.first().map_or(1, |i| i + 1),
        phase,
        contract: "safe".to_string(),
        function: format!("execTransaction({n} call{})", plural(n)),
        to: batch.safe,
        data: safe::exec_transaction(batch.to, batch.operation, &batch.data, Default::default()).into(),
        operation: None,
        makes: calls.to_vec(),
        decoded: batch_call(plan, &format!("execTransaction({n} call{})", plural(n)), calls),
        args: Vec::new(),
    };
    steps.safe.push(SafeStep { group: steps.groups.len(), index: 0, batch: batch.clone() });
    steps.groups.push(vec![tx]);
}

/// Every direct route's calls not yet made, phase by phase across routes.
fn direct(plan: &Plan, made: &[usize], steps: &mut Steps) {
    let direct: Vec<usize> = plan
        .routes
        .iter()
        .filter(|r| r.via == RouteKind::Direct)
        .flat_map(|r| r.calls.iter().copied())
        .filter(|i| !made.contains(i))
        .collect();
    for phase in Phase::ALL {
        let group: Vec<Transaction> = direct
            .iter()
            .filter_map(|i| plan.calls.get(*i).map(|c| (*i, c)))
            .filter(|(_, c)| c.phase == phase)
            .map(|(i, c)| {
                let (to, data) = c.sent();
                Transaction {
                    call: i + 1,
                    phase,
                    contract: c.contract.clone(),
                    function: c.function.clone(),
                    to,
                    data: data.clone(),
                    operation: None,
                    makes: vec![i],
                    decoded: crate::render::call_signature(c),
                    args: c.args.clone(),
                }
            })
            .collect();
        if !group.is_empty() {
            steps.groups.push(group);
        }
    }
}

fn timelock_steps(
    plan: &Plan,
    batch: &TimelockBatch,
    calls: &[usize],
    phase: Phase,
    now: &Observed,
    done: bool,
    steps: &mut Steps,
) {
    let operations = match now.account(batch.timelock).map(|a| &a.kind) {
        Some(AccountKind::Timelock(state)) => state.operations.as_slice(),
        _ => &[],
    };
    let first = calls.first().map_or(1, |i| i + 1);
    let action = |function: String, data: Vec<u8>, operation: B256, makes: Vec<usize>| Transaction {
        call: first,
        phase,
        contract: "timelock".to_string(),
        to: batch.timelock,
        data: data.into(),
        operation: Some(operation),
        decoded: batch_call(plan, &function, calls),
        args: Vec::new(),
        function,
        makes,
    };
    let current = operations.iter().find(|o| o.id == batch.operation);
    let n = batch.targets.len();
    match current.map(|o| (o.state, o.ready_at)) {
        // Its calls' effects are on chain already: nothing to schedule.
        None | Some((OperationState::Unset, _)) if done => {}
        None | Some((OperationState::Unset, _)) => {
            let data =
                timelock::schedule_batch(&batch.targets, &batch.payloads, batch.predecessor, batch.salt, batch.delay);
            let function = format!("scheduleBatch({n} call{})", plural(n));
            let mut schedule = action(function, data, batch.operation, vec![]);
            if let Some(proposer) = &batch.proposer {
                // The Safe proposes: scheduling is the Safe's transaction.
                schedule.to = proposer.safe;
                schedule.function = format!("execTransaction({})", schedule.function);
                schedule.decoded = format!("execTransaction({}", schedule.decoded.replacen("): ", ")): ", 1));
                schedule.data =
                    safe::exec_transaction(proposer.to, proposer.operation, &proposer.data, Default::default()).into();
                steps.safe.push(SafeStep { group: steps.groups.len(), index: 0, batch: proposer.clone() });
            } else {
                let why = format!("scheduling operation {}", batch.operation);
                steps.needs.push(need(batch.timelock, "PROPOSER_ROLE", &why, calls));
            }
            steps.groups.push(vec![schedule]);
            steps.scheduling.push((batch.timelock, batch.operation, batch.delay));
        }
        Some((OperationState::Waiting, ready_at)) => {
            steps.waiting.push(Waiting { timelock: batch.timelock, operation: batch.operation, ready_at });
        }
        Some((OperationState::Ready, _)) => {
            let data = timelock::execute_batch(&batch.targets, &batch.payloads, batch.predecessor, batch.salt);
            let function = format!("executeBatch({n} call{})", plural(n));
            steps.groups.push(vec![action(function, data, batch.operation, calls.to_vec())]);
            let why = format!("executing operation {}", batch.operation);
            steps.needs.push(need(batch.timelock, "EXECUTOR_ROLE", &why, calls));
        }
        Some((OperationState::Done, _)) => {}
    }
}

fn need(timelock: Address, role: &'static str, why: &str, calls: &[usize]) -> RoleNeed {
    RoleNeed { timelock, role, why: why.to_string(), calls: calls.to_vec() }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
