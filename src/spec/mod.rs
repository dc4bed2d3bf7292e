//! Spec: the desired-state file.

mod desired;

pub use desired::{Desired, DesiredContract};
