//! Webhooks on a change of status: a small state file remembers what each
//! deployment looked like at the last run, so a cron job pages once for a
//! new drift, not every run while it lasts, and once more when it clears.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::transports::http::reqwest::{self, Url};
use serde::{Deserialize, Serialize};

use super::prometheus::write_atomically;
use super::report::{DeploymentReport, DriftReport, Drifted, Status};
use super::text::{counts, drift_line};

/// Layout version of the state file.
const MEMORY_VERSION: u32 = 1;

/// Why notifying failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The state file exists but could not be read.
    #[error("{}: cannot read the webhook state file ({reason}); delete it to start afresh", path.display())]
    ReadState {
        /// The state file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The state file could not be written.
    #[error("{}: cannot write the webhook state file: {source}", path.display())]
    WriteState {
        /// The state file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The receiver refused the payload (a 4xx other than 408 and 429: not retried).
    #[error("the webhook receiver refused the notification with HTTP {status}")]
    Refused {
        /// The HTTP status.
        status: u16,
    },
    /// Every attempt failed (5xx, 408, 429, timeout or connection error).
    #[error("the webhook was not delivered after {attempts} attempts: {last}")]
    Undelivered {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// What is remembered of each deployment between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    format_version: u32,
    deployments: BTreeMap<String, Remembered>,
}

/// The part of a deployment's check that decides whether it changed: its
/// status and, when drifted, the differences themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Remembered {
    status: Status,
    #[serde(default)]
    drift: Vec<Drifted>,
}

impl Remembered {
    fn of(deployment: &DeploymentReport) -> Self {
        Self { status: deployment.status, drift: deployment.drift.clone() }
    }
}

impl Memory {
    /// Reads the state file; a missing one is an empty memory, in which every
    /// deployment counts as previously in sync.
    pub fn load(path: &Path) -> Result<Self, NotifyError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(error) => return Err(NotifyError::ReadState { path: path.into(), reason: error.to_string() }),
        };
        serde_json::from_slice(&bytes).map_err(|e| NotifyError::ReadState { path: path.into(), reason: e.to_string() })
    }

    /// Writes the state file atomically.
    pub fn store(&self, path: &Path) -> Result<(), NotifyError> {
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        write_atomically(path, &(json + "\n")).map_err(|source| NotifyError::WriteState { path: path.into(), source })
    }

    /// The deployments of `report` whose status or differences changed since
    /// this memory, each with its previous status.
    pub fn changes<'a>(&self, report: &'a DriftReport) -> Vec<(Status, &'a DeploymentReport)> {
        let in_sync = Remembered { status: Status::InSync, drift: Vec::new() };
        let mut changed = Vec::new();
        for deployment in &report.deployments {
            let before = self.deployments.get(&deployment.file).unwrap_or(&in_sync);
            if *before != Remembered::of(deployment) {
                changed.push((before.status, deployment));
            }
        }
        changed
    }

    /// Remembers every deployment of `report`.
    pub fn remember(&mut self, report: &DriftReport) {
        self.format_version = MEMORY_VERSION;
        for deployment in &report.deployments {
            self.deployments.insert(deployment.file.clone(), Remembered::of(deployment));
        }
    }
}

/// The JSON a webhook receives: the drift document restricted to the
/// deployments that changed, their previous status, and a `text` for chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// A message readable in Slack or Mattermost.
    pub text: String,
    /// The status each changed deployment had at the previous run, by file.
    pub previous: BTreeMap<String, Status>,
    /// The drift document of the changed deployments.
    #[serde(flatten)]
    pub report: DriftReport,
}

impl Payload {
    /// The payload for `changes` found in a run that started at `checked_at`.
    pub fn new(checked_at: u64, changes: &[(Status, &DeploymentReport)]) -> Self {
        let previous = changes.iter().map(|(before, d)| (d.file.clone(), *before)).collect();
        let report = DriftReport::new(checked_at, changes.iter().map(|(_, d)| (*d).clone()).collect());
        Self { text: chat_text(changes), previous, report }
    }
}

/// At most this many differences per deployment in the chat text.
const CHAT_LINES: usize = 10;

fn chat_text(changes: &[(Status, &DeploymentReport)]) -> String {
    let mut lines = vec!["govstate drift: governance status changed".to_string()];
    for (before, deployment) in changes {
        let detail = match deployment.status {
            Status::InSync => "back in sync".to_string(),
            // Counted as drift's text counts them, so the numbers match the lines.
            Status::Drifted => format!("DRIFTED ({})", counts(deployment)),
            Status::Error => format!("cannot be checked: {}", deployment.error.as_deref().unwrap_or("unknown error")),
        };
        lines.push(format!("• {} was {}, now {detail}", deployment.file, before.name()));
        for drifted in deployment.drift.iter().take(CHAT_LINES) {
            lines.push(format!("    {}", drift_line(drifted)));
        }
        if deployment.drift.len() > CHAT_LINES {
            lines.push(format!("    … and {} more", deployment.drift.len() - CHAT_LINES));
        }
    }
    lines.join("\n")
}

/// Where to post, and how hard to try.
#[derive(Debug, Clone)]
#[must_use]
pub struct Webhook {
    /// The receiver.
    pub url: Url,
    /// Attempts after the first, on 5xx, 408, 429, timeouts and connection errors (default 3).
    pub retries: u32,
    /// The wait before the first retry, doubled each time (default 1 s).
    pub backoff: Duration,
    /// How long one attempt may take (default 10 s).
    pub timeout: Duration,
}

