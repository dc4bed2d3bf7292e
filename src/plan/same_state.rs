//! One on-chain value, two keys: StakeManager's `paused` is also one of the
//! eight module states behind a modules-kind SystemPause's `paused`. The
//! file may write both only if they agree; then one call changes it, and the
//! plan shows the change under both keys so that verification expects it.

use super::{Change, ChangeKind, Desired, DesiredContract, PlanError, PlannedCall};
use crate::contracts::{Shown, Value};
use crate::observe::{Location, Observed};

/// Where every observed field lives.
#[derive(Debug)]
pub struct States {
    fields: Vec<Location>,
}

/// One written key, resolved to the field it sets.
struct Written<'a> {
    contract: &'static str,
    key: &'a str,
    field: &'static str,
    value: Value,
}

impl States {
    /// Locates every field of every observed contract.
    pub fn of(observed: &Observed) -> Self {
        Self { fields: observed.locations() }
    }

    fn locate(&self, contract: &str, field: &str) -> Option<&Location> {
        self.fields.iter().find(|l| l.contract == contract && l.field == field)
    }

    /// The same state under other contracts' keys.
    fn aliases<'a>(&'a self, of: &'a Location) -> impl Iterator<Item = &'a Location> + 'a {
        self.fields
            .iter()
            .filter(move |l| l.contract != of.contract && l.address == of.address && l.calldata == of.calldata)
    }

    /// The file's wishes with each shared state written once: refuses two
    /// keys asking different values of one state; when they agree, the key
    /// read through another contract (the SystemPause's, whose `pauseAll()`
    /// may cover it) keeps it and the direct one is dropped.
    pub fn reconcile(&self, desired: &Desired, observed: &Observed) -> Result<Vec<DesiredContract>, PlanError> {
        let written = self.written(desired, observed);
        let mut dropped: Vec<(&str, &str)> = Vec::new();
        for one in &written {
            let Some(located) = self.locate(one.contract, one.field) else { continue };
            for alias in self.aliases(located) {
                let Some(other) = written.iter().find(|w| w.contract == alias.contract && w.field == alias.field)
                else {
                    continue;
                };
                if other.value != one.value {
                    return Err(contradiction(one, other, located, observed));
                }
                if located.indirect && !alias.indirect {
                    dropped.push((other.contract, other.key));
                }
            }
        }
        let mut out = desired.contracts.clone();
        for contract in &mut out {
            let key = contract.deployed.kind.key;
            contract.fields.retain(|(field, _)| !dropped.contains(&(key, *field)));
        }
        Ok(out)
    }

    /// Every written scalar key, resolved to the fields it sets (a derived
    /// key to each of its fields) in the observed kind's terms.
    fn written<'a>(&self, desired: &'a Desired, observed: &Observed) -> Vec<Written<'a>> {
        let mut out = Vec::new();
        for wanted in &desired.contracts {
            let key = wanted.deployed.kind.key;
            let Some(seen) = observed.contracts.iter().find(|c| c.kind.key == key) else { continue };
            for (written, value) in &wanted.fields {
                let fields = match seen.kind.derived(written) {
                    Some(derived) => derived.from.to_vec(),
                    None => seen.kind.field(written).map(|f| vec![f.key]).unwrap_or_default(),
                };
                for field in fields {
                    out.push(Written { contract: seen.kind.key, key: written, field, value: *value });
                }
            }
        }
        out
    }

    /// Adds to `call` the changes it makes under other keys of the same
    /// states (pausing the SystemPause's modules pauses StakeManager).
    pub fn mirror(&self, call: &mut PlannedCall, observed: &Observed) {
        let mut extra = Vec::new();
        let parts = |change: &Change| -> Vec<String> {
            let kind = observed.contracts.iter().find(|c| c.kind.key == change.contract).map(|c| c.kind);
            match kind.and_then(|k| k.derived(&change.field)) {
                Some(derived) => derived.from.iter().map(|f| f.to_string()).collect(),
                None => vec![change.field.clone()],
            }
        };
        let set = call.changes.iter().filter(|c| c.kind == ChangeKind::Set);
        for (change, field) in set.flat_map(|c| parts(c).into_iter().map(move |f| (c, f))) {
            let Some(located) = self.locate(&change.contract, &field) else { continue };
            for alias in self.aliases(located) {
                let before =
                    observed.contracts.iter().find(|c| c.kind.key == alias.contract).and_then(|c| c.field(alias.field));
                let known = call
                    .changes
                    .iter()
                    .chain(&extra)
                    .any(|c: &Change| c.contract == alias.contract && c.field == alias.field);
                if before != change.after && !known {
                    extra.push(Change {
                        contract: alias.contract.to_string(),
                        field: alias.field.to_string(),
                        kind: ChangeKind::Set,
                        before,
                        after: change.after,
                    });
                }
            }
        }
        call.changes.extend(extra);
    }
}

fn contradiction(one: &Written<'_>, other: &Written<'_>, located: &Location, observed: &Observed) -> PlanError {
    let unit = |contract: &str, key: &str| {
        let kind = observed.contracts.iter().find(|c| c.kind.key == contract).map(|c| c.kind);
        kind.and_then(|k| k.field(key)).map_or(crate::contracts::Unit::Flag, |f| f.unit)
    };
    let show = |w: &Written<'_>| Shown { value: w.value, unit: unit(w.contract, w.field) }.to_string();
    let getter = observed
        .contracts
        .iter()
        .flat_map(|c| c.kind.fields)
        .find(|f| f.key == located.field)
        .map_or("a getter", |f| f.getter);
    PlanError::Contradiction {
        first: format!("{}.{}", one.contract, one.key),
        first_value: show(one),
        second: format!("{}.{}", other.contract, other.key),
        second_value: show(other),
        state: format!("{getter} of {}", located.address),
    }
}
