//! What a run compares the chain with: a file, perhaps narrowed by
//! `--target` and changed by `--set` for this run only. Every line that
//! says the chain "matches" names exactly that, so a targeted or
//! overridden run is never reported as matching the whole file.

use std::fmt;

use crate::spec::KeyPath;

/// A file as one run uses it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The file, as named on the command line.
    pub source: &'a str,
    /// The `--target` key paths the run is narrowed to (none: the whole file).
    pub targets: &'a [KeyPath],
    /// The `--set key=value` overrides of this run (none: the file as written).
    pub overrides: &'a [String],
}

impl<'a> Subject<'a> {
    /// The file as written, neither narrowed nor overridden.
    pub fn file(source: &'a str) -> Self {
        Self { source, targets: &[], overrides: &[] }
    }

    /// The lines saying how this run differs from the file, shown before
    /// the plan digest and the confirmation prompt: `Targeted run: …`, then
    /// one `Override for this run only: …` per override. Empty for the
    /// file as written.
    pub fn notes(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.targets.is_empty() {
            let names: Vec<String> = self.targets.iter().map(ToString::to_string).collect();
            let verb = if names.len() == 1 { "is" } else { "are" };
            lines.push(format!(
                "Targeted run: only {} {verb} managed; other keys of {} are left out",
                names.join(", "),
                self.source
            ));
        }
        lines.extend(self.overrides.iter().map(|set| format!("Override for this run only: {set}")));
        lines
    }
}

/// `FILE`, `the targeted keys of FILE`, `FILE with overrides`, or both.
impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.targets.is_empty() {
            f.write_str("the targeted keys of ")?;
        }
        f.write_str(self.source)?;
        if !self.overrides.is_empty() {
            f.write_str(" with overrides")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_names_the_file_its_targets_and_its_overrides() {
        let targets: Vec<KeyPath> =
            ["arena.paused", "system_pause.paused"].iter().filter_map(|t| t.parse().ok()).collect();
        let overrides = vec!["arena.paused=true".to_string()];
        assert_eq!(Subject::file("x.yaml").to_string(), "x.yaml");
        assert!(Subject::file("x.yaml").notes().is_empty());
        let both = Subject { source: "x.yaml", targets: &targets, overrides: &overrides };
        assert_eq!(both.to_string(), "the targeted keys of x.yaml with overrides");
        assert_eq!(
            both.notes(),
            [
                "Targeted run: only arena.paused, system_pause.paused are managed; other keys of x.yaml are left out",
                "Override for this run only: arena.paused=true",
            ]
        );
        let one = Subject { targets: &targets[..1], ..Subject::file("x.yaml") };
        assert_eq!(one.notes(), ["Targeted run: only arena.paused is managed; other keys of x.yaml are left out"]);
    }
}
