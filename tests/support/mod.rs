//! Helpers for the drift and import tests: running the binary without
//! blocking the runtime (a webhook receiver may run on it), writing state
//! files that name their endpoint, out-of-band changes, a webhook receiver.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use alloy::primitives::Address;
use alloy::sol_types::SolCall;
use govstate::contracts::arena::SelfPlayArena;
use govstate::observe::{ObserveOptions, Scope, desired_state_yaml, observe};

use crate::common::TestChain;

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// The binary with a clean environment: no endpoint, no key, no colour,
/// and the role-holder cache in `cache`.
pub fn command(args: &[&str], cache: &Path, env: &[(&str, &str)]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_govstate"));
    command
        .args(args)
        .env_remove("ETH_RPC_URL")
        .env_remove("GOVSTATE_PRIVATE_KEY")
        .env("GOVSTATE_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// Runs the binary to completion.
pub async fn govstate(args: &[&str], cache: &Path, env: &[(&str, &str)]) -> Run {
    let output = command(args, cache, env).output().await.expect("govstate runs");
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Run { code: output.status.code(), stdout: text(output.stdout), stderr: text(output.stderr) }
}

/// Writes the desired-state file equal to `chain` as deployed now; when
/// `rpc_url_env` is given, the file reads its endpoint from that variable.
pub async fn write_state(chain: &TestChain, path: &Path, rpc_url_env: Option<&str>) {
    let deployment = chain.devnet.deployment();
    let options = ObserveOptions::without_cache();
    let observed = observe(&chain.reader(), &Scope::everything(deployment), &options).await.expect("observe");
    let mut text = desired_state_yaml(&observed, deployment, "");
    if let Some(variable) = rpc_url_env {
        text = text.replacen("\ncontracts:", &format!("\nrpc_url_env: {variable}\ncontracts:"), 1);
        assert!(text.contains("rpc_url_env"), "{text}");
    }
    std::fs::write(path, text).expect("state file written");
}

/// The key of anvil's account 0, which owns and governs the devnet's contracts.
pub fn owner_key() -> String {
    let signer = govstate::devnet::dev_signer(0).expect("account 0");
    format!("0x{}", alloy::hex::encode(signer.to_bytes()))
}

/// Grants (or revokes) the orchestrator role out of band, as the owner.
pub async fn set_orchestrator(chain: &TestChain, who: Address, allowed: bool) {
    let data = SelfPlayArena::setOrchestratorCall { orchestrator: who, allowed }.abi_encode();
    chain.send(0, chain.address("arena"), data).await;
}

/// Runs `cast send` as the owner, the way an operator changes a setting by hand.
pub async fn cast_send(chain: &TestChain, to: Address, signature: &str, args: &[&str]) {
    let local = concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules/@foundry-rs/cast-linux-amd64/bin/cast");
    let cast = if Path::new(local).is_file() { local } else { "cast" };
    let output = tokio::process::Command::new(cast)
        .args(["send", "--rpc-url", chain.devnet.url().as_str(), "--private-key", &owner_key()])
        .arg(to.to_string())
        .arg(signature)
        .args(args)
        .output()
        .await
        .expect("cast runs");
    assert!(output.status.success(), "cast send failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// One metric sample: name, labels, value.
pub type Sample = (String, HashMap<String, String>, f64);

/// Parses the Prometheus text exposition format with an independent parser.
pub fn parse_metrics(text: &str) -> Vec<Sample> {
    use openmetrics_parser::{PrometheusValue, prometheus::parse_prometheus};
    let exposition = parse_prometheus(text).unwrap_or_else(|e| panic!("not valid exposition format: {e:?}\n{text}"));
    let mut samples = Vec::new();
    for (name, family) in &exposition.families {
        for sample in family.iter_samples() {
            let labels = sample.get_labelset().expect("labels");
            let labels = labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let value = match &sample.value {
                PrometheusValue::Gauge(n) => n.as_f64(),
                other => panic!("{name} is not a gauge: {other:?}"),
            };
            samples.push((name.clone(), labels, value));
        }
    }
    samples
}

/// The value of `name` whose labels include every pair of `labels`.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
        .map(|(_, _, v)| *v)
}

/// A webhook receiver on 127.0.0.1: answers with the scripted statuses in
/// order (then 200), and keeps every body it got with the status it gave.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<(u16, serde_json::Value)>>>,
}

impl Receiver {
    /// Starts the receiver on a free port.
    pub async fn start(script: &[u16]) -> Self {
        use http_body_util::{BodyExt, Full};
        use hyper::body::Bytes;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let received: Arc<Mutex<Vec<(u16, serde_json::Value)>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<u16>>()));
        let log = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (log, script) = (log.clone(), script.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let (log, script) = (log.clone(), script.clone());
                        async move {
                            let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                            let status = script.lock().expect("lock").pop_front().unwrap_or(200);
                            log.lock().expect("lock").push((status, json));
                            let mut response = hyper::Response::new(Full::new(Bytes::new()));
                            *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Self { url, received }
    }

    /// Every request so far: the status answered and the JSON body.
    pub fn requests(&self) -> Vec<(u16, serde_json::Value)> {
        self.received.lock().expect("lock").clone()
    }

    /// The bodies that were accepted (answered 2xx).
    pub fn delivered(&self) -> Vec<serde_json::Value> {
        self.requests().into_iter().filter(|(s, _)| (200..300).contains(s)).map(|(_, b)| b).collect()
    }
}

/// The production devnet's timelock delay used by the tests, in seconds.
pub const TIMELOCK_DELAY: u64 = 60;

/// Sends `data` to `target` the only way production allows: scheduled on the
/// TimelockController as a SystemPause `executeGovernanceCall`, time warped
/// past the delay, then executed (account 0 proposes and executes).
pub async fn through_timelock(chain: &TestChain, target: Address, data: Vec<u8>) {
    chain.through_timelock(target, data, TIMELOCK_DELAY).await;
}
