//! What the loader reports: one [`Diagnostic`] per problem, all of them at once.
//!
//! A diagnostic names the file, the key path (`arena.reward_splits_bps`,
//! `arena.orchestrators[2]`), the line and column when the key is in the file,
//! and says what was found and what was expected. [`SpecError`] carries either an
//! I/O failure or the full list of diagnostics of one file.

use std::fmt;

use serde::Serialize;

/// One problem found in a desired-state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file (or other source name) the problem is in.
    pub file: String,
    /// The key path, e.g. `arena.reward_splits_bps` or `arena.orchestrators[2]`;
    /// empty for the document as a whole.
    pub path: String,
    /// 1-based line of the key or value, when it is in the file.
    pub line: Option<usize>,
    /// 1-based column of the key or value, when it is in the file.
    pub column: Option<usize>,
    /// What was found and what was expected.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `path` without a file or position yet; the loader adds them.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { file: String::new(), path: path.into(), line: None, column: None, message: message.into() }
    }

    /// The same diagnostic at a 1-based line and column.
    #[must_use]
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Whether this diagnostic's path is `ancestor` or lies below it.
    #[cfg(test)]
    pub(crate) fn is_under(&self, ancestor: &str) -> bool {
        match self.path.strip_prefix(ancestor) {
            Some(rest) => rest.is_empty() || rest.starts_with(['.', '[']) || ancestor.is_empty(),
            None => false,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A file's keys and name are the file author's text: shown, never run.
        let safe = crate::render::escape::terminal;
        f.write_str(&safe(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.path.is_empty() {
            write!(f, ": {}", safe(&self.path))?;
        }
        write!(f, ": {}", safe(&self.message))
    }
}

/// Why a desired-state file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{file}: cannot read the file: {source}")]
    Io {
        /// The file that could not be read.
        file: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but breaks one or more rules; every problem is listed.
    #[error("{}", render_all(diagnostics))]
    Invalid {
        /// The file the problems are in.
        file: String,
        /// Every problem found, in file order.
        diagnostics: Vec<Diagnostic>,
    },
}

impl SpecError {
    /// Builds [`SpecError::Invalid`], stamping `file` on every diagnostic.
    pub(crate) fn invalid(file: &str, mut diagnostics: Vec<Diagnostic>) -> Self {
        for diagnostic in &mut diagnostics {
            diagnostic.file = file.to_owned();
        }
        Self::Invalid { file: file.to_owned(), diagnostics }
    }

    /// The problems as diagnostics; an I/O failure becomes one document-level diagnostic.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Self::Io { file, source } => vec![Diagnostic {
                file: file.clone(),
                ..Diagnostic::new("", format!("cannot read the file: {source}"))
            }],
            Self::Invalid { diagnostics, .. } => diagnostics.clone(),
        }
    }
}

fn render_all(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// The outcome of validating one file, as `validate --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    /// The file that was validated.
    pub file: String,
    /// Whether the file passed every check.
    pub valid: bool,
    /// How many problems were found.
    pub error_count: usize,
    /// Every problem found.
    pub diagnostics: Vec<Diagnostic>,
}

impl ValidationReport {
    /// The report for `file` given the result of loading it.
    pub fn new<T>(file: &str, result: &Result<T, SpecError>) -> Self {
        let diagnostics = match result {
            Ok(_) => Vec::new(),
            Err(error) => error.diagnostics(),
        };
        Self { file: file.to_owned(), valid: diagnostics.is_empty(), error_count: diagnostics.len(), diagnostics }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_position_path_and_message() {
        let mut d = Diagnostic::new("arena.reward_splits_bps", "splits sum to 12000").at(12, 5);
        d.file = "state/x.yaml".into();
        assert_eq!(d.to_string(), "state/x.yaml:12:5: arena.reward_splits_bps: splits sum to 12000");
    }

    #[test]
    fn display_without_position_or_path_stays_readable() {
        let mut d = Diagnostic::new("", "the file is empty");
        d.file = "x.yaml".into();
        assert_eq!(d.to_string(), "x.yaml: the file is empty");
    }

    #[test]
    fn is_under_matches_whole_segments_only() {
        let d = Diagnostic::new("contracts.arena.address", "");
        assert!(d.is_under("contracts.arena"));
        assert!(d.is_under("contracts.arena.address"));
        assert!(!d.is_under("contracts.aren"));
        let item = Diagnostic::new("arena.orchestrators[2]", "");
        assert!(item.is_under("arena.orchestrators"));
    }

    #[test]
    fn report_counts_problems() {
        let err = SpecError::invalid("f.yaml", vec![Diagnostic::new("a", "b")]);
        let report = ValidationReport::new::<()>("f.yaml", &Err(err));
        assert!(!report.valid);
        assert_eq!(report.error_count, 1);
        assert_eq!(report.diagnostics[0].file, "f.yaml");
    }
}
