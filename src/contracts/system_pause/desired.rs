//! The `system_pause:` section of the desired-state file (SystemPause, the
//! global switch). It has no invariants of its own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::read::{Read, Reader};
use crate::spec::yaml::Node;
use crate::spec::{Diagnostic, Section};

/// The section's key in the file.
pub const SECTION: &str = "system_pause";

/// Desired state of the SystemPause switch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemPauseDesired {
    /// Whether the whole system is paused (paused first, unpaused last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
}

impl Read for SystemPauseDesired {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self { paused: f.optional("paused") })
    }
}

impl Section for SystemPauseDesired {
    /// Nothing to check: a pause switch is always a valid desired state.
    fn check(&self, _out: &mut Vec<Diagnostic>) {}

    fn managed(&self) -> crate::spec::Managed {
        let mut managed = crate::spec::Managed::default();
        managed.flag("paused", self.paused);
        managed
    }
}
