//! Which build of the reference contracts a devnet's hardfork can run.
//!
//! The committed artifacts in `contracts/out/` are compiled for the newest
//! EVM; a chain on an older hardfork lacks some of its opcodes (`PUSH0`
//! before Shanghai, `MCOPY` and `TSTORE` before Cancun) and would fail every
//! deployment. `scripts/build-contracts.js` also compiles the same sources for
//! Berlin and Shanghai (`contracts/out/berlin/`, `contracts/out/shanghai/`);
//! the devnet deploys the build its hardfork runs, with the same constructor
//! arguments.

use alloy::primitives::Bytes;

/// A build of the reference contracts, by the oldest EVM that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Evm {
    /// `contracts/out/*.json`: Cancun and later.
    #[default]
    Newest,
    /// `contracts/out/shanghai/`: Shanghai (has `PUSH0`, no `MCOPY`).
    Shanghai,
    /// `contracts/out/berlin/`: Istanbul to Paris (no `PUSH0`, no base fee
    /// before London).
    Berlin,
}

/// Why a hardfork cannot be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HardforkError {
    /// No build of the reference contracts runs on it.
    #[error("--hardfork {name}: no build of the reference contracts runs on it; expected one of {}", SUPPORTED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))]
    Unsupported {
        /// The name asked for.
        name: String,
    },
}

/// The hardforks a devnet runs (anvil's names), with the build each runs.
/// Before Istanbul there is no `CHAINID`, which the contracts use.
const SUPPORTED: &[(&str, Evm)] = &[
    ("istanbul", Evm::Berlin),
    ("muirglacier", Evm::Berlin),
    ("berlin", Evm::Berlin),
    ("london", Evm::Berlin),
    ("arrowglacier", Evm::Berlin),
    ("grayglacier", Evm::Berlin),
    ("paris", Evm::Berlin),
    ("merge", Evm::Berlin),
    ("shanghai", Evm::Shanghai),
    ("cancun", Evm::Newest),
    ("prague", Evm::Newest),
    ("osaka", Evm::Newest),
    ("latest", Evm::Newest),
];

macro_rules! artifact {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/contracts/out/", $name, ".json")),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/contracts/out/shanghai/", $name, ".json")),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/contracts/out/berlin/", $name, ".json")),
        )
    };
}

/// Each compiled contract: its name, its newest build and the older ones,
/// as `(name, newest, shanghai, berlin)` artifact texts.
type Builds = (&'static str, &'static str, &'static str, &'static str);

/// The contracts `scripts/build-contracts.js` compiles.
const ARTIFACTS: &[Builds] = &[
    artifact!("SelfPlayArena"),
    artifact!("StakeManager"),
    artifact!("SystemPause"),
    artifact!("SystemPauseModules"),
    artifact!("PausableModule"),
    artifact!("Multicall3"),
    artifact!("TimelockController"),
];

impl Evm {
    /// The build a hardfork named as anvil names it (any case) runs.
    pub fn for_hardfork(name: &str) -> Result<Self, HardforkError> {
        let wanted = name.trim().to_ascii_lowercase().replace(['-', '_'], "");
        SUPPORTED
            .iter()
            .find(|(n, _)| *n == wanted)
            .map(|(_, evm)| *evm)
            .ok_or_else(|| HardforkError::Unsupported { name: name.to_string() })
    }

    /// `code` (a newest-build creation code followed by constructor
    /// arguments) with the creation code of this build instead. Code the
    /// table does not know (Safe's, compiled for an old EVM) is unchanged.
    pub fn creation_code(self, code: Vec<u8>) -> Vec<u8> {
        if self == Evm::Newest {
            return code;
        }
        for texts in ARTIFACTS {
            let newest = bytecode(texts.1, "bytecode");
            if !newest.is_empty() && code.starts_with(&newest) {
                let mut rebuilt = bytecode(self.pick(texts), "bytecode");
                rebuilt.extend_from_slice(&code[newest.len()..]);
                return rebuilt;
            }
        }
        code
    }

