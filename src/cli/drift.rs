//! `govstate drift PATH…`: are the chains still what the files say? Once
//! (for cron, CI and CronJobs) or `--watch`ing, serving `/metrics` and a
//! status page.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use alloy::transports::http::reqwest::Url;
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use govstate::drift::{
    DriftOptions, DriftReport, Exposition, Memory, Webhook, check_all, deployment_files, exposition, serve, text,
    write_atomically,
};
use govstate::observe::cache;
use govstate::spec::KeyPath;

use super::common::ChainArgs;
use super::devnet::stop_signal;

/// Output formats of `drift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per deployment plus its drifted fields.
    Text,
    /// One JSON document with a `format_version` (one line per check with `--watch`).
    Json,
    /// The Prometheus text exposition format.
    Prometheus,
}

/// Arguments of `govstate drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Desired-state files, or directories holding them (`*.yaml`, `*.yml`).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// How to report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write the metrics to FILE for node_exporter's textfile
    /// collector (atomically: a temporary file, then a rename).
    #[arg(long, value_name = "FILE")]
    prometheus_out: Option<PathBuf>,
    /// How many deployments to observe at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// How long one deployment may take, all its reads included, before it
    /// counts as an error (`--timeout` bounds each request).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_interval)]
    deadline: Duration,
    /// POST a JSON payload here for the deployments whose status changed
    /// since the last run. The URL usually holds a token: prefer
    /// `GOVSTATE_WEBHOOK_URL` or `--webhook-file` to a command line, which
    /// `ps` shows. Redirects are not followed.
    #[arg(long, value_name = "URL", env = "GOVSTATE_WEBHOOK_URL", hide_env_values = true)]
    webhook: Option<String>,
    /// Read the webhook URL from this file (its first line), e.g. a mounted secret.
    #[arg(long, value_name = "FILE", conflicts_with = "webhook")]
    webhook_file: Option<PathBuf>,
    /// Where the webhook remembers the last status of each deployment.
    /// Default: `drift-webhook-state.json` in the cache directory.
    #[arg(long, value_name = "FILE")]
    webhook_state: Option<PathBuf>,
    /// Retries of a webhook on 5xx, 408, 429, timeouts and connection errors, with backoff.
    #[arg(long, value_name = "N", default_value_t = 3)]
    webhook_retries: u32,
    /// Keep running: check every INTERVAL (e.g. `30s`, `5m`), serve
    /// `/metrics`, `/healthz` and a status page (`/`) on `--listen`; stop on
    /// SIGTERM or Ctrl-C.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    watch: Option<Duration>,
    /// Where `--watch` serves `/metrics`, `/healthz` and the status page `/` (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464", requires = "watch")]
    listen: SocketAddr,
    /// Check only this key path of each file (repeatable): a section
    /// (`arena`), a key (`arena.paused`) or a group (`stake_manager.fees_pct`).
    /// A file without it is not checked for it. Default: every key each file manages.
    #[arg(long = "target", value_name = "KEY_PATH")]
    targets: Vec<KeyPath>,
    /// The block to read each chain at: `finalized`, `safe`, `latest` or a
    /// number. On an L2, `finalized` avoids alarms about blocks that are
    /// then reorganised away.
    #[arg(long, value_name = "BLOCK", default_value = "latest")]
    block: govstate::observe::ReadAt,
    /// Print the JSON-RPC requests and round trips used, on stderr (with
    /// `--watch`, the totals so far after each check).
    #[arg(long)]
    stats: bool,
    #[command(flatten)]
    chain: ChainArgs,
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(duration) if !duration.is_zero() => Ok(duration),
        Ok(_) => Err("must be longer than zero".into()),
        Err(error) => Err(format!("{error}; expected e.g. 30s, 5m or 1h")),
    }
}

/// Posts webhooks and remembers what was sent.
struct Notifier {
    webhook: Webhook,
    state: PathBuf,
}

impl Notifier {
    fn from_args(args: &DriftArgs) -> anyhow::Result<Option<Self>> {
        let url = match (&args.webhook, &args.webhook_file) {
            (Some(url), _) => url.clone(),
            (None, Some(file)) => webhook_from_file(file)?,
            (None, None) => return Ok(None),
        };
        // The URL may carry a token: do not repeat it.
        let url: Url = url
            .trim()
            .parse()
            .ok()
            .context("the webhook URL (--webhook, GOVSTATE_WEBHOOK_URL or --webhook-file) is not a URL")?;
        let state = match (&args.webhook_state, cache::default_dir()) {
            (Some(path), _) => path.clone(),
            (None, Some(dir)) => dir.join("drift-webhook-state.json"),
            (None, None) => bail!("--webhook: no cache directory to keep its state in; pass --webhook-state FILE"),
        };
        let webhook = Webhook { retries: args.webhook_retries, ..Webhook::new(url) };
        Ok(Some(Self { webhook, state }))
    }

    /// Posts the changes since the last run, if any, then remembers this
    /// run; a failed post is remembered as not sent, to be tried again.
    async fn notify(&self, report: &DriftReport) -> anyhow::Result<()> {
        let mut memory = Memory::load(&self.state)?;
        let changes = memory.changes(report);
        if !changes.is_empty() {
            let payload = govstate::drift::Payload::new(report.checked_at, &changes);
            self.webhook.post(&payload).await?;
        }
        memory.remember(report);
        if let Some(dir) = self.state.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
        }
        Ok(memory.store(&self.state)?)
    }
}

