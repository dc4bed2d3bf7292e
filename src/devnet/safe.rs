//! A real Safe v1.4.1 on the devnet, from the package's own artifacts: the
//! `SafeL2` singleton, the `SafeProxyFactory`, `MultiSendCallOnly` at its
//! canonical address, and a proxy owned by the first development accounts.

use std::fmt;
use std::str::FromStr;

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;

use super::DevnetError;
use super::accounts::{DEV_ACCOUNT_COUNT, dev_signer};
use super::topology::{call, create};
use crate::contracts::safe::{self, MultiSendCallOnly, SafeL2, SafeProxyFactory};

/// `--safe 2-of-3`: a Safe owned by the first `owners` development accounts
/// that needs `threshold` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafeSetup {
    /// Signatures needed.
    pub threshold: u64,
    /// Owners: development accounts `0..owners`.
    pub owners: usize,
}

impl fmt::Display for SafeSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-of-{}", self.threshold, self.owners)
    }
}

impl FromStr for SafeSetup {
    type Err = String;

    /// `T-of-N`, with 1 ≤ T ≤ N ≤ the development accounts known.
    fn from_str(text: &str) -> Result<Self, String> {
        let expected = || format!("{text:?} is not a Safe shape; expected T-of-N, e.g. 2-of-3");
        let (threshold, owners) = text.split_once("-of-").ok_or_else(expected)?;
        let threshold: u64 = threshold.trim().parse().map_err(|_| expected())?;
        let owners: usize = owners.trim().parse().map_err(|_| expected())?;
        if owners == 0 || owners > DEV_ACCOUNT_COUNT {
            return Err(format!(
                "a devnet Safe has 1 to {DEV_ACCOUNT_COUNT} owners (the development accounts); got {owners}"
            ));
        }
        if threshold == 0 || threshold > owners as u64 {
            return Err(format!("the threshold must be 1 to {owners}; got {threshold}"));
        }
        Ok(SafeSetup { threshold, owners })
    }
}

impl SafeSetup {
    /// The owners' addresses, in account order.
    pub fn owner_addresses(&self) -> Vec<Address> {
        (0..self.owners).filter_map(dev_signer).map(|s| s.address()).collect()
    }
}

/// Deploys the Safe contracts and a Safe shaped as `setup`; returns its address.
pub async fn deploy(provider: &impl Provider, evm: super::Evm, setup: SafeSetup) -> Result<Address, DevnetError> {
    let (singleton, _) = create(provider, evm, "SafeL2", SafeL2::BYTECODE.to_vec()).await?;
    let (factory, _) = create(provider, evm, "SafeProxyFactory", SafeProxyFactory::BYTECODE.to_vec()).await?;
    let code = Bytes::from(MultiSendCallOnly::DEPLOYED_BYTECODE.to_vec());
    provider.raw_request::<_, ()>("anvil_setCode".into(), (safe::MULTI_SEND_CALL_ONLY, code)).await?;
    let initializer = safe::setup(&setup.owner_addresses(), setup.threshold);
    let create_proxy = SafeProxyFactory::createProxyWithNonceCall {
        _singleton: singleton,
        initializer: initializer.into(),
        saltNonce: U256::ZERO,
    };
    let data = create_proxy.abi_encode();
    let tx = TransactionRequest::default().to(factory).input(Bytes::from(data.clone()).into());
    let failed = |reason: String| DevnetError::Deploy { contract: "Safe proxy", reason };
    let answer = provider.call(tx).await?;
    let proxy = SafeProxyFactory::createProxyWithNonceCall::abi_decode_returns(&answer)
        .map_err(|e| failed(format!("createProxyWithNonce answered {answer}: {e}")))?;
    call(provider, factory, data, "createProxyWithNonce").await?;
    Ok(proxy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_shapes_parse_and_bad_ones_say_what_was_expected() {
        assert_eq!("2-of-3".parse(), Ok(SafeSetup { threshold: 2, owners: 3 }));
        assert!("3-of-2".parse::<SafeSetup>().unwrap_err().contains("threshold"));
        assert!("two".parse::<SafeSetup>().unwrap_err().contains("expected T-of-N"));
        assert!("1-of-9".parse::<SafeSetup>().unwrap_err().contains("owners"));
    }
}
