//! The `text` signal: near-duplicate matching of statements, captions,
//! lyrics and document text, in Arabic, English and the other languages of
//! this material.
//!
//! Two steps, each in its own module:
//!
//! * [`normalize`] maps the edits that change bytes but not meaning —
//!   diacritics, look-alike letters, digits, invisible characters,
//!   punctuation, spacing — to one form.
//! * [`TextSketch`] fingerprints the normalised words as a sample of their
//!   three-word shingles, so that [`TextSketch::containment_in`] estimates
//!   how much of a known text reappears in another one: edited, cut to an
//!   excerpt, or pasted into a longer post.
//!
//! ```
//! use vigil_signal::text::{BANK_SAMPLE, QUERY_SAMPLE, TextSketch};
//!
//! let statement = "the group announced today that its members will hold a meeting \
//!                  in the northern city next week to discuss the new plan";
//! let post = format!("breaking news from our correspondent {statement} more soon");
//! let banked = TextSketch::of_text(statement, BANK_SAMPLE);
//! let query = TextSketch::of_text(&post, QUERY_SAMPLE);
//! let found = banked.containment_in(&query).unwrap();
//! assert_eq!(found.containment, 1.0);
//! ```

mod normalize;
mod sketch;

pub use normalize::normalize;
pub use sketch::{
    BANK_SAMPLE, DEFAULT_CONTAINMENT, MIN_FOUND, QUERY_SAMPLE, SHINGLE_WORDS, TextContainment,
    TextSketch,
};
