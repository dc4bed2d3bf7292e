//! The status page `drift --watch` serves at `/`, for people on call: every
//! deployment's status, its drifted fields with the transaction that last
//! changed each, pending operations with a countdown, and the last check's
//! time and duration.
//!
//! One server-rendered HTML document, its style and a tiny script inline, so
//! it loads nothing from elsewhere; every piece of text from outside (file
//! names, values, errors, addresses) goes through [`html`]. It reloads
//! itself (`<meta http-equiv="refresh">`) and, in between, its script counts
//! ages up and countdowns down from the numbers the server wrote.
//! [`content_security_policy`] allows that style and that script by their
//! hashes and nothing else.

use std::fmt::Write;
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::report::{Attribution, DeploymentReport, DriftKind, DriftReport, Drifted, PendingDrift, Status};
use super::text::{counts, summary_line, with_unit};
use crate::render::escape::html;
use crate::render::rfc3339;

/// The page's style, inline (allowed by its hash).
const STYLE: &str = "\
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1d2329;background:#fff}\
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:0 0 .3rem}\
code{font:13px ui-monospace,monospace;word-break:break-all}\
section{border:1px solid #d0d7de;border-left-width:6px;border-radius:6px;padding:.7rem 1rem;margin:1rem 0}\
section.in_sync{border-left-color:#1a7f37}section.drifted{border-left-color:#bf8700}section.error{border-left-color:#cf222e}\
.status{display:inline-block;border-radius:1rem;padding:0 .6rem;font-size:.85rem;color:#fff;margin-right:.4rem}\
.status.in_sync{background:#1a7f37}.status.drifted{background:#9a6700}.status.error{background:#cf222e}\
.where,.check{color:#57606a;margin:.2rem 0}.error-text{color:#a40e26;white-space:pre-wrap}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}caption{text-align:left;font-weight:600;padding:.3rem 0}\
th,td{border-top:1px solid #d8dee4;padding:.3rem .5rem;text-align:left;vertical-align:top}\
td.mark{font:bold 15px ui-monospace,monospace;width:1.2rem}td.key code{white-space:nowrap;word-break:normal}ul{margin:0;padding-left:1.1rem}\
tr.moves_away td{background:#fff5f5}tr.converges td{background:#f4fbf6}";

/// The page's script, inline (allowed by its hash): every second, counts
/// each `data-age` up and each `data-remaining` down, written as
/// [`short`] writes them.
const SCRIPT: &str = "(function(){var t0=Date.now();\
function f(s){var d=Math.floor(s/86400),h=Math.floor(s%86400/3600),m=Math.floor(s%3600/60),r=s%60,o=[];\
if(d)o.push(d+'d');if(h)o.push(h+'h');if(m)o.push(m+'m');if(r||!o.length)o.push(r+'s');return o.join(' ');}\
function tick(){var e=Math.floor((Date.now()-t0)/1000);\
document.querySelectorAll('[data-age]').forEach(function(n){n.textContent=f(+n.dataset.age+e)+' ago';});\
document.querySelectorAll('[data-remaining]').forEach(function(n){var r=+n.dataset.remaining-e;\
n.textContent=r>0?'in '+f(r):'ready now';});}\
setInterval(tick,1000);})();";

/// The `Content-Security-Policy` the page is served with: nothing may load,
/// and only the page's own style and script run, by their SHA-256.
pub fn content_security_policy() -> String {
    static POLICY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let hash = |text: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'",
            hash(STYLE),
            hash(SCRIPT)
        )
    });
    POLICY.clone()
}

/// The latest check the page shows, with how long the whole check took.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'a> {
    /// What the check found.
    pub report: &'a DriftReport,
    /// How long checking every deployment took.
    pub took: Duration,
}

