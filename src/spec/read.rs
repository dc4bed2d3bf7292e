//! Reads the positioned YAML tree into the typed sections, one key at a time,
//! so that every bad key or value gets its own diagnostic instead of the first
//! one stopping the load.
//!
//! Mappings are read through [`Fields`]: each `optional`/`required` call names a
//! key it knows, and whatever key is left over is reported as unknown, with the
//! closest known key as a suggestion. Leaf values go through their serde
//! `Deserialize` impl via [`NodeDeserializer`].

use std::collections::HashMap;

use serde::de::DeserializeOwned;

use super::de::{NodeDeserializer, WholeNumber};
use super::diagnostic::Diagnostic;
use super::yaml::{Entry, Mark, Node, Value};

/// Collects the diagnostics of one load.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    diagnostics: Vec<Diagnostic>,
}

/// A type the loader can read from a node, reporting problems to the reader.
pub(crate) trait Read: Sized {
    /// Reads `node` found at `path`; `None` after reporting why it could not.
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self>;
}

impl Reader {
    /// Records a problem at `path`, positioned at `mark`.
    pub(crate) fn report(&mut self, path: &str, mark: Mark, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::new(path, message).at(mark.line, mark.column));
    }

    /// Everything reported so far.
    pub(crate) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// Reads a mapping key by key with `build`, then reports unknown and duplicate keys.
    pub(crate) fn fields<T>(&mut self, node: &Node, path: &str, build: impl FnOnce(&mut Fields<'_>) -> T) -> Option<T> {
        let Value::Map(entries) = &node.value else {
            let found = node.describe();
            self.report(path, node.mark, format!("expected a mapping, found {found}"));
            return None;
        };
        let mut fields = Fields { entries, path, reader: self, known: Vec::new() };
        let value = build(&mut fields);
        fields.finish();
        Some(value)
    }
}

/// The keys of one mapping being read.
pub(crate) struct Fields<'a> {
    entries: &'a [Entry],
    path: &'a str,
    reader: &'a mut Reader,
    known: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// The value of `key`, or `None` when the key is absent or its value is bad.
    pub(crate) fn optional<T: Read>(&mut self, key: &'static str) -> Option<T> {
        self.known.push(key);
        let entry = self.entry(key)?;
        let path = child(self.path, key);
        if entry.value.is_null() {
            // An empty value has no position of its own: point at its key.
            self.reader.report(&path, entry.key_mark, NO_VALUE);
            return None;
        }
        read_value(&entry.value, &path, self.reader)
    }

    /// The value of `key`; when absent or bad it is reported and a placeholder
    /// is returned so that the rest of the file can still be checked.
    pub(crate) fn required<T: Read + Default>(&mut self, key: &'static str) -> T {
        if self.entry(key).is_none() {
            // No position: the key is not in the file; the loader points at
            // the nearest written ancestor instead.
            let message = format!("missing required key `{key}`");
            let path = child(self.path, key);
            self.reader.diagnostics.push(Diagnostic::new(path, message));
        }
        self.optional(key).unwrap_or_default()
    }

    /// Like [`Fields::optional`], but a key that is present yields a value even
    /// when its content is bad (a placeholder), so checks that only ask whether
    /// the key was written do not report a second, misleading problem.
    pub(crate) fn present<T: Read + Default>(&mut self, key: &'static str) -> Option<T> {
        self.present_or(key, T::default)
    }

    /// Like [`Fields::present`], with `placeholder` standing in for a bad value.
    pub(crate) fn present_or<T: Read>(&mut self, key: &'static str, placeholder: impl FnOnce() -> T) -> Option<T> {
        let written = self.entry(key).is_some();
        let value = self.optional(key);
        value.or_else(|| written.then(placeholder))
    }

    fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.entries.iter().find(|e| e.key.as_deref() == Some(key))
    }

    /// Reports keys that are not plain names, duplicates and unknown keys.
    fn finish(self) {
        let mut first_lines: HashMap<&str, usize> = HashMap::new();
        for entry in self.entries {
            let Some(key) = entry.key.as_deref() else {
                let message = "keys must be plain names, not lists or mappings";
                self.reader.report(self.path, entry.key_mark, message);
                continue;
            };
            let path = child(self.path, key);
            if let Some(line) = first_lines.get(key) {
                let message = format!("duplicate key `{key}`; it is already set on line {line}");
                self.reader.report(&path, entry.key_mark, message);
            } else if !self.known.contains(&key) {
                let message = unknown_key(key, &self.known);
                self.reader.report(&path, entry.key_mark, message);
            }
            first_lines.entry(key).or_insert(entry.key_mark.line);
        }
    }
}

