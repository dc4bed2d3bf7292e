//! The drift report: plain, serialisable data with a stable JSON layout.

use serde::{Deserialize, Serialize};

/// The version of the report's JSON layout; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// What one `drift` run found, for every deployment file it checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftReport {
    /// Layout version, [`FORMAT_VERSION`].
    pub format_version: u32,
    /// When the run started, in seconds since the Unix epoch.
    pub checked_at: u64,
    /// The same, as RFC 3339 (UTC).
    #[serde(default)]
    pub checked_at_rfc3339: String,
    /// How many deployments are in each status.
    pub summary: Summary,
    /// One entry per file, in the order the files were given.
    pub deployments: Vec<DeploymentReport>,
}

/// How many deployments are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Deployments whose chain matches the file.
    pub in_sync: usize,
    /// Deployments whose chain differs from the file.
    pub drifted: usize,
    /// Deployments that could not be checked.
    pub error: usize,
}

/// Where one deployment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The chain matches the file.
    InSync,
    /// The chain differs from the file.
    Drifted,
    /// The deployment could not be checked (bad file, no endpoint, wrong chain, node down).
    Error,
}

impl Status {
    /// The status as written in JSON and metrics: `in_sync`, `drifted`, `error`.
    pub fn name(self) -> &'static str {
        match self {
            Status::InSync => "in_sync",
            Status::Drifted => "drifted",
            Status::Error => "error",
        }
    }
}

/// The check of one deployment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentReport {
    /// The file, as given (or as found in a given directory).
    pub file: String,
    /// Where the deployment stands.
    pub status: Status,
    /// The chain the file is for, once the file could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// The block every value was read at, once the chain could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
    /// That block's timestamp (the chain's clock, which a devnet may have
    /// moved away from the wall clock): what pending operations' countdowns
    /// count from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_time: Option<u64>,
    /// When the check started, in seconds since the Unix epoch.
    pub checked_at: u64,
    /// How long loading and observing took, in seconds.
    pub duration_seconds: f64,
    /// Every difference, chain vs file (empty unless drifted).
    pub drift: Vec<Drifted>,
    /// Why the check failed (only for an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the check could not do besides, the result still holding (the
    /// drift left unattributed, and why), secrets redacted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl DeploymentReport {
    /// How many distinct fields and role sets differ (a pending operation
    /// is a change on its way, not a field that differs).
    pub fn drifted_fields(&self) -> usize {
        let mut keys: Vec<(&str, &str)> = self
            .drift
            .iter()
            .filter(|d| d.kind != DriftKind::PendingOperation)
            .map(|d| (d.contract.as_str(), d.field.as_str()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len()
    }
}

/// What kind of difference one [`Drifted`] entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// A scalar field holds another value on the chain than in the file.
    Value,
    /// An address holds the role on the chain but is not in the file's set.
    HolderAdded,
    /// An address is in the file's set but does not hold the role on the chain.
    HolderMissing,
    /// A timelock operation calling a managed contract is scheduled and not
    /// executed: a change is on its way (`field` is `pending_operation`,
    /// `chain` says which, its state and when it is ready).
    PendingOperation,
}

/// One difference between the chain and the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drifted {
    /// Section key of the contract, e.g. `arena`.
    pub contract: String,
    /// Key path of the field or role set, e.g. `fees_pct.fee`.
    pub field: String,
    /// What differs.
    pub kind: DriftKind,
    /// The value on the chain (the extra holder, for `holder_added`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// The value in the file (the absent holder, for `holder_missing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// For a pending operation: what it would do, decoded, and how it
    /// stands to the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<PendingDrift>,
    /// The transaction that last changed the field or the holder, from the
    /// event its setter emits, when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change: Option<Attribution>,
}

/// A pending timelock operation, decoded through the contract table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingDrift {
    /// The operation id.
    pub id: String,
    /// The TimelockController.
    pub timelock: String,
    /// `waiting` or `ready`.
    pub state: String,
    /// When it is ready, in seconds since the Unix epoch, by the chain's clock.
    pub ready_at: u64,
    /// The same, as RFC 3339 (UTC).
    pub ready_at_rfc3339: String,
    /// How many calls it makes.
    pub calls: usize,
    /// `moves_away` (it sets a managed field to another value), `converges`
    /// (toward the file) or `unknown` (it does not decode).
    pub verdict: String,
    /// What its calls would set: `set stake_manager.fees_pct.fee to 83%`.
    pub effects: Vec<String>,
    /// Who proposed it: the account that called the timelock's `schedule`
    /// (the contract the scheduling transaction went through, a Safe say,
    /// when it did not call the timelock itself), once its `CallScheduled`
    /// log was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposer: Option<String>,
    /// The transaction that scheduled it (its sender is who signed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<Attribution>,
}