/// The page, rendered at wall-clock time `now` (Unix seconds), reloading
/// itself every `refresh`; before the first check finished, a page that says
/// so and reloads.
pub fn status_page(latest: Option<Checked<'_>>, now: u64, refresh: Duration) -> String {
    let mut out = String::new();
    let title = latest.map_or_else(|| "waiting for the first check".to_string(), |c| title(c.report));
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"refresh\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>govstate: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>govstate drift</h1>\n",
        refresh.as_secs().max(1),
        html(&title)
    );
    match latest {
        None => out.push_str("<p class=\"check\">No check has finished yet; this page reloads until one has.</p>\n"),
        Some(checked) => body(&mut out, checked, now, refresh),
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// `1 drifted, 1 error, 2 in sync` (what needs a look first), or `all 3
/// in sync`.
fn title(report: &DriftReport) -> String {
    let s = report.summary;
    if s.drifted == 0 && s.error == 0 {
        let n = report.deployments.len();
        return format!("all {n} deployment{} in sync", if n == 1 { "" } else { "s" });
    }
    let mut parts = Vec::new();
    if s.drifted > 0 {
        parts.push(format!("{} drifted", s.drifted));
    }
    if s.error > 0 {
        parts.push(format!("{} error{}", s.error, if s.error == 1 { "" } else { "s" }));
    }
    if s.in_sync > 0 {
        parts.push(format!("{} in sync", s.in_sync));
    }
    parts.join(", ")
}

fn body(out: &mut String, checked: Checked<'_>, now: u64, refresh: Duration) {
    let report = checked.report;
    let _ = writeln!(out, "<p class=\"summary\">{}</p>", html(summary_line(report).trim_end()));
    let _ = writeln!(
        out,
        "<p class=\"check\">Last check {}, took {:.2} s; this page reloads every {}.</p>",
        time_with_age(report.checked_at, &report.checked_at_rfc3339, now),
        checked.took.as_secs_f64(),
        short(refresh.as_secs().max(1))
    );
    for deployment in &report.deployments {
        section(out, deployment, now);
    }
}

/// `<time>…Z</time> (<span data-age>12s ago</span>)`: wall-clock time, with
/// an age the script keeps counting.
fn time_with_age(at: u64, rfc3339: &str, now: u64) -> String {
    let age = now.saturating_sub(at);
    format!("<time datetime=\"{0}\">{0}</time> (<span data-age=\"{age}\">{1} ago</span>)", html(rfc3339), short(age))
}

fn section(out: &mut String, deployment: &DeploymentReport, now: u64) {
    let status = deployment.status.name();
    let _ = writeln!(
        out,
        "<section class=\"{status}\" data-status=\"{status}\" data-file=\"{file}\">\n\
         <h2><span class=\"status {status}\">{label}</span> <code>{file}</code></h2>",
        file = html(&deployment.file),
        label = status.replace('_', " ")
    );
    let mut facts = Vec::new();
    if let Some(chain) = deployment.chain_id {
        facts.push(format!("chain {chain}"));
    }
    if let Some(block) = deployment.block {
        let time = deployment.block_time.map(|t| format!(" at {} chain time", rfc3339(t))).unwrap_or_default();
        facts.push(format!("block {block}{time}"));
    }
    facts.push(format!("checked in {:.2} s", deployment.duration_seconds));
    if deployment.status == Status::Drifted {
        facts.push(counts(deployment));
    }
    let _ = writeln!(out, "<p class=\"where\">{}</p>", html(&facts.join(" · ")));
    if let Some(error) = &deployment.error {
        let _ = writeln!(out, "<p class=\"error-text\">{}</p>", html(error));
    }
    let (pending, changes): (Vec<&Drifted>, Vec<&Drifted>) =
        deployment.drift.iter().partition(|d| d.kind == DriftKind::PendingOperation);
    if !changes.is_empty() {
        drift_table(out, &changes);
    }
    if !pending.is_empty() {
        let chain_now = chain_now(deployment, now);
        pending_table(out, &pending, chain_now);
    }
    out.push_str("</section>\n");
}

/// The chain's clock now: the observed block's time plus the wall-clock time
/// since the check (the wall clock itself when the block's time is unknown).
fn chain_now(deployment: &DeploymentReport, now: u64) -> u64 {
    match deployment.block_time {
        Some(block_time) => block_time.saturating_add(now.saturating_sub(deployment.checked_at)),
        None => now,
    }
}

fn drift_table(out: &mut String, changes: &[&Drifted]) {
    out.push_str(
        "<table class=\"drift\"><caption>Drifted fields</caption>\n<tr><th scope=\"col\"></th><th scope=\"col\">Field</th>\
         <th scope=\"col\">On chain</th><th scope=\"col\">In the file</th><th scope=\"col\">Last changed</th></tr>\n",
    );
    for drifted in changes {
        let key = format!("{}.{}", drifted.contract, drifted.field);
        let shown = |raw: Option<&str>| raw.map_or_else(|| "(none)".to_string(), |raw| with_unit(drifted, raw));
        let (mark, chain, file) = match drifted.kind {
            DriftKind::HolderAdded => (
                "-",
                format!("<code>{}</code> holds the role", html(&shown(drifted.chain.as_deref()))),
                "not in the file: apply revokes it".to_string(),
            ),
            DriftKind::HolderMissing => (
                "+",
                "does not hold the role".to_string(),
                format!("<code>{}</code>: apply grants it", html(&shown(drifted.file.as_deref()))),
            ),
            _ => (
                "~",
                format!("<code>{}</code>", html(&shown(drifted.chain.as_deref()))),
                format!("<code>{}</code>", html(&shown(drifted.file.as_deref()))),
            ),
        };
        let change = drifted.last_change.as_ref().map_or_else(|| "not found".to_string(), attribution);
        let _ = writeln!(
            out,
            "<tr class=\"{kind}\"><td class=\"mark\">{mark}</td><td class=\"key\"><code>{key}</code></td><td>{chain}</td>\
             <td>{file}</td><td>{change}</td></tr>",
            kind = kind_name(drifted.kind),
            key = html(&key)
        );
    }
    out.push_str("</table>\n");
}

fn kind_name(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::Value => "value",
        DriftKind::HolderAdded => "holder_added",
        DriftKind::HolderMissing => "holder_missing",
        DriftKind::PendingOperation => "pending_operation",
    }
}

