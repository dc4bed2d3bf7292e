//! `govstate completions SHELL` and `govstate man`: generated from the same
//! clap definitions the parser uses, so they cannot fall out of date.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "govstate", &mut script);
    std::io::stdout().write_all(&script).context("could not write the completion script")?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the man page, `govstate.1`, on stdout.
pub fn man() -> anyhow::Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page).context("could not render the man page")?;
    std::io::stdout().write_all(&page).context("could not write the man page")?;
    Ok(ExitCode::SUCCESS)
}
