//! The `arena:` section of the desired-state file (SelfPlayArena).
//!
//! Every key is optional: only what is written is managed. Grouped settings
//! (`rewards`, `committee`, `reward_splits_bps`) may be written in part; the
//! planner calls their setter once, with the observed values for the parts left
//! out, and re-checks the group's invariant against those observed values. Here
//! only what the written values decide is checked: e.g. partial splits must not
//! already exceed 10000, but their lower bound needs the chain.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::check_role_set;
use crate::spec::read::{Read, Reader};
use crate::spec::yaml::Node;
use crate::spec::{Amount, ChecksummedAddress, Diagnostic, Section};

/// The section's key in the file.
pub const SECTION: &str = "arena";

/// Largest basis-point value: 100 %.
const MAX_BPS: u64 = 10_000;

/// Desired governance settings of the SelfPlayArena.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArenaDesired {
    /// Expected owner. A change is planned only with `--allow-ownership-transfer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<ChecksummedAddress>,
    /// Whether the arena is paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// The exact set of orchestrators: anyone else holding the role is revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orchestrators: Option<Vec<ChecksummedAddress>>,
    /// Base rewards (`setRewards`); each must be non-zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewards: Option<Rewards>,
    /// Committee parameters (`setCommitteeParameters`); each must be non-zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committee: Option<Committee>,
    /// Target success rate in basis points, 1..=10000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_success_rate_bps: Option<u64>,
    /// Reward splits in basis points (`setRewardSplits`); their sum must be 1..=10000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_splits_bps: Option<RewardSplits>,
}

/// Base rewards per role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rewards {
    /// Base teacher reward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher: Option<Amount>,
    /// Base student reward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<Amount>,
    /// Base validator reward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<Amount>,
}

/// Committee parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Committee {
    /// Number of validators in a committee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Stake each committee validator locks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_stake: Option<Amount>,
}

/// Reward splits in basis points.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardSplits {
    /// Teacher share, in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher: Option<u64>,
    /// Student share, in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<u64>,
    /// Validator share, in basis points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<u64>,
}

impl ArenaDesired {
    /// Checks the invariants the contract enforces, pushing one diagnostic per problem.
    fn check_invariants(&self, out: &mut Vec<Diagnostic>) {
        if self.owner.is_some_and(ChecksummedAddress::is_zero) {
            let message = "the owner cannot be the zero address (govstate never renounces ownership)";
            out.push(Diagnostic::new(path("owner"), message));
        }
        if let Some(orchestrators) = &self.orchestrators {
            check_role_set(&path("orchestrators"), orchestrators, out);
        }
        if let Some(rewards) = &self.rewards {
            rewards.check(out);
        }
        if let Some(committee) = &self.committee {
            committee.check(out);
        }
        if let Some(rate) = self.target_success_rate_bps {
            check_target(rate, out);
        }
        if let Some(splits) = &self.reward_splits_bps {
            splits.check(out);
        }
    }
}

fn path(key: &str) -> String {
    format!("{SECTION}.{key}")
}

fn check_non_zero_amount(path: String, value: Option<Amount>, out: &mut Vec<Diagnostic>) {
    if value.is_some_and(Amount::is_zero) {
        out.push(Diagnostic::new(path, "must be non-zero (the contract reverts with ZeroValue)"));
    }
}

fn check_target(rate: u64, out: &mut Vec<Diagnostic>) {
    if !(1..=MAX_BPS).contains(&rate) {
        let message = format!("{rate} is out of range; expected 1 to 10000 basis points");
        out.push(Diagnostic::new(path("target_success_rate_bps"), message));
    }
}

impl Rewards {
    fn check(&self, out: &mut Vec<Diagnostic>) {
        check_non_zero_amount(path("rewards.teacher"), self.teacher, out);
        check_non_zero_amount(path("rewards.student"), self.student, out);
        check_non_zero_amount(path("rewards.validator"), self.validator, out);
    }
}

impl Committee {
    fn check(&self, out: &mut Vec<Diagnostic>) {
        if self.size == Some(0) {
            let message = "must be non-zero (the contract reverts with ZeroValue)";
            out.push(Diagnostic::new(path("committee.size"), message));
        }
        check_non_zero_amount(path("committee.validator_stake"), self.validator_stake, out);
    }
}

impl RewardSplits {
    /// The written splits, by key.
    fn written(&self) -> Vec<(&'static str, u64)> {
        [("teacher", self.teacher), ("student", self.student), ("validator", self.validator)]
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key, v)))
            .collect()
    }

    fn check(&self, out: &mut Vec<Diagnostic>) {
        let written = self.written();
        let mut fits = true;
        for (key, value) in &written {
            if *value > u64::from(u16::MAX) {
                let message = format!("{value} does not fit a uint16 (at most 65535); expected at most 10000");
                out.push(Diagnostic::new(path(&format!("reward_splits_bps.{key}")), message));
                fits = false;
            }
        }
        if fits {
            check_split_sum(&written, out);
        }
    }
}

