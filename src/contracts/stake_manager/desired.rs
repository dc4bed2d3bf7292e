//! The `stake_manager:` section of the desired-state file (StakeManager).
//!
//! Every key is optional: only what is written is managed. Grouped settings
//! (`fees_pct`, `role_minimums`) may be written in part; the planner fills the
//! parts left out with observed values and re-checks the invariants against
//! them (e.g. the percentage sum, or `max_stake_per_address` against an
//! observed `min_stake`). Here only what the written values decide is checked.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::check_role_set;
use crate::spec::read::{Read, Reader};
use crate::spec::yaml::Node;
use crate::spec::{Amount, ChecksummedAddress, Diagnostic, Duration, Section};

/// The section's key in the file.
pub const SECTION: &str = "stake_manager";

/// Largest sum of fee, burn and validator-reward percentages.
const MAX_PCT_SUM: u128 = 100;

/// Desired governance settings of the StakeManager.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StakeManagerDesired {
    /// Expected governance (a TimelockController in production). A change is
    /// planned only with `--allow-ownership-transfer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance: Option<ChecksummedAddress>,
    /// Whether the stake manager is paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// The pauser; the zero address means no pauser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pauser: Option<ChecksummedAddress>,
    /// The exact set of validator lock managers: anyone else holding the role is revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_lock_managers: Option<Vec<ChecksummedAddress>>,
    /// Fee, burn and validator-reward percentages; their sum must be at most 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees_pct: Option<FeesPct>,
    /// Minimum stake; must be non-zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_stake: Option<Amount>,
    /// Maximum stake per address; 0 means no cap, otherwise at least `min_stake`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stake_per_address: Option<Amount>,
    /// Minimum stake per role (`setRoleMinimums`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_minimums: Option<RoleMinimums>,
    /// How long unstaked funds stay locked; must be non-zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unbonding_period: Option<Duration>,
}

/// Percentages taken from each payout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeesPct {
    /// Fee percentage (`4` or `4%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::spec::percent_schema")]
    pub fee: Option<u64>,
    /// Burn percentage (`1` or `1%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::spec::percent_schema")]
    pub burn: Option<u64>,
    /// Validator-reward percentage (also sets the slash-reward share).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::spec::percent_schema")]
    pub validator_reward: Option<u64>,
}

/// Minimum stake per role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleMinimums {
    /// Minimum stake of an agent (role 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Amount>,
    /// Minimum stake of a validator (role 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<Amount>,
    /// Minimum stake of a platform (role 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Amount>,
}

impl StakeManagerDesired {
    /// Checks the invariants the contract enforces, pushing one diagnostic per problem.
    fn check_invariants(&self, out: &mut Vec<Diagnostic>) {
        if self.governance.is_some_and(ChecksummedAddress::is_zero) {
            let message = "governance cannot be the zero address (the contract reverts with ZeroAddress)";
            out.push(Diagnostic::new(path("governance"), message));
        }
        if let Some(managers) = &self.validator_lock_managers {
            check_role_set(&path("validator_lock_managers"), managers, out);
        }
        if let Some(fees) = &self.fees_pct {
            fees.check(out);
        }
        self.check_stakes(out);
        if self.unbonding_period.is_some_and(|p| p.as_secs() == 0) {
            let message = "must be non-zero (the contract reverts with InvalidUnbondingPeriod)";
            out.push(Diagnostic::new(path("unbonding_period"), message));
        }
    }

    fn check_stakes(&self, out: &mut Vec<Diagnostic>) {
        if self.min_stake.is_some_and(Amount::is_zero) {
            let message = "must be non-zero (the contract reverts with InvalidMinStake)";
            out.push(Diagnostic::new(path("min_stake"), message));
        }
        let (Some(min), Some(max)) = (self.min_stake, self.max_stake_per_address) else {
            return;
        };
        if !max.is_zero() && max < min {
            let message = format!("{max} is below min_stake ({min}); expected 0 (no cap) or at least min_stake");
            out.push(Diagnostic::new(path("max_stake_per_address"), message));
        }
    }
}

fn path(key: &str) -> String {
    format!("{SECTION}.{key}")
}

impl FeesPct {
    fn check(&self, out: &mut Vec<Diagnostic>) {
        let written = [self.fee, self.burn, self.validator_reward];
        let sum: u128 = written.iter().flatten().map(|v| u128::from(*v)).sum();
        if sum <= MAX_PCT_SUM {
            return;
        }
        let message = if written.iter().all(Option::is_some) {
            format!("fee + burn + validator_reward = {sum}; expected at most 100")
        } else {
            format!("the written percentages already sum to {sum}; expected at most 100")
        };
        out.push(Diagnostic::new(path("fees_pct"), message));
    }
}

