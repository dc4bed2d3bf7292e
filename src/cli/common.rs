//! What several commands share: loading the file, reaching the chain.

use std::path::{Path, PathBuf};

use alloy::providers::DynProvider;
use alloy::transports::http::reqwest::Url;
use anyhow::{Context, bail};
use clap::Args;
use govstate::observe::{ObserveOptions, Observed, ReadAt, Scope, cache, observe};
use govstate::rpc::{Patience, RpcStats, connect_with, parse_endpoint};
use govstate::spec::{Desired, KeyPath, load_file_with_overrides};

/// How to reach the chain and how to read it.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// JSON-RPC endpoint. Default: the variable the file names in
    /// `rpc_url_env`, else `ETH_RPC_URL`.
    #[arg(long, value_name = "URL")]
    rpc_url: Option<String>,
    /// Read with a JSON-RPC batch even where Multicall3 is deployed.
    #[arg(long)]
    no_multicall: bool,
    /// Where to keep the role-holder cache. Default: `GOVSTATE_CACHE_DIR`,
    /// else `$XDG_CACHE_HOME/govstate`, else `~/.cache/govstate`.
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Scan role holders from the deployment block every time.
    #[arg(long)]
    no_cache: bool,
    /// The largest block range asked of `eth_getLogs` at once. Default: the
    /// whole range first, then what the endpoint says it accepts (learned,
    /// and remembered per endpoint in the cache).
    #[arg(long, value_name = "BLOCKS")]
    log_chunk_blocks: Option<u64>,
    /// The most requests in one JSON-RPC batch, every batch included (a
    /// batch the node refuses is halved and sent again).
    #[arg(long, value_name = "REQUESTS", default_value_t = 2_000)]
    max_batch: usize,
    /// How long one JSON-RPC request may take, answer included (`30s`, `500ms`).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: std::time::Duration,
    /// How often a failed read is tried again, with jittered exponential
    /// backoff (or after the server's Retry-After). A transaction is never
    /// sent again blindly: a lost answer is checked by its hash and nonce.
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
    /// The connected endpoint's name in the cache (set by `connect`).
    #[arg(skip)]
    endpoint: std::sync::OnceLock<String>,
}

impl ChainArgs {
    /// A provider for the endpoint, counting its traffic in `stats`.
    pub fn connect(&self, file_env: Option<&str>, stats: &RpcStats) -> anyhow::Result<DynProvider> {
        let url = self.url(file_env)?;
        let _ = self.endpoint.set(govstate::rpc::endpoint_key(&url));
        Ok(connect_with(url, stats, self.patience()))
    }

    /// How patient to be with the endpoint, from the flags.
    pub fn patience(&self) -> Patience {
        Patience { timeout: self.timeout, retries: self.retries, max_batch: self.max_batch, ..Patience::default() }
    }

    /// The endpoint: `--rpc-url`, else the file's variable, else `ETH_RPC_URL`.
    pub fn url(&self, file_env: Option<&str>) -> anyhow::Result<Url> {
        let url = self.rpc_url(file_env)?;
        let origin = if self.rpc_url.is_some() { "--rpc-url" } else { file_env.unwrap_or("ETH_RPC_URL") };
        Ok(parse_endpoint(&url, origin)?)
    }

    /// The endpoint for files that name no variable: `--rpc-url`, else
    /// `ETH_RPC_URL`, when either is given.
    pub fn default_rpc_url(&self) -> Option<String> {
        self.rpc_url(None).ok()
    }

    /// Where [`ChainArgs::default_rpc_url`] comes from, as errors name it.
    pub fn default_rpc_origin(&self) -> &'static str {
        if self.rpc_url.is_some() { "--rpc-url" } else { "ETH_RPC_URL" }
    }

    fn rpc_url(&self, file_env: Option<&str>) -> anyhow::Result<String> {
        if let Some(url) = &self.rpc_url {
            return Ok(url.clone());
        }
        let variable = file_env.unwrap_or("ETH_RPC_URL");
        match std::env::var(variable) {
            Ok(url) if !url.is_empty() => Ok(url),
            _ => bail!("no RPC endpoint: pass --rpc-url or set {variable}"),
        }
    }

    /// Observes, through `provider`, everything the file at `source` manages.
    pub async fn observe(&self, provider: &DynProvider, desired: &Desired, source: &str) -> anyhow::Result<Observed> {
        self.observe_at(provider, desired, source, ReadAt::Latest).await
    }

    /// Like [`ChainArgs::observe`], reading at block `at` (`--block`).
    pub async fn observe_at(
        &self,
        provider: &DynProvider,
        desired: &Desired,
        source: &str,
        at: ReadAt,
    ) -> anyhow::Result<Observed> {
        let options = ObserveOptions { block: at, ..self.observe_options() };
        observe(provider, &Scope::of(desired), &options)
            .await
            .with_context(|| format!("could not observe the chain for {source} at the {at} block"))
    }

    /// How to observe, from the flags.
    pub fn observe_options(&self) -> ObserveOptions {
        let cache_dir = if self.no_cache { None } else { self.cache_dir.clone().or_else(cache::default_dir) };
        ObserveOptions {
            multicall: !self.no_multicall,
            cache_dir,
            log_chunk_blocks: self.log_chunk_blocks.unwrap_or(u64::MAX),
            max_batch: self.max_batch,
            endpoint: self.endpoint.get().cloned(),
            block: ReadAt::Latest,
        }
    }
}

/// A validated file in the contract table's terms.
pub struct Loaded {
    /// What the file asks for.
    pub desired: Desired,
    /// The variable holding the RPC endpoint, when the file names one.
    pub rpc_url_env: Option<String>,
}

/// Loads and validates a desired-state file, with `key.path=value`
/// overrides applied first; every problem is reported.
pub fn load_desired_with(path: &Path, overrides: &[String]) -> anyhow::Result<Loaded> {
    if written_by_govstate(path) {
        anyhow::bail!(
            "{} is a saved plan or a receipt, not a desired-state file: `govstate show {0}` reads it back, `govstate apply {0}` applies a saved plan",
            path.display()
        );
    }
    let spec = load_file_with_overrides(path, overrides)?;
    Ok(Loaded { desired: spec.desired(), rpc_url_env: spec.rpc_url_env().map(str::to_string) })
}

/// True for JSON that govstate wrote (a saved plan or a receipt carries
/// `format_version`; a desired-state file carries `version`).
fn written_by_govstate(path: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        format_version: Option<serde::de::IgnoredAny>,
    }
    let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    json && std::fs::read(path)
        .is_ok_and(|b| serde_json::from_slice::<Probe>(&b).is_ok_and(|p| p.format_version.is_some()))
}

impl Loaded {
    /// The file narrowed to `targets` (`--target`; none: unchanged); a
    /// target the file does not write is refused, naming the file.
    pub fn only(self, targets: &[KeyPath], source: &str) -> anyhow::Result<Loaded> {
        let desired = self.desired.only(targets).map_err(|error| anyhow::anyhow!("{source}: {error}"))?;
        Ok(Loaded { desired, ..self })
    }
}
