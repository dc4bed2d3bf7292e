//! `govstate validate FILE…` and `govstate schema`: offline checks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use govstate::spec::{ValidationReport, json_schema, load_file};

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per problem.
    Text,
    /// A JSON list with one report per file, whatever their number, for CI.
    Json,
}

/// Arguments of `govstate validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Desired-state files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// How to report.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut reports = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let file = path.display().to_string();
        let result = load_file(path);
        if args.format == Format::Text {
            match &result {
                Ok(_) => println!("{file}: valid"),
                Err(error) => eprintln!("{error}"),
            }
        }
        reports.push(ValidationReport::new(&file, &result));
    }
    if args.format == Format::Json {
        // Always a list, whatever the number of files: one shape to parse.
        let json = serde_json::to_string_pretty(&reports)?;
        println!("{json}");
    }
    Ok(if reports.iter().all(|r| r.valid) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub fn schema() -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(&json_schema())?);
    Ok(ExitCode::SUCCESS)
}
