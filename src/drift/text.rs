//! The report for people: one line per deployment, then its drifted fields.

use std::fmt::Write;

use super::report::{DeploymentReport, DriftKind, DriftReport, Drifted, Status};

/// The report as text: one line per deployment plus its drifted fields,
/// then a summary line.
pub fn text(report: &DriftReport) -> String {
    let mut out = String::new();
    for deployment in &report.deployments {
        out.push_str(&deployment_line(deployment));
        for drifted in &deployment.drift {
            let _ = writeln!(out, "    {}", drift_line(drifted));
        }
    }
    out.push_str(&summary_line(report));
    out
}

/// `in sync   state/a.yaml (chain 1, block 7)`, `drifted …: 2 fields`, `error …: why`.
pub fn deployment_line(deployment: &DeploymentReport) -> String {
    let at = match (deployment.chain_id, deployment.block) {
        (Some(chain), Some(block)) => format!(" (chain {chain}, block {block})"),
        _ => String::new(),
    };
    match deployment.status {
        Status::InSync => format!("in sync  {}{at}\n", deployment.file),
        Status::Drifted => {
            let n = deployment.drifted_fields();
            format!("drifted  {}{at}: {n} field{}\n", deployment.file, if n == 1 { "" } else { "s" })
        }
        Status::Error => format!("error    {}\n", deployment.error.as_deref().unwrap_or(&deployment.file)),
    }
}

/// `~ arena.paused: chain true, file false`, `+ arena.orchestrators: 0x… (on chain, not in the file)`.
pub fn drift_line(drifted: &Drifted) -> String {
    let key = format!("{}.{}", drifted.contract, drifted.field);
    let none = "(none)";
    match drifted.kind {
        DriftKind::Value => format!(
            "~ {key}: chain {}, file {}",
            drifted.chain.as_deref().unwrap_or(none),
            drifted.file.as_deref().unwrap_or(none)
        ),
        DriftKind::HolderAdded => {
            format!("+ {key}: {} (holds the role on chain, not in the file)", drifted.chain.as_deref().unwrap_or(none))
        }
        DriftKind::HolderMissing => {
            format!(
                "- {key}: {} (in the file, does not hold the role on chain)",
                drifted.file.as_deref().unwrap_or(none)
            )
        }
    }
}

/// `3 deployments: 1 in sync, 1 drifted, 1 error.`
pub fn summary_line(report: &DriftReport) -> String {
    let s = report.summary;
    let total = report.deployments.len();
    format!(
        "{total} deployment{}: {} in sync, {} drifted, {} error{}.\n",
        if total == 1 { "" } else { "s" },
        s.in_sync,
        s.drifted,
        s.error,
        if s.error == 1 { "" } else { "s" }
    )
}
