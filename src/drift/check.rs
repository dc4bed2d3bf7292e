//! Checking deployment files against their chains: each file with its own
//! endpoint, many at once, an error in one never hiding the others.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::transports::http::reqwest::Url;
use futures::StreamExt;

use super::diff::differences;
use super::report::{DeploymentReport, DriftReport, Status};
use crate::observe::{ObserveError, ObserveOptions, Scope, observe};
use crate::rpc::{Patience, Redactor, RpcStats, connect_with, parse_endpoint};
use crate::spec::{KeyPath, Spec, SpecError, load_file};

/// How to check.
#[derive(Debug, Clone)]
#[must_use]
pub struct DriftOptions {
    /// The endpoint for files that name no `rpc_url_env` (default: none,
    /// which makes such files an error).
    pub rpc_url: Option<String>,
    /// How to observe each chain (default: [`ObserveOptions::default`],
    /// with the role-holder cache, so repeated checks scan only new blocks).
    pub observe: ObserveOptions,
    /// How many deployments are observed at once (default 8; 0 counts as 1).
    pub jobs: usize,
    /// How long one deployment may take before it is reported as an error
    /// (default 60 s); attributing its drift gets as long again, after
    /// which the drift is reported unattributed, with a warning.
    pub timeout: Duration,
    /// Check only these key paths of each file (`--target`; default: none,
    /// every key the file manages). A file that does not write a target is
    /// simply not checked for it.
    pub targets: Vec<KeyPath>,
    /// Where every check's JSON-RPC traffic is counted (default: a fresh
    /// counter), for `--stats`.
    pub stats: RpcStats,
    /// Per-request timeout, retries and batch size of every read
    /// (`--timeout`, `--retries`, `--max-batch`; default [`Patience::default`]).
    pub patience: Patience,
    /// Where [`DriftOptions::rpc_url`] came from, as errors name it
    /// (`--rpc-url`, `ETH_RPC_URL`; default: `--rpc-url or ETH_RPC_URL`).
    pub rpc_url_origin: Option<String>,
}

impl Default for DriftOptions {
    fn default() -> Self {
        Self {
            rpc_url: None,
            observe: ObserveOptions::default(),
            jobs: 8,
            timeout: Duration::from_secs(60),
            targets: Vec::new(),
            stats: RpcStats::default(),
            patience: Patience::default(),
            rpc_url_origin: None,
        }
    }
}

/// Why one deployment could not be checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The file could not be read or is not a valid desired state.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The file names an endpoint variable that is not set.
    #[error("{file}: rpc_url_env: the file reads its endpoint from {variable}, which is not set")]
    UnsetVariable {
        /// The file.
        file: String,
        /// The variable it names.
        variable: String,
    },
    /// Neither the file nor the command gives an endpoint.
    #[error("{file}: no RPC endpoint: the file names no rpc_url_env, and no --rpc-url or ETH_RPC_URL was given")]
    NoEndpoint {
        /// The file.
        file: String,
    },
    /// The endpoint is not a URL (the URL itself is not repeated: it may hold a key).
    #[error("{file}: the RPC endpoint from {origin} is not a URL")]
    BadUrl {
        /// The file.
        file: String,
        /// Where the endpoint came from.
        origin: String,
    },
    /// Reading the chain failed.
    #[error("{file}: could not observe the chain at {endpoint}: {source}")]
    Observe {
        /// The file.
        file: String,
        /// The endpoint, by where it came from and its host:
        /// `ETH_RPC_URL (rpc.example.com)`, never the whole URL.
        endpoint: String,
        /// What failed (boxed: it is large, and every other variant small).
        #[source]
        source: Box<ObserveError>,
    },
    /// The chain did not answer in time.
    #[error("{file}: the chain at {endpoint} did not answer within {} s", seconds.as_secs())]
    Timeout {
        /// The file.
        file: String,
        /// The endpoint, as for [`CheckError::Observe`].
        endpoint: String,
        /// The time allowed.
        seconds: Duration,
    },
}

/// The desired-state files named by `paths`: a file as given, a directory
/// as its `*.yaml` and `*.yml` files (not recursive, sorted). A path that
/// cannot be listed is kept, so that checking it reports why.
pub fn deployment_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut found: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                    .collect();
                found.sort();
                files.extend(found);
            }
            Err(_) => files.push(path.clone()),
        }
    }
    files
}

/// Checks every file, at most `options.jobs` at once; the report keeps the
/// files' order.
pub async fn check_all(files: &[PathBuf], options: &DriftOptions) -> DriftReport {
    let checked_at = unix_now();
    let checks = futures::stream::iter(files).map(|file| check_file(file, options));
    let deployments = checks.buffered(options.jobs.max(1)).collect().await;
    DriftReport::new(checked_at, deployments)
}

