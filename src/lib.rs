//! govstate keeps the governance settings of the SelfPlayArena, StakeManager
//! and SystemPause contracts equal to a YAML file reviewed in git.
//!
//! The data flows one way:
//!
//! ```text
//! spec → observe → plan → execute → verify
//! ```
//!
//! - [`contracts`] is the table of managed contracts, their fields and getters:
//!   the one place that knows a contract. Everything else is generic over it.
//! - [`observe`] reads every managed field at one pinned block.
//! - [`devnet`] runs a local anvil with the reference contracts deployed, for
//!   the demo, the devnet command and the tests.
#![deny(missing_docs)]

pub mod contracts;
pub mod devnet;
pub mod execute;
pub mod observe;
pub mod plan;
pub mod render;
pub mod rpc;
pub mod spec;

pub use contracts::{Deployed, Deployment, KINDS, Kind, Value};
pub use devnet::{AnvilOptions, Devnet};
pub use observe::{Observed, observe};