    /// Multicall3's runtime code in this build.
    pub fn multicall3_code(self) -> Bytes {
        let texts = ARTIFACTS.iter().find(|t| t.0 == "Multicall3");
        match (self, texts) {
            (Evm::Newest, _) | (_, None) => crate::observe::multicall3_code(),
            (_, Some(texts)) => bytecode(self.pick(texts), "deployedBytecode").into(),
        }
    }

    fn pick(self, texts: &Builds) -> &'static str {
        match self {
            Evm::Newest => texts.1,
            Evm::Shanghai => texts.2,
            Evm::Berlin => texts.3,
        }
    }
}

/// The `field.object` hex of an artifact (committed, so it parses; empty if not).
fn bytecode(artifact: &str, field: &str) -> Vec<u8> {
    let parsed: serde_json::Value = serde_json::from_str(artifact).unwrap_or_default();
    let hex = parsed[field]["object"].as_str().unwrap_or_default();
    hex.parse::<Bytes>().map(|b| b.to_vec()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The opcodes of `code`, push data skipped.
    fn opcodes(code: &[u8]) -> Vec<u8> {
        let (mut at, mut seen) = (0, Vec::new());
        while let Some(&op) = code.get(at) {
            seen.push(op);
            // PUSH1..PUSH32 carry 1..32 bytes of data.
            at += 1 + if (0x60..=0x7f).contains(&op) { usize::from(op - 0x5f) } else { 0 };
        }
        seen
    }

    #[test]
    fn the_berlin_build_has_no_opcode_berlin_lacks_and_the_newest_build_does() {
        // BASEFEE (London), PUSH0 (Shanghai), TLOAD/TSTORE/MCOPY/BLOBHASH/BLOBBASEFEE (Cancun).
        let later = [0x48, 0x5f, 0x5c, 0x5d, 0x5e, 0x49, 0x4a];
        let mut newest_uses_later = false;
        for texts in ARTIFACTS {
            for field in ["bytecode", "deployedBytecode"] {
                let berlin = bytecode(texts.3, field);
                assert!(!berlin.is_empty(), "a berlin artifact has no {field}");
                // Solidity appends no metadata here (appendCBOR false), so every byte is code.
                let found: Vec<u8> = opcodes(&berlin).into_iter().filter(|op| later.contains(op)).collect();
                assert!(found.is_empty(), "berlin build uses {found:02x?}");
                let shanghai = bytecode(texts.2, field);
                assert!(!opcodes(&shanghai).iter().any(|op| [0x5c, 0x5d, 0x5e].contains(op)), "shanghai build");
                newest_uses_later |= opcodes(&bytecode(texts.1, field)).contains(&0x5f);
            }
        }
        assert!(newest_uses_later, "the newest build uses PUSH0, so the older builds are needed");
    }

    #[test]
    fn a_creation_code_keeps_its_constructor_arguments_in_another_build() {
        let newest = bytecode(ARTIFACTS[0].1, "bytecode");
        let code = [newest.as_slice(), &[0xab; 32]].concat();
        let berlin = Evm::Berlin.creation_code(code.clone());
        assert_eq!(berlin, [bytecode(ARTIFACTS[0].3, "bytecode").as_slice(), &[0xab; 32]].concat());
        assert_ne!(berlin, code);
        assert_eq!(Evm::Newest.creation_code(code.clone()), code);
        assert_eq!(Evm::Berlin.creation_code(vec![1, 2, 3]), vec![1, 2, 3]);
    }

    #[test]
    fn hardforks_pick_their_build_and_an_unknown_one_names_the_choices() {
        assert_eq!(Evm::for_hardfork("Berlin").ok(), Some(Evm::Berlin));
        assert_eq!(Evm::for_hardfork("shanghai").ok(), Some(Evm::Shanghai));
        assert_eq!(Evm::for_hardfork("latest").ok(), Some(Evm::Newest));
        let error = Evm::for_hardfork("frontier").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("--hardfork frontier") && error.contains("berlin, london"), "{error}");
    }
}
