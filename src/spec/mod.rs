//! The desired-state file: loading, validation and JSON Schema.
//!
//! The file is govstate's user interface, edited under pressure and reviewed in
//! pull requests, so loading follows *parse, then promote*:
//!
//! 1. the text becomes a YAML tree that only knows shapes and positions;
//! 2. that tree is read key by key into a [`DesiredState`], reporting every
//!    unknown key, wrong type or bad value (amount, duration, address);
//! 3. the invariants the contracts enforce are checked on the typed values;
//! 4. only when nothing was found does it become a [`Spec`].
//!
//! Every problem of a file is reported at once, each with its key path, line and
//! column. Loading never touches the network.
//!
//! ```
//! let text = "version: 1\nchain_id: 31337\n";
//! let spec = govstate::spec::load_str(text, "inline.yaml")?;
//! assert_eq!(spec.state().chain_id, 31337);
//! # Ok::<(), govstate::spec::SpecError>(())
//! ```

mod address;
mod de;
mod desired;
mod diagnostic;
mod document;
mod overrides;
pub(crate) mod read;
mod schema;
mod target;
mod units;
pub(crate) mod yaml;

use std::path::Path;

use serde::{Serialize, Serializer};

pub use address::{AddressError, ChecksummedAddress};
pub use desired::{Desired, DesiredContract, Managed};
pub use diagnostic::{Diagnostic, SpecError, ValidationReport};
pub use document::{ContractRef, Contracts, DesiredState, FormatVersion, Section, SectionEntry};
pub use overrides::load_file_with_overrides;
pub use target::{KeyPath, TargetError};
pub use units::{Amount, AmountError, Duration, DurationError, Percent, percent_schema};

pub(crate) use address::check_role_set;

/// Where the committed JSON Schema lives, relative to a file in `state/` or `examples/`.
pub const SCHEMA_PATH: &str = "../schema/govstate.schema.json";

/// A desired state that passed every check: the only form the engine accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    state: DesiredState,
}

impl Spec {
    /// Promotes a desired state built in code (e.g. from observed values),
    /// checking the same invariants as [`load_str`]; `source` names it in errors.
    pub fn from_state(state: DesiredState, source: &str) -> Result<Self, SpecError> {
        let diagnostics = state.check();
        if diagnostics.is_empty() { Ok(Self { state }) } else { Err(SpecError::invalid(source, diagnostics)) }
    }

    /// The validated desired state.
    pub fn state(&self) -> &DesiredState {
        &self.state
    }

    /// The validated desired state, by value.
    pub fn into_state(self) -> DesiredState {
        self.state
    }

    /// The file as YAML that [`load_str`] reads back to an equal `Spec`.
    pub fn to_yaml(&self) -> String {
        // The types hold only strings, integers, booleans, lists and structs,
        // which serde_yaml always serialises; an error here is a bug in govstate.
        let yaml = serde_yaml::to_string(&self.state)
            .unwrap_or_else(|e| unreachable!("a desired state always serialises to YAML: {e}"));
        yaml.lines().map(quote_address).map(|l| l + "\n").collect()
    }

    /// [`Spec::to_yaml`] under a `# yaml-language-server: $schema=…` line, so
    /// editors validate and complete the file; `schema` is a path or URL.
    pub fn to_yaml_with_schema(&self, schema: &str) -> String {
        format!("# yaml-language-server: $schema={schema}\n{}", self.to_yaml())
    }
}

impl Serialize for Spec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.state.serialize(serializer)
    }
}

/// Double-quotes an address value in one line of serde_yaml output. YAML 1.2
/// reads a plain `0x…` as a hex integer, so editors checking the schema would
/// flag it; govstate itself reads both forms.
fn quote_address(line: &str) -> String {
    let Some(at) = value_start(line) else {
        return line.to_owned();
    };
    let (head, value) = line.split_at(at);
    let bare = value.trim_matches('\'');
    if bare.len() == 42 && bare.parse::<ChecksummedAddress>().is_ok() {
        format!("{head}\"{bare}\"")
    } else {
        line.to_owned()
    }
}

/// Where the value starts in a `key: value` or `- value` line.
fn value_start(line: &str) -> Option<usize> {
    if let Some(i) = line.find(": ") {
        return Some(i + 2);
    }
    let indent = line.len() - line.trim_start().len();
    line[indent..].starts_with("- ").then_some(indent + 2)
}

/// Reads and validates the desired-state file at `path`.
pub fn load_file(path: &Path) -> Result<Spec, SpecError> {
    use std::io::Read;
    let file = path.display().to_string();
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(MAX_SPEC_BYTES as u64 + 1).read_to_end(&mut bytes));
    if let Err(source) = read {
        return Err(SpecError::Io { file, source });
    }
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(too_large(&file));
    }
    match String::from_utf8(bytes) {
        Ok(text) => load_str(&text, &file),
        Err(e) => Err(SpecError::Io { file, source: std::io::Error::new(std::io::ErrorKind::InvalidData, e) }),
    }
}

