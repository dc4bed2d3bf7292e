//! The top level of the desired-state file: format version, chain, the
//! deployment it governs (`contracts:`) and one optional section per contract.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::address::ChecksummedAddress;
use super::desired::Managed;
use super::diagnostic::Diagnostic;
use super::read::{Read, Reader};
use super::yaml::Node;
use crate::contracts::arena::desired::ArenaDesired;
use crate::contracts::stake_manager::desired::StakeManagerDesired;
use crate::contracts::system_pause::desired::SystemPauseDesired;

/// The desired-state file as written, before its invariants are checked.
///
/// Build one (e.g. from observed values) and promote it with
/// [`Spec::from_state`](super::Spec::from_state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "govstate desired-state file",
    description = "The governance settings govstate keeps on chain. Only the keys written are managed; a role list is the exact set of holders."
)]
pub struct DesiredState {
    /// Format version of this file; must be 1.
    pub version: FormatVersion,
    /// Chain id of the network the contracts live on.
    pub chain_id: u64,
    /// Name of the environment variable holding the RPC URL for this file
    /// (default: `--rpc-url`, else `ETH_RPC_URL`). Never the URL itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub rpc_url_env: Option<String>,
    /// The deployment this file governs.
    #[serde(default)]
    pub contracts: Contracts,
    /// Desired state of the SystemPause switch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_pause: Option<SystemPauseDesired>,
    /// Desired governance settings of the SelfPlayArena.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arena: Option<ArenaDesired>,
    /// Desired governance settings of the StakeManager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake_manager: Option<StakeManagerDesired>,
}

/// The contract addresses of the deployment; a section needs its contract here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contracts {
    /// The SelfPlayArena.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arena: Option<ContractRef>,
    /// The StakeManager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stake_manager: Option<ContractRef>,
    /// The SystemPause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_pause: Option<ContractRef>,
}

/// A deployed contract: its address, and where log scans for its role
/// holders start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractRef {
    /// The contract's address.
    pub address: ChecksummedAddress,
    /// Block the contract was deployed at: where log scans for role holders start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_block: Option<u64>,
}

/// The file format version; only `1` exists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FormatVersion {
    /// `version: 1`.
    #[default]
    V1,
}

impl Serialize for FormatVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(1)
    }
}

struct VersionVisitor;

impl Visitor<'_> for VersionVisitor {
    type Value = FormatVersion;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`1`, the only format version")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<FormatVersion, E> {
        match v {
            1 => Ok(FormatVersion::V1),
            other => Err(E::custom(format!("unsupported version {other}; this govstate reads `version: 1` files"))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<FormatVersion, E> {
        Err(E::custom(format!("unsupported version {v}; this govstate reads `version: 1` files")))
    }
}

impl<'de> Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(VersionVisitor)
    }
}

impl JsonSchema for FormatVersion {
    fn schema_name() -> Cow<'static, str> {
        "FormatVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "description": "Format version; must be 1.", "type": "integer", "const": 1 })
    }
}

/// One section of the file (`arena:`), as the contract kind it manages.
pub trait Section {
    /// Checks the invariants the contract enforces, one diagnostic per problem.
    fn check(&self, out: &mut Vec<Diagnostic>);
    /// The keys the section writes, in the contract table's terms.
    fn managed(&self) -> Managed;
}

/// A section key, the section if written, and its contract's address and
/// deployment block if given.
pub type SectionEntry<'a> = (&'static str, Option<&'a dyn Section>, Option<(ChecksummedAddress, Option<u64>)>);

impl DesiredState {
    /// Every section with its contract reference, in `KINDS` order: the one
    /// list of the file's sections.
    pub fn sections(&self) -> [SectionEntry<'_>; 3] {
        let refs = &self.contracts;
        [
            (
                "system_pause",
                self.system_pause.as_ref().map(|s| s as &dyn Section),
                refs.system_pause.as_ref().map(|r| (r.address, r.deployed_block)),
            ),
            (
                "arena",
                self.arena.as_ref().map(|s| s as &dyn Section),
                refs.arena.as_ref().map(|r| (r.address, r.deployed_block)),
            ),
            (
                "stake_manager",
                self.stake_manager.as_ref().map(|s| s as &dyn Section),
                refs.stake_manager.as_ref().map(|r| (r.address, r.deployed_block)),
            ),
        ]
    }

