//! A fault-injecting JSON-RPC proxy: a small tokio HTTP server that sits
//! between govstate and a real anvil and, by a seeded random draw per
//! request, misbehaves the way hosted endpoints do.
//!
//! Reproducible: request `n` draws from `StdRng::seed_from_u64(seed, n)`,
//! and sends draw from their own sequence (sends are sequential, so the
//! same sends meet the same faults whatever the reads around them do).
//!
//! The HTTP side is hand-written on purpose: a fault such as "close the
//! socket after forwarding" or "answer half a body" is exactly what an HTTP
//! server library exists to prevent.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::transports::http::reqwest::{self, Url};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One way to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Close the connection without forwarding or answering.
    Drop,
    /// Forward to anvil, then close without answering: a lost answer.
    DropAfterForwarding,
    /// 429 with `Retry-After: 1`.
    TooManyRequests,
    /// 500.
    InternalError,
    /// 502.
    BadGateway,
    /// 503.
    Unavailable,
    /// Answer only after the client's time-out.
    Slow,
    /// Forward, then answer the first half of the body.
    Truncated,
    /// Answer 200 with an HTML page.
    NotJson,
    /// Forward a batch, then leave one answer out.
    MissingId,
    /// Forward a batch, then answer in reverse order.
    OutOfOrder,
}

/// The faults hosted endpoints commonly show, for a mixed run.
pub const COMMON: &[Fault] = &[
    Fault::Drop,
    Fault::DropAfterForwarding,
    Fault::InternalError,
    Fault::BadGateway,
    Fault::Unavailable,
    Fault::Truncated,
    Fault::NotJson,
    Fault::MissingId,
    Fault::OutOfOrder,
];

