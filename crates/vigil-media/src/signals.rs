//! From bytes to every signal that applies to them.

use vigil_signal::{Dihedral, ExactDigests, Pdq, PdqHasher, PdqMode};

use crate::{
    Defences, Error, Format, HtmlLimits, Ingested, Limits, PdfLimits, VariantHash, VideoLimits,
    VideoOptions, bank_variants, decode_image, query_variants,
};

/// What to compute for each item.
#[derive(Debug, Clone, Copy)]
pub struct HashOptions {
    /// Which PDQ reference to reproduce.
    pub pdq_mode: PdqMode,
    /// Also compute the eight rotation/flip PDQ hashes (from one DCT, as
    /// Meta's reference prints them).
    pub dihedral: bool,
    /// Also hash the query variants of these lookup defences (see
    /// [`query_variants`](crate::query_variants)).
    pub defences: Defences,
    /// Also hash the variants a bank keeps for the defences (see
    /// [`bank_variants`](crate::bank_variants)).
    pub bank_variants: bool,
    /// Decoding limits.
    pub limits: Limits,
    /// Limits for PDFs.
    pub pdf: PdfLimits,
    /// Limits for web pages.
    pub html: HtmlLimits,
    /// How videos are sampled and bounded.
    pub video: VideoOptions,
}

impl Default for HashOptions {
    /// The reference PDQ, no variants, default limits, and videos hashed at
    /// one frame a second, as HMA's vPDQ extension hashes them.
    fn default() -> Self {
        Self {
            pdq_mode: PdqMode::default(),
            dihedral: false,
            defences: Defences::default(),
            bank_variants: false,
            limits: Limits::default(),
            pdf: PdfLimits::default(),
            html: HtmlLimits::default(),
            video: VideoOptions {
                seconds_per_hash: 1.0,
                downscale: None,
                limits: VideoLimits::default(),
            },
        }
    }
}

impl HashOptions {
    /// These options for items from strangers (uploads, fetched links):
    /// videos under [`UNTRUSTED_VIDEO_LIMITS`](crate::UNTRUSTED_VIDEO_LIMITS).
    pub fn untrusted(mut self) -> Self {
        self.video.limits = crate::UNTRUSTED_VIDEO_LIMITS;
        self
    }
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
#[derive(Debug, Clone)]
pub struct PhotoSignals {
    /// What was decoded.
    pub image: ImageInfo,
    /// `md5` and `sha256` of the bytes.
    pub exact: ExactDigests,
    /// The PDQ hash and quality.
    pub pdq: Pdq,
    /// The eight dihedral hashes, when asked for.
    pub dihedral: Option<Dihedral>,
    /// The query variants of the defences asked for, the plain hash
    /// (`orig`) first; empty when none were.
    pub query_variants: Vec<VariantHash>,
    /// The variants to bank, when asked for.
    pub bank_variants: Vec<VariantHash>,
}

/// Decodes `bytes` and computes its signals.
pub fn hash_media(bytes: &[u8], options: &HashOptions) -> Result<PhotoSignals, Error> {
    let exact = ExactDigests::of(bytes);
    hash_decoded(bytes, exact, options)
}

/// As [`hash_media`], for an item read with [`ingest`](crate::ingest): its
/// digests are reused, and an item over the byte limit fails with
/// [`Error::FileTooLarge`].
pub fn hash_ingested(ingested: &Ingested, options: &HashOptions) -> Result<PhotoSignals, Error> {
    match &ingested.bytes {
        Some(bytes) => hash_decoded(bytes, ingested.digests, options),
        None => Err(Error::FileTooLarge {
            len: ingested.len,
            limit: options.limits.max_file_bytes,
        }),
    }
}

pub(crate) fn hash_decoded(
    bytes: &[u8],
    exact: ExactDigests,
    options: &HashOptions,
) -> Result<PhotoSignals, Error> {
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
    let (query, banked) = if options.defences.any() || options.bank_variants {
        let pixels =
            image::RgbImage::from_raw(decoded.width(), decoded.height(), decoded.pixels().to_vec());
        let query = match &pixels {
            Some(pixels) if options.defences.any() => {
                query_variants(pixels, options.defences, hasher)
            }
            _ => Vec::new(),
        };
        let banked = match &pixels {
            Some(pixels) if options.bank_variants => bank_variants(pixels, hasher),
            _ => Vec::new(),
        };
        (query, banked)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(PhotoSignals {
        image: ImageInfo {
            format: decoded.format(),
            width: decoded.width(),
            height: decoded.height(),
            orientation: decoded.orientation(),
        },
        exact,
        pdq,
        dihedral,
        query_variants: query,
        bank_variants: banked,
    })
}
