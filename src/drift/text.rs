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
            if let Some(change) = &drifted.last_change {
                let _ = writeln!(out, "      {}", attribution_line(change));
            }
            if let Some(line) = drifted.operation.as_ref().and_then(proposal_line) {
                let _ = writeln!(out, "      {line}");
            }
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
        Status::Drifted => format!("drifted  {}{at}: {}\n", deployment.file, counts(deployment)),
        Status::Error => format!("error    {}\n", deployment.error.as_deref().unwrap_or(&deployment.file)),
    }
}

/// `2 fields (3 differences), 1 pending operation`: what the lines below
/// hold, counted so that the numbers match them.
pub(super) fn counts(deployment: &DeploymentReport) -> String {
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let changes: Vec<&Drifted> = deployment.drift.iter().filter(|d| d.kind != DriftKind::PendingOperation).collect();
    let mut keys: Vec<(&str, &str)> = changes.iter().map(|d| (d.contract.as_str(), d.field.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut parts = Vec::new();
    if !keys.is_empty() {
        let mut fields = plural(keys.len(), "field", "fields");
        if changes.len() != keys.len() {
            fields.push_str(&format!(" ({})", plural(changes.len(), "difference", "differences")));
        }
        parts.push(fields);
    }
    let pending = deployment.drift.len() - changes.len();
    if pending > 0 {
        parts.push(plural(pending, "pending operation", "pending operations"));
    }
    parts.join(", ")
}

/// `~ stake_manager.fees_pct.fee: chain 7%, file 4%`, `- arena.orchestrators:
/// 0x… (holds the role on chain, …: apply revokes it)`: `+` and `-` say what
/// apply would grant and revoke, as in a plan.
pub fn drift_line(drifted: &Drifted) -> String {
    let key = format!("{}.{}", drifted.contract, drifted.field);
    let none = "(none)";
    match drifted.kind {
        DriftKind::Value => {
            let show = |raw: Option<&str>| raw.map_or_else(|| none.to_string(), |raw| with_unit(drifted, raw));
            format!("~ {key}: chain {}, file {}", show(drifted.chain.as_deref()), show(drifted.file.as_deref()))
        }
        // The marks mean what they mean in a plan: what apply would do.
        DriftKind::HolderAdded => {
            let holder = drifted.chain.as_deref().unwrap_or(none);
            format!("- {key}: {holder} (holds the role on chain, not in the file: apply revokes it)")
        }
        DriftKind::HolderMissing => {
            let holder = drifted.file.as_deref().unwrap_or(none);
            format!("+ {key}: {holder} (in the file, does not hold the role on chain: apply grants it)")
        }
        DriftKind::PendingOperation => format!("! {key}: {}", drifted.chain.as_deref().unwrap_or(none)),
    }
}

/// `last changed by 0x… in block 12 at 2026-…Z chain time, transaction 0x… (FeePctUpdated)`.
pub fn attribution_line(change: &super::report::Attribution) -> String {
    format!(
        "last changed by {} in block {} at {} chain time, transaction {} ({})",
        change.sender, change.block, change.time_rfc3339, change.transaction, change.event
    )
}

/// `proposed by 0x… in block 12 at 2026-…Z chain time, transaction 0x…`,
/// with who sent that transaction when it went through a contract (a Safe).
pub fn proposal_line(operation: &super::report::PendingDrift) -> Option<String> {
    let (proposer, scheduled) = (operation.proposer.as_deref()?, operation.scheduled.as_ref()?);
    let sent_by = if scheduled.sender == proposer { String::new() } else { format!(", sent by {}", scheduled.sender) };
    Some(format!(
        "proposed by {proposer} in block {} at {} chain time, transaction {}{sent_by}",
        scheduled.block, scheduled.time_rfc3339, scheduled.transaction
    ))
}

/// A number as its unit is meant (`150000000000000000000 (150 ether)`,
/// `604800 (7d)`, `7%`); anything else as it is.
pub(super) fn with_unit(drifted: &Drifted, raw: &str) -> String {
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
            operation: None,
            last_change: None,
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

    #[test]
    fn holders_are_marked_with_what_apply_would_do_as_in_a_plan() {
        let holder = |kind, chain: Option<&str>, file: Option<&str>| Drifted {
            contract: "arena".into(),
            field: "orchestrators".into(),
            kind,
            chain: chain.map(Into::into),
            file: file.map(Into::into),
            operation: None,
            last_change: None,
        };
        let extra = drift_line(&holder(DriftKind::HolderAdded, Some("0xA1"), None));
        assert_eq!(extra, "- arena.orchestrators: 0xA1 (holds the role on chain, not in the file: apply revokes it)");
        let missing = drift_line(&holder(DriftKind::HolderMissing, None, Some("0xB2")));
        assert_eq!(
            missing,
            "+ arena.orchestrators: 0xB2 (in the file, does not hold the role on chain: apply grants it)"
        );
    }
}
