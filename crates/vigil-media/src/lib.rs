//! Bytes to decoded media for Vigil.
//!
//! This crate turns the bytes of one item into something `vigil-signal` can
//! fingerprint, and nothing more: it knows file formats, decoder limits and
//! metadata, but not banks, indexes or HTTP.
//!
//! * [`sniff`] names the [`MediaKind`] and [`Format`] from the first bytes,
//!   never from a file name.
//! * [`ingest`] reads a stream once, computing the exact digests on the way
//!   and keeping the bytes only while they fit the [`Limits`].
//! * [`decode_image`] decodes JPEG (baseline, progressive, CMYK), PNG (8/16
//!   bit, palette, alpha), GIF (first frame), WebP, TIFF and BMP into packed
//!   RGB8 under size and allocation limits, and reports the EXIF orientation
//!   without applying it (no PDQ reference applies it; the dihedral hashes
//!   cover rotated copies).
//! * [`hash_media`] is the whole path from bytes to [`PhotoSignals`].
//! * [`read_html`] is the one bounded reader of web pages (visible text,
//!   links, embedded media) under [`HtmlLimits`], linear in the page.
//! * [`hash_document`] reads text files, web pages ([`html_visible_text`])
//!   and PDFs ([`read_pdf`]: text per page, embedded images) into
//!   [`DocumentSignals`]: digests, a `text` sketch and a PDQ per image.
//!
//! Hostile input is the normal case here: every failure is a typed
//! [`Error`] naming what was wrong, decoder panics are caught, and no image
//! is allocated before its declared size passes the limits.
//!
//! ```
//! use vigil_media::{HashOptions, hash_media};
//!
//! // A 1×1 PNG: decodable, but too small to hash perceptually.
//! let png = [
//!     0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
//!     0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde, 0, 0, 0, 12, b'I',
//!     b'D', b'A', b'T', 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01,
//!     0x00, 0x18, 0xdd, 0x8d, 0xb0, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60,
//!     0x82,
//! ];
//! let signals = hash_media(&png, &HashOptions::default()).unwrap();
//! assert_eq!((signals.image.width, signals.image.height), (1, 1));
//! assert_eq!(signals.pdq.quality, 0);
//! ```
#![deny(missing_docs)]

mod container;
mod decode;
mod document;
mod error;
mod html;
mod ingest;
mod item;
mod jpeg;
mod pdf;
mod pdf_text;
mod signals;
mod sniff;
mod text;
mod variants;
mod video;

pub use container::{CONTAINER_SNIFF_BYTES, Container, video_container};
pub use decode::{DecodedImage, Limits, decode_image};
pub use document::{
    DocumentFormat, DocumentSignals, document_format, hash_document, hash_html_page,
    hash_ingested_document,
};
pub use error::Error;
pub use html::{HtmlLimit, HtmlLimits, HtmlLink, HtmlPage, LinkElement, read_html, read_html_str};
pub use ingest::{Ingested, ingest};
pub use item::{
    Hashed, Item, UNTRUSTED_VIDEO_LIMITS, VideoSignals, hash_item, image_signals, query_variants_of,
};
pub use pdf::{MIN_IMAGE_SIDE, PdfContent, PdfImage, PdfLimits, read_pdf, reading_order};
pub use signals::{HashOptions, ImageInfo, PhotoSignals, hash_ingested, hash_media};
pub use sniff::{Format, MediaKind, Sniffed, sniff};
pub use text::{decode_text, html_visible_text};
pub use variants::{
    Corner, Defences, OVERLAY_CORNERS_NEEDED, OVERLAY_KEEP, PairedMatch, Pairing, UnknownDefence,
    Variant, VariantHash, bank_variants, nearest_pairing, query_variants, symmetries, trimmed,
};
pub use video::{VideoHash, VideoInfo, VideoLimits, VideoOptions, hash_video_file};
