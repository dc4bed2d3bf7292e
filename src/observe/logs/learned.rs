//! The `eth_getLogs` range an endpoint accepts, as learned, kept per
//! endpoint in the cache: `<cache dir>/log-ranges/<endpoint>.json`, the
//! name a hash of the endpoint's URL (see [`crate::rpc::endpoint_key`]), so
//! no key in the URL is written down. Its own file, apart from the
//! role-holder entries: losing it costs one refusal.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Advice;
use crate::observe::ObserveOptions;
use crate::observe::cache::{read_json, write_json};

/// The largest range asked of `eth_getLogs` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Blocks per range, both ends counted (`u64::MAX`: the whole range).
    pub blocks: u64,
    /// The endpoint stated this limit: it is not grown past.
    pub hard: bool,
    /// Read from the cache (and so worth growing after a scan with no
    /// refusal).
    #[serde(skip)]
    remembered: bool,
}

impl Window {
    /// No limit known.
    pub fn unlimited() -> Self {
        Self { blocks: u64::MAX, hard: false, remembered: false }
    }

    /// Narrowed by one refusal of a range of `refused` blocks.
    pub fn narrow(&mut self, advice: Advice, refused: u64) {
        let blocks = match advice {
            Advice::Suggested(blocks) => blocks,
            Advice::Limit(blocks) => {
                self.hard = true;
                blocks
            }
            Advice::Halve => refused.div_ceil(2),
        };
        self.blocks = self.blocks.min(blocks.max(1));
        self.remembered = true;
    }

    /// What to remember after a scan whose widest range answered had
    /// `widest` blocks: a window only suggested grows again (doubled) after
    /// a scan that asked ranges that wide and had none refused (a warm scan
    /// of a few new blocks says nothing about wider ranges); `None` when
    /// there is nothing learned.
    pub fn after_scan(self, refused_any: bool, widest: u64) -> Option<Self> {
        match (self.remembered, refused_any) {
            (false, _) => None,
            (true, true) => Some(self),
            (true, false) if self.hard || widest < self.blocks => Some(self),
            (true, false) => Some(Self { blocks: self.blocks.saturating_mul(2), ..self }),
        }
    }
}

fn file(options: &ObserveOptions) -> Option<PathBuf> {
    let (dir, endpoint) = (options.cache_dir.as_ref()?, options.endpoint.as_ref()?);
    Some(dir.join("log-ranges").join(format!("{endpoint}.json")))
}

/// The window to start with: the remembered one, within `--log-chunk-blocks`.
pub fn load(options: &ObserveOptions) -> Window {
    let remembered: Option<Window> = file(options).and_then(|path| read_json(&path));
    let mut window = remembered.map(|w| Window { remembered: true, ..w }).unwrap_or_else(Window::unlimited);
    window.blocks = window.blocks.min(options.log_chunk_blocks.max(1));
    window
}

/// Keeps what a scan learned. Failing to write only costs a refusal next time.
pub fn store(options: &ObserveOptions, window: Option<Window>) {
    if let (Some(path), Some(window)) = (file(options), window) {
        write_json(&path, &window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suggested_window_grows_after_a_clean_scan_and_a_stated_limit_does_not() {
        let mut suggested = Window::unlimited();
        suggested.narrow(Advice::Suggested(1_000), 1_000_000);
        assert_eq!(suggested.after_scan(true, 1_000).map(|w| w.blocks), Some(1_000));
        assert_eq!(suggested.after_scan(false, 1_000).map(|w| w.blocks), Some(2_000));
        let mut limited = Window::unlimited();
        limited.narrow(Advice::Limit(10_000), 1_000_000);
        assert_eq!(limited.after_scan(false, 10_000).map(|w| w.blocks), Some(10_000));
        assert_eq!(Window::unlimited().after_scan(false, 10), None, "nothing learned, nothing kept");
    }

    #[test]
    fn a_suggested_window_grows_only_after_a_scan_that_asked_ranges_that_wide() {
        let mut suggested = Window::unlimited();
        suggested.narrow(Advice::Suggested(1_000), 1_000_000);
        assert_eq!(suggested.after_scan(false, 200).map(|w| w.blocks), Some(1_000), "a warm scan of 200 blocks");
        assert_eq!(suggested.after_scan(false, 1_000).map(|w| w.blocks), Some(2_000));
    }

    #[test]
    fn the_window_is_remembered_per_endpoint_within_the_flag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = ObserveOptions {
            cache_dir: Some(dir.path().to_path_buf()),
            endpoint: Some("abc".into()),
            ..ObserveOptions::default()
        };
        let mut window = load(&options);
        assert_eq!(window.blocks, u64::MAX);
        window.narrow(Advice::Limit(500), 10_000);
        store(&options, window.after_scan(true, 500));
        assert_eq!(load(&options).blocks, 500);
        assert_eq!(load(&ObserveOptions { log_chunk_blocks: 100, ..options.clone() }).blocks, 100);
        assert_eq!(load(&ObserveOptions { endpoint: Some("other".into()), ..options }).blocks, u64::MAX);
    }
}
