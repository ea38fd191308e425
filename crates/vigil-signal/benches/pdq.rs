//! PDQ hashing speed on decoded pixels (no decoding): `cargo bench -p
//! vigil-signal`. Whole-pipeline figures, decoding included and compared
//! with the reference, come from `vigil bench hash` (docs/benchmarks.md).
//!
//! A plain timing loop rather than a framework: the figure that matters is
//! milliseconds per image, and this keeps the dependency tree small.

use std::hint::black_box;
use std::time::{Duration, Instant};

use vigil_signal::{PdqHasher, PdqMode, RgbView};

/// A textured picture, so no stage can shortcut on flat data.
fn picture(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..width as usize * height as usize * 3)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let base = (i / 3 % width as usize * 255 / width as usize) as u64;
            ((base + state % 40) % 256) as u8
        })
        .collect()
}

fn time_per_call(min_time: Duration, mut f: impl FnMut()) -> Duration {
    f();
    let started = Instant::now();
    let mut calls = 0u32;
    while calls < 5 || started.elapsed() < min_time {
        f();
        calls += 1;
    }
    started.elapsed() / calls
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench` absent: stay quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (sizes, min_time): (&[(u32, u32)], _) = if quick {
        (&[(64, 48)], Duration::ZERO)
    } else {
        (&[(1024, 768), (4000, 3000)], Duration::from_secs(2))
    };
    for &(width, height) in sizes {
        let pixels = picture(width, height);
        let Ok(image) = RgbView::new(width, height, &pixels) else {
            unreachable!("buffer built for these dimensions")
        };
        for mode in [PdqMode::FullResolution, PdqMode::ReferenceCli] {
            let hasher = PdqHasher::new(mode);
            let plain = time_per_call(min_time, || {
                black_box(hasher.hash(black_box(&image)));
            });
            let dihedral = time_per_call(min_time, || {
                black_box(hasher.hash_dihedral(black_box(&image)));
            });
            println!(
                "pdq {width}x{height} {:<13} hash {:>8.3} ms  dihedral {:>8.3} ms",
                mode.name(),
                plain.as_secs_f64() * 1e3,
                dihedral.as_secs_f64() * 1e3
            );
        }
    }
}