/// Checks one file: load, observe at one block, diff. Read-only.
pub async fn check_file(file: &Path, options: &DriftOptions) -> DeploymentReport {
    let started = Instant::now();
    let checked_at = unix_now();
    let source = file.display().to_string();
    let mut report = DeploymentReport {
        file: source.clone(),
        status: Status::Error,
        chain_id: None,
        block: None,
        block_time: None,
        checked_at,
        duration_seconds: 0.0,
        drift: Vec::new(),
        error: None,
        warnings: Vec::new(),
    };
    let mut endpoint = None;
    match observe_file(file, &source, options, &mut report, &mut endpoint).await {
        Ok(drift) if drift.is_empty() => report.status = Status::InSync,
        Ok(drift) => (report.status, report.drift) = (Status::Drifted, drift),
        Err(error) => report.error = Some(redact(describe(&error), endpoint.as_ref())),
    }
    report.duration_seconds = started.elapsed().as_secs_f64();
    report
}

async fn observe_file(
    file: &Path,
    source: &str,
    options: &DriftOptions,
    report: &mut DeploymentReport,
    used: &mut Option<Url>,
) -> Result<Vec<super::Drifted>, CheckError> {
    let spec = load_file(file)?;
    let desired = spec.desired().narrowed(&options.targets);
    report.chain_id = Some(desired.chain_id);
    let default = (options.rpc_url.as_deref(), options.rpc_url_origin.as_deref());
    let (url, origin) = endpoint(&spec, source, default)?;
    let named = named_endpoint(&origin, &url);
    *used = Some(url.clone());
    let observe_options = ObserveOptions { endpoint: Some(crate::rpc::endpoint_key(&url)), ..options.observe.clone() };
    let provider = connect_with(url, &options.stats, options.patience);
    let scope = Scope::of(&desired);
    let observing = observe(&provider, &scope, &observe_options);
    let observed = tokio::time::timeout(options.timeout, observing)
        .await
        .map_err(|_| CheckError::Timeout {
            file: source.to_string(),
            endpoint: named.clone(),
            seconds: options.timeout,
        })?
        .map_err(|source_error| CheckError::Observe {
            file: source.to_string(),
            endpoint: named,
            source: Box::new(source_error),
        })?;
    report.block = Some(observed.block.number);
    report.block_time = Some(observed.block.timestamp);
    let mut drift = differences(&desired, &observed);
    drift.extend(pending(&desired, &observed));
    let attributing = async {
        let mut warnings =
            super::attribute::attribute(&provider, &desired, &observed, &observe_options, &mut drift).await;
        warnings.extend(super::attribute::proposers(&provider, &observed, &mut drift).await);
        warnings
    };
    let warnings = tokio::time::timeout(options.timeout, attributing).await.unwrap_or_else(|_| {
        vec![format!("the drift is not attributed: the logs were not read within {} s", options.timeout.as_secs())]
    });
    report.warnings = warnings.into_iter().map(|w| redact(w, used.as_ref())).collect();
    Ok(drift)
}

/// Each timelock operation pending on a managed contract that touches what
/// the file manages, as a drift entry: the chain is about to change. Each is
/// decoded and judged by the file's scope: converging toward the file, moving
/// away from it, or not decodable. One out of the file's scope is not this
/// file's drift.
fn pending(desired: &crate::spec::Desired, observed: &crate::observe::Observed) -> Vec<super::Drifted> {
    use crate::plan::OperationScope;
    let records: Vec<_> = desired.contracts.iter().map(crate::plan::DesiredRecord::of).collect();
    let now = observed.block.timestamp;
    let mut found = Vec::new();
    for (timelock, operation) in observed.pending_operations() {
        let judged = crate::plan::judge(operation, &records, observed, &[]);
        let verdict = match judged.scope {
            OperationScope::OutOfScope => continue,
            OperationScope::Converges => "converges",
            OperationScope::Unknown => "unknown",
            OperationScope::Stale | OperationScope::Ours => "moves_away",
        };
        let effects = crate::render::effect_phrases(&judged.effects);
        let n = operation.calls.len();
        let described = format!(
            "{} on {timelock}: {}, {} ({n} call{}); {}{}",
            operation.id,
            operation.state.name(),
            crate::render::when(operation.ready_at, now),
            if n == 1 { "" } else { "s" },
            verdict_text(verdict),
            if effects.is_empty() { String::new() } else { format!(": it would {}", effects.join(", ")) },
        );
        let at = std::time::UNIX_EPOCH + Duration::from_secs(operation.ready_at);
        let decoded = super::PendingDrift {
            id: operation.id.to_string(),
            timelock: timelock.to_string(),
            state: operation.state.name().to_string(),
            ready_at: operation.ready_at,
            ready_at_rfc3339: humantime::format_rfc3339_seconds(at).to_string(),
            calls: n,
            verdict: verdict.to_string(),
            effects,
            proposer: None,
            scheduled: None,
        };
        found.push(super::Drifted {
            contract: "timelock".to_string(),
            field: "pending_operation".to_string(),
            kind: super::DriftKind::PendingOperation,
            chain: Some(described),
            file: None,
            operation: Some(decoded),
            last_change: None,
        });
    }
    found
}

