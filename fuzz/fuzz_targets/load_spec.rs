//! Feeds arbitrary UTF-8 to the desired-state loader: it must return a
//! `Result`, never panic, and a file it accepts must read back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(spec) = govstate::spec::load_str(text, "fuzz.yaml") {
        let again = govstate::spec::load_str(&spec.to_yaml(), "again.yaml");
        assert_eq!(
            again.ok(),
            Some(spec),
            "an accepted file must read back equal"
        );
    }
});
