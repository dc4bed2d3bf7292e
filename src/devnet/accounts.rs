//! anvil's well-known development accounts.
//!
//! These keys come from the public test mnemonic
//! (`test test test test test test test test test test test junk`) that anvil
//! funds on every fresh chain. They guard nothing and are used only on a
//! local devnet; govstate still never prints them.

use alloy::signers::local::PrivateKeySigner;

const DEV_KEYS: [&str; 4] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

/// How many development accounts [`dev_signer`] knows.
pub const DEV_ACCOUNT_COUNT: usize = DEV_KEYS.len();

/// The signer of anvil's development account `index` (0 is the deployer), or
/// `None` past [`DEV_ACCOUNT_COUNT`].
pub fn dev_signer(index: usize) -> Option<PrivateKeySigner> {
    DEV_KEYS.get(index).and_then(|key| key.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_accounts_are_anvils_first_accounts() {
        let first = dev_signer(0).map(|s| s.address().to_string());
        assert_eq!(first.as_deref(), Some("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
        let second = dev_signer(1).map(|s| s.address().to_string());
        assert_eq!(second.as_deref(), Some("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"));
        assert!(dev_signer(DEV_ACCOUNT_COUNT).is_none());
    }
}
