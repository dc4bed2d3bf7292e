//! `plan` for a file granting many new orchestrators at once (10,000 up to
//! 190,000), pure (no chain): the time per holder must stay flat as the
//! count grows, i.e. planning is linear in the number of holders. Also
//! loading (validating) the same file, and an invalid one with as many
//! unknown keys and duplicated holders (every problem reported, located),
//! which must be linear too.
//!
//! Run with `cargo bench --bench holders` (sizes: `GOVSTATE_BENCH_HOLDERS=10000,190000`);
//! `cargo test --bench holders` runs it once, small, as a check.

#[path = "../tests/common/fixtures.rs"]
mod fixtures;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use govstate::contracts::{Deployed, KINDS};
use govstate::observe::{BlockRef, Observed, ObservedContract};
use govstate::plan::{PlanOptions, plan};
use govstate::spec::{Desired, DesiredContract};

fn holder(i: usize) -> Address {
    Address::left_padding_from(&(0x10_0000 + i as u64).to_be_bytes())
}

fn observed() -> Observed {
    let contracts = KINDS
        .iter()
        .zip(fixtures::fresh_fields())
        .enumerate()
        .map(|(i, (kind, fields))| ObservedContract {
            kind,
            address: Address::repeat_byte(0xa0 + i as u8),
            fields,
            authority: Address::repeat_byte(0xf3),
            role_sets: match kind.key {
                "arena" => vec![("orchestrators", BTreeSet::new())],
                _ => vec![],
            },
        })
        .collect();
    Observed {
        chain_id: 31337,
        block: BlockRef { number: 42, hash: B256::repeat_byte(0x42), timestamp: 0, gas_limit: 0 },
        contracts,
        accounts: vec![],
    }
}

fn desired(holders: usize) -> Desired {
    let contracts = KINDS
        .iter()
        .enumerate()
        .map(|(i, kind)| DesiredContract {
            deployed: Deployed { kind, address: Address::repeat_byte(0xa0 + i as u8), deployed_block: Some(1) },
            fields: vec![],
            role_sets: match kind.key {
                "arena" => vec![("orchestrators", (0..holders).map(holder).collect())],
                _ => vec![],
            },
        })
        .collect();
    Desired { chain_id: 31337, contracts }
}

/// A file with `n` unknown keys and `n` holders each listed twice.
fn invalid_text(n: usize) -> String {
    let mut text = String::from("version: 1\nchain_id: 31337\narena:\n");
    for i in 0..n {
        text.push_str(&format!("  key{i}: 1\n"));
    }
    text.push_str("  orchestrators:\n");
    for i in 0..n {
        text.push_str(&format!("  - \"{}\"\n  - \"{}\"\n", holder(i), holder(i)));
    }
    text
}

/// The same file as YAML, for loading.
fn file_text(holders: usize) -> String {
    let mut text = String::from(
        "version: 1\nchain_id: 31337\ncontracts:\n  arena: { address: \"0xA1A1a1a1A1A1A1A1A1a1a1a1a1a1A1A1a1A1a1a1\" }\narena:\n  orchestrators:\n",
    );
    for i in 0..holders {
        text.push_str(&format!("  - \"{}\"\n", holder(i)));
    }
    text
}

fn time<T>(run: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let out = run();
    (started.elapsed(), out)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --bench holders` does not.
    let testing = !std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = match std::env::var("GOVSTATE_BENCH_HOLDERS") {
        Ok(list) => list.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) if testing => vec![2_000, 8_000],
        Err(_) => vec![10_000, 50_000, 190_000],
    };
    let observed = observed();
    let dir = std::env::temp_dir().join(format!("govstate-bench-holders-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    println!(
        "{:>8}  {:>10}  {:>12}  {:>10}  {:>12}  {:>10}  {:>12}",
        "holders", "plan", "plan/holder", "load", "load/holder", "invalid", "invalid/n"
    );
    let mut per_holder = Vec::new();
    for n in sizes {
        let desired = desired(n);
        let (planned, made) = time(|| plan(&desired, &observed, &PlanOptions::default()).expect("a plan"));
        assert_eq!(made.calls.len(), n, "one grant per holder");
        let ns = |d: Duration| d.as_nanos() as f64 / n as f64;
        let (text, invalid_text) = (file_text(n), invalid_text(n));
        if text.len().max(invalid_text.len()) > govstate::spec::MAX_SPEC_BYTES {
            // The file itself would be refused for its size: plan only.
            println!(
                "{n:>8}  {:>10.2?}  {:>9.0} ns  (a file this long is over the {} byte bound)",
                planned,
                ns(planned),
                govstate::spec::MAX_SPEC_BYTES
            );
            per_holder.push((n, ns(planned), f64::NAN, f64::NAN));
            continue;
        }
        let file = dir.join(format!("holders-{n}.yaml"));
        std::fs::write(&file, text).expect("write");
        let (loaded, spec) = time(|| govstate::spec::load_file(&file));
        assert!(spec.is_ok(), "{:?}", spec.err());
        let invalid = dir.join(format!("invalid-{n}.yaml"));
        std::fs::write(&invalid, invalid_text).expect("write");
        let (refused, problems) = time(|| govstate::spec::load_file(&invalid).err().map(|e| e.diagnostics().len()));
        assert_eq!(problems, Some(2 * n + 1), "every unknown key and duplicate reported, and the missing address");
        println!(
            "{n:>8}  {:>10.2?}  {:>9.0} ns  {:>10.2?}  {:>9.0} ns  {:>10.2?}  {:>9.0} ns",
            planned,
            ns(planned),
            loaded,
            ns(loaded),
            refused,
            ns(refused)
        );
        per_holder.push((n, ns(planned), ns(loaded), ns(refused)));
    }
    if let (Some(first), Some(last)) = (per_holder.first(), per_holder.last()) {
        println!(
            "plan: the time per holder grows {:.2}x from {} to {} holders (linear: about 1x)",
            last.1 / first.1,
            first.0,
            last.0
        );
    }
    let loaded: Vec<_> = per_holder.iter().filter(|row| row.2.is_finite()).collect();
    if let (Some(first), Some(last)) = (loaded.first(), loaded.last()) {
        println!(
            "load: {:.2}x, invalid: {:.2}x from {} to {} holders (linear: about 1x)",
            last.2 / first.2,
            last.3 / first.3,
            first.0,
            last.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
