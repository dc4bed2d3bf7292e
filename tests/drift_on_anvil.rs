//! `govstate drift` against real devnets: several deployments at once, each
//! with its own endpoint; JSON, text and Prometheus output; webhooks on a
//! change of status; `--watch` serving `/metrics` until SIGTERM.

mod common;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use common::TestChain;
use serde_json::{Value, json};
use support::{Receiver, cast_send, govstate, owner_key, parse_metrics, set_orchestrator, value, write_state};

/// An endpoint nothing listens on: port 1 on loopback is refused at once,
/// and no test can take it (binding it needs root's privilege).
const DEAD: &str = "http://127.0.0.1:1";

fn rogue() -> Address {
    govstate::devnet::dev_signer(3).expect("account 3").address()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Grants a rogue orchestrator and sets the fee to 7% with `cast`, out of band.
async fn drift_out_of_band(chain: &TestChain) {
    set_orchestrator(chain, rogue(), true).await;
    cast_send(chain, chain.address("stake_manager"), "setFeePct(uint256)", &["7"]).await;
}

fn deployment<'a>(report: &'a Value, file: &str) -> &'a Value {
    let all = report["deployments"].as_array().expect("a list of deployments");
    all.iter().find(|d| d["file"].as_str().is_some_and(|f| f.ends_with(file))).expect("the file is reported")
}

#[tokio::test]
async fn drift_reports_each_deployment_on_two_devnets_and_exits_1_then_2_then_0() {
    let (a, b) = tokio::join!(TestChain::start(), TestChain::start());
    let dir = tempfile::tempdir().expect("tempdir");
    let states = dir.path().join("state");
    std::fs::create_dir(&states).expect("state dir");
    write_state(&a, &states.join("a.yaml"), Some("DEVNET_A_RPC")).await;
    write_state(&b, &states.join("b.yaml"), None).await;
    write_state(&a, &states.join("dead.yaml"), Some("DEAD_RPC")).await;
    drift_out_of_band(&b).await;
    let env = [("DEVNET_A_RPC", a.devnet.url().as_str()), ("DEAD_RPC", DEAD)];
    let cache = dir.path().join("cache");
    let drift = |format: &'static str| {
        let (states, url, cache) = (states.clone(), b.devnet.url().to_string(), cache.clone());
        async move { govstate(&["drift", path(&states), "--format", format, "--rpc-url", &url], &cache, &env).await }
    };

    let run = drift("json").await;
    assert_eq!(run.code, Some(1), "an error outranks drift: {run:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["summary"], json!({"in_sync": 1, "drifted": 1, "error": 1}));
    assert_eq!(deployment(&report, "a.yaml")["status"], "in_sync");
    assert_eq!(deployment(&report, "a.yaml")["chain_id"], 31337);
    let drifted = deployment(&report, "b.yaml");
    assert_eq!(drifted["status"], "drifted");
    let expected = json!([
        {"contract": "arena", "field": "orchestrators", "kind": "holder_added", "chain": rogue().to_string()},
        {"contract": "stake_manager", "field": "fees_pct.fee", "kind": "value", "chain": "7", "file": "0"},
    ]);
    let mut found = drifted["drift"].as_array().cloned().unwrap_or_default();
    found.sort_by_key(|d| d["contract"].to_string());
    for entry in &mut found {
        // Who made each change is asserted in tests/operator_view.rs.
        let change = entry.as_object_mut().and_then(|o| o.remove("last_change"));
        assert!(change.is_some_and(|c| c["transaction"].is_string()), "each change is attributed: {entry}");
    }
    assert_eq!(Value::Array(found), expected);
    let dead = deployment(&report, "dead.yaml");
    assert_eq!(dead["status"], "error");
    let error = dead["error"].as_str().unwrap_or_default();
    assert!(error.contains("dead.yaml") && error.contains("Connection refused"), "{dead}");
    // Named by its host; its path and credentials are never repeated
    // (trust_boundaries.rs covers every part of a URL).
    assert!(error.contains("http://127.0.0.1:1"), "the endpoint is named by its host: {error}");

    let run = drift("text").await;
    assert_eq!(run.code, Some(1));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("in sync") && l.contains("a.yaml")), "{}", run.stdout);
    assert!(
        lines.iter().any(|l| l.starts_with("drifted") && l.contains("b.yaml") && l.ends_with(": 2 fields")),
        "{}",
        run.stdout
    );
    assert!(lines.iter().any(|l| l.contains("~ stake_manager.fees_pct.fee: chain 7%, file 0%")), "{}", run.stdout);
    let revoke =
        format!("- arena.orchestrators: {} (holds the role on chain, not in the file: apply revokes it)", rogue());
    assert!(
        lines.iter().any(|l| l.contains(&revoke)),
        "a holder apply revokes is marked as plan marks it: {}",
        run.stdout
    );
    assert!(lines.iter().any(|l| l.starts_with("error") && l.contains("dead.yaml")), "{}", run.stdout);

    std::fs::remove_file(states.join("dead.yaml")).expect("removed");
    let run = drift("json").await;
    assert_eq!(run.code, Some(2), "drift without an error exits 2: {run:?}");

    let file = states.join("b.yaml");
    let receipts = dir.path().join("receipts");
    let apply =
        ["apply", path(&file), "--yes", "--rpc-url", b.devnet.url().as_str(), "--receipts-dir", path(&receipts)];
    let run = govstate(&apply, &cache, &[("GOVSTATE_PRIVATE_KEY", &owner_key())]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let run = drift("json").await;
    assert_eq!(run.code, Some(0), "in sync after the apply: {run:?}");
    assert!(!run.stdout.contains(&owner_key()[2..]) && !run.stderr.contains(&owner_key()[2..]));
}

