//! `govstate import --arena … --stake-manager … --system-pause …`: write a
//! desired-state file from the chain as it is.
//!
//! One `--<kind>` flag per entry of the contract table, generated from it,
//! so a contract added to the table is importable without touching this file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use alloy::primitives::Address;
use anyhow::{Context, bail};
use clap::{Arg, ArgGroup, ArgMatches, Args, FromArgMatches};
use govstate::contracts::{KINDS, Kind};
use govstate::import::import;
use govstate::rpc::RpcStats;
use govstate::spec::{ChecksummedAddress, SCHEMA_PATH, load_str};

use super::common::ChainArgs;

/// Arguments of `govstate import`.
#[derive(Debug)]
pub struct ImportArgs {
    /// The address given for each kind, as typed.
    addresses: Vec<(&'static Kind, String)>,
    options: ImportOptions,
}

/// The flags of `import` besides the contract addresses.
#[derive(Debug, Args)]
struct ImportOptions {
    /// Write the file here instead of stdout; refused if it exists, unless `--force`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite `--out` if it exists.
    #[arg(long, requires = "out")]
    force: bool,
    /// The JSON Schema the file's modeline points at (a path relative to the file, or a URL).
    #[arg(long, value_name = "PATH_OR_URL", default_value = SCHEMA_PATH)]
    schema: String,
    #[command(flatten)]
    chain: ChainArgs,
}

/// The flag of a kind: its section key with dashes (`stake-manager`).
fn flag(kind: &Kind) -> String {
    kind.key.replace('_', "-")
}

impl Args for ImportArgs {
    fn augment_args(mut command: clap::Command) -> clap::Command {
        for kind in KINDS {
            let help = format!("Address of the {} to import", kind.name);
            command = command.arg(Arg::new(kind.key).long(flag(kind)).value_name("ADDRESS").help(help));
        }
        let group = ArgGroup::new("contracts").args(KINDS.iter().map(|k| k.key)).multiple(true).required(true);
        ImportOptions::augment_args(command.group(group))
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

impl FromArgMatches for ImportArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let addresses =
            KINDS.iter().filter_map(|kind| matches.get_one::<String>(kind.key).map(|a| (*kind, a.clone()))).collect();
        Ok(Self { addresses, options: ImportOptions::from_arg_matches(matches)? })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// Parses every address (checksum checked when mixed-case), naming the flag.
fn addresses(given: &[(&'static Kind, String)]) -> anyhow::Result<Vec<(&'static Kind, Address)>> {
    let mut parsed = Vec::with_capacity(given.len());
    for (kind, text) in given {
        let address: ChecksummedAddress =
            text.parse().with_context(|| format!("--{}: {text:?} is not a valid address", flag(kind)))?;
        if address.get() == Address::ZERO {
            bail!("--{}: the zero address holds no contract", flag(kind));
        }
        parsed.push((*kind, address.get()));
    }
    Ok(parsed)
}

pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let addresses = addresses(&args.addresses)?;
    let options = &args.options;
    if let Some(path) = &options.out
        && !options.force
        && path.exists()
    {
        bail!("{} exists; pass --force to overwrite it", path.display());
    }
    let provider = options.chain.connect(None, &RpcStats::default())?;
    let imported = import(&provider, &addresses, &options.chain.observe_options(), &options.schema)
        .await
        .context("could not import the deployment")?;
    // The file must read back: a failure here is a govstate bug, caught before anyone commits it.
    load_str(&imported.yaml, "the imported file").context("the imported file does not validate")?;
    match &options.out {
        Some(path) => {
            open_out(path, options.force)?
                .write_all(imported.yaml.as_bytes())
                .with_context(|| format!("could not write {}", path.display()))?;
            let block = imported.observed.block.number;
            eprintln!("Wrote {} (chain {}, block {block}).", path.display(), imported.observed.chain_id);
        }
        None => print!("{}", imported.yaml),
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates `--out`: `create_new` unless forced, so a file that appeared
/// while the chain was read is not overwritten either.
fn open_out(path: &std::path::Path, force: bool) -> anyhow::Result<std::fs::File> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    open.open(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{} exists; pass --force to overwrite it", path.display())
        } else {
            anyhow::Error::new(error).context(format!("could not create {}", path.display()))
        }
    })
}
