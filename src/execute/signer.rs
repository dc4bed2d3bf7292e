//! Where the signing key comes from, following Foundry's conventions: a
//! private key, a keystore, a mnemonic, a Ledger or Trezor, a key in AWS or
//! Google Cloud KMS, or an account unlocked at the endpoint (an external
//! signer such as Frame or Clef).
//!
//! A [`SignerSource`] says where the key is; [`SignerSource::resolve`] makes
//! a [`Signer`], which knows its address before anything is signed (so the
//! authority is checked before a device asks for a confirmation), gives the
//! wallet that signs transactions, and signs a Safe transaction whatever the
//! key's kind. The key, mnemonic or password is never printed, logged or
//! written: no error variant carries one.

use std::path::PathBuf;
use std::sync::Arc;

use alloy::consensus::SignableTransaction;
use alloy::network::{EthereumWallet, TxSigner};
use alloy::primitives::{Address, B256, Signature};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};

/// The signer's source. The key itself is never printed, logged or written.
#[derive(Clone)]
#[non_exhaustive]
pub enum SignerSource {
    /// A hex private key (`--private-key` / `GOVSTATE_PRIVATE_KEY`).
    PrivateKey(String),
    /// A keystore file (`--keystore` / `ETH_KEYSTORE`) and its password
    /// (`--password-file` / `ETH_PASSWORD`).
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// Its password.
        password: Option<String>,
    },
    /// A BIP-39 mnemonic (`--mnemonic FILE` or `MNEMONIC`), the account at
    /// `m/44'/60'/0'/0/{index}` or at `hd_path`.
    Mnemonic {
        /// The words.
        phrase: String,
        /// Where the account is.
        path: HdPath,
    },
    /// A Ledger's Ethereum app (`--ledger`).
    Ledger(HdPath),
    /// A Trezor (`--trezor`).
    Trezor(HdPath),
    /// An AWS KMS key (`--aws`, key id from `AWS_KMS_KEY_ID`; region,
    /// credentials and endpoint from the standard AWS configuration).
    Aws {
        /// The key id, ARN or alias.
        key_id: String,
    },
    /// A Google Cloud KMS key version (`--gcp`).
    Gcp(GcpKey),
    /// An account the endpoint holds unlocked (`--unlocked --from ADDR`):
    /// transactions go out as `eth_sendTransaction`, Safe signatures are
    /// asked with `eth_signTypedData_v4`.
    Unlocked(Address),
}

/// Where an account is derived on a mnemonic or a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HdPath {
    /// The account index (`--mnemonic-index`): `m/44'/60'/0'/0/{i}` for a
    /// mnemonic, Ledger Live's `m/44'/60'/{i}'/0/0`, Trezor Live's
    /// `m/44'/60'/0'/0/{i}`.
    Index(u32),
    /// An explicit derivation path (`--hd-path`).
    Path(String),
}

/// A Google Cloud KMS key version, from Foundry's variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpKey {
    /// `GCP_PROJECT_ID`.
    pub project: String,
    /// `GCP_LOCATION`.
    pub location: String,
    /// `GCP_KEY_RING`.
    pub key_ring: String,
    /// `GCP_KEY_NAME`.
    pub key_name: String,
    /// `GCP_KEY_VERSION`.
    pub version: u64,
    /// The KMS endpoint (`GOVSTATE_GCP_KMS_ENDPOINT`); default Google's.
    pub endpoint: String,
}

/// Google's Cloud KMS endpoint.
pub const GCP_KMS_ENDPOINT: &str = "https://cloudkms.googleapis.com";