#[tokio::test]
async fn the_prometheus_textfile_parses_and_carries_every_metric() {
    let chain = TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let states = dir.path().join("state");
    std::fs::create_dir(&states).expect("state dir");
    // A quote and a backslash in a file name must be escaped in the label.
    let odd = "in \"sync\\.yaml";
    write_state(&chain, &states.join("drifted.yaml"), None).await;
    drift_out_of_band(&chain).await;
    write_state(&chain, &states.join(odd), None).await;
    let out = dir.path().join("textfile").join("govstate.prom");
    std::fs::create_dir(dir.path().join("textfile")).expect("textfile dir");
    let before = support_now();
    let args = ["drift", path(&states), "--prometheus-out", path(&out), "--rpc-url", chain.devnet.url().as_str()];
    let run = govstate(&args, &dir.path().join("cache"), &[]).await;
    assert_eq!(run.code, Some(2), "{run:?}");
    let text = std::fs::read_to_string(&out).expect("the textfile is written");
    let samples = parse_metrics(&text);
    let (odd_file, drifted_file) = (states.join(odd), states.join("drifted.yaml"));
    let (odd_file, drifted_file) = (path(&odd_file), path(&drifted_file));
    assert_eq!(value(&samples, "govstate_in_sync", &[("file", odd_file)]), Some(1.0), "{text}");
    assert_eq!(value(&samples, "govstate_in_sync", &[("file", drifted_file)]), Some(0.0), "{text}");
    assert_eq!(value(&samples, "govstate_drifted_fields", &[("file", odd_file)]), Some(0.0));
    assert_eq!(value(&samples, "govstate_drifted_fields", &[("file", drifted_file)]), Some(2.0));
    for file in [odd_file, drifted_file] {
        assert_eq!(value(&samples, "govstate_check_success", &[("file", file)]), Some(1.0));
        let at = value(&samples, "govstate_last_check_timestamp_seconds", &[("file", file)]).unwrap_or(0.0);
        assert!(at >= before as f64 && at <= support_now() as f64, "{at}");
        let took = value(&samples, "govstate_observe_duration_seconds", &[("file", file)]).unwrap_or(-1.0);
        assert!(took > 0.0 && took < 60.0, "{took}");
    }
    let field = |contract, field| [("file", drifted_file), ("contract", contract), ("field", field)];
    assert_eq!(value(&samples, "govstate_field_drift", &field("arena", "orchestrators")), Some(1.0));
    assert_eq!(value(&samples, "govstate_field_drift", &field("stake_manager", "fees_pct.fee")), Some(1.0));
    assert_eq!(samples.iter().filter(|(n, _, _)| n == "govstate_field_drift").count(), 2, "{text}");
    for (name, _, _) in govstate::drift::METRICS {
        assert!(text.contains(&format!("# HELP {name} ")) && text.contains(&format!("# TYPE {name} gauge")));
    }
    let left = std::fs::read_dir(dir.path().join("textfile")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 1, "no temporary file is left beside the textfile");
}