/// The transaction that last changed a field or a role holder.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribution {
    /// The block it was included in.
    pub block: u64,
    /// The block's time, in seconds since the Unix epoch (the chain's clock).
    pub time: u64,
    /// The same, as RFC 3339 (UTC).
    pub time_rfc3339: String,
    /// The transaction hash.
    pub transaction: String,
    /// Who sent it.
    pub sender: String,
    /// The event found, e.g. `FeePctUpdated`.
    pub event: String,
}

impl DriftReport {
    /// A report over `deployments`, with its summary counted.
    pub fn new(checked_at: u64, deployments: Vec<DeploymentReport>) -> Self {
        let mut summary = Summary::default();
        for deployment in &deployments {
            match deployment.status {
                Status::InSync => summary.in_sync += 1,
                Status::Drifted => summary.drifted += 1,
                Status::Error => summary.error += 1,
            }
        }
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(checked_at);
        let checked_at_rfc3339 = humantime::format_rfc3339_seconds(at).to_string();
        Self { format_version: FORMAT_VERSION, checked_at, checked_at_rfc3339, summary, deployments }
    }

    /// The exit code schedulers act on: 1 when any deployment could not be
    /// checked (an error outranks drift), 2 when any drifted, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.summary.error > 0 {
            1
        } else if self.summary.drifted > 0 {
            2
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(status: Status) -> DeploymentReport {
        DeploymentReport {
            file: "a.yaml".into(),
            status,
            chain_id: None,
            block: None,
            block_time: None,
            checked_at: 0,
            duration_seconds: 0.0,
            drift: Vec::new(),
            error: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn an_error_outranks_drift_and_drift_outranks_in_sync() {
        let report = |s: &[Status]| DriftReport::new(0, s.iter().map(|s| deployment(*s)).collect());
        assert_eq!(report(&[]).exit_code(), 0);
        assert_eq!(report(&[Status::InSync, Status::InSync]).exit_code(), 0);
        assert_eq!(report(&[Status::InSync, Status::Drifted]).exit_code(), 2);
        assert_eq!(report(&[Status::Error, Status::Drifted, Status::InSync]).exit_code(), 1);
        let summary = report(&[Status::Error, Status::Drifted, Status::Drifted]).summary;
        assert_eq!(summary, Summary { in_sync: 0, drifted: 2, error: 1 });
    }

    #[test]
    fn role_set_holders_count_once_as_a_drifted_field() {
        let mut report = deployment(Status::Drifted);
        let holder = |kind, chain: &str| Drifted {
            contract: "arena".into(),
            field: "orchestrators".into(),
            kind,
            chain: Some(chain.into()),
            file: None,
            operation: None,
            last_change: None,
        };
        report.drift = vec![holder(DriftKind::HolderAdded, "0x1"), holder(DriftKind::HolderAdded, "0x2")];
        assert_eq!(report.drifted_fields(), 1);
    }

    #[test]
    fn drifted_fields_count_fields_not_pending_operations_whatever_the_order() {
        let entry = |contract: &str, field: &str, kind| Drifted {
            contract: contract.into(),
            field: field.into(),
            kind,
            chain: Some("0x1".into()),
            file: None,
            operation: None,
            last_change: None,
        };
        let mut report = deployment(Status::Drifted);
        report.drift = vec![
            entry("arena", "orchestrators", DriftKind::HolderAdded),
            entry("arena", "paused", DriftKind::Value),
            entry("arena", "orchestrators", DriftKind::HolderMissing),
            entry("timelock", "pending_operation", DriftKind::PendingOperation),
            entry("timelock", "pending_operation", DriftKind::PendingOperation),
        ];
        assert_eq!(report.drifted_fields(), 2, "orchestrators and paused");
    }
}