/// `by 0x… in block 12 at …Z chain time, transaction 0x… (FeePctUpdated)`.
fn attribution(change: &Attribution) -> String {
    format!(
        "by <code>{}</code> in block {} at <time datetime=\"{2}\">{2}</time> chain time, transaction <code>{3}</code> \
         ({4})",
        html(&change.sender),
        change.block,
        html(&change.time_rfc3339),
        html(&change.transaction),
        html(&change.event)
    )
}

fn pending_table(out: &mut String, pending: &[&Drifted], chain_now: u64) {
    out.push_str(
        "<table class=\"pending\"><caption>Pending operations</caption>\n<tr><th scope=\"col\">Operation</th>\
         <th scope=\"col\">State</th><th scope=\"col\">Ready (chain time)</th><th scope=\"col\">Against the file</th>\
         <th scope=\"col\">It would</th></tr>\n",
    );
    for drifted in pending {
        match &drifted.operation {
            Some(operation) => pending_row(out, operation, chain_now),
            None => {
                let what = html(drifted.chain.as_deref().unwrap_or("(undescribed)"));
                let _ = writeln!(out, "<tr class=\"unknown\"><td colspan=\"5\">{what}</td></tr>");
            }
        }
    }
    out.push_str("</table>\n");
}

fn pending_row(out: &mut String, operation: &PendingDrift, chain_now: u64) {
    let remaining = i128::from(operation.ready_at) - i128::from(chain_now);
    let countdown = if remaining > 0 { format!("in {}", short(remaining as u64)) } else { "ready now".to_string() };
    let verdict = match operation.verdict.as_str() {
        "converges" => "converges toward it",
        "moves_away" => "moves away from it",
        _ => "does not decode: judge it yourself",
    };
    let effects: String = operation.effects.iter().map(|e| format!("<li>{}</li>", html(e))).collect();
    let n = operation.calls;
    let proposed = match (&operation.proposer, &operation.scheduled) {
        (Some(proposer), Some(scheduled)) => format!(
            "<br>proposed by <code>{}</code> in block {}, transaction <code>{}</code>",
            html(proposer),
            scheduled.block,
            html(&scheduled.transaction)
        ),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "<tr class=\"{verdict_class}\"><td><code>{id}</code><br>on <code>{timelock}</code>, {n} call{plural}{proposed}</td>\
         <td>{state}</td><td><time datetime=\"{ready}\">{ready}</time><br><span class=\"countdown\" \
         data-remaining=\"{remaining}\">{countdown}</span></td><td>{verdict}</td><td><ul>{effects}</ul></td></tr>",
        verdict_class = html(&operation.verdict),
        id = html(&operation.id),
        timelock = html(&operation.timelock),
        plural = if n == 1 { "" } else { "s" },
        state = html(&operation.state),
        ready = html(&operation.ready_at_rfc3339),
        remaining = remaining.max(0),
    );
}

