//! Feeds arbitrary bytes to the saved-plan loader: it must return a
//! `Result`, never panic, and a plan it accepts must save and load back
//! equal. Re-deriving a plan from its record must never panic either, also
//! for a plan the loader refuses only for its digest (else mutations would
//! rarely get past the digest).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match govstate::plan::load(data, "fuzz.json") {
        Ok(plan) => {
            let _ = govstate::plan::rederive(&plan);
            let again = serde_json::to_vec(&plan).map(|text| govstate::plan::load(&text, "again.json").ok());
            assert_eq!(again.ok().flatten(), Some(plan), "an accepted plan must save and load back equal");
        }
        Err(_) => {
            if let Ok(plan) = serde_json::from_slice::<govstate::plan::Plan>(data) {
                let _ = govstate::plan::rederive(&plan);
            }
        }
    }
});