impl Webhook {
    /// A webhook to `url` with the default retries.
    pub fn new(url: Url) -> Self {
        Self { url, retries: 3, backoff: Duration::from_secs(1), timeout: Duration::from_secs(10) }
    }

    /// Posts `payload`, retrying with backoff; returns the attempts made.
    pub async fn post(&self, payload: &Payload) -> Result<u32, NotifyError> {
        let body = serde_json::to_vec(payload).unwrap_or_default();
        // A redirect is refused, not followed: following would re-post the
        // payload wherever the receiver points, with a Referer naming the
        // webhook URL and its token.
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .build()
            .map_err(|e| NotifyError::Undelivered { attempts: 0, last: e.to_string() })?;
        let mut wait = self.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = client
                .post(self.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let last = match sent {
                Ok(response) if response.status().is_success() => return Ok(attempt),
                Ok(response) if !retryable(response.status().as_u16()) => {
                    return Err(NotifyError::Refused { status: response.status().as_u16() });
                }
                Ok(response) => format!("HTTP {}", response.status().as_u16()),
                // The error text names the URL, which may hold a token: keep only the kind.
                Err(error) if error.is_timeout() => "timed out".to_string(),
                Err(error) if error.is_connect() => "could not connect".to_string(),
                Err(_) => "request failed".to_string(),
            };
            if attempt > self.retries {
                return Err(NotifyError::Undelivered { attempts: attempt, last });
            }
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
    }
}

/// Server errors, request timeout and rate limiting are worth another try.
fn retryable(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::report::DriftKind;

    fn deployment(file: &str, status: Status, fee: Option<&str>) -> DeploymentReport {
        let drift = fee
            .map(|fee| Drifted {
                contract: "stake_manager".into(),
                field: "fees_pct.fee".into(),
                kind: DriftKind::Value,
                chain: Some(fee.into()),
                file: Some("4".into()),
                operation: None,
                last_change: None,
            })
            .into_iter()
            .collect();
        DeploymentReport {
            file: file.into(),
            status,
            chain_id: Some(1),
            block: Some(1),
            block_time: None,
            checked_at: 0,
            duration_seconds: 0.0,
            drift,
            error: None,
            warnings: Vec::new(),
        }
    }

    fn files(changes: &[(Status, &DeploymentReport)]) -> Vec<String> {
        changes.iter().map(|(_, d)| d.file.clone()).collect()
    }

    #[test]
    fn a_drift_is_a_change_once_and_its_clearing_is_another() {
        let mut memory = Memory::default();
        let first = DriftReport::new(
            0,
            vec![deployment("a", Status::InSync, None), deployment("b", Status::Drifted, Some("7"))],
        );
        assert_eq!(files(&memory.changes(&first)), ["b"]);
        memory.remember(&first);
        assert!(memory.changes(&first).is_empty(), "the same drift again is no change");
        let worse = DriftReport::new(0, vec![deployment("b", Status::Drifted, Some("9"))]);
        assert_eq!(files(&memory.changes(&worse)), ["b"], "another value is a new drift");
        memory.remember(&worse);
        let cleared = DriftReport::new(0, vec![deployment("b", Status::InSync, None)]);
        let changes = memory.changes(&cleared);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].0, Status::Drifted);
    }

    #[test]
    fn a_webhook_for_one_drifted_field_says_1_field_and_counts_pending_operations_apart() {
        let one = deployment("a", Status::Drifted, Some("7"));
        let text = Payload::new(5, &[(Status::InSync, &one)]).text;
        assert!(text.contains("now DRIFTED (1 field)\n"), "{text}");
        let mut with_pending = one.clone();
        with_pending.drift.push(Drifted {
            contract: "timelock".into(),
            field: "pending_operation".into(),
            kind: DriftKind::PendingOperation,
            chain: Some("0x01 on 0x02: waiting".into()),
            file: None,
            operation: None,
            last_change: None,
        });
        let text = Payload::new(5, &[(Status::InSync, &with_pending)]).text;
        assert!(text.contains("now DRIFTED (1 field, 1 pending operation)\n"), "the lines below match: {text}");
    }

    #[test]
    fn the_payload_carries_the_changed_deployments_and_a_chat_text() {
        let drifted = deployment("b", Status::Drifted, Some("7"));
        let payload = Payload::new(5, &[(Status::InSync, &drifted)]);
        assert_eq!(payload.report.deployments, vec![drifted]);
        assert_eq!(payload.previous.get("b"), Some(&Status::InSync));
        assert!(payload.text.contains("b was in_sync, now DRIFTED"), "{}", payload.text);
        assert!(payload.text.contains("stake_manager.fees_pct.fee: chain 7%, file 4%"), "{}", payload.text);
        let json = serde_json::to_value(&payload).unwrap_or_default();
        assert_eq!(json["format_version"], 1);
        assert_eq!(json["deployments"][0]["status"], "drifted");
    }

    #[test]
    fn a_state_file_that_is_not_json_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        std::fs::write(&path, "not json").expect("write");
        let error = Memory::load(&path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("state.json") && error.contains("delete it"), "{error}");
        assert_eq!(Memory::load(&dir.path().join("absent.json")).ok(), Some(Memory::default()));
    }
}
