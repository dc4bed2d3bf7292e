//! `govstate plan` as a whole process against its floor: the very same
//! JSON-RPC request bodies, sent by curl, with the same batch sizes and the
//! same concurrency, in the same run against the same anvil.
//!
//! The bodies are recorded by passing one `plan` through the (fault-free)
//! proxy of `tests/fault_proxy`, then replayed round trip by round trip:
//! the pin batch, then the log batches at once, then the read batches at
//! once (as govstate sends them). Each side is timed as processes, median of
//! [`RUNS`]; govstate's peak resident memory comes from `wait4`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alloy::transports::http::reqwest::Url;

use super::fault_proxy::{FaultProxy, Faults};

/// Runs per side; the median is reported.
pub const RUNS: usize = 5;

/// One size's measurement.
pub struct Floor {
    /// `govstate plan`, whole process, median.
    pub govstate: Duration,
    /// The same bodies through curl, median.
    pub curl: Duration,
    /// Round trips (HTTP requests) per plan.
    pub round_trips: usize,
    /// Requests in the largest batch.
    pub largest_batch: usize,
    /// govstate's peak resident set, in KiB (largest over the runs).
    pub peak_rss_kib: u64,
}

impl Floor {
    /// govstate's time over the floor's.
    pub fn ratio(&self) -> f64 {
        self.govstate.as_secs_f64() / self.curl.as_secs_f64()
    }
}

/// The flags both the recorded and the timed `plan` run with.
fn plan_args<'a>(file: &'a str, url: &'a str) -> Vec<&'a str> {
    vec!["plan", file, "--no-cache", "--rpc-url", url]
}

/// Measures `plan` of `file` against the chain at `url`.
pub async fn measure(url: &Url, file: &Path, dir: &Path) -> Floor {
    let file = file.to_string_lossy().into_owned();
    let proxy = FaultProxy::start(url.clone(), Faults { record: true, ..Faults::none(0) }).await;
    let proxied = proxy.url.to_string();
    let (ok, _) = run(&mut govstate(&plan_args(&file, &proxied)));
    assert!(ok, "plan through the recording proxy");
    let bodies = proxy.seen(|s| s.bodies.clone());
    drop(proxy);
    let groups = round_trips(&bodies, dir);
    let largest_batch = bodies.iter().map(|b| batch_len(b)).max().unwrap_or(0);

    let direct = url.to_string();
    let mut govstate_times = Vec::with_capacity(RUNS);
    let mut peak_rss_kib = 0;
    let mut curl_times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let (ok, rss) = run(&mut govstate(&plan_args(&file, &direct)));
        govstate_times.push(start.elapsed());
        assert!(ok, "plan");
        peak_rss_kib = peak_rss_kib.max(rss);
        let start = Instant::now();
        for group in &groups {
            replay(group, &direct);
        }
        curl_times.push(start.elapsed());
    }
    Floor {
        govstate: median(govstate_times),
        curl: median(curl_times),
        round_trips: bodies.len(),
        largest_batch,
        peak_rss_kib,
    }
}

fn govstate(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_govstate"));
    command.args(args).env("NO_COLOR", "1").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    command
}

/// The bodies written to files and grouped by round trip: the pin batch,
/// the log batches, the read batches; anything else alone, in order.
fn round_trips(bodies: &[Vec<u8>], dir: &Path) -> Vec<Vec<String>> {
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let path = dir.join(format!("body-{i}.json"));
        std::fs::write(&path, body).expect("body written");
        let path = path.to_string_lossy().into_owned();
        let text = String::from_utf8_lossy(body);
        let kind = if text.contains("eth_chainId") {
            "pin"
        } else if text.contains("eth_getLogs") {
            "logs"
        } else if text.contains("eth_call") {
            "reads"
        } else {
            "other"
        };
        match groups.last_mut() {
            Some((last, group)) if *last == kind && kind != "other" => group.push(path),
            _ => groups.push((kind, vec![path])),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// Sends one round trip's bodies with curl, all at once, and waits for all.
fn replay(group: &[String], url: &str) {
    let children: Vec<_> = group
        .iter()
        .map(|body| {
            Command::new("curl")
                .args(["-sS", "-o", "/dev/null", "-H", "content-type: application/json"])
                .arg("--data-binary")
                .arg(format!("@{body}"))
                .arg(url)
                .spawn()
                .expect("curl starts")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().expect("curl runs").success(), "curl");
    }
}

/// Runs `command` to the end; returns whether it succeeded and its peak
/// resident set in KiB. The child is reaped by `wait4` itself (std's
/// `wait` cannot report its resource use).
#[allow(clippy::zombie_processes)]
fn run(command: &mut Command) -> (bool, u64) {
    let child = command.spawn().expect("starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data, valid when zeroed; wait4 writes it
    // and the status for the child we own and have not waited for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let ok = waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (ok, usage.ru_maxrss.max(0) as u64)
}

fn batch_len(body: &[u8]) -> usize {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(entries)) => entries.len(),
        _ => 1,
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
