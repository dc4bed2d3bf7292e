//! `--target KEY_PATH` (Terraform's `-target`): one run narrowed to some of
//! the keys a file manages, so an operator can apply just the pause part of
//! a file that is behind the chain and leave the rest for a reviewed run.
//!
//! The file's rule is "only what is written is managed"; a target narrows
//! that further for one run, never widens it. A target is a section
//! (`arena`), a key (`arena.paused`, `arena.orchestrators`) or a group of
//! keys (`stake_manager.fees_pct`: every key under it). The vocabulary is
//! the contract table's, so a typo is refused with the nearest keys instead
//! of silently narrowing the run to nothing.
//!
//! ```
//! use govstate::spec::KeyPath;
//! let target: KeyPath = "stake_manager.fees_pct".parse()?;
//! assert!(target.covers("stake_manager", "fees_pct.fee"));
//! assert!(!target.covers("stake_manager", "min_stake"));
//! let typo = "arena.pausd".parse::<KeyPath>().unwrap_err();
//! assert!(typo.to_string().contains("did you mean arena.paused?"));
//! # Ok::<(), govstate::spec::TargetError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use super::{Desired, DesiredContract};
use crate::contracts::{ALL_KINDS, Kind};

/// A key path `--target` names: a section, or a key or group of keys in it.
/// It exists only once checked against the contract table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPath {
    section: &'static str,
    key: Option<String>,
}

/// Why a `--target` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The path is not a section, key or group of keys govstate manages.
    #[error("{target} is not a key govstate manages; {hint}")]
    Unknown {
        /// The path as given.
        target: String,
        /// The close matches, or what was expected.
        hint: String,
    },
    /// Valid key paths that the file does not write: a target can only
    /// narrow what the file manages.
    #[error("the file does not manage {}; --target can only narrow what the file manages", list(missing))]
    NotManaged {
        /// The targets that match no key the file writes.
        missing: Vec<KeyPath>,
    },
}

impl KeyPath {
    /// The section the path is in (`arena`).
    pub fn section(&self) -> &'static str {
        self.section
    }

    /// The key or group within the section (`fees_pct`), or `None` for the
    /// whole section.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Whether the key `key` of `section` (as the contract table names it,
    /// `fees_pct.fee`) is the target itself or lies under it.
    pub fn covers(&self, section: &str, key: &str) -> bool {
        self.section == section && self.key.as_deref().is_none_or(|target| is_under(key, target))
    }

    /// Every key path a target may name: each section, each key the file
    /// can write and each group of them, in table order.
    pub fn every() -> Vec<KeyPath> {
        let mut all: Vec<KeyPath> = Vec::new();
        for section in sections() {
            all.push(KeyPath { section, key: None });
            for key in groups_and_keys(section) {
                all.push(KeyPath { section, key: Some(key) });
            }
        }
        all
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{}.{key}", self.section),
            None => f.write_str(self.section),
        }
    }
}

impl FromStr for KeyPath {
    type Err = TargetError;

    /// Checks `text` against the contract table; an unknown path is refused
    /// with its close matches.
    fn from_str(text: &str) -> Result<Self, TargetError> {
        let text = text.trim();
        let (section, key) = match text.split_once('.') {
            Some((section, key)) => (section, Some(key)),
            None => (text, None),
        };
        let unknown = |hint: String| TargetError::Unknown { target: text.to_string(), hint };
        let Some(section) = sections().into_iter().find(|s| *s == section) else {
            return Err(unknown(section_hint(section, key)));
        };
        let Some(key) = key else {
            return Ok(KeyPath { section, key: None });
        };
        if groups_and_keys(section).iter().any(|k| k == key) {
            Ok(KeyPath { section, key: Some(key.to_string()) })
        } else {
            Err(unknown(key_hint(section, key)))
        }
    }
}

impl Desired {
    /// The same desired state managing only the keys under `targets`, for
    /// one `--target` run; with no targets, everything the file manages.
    /// Every contract keeps its address (it is still observed, and may
    /// route another's calls) even when none of its keys is left.
    ///
    /// A target that covers no key the file writes is refused: a target
    /// can only narrow what the file manages.
    pub fn only(&self, targets: &[KeyPath]) -> Result<Desired, TargetError> {
        let written = |t: &KeyPath| self.contracts.iter().any(|c| contract_keys(c).any(|k| t.covers(c.key(), k)));
        let missing: Vec<KeyPath> = targets.iter().filter(|t| !written(t)).cloned().collect();
        if missing.is_empty() { Ok(self.narrowed(targets)) } else { Err(TargetError::NotManaged { missing }) }
    }

    /// Like [`Desired::only`], but a target the file does not write is
    /// simply absent from it (for `drift` over many files, where not every
    /// file has every section).
    pub fn narrowed(&self, targets: &[KeyPath]) -> Desired {
        if targets.is_empty() {
            return self.clone();
        }
        let contracts = self.contracts.iter().map(|c| c.narrowed(targets)).collect();
        Desired { chain_id: self.chain_id, contracts }
    }
}

