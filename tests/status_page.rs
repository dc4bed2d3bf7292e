//! The status page at `/` of `drift --watch` (issue 19, item 6), in a real
//! headless Chromium: Debian's `chromium` package, installed pinned by
//! `scripts/test-deps` (the README's test command and `.ci/run` call it).
//!
//! Chromium is driven with its own command line, no WebDriver: `--dump-dom`
//! and `--screenshot` for one look at the page, and one long-lived
//! `--remote-debugging-port` browser whose tab title (read from DevTools'
//! `/json/list`) shows that the page the browser already holds refreshes
//! itself after an out-of-band change.

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::sol_types::SolCall;
use common::TestChain;
use govstate::contracts::arena::SelfPlayArena;
use tokio::io::AsyncBufReadExt;

/// Debian's chromium, or `GOVSTATE_CHROMIUM` when set.
fn chromium() -> PathBuf {
    let path = std::env::var_os("GOVSTATE_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.is_file(),
        "{} is needed: run scripts/test-deps (it installs Debian's chromium, pinned)",
        path.display()
    );
    path
}

/// The chromium version `scripts/test-deps` pins, upstream part
/// (`148.0.7778.167` of `148.0.7778.167-1~deb12u1`).
fn pinned_version() -> String {
    let deps = include_str!("../scripts/test-deps");
    let line = deps.lines().find_map(|l| l.strip_prefix("CHROMIUM_VERSION=\"")).expect("a pinned chromium");
    line.split('-').next().unwrap_or_default().to_string()
}

#[test]
fn the_chromium_the_tests_drive_is_the_version_scripts_test_deps_pins() {
    let output = std::process::Command::new(chromium()).arg("--version").output().expect("chromium runs");
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(version.contains(&pinned_version()), "{version}: run scripts/test-deps to install {}", pinned_version());
}

