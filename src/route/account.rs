//! What an authority account is, for people: the signer, another account,
//! a TimelockController with its delay, a Safe with its threshold, or a
//! contract govstate does not recognise (as the observer found it).

use std::fmt;

use alloy::primitives::{Address, U256};

use crate::observe::{AccountKind, Observed};

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
                "apply schedules the batch from an account with the timelock's PROPOSER_ROLE, and executes it after the delay with EXECUTOR_ROLE"
            }
            Account::Safe { .. } => {
                "owners sign the saved plan with `govstate sign PLAN` (or import `plan --format safe-tx-builder` into Safe{Wallet}); then anyone applies it"
            }
            Account::Contract(_) => "only that contract can make the call",
        }
    }
}

impl Account {
    /// What `address` is, as observed; the signer is always itself.
    pub fn of(address: Address, signer: Address, observed: &Observed) -> Self {
        if address == signer {
            return Account::Signer(address);
        }
        match observed.account(address).map(|a| &a.kind) {
            Some(AccountKind::Eoa) => Account::Eoa(address),
            Some(AccountKind::Timelock(state)) => Account::Timelock { address, min_delay: U256::from(state.min_delay) },
            Some(AccountKind::Safe { threshold, .. }) => Account::Safe { address, threshold: *threshold },
            _ => Account::Contract(address),
        }
    }
}
