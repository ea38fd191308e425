//! Untrusted vPDQ signals (HMA's JSON form from API callers and partners,
//! reference hash files) through both parsers: any input parses or is
//! refused without a panic, and what parses writes back to a form that
//! parses to the same frames.
//!
//! Run with `cargo fuzz run vpdq_text --sanitizer none` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_signal::vpdq;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frames) = vpdq::parse_reference(text) {
        let again = vpdq::parse_reference(&vpdq::to_reference(&frames)).expect("own output parses");
        assert_eq!(again.len(), frames.len());
        for (a, b) in frames.iter().zip(&again) {
            assert_eq!(
                (a.frame_number, a.quality, a.hash),
                (b.frame_number, b.quality, b.hash)
            );
        }
    }
    if let Ok(frames) = vpdq::parse_hma_signal(text) {
        let again =
            vpdq::parse_hma_signal(&vpdq::to_hma_signal(&frames)).expect("own output parses");
        assert_eq!(again.len(), frames.len());
    }
});
