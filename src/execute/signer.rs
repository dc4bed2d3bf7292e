//! Where the signing key comes from, following Foundry's conventions.

use std::path::PathBuf;

use alloy::signers::local::PrivateKeySigner;

/// The signer's source. The key itself is never printed, logged or written.
#[derive(Clone, Default)]
pub struct SignerSource {
    /// A hex private key (`--private-key` / `GOVSTATE_PRIVATE_KEY`).
    pub private_key: Option<String>,
    /// A keystore file (`--keystore` / `ETH_KEYSTORE`).
    pub keystore: Option<PathBuf>,
    /// The keystore's password (`--password-file` / `ETH_PASSWORD`).
    pub password: Option<String>,
}

impl std::fmt::Debug for SignerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerSource")
            .field("private_key", &self.private_key.as_ref().map(|_| "<redacted>"))
            .field("keystore", &self.keystore)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Why no signer could be made. No variant carries the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// Neither a key nor a keystore was given.
    #[error("no signer: pass --private-key (or set GOVSTATE_PRIVATE_KEY), or --keystore with --password-file")]
    Missing,
    /// The private key is not a 32-byte hex key.
    #[error("the private key is not a 32-byte hex key")]
    BadKey,
    /// A keystore was given without a password.
    #[error("the keystore {0} needs a password: pass --password-file or set ETH_PASSWORD")]
    NoPassword(PathBuf),
    /// The keystore could not be decrypted.
    #[error("could not decrypt the keystore {path}: {reason}")]
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// What went wrong (never the password).
        reason: String,
    },
}

impl SignerSource {
    /// Makes the signer.
    pub fn signer(&self) -> Result<PrivateKeySigner, SignerError> {
        if let Some(key) = &self.private_key {
            return key.trim().parse().map_err(|_| SignerError::BadKey);
        }
        let path = self.keystore.clone().ok_or(SignerError::Missing)?;
        let password = self.password.clone().ok_or_else(|| SignerError::NoPassword(path.clone()))?;
        PrivateKeySigner::decrypt_keystore(&path, password.trim_end_matches(['\r', '\n']))
            .map_err(|e| SignerError::Keystore { path, reason: e.to_string() })
    }
}
