//! The `govstate` command line: parse, call the library, render.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return cli::report(&anyhow::Error::new(error)),
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(error) => cli::report(&error),
    }
}