/// How a pending operation stands to the file, for people.
fn verdict_text(verdict: &str) -> &'static str {
    match verdict {
        "converges" => "converges toward the file",
        "moves_away" => "moves away from the file",
        _ => "does not decode; judge it yourself",
    }
}

/// `ETH_RPC_URL (rpc.example.com)`: where the endpoint came from and its
/// host (and port, when the URL gives one), leaving out its path, query and
/// credentials, any of which may hold a key.
fn named_endpoint(origin: &str, url: &Url) -> String {
    let host = url.host_str().unwrap_or("no host");
    match url.port() {
        Some(port) => format!("{origin} ({host}:{port})"),
        None => format!("{origin} ({host})"),
    }
}

/// The file's endpoint and where it came from: its `rpc_url_env` variable
/// when it names one, else the default (its URL and origin).
fn endpoint(spec: &Spec, file: &str, default: (Option<&str>, Option<&str>)) -> Result<(Url, String), CheckError> {
    let (url, origin) = match spec.rpc_url_env() {
        Some(variable) => match std::env::var(variable) {
            Ok(url) if !url.is_empty() => (url, variable.to_string()),
            _ => return Err(CheckError::UnsetVariable { file: file.into(), variable: variable.into() }),
        },
        None => match default {
            (Some(url), origin) => (url.to_string(), origin.unwrap_or("--rpc-url or ETH_RPC_URL").to_string()),
            (None, _) => return Err(CheckError::NoEndpoint { file: file.into() }),
        },
    };
    match parse_endpoint(&url, &origin) {
        Ok(url) => Ok((url, origin)),
        Err(_) => Err(CheckError::BadUrl { file: file.into(), origin }),
    }
}

/// An error with its causes on one line, a cause the text already holds
/// left out.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = inner.source();
    }
    text
}

/// The message without the endpoint's secrets (user, password, path,
/// query: any may hold an API key): transport errors quote the URL they
/// failed on.
fn redact(message: String, endpoint: Option<&Url>) -> String {
    match endpoint {
        Some(url) => Redactor::new(url).redact(&message),
        None => message,
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_stands_for_its_yaml_files_and_a_missing_path_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["b.yaml", "a.yml", "notes.txt"] {
            std::fs::write(dir.path().join(name), "").expect("write");
        }
        let missing = dir.path().join("missing.yaml");
        let files = deployment_files(&[dir.path().to_path_buf(), missing.clone()]);
        assert_eq!(files, vec![dir.path().join("a.yml"), dir.path().join("b.yaml"), missing]);
    }

    #[test]
    fn an_endpoint_is_named_by_its_origin_and_host_only() {
        let url: Url = "https://user:pw@rpc.example.com/v3/secret-key?k=1".parse().expect("a URL");
        assert_eq!(named_endpoint("ETH_RPC_URL", &url), "ETH_RPC_URL (rpc.example.com)");
        let url: Url = "http://127.0.0.1:8545/".parse().expect("a URL");
        assert_eq!(named_endpoint("--rpc-url", &url), "--rpc-url (127.0.0.1:8545)");
    }

    #[test]
    fn the_endpoint_is_taken_out_of_error_messages() {
        let url: Url = "https://eth.example/v3/secret-key/".parse().expect("a URL");
        let message = "error sending request for url (https://eth.example/v3/secret-key/): refused".to_string();
        assert_eq!(redact(message, Some(&url)), "error sending request for url (https://eth.example/…): refused");
        let message = "at https://eth.example/v3/secret-key, refused".to_string();
        assert_eq!(redact(message, Some(&url)), "at https://eth.example/…, refused");
    }

    #[tokio::test]
    async fn an_invalid_file_is_an_error_naming_the_file_and_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("bad.yaml");
        std::fs::write(&file, "version: 1\nchain_id: 1\ncontracts: {}\narena: {paused: maybe}\n").expect("write");
        let report = check_file(&file, &DriftOptions::default()).await;
        assert_eq!(report.status, Status::Error);
        let error = report.error.unwrap_or_default();
        assert!(error.contains("bad.yaml") && error.contains("arena.paused"), "{error}");
    }

    #[tokio::test]
    async fn a_file_without_any_endpoint_is_an_error_saying_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ok.yaml");
        std::fs::write(&file, "version: 1\nchain_id: 1\n").expect("write");
        let report = check_file(&file, &DriftOptions::default()).await;
        assert_eq!(report.status, Status::Error);
        assert!(report.error.unwrap_or_default().contains("no RPC endpoint"));
    }
}
