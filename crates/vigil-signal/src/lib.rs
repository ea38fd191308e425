//! Pure fingerprinting for Vigil: signals computed from decoded pixels and
//! raw bytes.
//!
//! This crate owns the *algorithms* of Vigil's signal types and nothing
//! else. It takes pixels and bytes and returns values; it never opens a file,
//! decodes an image format, talks to a network or reads a clock. Decoding
//! lives in `vigil-media`, indexing in `vigil-index`.
//!
//! # Signals
//!
//! * [`pdq`] — Meta's 256-bit perceptual image hash, bit-exact with the
//!   reference implementations. [`PdqHash`] is the value (64 lowercase hex
//!   characters, Hamming distance), [`PdqHasher`] computes it from an
//!   [`RgbView`] in one of two [`PdqMode`]s, optionally with all eight
//!   [`Dihedral`] variants derived from a single transform.
//! * [`vpdq`] — Meta's video fingerprint: a PDQ hash per frame
//!   ([`VpdqFrame`]), its text forms, and clip-in-video matching
//!   ([`VpdqMatch`]).
//! * [`text`] — near-duplicate text: Arabic-aware [`normalize`](text::normalize)
//!   and [`TextSketch`], a shingle sample that estimates how much of a known
//!   text reappears in another (edited, excerpted or pasted into a post).
//! * [`exact`] — `md5` and `sha256` digests of the media bytes, computed
//!   incrementally by [`ExactHasher`] so callers can stream.
//!
//! A low-quality hash is a value, not an error: [`Pdq::quality`] says how
//! far to trust it. Errors ([`Error`]) only come from parsing text forms.
//!
//! # Example
//!
//! ```
//! use vigil_signal::{PdqHasher, PdqMode, RgbView};
//!
//! // A 64×64 diagonal gradient.
//! let pixels: Vec<u8> = (0..64 * 64)
//!     .flat_map(|i| {
//!         let v = ((i % 64 + i / 64) * 2) as u8;
//!         [v, v, v]
//!     })
//!     .collect();
//! let image = RgbView::new(64, 64, &pixels).unwrap();
//! let pdq = PdqHasher::new(PdqMode::FullResolution).hash(&image);
//! assert_eq!(pdq.hash.to_string().len(), 64);
//! assert_eq!(pdq.hash.distance(&pdq.hash), 0);
//! ```
#![deny(missing_docs)]

mod error;
pub mod exact;
pub mod pdq;
mod signal;
pub mod text;
pub mod variants;
pub mod vpdq;

pub use error::Error;
pub use exact::{ExactDigests, ExactHasher, Md5, Sha256};
pub use pdq::{Dihedral, Pdq, PdqHash, PdqHasher, PdqMode, RgbView};
pub use signal::{Closeness, MAX_PDQ_VARIANTS, MatchRule, SignalType, SignalValue};
pub use text::{TextContainment, TextSketch};
pub use vpdq::{VpdqFrame, VpdqMatch};
