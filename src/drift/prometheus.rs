//! The report as Prometheus metrics: the text exposition format, served on
//! `/metrics` or written as a textfile for node_exporter's textfile collector.
//!
//! Series are per deployment file (label `file`); the per-field series adds
//! `contract` and `field`, whose values come from the contract table, never
//! from the chain, so cardinality stays bounded.

use std::fmt::Write;
use std::io;
use std::path::Path;

use super::report::{DeploymentReport, DriftReport, Status};

/// Every metric written, with its type and help text.
pub const METRICS: &[(&str, &str, &str)] = &[
    ("govstate_in_sync", "gauge", "1 when the chain matches the deployment file, else 0."),
    ("govstate_drifted_fields", "gauge", "How many managed fields and role sets differ from the file."),
    ("govstate_last_check_timestamp_seconds", "gauge", "When the deployment was last checked (Unix time)."),
    ("govstate_check_success", "gauge", "1 when the deployment could be checked, 0 on error."),
    ("govstate_observe_duration_seconds", "gauge", "How long loading and observing the deployment took."),
    (
        "govstate_field_drift",
        "gauge",
        "Differences in one drifted field: 1 for a value, the number of holders added or missing for a role set.",
    ),
];

/// The whole report in the text exposition format, HELP and TYPE first.
pub fn exposition(report: &DriftReport) -> String {
    let mut out = String::new();
    for (name, kind, help) in METRICS {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for deployment in &report.deployments {
            samples(&mut out, name, deployment);
        }
    }
    out
}

fn samples(out: &mut String, name: &str, deployment: &DeploymentReport) {
    let file = format!("file=\"{}\"", escape(&deployment.file));
    let ok = deployment.status != Status::Error;
    if name == "govstate_drifted_fields" && !ok {
        // Unknown, not zero, when the check failed: left out.
        return;
    }
    let value = match name {
        "govstate_in_sync" => Some(f64::from(u8::from(deployment.status == Status::InSync))),
        "govstate_drifted_fields" => Some(deployment.drifted_fields() as f64),
        "govstate_last_check_timestamp_seconds" => Some(deployment.checked_at as f64),
        "govstate_check_success" => Some(f64::from(u8::from(ok))),
        "govstate_observe_duration_seconds" => Some(deployment.duration_seconds),
        _ => None,
    };
    if let Some(value) = value {
        let _ = writeln!(out, "{name}{{{file}}} {value}");
        return;
    }
    let mut counts: Vec<((&str, &str), usize)> = Vec::new();
    for drifted in &deployment.drift {
        let key = (drifted.contract.as_str(), drifted.field.as_str());
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    for ((contract, field), n) in counts {
        let _ = writeln!(out, "{name}{{{file},contract=\"{}\",field=\"{}\"}} {n}", escape(contract), escape(field));
    }
}

/// A label value escaped per the exposition format: backslash, double
/// quote and line feed.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Writes `text` to `path` atomically: a temporary file in the same
/// directory, then a rename, so the collector never reads half a file.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary_name);
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline() {
        assert_eq!(escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn a_written_textfile_replaces_the_old_one_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("govstate.prom");
        write_atomically(&path, "old\n").expect("written");
        write_atomically(&path, "new\n").expect("written");
        assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), "new\n");
        assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 1);
    }
}
