//! Before anything else, a plan must be what it says: its digest names its
//! content, and its calls are what the planner makes of its own recorded
//! desired and observed state (see [`crate::plan::rederive`]).

use super::ApplyError;
use crate::plan::{Plan, rederive};

/// Refuses `plan` unless its digest matches its content and re-deriving it
/// from its record gives the same calls, in the same order.
pub fn check(plan: &Plan) -> Result<(), ApplyError> {
    let computed = plan.content_digest();
    if computed != plan.digest {
        return Err(ApplyError::Digest { recorded: plan.digest, computed });
    }
    rederive(plan)?;
    Ok(())
}
