//! Untrusted `pdq_variants` signals (from imports and exchanges) and
//! `defend=` lists (from HTTP queries): any text gives a value or a clear
//! error, never a panic; what the store accepts parses back to the same
//! variants.
//!
//! Run with `cargo fuzz run variants --sanitizer none` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_media::Defences;
use vigil_signal::variants::VariantHash;
use vigil_store::{SignalType, Signals};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Defences::parse(&text);
    if let Some(variants) = VariantHash::parse_list(&text) {
        let stored = VariantHash::format_list(&variants);
        assert_eq!(VariantHash::parse_list(&stored), Some(variants));
    }
    let mut signals = Signals::default();
    if signals.insert(SignalType::PdqVariants, &text).is_ok() {
        let stored = signals.get(SignalType::PdqVariants).expect("inserted");
        let parsed = VariantHash::parse_list(stored).expect("the store keeps only valid variants");
        assert_eq!(VariantHash::format_list(&parsed), stored);
    }
});