/// The first line of `file`, read with a bound: a secret file holds one URL.
fn webhook_from_file(file: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(64 * 1024).read_to_string(&mut text))
        .with_context(|| format!("--webhook-file: could not read {}", file.display()))?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .with_context(|| format!("--webhook-file: {} holds no URL", file.display()))
}

pub async fn run(args: DriftArgs) -> anyhow::Result<ExitCode> {
    let files = deployment_files(&args.paths);
    if files.is_empty() {
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        bail!("no desired-state files (*.yaml, *.yml) in {}", paths.join(", "));
    }
    let notifier = Notifier::from_args(&args)?;
    let options = DriftOptions {
        rpc_url: args.chain.default_rpc_url(),
        rpc_url_origin: Some(args.chain.default_rpc_origin().to_string()),
        observe: govstate::observe::ObserveOptions { block: args.block, ..args.chain.observe_options() },
        jobs: usize::from(args.jobs),
        timeout: args.deadline,
        targets: args.targets.clone(),
        stats: govstate::rpc::RpcStats::default(),
        patience: args.chain.patience(),
    };
    match args.watch {
        None => once(&args, &files, &options, notifier.as_ref()).await,
        Some(interval) => watch(&args, interval, &files, &options, notifier.as_ref()).await,
    }
}

async fn once(
    args: &DriftArgs,
    files: &[PathBuf],
    options: &DriftOptions,
    notifier: Option<&Notifier>,
) -> anyhow::Result<ExitCode> {
    let report = check_all(files, options).await;
    print!("{}", render(&report, args.format, false));
    print_warnings(&report);
    print_stats(args, options);
    let delivered = publish(&report, args.prometheus_out.as_deref(), notifier).await;
    Ok(ExitCode::from(if delivered { report.exit_code() } else { 1 }))
}

/// What each check could not do besides its result, on stderr, by file.
fn print_warnings(report: &govstate::drift::DriftReport) {
    for deployment in &report.deployments {
        for warning in &deployment.warnings {
            eprintln!("warning: {}: {warning}", deployment.file);
        }
    }
}

/// With `--stats`, the JSON-RPC traffic so far, on stderr.
fn print_stats(args: &DriftArgs, options: &DriftOptions) {
    if args.stats {
        eprintln!("{}", options.stats.summary());
    }
}

/// Writes the textfile and posts the webhook; false (after saying why on
/// stderr) when either failed. The drift result itself is already shown.
async fn publish(report: &DriftReport, prometheus_out: Option<&Path>, notifier: Option<&Notifier>) -> bool {
    let mut ok = true;
    if let Some(path) = prometheus_out
        && let Err(error) = write_atomically(path, &exposition(report))
    {
        eprintln!("error: could not write the metrics to {}: {error}", path.display());
        ok = false;
    }
    if let Some(notifier) = notifier
        && let Err(error) = notifier.notify(report).await
    {
        eprintln!("error: webhook: {error:#}");
        ok = false;
    }
    ok
}

fn render(report: &DriftReport, format: Format, one_line: bool) -> String {
    match format {
        Format::Text => text(report),
        Format::Prometheus => exposition(report),
        Format::Json if one_line => serde_json::to_string(report).unwrap_or_default() + "\n",
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
    }
}

/// Text lines of a watch prefixed with the wall-clock time of the check
/// (RFC 3339, UTC); JSON and metrics carry their own.
fn timestamped(rendered: &str, format: Format) -> String {
    if format != Format::Text {
        return rendered.to_string();
    }
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    rendered.lines().map(|line| format!("{now} {line}\n")).collect()
}

async fn watch(
    args: &DriftArgs,
    interval: Duration,
    files: &[PathBuf],
    options: &DriftOptions,
    notifier: Option<&Notifier>,
) -> anyhow::Result<ExitCode> {
    let stop = stop_signal()?;
    tokio::pin!(stop);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("--listen: could not listen on {}", args.listen))?;
    let address = listener.local_addr().context("--listen: no local address")?;
    eprintln!(
        "govstate drift: checking {} deployment(s) every {}; serving http://{address}/metrics, /healthz and the status page /",
        files.len(),
        humantime::format_duration(interval)
    );
    // The page reloads with the checks, but neither hammers nor lags: 5s to 1m.
    let metrics = Exposition::with_refresh(interval.clamp(Duration::from_secs(5), Duration::from_secs(60)));
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let stale_after = interval.saturating_mul(3) + options.timeout;
    let server = tokio::spawn(serve(listener, metrics.clone(), stale_after, async {
        let _ = server_stopped.await;
    }));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = &mut stop => break,
        }
        let started = std::time::Instant::now();
        let report = tokio::select! {
            report = check_all(files, options) => report,
            _ = &mut stop => break,
        };
        metrics.publish_report(&report, started.elapsed());
        print!("{}", timestamped(&render(&report, args.format, true), args.format));
        print_warnings(&report);
        print_stats(args, options);
        publish(&report, args.prometheus_out.as_deref(), notifier).await;
    }
    let _ = stop_server.send(());
    let _ = server.await;
    eprintln!("govstate drift: stopped");
    Ok(ExitCode::SUCCESS)
}
