//! Drift: is the chain still what the files say? For schedulers.
//!
//! [`check_all`] observes many deployment files at once, each on its own
//! chain and endpoint, read-only (it never signs or sends), and reports
//! each one as in sync, drifted (every field chain vs file, every role
//! holder added or missing) or error. An error in one file never hides the
//! others; [`DriftReport::exit_code`] gives 0 / 2 / 1 with an error
//! outranking drift.
//!
//! The report is rendered as text ([`text`]), JSON (serde, with a
//! `format_version`), Prometheus metrics ([`exposition`], written with
//! [`write_atomically`] for node_exporter or served by [`serve`]), and
//! webhook payloads on a change of status ([`Memory`], [`Webhook`]); while
//! watching, [`serve`] also serves a status page for people
//! ([`status_page`]).

mod attribute;
mod check;
mod diff;
mod notify;
mod page;
mod prometheus;
mod report;
mod serve;
mod text;

pub use check::{CheckError, DriftOptions, check_all, check_file, deployment_files, unix_now};
pub use diff::differences;
pub use notify::{Memory, NotifyError, Payload, Webhook};
pub use page::{Checked, content_security_policy, status_page};
pub use prometheus::{METRICS, escape, exposition, write_atomically};
pub use report::{
    Attribution, DeploymentReport, DriftKind, DriftReport, Drifted, FORMAT_VERSION, PendingDrift, Status, Summary,
};
pub use serve::{Exposition, serve};
pub use text::{attribution_line, deployment_line, drift_line, proposal_line, summary_line, text};
