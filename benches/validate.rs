//! Time and peak memory of validating a desired-state file with 10,000
//! orchestrators, against a baseline measured in the same run: parsing the
//! same text into a plain `serde_yaml::Value` (no positions, no checks).
//!
//! Run with `cargo bench --bench validate`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};

/// Counts live heap bytes and remembers the highest count since the last reset.
struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only
// counters are updated around it.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as `GlobalAlloc::alloc`.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const ORCHESTRATORS: usize = 10_000;
const RUNS: usize = 11;

/// A valid file whose arena has `count` distinct checksummed orchestrators.
fn file_with_orchestrators(count: usize) -> String {
    let mut text = String::from(
        "version: 1\nchain_id: 31337\ncontracts:\n  arena: { address: \"0x5FbDB2315678afecb367f032d93F642f64180aa3\" }\narena:\n  paused: false\n  orchestrators:\n",
    );
    for i in 0..count {
        let word = B256::from(U256::from(i + 1) * U256::from(0x9e37_79b9_7f4a_7c15_u64));
        let address = Address::from_word(word);
        text.push_str(&format!("    - \"{}\"\n", address.to_checksum(None)));
    }
    text
}

struct Measurement {
    median: Duration,
    peak_bytes: usize,
}

/// Median wall time over `RUNS` runs, and the peak heap growth of one run.
fn measure(work: impl Fn()) -> Measurement {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    work();
    let peak_bytes = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    Measurement { median: times[RUNS / 2], peak_bytes }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let text = file_with_orchestrators(ORCHESTRATORS);
    let validate = measure(|| {
        let spec = govstate::spec::load_str(black_box(&text), "bench.yaml");
        assert!(spec.is_ok(), "the generated file must be valid");
        black_box(spec.ok());
    });
    let baseline = measure(|| {
        let value = serde_yaml::from_str::<serde_yaml::Value>(black_box(&text));
        black_box(value.ok());
    });
    println!("validate: {ORCHESTRATORS} orchestrators, {:.2} MiB of YAML, median of {RUNS} runs", mib(text.len()));
    println!("| step                               | median (ms) | peak heap (MiB) |");
    println!("|------------------------------------|------------:|----------------:|");
    for (name, m) in [("govstate::spec::load_str", &validate), ("baseline: serde_yaml::Value parse", &baseline)] {
        let ms = m.median.as_secs_f64() * 1e3;
        println!("| {name:<34} | {ms:>11.2} | {:>15.2} |", mib(m.peak_bytes));
    }
    println!(
        "ratio load_str / baseline: time {:.2}x, peak heap {:.2}x",
        validate.median.as_secs_f64() / baseline.median.as_secs_f64(),
        validate.peak_bytes as f64 / baseline.peak_bytes as f64
    );
}