impl std::fmt::Debug for SignerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PrivateKey(_) => f.write_str("PrivateKey(<redacted>)"),
            Self::Keystore { path, .. } => f.debug_struct("Keystore").field("path", path).finish_non_exhaustive(),
            Self::Mnemonic { path, .. } => f.debug_struct("Mnemonic").field("path", path).finish_non_exhaustive(),
            Self::Ledger(path) => f.debug_tuple("Ledger").field(path).finish(),
            Self::Trezor(path) => f.debug_tuple("Trezor").field(path).finish(),
            Self::Aws { key_id } => f.debug_struct("Aws").field("key_id", key_id).finish(),
            Self::Gcp(key) => f.debug_tuple("Gcp").field(key).finish(),
            Self::Unlocked(from) => f.debug_tuple("Unlocked").field(from).finish(),
        }
    }
}

/// Why no signer could be made, or why it did not sign. No variant carries
/// a key, a mnemonic or a password; each reads as one line that says what
/// to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// No signer option was given.
    #[error(
        "no signer: pass --private-key (or set GOVSTATE_PRIVATE_KEY), --keystore with --password-file, --mnemonic, --ledger, --trezor, --aws, --gcp or --unlocked --from ADDR"
    )]
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
    /// The mnemonic or its derivation path is not usable.
    #[error("the mnemonic cannot be used: {0}")]
    Mnemonic(String),
    /// A signer needs a variable that is not set.
    #[error("{flag} needs {variable}: set it in the environment")]
    MissingVariable {
        /// The flag.
        flag: &'static str,
        /// The variable.
        variable: &'static str,
    },
    /// This build has no support for the signer.
    #[error("this govstate was built without {flag}: rebuild with the cargo feature `{feature}`")]
    NotBuilt {
        /// The flag.
        flag: &'static str,
        /// The cargo feature.
        feature: &'static str,
    },
    /// The hardware wallet could not be reached.
    #[error("no {device} to sign with: connect it, unlock it and open its Ethereum app, then run again ({reason})")]
    Device {
        /// Ledger or Trezor.
        device: &'static str,
        /// What the device library said.
        reason: String,
    },
    /// The KMS key could not be used.
    #[error("the {service} key {key} cannot sign: {reason}")]
    Kms {
        /// AWS KMS or Google Cloud KMS.
        service: &'static str,
        /// The key.
        key: String,
        /// Why (denied, not secp256k1, unreachable…).
        reason: String,
    },
    /// The endpoint does not hold the account unlocked.
    #[error("the endpoint cannot sign as {from}: {reason}")]
    Unlocked {
        /// The account.
        from: Address,
        /// Why.
        reason: String,
    },
    /// The signer refused or failed to sign.
    #[error("the {kind} did not sign: {reason}")]
    Sign {
        /// The signer's kind.
        kind: &'static str,
        /// Why.
        reason: String,
    },
    /// The signature made is not the signer's.
    #[error("the {kind} returned a signature of {recovered}, not of {address}: nothing was signed")]
    WrongSignature {
        /// The signer's kind.
        kind: &'static str,
        /// Its address.
        address: Address,
        /// Who the signature recovers to.
        recovered: Address,
    },
}

/// One line: a library's multi-line message folded.
fn line(error: impl std::fmt::Display) -> String {
    error.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

impl SignerSource {
    /// The kind of signer, as a person names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PrivateKey(_) => "private key",
            Self::Keystore { .. } => "keystore",
            Self::Mnemonic { .. } => "mnemonic",
            Self::Ledger(_) => "Ledger",
            Self::Trezor(_) => "Trezor",
            Self::Aws { .. } => "AWS KMS key",
            Self::Gcp(_) => "Google Cloud KMS key",
            Self::Unlocked(_) => "unlocked account",
        }
    }

    /// Whether [`SignerSource::resolve`] needs the endpoint (an unlocked
    /// account).
    pub fn needs_endpoint(&self) -> bool {
        matches!(self, Self::Unlocked(_))
    }

    /// Makes the signer: reads the key, or reaches the device, the KMS or
    /// the endpoint (`endpoint`, needed for [`SignerSource::Unlocked`]) and
    /// learns the address. Nothing is signed and no device asks for a
    /// confirmation.
    pub async fn resolve(&self, endpoint: Option<&DynProvider>) -> Result<Signer, SignerError> {
        let kind = self.kind();
        match self {
            Self::PrivateKey(key) => {
                Ok(Signer::keyed(kind, key.trim().parse::<PrivateKeySigner>().map_err(|_| SignerError::BadKey)?))
            }
            Self::Keystore { path, password } => Ok(Signer::keyed(kind, keystore(path, password.as_deref())?)),
            Self::Mnemonic { phrase, path } => Ok(Signer::keyed(kind, mnemonic(phrase, path)?)),
            Self::Ledger(path) => devices::ledger(path).await,
            Self::Trezor(path) => devices::trezor(path).await,
            Self::Aws { key_id } => kms::aws(key_id).await,
            Self::Gcp(key) => kms::gcp(key).await,
            Self::Unlocked(from) => unlocked(*from, endpoint).await,
        }
    }
}