fn support_now() -> u64 {
    govstate::drift::unix_now()
}

#[tokio::test]
async fn a_webhook_is_posted_once_for_a_new_drift_and_once_when_it_clears() {
    let chain = TestChain::start().await;
    let receiver = Receiver::start(&[]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("devnet.yaml");
    write_state(&chain, &file, None).await;
    let state = dir.path().join("webhook-state.json");
    let args = [
        "drift",
        path(&file),
        "--webhook",
        &receiver.url,
        "--webhook-state",
        path(&state),
        "--rpc-url",
        chain.devnet.url().as_str(),
    ];
    let cache = dir.path().join("cache");
    assert_eq!(govstate(&args, &cache, &[]).await.code, Some(0));
    assert!(receiver.requests().is_empty(), "nothing changed: no webhook");

    drift_out_of_band(&chain).await;
    for _ in 0..2 {
        let run = govstate(&args, &cache, &[]).await;
        assert_eq!(run.code, Some(2), "{run:?}");
    }
    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), 1, "one webhook for one new drift over two runs: {delivered:#?}");
    let payload = &delivered[0];
    assert_eq!(payload["format_version"], 1);
    assert_eq!(payload["deployments"][0]["status"], "drifted");
    assert_eq!(payload["previous"][path(&file)], "in_sync");
    let text = payload["text"].as_str().unwrap_or_default();
    assert!(text.contains("DRIFTED") && text.contains("stake_manager.fees_pct.fee: chain 7%, file 0%"), "{text}");

    let receipts = dir.path().join("receipts");
    let apply =
        ["apply", path(&file), "--yes", "--rpc-url", chain.devnet.url().as_str(), "--receipts-dir", path(&receipts)];
    assert_eq!(govstate(&apply, &cache, &[("GOVSTATE_PRIVATE_KEY", &owner_key())]).await.code, Some(0));
    for _ in 0..2 {
        assert_eq!(govstate(&args, &cache, &[]).await.code, Some(0));
    }
    let delivered = receiver.delivered();
    assert_eq!(delivered.len(), 2, "one more webhook when the drift clears: {delivered:#?}");
    assert_eq!(delivered[1]["deployments"][0]["status"], "in_sync");
    assert_eq!(delivered[1]["previous"][path(&file)], "drifted");
}

