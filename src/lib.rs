//! govstate keeps the governance settings of the SelfPlayArena, StakeManager
//! and SystemPause contracts equal to a YAML file reviewed in git.
//!
//! The data flows one way:
//!
//! ```text
//! spec → observe → plan → execute → verify
//! ```
//!
//! - [`spec`] loads and validates the desired-state file (never touching the
//!   network) and turns it into [`spec::Desired`], in the table's terms.
//! - [`contracts`] is the table of managed contracts: fields, getters, setter
//!   groups, phases and the contracts' own checks. It is the one place that
//!   knows a contract; everything else is generic over it.
//! - [`observe`] reads every managed field at one pinned block, in three
//!   round trips whatever the number of role holders.
//! - [`plan`] diffs desired against observed and orders the calls; it is pure.
//! - [`render`] shows a plan as text, markdown or a diff.
//! - [`route`] says how each call reaches its contract and who may send it
//!   (directly, forwarded by the SystemPause, batched through a timelock),
//!   and what each route needs sent now.
//! - [`simulate`] proves a routed plan on an anvil fork before anyone signs.
//! - [`execute`] sends a plan phase by phase and verifies by observing again.
//! - [`rpc`] connects to an endpoint, counts the traffic, retries reads and
//!   never repeats a send blindly.
//! - [`drift`] checks many deployment files against their chains, read-only,
//!   for schedulers: text, JSON, Prometheus metrics and webhooks.
//! - [`import`] writes a desired-state file from the chain as it is.
//! - [`devnet`] runs a local anvil with the reference contracts deployed, for
//!   the demo, the devnet command, the tests and the benchmarks.
#![deny(missing_docs)]

pub mod contracts;
pub mod devnet;
pub mod drift;
pub mod execute;
pub mod import;
pub mod observe;
pub mod plan;
pub mod render;
pub mod route;
pub mod rpc;
pub mod simulate;
pub mod spec;

pub use contracts::{Deployed, Deployment, KINDS, Kind, Phase, Value};
pub use devnet::{AnvilOptions, Devnet};
pub use execute::{ApplyError, ApplyOptions, apply};
pub use observe::{ObserveOptions, Observed, Scope, observe};
pub use plan::{Plan, PlanError, PlanOptions, plan};
pub use spec::{Desired, Spec, SpecError, load_file};