fn keystore(path: &PathBuf, password: Option<&str>) -> Result<PrivateKeySigner, SignerError> {
    let password = password.ok_or_else(|| SignerError::NoPassword(path.clone()))?;
    PrivateKeySigner::decrypt_keystore(path, password.trim_end_matches(['\r', '\n']))
        .map_err(|e| SignerError::Keystore { path: path.clone(), reason: line(e) })
}

/// The account of `phrase` at `path`. The library's errors name neither the
/// words nor the key.
fn mnemonic(phrase: &str, path: &HdPath) -> Result<PrivateKeySigner, SignerError> {
    let words = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
    let builder = MnemonicBuilder::<English>::default().phrase(words);
    let builder = match path {
        HdPath::Index(index) => builder.index(*index),
        HdPath::Path(path) => builder.derivation_path(path),
    }
    .map_err(|e| SignerError::Mnemonic(format!("bad derivation path: {}", line(e))))?;
    builder.build().map_err(|_| {
        SignerError::Mnemonic("not a valid English BIP-39 mnemonic (check the words and their number)".to_string())
    })
}

/// An account the endpoint holds: it must be in `eth_accounts`.
async fn unlocked(from: Address, endpoint: Option<&DynProvider>) -> Result<Signer, SignerError> {
    let refuse = |reason: String| SignerError::Unlocked { from, reason };
    let provider = endpoint.ok_or_else(|| refuse("no endpoint: pass --rpc-url or set ETH_RPC_URL".to_string()))?;
    let accounts = provider.get_accounts().await.map_err(|e| refuse(format!("eth_accounts failed: {}", line(e))))?;
    if !accounts.contains(&from) {
        return Err(refuse(format!(
            "it is not among the accounts the endpoint holds ({}); unlock it in the external signer",
            if accounts.is_empty() { "none".to_string() } else { accounts.len().to_string() + " others" }
        )));
    }
    Ok(Signer { kind: "unlocked account", address: from, how: How::Unlocked(provider.clone()) })
}

/// A signer whose address is known: it signs transactions (through
/// [`Signer::wallet`], or the endpoint for an unlocked account) and Safe
/// transactions ([`Signer::sign_safe_tx`]).
#[derive(Clone)]
pub struct Signer {
    kind: &'static str,
    address: Address,
    how: How,
}

#[derive(Clone)]
enum How {
    /// A key held here, on a device or in a KMS.
    Key { signer: Arc<dyn alloy::signers::Signer + Send + Sync>, wallet: EthereumWallet },
    /// An account the endpoint holds.
    Unlocked(DynProvider),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kind", &self.kind).field("address", &self.address).finish_non_exhaustive()
    }
}

/// One signer shared by the wallet and the Safe signing.
struct Shared<S>(Arc<S>);

#[async_trait::async_trait]
impl<S: TxSigner<Signature> + Send + Sync> TxSigner<Signature> for Shared<S> {
    fn address(&self) -> Address {
        TxSigner::address(&*self.0)
    }

    async fn sign_transaction(&self, tx: &mut dyn SignableTransaction<Signature>) -> alloy::signers::Result<Signature> {
        self.0.sign_transaction(tx).await
    }
}

