//! The `system_pause:` section of the desired-state file (SystemPause, the
//! global switch). It has no invariants of its own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::read::{Read, Reader};
use crate::spec::yaml::Node;
use crate::spec::{ChecksummedAddress, Diagnostic, Section};

/// The section's key in the file.
pub const SECTION: &str = "system_pause";

/// Desired state of the SystemPause switch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemPauseDesired {
    /// Whether the whole system is paused (paused first, unpaused last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// The emergency account of the modules kind: the `pauser()` of all
    /// eight modules (`setGlobalPauser`), which may pause and unpause each
    /// of them at once, without the timelock. An account without code or a
    /// Safe; the SystemPause's own address means no emergency account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pauser: Option<ChecksummedAddress>,
}

impl Read for SystemPauseDesired {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        reader.fields(node, path, |f| Self { paused: f.optional("paused"), pauser: f.optional("pauser") })
    }
}

impl Section for SystemPauseDesired {
    /// A pause switch is always a valid desired state; the pauser must be
    /// an account.
    fn check(&self, out: &mut Vec<Diagnostic>) {
        if self.pauser.is_some_and(ChecksummedAddress::is_zero) {
            let message = "pauser cannot be the zero address (setGlobalPauser reverts with InvalidPauser); name the emergency account, or the SystemPause's own address for none";
            out.push(Diagnostic::new(format!("{SECTION}.pauser"), message));
        }
    }

    fn managed(&self) -> crate::spec::Managed {
        let mut managed = crate::spec::Managed::default();
        managed.flag("paused", self.paused).address("pauser", self.pauser);
        managed
    }
}