/// `1d 2h 3m 4s`, the zero parts left out (`0s` for nothing): what the
/// page's script writes too.
fn short(seconds: u64) -> String {
    let parts = [(seconds / 86_400, "d"), (seconds % 86_400 / 3_600, "h"), (seconds % 3_600 / 60, "m")];
    let mut out: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, unit)| format!("{n}{unit}")).collect();
    if !seconds.is_multiple_of(60) || out.is_empty() {
        out.push(format!("{}s", seconds % 60));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(file: &str, status: Status, drift: Vec<Drifted>) -> DeploymentReport {
        DeploymentReport {
            file: file.into(),
            status,
            chain_id: Some(31337),
            block: Some(12),
            block_time: Some(1_000),
            checked_at: 5_000,
            duration_seconds: 0.25,
            drift,
            error: None,
            warnings: Vec::new(),
        }
    }

    fn fee(chain: &str) -> Drifted {
        Drifted {
            contract: "stake_manager".into(),
            field: "fees_pct.fee".into(),
            kind: DriftKind::Value,
            chain: Some(chain.into()),
            file: Some("4".into()),
            operation: None,
            last_change: Some(Attribution {
                block: 11,
                time: 990,
                time_rfc3339: "1970-01-01T00:16:30Z".into(),
                transaction: "0xabc".into(),
                sender: "0xA1".into(),
                event: "FeePctUpdated".into(),
            }),
        }
    }

    fn pending(ready_at: u64) -> Drifted {
        Drifted {
            contract: "timelock".into(),
            field: "pending_operation".into(),
            kind: DriftKind::PendingOperation,
            chain: Some("0x01 …".into()),
            file: None,
            operation: Some(PendingDrift {
                id: "0x01".into(),
                timelock: "0x02".into(),
                state: "waiting".into(),
                ready_at,
                ready_at_rfc3339: rfc3339(ready_at),
                calls: 1,
                verdict: "moves_away".into(),
                effects: vec!["set stake_manager.fees_pct.fee to 83%".into()],
                proposer: None,
                scheduled: None,
            }),
            last_change: None,
        }
    }

    fn page(deployments: Vec<DeploymentReport>, now: u64) -> String {
        let report = DriftReport::new(5_000, deployments);
        status_page(Some(Checked { report: &report, took: Duration::from_millis(420) }), now, Duration::from_secs(5))
    }

    #[test]
    fn a_drifted_field_is_shown_in_its_unit_with_who_changed_it() {
        let html = page(vec![deployment("state/a.yaml", Status::Drifted, vec![fee("7")])], 5_000);
        assert!(html.contains("<title>govstate: 1 drifted</title>"), "{html}");
        let row =
            "<td class=\"key\"><code>stake_manager.fees_pct.fee</code></td><td><code>7%</code></td><td><code>4%</code>";
        assert!(html.contains(row), "{html}");
        assert!(html.contains("by <code>0xA1</code> in block 11 at"), "{html}");
        assert!(
            html.contains("chain 31337 · block 12 at 1970-01-01T00:16:40Z chain time · checked in 0.25 s · 1 field")
        );
        assert!(html.contains("took 0.42 s; this page reloads every 5s."), "{html}");
        assert!(html.contains("<meta http-equiv=\"refresh\" content=\"5\">"), "{html}");
    }

    #[test]
    fn a_pending_operation_counts_down_by_the_chain_clock_not_the_wall_clock() {
        // Checked at wall 5000 when the chain read 1000; 30 s later the chain
        // reads 1030, so an operation ready at chain time 1100 is 70 s away.
        let html = page(vec![deployment("a.yaml", Status::Drifted, vec![pending(1_100)])], 5_030);
        assert!(html.contains("data-remaining=\"70\">in 1m 10s</span>"), "{html}");
        assert!(html.contains("moves away from it") && html.contains("<li>set stake_manager.fees_pct.fee to 83%</li>"));
        let html = page(vec![deployment("a.yaml", Status::Drifted, vec![pending(900)])], 5_030);
        assert!(html.contains("data-remaining=\"0\">ready now</span>"), "{html}");
    }

    #[test]
    fn text_from_files_and_nodes_is_escaped_so_it_cannot_become_markup() {
        let mut bad = deployment("<script>alert(1)</script>.yaml", Status::Error, Vec::new());
        bad.error = Some("node said <img src=x onerror=alert(1)> & \"quit\"".into());
        let mut value = fee("</code><b>7</b>");
        value.contract = "stake_manager".into();
        let drifted = deployment("a\".yaml", Status::Drifted, vec![value]);
        let html = page(vec![bad, drifted], 5_000);
        assert!(!html.contains("<script>alert") && !html.contains("<img") && !html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.yaml"), "{html}");
        assert!(html.contains("data-file=\"a&quot;.yaml\""), "{html}");
        assert_eq!(html.matches("<script>").count(), 1, "only the page's own script");
    }

    #[test]
    fn the_page_before_any_check_says_so_and_reloads() {
        let html = status_page(None, 0, Duration::from_secs(5));
        assert!(html.contains("No check has finished yet") && html.contains("content=\"5\""), "{html}");
    }

    #[test]
    fn durations_are_written_as_the_script_writes_them() {
        assert_eq!(short(0), "0s");
        assert_eq!(short(80), "1m 20s");
        assert_eq!(short(3_600), "1h");
        assert_eq!(short(2 * 86_400 + 5), "2d 5s");
    }

    #[test]
    fn the_policy_names_the_hashes_of_the_inline_style_and_script() {
        let policy = content_security_policy();
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"), "{policy}");
        let script = policy.split("script-src 'sha256-").nth(1).and_then(|s| s.split('\'').next()).unwrap_or("");
        assert_eq!(script.len(), 44, "a base64 SHA-256: {policy}");
    }
}
