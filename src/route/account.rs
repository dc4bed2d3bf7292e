//! What an authority account is, recognised by how it answers: code or
//! none, a TimelockController's `getMinDelay()`, a Safe's `getThreshold()`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::TransactionRequest;
use alloy::sol;
use alloy::sol_types::SolCall;

use super::{RouteError, rpc};
use crate::contracts::timelock::TimelockController;

sol! {
    /// The part of a Safe that tells one apart.
    interface ISafe {
        function getThreshold() external view returns (uint256);
    }
}

/// What an authority account is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Account {
    /// The account govstate signs with.
    Signer(Address),
    /// An account without code, not the signer.
    Eoa(Address),
    /// An OpenZeppelin TimelockController.
    Timelock {
        /// Its address.
        address: Address,
        /// `getMinDelay()`, in seconds.
        min_delay: U256,
    },
    /// A Safe multisig.
    Safe {
        /// Its address.
        address: Address,
        /// `getThreshold()`.
        threshold: U256,
    },
    /// A contract govstate does not recognise.
    Contract(Address),
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::Signer(a) => write!(f, "{a} (the signer)"),
            Account::Eoa(a) => write!(f, "{a} (an account that is not the signer)"),
            Account::Timelock { address, min_delay } => {
                write!(f, "TimelockController {address} (min delay {min_delay} s)")
            }
            Account::Safe { address, threshold } => write!(f, "Safe {address} (threshold {threshold})"),
            Account::Contract(a) => write!(f, "{a} (a contract govstate does not recognise)"),
        }
    }
}

impl Account {
    /// What the operator can do about a call only this account may send.
    pub fn advice(&self) -> &'static str {
        match self {
            Account::Signer(_) => "apply sends it",
            Account::Eoa(_) => "apply with that account's key",
            Account::Timelock { .. } => {
                "govstate cannot schedule through a TimelockController yet: schedule the forwarded call (the `via` calldata in `plan --format json`) with scheduleBatch from a proposer, or apply the other calls on their own"
            }
            Account::Safe { .. } => {
                "govstate cannot propose to a Safe yet: propose the forwarded call (the `via` calldata in `plan --format json`) to the Safe's owners"
            }
            Account::Contract(_) => "only that contract can make the call",
        }
    }
}

/// Identifies each of `accounts` in one batch.
pub async fn identify(
    provider: &impl Provider,
    accounts: &[Address],
    signer: Address,
) -> Result<BTreeMap<Address, Account>, RouteError> {
    let unique: BTreeSet<Address> = accounts.iter().copied().filter(|a| *a != signer).collect();
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::with_capacity(unique.len());
    let call = |to: Address, data: Vec<u8>| (TransactionRequest::default().to(to).input(Bytes::from(data).into()),);
    for address in &unique {
        let code = batch
            .add_call::<_, Bytes>("eth_getCode", &(*address, BlockId::latest()))
            .map_err(rpc("preparing a code read"))?;
        let delay = batch
            .add_call::<_, Bytes>("eth_call", &call(*address, TimelockController::getMinDelayCall {}.abi_encode()))
            .map_err(rpc("preparing a timelock probe"))?;
        let threshold = batch
            .add_call::<_, Bytes>("eth_call", &call(*address, ISafe::getThresholdCall {}.abi_encode()))
            .map_err(rpc("preparing a Safe probe"))?;
        waiters.push((*address, code, delay, threshold));
    }
    let mut found = BTreeMap::new();
    found.insert(signer, Account::Signer(signer));
    if waiters.is_empty() {
        return Ok(found);
    }
    batch.send().await.map_err(rpc("identifying the authorities"))?;
    for (address, code, delay, threshold) in waiters {
        let code = code.await.map_err(rpc(format!("reading the code at {address}")))?;
        let delay = delay.await.ok().and_then(|d| TimelockController::getMinDelayCall::abi_decode_returns(&d).ok());
        let threshold = threshold.await.ok().and_then(|t| ISafe::getThresholdCall::abi_decode_returns(&t).ok());
        let account = match (code.is_empty(), delay, threshold) {
            (true, _, _) => Account::Eoa(address),
            (false, Some(min_delay), _) => Account::Timelock { address, min_delay },
            (false, None, Some(threshold)) => Account::Safe { address, threshold },
            (false, None, None) => Account::Contract(address),
        };
        found.insert(address, account);
    }
    Ok(found)
}