/// The sum must be 1..=10000; with some splits left out only the upper bound is
/// known here (the planner checks the rest against the observed values).
fn check_split_sum(written: &[(&str, u64)], out: &mut Vec<Diagnostic>) {
    let sum: u64 = written.iter().map(|(_, v)| v).sum();
    let complete = written.len() == 3;
    let message = if sum > MAX_BPS && complete {
        format!("splits sum to {sum}; expected a sum between 1 and 10000")
    } else if sum > MAX_BPS {
        format!("the written splits already sum to {sum}; expected a sum of at most 10000")
    } else if sum == 0 && complete {
        "splits sum to 0; expected a sum between 1 and 10000 (the contract reverts with InvalidSplit)".to_owned()
    } else {
        return;
    };
    out.push(Diagnostic::new(path("reward_splits_bps"), message));
}

impl Read for ArenaDesired {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self {
            owner: f.optional("owner"),
            paused: f.optional("paused"),
            orchestrators: f.optional("orchestrators"),
            rewards: f.optional("rewards"),
            committee: f.optional("committee"),
            target_success_rate_bps: f.optional("target_success_rate_bps"),
            reward_splits_bps: f.optional("reward_splits_bps"),
        })
    }
}

impl Read for Rewards {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self {
            teacher: f.optional("teacher"),
            student: f.optional("student"),
            validator: f.optional("validator"),
        })
    }
}

impl Read for Committee {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self { size: f.optional("size"), validator_stake: f.optional("validator_stake") })
    }
}

impl Read for RewardSplits {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self {
            teacher: f.optional("teacher"),
            student: f.optional("student"),
            validator: f.optional("validator"),
        })
    }
}

impl Section for ArenaDesired {
    fn check(&self, out: &mut Vec<Diagnostic>) {
        self.check_invariants(out);
    }

    fn managed(&self) -> crate::spec::Managed {
        let mut managed = crate::spec::Managed::default();
        let rewards = self.rewards.clone().unwrap_or_default();
        let committee = self.committee.clone().unwrap_or_default();
        let splits = self.reward_splits_bps.clone().unwrap_or_default();
        managed
            .address("owner", self.owner)
            .flag("paused", self.paused)
            .role_set("orchestrators", self.orchestrators.as_ref())
            .amount("rewards.teacher", rewards.teacher)
            .amount("rewards.student", rewards.student)
            .amount("rewards.validator", rewards.validator)
            .number("committee.size", committee.size)
            .amount("committee.validator_stake", committee.validator_stake)
            .number("target_success_rate_bps", self.target_success_rate_bps)
            .number("reward_splits_bps.teacher", splits.teacher)
            .number("reward_splits_bps.student", splits.student)
            .number("reward_splits_bps.validator", splits.validator);
        managed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(arena: &ArenaDesired) -> Vec<String> {
        let mut out = Vec::new();
        arena.check(&mut out);
        out.into_iter().map(|d| format!("{}: {}", d.path, d.message)).collect()
    }

    fn splits(t: Option<u64>, s: Option<u64>, v: Option<u64>) -> ArenaDesired {
        let reward_splits_bps = Some(RewardSplits { teacher: t, student: s, validator: v });
        ArenaDesired { reward_splits_bps, ..Default::default() }
    }

    #[test]
    fn complete_splits_must_sum_between_1_and_10000() {
        assert!(problems(&splits(Some(6000), Some(2000), Some(2000))).is_empty());
        assert!(problems(&splits(Some(6000), Some(4000), Some(2000)))[0].contains("sum to 12000"));
        assert!(problems(&splits(Some(0), Some(0), Some(0)))[0].contains("sum to 0"));
    }

    #[test]
    fn partial_splits_are_checked_only_against_the_upper_bound() {
        assert!(problems(&splits(Some(0), None, None)).is_empty());
        assert!(problems(&splits(Some(9000), Some(2000), None))[0].contains("already sum to 11000"));
    }

    #[test]
    fn a_split_past_uint16_is_named_alone() {
        let found = problems(&splits(Some(70_000), Some(0), Some(0)));
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("arena.reward_splits_bps.teacher: 70000 does not fit a uint16"));
    }

    #[test]
    fn zero_rewards_committee_and_target_are_all_reported() {
        let arena = ArenaDesired {
            rewards: Some(Rewards { teacher: Some(Amount::ZERO), student: None, validator: Some(Amount::ZERO) }),
            committee: Some(Committee { size: Some(0), validator_stake: Some(Amount::ZERO) }),
            target_success_rate_bps: Some(0),
            owner: Some(ChecksummedAddress::ZERO),
            ..Default::default()
        };
        assert_eq!(problems(&arena).len(), 6);
    }
}