impl DesiredContract {
    /// The contract's section key (`arena`).
    fn key(&self) -> &'static str {
        self.deployed.kind.key
    }

    fn narrowed(&self, targets: &[KeyPath]) -> DesiredContract {
        let kept = |key: &str| targets.iter().any(|t| t.covers(self.key(), key));
        DesiredContract {
            deployed: self.deployed,
            fields: self.fields.iter().filter(|(k, _)| kept(k)).cloned().collect(),
            role_sets: self.role_sets.iter().filter(|(k, _)| kept(k)).cloned().collect(),
        }
    }
}

/// The keys a desired contract writes: its fields, then its role sets.
fn contract_keys(contract: &DesiredContract) -> impl Iterator<Item = &'static str> + '_ {
    contract.fields.iter().map(|(k, _)| *k).chain(contract.role_sets.iter().map(|(k, _)| *k))
}

/// `key` is `target` or a key of the group `target` (`fees_pct.fee` under `fees_pct`).
fn is_under(key: &str, target: &str) -> bool {
    key.strip_prefix(target).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// The section keys, in table order, each once.
fn sections() -> Vec<&'static str> {
    let mut sections: Vec<&'static str> = Vec::new();
    for kind in ALL_KINDS {
        if !sections.contains(&kind.key) {
            sections.push(kind.key);
        }
    }
    sections
}

/// The keys a file can write in `section`, across every kind of it: the
/// fields the file writes, derived values and role sets.
fn file_keys(section: &str) -> Vec<&'static str> {
    let of_kind = |kind: &&Kind| {
        let fields = kind.fields.iter().filter(|f| f.in_file).map(|f| f.key);
        let derived = kind.derived.iter().map(|d| d.key);
        fields.chain(derived).chain(kind.role_sets.iter().map(|r| r.key)).collect::<Vec<_>>()
    };
    let mut keys: Vec<&'static str> = Vec::new();
    for key in ALL_KINDS.iter().filter(|k| k.key == section).flat_map(of_kind) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// Every key of `section` and every group above one (`fees_pct` for
/// `fees_pct.fee`), each once, a group before its first key.
fn groups_and_keys(section: &str) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for key in file_keys(section) {
        let groups = key.match_indices('.').map(|(at, _)| &key[..at]);
        for path in groups.chain([key]) {
            if !all.iter().any(|k| k == path) {
                all.push(path.to_string());
            }
        }
    }
    all
}

/// What to say about an unknown section: the nearest section (with the
/// key, when that section has it), or the sections there are.
fn section_hint(section: &str, key: Option<&str>) -> String {
    let known = sections();
    if let Some(best) = closest(section, &known) {
        let valid = key.is_none_or(|key| groups_and_keys(best).iter().any(|k| k == key));
        if valid {
            let suggestion = KeyPath { section: best, key: key.map(str::to_string) };
            return format!("did you mean {suggestion}?");
        }
    }
    format!("expected a section ({}) or a key in one, e.g. arena.paused", known.join(", "))
}

/// What to say about an unknown key of a known section: the nearest keys,
/// or the section's top-level keys.
fn key_hint(section: &'static str, key: &str) -> String {
    let keys = groups_and_keys(section);
    let known: Vec<&str> = keys.iter().map(String::as_str).collect();
    let near = close_matches(key, &known);
    if !near.is_empty() {
        let near: Vec<String> = near.iter().map(|k| format!("{section}.{k}")).collect();
        return format!("did you mean {}?", near.join(" or "));
    }
    let top: Vec<String> = known.iter().filter(|k| !k.contains('.')).map(|k| format!("{section}.{k}")).collect();
    format!("expected {section} or one of {}", top.join(", "))
}

/// The nearest of `known` to `text`, if it is close enough to be a typo.
fn closest<'k>(text: &str, known: &[&'k str]) -> Option<&'k str> {
    close_matches(text, known).into_iter().next()
}

/// The entries of `known` close enough to `text` to be a typo of it
/// (edit distance at most a third of its length), nearest first, at most three.
fn close_matches<'k>(text: &str, known: &[&'k str]) -> Vec<&'k str> {
    let text = text.to_ascii_lowercase();
    let limit = (text.chars().count() / 3).max(1);
    let mut near: Vec<(usize, &'k str)> =
        known.iter().map(|k| (strsim::levenshtein(&text, k), *k)).filter(|(distance, _)| *distance <= limit).collect();
    near.sort();
    near.into_iter().take(3).map(|(_, k)| k).collect()
}