/// A headless chromium with its own profile in `profile`. As root (CI
/// containers), Chromium's sandbox cannot start, hence `--no-sandbox`.
fn browser(profile: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(chromium());
    command
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        .args(["--disable-extensions", "--disable-background-networking", "--disable-sync", "--mute-audio"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

/// The page's DOM after its scripts ran for `virtual_ms` of virtual time.
async fn dump_dom(url: &str, virtual_ms: u64) -> String {
    let profile = tempfile::tempdir().expect("profile");
    let run =
        browser(profile.path()).arg(format!("--virtual-time-budget={virtual_ms}")).args(["--dump-dom", url]).output();
    let output = tokio::time::timeout(Duration::from_secs(90), run).await.expect("chromium finishes").expect("runs");
    assert!(output.status.success(), "chromium --dump-dom: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Saves a PNG of the page at `out`.
async fn screenshot(url: &str, out: &Path) {
    let profile = tempfile::tempdir().expect("profile");
    let run = browser(profile.path())
        .args(["--window-size=1280,1100", "--hide-scrollbars", "--virtual-time-budget=1000"])
        .arg(format!("--screenshot={}", out.display()))
        .arg(url)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(90), run).await.expect("chromium finishes").expect("runs");
    assert!(output.status.success(), "chromium --screenshot: {}", String::from_utf8_lossy(&output.stderr));
}

/// A browser that stays on `url`, and the DevTools port to ask it with.
struct Tab {
    _child: tokio::process::Child,
    _profile: tempfile::TempDir,
    devtools: String,
}

impl Tab {
    async fn open(url: &str) -> Self {
        let profile = tempfile::tempdir().expect("profile");
        let mut child = browser(profile.path())
            .args(["--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", url])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
        let listening = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("DevTools listening on ws://").nth(1) {
                    return rest.split('/').next().map(str::to_string);
                }
            }
            None
        };
        let devtools = tokio::time::timeout(Duration::from_secs(60), listening)
            .await
            .expect("chromium announces DevTools")
            .expect("a DevTools address");
        // Chromium keeps writing to stderr: drain it so it never blocks.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Tab { _child: child, _profile: profile, devtools }
    }

    /// The title of the page the browser shows now.
    async fn title(&self) -> Option<String> {
        let url = format!("http://{}/json/list", self.devtools);
        let targets: serde_json::Value = alloy::transports::http::reqwest::get(url).await.ok()?.json().await.ok()?;
        let page = targets.as_array()?.iter().find(|t| t["type"] == "page")?;
        page["title"].as_str().map(str::to_string)
    }
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Where the test run keeps its screenshots: `target/status-page/`.
fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/status-page");
    std::fs::create_dir_all(&dir).expect("target/status-page");
    dir
}

/// Starts `drift --watch 1s` on `file` and returns the child and its address.
async fn watch(chain: &TestChain, file: &str, cache: &Path) -> (tokio::process::Child, String) {
    let args = ["drift", file, "--watch", "1s", "--listen", "127.0.0.1:0", "--rpc-url", chain.devnet.url().as_str()];
    let mut child = support::command(&args, cache, &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("govstate starts");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let banner = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the banner comes")
        .expect("stderr is readable")
        .unwrap_or_default();
    let address = banner.split("http://").nth(1).and_then(|s| s.split('/').next()).expect("an address").to_string();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, address)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_shows_a_drifted_deployment_and_refreshes_itself_after_an_out_of_band_change() {
    let chain = TestChain::start().await;
    let (second, _) = chain.account(1);
    // The arena changes hands before the file is written: its new owner,
    // another account than the file's author, makes the rogue grant.
    let handover = SelfPlayArena::transferOwnershipCall { newOwner: second }.abi_encode();
    chain.send(0, chain.address("arena"), handover).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await.to_string_lossy().into_owned();
    let (_govstate, address) = watch(&chain, &file, &dir.path().join("cache")).await;
    let page = format!("http://{address}/");

    let client = alloy::transports::http::reqwest::Client::new();
    let served = poll(Duration::from_secs(30), || async {
        let response = client.get(&page).send().await.ok()?;
        let headers = response.headers().clone();
        let body = response.text().await.ok()?;
        body.contains("data-status=\"in_sync\"").then_some((headers, body))
    })
    .await;
    let (headers, body) = served.expect("the page shows the deployment in sync within 30s");
    assert!(headers["content-type"].to_str().is_ok_and(|t| t.starts_with("text/html")), "{headers:?}");
    let policy = headers["content-security-policy"].to_str().unwrap_or_default();
    assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'sha256-"), "{policy}");
    for external in ["src=", "href=\"http", "@import", "url("] {
        assert!(!body.contains(external), "the page loads nothing from elsewhere ({external}): {body}");
    }

    let dom = dump_dom(&page, 3000).await;
    assert!(dom.contains(&file) && dom.contains("in sync"), "chromium shows the deployment: {dom}");
    assert!(dom.contains("Last check") && dom.contains("took "), "the last check's time and duration: {dom}");
    // The inline script ran (the policy allows it by its hash): the age ticks.
    let age = |dom: &str| {
        let tag = dom.split("data-age=\"").nth(1)?;
        let (start, rest) = tag.split_once('"')?;
        let shown = rest.split_once('>')?.1.split_once('s')?.0;
        Some((start.parse::<u64>().ok()?, shown.parse::<u64>().ok()?))
    };
    let (start, shown) = age(&dom).expect("the last check's age");
    assert!(shown >= start + 2, "the script counts the age up in the browser: {start} → {shown}");

    let tab = Tab::open(&page).await;
    let title = poll(Duration::from_secs(30), || async { tab.title().await.filter(|t| t.contains("in sync")) }).await;
    assert!(title.is_some(), "the browser shows the page: {:?}", tab.title().await);

    // Out of band, from the arena's new owner: a rogue orchestrator, with cast.
    let rogue = govstate::devnet::dev_signer(3).expect("account 3").address();
    let key = format!("0x{}", alloy::hex::encode(govstate::devnet::dev_signer(1).expect("account 1").to_bytes()));
    let local = concat!(env!("CARGO_MANIFEST_DIR"), "/node_modules/@foundry-rs/cast-linux-amd64/bin/cast");
    let cast = if Path::new(local).is_file() { local } else { "cast" };
    let sent = tokio::process::Command::new(cast)
        .args(["send", "--rpc-url", chain.devnet.url().as_str(), "--private-key", &key])
        .arg(chain.address("arena").to_string())
        .args(["setOrchestrator(address,bool)", &rogue.to_string(), "true"])
        .output()
        .await
        .expect("cast runs");
    assert!(sent.status.success(), "cast send: {}", String::from_utf8_lossy(&sent.stderr));
    support::cast_send(&chain, chain.address("stake_manager"), "setFeePct(uint256)", &["7"]).await;

    let changed = Instant::now();
    let title = poll(Duration::from_secs(30), || async { tab.title().await.filter(|t| t.contains("drifted")) }).await;
    assert!(title.is_some(), "the open page did not refresh itself within 30s: {:?}", tab.title().await);
    eprintln!("the open page showed the drift {:?} after the change", changed.elapsed());

    let dom = dump_dom(&page, 500).await;
    assert!(dom.contains("data-status=\"drifted\""), "{dom}");
    assert!(dom.contains("arena.orchestrators") && dom.contains(&rogue.to_string()), "the rogue holder: {dom}");
    assert!(dom.contains("stake_manager.fees_pct.fee") && dom.contains("7%"), "the fee: {dom}");
    std::fs::write(screenshots().join("drifted.html"), &dom).expect("the DOM is kept beside the screenshot");
    assert!(dom.contains(&format!("by <code>{second}</code>")), "who granted it: {dom}");
    assert!(dom.contains("2 fields"), "{dom}");

    let png = screenshots().join("drifted.png");
    let _ = std::fs::remove_file(&png);
    screenshot(&page, &png).await;
    let bytes = std::fs::read(&png).expect("the screenshot is saved");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "a PNG of the page: {} bytes",
        bytes.len()
    );
}

/// `1m 10s` back to seconds, as the page writes a duration.
fn seconds(short: &str) -> Option<u64> {
    short.split(' ').try_fold(0u64, |total, part| {
        let unit = part.chars().last()?;
        let n: u64 = part[..part.len() - 1].parse().ok()?;
        let scale = match unit {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        Some(total + n * scale)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pending_timelock_operation_is_shown_decoded_with_a_countdown_that_ticks_in_the_browser() {
    use govstate::contracts::stake_manager::StakeManager;
    let delay = support::TIMELOCK_DELAY;
    let chain = TestChain::start_wired(govstate::devnet::Topology::Production { timelock_delay: delay }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("production.yaml");
    support::write_state(&chain, &file, None).await;
    // A fee change scheduled on the timelock and left waiting: it moves away from the file.
    let fee = StakeManager::setFeePctCall { pct: alloy::primitives::U256::from(9) }.abi_encode();
    let salt = alloy::primitives::B256::repeat_byte(9);
    chain.schedule_through_timelock(chain.address("stake_manager"), fee, salt, delay).await;
    let timelock = chain.devnet.wiring().timelock.expect("a timelock");

    let file = file.to_string_lossy().into_owned();
    let (_govstate, address) = watch(&chain, &file, &dir.path().join("cache")).await;
    let page = format!("http://{address}/");
    let client = alloy::transports::http::reqwest::Client::new();
    let shown = poll(Duration::from_secs(30), || async {
        let body = client.get(&page).send().await.ok()?.text().await.ok()?;
        body.contains("data-remaining=").then_some(())
    })
    .await;
    assert!(shown.is_some(), "the page shows the pending operation within 30s");

    let dom = dump_dom(&page, 3000).await;
    std::fs::write(screenshots().join("pending.html"), &dom).expect("the DOM is kept");
    assert!(dom.contains("Pending operations") && dom.contains(&timelock.to_string()), "{dom}");
    assert!(dom.contains("moves away from it") && dom.contains("set stake_manager.fees_pct.fee to 9%"), "{dom}");
    assert!(dom.contains(&format!("proposed by <code>{}</code>", chain.devnet.owner())), "who proposed it: {dom}");
    let countdown = dom.split("data-remaining=\"").nth(1).expect("a countdown");
    let (start, rest) = countdown.split_once('"').expect("a number");
    let start: u64 = start.parse().expect("seconds");
    let text = rest.split_once('>').and_then(|(_, t)| t.split_once('<')).map(|(t, _)| t).unwrap_or_default();
    let left = text.strip_prefix("in ").and_then(seconds).unwrap_or_else(|| panic!("`{text}` is a countdown"));
    assert!((1..=delay).contains(&start), "ready within the delay: {start}s");
    assert!(left + 2 <= start, "the countdown ticks down in the browser: {start}s → {text}");

    let png = screenshots().join("pending.png");
    let _ = std::fs::remove_file(&png);
    screenshot(&page, &png).await;
    assert!(std::fs::read(&png).is_ok_and(|b| b.starts_with(b"\x89PNG\r\n\x1a\n")), "a PNG of the page");
}