impl Signer {
    /// A signer holding a key (here, on a device or in a KMS).
    pub fn keyed<S>(kind: &'static str, signer: S) -> Self
    where
        S: TxSigner<Signature> + alloy::signers::Signer + Send + Sync + 'static,
    {
        let address = alloy::signers::Signer::address(&signer);
        let shared = Arc::new(signer);
        let wallet = EthereumWallet::new(Shared(shared.clone()));
        Signer { kind, address, how: How::Key { signer: shared, wallet } }
    }

    /// The address it signs as.
    pub fn address(&self) -> Address {
        self.address
    }

    /// What it is: "Ledger", "AWS KMS key", …
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The wallet that signs transactions; `None` for an unlocked account,
    /// whose transactions the endpoint signs (`eth_sendTransaction`).
    pub fn wallet(&self) -> Option<EthereumWallet> {
        match &self.how {
            How::Key { wallet, .. } => Some(wallet.clone()),
            How::Unlocked(_) => None,
        }
    }

    /// Signs a Safe transaction: `typed_data` is its EIP-712 document
    /// (`eth_signTypedData_v4`'s form), `hash` the `SafeTx` hash it must
    /// give. Returns `r ‖ s ‖ v` as the Safe reads it: `v` 27/28 over the
    /// EIP-712 hash (a key, a KMS, a Ledger's EIP-712 signing, an unlocked
    /// account), or 31/32 for the `eth_sign` form of a device that cannot
    /// sign typed data (a Trezor). The signature is checked to recover to
    /// the signer before it is returned.
    pub async fn sign_safe_tx(&self, typed_data: &serde_json::Value, hash: B256) -> Result<[u8; 65], SignerError> {
        let failed = |reason: String| SignerError::Sign { kind: self.kind, reason };
        let typed: alloy::dyn_abi::TypedData =
            serde_json::from_value(typed_data.clone()).map_err(|e| failed(format!("bad typed data: {e}")))?;
        if typed.eip712_signing_hash().map_err(|e| failed(line(e)))? != hash {
            return Err(failed(format!("the typed data does not hash to SafeTx {hash}")));
        }
        let bytes = match &self.how {
            How::Key { signer, .. } => match signer.sign_dynamic_typed_data(&typed).await {
                Ok(signature) => signature.as_bytes(),
                Err(e) if devices::no_typed_data(&e) => {
                    let mut bytes = signer.sign_message(hash.as_slice()).await.map_err(|e| failed(line(e)))?.as_bytes();
                    bytes[64] += 4;
                    bytes
                }
                Err(e) => return Err(failed(line(e))),
            },
            How::Unlocked(provider) => {
                let answer: alloy::primitives::Bytes = provider
                    .raw_request("eth_signTypedData_v4".into(), (self.address, typed_data))
                    .await
                    .map_err(|e| failed(format!("eth_signTypedData_v4: {}", line(e))))?;
                let mut bytes: [u8; 65] = answer.as_ref().try_into().map_err(|_| {
                    failed(format!("eth_signTypedData_v4 returned {} bytes, expected 65", answer.len()))
                })?;
                if bytes[64] < 27 {
                    bytes[64] += 27;
                }
                bytes
            }
        };
        self.check(&bytes, hash)?;
        Ok(bytes)
    }

    /// Refuses a signature that does not recover to the signer as the Safe
    /// reads it (only 27/28 or 31/32 are made here).
    fn check(&self, bytes: &[u8; 65], hash: B256) -> Result<(), SignerError> {
        let failed = |reason: String| SignerError::Sign { kind: self.kind, reason };
        let mut raw = *bytes;
        let signed = match raw[64] {
            27 | 28 => hash,
            31 | 32 => {
                raw[64] -= 4;
                alloy::primitives::eip191_hash_message(hash)
            }
            v => return Err(failed(format!("the signature's v is {v}, not 27, 28, 31 or 32"))),
        };
        let signature = Signature::from_raw_array(&raw).map_err(|e| failed(line(e)))?;
        let recovered = signature.recover_address_from_prehash(&signed).map_err(|e| failed(line(e)))?;
        if recovered != self.address {
            return Err(SignerError::WrongSignature { kind: self.kind, address: self.address, recovered });
        }
        Ok(())
    }
}

/// Ledger and Trezor, through alloy's signer crates.
mod devices {
    #[cfg(any(feature = "ledger", feature = "trezor"))]
    use super::HdPath;
    use super::{Signer, SignerError};