/// `a, b and c`.
fn list(paths: &[KeyPath]) -> String {
    let names: Vec<String> = paths.iter().map(ToString::to_string).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Desired {
        let text = std::fs::read_to_string("tests/spec_valid/full.yaml").unwrap_or_default();
        crate::spec::load_str(&text, "full.yaml").expect("the full example is valid").desired()
    }

    fn target(text: &str) -> KeyPath {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Every key a desired state manages, as `section.key`.
    fn keys(desired: &Desired) -> Vec<String> {
        let each = |c: &DesiredContract| contract_keys(c).map(|k| format!("{}.{k}", c.key())).collect::<Vec<_>>();
        desired.contracts.iter().flat_map(each).collect()
    }

    fn refusal(text: &str) -> String {
        text.parse::<KeyPath>().err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn the_key_paths_operators_use_are_targets() {
        for text in [
            "arena.paused",
            "stake_manager.fees_pct",
            "stake_manager.fees_pct.fee",
            "arena.orchestrators",
            "system_pause.paused",
            "arena",
            "stake_manager.validator_lock_managers",
        ] {
            assert_eq!(target(text).to_string(), text);
        }
    }

    #[test]
    fn an_unknown_target_is_refused_naming_it_and_the_nearest_keys() {
        let error = refusal("arena.pausd");
        assert!(error.starts_with("arena.pausd is not a key govstate manages"), "{error}");
        assert!(error.contains("did you mean arena.paused?"), "{error}");
        assert!(refusal("arna.paused").contains("did you mean arena.paused?"));
        let error = refusal("stake_manager.fees_pct.fe");
        assert!(error.contains("did you mean stake_manager.fees_pct.fee or stake_manager.fees_pct?"), "{error}");
        let error = refusal("no.such.key");
        assert!(error.contains("no.such.key") && error.contains("system_pause, arena, stake_manager"), "{error}");
        let error = refusal("arena.colour");
        assert!(error.contains("expected arena or one of arena.owner, arena.paused"), "{error}");
        assert!(error.contains("arena.rewards") && !error.contains("arena.rewards.teacher"), "{error}");
    }

    #[test]
    fn a_malformed_or_too_deep_path_is_refused() {
        for text in ["", ".", "arena.", "arena..paused", ".paused", "arena.rewards.teacher.x", "arena.modules"] {
            assert!(text.parse::<KeyPath>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn fields_read_only_for_context_are_not_targets() {
        // The modules kind reads each module's address for context: not a key of the file.
        assert!(refusal("system_pause.modules.stake_manager").contains("not a key govstate manages"));
    }

    #[test]
    fn every_target_keeps_exactly_the_keys_under_it() {
        let desired = full();
        let all = keys(&desired);
        for target in KeyPath::every() {
            let narrowed = desired.only(std::slice::from_ref(&target)).expect("the full example writes every key");
            let expected: Vec<&String> = all
                .iter()
                .filter(|k| {
                    let path = target.to_string();
                    k.strip_prefix(&path).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
                })
                .collect();
            let kept = keys(&narrowed);
            assert_eq!(kept.iter().collect::<Vec<_>>(), expected, "{target}");
            assert!(!kept.is_empty(), "{target} keeps something");
        }
    }

    #[test]
    fn a_group_prefix_keeps_its_keys_and_not_a_key_that_only_starts_alike() {
        let narrowed = full().only(&[target("stake_manager.fees_pct")]).expect("written");
        assert_eq!(
            keys(&narrowed),
            ["stake_manager.fees_pct.fee", "stake_manager.fees_pct.burn", "stake_manager.fees_pct.validator_reward"]
        );
        assert!(!target("arena.reward_splits_bps").covers("arena", "rewards.teacher"));
        assert!(!target("arena.rewards").covers("arena", "reward_splits_bps.teacher"));
    }

    #[test]
    fn several_targets_keep_their_union_in_file_order_and_every_address() {
        let desired = full();
        let narrowed = desired.only(&[target("system_pause.paused"), target("arena.paused")]).expect("written");
        assert_eq!(keys(&narrowed), ["system_pause.paused", "arena.paused"]);
        let addresses = |d: &Desired| d.contracts.iter().map(|c| c.deployed).collect::<Vec<_>>();
        assert_eq!(addresses(&narrowed), addresses(&desired), "every contract is still observed");
        assert!(narrowed.contracts[2].fields.is_empty() && narrowed.contracts[2].role_sets.is_empty());
        let role_set = desired.only(&[target("arena.orchestrators")]).expect("written");
        assert_eq!(keys(&role_set), ["arena.orchestrators"]);
    }

    #[test]
    fn no_targets_leave_the_desired_state_as_it_is() {
        let desired = full();
        assert_eq!(desired.only(&[]).as_ref(), Ok(&desired));
        assert_eq!(desired.narrowed(&[]), desired);
    }

    #[test]
    fn a_target_the_file_does_not_write_is_refused_only_when_strict() {
        let text = "version: 1\nchain_id: 1\ncontracts:\n  arena: { address: \"0x5FbDB2315678afecb367f032d93F642f64180aa3\" }\narena:\n  owner: \"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"\n";
        let desired = crate::spec::load_str(text, "t.yaml").expect("valid").desired();
        let targets = [target("arena.paused"), target("arena.owner"), target("stake_manager")];
        let error = desired.only(&targets).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            error,
            "the file does not manage arena.paused and stake_manager; --target can only narrow what the file manages"
        );
        assert_eq!(keys(&desired.narrowed(&targets)), ["arena.owner"]);
        assert!(keys(&desired.narrowed(&[target("arena.paused")])).is_empty());
    }
}
