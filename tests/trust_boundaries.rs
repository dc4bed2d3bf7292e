//! Trust boundaries (issue 17): what a pull request, a saved plan, a planted
//! binary or a lying node can make govstate do. One test (at least) per
//! attack, each against the real binary or a real anvil.

mod common;
mod fault_proxy;
mod support;

use std::path::Path;

use fault_proxy::{FaultProxy, Faults};
use support::{Receiver, govstate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Everything a run printed, both streams.
fn printed(run: &support::Run) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

/// A file that names its endpoint's variable and manages nothing.
fn file_naming(dir: &Path, variable: &str) -> std::path::PathBuf {
    let file = dir.join("state.yaml");
    std::fs::write(&file, format!("version: 1\nchain_id: 31337\nrpc_url_env: {variable}\n")).expect("write");
    file
}

#[tokio::test]
async fn a_secret_named_by_rpc_url_env_is_never_printed_only_its_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let secret_key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    let secret_aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let secret_schemed = "token:SCHEMEDSECRET42";
    for (variable, value) in
        [("GOVSTATE_PRIVATE_KEY", secret_key), ("AWS_SECRET_ACCESS_KEY", secret_aws), ("SOME_TOKEN", secret_schemed)]
    {
        let file = file_naming(dir.path(), variable);
        // A signer is there, so apply gets as far as the endpoint.
        let key = support::owner_key();
        let mut env = vec![(variable, value)];
        if variable != "GOVSTATE_PRIVATE_KEY" {
            env.push(("GOVSTATE_PRIVATE_KEY", key.as_str()));
        }
        let mut runs = Vec::new();
        for format in ["text", "json", "markdown"] {
            runs.push(govstate(&["plan", path(&file), "--format", format], &cache, &env).await);
        }
        let saved = dir.path().join("plan.json");
        runs.push(govstate(&["plan", path(&file), "--out", path(&saved)], &cache, &env).await);
        runs.push(govstate(&["apply", path(&file), "--yes"], &cache, &env).await);
        for format in ["text", "json"] {
            runs.push(govstate(&["drift", path(&file), "--format", format], &cache, &env).await);
        }
        for run in &runs {
            let all = printed(run);
            assert_ne!(run.code, Some(0), "{all}");
            for part in value.split([':', '/']).filter(|p| p.len() > 5) {
                assert!(!all.contains(part), "the value of {variable} was printed: {all}");
            }
            assert!(!all.contains(key.trim_start_matches("0x")), "the signing key was printed: {all}");
            assert!(all.contains(variable), "the error names the variable {variable}: {all}");
        }
        assert!(!saved.exists(), "no plan was written");
    }
}

/// The secrets of [`credentialed`]: user, password, path and query.
const URL_SECRETS: [&str; 5] = ["alice-SECRET0", "pw-SECRET1", "PATHSECRET2", "QUERYSECRET3", "BODYSECRET4"];

/// `base` (`http://127.0.0.1:PORT`) with a secret in every part of a URL.
fn credentialed(base: &str) -> String {
    let host = base.trim_start_matches("http://");
    format!("http://alice-SECRET0:pw-SECRET1@{host}/v3/PATHSECRET2?key=QUERYSECRET3&other=1")
}

/// An endpoint that answers every request 401 with a body echoing the key,
/// as hosted providers do.
async fn echoing_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let body = "{\"error\":\"invalid project id alice-SECRET0, key QUERYSECRET3 BODYSECRET4\"}";
                let head = format!(
                    "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    base
}

