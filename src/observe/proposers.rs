//! Who may schedule on each TimelockController: the accounts its
//! `RoleGranted` logs name for `PROPOSER_ROLE`, confirmed with `hasRole` at
//! the pinned block (riding along with the operations' states), and what
//! each one is (a Safe proposer makes scheduling a Safe transaction): one
//! more round trip, only when a proposer is not already a known authority.

use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::sol_types::SolCall;

use super::authorities::{self, AccountKind, ObservedAccount};
use super::read::{self, Read};
use super::{BlockRef, ObserveError, ObserveOptions};
use crate::contracts::timelock::{TimelockController as T, role};

/// `hasRole(PROPOSER_ROLE, candidate)` on each candidate's timelock.
pub fn reads(candidates: &[(Address, Address)]) -> Vec<Read> {
    let proposer = role("PROPOSER_ROLE");
    candidates
        .iter()
        .map(|(timelock, account)| Read {
            to: *timelock,
            data: T::hasRoleCall { role: proposer, account: *account }.abi_encode(),
        })
        .collect()
}

/// The (timelock, proposer) pairs among `candidates` whose answer to
/// [`reads`] (taken from `answers`, in order) says they hold the role.
pub fn confirmed(
    candidates: &[(Address, Address)],
    answers: &mut impl Iterator<Item = read::ReadResult>,
) -> Vec<(Address, Address)> {
    let mut out = Vec::new();
    for pair in candidates {
        let holds = answers.next().and_then(Result::ok).and_then(|d| T::hasRoleCall::abi_decode_returns(&d).ok());
        if holds == Some(true) {
            out.push(*pair);
        }
    }
    out
}

/// Recognises the timelocks' proposers not yet among `accounts` (a Safe
/// with its owners, threshold and nonce) and adds them.
pub async fn identify(
    provider: &impl Provider,
    accounts: &mut Vec<ObservedAccount>,
    pinned: BlockRef,
    options: &ObserveOptions,
) -> Result<(), ObserveError> {
    let mut new: Vec<Address> = Vec::new();
    for account in accounts.iter() {
        if let AccountKind::Timelock(state) = &account.kind {
            new.extend(state.proposers.iter().filter(|p| !accounts.iter().any(|a| a.address == **p)));
        }
    }
    new.sort();
    new.dedup();
    if new.is_empty() {
        return Ok(());
    }
    let reads = authorities::identify_reads(&new);
    let answers = read::read_all(provider, &reads, pinned, false, options.max_batch).await?;
    accounts.extend(authorities::identify(&new, &mut answers.into_iter()).0);
    Ok(())
}
