//! From bytes to every signal that applies to them.

use vigil_signal::{Dihedral, ExactDigests, Pdq, PdqHasher, PdqMode};

use crate::{Error, Format, Ingested, Limits, PdfLimits, decode_image};

/// What to compute for each item.
#[derive(Debug, Clone, Copy, Default)]
pub struct HashOptions {
    /// Which PDQ reference to reproduce.
    pub pdq_mode: PdqMode,
    /// Also compute the eight rotation/flip PDQ hashes.
    pub dihedral: bool,
    /// Decoding limits.
    pub limits: Limits,
    /// Limits for PDFs.
    pub pdf: PdfLimits,
}

/// Facts about a decoded image, reported alongside its signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// The sniffed format.
    pub format: Format,
    /// Stored width in pixels.
    pub width: u32,
    /// Stored height in pixels.
    pub height: u32,
    /// EXIF orientation (1–8), reported and not applied.
    pub orientation: u8,
}

/// The signals of one photo.
#[derive(Debug, Clone, Copy)]
pub struct MediaSignals {
    /// What was decoded.
    pub image: ImageInfo,
    /// `md5` and `sha256` of the bytes.
    pub exact: ExactDigests,
    /// The PDQ hash and quality.
    pub pdq: Pdq,
    /// The eight dihedral hashes, when asked for.
    pub dihedral: Option<Dihedral>,
}

/// Decodes `bytes` and computes its signals.
pub fn hash_media(bytes: &[u8], options: &HashOptions) -> Result<MediaSignals, Error> {
    let exact = ExactDigests::of(bytes);
    hash_decoded(bytes, exact, options)
}

/// As [`hash_media`], for an item read with [`ingest`](crate::ingest): its
/// digests are reused, and an item over the byte limit fails with
/// [`Error::FileTooLarge`].
pub fn hash_ingested(ingested: &Ingested, options: &HashOptions) -> Result<MediaSignals, Error> {
    match &ingested.bytes {
        Some(bytes) => hash_decoded(bytes, ingested.digests, options),
        None => Err(Error::FileTooLarge {
            len: ingested.len,
            limit: options.limits.max_file_bytes,
        }),
    }
}

fn hash_decoded(
    bytes: &[u8],
    exact: ExactDigests,
    options: &HashOptions,
) -> Result<MediaSignals, Error> {
    let decoded = decode_image(bytes, &options.limits)?;
    let hasher = PdqHasher::new(options.pdq_mode);
    let rgb = decoded.rgb();
    let (pdq, dihedral) = if options.dihedral {
        let (dihedral, quality) = hasher.hash_dihedral(&rgb);
        let pdq = Pdq {
            hash: dihedral.original,
            quality,
        };
        (pdq, Some(dihedral))
    } else {
        (hasher.hash(&rgb), None)
    };
    Ok(MediaSignals {
        image: ImageInfo {
            format: decoded.format(),
            width: decoded.width(),
            height: decoded.height(),
            orientation: decoded.orientation(),
        },
        exact,
        pdq,
        dihedral,
    })
}