    #[cfg(feature = "ledger")]
    pub(super) async fn ledger(path: &HdPath) -> Result<Signer, SignerError> {
        use alloy::signers::ledger::{HDPath, LedgerSigner};
        let derivation = match path {
            HdPath::Index(index) => HDPath::LedgerLive(*index as usize),
            HdPath::Path(path) => HDPath::Other(path.clone()),
        };
        ledger_present().map_err(|reason| SignerError::Device { device: "Ledger", reason })?;
        let device = LedgerSigner::new(derivation, None)
            .await
            .map_err(|e| SignerError::Device { device: "Ledger", reason: super::line(e) })?;
        Ok(Signer::keyed("Ledger", device))
    }

    /// Whether the signer cannot sign typed data (a Trezor; a Ledger whose
    /// Ethereum app is older than its EIP-712 support), so the `eth_sign`
    /// form is asked instead.
    pub(super) fn no_typed_data(error: &alloy::signers::Error) -> bool {
        match error {
            alloy::signers::Error::UnsupportedOperation(_) => true,
            #[cfg(feature = "ledger")]
            alloy::signers::Error::Other(inner) => matches!(
                inner.downcast_ref::<alloy::signers::ledger::LedgerError>(),
                Some(alloy::signers::ledger::LedgerError::UnsupportedAppVersion(_))
            ),
            _ => false,
        }
    }

    /// Looks for a Ledger (USB vendor 0x2c97) before the device library
    /// does: its transport panics where USB cannot be opened at all.
    #[cfg(feature = "ledger")]
    fn ledger_present() -> Result<(), String> {
        const LEDGER_VENDOR: u16 = 0x2c97;
        let api = hidapi_rusb::HidApi::new().map_err(|e| format!("USB could not be opened: {}", super::line(e)))?;
        if api.device_list().any(|d| d.vendor_id() == LEDGER_VENDOR) {
            Ok(())
        } else {
            Err("no Ledger is connected".to_string())
        }
    }

    #[cfg(not(feature = "ledger"))]
    pub(super) async fn ledger(_: &super::HdPath) -> Result<Signer, SignerError> {
        Err(SignerError::NotBuilt { flag: "--ledger", feature: "ledger" })
    }

    #[cfg(feature = "trezor")]
    pub(super) async fn trezor(path: &HdPath) -> Result<Signer, SignerError> {
        use alloy::signers::trezor::{HDPath, TrezorSigner};
        let derivation = match path {
            HdPath::Index(index) => HDPath::TrezorLive(*index as usize),
            HdPath::Path(path) => HDPath::Other(path.clone()),
        };
        trezor_present().map_err(|reason| SignerError::Device { device: "Trezor", reason })?;
        let device = TrezorSigner::new(derivation, None)
            .await
            .map_err(|e| SignerError::Device { device: "Trezor", reason: super::line(e) })?;
        Ok(Signer::keyed("Trezor", device))
    }

