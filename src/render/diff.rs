//! A unified diff of the managed state, chain vs file, as YAML.

use similar::TextDiff;

use crate::observe::Observed;
use crate::spec::Desired;

/// The managed keys of `observed` and of `desired`, each as YAML, diffed.
pub fn state_diff(desired: &Desired, observed: &Observed, source: &str) -> String {
    let (chain, file) = crate::observe::managed_yaml(desired, observed);
    TextDiff::from_lines(&chain, &file).unified_diff().header("chain", source).to_string()
}