#[tokio::test]
async fn credentials_in_any_part_of_an_endpoint_url_are_redacted_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let file = file_naming(dir.path(), "ENDPOINT_UNDER_TEST");
    let echoing = echoing_endpoint().await;
    for base in ["http://127.0.0.1:1".to_string(), echoing] {
        let url = credentialed(&base);
        let env = [("ENDPOINT_UNDER_TEST", url.as_str())];
        let receiver = Receiver::start(&[]).await;
        let state = dir.path().join("webhook-state.json");
        let _ = std::fs::remove_file(&state);
        let mut runs = Vec::new();
        for format in ["text", "json", "markdown"] {
            runs.push(govstate(&["plan", path(&file), "--format", format, "--retries", "0"], &cache, &env).await);
        }
        for format in ["text", "json"] {
            let args = ["drift", path(&file), "--format", format, "--retries", "0"];
            runs.push(govstate(&args, &cache, &env).await);
        }
        let hook =
            ["drift", path(&file), "--retries", "0", "--webhook", &receiver.url, "--webhook-state", path(&state)];
        runs.push(govstate(&hook, &cache, &env).await);
        let hooks = receiver.requests();
        assert_eq!(hooks.len(), 1, "the error is posted: {hooks:?}");
        for (what, text) in
            runs.iter().map(|r| ("output", printed(r))).chain(hooks.iter().map(|h| ("webhook", h.1.to_string())))
        {
            for secret in URL_SECRETS {
                assert!(!text.contains(secret), "{secret} leaked in the {what}: {text}");
            }
            assert!(text.contains("127.0.0.1"), "the host is named: {text}");
        }
    }
}

#[tokio::test]
async fn control_characters_from_a_files_keys_never_reach_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let file = dir.path().join("state.yaml");
    let hostile = "version: 1\nchain_id: 31337\narena:\n  \"\\e]0;pwned\\a\\e[2J\\rpaused\": true\n";
    std::fs::write(&file, hostile).expect("write");
    for args in [vec!["validate", path(&file)], vec!["plan", path(&file)], vec!["drift", path(&file)]] {
        let run = govstate(&args, &cache, &[("ETH_RPC_URL", "http://127.0.0.1:1")]).await;
        assert_eq!(run.code, Some(1), "{run:?}");
        let all = printed(&run);
        assert!(all.contains("pwned"), "the key is shown: {all}");
        assert!(
            !all.contains('\u{1b}') && !all.contains('\r') && !all.contains('\u{7}'),
            "raw control characters: {all:?}"
        );
    }
}

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, format!("#!/bin/sh\n{body}")).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The pinned anvil of this checkout.
fn real_anvil() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
}

/// `govstate plan FILE --set arena.paused=true --simulate`, run in `cwd`
/// with `env` on top of a clean environment (no `GOVSTATE_ANVIL` unless given).
fn simulate_in(cwd: &Path, file: &Path, url: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"));
    command
        .args(["plan", path(file), "--set", "arena.paused=true", "--simulate", "--no-cache"])
        .current_dir(cwd)
        .env("ETH_RPC_URL", url)
        .env_remove("GOVSTATE_ANVIL")
        .env_remove("GOVSTATE_PRIVATE_KEY")
        .env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("govstate runs")
}