    /// Looks for a Trezor (One: vendor 0x534c; Model T and later: 0x1209,
    /// products 0x53c0/0x53c1) before trezor-client does: it panics where
    /// USB cannot be opened at all.
    #[cfg(feature = "trezor")]
    fn trezor_present() -> Result<(), String> {
        use rusb::UsbContext;
        let context = rusb::Context::new().map_err(|e| format!("USB could not be opened: {}", super::line(e)))?;
        let devices = context.devices().map_err(|e| format!("USB devices could not be listed: {}", super::line(e)))?;
        let trezor = devices
            .iter()
            .filter_map(|d| d.device_descriptor().ok())
            .any(|d| d.vendor_id() == 0x534c || (d.vendor_id() == 0x1209 && matches!(d.product_id(), 0x53c0 | 0x53c1)));
        if trezor { Ok(()) } else { Err("no Trezor is connected".to_string()) }
    }

    #[cfg(not(feature = "trezor"))]
    pub(super) async fn trezor(_: &super::HdPath) -> Result<Signer, SignerError> {
        Err(SignerError::NotBuilt { flag: "--trezor", feature: "trezor" })
    }
}

/// AWS and Google Cloud KMS, through alloy's signer crates.
mod kms {
    #[cfg(any(feature = "aws", feature = "gcp"))]
    use super::line;
    use super::{GcpKey, Signer, SignerError};

    #[cfg(feature = "aws")]
    pub(super) async fn aws(key_id: &str) -> Result<Signer, SignerError> {
        use alloy::signers::aws::{AwsSigner, aws_config, aws_sdk_kms};
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let client = aws_sdk_kms::Client::new(&config);
        let refuse = |reason: String| SignerError::Kms { service: "AWS KMS", key: key_id.to_string(), reason };
        let signer = AwsSigner::new(client, key_id.to_string(), None).await.map_err(|e| refuse(aws_reason(&e)))?;
        Ok(Signer::keyed("AWS KMS key", signer))
    }

    /// The service's own message (a denial, a missing key) rather than the
    /// SDK's "service error", and a plain word for a key of another curve.
    #[cfg(feature = "aws")]
    fn aws_reason(error: &alloy::signers::aws::AwsSignerError) -> String {
        use alloy::signers::aws::AwsSignerError as E;
        use alloy::signers::aws::aws_sdk_kms::error::DisplayErrorContext;
        match error {
            E::GetPublicKey(e) => line(DisplayErrorContext(e)),
            E::Sign(e) => line(DisplayErrorContext(e)),
            E::K256(_) | E::Spki(_) => {
                "it is not a secp256k1 key (create it with key spec ECC_SECG_P256K1)".to_string()
            }
            other => line(other),
        }
    }

    #[cfg(not(feature = "aws"))]
    pub(super) async fn aws(_: &str) -> Result<Signer, SignerError> {
        Err(SignerError::NotBuilt { flag: "--aws", feature: "aws" })
    }

    #[cfg(feature = "gcp")]
    pub(super) async fn gcp(key: &GcpKey) -> Result<Signer, SignerError> {
        use alloy::signers::gcp::gcloud_sdk::GoogleApi;
        use alloy::signers::gcp::gcloud_sdk::google::cloud::kms::v1::key_management_service_client::KeyManagementServiceClient;
        use alloy::signers::gcp::{GcpKeyRingRef, GcpSigner, KeySpecifier};
        let name = format!(
            "projects/{}/locations/{}/keyRings/{}/cryptoKeys/{}/cryptoKeyVersions/{}",
            key.project, key.location, key.key_ring, key.key_name, key.version
        );
        let refuse = |reason: String| SignerError::Kms { service: "Google Cloud KMS", key: name.clone(), reason };
        let client =
            GoogleApi::from_function(KeyManagementServiceClient::new, &key.endpoint, None).await.map_err(|e| {
                refuse(format!("could not reach {} with the default credentials: {}", key.endpoint, line(e)))
            })?;
        let ring = GcpKeyRingRef::new(&key.project, &key.location, &key.key_ring);
        let specifier = KeySpecifier::new(ring, &key.key_name, key.version);
        let signer = GcpSigner::new(client, specifier, None).await.map_err(|e| refuse(line(e)))?;
        Ok(Signer::keyed("Google Cloud KMS key", signer))
    }

