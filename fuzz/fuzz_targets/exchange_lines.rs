//! Untrusted exchange files (a partner's `local_file` list) through the
//! line parser: any bytes give records or an error naming a line, never a
//! panic, and every record is keyed by its own normalised signal.
//!
//! Run with `cargo fuzz run exchange_lines --sanitizer none` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_engine::exchange::parse_signal_lines;

fuzz_target!(|data: &[u8]| {
    for fixed_type in [None, Some("pdq")] {
        if let Ok(records) = parse_signal_lines(data, fixed_type) {
            for (key, signals) in records {
                let (signal_type, signal) = key.split_once(' ').expect("keys are `type signal`");
                let signal_type = signal_type.parse().expect("keys name a signal type");
                assert_eq!(signals.get(signal_type), Some(signal));
            }
        }
    }
});
