//! Who may schedule on each TimelockController: the accounts its
//! `RoleGranted` logs name for `PROPOSER_ROLE`, confirmed with `hasRole` at
//! the pinned block, and what each one is (a Safe proposer makes scheduling
//! a Safe transaction). One round trip each, only when there is a timelock.

use alloy::eips::BlockId;
use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::sol_types::SolCall;

use super::authorities::{self, AccountKind, ObservedAccount};
use super::read::{self, Read};
use super::{BlockRef, ObserveError, ObserveOptions};
use crate::contracts::timelock::{TimelockController as T, role};

/// The (timelock, proposer) pairs among `candidates` that hold the role at
/// the pinned block.
pub async fn confirm(
    provider: &impl Provider,
    candidates: &[(Address, Address)],
    pinned: BlockRef,
    options: &ObserveOptions,
) -> Result<Vec<(Address, Address)>, ObserveError> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let proposer = role("PROPOSER_ROLE");
    let reads: Vec<Read> = candidates
        .iter()
        .map(|(timelock, account)| Read {
            to: *timelock,
            data: T::hasRoleCall { role: proposer, account: *account }.abi_encode(),
        })
        .collect();
    let answers = read::read_all(provider, &reads, BlockId::from(pinned.hash), false, options.max_batch).await?;
    let holds = |a: &read::ReadResult| {
        a.as_ref().ok().and_then(|d| T::hasRoleCall::abi_decode_returns(d).ok()).unwrap_or(false)
    };
    Ok(candidates.iter().zip(&answers).filter(|(_, a)| holds(a)).map(|(pair, _)| *pair).collect())
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
    let answers = read::read_all(provider, &reads, BlockId::from(pinned.hash), false, options.max_batch).await?;
    accounts.extend(authorities::identify(&new, &mut answers.into_iter()));
    Ok(())
}