    #[cfg(not(feature = "gcp"))]
    pub(super) async fn gcp(_: &GcpKey) -> Result<Signer, SignerError> {
        Err(SignerError::NotBuilt { flag: "--gcp", feature: "gcp" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::safe::{safe_tx_hash, safe_tx_typed_data};
    use alloy::primitives::Bytes;

    /// A key that, like a Trezor, signs messages but not hashes or typed data.
    struct MessagesOnly(PrivateKeySigner);

    #[async_trait::async_trait]
    impl alloy::signers::Signer for MessagesOnly {
        async fn sign_hash(&self, _: &B256) -> alloy::signers::Result<Signature> {
            Err(alloy::signers::Error::UnsupportedOperation(alloy::signers::UnsupportedSignerOperation::SignHash))
        }
        async fn sign_message(&self, message: &[u8]) -> alloy::signers::Result<Signature> {
            alloy::signers::Signer::sign_message(&self.0, message).await
        }
        fn address(&self) -> Address {
            self.0.address()
        }
        fn chain_id(&self) -> Option<u64> {
            None
        }
        fn set_chain_id(&mut self, _: Option<u64>) {}
    }

    #[async_trait::async_trait]
    impl TxSigner<Signature> for MessagesOnly {
        fn address(&self) -> Address {
            self.0.address()
        }
        async fn sign_transaction(
            &self,
            tx: &mut dyn SignableTransaction<Signature>,
        ) -> alloy::signers::Result<Signature> {
            self.0.sign_transaction(tx).await
        }
    }

    fn safe_tx() -> (serde_json::Value, B256) {
        let (safe, to, data) = (Address::repeat_byte(5), Address::repeat_byte(9), Bytes::from(vec![1, 2, 3]));
        (safe_tx_typed_data(31337, safe, to, 1, &data, 7), safe_tx_hash(31337, safe, to, 1, &data, 7))
    }

    #[tokio::test]
    async fn the_safe_tx_typed_data_hashes_to_the_safe_tx_hash_and_a_key_signs_it_with_v_27_or_28() {
        let (typed, hash) = safe_tx();
        let parsed: alloy::dyn_abi::TypedData = serde_json::from_value(typed.clone()).expect("typed data");
        assert_eq!(parsed.eip712_signing_hash().expect("hash"), hash);
        let key = crate::devnet::dev_signer(1).expect("dev account");
        let bytes = Signer::keyed("private key", key.clone()).sign_safe_tx(&typed, hash).await.expect("signed");
        assert!(matches!(bytes[64], 27 | 28), "v {}", bytes[64]);
        assert_eq!(
            Signature::from_raw_array(&bytes).expect("sig").recover_address_from_prehash(&hash).ok(),
            Some(key.address())
        );
    }

    #[tokio::test]
    async fn a_signer_without_typed_data_signs_the_eth_sign_form_with_v_plus_four() {
        let (typed, hash) = safe_tx();
        let key = crate::devnet::dev_signer(2).expect("dev account");
        let signer = Signer::keyed("Trezor", MessagesOnly(key.clone()));
        let bytes = signer.sign_safe_tx(&typed, hash).await.expect("signed");
        assert!(matches!(bytes[64], 31 | 32), "v {}", bytes[64]);
        let mut raw = bytes;
        raw[64] -= 4;
        let prefixed = alloy::primitives::eip191_hash_message(hash);
        let recovered = Signature::from_raw_array(&raw).expect("sig").recover_address_from_prehash(&prefixed).ok();
        assert_eq!(recovered, Some(key.address()));
    }

    #[tokio::test]
    async fn typed_data_that_is_not_the_safe_tx_is_not_signed() {
        let (typed, _) = safe_tx();
        let key = crate::devnet::dev_signer(1).expect("dev account");
        let error =
            Signer::keyed("private key", key).sign_safe_tx(&typed, B256::repeat_byte(1)).await.expect_err("refused");
        assert!(error.to_string().contains("does not hash to SafeTx"), "{error}");
    }
}