const NO_VALUE: &str = "no value given; write a value, or remove the key to leave the setting unmanaged";

/// Reads a value, refusing an empty one: writing a key without a value must not
/// silently leave the setting unmanaged.
fn read_value<T: Read>(node: &Node, path: &str, reader: &mut Reader) -> Option<T> {
    if node.is_null() {
        reader.report(path, node.mark, NO_VALUE);
        return None;
    }
    if let Value::Unsupported(what) = node.value {
        reader.report(path, node.mark, format!("found {what}"));
        return None;
    }
    T::read(node, path, reader)
}

/// `parent.key`, or `key` at the top level.
pub(crate) fn child(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

fn unknown_key(key: &str, known: &[&str]) -> String {
    match closest(key, known) {
        Some(best) => format!("unknown key `{key}`; did you mean `{best}`?"),
        None => {
            let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            format!("unknown key `{key}`; expected one of {}", list.join(", "))
        }
    }
}

/// The known key nearest to `key` by edit distance, if it is close enough to be a typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let key = key.to_ascii_lowercase();
    let limit = (key.chars().count() / 3).max(1);
    known
        .iter()
        .map(|k| (strsim::levenshtein(&key, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Reads a leaf through its serde `Deserialize` impl.
fn read_leaf<T: DeserializeOwned>(node: &Node, path: &str, reader: &mut Reader) -> Option<T> {
    T::deserialize(NodeDeserializer(node)).map_err(|e| reader.report(path, node.mark, e.to_string())).ok()
}

/// Implements [`Read`] for leaf types through their `Deserialize` impl.
macro_rules! read_leaves {
    ($($ty:ty),* $(,)?) => {$(
        impl Read for $ty {
            fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
                read_leaf(node, path, reader)
            }
        }
    )*};
}

read_leaves!(
    bool,
    String,
    super::units::Amount,
    super::units::Duration,
    super::units::Percent,
    super::address::ChecksummedAddress,
    super::document::FormatVersion,
);

impl Read for u64 {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        read_leaf::<WholeNumber>(node, path, reader).map(|n| n.0)
    }
}

impl<T: Read> Read for Vec<T> {
    fn read(node: &Node, path: &str, reader: &mut Reader) -> Option<Self> {
        let Value::List(items) = &node.value else {
            let found = node.describe();
            reader.report(path, node.mark, format!("expected a list, found {found}"));
            return None;
        };
        let mut values = Vec::with_capacity(items.len());
        let mut all_read = true;
        for (i, item) in items.iter().enumerate() {
            match read_value(item, &format!("{path}[{i}]"), reader) {
                Some(value) => values.push(value),
                None => all_read = false,
            }
        }
        all_read.then_some(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_only_near_keys() {
        let known = ["orchestrators", "owner", "paused"];
        assert_eq!(closest("orchestrator", &known), Some("orchestrators"));
        assert_eq!(closest("Paused", &known), Some("paused"));
        assert_eq!(closest("treasury", &known), None);
    }

    #[test]
    fn unknown_key_without_a_near_match_lists_the_known_keys() {
        let message = unknown_key("zzz", &["owner", "paused"]);
        assert_eq!(message, "unknown key `zzz`; expected one of `owner`, `paused`");
    }
}