#[tokio::test]
async fn a_planted_anvil_in_the_working_directory_or_a_parent_is_never_run() {
    let chain = common::TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let marker = dir.path().join("planted-anvil-ran");
    let planted = format!("/usr/bin/env > {}\nexit 1\n", marker.display());
    for root in [dir.path().to_path_buf(), dir.path().join("repo")] {
        script(&root.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"), &planted);
        script(&root.join("node_modules/.bin/anvil"), &planted);
    }
    let cwd = dir.path().join("repo/state");
    std::fs::create_dir_all(&cwd).expect("mkdir");
    let output = simulate_in(&cwd, &file, chain.devnet.url().as_str(), &[("GOVSTATE_PRIVATE_KEY", "0xdeadbeef")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!marker.exists(), "the planted anvil ran: {stderr}");
    assert!(stderr.contains("Simulated on a fork"), "the real anvil simulated: {stderr}");
}

// Multi-threaded: the proxy serves while this thread waits for govstate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fork_child_gets_no_key_no_secret_and_no_fork_url_on_its_command_line() {
    let chain = common::TestChain::start().await;
    let proxy = FaultProxy::start(chain.devnet.url().clone(), Faults::none(1)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let seen = dir.path().join("child.txt");
    let wrapper = dir.path().join("bin/anvil");
    let body = format!(
        "/usr/bin/env > {seen}\necho \"ARGS: $*\" >> {seen}\nexec {real} \"$@\"\n",
        seen = seen.display(),
        real = real_anvil().display()
    );
    script(&wrapper, &body);
    let url = format!("{}v3/FORKURLSECRET?key=FORKQUERYSECRET", proxy.url);
    let key = support::owner_key();
    let env = [
        ("GOVSTATE_ANVIL", path(&wrapper)),
        ("GOVSTATE_PRIVATE_KEY", key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", "AWSSECRETVALUE"),
        ("GOVSTATE_WEBHOOK_URL", "http://127.0.0.1:1/hook/WEBHOOKSECRET"),
    ];
    let output = simulate_in(dir.path(), &file, &url, &env);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Simulated on a fork"), "the fork ran: {stderr}");
    let child = std::fs::read_to_string(&seen).expect("the wrapper ran");
    for secret in [key.trim_start_matches("0x"), "AWSSECRETVALUE", "WEBHOOKSECRET", "FORKURLSECRET", "FORKQUERYSECRET"]
    {
        assert!(!child.contains(secret), "the fork child saw {secret}: {child}");
    }
    for variable in ["GOVSTATE_PRIVATE_KEY", "ETH_RPC_URL", "AWS_SECRET_ACCESS_KEY", "HOME"] {
        assert!(!child.contains(&format!("{variable}=")), "the fork child got {variable}: {child}");
    }
    assert!(
        !child.contains("--fork-url") && !child.contains(&proxy.url.port().expect("a port").to_string()),
        "{child}"
    );
}

#[tokio::test]
async fn a_node_suggesting_a_million_gwei_is_refused_before_anything_is_sent() {
    let chain = common::TestChain::start().await;
    let lying = Faults { fee_suggestion: Some(1_000_000 * 1_000_000_000), ..Faults::none(5) };
    let proxy = FaultProxy::start(chain.devnet.url().clone(), lying).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let key = support::owner_key();
    let cache = dir.path().join("cache");
    let owner = chain.devnet.owner();
    let before = chain.nonce(owner).await;
    let pause = ["apply", path(&file), "--set", "arena.paused=true", "--yes", "--simulate-fork", "false"];
    let env = [("GOVSTATE_PRIVATE_KEY", key.as_str()), ("ETH_RPC_URL", proxy.url.as_str())];
    let run = govstate(&pause, &cache, &env).await;
    let all = printed(&run);
    assert_eq!(run.code, Some(1), "{all}");
    assert!(
        all.contains("--max-fee-per-gas") && all.contains("1000000 gwei"),
        "the refusal names the fee and the flag: {all}"
    );
    assert_eq!(proxy.seen(|s| s.sends_forwarded), 0, "nothing reached the node: {all}");
    assert_eq!(chain.nonce(owner).await, before, "nothing was mined");

    // An honest node: the fee is shown before anything is sent.
    let env = [("GOVSTATE_PRIVATE_KEY", key.as_str()), ("ETH_RPC_URL", chain.devnet.url().as_str())];
    let run = govstate(&pause, &cache, &env).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let fee = run.stdout.find("Fees: at most").expect("the fee is shown");
    let applied = run.stdout.find("Applied").expect("applied");
    assert!(fee < applied && run.stdout.contains("ceiling 200 gwei"), "{}", run.stdout);
}

#[tokio::test]
async fn a_made_up_send_hash_is_caught_and_the_real_transaction_is_followed() {
    let chain = common::TestChain::start().await;
    let lying = Faults { fake_send_hash: true, ..Faults::none(6) };
    let proxy = FaultProxy::start(chain.devnet.url().clone(), lying).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let key = support::owner_key();
    let receipts = dir.path().join("receipts");
    let args = ["apply", path(&file), "--set", "arena.paused=true", "--yes", "--receipts-dir", path(&receipts)];
    let env = [("GOVSTATE_PRIVATE_KEY", key.as_str()), ("ETH_RPC_URL", proxy.url.as_str())];
    // Believing the fake hash means waiting ten minutes for it.
    let run =
        tokio::time::timeout(std::time::Duration::from_secs(60), govstate(&args, &dir.path().join("cache"), &env))
            .await
            .expect("the apply does not wait on a hash the node made up");
    assert_eq!(run.code, Some(0), "{run:?}");
    let receipt = &common::receipts(&receipts)[0];
    let recorded = receipt["transactions"][0]["hash"].as_str().expect("a hash").to_string();
    assert_ne!(recorded, format!("0x{}", "ab".repeat(32)), "the made-up hash is not recorded");
    let hash: alloy::primitives::B256 = recorded.parse().expect("a hash");
    use alloy::providers::Provider;
    let mined = chain.reader().get_transaction_receipt(hash).await.expect("rpc");
    assert!(mined.is_some_and(|r| r.status()), "the recorded hash is the mined transaction");
}

/// A webhook receiver that redirects every request to `to`.
async fn redirecting_to(to: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook/TOKENSECRET", listener.local_addr().expect("address"));
    let to = to.to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let to = to.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 8192];
                let _ = stream.read(&mut buffer).await;
                let head = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    url
}

#[tokio::test]
async fn a_redirecting_webhook_is_not_followed_and_its_url_can_come_from_the_environment_or_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let file = file_naming(dir.path(), "DEAD_ENDPOINT");
    let env = [("DEAD_ENDPOINT", "http://127.0.0.1:1")];
    let thief = Receiver::start(&[]).await;
    let hook = redirecting_to(&thief.url).await;
    let state = dir.path().join("hook-state.json");
    let args = ["drift", path(&file), "--retries", "0", "--webhook", &hook, "--webhook-state", path(&state)];
    let run = govstate(&args, &cache, &env).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(thief.requests().is_empty(), "the redirect was followed: {:?}", thief.requests());
    assert!(run.stderr.contains("307"), "the refusal is told: {}", run.stderr);
    assert!(!printed(&run).contains("TOKENSECRET"), "{run:?}");

    // The URL, a secret, from the environment or from a file, never the command line.
    let receiver = Receiver::start(&[]).await;
    let from_env = [("DEAD_ENDPOINT", "http://127.0.0.1:1"), ("GOVSTATE_WEBHOOK_URL", receiver.url.as_str())];
    let _ = std::fs::remove_file(&state);
    let run =
        govstate(&["drift", path(&file), "--retries", "0", "--webhook-state", path(&state)], &cache, &from_env).await;
    assert_eq!(receiver.delivered().len(), 1, "posted to GOVSTATE_WEBHOOK_URL: {run:?}");
    let url_file = dir.path().join("webhook-url");
    std::fs::write(&url_file, format!("{}\n", receiver.url)).expect("write");
    let _ = std::fs::remove_file(&state);
    let args =
        ["drift", path(&file), "--retries", "0", "--webhook-file", path(&url_file), "--webhook-state", path(&state)];
    let run = govstate(&args, &cache, &env).await;
    assert_eq!(receiver.delivered().len(), 2, "posted to the URL in the file: {run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_idle_connections_do_not_stop_metrics() {
    use tokio::io::AsyncBufReadExt;
    let chain = common::TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("devnet.yaml");
    support::write_state(&chain, &file, None).await;
    // A small descriptor limit, as a container or a service manager sets
    // one: 200 idle connections exhaust it unless the server caps them.
    let line = format!(
        "ulimit -n 128 && exec {} drift {} --watch 1s --listen 127.0.0.1:0 --no-cache --rpc-url {}",
        env!("CARGO_BIN_EXE_govstate"),
        path(&file),
        chain.devnet.url()
    );
    let mut child = tokio::process::Command::new("/bin/sh")
        .args(["-c", &line])
        .env_remove("GOVSTATE_WEBHOOK_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("govstate starts");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let banner = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("the banner comes")
        .expect("stderr is readable")
        .unwrap_or_default();
    let address = banner.split("http://").nth(1).and_then(|s| s.split('/').next()).expect("an address").to_string();
    let metrics = || {
        let url = format!("http://{address}/metrics");
        async move {
            let client = alloy::transports::http::reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .expect("client");
            client.get(url).send().await.map(|r| r.status().as_u16()).ok()
        }
    };
    assert!(common::eventually(30, || async { metrics().await == Some(200) }).await, "metrics served at first");
    let mut idle = Vec::new();
    for _ in 0..200 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
        // Half a request, never finished.
        let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").await;
        idle.push(stream);
    }
    let started = std::time::Instant::now();
    assert_eq!(metrics().await, Some(200), "/metrics answers with 200 idle connections open");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(idle);
    drop(lines);
}

/// An endpoint whose every answer is `size` bytes of one JSON string, sent
/// without a length (read until the connection closes).
async fn huge_answers(size: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 8192];
                let _ = stream.read(&mut buffer).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"").await;
                let chunk = vec![b'a'; 1 << 20];
                for _ in 0..size / chunk.len() {
                    if stream.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
                let _ = stream.write_all(b"\"}").await;
                let _ = stream.shutdown().await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_gigabyte_answer_is_refused_under_a_bounded_peak_memory() {
    let url = huge_answers(1 << 30).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = file_naming(dir.path(), "HUGE_ENDPOINT");
    // Reaped with wait4 below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_govstate"))
        .args(["plan", path(&file), "--no-cache", "--retries", "0", "--timeout", "120s"])
        .env("HUGE_ENDPOINT", &url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("govstate starts");
    let pid = child.id() as i32;
    let (status, peak) = tokio::task::spawn_blocking(move || {
        let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
        // SAFETY: waiting for our own child, with valid out-pointers.
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(waited, pid, "wait4");
        (status, usage.ru_maxrss as u64 * 1024)
    })
    .await
    .expect("waited");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.expect("stderr"), &mut stderr).expect("stderr");
    eprintln!("peak resident memory: {} MiB", peak >> 20);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 1, "{status}: {stderr}");
    assert!(stderr.contains("over the limit"), "{stderr}");
    assert!(stderr.len() < 4_000, "the answer is not quoted: {} bytes", stderr.len());
    assert!(peak < 400 << 20, "peak resident memory {} MiB", peak >> 20);
}

#[tokio::test]
async fn a_swapped_saved_plan_cannot_transfer_ownership_or_pass_for_the_reviewed_one() {
    use alloy::sol_types::SolCall;
    let chain = common::TestChain::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = chain.write_state_file(dir.path()).await;
    let cache = dir.path().join("cache");
    let reader = [("ETH_RPC_URL", chain.devnet.url().as_str())];
    let digest_of = |run: &support::Run| {
        run.stdout.lines().find_map(|l| l.strip_prefix("Plan digest: ")).unwrap_or_default().to_string()
    };
    // The reviewed plan: pause the arena.
    let reviewed = dir.path().join("reviewed.json");
    let run =
        govstate(&["plan", path(&file), "--set", "arena.paused=true", "--out", path(&reviewed)], &cache, &reader).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let reviewed_digest = digest_of(&run);
    // Someone with read access and no key makes another plan, allowed to
    // move the arena's owner, and swaps it in.
    let dead = "0x000000000000000000000000000000000000dEaD";
    let swapped = dir.path().join("swapped.json");
    let args = [
        "plan",
        path(&file),
        "--set",
        &format!("arena.owner={dead}"),
        "--allow-ownership-transfer",
        "--out",
        path(&swapped),
    ];
    let run = govstate(&args, &cache, &reader).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let key = support::owner_key();
    let signer = [("ETH_RPC_URL", chain.devnet.url().as_str()), ("GOVSTATE_PRIVATE_KEY", key.as_str())];
    let owner = chain.devnet.owner();
    let before = chain.nonce(owner).await;
    let arena = chain.address("arena");
    let owner_now = || async {
        let data = govstate::contracts::arena::SelfPlayArena::ownerCall {}.abi_encode();
        chain.read(arena, data).await
    };
    let owner_before = owner_now().await;

    let run = govstate(&["apply", path(&swapped)], &cache, &signer).await;
    assert_eq!(run.code, Some(1), "the plan's own allow_ownership_transfer is no permission: {run:?}");
    assert!(run.stderr.contains("--allow-ownership-transfer"), "{}", run.stderr);
    let expect = ["apply", path(&swapped), "--allow-ownership-transfer", "--expect-digest", &reviewed_digest];
    let run = govstate(&expect, &cache, &signer).await;
    assert_eq!(run.code, Some(1), "not the plan that was reviewed: {run:?}");
    assert!(run.stderr.contains(&reviewed_digest), "{}", run.stderr);
    assert_eq!(chain.nonce(owner).await, before, "nothing was sent");
    assert_eq!(owner_now().await, owner_before, "the owner is unchanged");

    let run = govstate(&["apply", path(&reviewed), "--expect-digest", &reviewed_digest], &cache, &signer).await;
    assert_eq!(run.code, Some(0), "the reviewed plan applies: {run:?}");
    assert_eq!(chain.nonce(owner).await, before + 1);
}
