//! Before a Safe transaction is sent: the Safe is as the plan saw it (same
//! nonce, owners and threshold: a moved nonce means the signed transaction
//! can no longer execute, so the plan is stale), and the owners' signatures
//! hold and reach the threshold. Then they go into `execTransaction`.

use alloy::primitives::Address;

use super::ApplyError;
use crate::observe::{AccountKind, Observed};
use crate::plan::{Plan, SafeBatch};
use crate::route::{self, SignatureFile, Steps};

/// Checks every Safe transaction of `steps` and puts its signatures in;
/// `sender` counts as a signature when it is an owner.
pub fn attach_signatures(
    plan: &Plan,
    steps: &mut Steps,
    now: &Observed,
    sender: Address,
    file: &SignatureFile,
) -> Result<(), ApplyError> {
    let mut sent_before: Vec<Address> = Vec::new();
    for step in steps.safe.clone() {
        let earlier = sent_before.iter().filter(|s| **s == step.batch.safe).count() as u64;
        sent_before.push(step.batch.safe);
        route::check_batch(plan, &step.batch)?;
        let (owners, threshold) = unchanged(&step.batch, now, earlier)?;
        let signatures = route::collect(file, &step.batch, &owners, threshold, sender)?;
        steps.sign(&step, signatures);
    }
    Ok(())
}

/// The Safe's owners and threshold now, refused as stale when they or its
/// nonce differ from the plan's (`earlier`: the Safe's transactions this
/// run sends before this one, each taking a nonce).
fn unchanged(batch: &SafeBatch, now: &Observed, earlier: u64) -> Result<(Vec<Address>, u64), ApplyError> {
    let Some(AccountKind::Safe { threshold, owners, nonce }) = now.account(batch.safe).map(|a| &a.kind) else {
        let changes = vec![format!("Safe {}: no longer answers as a Safe", batch.safe)];
        return Err(ApplyError::Stale { changes });
    };
    let threshold: u64 = threshold.saturating_to();
    let mut changes = Vec::new();
    let expected = nonce.saturating_add(earlier);
    if expected != batch.nonce {
        changes.push(format!(
            "Safe {}: nonce {} when the plan was made, {expected} now (another Safe transaction ran): plan again and sign anew",
            batch.safe, batch.nonce
        ));
    }
    if *owners != batch.owners || threshold != batch.threshold {
        changes.push(format!(
            "Safe {}: owners or threshold changed ({} of {} when the plan was made, {threshold} of {} now)",
            batch.safe,
            batch.threshold,
            batch.owners.len(),
            owners.len()
        ));
    }
    if changes.is_empty() { Ok((owners.clone(), threshold)) } else { Err(ApplyError::Stale { changes }) }
}