#[tokio::test]
async fn a_webhook_answered_500_then_200_is_delivered_once() {
    let chain = TestChain::start().await;
    let receiver = Receiver::start(&[500]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("devnet.yaml");
    write_state(&chain, &file, None).await;
    drift_out_of_band(&chain).await;
    let state = dir.path().join("webhook-state.json");
    let args = [
        "drift",
        path(&file),
        "--webhook",
        &receiver.url,
        "--webhook-state",
        path(&state),
        "--rpc-url",
        chain.devnet.url().as_str(),
    ];
    let cache = dir.path().join("cache");
    for _ in 0..2 {
        let run = govstate(&args, &cache, &[]).await;
        assert_eq!(run.code, Some(2), "delivered on the retry, so only the drift counts: {run:?}");
    }
    let statuses: Vec<u16> = receiver.requests().iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, vec![500, 200], "retried once after the 500, then never again");
    assert_eq!(receiver.delivered().len(), 1);
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_exits_1_without_hiding_the_drift() {
    let chain = TestChain::start().await;
    let receiver = Receiver::start(&[503, 503, 503, 503]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("devnet.yaml");
    write_state(&chain, &file, None).await;
    drift_out_of_band(&chain).await;
    let state = dir.path().join("webhook-state.json");
    let args = [
        "drift",
        path(&file),
        "--format",
        "json",
        "--webhook",
        &receiver.url,
        "--webhook-state",
        path(&state),
        "--webhook-retries",
        "1",
        "--rpc-url",
        chain.devnet.url().as_str(),
    ];
    let cache = dir.path().join("cache");
    let run = govstate(&args, &cache, &[]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("the drift report is still printed");
    assert_eq!(report["deployments"][0]["status"], "drifted");
    assert!(run.stderr.contains("not delivered after 2 attempts: HTTP 503"), "{}", run.stderr);
    // Not remembered as sent: the next run tries again.
    let run = govstate(&args, &cache, &[]).await;
    assert_eq!(run.code, Some(1));
    assert_eq!(receiver.requests().len(), 4);
}

#[tokio::test]
async fn watch_serves_metrics_that_follow_an_out_of_band_change_and_stops_on_sigterm() {
    use tokio::io::AsyncBufReadExt;
    let chain = TestChain::start().await;
    let anvil = chain.devnet.anvil_pid();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("devnet.yaml");
    write_state(&chain, &file, None).await;
    let interval = Duration::from_secs(1);
    let args =
        ["drift", path(&file), "--watch", "1s", "--listen", "127.0.0.1:0", "--rpc-url", chain.devnet.url().as_str()];
    let mut child = support::command(&args, &dir.path().join("cache"), &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("govstate starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let banner = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the banner comes")
        .expect("stderr is readable")
        .unwrap_or_default();
    let address = banner.split("http://").nth(1).and_then(|s| s.split('/').next()).expect("an address").to_string();
    let client = alloy::transports::http::reqwest::Client::new();
    let get = |route: &'static str| {
        let (client, url) = (client.clone(), format!("http://{address}{route}"));
        async move {
            let response = client.get(url).send().await.ok()?;
            Some((response.status().as_u16(), response.text().await.ok()?))
        }
    };
    let in_sync = || async {
        let (_, text) = get("/metrics").await.filter(|(s, _)| *s == 200)?;
        value(&parse_metrics(&text), "govstate_in_sync", &[("file", path(&file))])
    };
    assert_eq!(poll(Duration::from_secs(30), || async { in_sync().await.filter(|v| *v == 1.0) }).await, Some(1.0));
    assert_eq!(get("/healthz").await.map(|(s, _)| s), Some(200));

    drift_out_of_band(&chain).await;
    let changed = Instant::now();
    // Two intervals, plus the time one check may take on a loaded machine.
    let deadline = 2 * interval + Duration::from_secs(5);
    let seen = poll(deadline, || async { in_sync().await.filter(|v| *v == 0.0) }).await;
    assert_eq!(seen, Some(0.0), "the metrics did not change within {deadline:?}");
    assert!(changed.elapsed() <= deadline);

    let pid = child.id().expect("running") as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("stops").expect("status");
    assert_eq!(status.code(), Some(0), "a clean exit on SIGTERM");
    assert!(std::net::TcpListener::bind(&address).is_ok(), "the port {address} is released");
    drop(chain);
    assert!(!Path::new(&format!("/proc/{anvil}")).exists(), "anvil {anvil} is left running");
}

/// Polls `probe` until it gives a value or `deadline` passes.
async fn poll<T, F, Fut>(deadline: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if let Some(found) = probe().await {
            return Some(found);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}
