//! Which file a reviewer read: a plan and a receipt name the desired-state
//! file and the git commit it was at, so the incident log points at the
//! reviewed change, not at a plan file in a temporary directory.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// A desired-state file as reviewed: its path and, inside a git
/// repository, the commit checked out and whether the file differed from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reviewed {
    /// The file, as given on the command line.
    pub file: String,
    /// `git rev-parse HEAD` in the file's directory; none outside a
    /// repository or without git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// True when the file had changes not in that commit (or was not
    /// tracked): what was applied is not exactly what the commit holds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uncommitted: bool,
}

impl Reviewed {
    /// Names `file` and asks git, in its directory, for the commit; tolerates
    /// no git and no repository (the commit is then none).
    pub fn of(file: &Path) -> Self {
        let dir = match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let commit = git(dir, &["rev-parse", "--verify", "HEAD"]).filter(|c| c.len() == 40);
        let uncommitted = commit.is_some() && {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            git(dir, &["status", "--porcelain", "--", &name]).is_none_or(|s| !s.is_empty())
        };
        Self { file: file.display().to_string(), commit, uncommitted }
    }
}

/// The trimmed standard output of a successful `git -C dir ARGS…`.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_outside_any_repository_has_no_commit() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("state.yaml");
        std::fs::write(&file, "version: 1\n").expect("written");
        let reviewed = Reviewed::of(&file);
        assert_eq!(reviewed.commit, None);
        assert!(!reviewed.uncommitted);
        assert!(reviewed.file.ends_with("state.yaml"));
    }
}
