//! Signer options, shared by every command that signs (`apply`, `sign`),
//! with Foundry's names: one signer option at a time; a flag given on the
//! command line wins over any environment variable.

use std::path::PathBuf;

use alloy::primitives::Address;
use anyhow::{Context, bail};
use clap::Args;
use govstate::execute::{GCP_KMS_ENDPOINT, GcpKey, HdPath, SignerSource};

/// Signer options, as Foundry has them. Without any, `GOVSTATE_PRIVATE_KEY`
/// or `ETH_KEYSTORE` is read.
#[derive(Args)]
pub struct SignerArgs {
    /// Private key (hex). Never printed, logged or written. Default:
    /// `GOVSTATE_PRIVATE_KEY`.
    #[arg(long, value_name = "KEY", group = "signer_kind")]
    private_key: Option<String>,
    /// Keystore file. Default: `ETH_KEYSTORE`.
    #[arg(long, value_name = "PATH", group = "signer_kind")]
    keystore: Option<PathBuf>,
    /// File holding the keystore password (else `ETH_PASSWORD`).
    #[arg(long, value_name = "PATH")]
    password_file: Option<PathBuf>,
    /// A BIP-39 mnemonic: the file holding its words, or, given without a
    /// file, the `MNEMONIC` variable. Never the words themselves: a command
    /// line is kept in shell history and shown to other users.
    #[arg(long, value_name = "FILE", num_args = 0..=1, group = "signer_kind")]
    mnemonic: Option<Option<PathBuf>>,
    /// The account index on the mnemonic (`m/44'/60'/0'/0/N`), the Ledger
    /// (Ledger Live's `m/44'/60'/N'/0/0`) or the Trezor. Default: 0.
    #[arg(long, value_name = "N", conflicts_with = "hd_path")]
    mnemonic_index: Option<u32>,
    /// An explicit derivation path for the mnemonic, Ledger or Trezor, e.g.
    /// `m/44'/60'/0'/0/3`.
    #[arg(long, value_name = "PATH")]
    hd_path: Option<String>,
    /// Sign with a Ledger (its Ethereum app open).
    #[arg(long, group = "signer_kind")]
    ledger: bool,
    /// Sign with a Trezor.
    #[arg(long, group = "signer_kind")]
    trezor: bool,
    /// Sign with an AWS KMS key: its id from `AWS_KMS_KEY_ID`; region,
    /// credentials and endpoint (`AWS_ENDPOINT_URL`) from the standard AWS
    /// configuration.
    #[arg(long, group = "signer_kind")]
    aws: bool,
    /// Sign with a Google Cloud KMS key: `GCP_PROJECT_ID`, `GCP_LOCATION`,
    /// `GCP_KEY_RING`, `GCP_KEY_NAME`, `GCP_KEY_VERSION`; credentials from
    /// the default sources (`GOOGLE_APPLICATION_CREDENTIALS`, …).
    #[arg(long, group = "signer_kind")]
    gcp: bool,
    /// Let the endpoint sign as `--from` (an external signer such as Frame
    /// or Clef, or a node's unlocked account): `eth_sendTransaction`, and
    /// `eth_signTypedData_v4` for Safe signatures.
    #[arg(long, group = "signer_kind", requires = "from")]
    unlocked: bool,
    /// The account the endpoint signs as, with `--unlocked`.
    #[arg(long, value_name = "ADDR", requires = "unlocked")]
    from: Option<Address>,
}

impl std::fmt::Debug for SignerArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerArgs").field("keystore", &self.keystore).finish_non_exhaustive()
    }
}

/// A variable's value, if set and not blank.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl SignerArgs {
    /// Where the key is, from the flags, else the environment.
    pub fn source(&self) -> anyhow::Result<SignerSource> {
        let derived = self.mnemonic.is_some() || self.ledger || self.trezor;
        if !derived && (self.hd_path.is_some() || self.mnemonic_index.is_some()) {
            bail!("--hd-path and --mnemonic-index choose an account of --mnemonic, --ledger or --trezor; pass one");
        }
        let path = match &self.hd_path {
            Some(path) => HdPath::Path(path.clone()),
            None => HdPath::Index(self.mnemonic_index.unwrap_or(0)),
        };
        if let Some(file) = &self.mnemonic {
            return Ok(SignerSource::Mnemonic { phrase: mnemonic_words(file.as_deref())?, path });
        }
        if self.ledger {
            return Ok(SignerSource::Ledger(path));
        }
        if self.trezor {
            return Ok(SignerSource::Trezor(path));
        }
        if self.aws {
            let key_id = env("AWS_KMS_KEY_ID").context("--aws needs AWS_KMS_KEY_ID: set it to the key's id or ARN")?;
            return Ok(SignerSource::Aws { key_id });
        }
        if self.gcp {
            return Ok(SignerSource::Gcp(gcp_key()?));
        }
        if let Some(from) = self.from.filter(|_| self.unlocked) {
            return Ok(SignerSource::Unlocked(from));
        }
        self.key_or_keystore()
    }

    /// `--private-key`, `--keystore`, else their variables.
    fn key_or_keystore(&self) -> anyhow::Result<SignerSource> {
        let (private_key, keystore) = match (&self.private_key, &self.keystore) {
            (None, None) => match (env("GOVSTATE_PRIVATE_KEY"), env("ETH_KEYSTORE")) {
                (Some(_), Some(_)) => {
                    bail!(
                        "both GOVSTATE_PRIVATE_KEY and ETH_KEYSTORE are set: pass --private-key or --keystore to choose"
                    )
                }
                (key, keystore) => (key, keystore.map(PathBuf::from)),
            },
            (key, keystore) => (key.clone(), keystore.clone()),
        };
        if let Some(key) = private_key {
            return Ok(SignerSource::PrivateKey(key));
        }
        let Some(path) = keystore else {
            return Err(govstate::execute::SignerError::Missing.into());
        };
        let password = match &self.password_file {
            Some(file) => {
                Some(std::fs::read_to_string(file).with_context(|| format!("could not read {}", file.display()))?)
            }
            None => std::env::var("ETH_PASSWORD").ok(),
        };
        Ok(SignerSource::Keystore { path, password })
    }
}

/// The words, from the file `--mnemonic` names, or `MNEMONIC` when it names
/// none. The value given is never repeated in an error: it may be the words.
fn mnemonic_words(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    let Some(file) = file else {
        return env("MNEMONIC").context("--mnemonic without a file reads MNEMONIC, which is not set");
    };
    match std::fs::read_to_string(file) {
        Ok(words) => Ok(words),
        Err(_) if file.to_string_lossy().contains(char::is_whitespace) && !file.exists() => bail!(
            "--mnemonic takes a file holding the words, not the words: put them in a file (or MNEMONIC) and pass its path"
        ),
        Err(e) => bail!("could not read the file given to --mnemonic: {e}"),
    }
}

/// Foundry's GCP variables, each required.
fn gcp_key() -> anyhow::Result<GcpKey> {
    let need = |name: &'static str| env(name).with_context(|| format!("--gcp needs {name}: set it in the environment"));
    let version = need("GCP_KEY_VERSION")?;
    Ok(GcpKey {
        project: need("GCP_PROJECT_ID")?,
        location: need("GCP_LOCATION")?,
        key_ring: need("GCP_KEY_RING")?,
        key_name: need("GCP_KEY_NAME")?,
        version: version.trim().parse().with_context(|| format!("GCP_KEY_VERSION is {version:?}, not a number"))?,
        endpoint: env("GOVSTATE_GCP_KMS_ENDPOINT").unwrap_or_else(|| GCP_KMS_ENDPOINT.to_string()),
    })
}
