//! SystemPause: two kinds exist in the wild, and govstate finds out from the
//! chain which one a file's `system_pause` address is.
//!
//! - The *switch kind* ([`KIND`]): `pause()`, `unpause()`, `paused()`,
//!   governance only, as the operators' runbook assumes.
//! - The *modules kind* ([`MODULES_KIND`]), which is what is deployed: no
//!   pause state of its own; the system is paused when its eight modules are,
//!   switched together by `pauseAll()` / `unpauseAll()` or one by one through
//!   `executeGovernanceCall(module, pause())`, and it forwards its
//!   governance's calls to the modules it owns (StakeManager among them).

pub mod desired;
mod modules;
mod switch;

pub use modules::{MODULES, MODULES_KIND, PausableModule, SystemPauseModules};
pub use switch::{KIND, SystemPause};