impl Read for StakeManagerDesired {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self {
            governance: f.optional("governance"),
            paused: f.optional("paused"),
            pauser: f.optional("pauser"),
            validator_lock_managers: f.optional("validator_lock_managers"),
            fees_pct: f.optional("fees_pct"),
            min_stake: f.optional("min_stake"),
            max_stake_per_address: f.optional("max_stake_per_address"),
            role_minimums: f.optional("role_minimums"),
            unbonding_period: f.optional("unbonding_period"),
        })
    }
}

impl Read for FeesPct {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        let percent = |f: &mut crate::spec::read::Fields<'_>, key| f.optional::<crate::spec::Percent>(key).map(|p| p.0);
        reader.fields(node, path, |f| Self {
            fee: percent(f, "fee"),
            burn: percent(f, "burn"),
            validator_reward: percent(f, "validator_reward"),
        })
    }
}

impl Read for RoleMinimums {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self {
            agent: f.optional("agent"),
            validator: f.optional("validator"),
            platform: f.optional("platform"),
        })
    }
}

impl Section for StakeManagerDesired {
    fn check(&self, out: &mut Vec<Diagnostic>) {
        self.check_invariants(out);
    }

    fn managed(&self) -> crate::spec::Managed {
        let mut managed = crate::spec::Managed::default();
        let fees = self.fees_pct.clone().unwrap_or_default();
        let roles = self.role_minimums.clone().unwrap_or_default();
        managed
            .address("governance", self.governance)
            .flag("paused", self.paused)
            .address("pauser", self.pauser)
            .role_set("validator_lock_managers", self.validator_lock_managers.as_ref())
            .number("fees_pct.fee", fees.fee)
            .number("fees_pct.burn", fees.burn)
            .number("fees_pct.validator_reward", fees.validator_reward)
            .amount("min_stake", self.min_stake)
            .amount("max_stake_per_address", self.max_stake_per_address)
            .amount("role_minimums.agent", roles.agent)
            .amount("role_minimums.validator", roles.validator)
            .amount("role_minimums.platform", roles.platform)
            .seconds("unbonding_period", self.unbonding_period);
        managed
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::U256;

    use super::*;

    fn problems(stake: &StakeManagerDesired) -> Vec<String> {
        let mut out = Vec::new();
        stake.check(&mut out);
        out.into_iter().map(|d| format!("{}: {}", d.path, d.message)).collect()
    }

    fn fees(fee: Option<u64>, burn: Option<u64>, reward: Option<u64>) -> StakeManagerDesired {
        let fees_pct = Some(FeesPct { fee, burn, validator_reward: reward });
        StakeManagerDesired { fees_pct, ..Default::default() }
    }

    #[test]
    fn percentages_may_sum_to_100_but_not_more() {
        assert!(problems(&fees(Some(60), Some(40), Some(0))).is_empty());
        assert!(problems(&fees(Some(60), Some(40), Some(1)))[0].contains("= 101"));
        assert!(problems(&fees(Some(u64::MAX), None, Some(u64::MAX)))[0].contains("already sum"));
    }

    #[test]
    fn max_stake_is_zero_or_at_least_min_stake() {
        let stakes = |min: u64, max: u64| StakeManagerDesired {
            min_stake: Some(Amount(U256::from(min))),
            max_stake_per_address: Some(Amount(U256::from(max))),
            ..Default::default()
        };
        assert!(problems(&stakes(5, 0)).is_empty());
        assert!(problems(&stakes(5, 5)).is_empty());
        assert!(problems(&stakes(5, 4))[0].starts_with("stake_manager.max_stake_per_address: 4 is below"));
    }

    #[test]
    fn a_zero_pauser_is_allowed_but_zero_governance_is_not() {
        let stake = StakeManagerDesired {
            pauser: Some(ChecksummedAddress::ZERO),
            governance: Some(ChecksummedAddress::ZERO),
            ..Default::default()
        };
        let found = problems(&stake);
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("stake_manager.governance"));
    }

    #[test]
    fn zero_min_stake_and_unbonding_period_are_refused() {
        let stake = StakeManagerDesired {
            min_stake: Some(Amount::ZERO),
            unbonding_period: Some(Duration::from_secs(0)),
            ..Default::default()
        };
        assert_eq!(problems(&stake).len(), 2);
    }
}
