//! Shared fixtures for Vigil's tests (dev-dependency only).
//!
//! * [`vectors`] finds the reference vectors (`shared/vectors` beside the
//!   repository, or `$VIGIL_VECTORS`) and fails loudly when they are missing,
//!   so golden tests can never pass by finding nothing.
//! * [`png_declaring`] builds a PNG whose header declares any size, for
//!   decompression-bomb tests.
//! * [`random_limbs`] makes reproducible synthetic 256-bit hashes.
//! * [`Tripwire`] is a file that must never be read (a watched FIFO), and
//!   [`playlists_naming`] the playlists that try to read one.
//! * [`run_measured`] runs a child and reports its time and peak memory.
#![deny(missing_docs)]

mod measure;
mod tripwire;

pub use measure::{Measured, run_measured};
pub use tripwire::{Tripwire, playlists_naming};

use std::path::PathBuf;

/// The folder holding the reference vectors (`pdq/`, `vpdq/`, …):
/// `$VIGIL_VECTORS` if set, else `../shared/vectors` beside the repository.
///
/// # Panics
///
/// When the folder is missing, naming where it looked: tests that need
/// vectors must fail, never pass vacuously.
pub fn vectors() -> PathBuf {
    let root = std::env::var_os("VIGIL_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        PathBuf::from,
    );
    assert!(
        root.join("pdq/pdq_reference.tsv").is_file(),
        "reference vectors not found at {}: set VIGIL_VECTORS to the folder holding pdq/",
        root.display()
    );
    root
}

/// The vPDQ vectors folder, `vectors()/vpdq` (videos, reference hash
/// files, the match matrix).
pub fn vpdq_vectors() -> PathBuf {
    vectors().join("vpdq")
}

/// The PDQ vectors folder, `vectors()/pdq`.
pub fn pdq_vectors() -> PathBuf {
    vectors().join("pdq")
}

/// The rows of a TSV file in the PDQ vectors, header skipped, split on tabs.
///
/// # Panics
///
/// When the file cannot be read.
pub fn pdq_tsv_rows(name: &str) -> Vec<Vec<String>> {
    let path = pdq_vectors().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

/// 256 pseudo-random bits (four limbs) determined by `seed`, for synthetic
/// hashes: the same seed always gives the same bits.
pub fn random_limbs(seed: u64) -> [u64; 4] {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    std::array::from_fn(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    })
}

/// CRC-32 (IEEE), as PNG chunks need.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A well-formed RGB8 PNG that declares `width`×`height` pixels but holds a
/// single empty compressed block: a decoder that trusts the header before
/// checking its limits would allocate `width × height × 3` bytes.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut header = width.to_be_bytes().to_vec();
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    let empty_zlib = [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (name, data) in [
        (&b"IHDR"[..], &header[..]),
        (b"IDAT", &empty_zlib),
        (b"IEND", &[]),
    ] {
        let mut chunk = name.to_vec();
        chunk.extend(data);
        png.extend(u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
        png.extend(&chunk);
        png.extend(crc32(&chunk).to_be_bytes());
    }
    png
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_iend_is_the_well_known_value() {
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
    }

    #[test]
    fn png_header_declares_the_size() {
        let png = png_declaring(100_000, 7);
        assert_eq!(&png[16..24], &[0, 1, 0x86, 0xa0, 0, 0, 0, 7]);
    }
}
