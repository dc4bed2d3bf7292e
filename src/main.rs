//! The `govstate` command line: parse, call the library, render.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    restore_default_sigpipe();
    let args = match cli::Cli::try_parse_from(cli::help_flags_after_help(std::env::args_os())) {
        Ok(args) => args,
        Err(error) => return cli::usage(&error),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return cli::report(&anyhow::Error::new(error)),
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(error) => cli::report(&error),
    }
}

/// Rust ignores SIGPIPE, which turns `govstate … | head` into a panic on the
/// next print; restore the Unix default so the command just ends quietly.
fn restore_default_sigpipe() {
    // SAFETY: setting a signal disposition to its default before any other
    // thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