/// How the proxy misbehaves.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Seed of every draw.
    pub seed: u64,
    /// Chance that a read meets a fault.
    pub rate: f64,
    /// The faults drawn from, uniformly.
    pub kinds: Vec<Fault>,
    /// Chance that a send's answer is lost after anvil took it.
    pub lose_sends: f64,
    /// Every request meets this fault (a dead endpoint).
    pub always: Option<Fault>,
    /// Only the first request meets this fault.
    pub first: Option<Fault>,
    /// `eth_chainId` answers this chain instead.
    pub chain_id: Option<u64>,
    /// The hash of blocks read by number is forged this many times (a reorg
    /// seen under the reads).
    pub forged_hashes: u64,
    /// How long [`Fault::Slow`] waits.
    pub slow: Duration,
    /// Keep every request body (for replaying the same reads elsewhere).
    pub record: bool,
    /// The sends at these positions (0-based, in order of arrival) are
    /// answered with a JSON-RPC error and never reach anvil.
    pub refuse_sends: Vec<u64>,
    /// Requests for this method are answered with this JSON-RPC error code
    /// (a node without `eth_simulateV1`, or one refusing it).
    pub method_error: Option<(&'static str, i64)>,
    /// Batches longer than this are refused as a whole (a provider's cap).
    pub max_batch: Option<usize>,
    /// The fee the node suggests, in wei: `eth_gasPrice`,
    /// `eth_maxPriorityFeePerGas` and every reward of `eth_feeHistory`
    /// answer it (a lying or compromised node).
    pub fee_suggestion: Option<u128>,
    /// Sends reach anvil, but their answer carries a made-up hash.
    pub fake_send_hash: bool,
    /// Some requests of one method answered with a JSON-RPC error in place
    /// of anvil's answer, inside batches too (a load-balanced provider).
    pub entry_error: Option<EntryError>,
    /// Some whole requests answered with an HTTP error status and a
    /// JSON-RPC error body (how hosted providers rate-limit and bill).
    pub http_answer: Option<HttpAnswer>,
    /// `eth_getLogs` over more blocks than a provider allows is refused
    /// the way that provider does.
    pub log_cap: Option<LogCap>,
    /// Once a send has reached anvil, every request carrying an `eth_call`
    /// is answered with this JSON-RPC error in each entry (a load-balanced
    /// provider's `-32000 header not found` after the sends, for good).
    pub calls_fail_after_send: Option<(i64, &'static str)>,
    /// Once a send has reached anvil, every request carrying an `eth_call`
    /// is held this long before it is forwarded (a verification that hangs).
    pub calls_hang_after_send: Option<Duration>,
    /// [`Faults::forged_hashes`] start only once a send has reached anvil
    /// (a reorganisation seen by the verification, not by the plan).
    pub forge_after_send: bool,
    /// Once this many sends have reached anvil, the endpoint's quota is
    /// spent: every later request, receipt polls included, is answered with
    /// an HTTP error status and a JSON-RPC error body, while anvil mines
    /// what it took.
    pub quota_after_sends: Option<QuotaAfterSends>,
    /// Answer as a node before London does: blocks without
    /// `baseFeePerGas`, no `eth_feeHistory` or `eth_maxPriorityFeePerGas`
    /// (`-32601`), and a typed (EIP-1559) transaction refused, never
    /// forwarded.
    pub pre_london: bool,
    /// Requests carrying this method are held this long before they are
    /// forwarded (a fork's state fetches, `eth_getStorageAt`, that keep it
    /// busy).
    pub hold_method: Option<(&'static str, Duration)>,
}

/// How a hosted provider answers once its quota is spent.
#[derive(Debug, Clone, Copy)]
pub struct QuotaAfterSends {
    /// The sends that reach anvil before the quota runs out.
    pub sends: u64,
    /// The HTTP status, e.g. 402.
    pub status: u16,
    /// The JSON-RPC error code in the body.
    pub code: i64,
    /// The JSON-RPC error message in the body.
    pub message: &'static str,
}

/// Alchemy's answer to an app over its monthly compute units.
pub const ALCHEMY_QUOTA: QuotaAfterSends = QuotaAfterSends {
    sends: 1,
    status: 402,
    code: -32001,
    message: "Monthly capacity limit exceeded. Upgrade your scaling policy for continued service.",
};

/// The first `times` requests of `method` (batch entries included) are
/// answered with the JSON-RPC error `code` / `message`.
#[derive(Debug, Clone, Copy)]
pub struct EntryError {
    /// The method refused, e.g. `eth_call`.
    pub method: &'static str,
    /// The JSON-RPC error code.
    pub code: i64,
    /// The error message.
    pub message: &'static str,
    /// How many requests meet it.
    pub times: u64,
    /// Only requests pinned at a block number (not `latest`) meet it: a
    /// block one backend behind the load balancer has not seen yet.
    pub pinned: bool,
}

/// The first `times` HTTP requests are answered `status` with a JSON-RPC
/// error object (id null) as their body.
#[derive(Debug, Clone, Copy)]
pub struct HttpAnswer {
    /// The HTTP status, e.g. 429 or 402.
    pub status: u16,
    /// The JSON-RPC error code in the body.
    pub code: i64,
    /// The JSON-RPC error message in the body.
    pub message: &'static str,
    /// How many requests meet it.
    pub times: u64,
}

/// A provider's `eth_getLogs` block-range limit and how it says so.
#[derive(Debug, Clone, Copy)]
pub struct LogCap {
    /// The most blocks allowed in one query.
    pub blocks: u64,
    /// Whose words (and way of counting) the refusal uses.
    pub style: CapStyle,
}

/// How providers refuse too wide an `eth_getLogs`, as they document it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapStyle {
    /// Infura (documented): -32005 "query returned more than 10000
    /// results. Try with this block range [0x…, 0x…]."
    Infura,
    /// Infura (live): -32602 "range N exceeds limit of 10000", counting
    /// `to − from`.
    InfuraRange,
    /// Alchemy: -32600 "You can make eth_getLogs requests with up to a N
    /// block range. Based on your parameters, this block range should
    /// work: [0x…, 0x…]".
    Alchemy,
    /// reth: -32602 "query exceeds max block range N", counting `to − from`.
    Reth,
    /// reth: -32602 "query exceeds max results 20000, retry with the range A-B".
    RethResults,
    /// publicnode (geth's words): -32000 "exceed maximum block range: N",
    /// counting `to − from + 1`.
    Publicnode,
    /// A node that only says no: -32000 "block range too large".
    NoHint,
}

impl CapStyle {
    /// Whether `from..=to` is over `cap` blocks as this provider counts.
    fn over(self, from: u64, to: u64, cap: u64) -> bool {
        match self {
            CapStyle::InfuraRange | CapStyle::Reth => to.saturating_sub(from) > cap,
            _ => to.saturating_sub(from) + 1 > cap,
        }
    }

    /// The error this provider answers for `from..=to` over `cap`.
    fn refusal(self, from: u64, to: u64, cap: u64) -> (i64, String) {
        let end = from + cap - 1;
        match self {
            CapStyle::Infura => (
                -32005,
                format!("query returned more than 10000 results. Try with this block range [{from:#X}, {end:#X}].")
                    .replace("0X", "0x"),
            ),
            CapStyle::InfuraRange => (-32602, format!("range {} exceeds limit of {cap}", to - from)),
            CapStyle::Alchemy => (
                -32600,
                format!(
                    "You can make eth_getLogs requests with up to a {cap} block range. Based on your parameters, this block range should work: [{from:#x}, {end:#x}]"
                ),
            ),
            CapStyle::Reth => (-32602, format!("query exceeds max block range {cap}")),
            CapStyle::RethResults => {
                (-32602, format!("query exceeds max results 20000, retry with the range {from}-{end}"))
            }
            CapStyle::Publicnode => (-32000, format!("exceed maximum block range: {cap}")),
            CapStyle::NoHint => (-32000, "block range too large".to_string()),
        }
    }
}

impl Faults {
    /// No faults.
    pub fn none(seed: u64) -> Self {
        Faults {
            seed,
            rate: 0.0,
            kinds: Vec::new(),
            lose_sends: 0.0,
            always: None,
            first: None,
            chain_id: None,
            forged_hashes: 0,
            slow: Duration::from_millis(1500),
            record: false,
            refuse_sends: Vec::new(),
            method_error: None,
            max_batch: None,
            fee_suggestion: None,
            fake_send_hash: false,
            entry_error: None,
            http_answer: None,
            log_cap: None,
            calls_fail_after_send: None,
            calls_hang_after_send: None,
            forge_after_send: false,
            quota_after_sends: None,
            pre_london: false,
            hold_method: None,
        }
    }

    /// `rate` of the reads meet one of `kinds`.
    pub fn mixed(seed: u64, rate: f64, kinds: &[Fault]) -> Self {
        Faults { rate, kinds: kinds.to_vec(), ..Faults::none(seed) }
    }
}

/// What the proxy did, for assertions.
#[derive(Debug, Default)]
pub struct Seen {
    /// Faults injected, by kind.
    pub faults: BTreeMap<Fault, u64>,
    /// Send answers lost after anvil took the transaction.
    pub lost_sends: u64,
    /// Transactions forwarded (each raw send that reached anvil).
    pub sends_forwarded: u64,
    /// Sends refused on purpose.
    pub sends_refused: u64,
    /// Batches refused for their length, and the longest batch seen.
    pub batches_refused: u64,
    /// The most requests seen in one batch.
    pub longest_batch: usize,
    /// Requests answered with the method error.
    pub method_errors: u64,
    /// Forged block hashes.
    pub forged: u64,
    /// When each request arrived, in order.
    pub arrivals: Vec<Instant>,
    /// Every request body, in order of arrival, when recording.
    pub bodies: Vec<Vec<u8>>,
    /// Requests answered with the [`EntryError`].
    pub entry_errors: u64,
    /// Requests answered with the [`HttpAnswer`].
    pub http_answers: u64,
    /// `eth_getLogs` requests seen (batch entries each count).
    pub log_requests: u64,
    /// `eth_getLogs` requests refused by the [`LogCap`].
    pub logs_refused: u64,
    /// Requests held by [`Faults::calls_hang_after_send`].
    pub calls_held: u64,
    /// Requests answered with [`Faults::quota_after_sends`]'s error.
    pub over_quota: u64,
    /// The methods of those requests, in order (batch entries each).
    pub over_quota_methods: Vec<String>,
    /// Requests held by [`Faults::hold_method`].
    pub held: u64,
}

/// A running proxy; dropped, it stops.
pub struct FaultProxy {
    /// Where govstate should connect.
    pub url: Url,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` on a free local port.
    pub async fn start(upstream: Url, faults: Faults) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address: SocketAddr = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = Arc::new(Shared {
            upstream,
            faults,
            client: reqwest::Client::new(),
            requests: AtomicU64::new(0),
            sends: AtomicU64::new(0),
            scripted_sends: AtomicU64::new(0),
            forged: AtomicU64::new(0),
            entry_errors: AtomicU64::new(0),
            http_answers: AtomicU64::new(0),
            seen: seen.clone(),
        });
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        let url = format!("http://{address}").parse().expect("url");
        FaultProxy { url, seen, task }
    }

    /// What happened so far.
    pub fn seen<T>(&self, read: impl FnOnce(&Seen) -> T) -> T {
        read(&self.seen.lock().expect("not poisoned"))
    }

    /// Faults injected so far, all kinds.
    pub fn fault_count(&self) -> u64 {
        self.seen(|s| s.faults.values().sum::<u64>() + s.lost_sends)
    }
}

struct Shared {
    upstream: Url,
    faults: Faults,
    client: reqwest::Client,
    requests: AtomicU64,
    sends: AtomicU64,
    scripted_sends: AtomicU64,
    forged: AtomicU64,
    entry_errors: AtomicU64,
    http_answers: AtomicU64,
    seen: Arc<Mutex<Seen>>,
}

impl Shared {
    fn record(&self, update: impl FnOnce(&mut Seen)) {
        if let Ok(mut seen) = self.seen.lock() {
            update(&mut seen);
        }
    }

    /// The fault request `n` meets, if any.
    fn draw(&self, n: u64, body: &[u8]) -> Option<Fault> {
        if let Some(fault) = self.faults.always {
            return Some(fault);
        }
        if n == 0 && self.faults.first.is_some() {
            return self.faults.first;
        }
        if is_send(body) {
            let k = self.sends.fetch_add(1, Ordering::SeqCst);
            let mut rng = StdRng::seed_from_u64(self.faults.seed ^ 0x5e4d ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            return rng.gen_bool(self.faults.lose_sends).then_some(Fault::DropAfterForwarding);
        }
        let mut rng = StdRng::seed_from_u64(self.faults.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if self.faults.kinds.is_empty() || !rng.gen_bool(self.faults.rate) {
            return None;
        }
        Some(self.faults.kinds[rng.gen_range(0..self.faults.kinds.len())])
    }
}

/// The scripted answers, which replace forwarding: a refused send, a
/// method the node does not serve, a batch over the cap.
fn scripted(shared: &Shared, body: &[u8]) -> Option<String> {
    let request: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = |id: &serde_json::Value, code: i64, message: &str| serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    if let (Some(cap), Some(batch)) = (shared.faults.max_batch, request.as_array()) {
        let longest = batch.len();
        shared.record(|s| s.longest_batch = s.longest_batch.max(longest));
        if longest > cap {
            shared.record(|s| s.batches_refused += 1);
            return Some(error(&serde_json::Value::Null, -32600, "batch too large").to_string());
        }
    }
    if let Some((code, message)) = shared.faults.calls_fail_after_send
        && shared.seen.lock().is_ok_and(|s| s.sends_forwarded > 0)
        && String::from_utf8_lossy(body).contains("\"eth_call\"")
    {
        let entries: Vec<serde_json::Value> = match request.as_array() {
            Some(batch) => batch.iter().map(|r| error(&r["id"], code, message)).collect(),
            None => return Some(error(&request["id"], code, message).to_string()),
        };
        return Some(serde_json::Value::Array(entries).to_string());
    }
    let single = request.as_object()?;
    let method = single.get("method")?.as_str()?;
    let id = single.get("id").cloned().unwrap_or(serde_json::Value::Null);
    if let Some((refused, code)) = shared.faults.method_error
        && method == refused
    {
        shared.record(|s| s.method_errors += 1);
        return Some(error(&id, code, "refused by the node").to_string());
    }
    if method == "eth_sendRawTransaction" && !shared.faults.refuse_sends.is_empty() {
        let k = shared.scripted_sends.fetch_add(1, Ordering::SeqCst);
        if shared.faults.refuse_sends.contains(&k) {
            shared.record(|s| s.sends_refused += 1);
            return Some(error(&id, -32000, "transaction refused by the node").to_string());
        }
    }
    None
}

/// The status line and body of a request met once the quota is spent:
/// the error carries the request's id (null for a batch), as providers do.
fn over_quota(shared: &Shared, body: &[u8]) -> Option<(String, String)> {
    let quota = shared.faults.quota_after_sends?;
    if shared.seen.lock().map_or(true, |s| s.sends_forwarded < quota.sends) {
        return None;
    }
    let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let entries: Vec<serde_json::Value> = match &request {
        serde_json::Value::Array(batch) => batch.clone(),
        single => vec![single.clone()],
    };
    let methods: Vec<String> = entries.iter().map(|e| e["method"].as_str().unwrap_or("").to_string()).collect();
    shared.record(|s| {
        s.over_quota += 1;
        s.over_quota_methods.extend(methods);
    });
    let id = if request.is_array() { serde_json::Value::Null } else { request["id"].clone() };
    let error =
        serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": quota.code, "message": quota.message}});
    let reason = if quota.status == 402 { "Payment Required" } else { "Too Many Requests" };
    Some((format!("{} {reason}", quota.status), error.to_string()))
}

fn is_send(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("eth_sendRawTransaction")
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let Some(body) = read_request(&mut stream).await else { return };
    let n = shared.requests.fetch_add(1, Ordering::SeqCst);
    let record = shared.faults.record;
    shared.record(|s| {
        s.arrivals.push(Instant::now());
        if record {
            s.bodies.push(body.clone());
        }
    });
    if let Some((status, answer)) = over_quota(&shared, &body) {
        return respond(&mut stream, &status, "Content-Type: application/json\r\n", answer.as_bytes()).await;
    }
    if let Some(answer) = scripted(&shared, &body) {
        return respond(&mut stream, "200 OK", "Content-Type: application/json\r\n", answer.as_bytes()).await;
    }
    if let Some(hold) = shared.faults.calls_hang_after_send
        && shared.seen.lock().is_ok_and(|s| s.sends_forwarded > 0)
        && String::from_utf8_lossy(&body).contains("\"eth_call\"")
    {
        shared.record(|s| s.calls_held += 1);
        tokio::time::sleep(hold).await;
    }
    if let Some(http) = shared.faults.http_answer
        && shared.http_answers.fetch_add(1, Ordering::SeqCst) < http.times
    {
        shared.record(|s| s.http_answers += 1);
        let error =
            serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": http.code, "message": http.message}});
        let status =
            format!("{} {}", http.status, if http.status == 402 { "Payment Required" } else { "Too Many Requests" });
        return respond(&mut stream, &status, "Content-Type: application/json\r\n", error.to_string().as_bytes()).await;
    }
    if shared.faults.entry_error.is_some() || shared.faults.log_cap.is_some() || shared.faults.pre_london {
        let Some(answer) = per_entry(&shared, &body).await else { return };
        return respond(&mut stream, "200 OK", "Content-Type: application/json\r\n", &answer).await;
    }
    if let Some((method, hold)) = shared.faults.hold_method
        && String::from_utf8_lossy(&body).contains(&format!("\"{method}\""))
    {
        shared.record(|s| s.held += 1);
        tokio::time::sleep(hold).await;
    }
    let fault = shared.draw(n, &body);
    let send = is_send(&body);
    if let Some(fault) = fault {
        shared.record(|s| match (fault, send) {
            (Fault::DropAfterForwarding, true) => s.lost_sends += 1,
            _ => *s.faults.entry(fault).or_default() += 1,
        });
    }
    match fault {
        Some(Fault::Drop) => return,
        Some(Fault::TooManyRequests) => {
            return respond(&mut stream, "429 Too Many Requests", "Retry-After: 1\r\n", b"rate limited").await;
        }
        Some(Fault::InternalError) => return respond(&mut stream, "500 Internal Server Error", "", b"oops").await,
        Some(Fault::BadGateway) => return respond(&mut stream, "502 Bad Gateway", "", b"bad gateway").await,
        Some(Fault::Unavailable) => return respond(&mut stream, "503 Service Unavailable", "", b"unavailable").await,
        Some(Fault::NotJson) => {
            return respond(&mut stream, "200 OK", "", b"<html><body>502 Bad Gateway</body></html>").await;
        }
        Some(Fault::Slow) => tokio::time::sleep(shared.faults.slow).await,
        _ => {}
    }
    if send {
        shared.record(|s| s.sends_forwarded += 1);
    }
    let Some(answer) = forward(&shared, &body).await else { return };
    let answer = rewrite(&shared, &body, answer);
    let answer = match fault {
        Some(Fault::DropAfterForwarding) => return,
        Some(Fault::Truncated) => answer[..answer.len() / 2].to_vec(),
        Some(Fault::MissingId) => batch_edit(&answer, |v| {
            v.pop();
        }),
        Some(Fault::OutOfOrder) => batch_edit(&answer, |v| v.reverse()),
        _ => answer,
    };
    respond(&mut stream, "200 OK", "Content-Type: application/json\r\n", &answer).await;
}

async fn forward(shared: &Shared, body: &[u8]) -> Option<Vec<u8>> {
    let response = shared
        .client
        .post(shared.upstream.clone())
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .ok()?;
    response.bytes().await.ok().map(|b| b.to_vec())
}

/// The wrong chain id, and forged hashes of blocks read by number.
fn rewrite(shared: &Shared, request: &[u8], answer: Vec<u8>) -> Vec<u8> {
    let wants_chain = shared.faults.chain_id.is_some();
    let sent = || shared.seen.lock().is_ok_and(|s| s.sends_forwarded > 0);
    let wants_forge = shared.forged.load(Ordering::SeqCst) < shared.faults.forged_hashes
        && (!shared.faults.forge_after_send || sent());
    if !wants_chain && !wants_forge && shared.faults.fee_suggestion.is_none() && !shared.faults.fake_send_hash {
        return answer;
    }
    let (Ok(request), Ok(mut answer_json)) =
        (serde_json::from_slice::<serde_json::Value>(request), serde_json::from_slice::<serde_json::Value>(&answer))
    else {
        return answer;
    };
    let requests: Vec<serde_json::Value> = match request {
        serde_json::Value::Array(v) => v,
        single => vec![single],
    };
    let mut forged_here = false;
    let mut edit = |entry: &mut serde_json::Value| {
        let Some(asked) = requests.iter().find(|r| r["id"] == entry["id"]) else { return };
        if let (Some(chain), "eth_chainId") = (shared.faults.chain_id, asked["method"].as_str().unwrap_or("")) {
            entry["result"] = serde_json::Value::String(format!("{chain:#x}"));
        }
        if shared.faults.fake_send_hash && asked["method"] == "eth_sendRawTransaction" && entry["result"].is_string() {
            entry["result"] = serde_json::Value::String(format!("0x{}", "ab".repeat(32)));
        }
        if let Some(fee) = shared.faults.fee_suggestion {
            let fee = serde_json::Value::String(format!("{fee:#x}"));
            match asked["method"].as_str().unwrap_or("") {
                "eth_gasPrice" | "eth_maxPriorityFeePerGas" => entry["result"] = fee.clone(),
                "eth_feeHistory" => {
                    if let Some(rewards) = entry["result"]["reward"].as_array_mut() {
                        for block in rewards.iter_mut().filter_map(|b| b.as_array_mut()) {
                            block.iter_mut().for_each(|r| *r = fee.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        let by_number = asked["method"] == "eth_getBlockByNumber"
            && asked["params"][0].as_str().is_some_and(|p| p.starts_with("0x"));
        if wants_forge && by_number && entry["result"].is_object() {
            entry["result"]["hash"] = serde_json::Value::String(format!("0x{}", "11".repeat(32)));
            forged_here = true;
        }
    };
    match &mut answer_json {
        serde_json::Value::Array(entries) => entries.iter_mut().for_each(&mut edit),
        single => edit(single),
    }
    if forged_here {
        shared.forged.fetch_add(1, Ordering::SeqCst);
        shared.record(|s| s.forged += 1);
    }
    serde_json::to_vec(&answer_json).unwrap_or(answer)
}

/// The answer to `body` where some entries are answered here (the entry
/// error, the log cap) and the rest forwarded to anvil, in the order asked.
async fn per_entry(shared: &Shared, body: &[u8]) -> Option<Vec<u8>> {
    let request: serde_json::Value = serde_json::from_slice(body).ok()?;
    let (entries, batch) = match request {
        serde_json::Value::Array(entries) => (entries, true),
        single => (vec![single], false),
    };
    let mut answers: Vec<Option<serde_json::Value>> = entries.iter().map(|e| local_answer(shared, e)).collect();
    let forwarded: Vec<&serde_json::Value> =
        entries.iter().zip(&answers).filter(|(_, a)| a.is_none()).map(|(e, _)| e).collect();
    if !forwarded.is_empty() {
        let upstream = forward(shared, &serde_json::to_vec(&forwarded).ok()?).await?;
        let upstream: Vec<serde_json::Value> = serde_json::from_slice(&upstream).ok()?;
        for (entry, slot) in entries.iter().zip(answers.iter_mut()).filter(|(_, a)| a.is_none()) {
            *slot = upstream.iter().find(|a| a["id"] == entry["id"]).cloned();
            let block = entry["method"].as_str().is_some_and(|m| m.starts_with("eth_getBlockBy"));
            if let (true, true, Some(answer)) = (shared.faults.pre_london, block, slot.as_mut())
                && let Some(header) = answer["result"].as_object_mut()
            {
                header.remove("baseFeePerGas");
            }
        }
    }
    let answers: Vec<serde_json::Value> = answers.into_iter().flatten().collect();
    match (batch, answers.first()) {
        (true, _) => serde_json::to_vec(&answers).ok(),
        (false, Some(single)) => serde_json::to_vec(single).ok(),
        (false, None) => None,
    }
}

/// Whether the request's last parameter is a block number.
fn is_pinned(entry: &serde_json::Value) -> bool {
    let params = entry["params"].as_array();
    params.and_then(|p| p.last()).and_then(|b| b.as_str()).is_some_and(|b| b.starts_with("0x"))
}

/// The answer given here to one request, if any.
fn local_answer(shared: &Shared, entry: &serde_json::Value) -> Option<serde_json::Value> {
    let method = entry["method"].as_str().unwrap_or("");
    let error = |code: i64, message: &str| serde_json::json!({"jsonrpc": "2.0", "id": entry["id"], "error": {"code": code, "message": message}});
    if let Some(refused) = shared.faults.entry_error
        && refused.method == method
        && (!refused.pinned || is_pinned(entry))
        && shared.entry_errors.fetch_add(1, Ordering::SeqCst) < refused.times
    {
        shared.record(|s| s.entry_errors += 1);
        return Some(error(refused.code, refused.message));
    }
    if shared.faults.pre_london {
        if method == "eth_feeHistory" || method == "eth_maxPriorityFeePerGas" {
            return Some(error(-32601, &format!("the method {method} does not exist/is not available")));
        }
        let raw = entry["params"][0].as_str().unwrap_or("");
        if method == "eth_sendRawTransaction" && !raw.starts_with("0xf") {
            return Some(error(-32000, "transaction type not supported"));
        }
    }
    if method != "eth_getLogs" {
        return None;
    }
    shared.record(|s| s.log_requests += 1);
    let cap = shared.faults.log_cap?;
    let block = |key: &str| {
        let text = entry["params"][0][key].as_str()?;
        u64::from_str_radix(text.trim_start_matches("0x"), 16).ok()
    };
    let (from, to) = (block("fromBlock")?, block("toBlock")?);
    if !cap.style.over(from, to, cap.blocks) {
        return None;
    }
    shared.record(|s| s.logs_refused += 1);
    let (code, message) = cap.style.refusal(from, to, cap.blocks);
    Some(error(code, &message))
}

fn batch_edit(answer: &[u8], edit: impl FnOnce(&mut Vec<serde_json::Value>)) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(answer) {
        Ok(serde_json::Value::Array(mut entries)) if entries.len() > 1 => {
            edit(&mut entries);
            serde_json::to_vec(&entries).unwrap_or_else(|_| answer.to_vec())
        }
        _ => answer.to_vec(),
    }
}

/// Reads one HTTP/1.1 request; returns its body.
async fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Some(buffer[head_end..head_end + length].to_vec())
}

async fn respond(stream: &mut TcpStream, status: &str, headers: &str, body: &[u8]) {
    let head = format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}
