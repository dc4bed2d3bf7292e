//! The report for people: one line per deployment, then its drifted fields.

use std::fmt::Write;

use alloy::primitives::U256;

use super::report::{DeploymentReport, DriftKind, DriftReport, Drifted, Status};
use crate::contracts::{Shown, Value, kind};

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

/// `~ stake_manager.fees_pct.fee: chain 7%, file 4%`, `+ arena.orchestrators: 0x… (holds the role on chain, …)`.
pub fn drift_line(drifted: &Drifted) -> String {
    let key = format!("{}.{}", drifted.contract, drifted.field);
    let none = "(none)";
    match drifted.kind {
        DriftKind::Value => {
            let show = |raw: Option<&str>| raw.map_or_else(|| none.to_string(), |raw| with_unit(drifted, raw));
            format!("~ {key}: chain {}, file {}", show(drifted.chain.as_deref()), show(drifted.file.as_deref()))
        }
        DriftKind::HolderAdded => {
            format!("+ {key}: {} (holds the role on chain, not in the file)", drifted.chain.as_deref().unwrap_or(none))
        }
        DriftKind::HolderMissing => {
            format!(
                "- {key}: {} (in the file, does not hold the role on chain)",
                drifted.file.as_deref().unwrap_or(none)
            )
        }
        DriftKind::PendingOperation => format!("! {key}: {}", drifted.chain.as_deref().unwrap_or(none)),
    }
}

/// A number as its unit is meant (`150000000000000000000 (150 ether)`,
/// `604800 (7d)`, `7%`); anything else as it is.
fn with_unit(drifted: &Drifted, raw: &str) -> String {
    let unit = kind(&drifted.contract).and_then(|k| k.field(&drifted.field)).map(|f| f.unit);
    // Only decimal digits: `U256` would also read an address's hex as a number.
    let digits = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match (unit, raw.parse::<U256>()) {
        (Some(unit), Ok(n)) if digits => Shown { value: Value::Uint(n), unit }.to_string(),
        _ => raw.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn value(contract: &str, field: &str, chain: &str, file: &str) -> Drifted {
        Drifted {
            contract: contract.into(),
            field: field.into(),
            kind: DriftKind::Value,
            chain: Some(chain.into()),
            file: Some(file.into()),
        }
    }

    #[test]
    fn values_are_shown_in_their_unit() {
        let fee = value("stake_manager", "fees_pct.fee", "7", "4");
        assert_eq!(drift_line(&fee), "~ stake_manager.fees_pct.fee: chain 7%, file 4%");
        let period = value("stake_manager", "unbonding_period", "86400", "604800");
        assert_eq!(drift_line(&period), "~ stake_manager.unbonding_period: chain 86400 (1d), file 604800 (7d)");
        let paused = value("arena", "paused", "true", "false");
        assert_eq!(drift_line(&paused), "~ arena.paused: chain true, file false");
        let owner = value("arena", "owner", "0x00000000000000000000000000000000000000A1", "0xB2");
        assert_eq!(drift_line(&owner), "~ arena.owner: chain 0x00000000000000000000000000000000000000A1, file 0xB2");
    }
}