    /// Checks every invariant the contracts enforce, plus the file's own rules
    /// (every section has its contract). Returns all problems, without positions.
    pub fn check(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        self.check_top_level(&mut out);
        self.contracts.check(&mut out);
        self.check_sections_have_contracts(&mut out);
        for (_, section, _) in self.sections() {
            if let Some(section) = section {
                section.check(&mut out);
            }
        }
        out
    }

    fn check_top_level(&self, out: &mut Vec<Diagnostic>) {
        if self.chain_id == 0 {
            out.push(Diagnostic::new("chain_id", "0 is not a chain id; expected e.g. 1 (mainnet) or 31337 (anvil)"));
        }
        if let Some(name) = self.rpc_url_env.as_deref().filter(|n| !is_env_var_name(n)) {
            let message = format!(
                "`{name}` is not an environment variable name; expected e.g. `MAINNET_RPC_URL` (the URL itself never goes in the file)"
            );
            out.push(Diagnostic::new("rpc_url_env", message));
        }
    }

    fn check_sections_have_contracts(&self, out: &mut Vec<Diagnostic>) {
        for (name, section, contract) in self.sections() {
            if section.is_some() && contract.is_none() {
                let message = format!(
                    "the `{name}` section needs the contract's address; add `contracts: {{ {name}: {{ address: \"0x…\" }} }}`"
                );
                out.push(Diagnostic::new(name, message));
            }
        }
    }
}

fn is_env_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Contracts {
    /// Stands in for a `contracts:` mapping that could not be read, so that no
    /// section is also reported as lacking its contract.
    fn placeholder() -> Self {
        Self {
            arena: Some(ContractRef::default()),
            stake_manager: Some(ContractRef::default()),
            system_pause: Some(ContractRef::default()),
        }
    }

    /// The written contract addresses, with their key paths.
    fn addresses(&self) -> Vec<(&'static str, ChecksummedAddress)> {
        let arena = self.arena.as_ref().map(|c| ("contracts.arena.address", c.address));
        let stake = self.stake_manager.as_ref().map(|c| ("contracts.stake_manager.address", c.address));
        let pause = self.system_pause.as_ref().map(|c| ("contracts.system_pause.address", c.address));
        [arena, stake, pause].into_iter().flatten().collect()
    }

    /// No zero address, and no address used for two contracts.
    fn check(&self, out: &mut Vec<Diagnostic>) {
        let mut seen: HashMap<ChecksummedAddress, &str> = HashMap::new();
        for (path, address) in self.addresses() {
            if address.is_zero() {
                out.push(Diagnostic::new(path, "a contract cannot live at the zero address"));
            } else if let Some(first) = seen.get(&address) {
                let message = format!("{address} is already given as {first}; each contract has its own address");
                out.push(Diagnostic::new(path, message));
            } else {
                seen.insert(address, path);
            }
        }
    }
}

impl Read for DesiredState {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self {
            version: f.required("version"),
            chain_id: f.required("chain_id"),
            rpc_url_env: f.optional("rpc_url_env"),
            contracts: f.present_or("contracts", Contracts::placeholder).unwrap_or_default(),
            system_pause: f.optional("system_pause"),
            arena: f.optional("arena"),
            stake_manager: f.optional("stake_manager"),
        })
    }
}

impl Read for Contracts {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self {
            arena: f.present("arena"),
            stake_manager: f.present("stake_manager"),
            system_pause: f.present("system_pause"),
        })
    }
}

impl Read for ContractRef {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self {
            address: f.required("address"),
            deployed_block: f.optional("deployed_block"),
        })
    }
}