fn too_large(source: &str) -> SpecError {
    let message = format!(
        "the file is larger than a desired-state file may be ({MAX_SPEC_BYTES} bytes); expected a YAML mapping of a few kilobytes"
    );
    SpecError::invalid(source, vec![Diagnostic::new("", message)])
}

/// The largest desired-state file accepted, in bytes (one with 10,000
/// orchestrators is about 500 KB).
pub const MAX_SPEC_BYTES: usize = 8 * 1024 * 1024;

/// Validates a desired-state file given as text; `source` names it in diagnostics.
pub fn load_str(text: &str, source: &str) -> Result<Spec, SpecError> {
    if text.len() > MAX_SPEC_BYTES {
        return Err(too_large(source));
    }
    let diagnostics = match yaml::parse(text) {
        Err(e) => vec![Diagnostic::new("", e.message).at(e.mark.line, e.mark.column)],
        Ok(None) => vec![Diagnostic::new("", EMPTY)],
        Ok(Some(root)) => match promote(&root) {
            Ok(state) => return Ok(Spec { state }),
            Err(diagnostics) => diagnostics,
        },
    };
    Err(SpecError::invalid(source, diagnostics))
}

const EMPTY: &str = "the file holds no settings; expected a mapping with at least `version: 1` and `chain_id`";

/// Reads the tree, then checks invariants; all problems, sorted by position.
fn promote(root: &yaml::Node) -> Result<DesiredState, Vec<Diagnostic>> {
    if root.is_null() {
        return Err(vec![Diagnostic::new("", EMPTY)]);
    }
    let mut reader = read::Reader::default();
    let state = <DesiredState as read::Read>::read(root, "", &mut reader);
    let mut diagnostics = reader.into_diagnostics();
    if let Some(state) = &state {
        let invariants = state.check();
        let reported: std::collections::HashSet<&str> = diagnostics.iter().map(|d| d.path.as_str()).collect();
        let fresh: Vec<_> = invariants.into_iter().filter(|d| !already_reported(d, &reported)).collect();
        diagnostics.extend(fresh);
    }
    match state {
        Some(state) if diagnostics.is_empty() => Ok(state),
        _ => {
            let mut parents = Parents::default();
            Err(sorted(diagnostics.into_iter().map(|d| locate(d, root, &mut parents)).collect()))
        }
    }
}

/// A value that could not be read is not checked again: its invariant
/// diagnostic would only repeat the first problem. Looks up the path and
/// each of its ancestors (`a.b[2]`, `a.b`, `a`, the document) among the
/// paths read errors were reported at: linear in the diagnostics, however
/// many there are.
fn already_reported(invariant: &Diagnostic, read_errors: &std::collections::HashSet<&str>) -> bool {
    let path = invariant.path.as_str();
    let ancestors = path.match_indices(['.', '[']).map(|(end, _)| &path[..end]);
    read_errors.contains("") || read_errors.contains(path) || ancestors.into_iter().any(|a| read_errors.contains(a))
}

/// Positions a diagnostic that has none yet at its key, or else at the nearest
/// ancestor written in the file (e.g. a missing key's mapping).
fn locate<'a>(diagnostic: Diagnostic, root: &'a yaml::Node, parents: &mut Parents<'a>) -> Diagnostic {
    if diagnostic.line.is_some() {
        return diagnostic;
    }
    let mut path = diagnostic.path.as_str();
    loop {
        if let Some(mark) = mark_of(path, root, parents) {
            return diagnostic.at(mark.line, mark.column);
        }
        match path.rfind(['.', '[']) {
            Some(end) => path = &path[..end],
            None => return diagnostic,
        }
    }
}

/// The nodes already found for parent paths: a thousand diagnostics under
/// `arena.orchestrators` find that list once, not once each (a mapping is
/// searched key by key, so finding it each time would be quadratic).
type Parents<'a> = std::collections::HashMap<String, Option<&'a yaml::Node>>;

/// The mark of the key or item at `path`, its parent looked up once.
fn mark_of<'a>(path: &str, root: &'a yaml::Node, parents: &mut Parents<'a>) -> Option<yaml::Mark> {
    let Some(end) = path.rfind(['.', '[']) else {
        return root.locate(path);
    };
    let (parent, last) = path.split_at(end);
    let node = *parents.entry(parent.to_string()).or_insert_with(|| root.at(parent).map(|(node, _)| node));
    node?.locate(last)
}

fn sorted(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diagnostics.sort_by_key(|d| (d.line.is_none(), d.line, d.column));
    diagnostics
}

/// The JSON Schema of the desired-state file, as `govstate schema` prints it.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(DesiredState);
    let mut value = serde_json::Value::from(schema);
    schema::forbid_null(&mut value);
    value
}

#[cfg(test)]
mod tests;
