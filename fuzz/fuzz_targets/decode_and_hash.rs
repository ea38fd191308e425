//! Untrusted bytes through the whole still-image path: sniffing, bounded
//! decoding, PDQ in both modes with dihedral hashes, exact digests.
//!
//! Run with `cargo fuzz run decode_and_hash --sanitizer none` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_media::{HashOptions, Limits, hash_media};
use vigil_signal::PdqMode;

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the limit checks are what is tested.
    let limits = Limits {
        max_pixels: 4_000_000,
        max_side: 8192,
        max_alloc: 64 * 1024 * 1024,
        ..Limits::default()
    };
    for pdq_mode in [PdqMode::FullResolution, PdqMode::ReferenceCli] {
        let options = HashOptions {
            pdq_mode,
            dihedral: true,
            limits,
            ..HashOptions::default()
        };
        if let Ok(signals) = hash_media(data, &options) {
            assert!(signals.pdq.quality <= 100);
            let dihedral = signals.dihedral.expect("requested");
            assert_eq!(dihedral.original, signals.pdq.hash);
        }
    }
});
