//! One path from an item to its signals. What the item is — photo, video or
//! document — is decided here, once: by the caller's expectation when it
//! has one (HMA's `content_type`), else by sniffing the bytes. Every caller
//! (the CLI, the server, the monitor) goes through [`hash_item`].

use std::path::Path;

use vigil_signal::{ExactDigests, PdqHash, SignalValue};

use crate::{
    DocumentFormat, DocumentSignals, Error, HashOptions, Ingested, MediaKind, PdfImage,
    PhotoSignals, Sniffed, VariantHash, VideoHash, VideoLimits, hash_video_file, sniff,
};

/// Limits for videos that strangers send or link to: those of
/// [`VideoLimits::default`] with five minutes of FFmpeg at most.
pub const UNTRUSTED_VIDEO_LIMITS: VideoLimits = VideoLimits {
    max_side: 8192,
    max_duration_seconds: 4.0 * 3600.0,
    max_frames: 4 * 3600 * 60,
    max_wall_time: std::time::Duration::from_secs(300),
};

/// Where an item's bytes are.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// In memory: an upload, a fetched body. A video is written to a private
    /// temporary file for FFmpeg.
    Bytes(&'a [u8]),
    /// A file read with [`ingest`](crate::ingest): its digests cover every
    /// byte; a video is read by FFmpeg from `path`, without a copy.
    File {
        /// The file.
        path: &'a Path,
        /// What was read of it.
        ingested: &'a Ingested,
    },
}

/// The signals of one video item.
#[derive(Debug, Clone)]
pub struct VideoSignals {
    /// `md5` and `sha256` of the file.
    pub exact: ExactDigests,
    /// The container, as sniffed (`mp4`, `webm`, …).
    pub format: &'static str,
    /// The frames hashed.
    pub video: VideoHash,
}

/// An item hashed as what it is.
// One value per item hashed, moved once to its caller: boxing the photo
// (its dihedral and variant hashes) would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Hashed {
    /// A still image.
    Photo(PhotoSignals),
    /// A video.
    Video(VideoSignals),
    /// A text file, web page or PDF.
    Document(DocumentSignals),
}

impl Hashed {
    /// The item's media kind.
    pub fn kind(&self) -> MediaKind {
        match self {
            Hashed::Photo(_) => MediaKind::Photo,
            Hashed::Video(_) => MediaKind::Video,
            Hashed::Document(document) if document.format == DocumentFormat::Pdf => MediaKind::Pdf,
            Hashed::Document(_) => MediaKind::Text,
        }
    }

    /// The signals to store or look up, in type order:
    /// - a photo: `md5`, `sha256`, and `pdq` when its quality is at least
    ///   [`PdqHash::MIN_TRUSTED_QUALITY`] (below that its bits are noise, and
    ///   HMA returns no PDQ either), with the `pdq_variants` banked for the
    ///   lookup defences when they were hashed;
    /// - a video: `md5`, `sha256`, `video_md5` (HMA's exact video signal)
    ///   and `vpdq` when any frame was hashed;
    /// - a document: `md5`, `sha256` and, when it has words, `text` with its
    ///   whole sketch (lookups use all of it; banks index a sample). A PDF's
    ///   images are items of their own: see [`image_signals`].
    pub fn signals(&self) -> Vec<SignalValue> {
        let mut signals = Vec::new();
        let exact = match self {
            Hashed::Photo(photo) => {
                if photo.pdq.quality >= PdqHash::MIN_TRUSTED_QUALITY {
                    signals.push(SignalValue::Pdq(photo.pdq.hash));
                    if !photo.bank_variants.is_empty() {
                        signals.push(SignalValue::PdqVariants(photo.bank_variants.clone()));
                    }
                }
                photo.exact
            }
            Hashed::Video(video) => {
                if !video.video.frames.is_empty() {
                    signals.push(SignalValue::Vpdq(video.video.frames.clone()));
                }
                signals.push(SignalValue::VideoMd5(video.exact.md5));
                video.exact
            }
            Hashed::Document(document) => {
                if let Some(sketch) = &document.text {
                    signals.push(SignalValue::Text(sketch.clone()));
                }
                document.exact
            }
        };
        signals.push(SignalValue::Md5(exact.md5));
        signals.push(SignalValue::Sha256(exact.sha256));
        signals.sort_by_key(SignalValue::signal_type);
        signals
    }
}

/// The signals of an image embedded in a PDF, as for a photo: its PDQ when
/// trusted, and the digests of its stored bytes.
pub fn image_signals(image: &PdfImage) -> Vec<SignalValue> {
    let mut signals = vec![
        SignalValue::Md5(image.exact.md5),
        SignalValue::Sha256(image.exact.sha256),
    ];
    if image.pdq.quality >= PdqHash::MIN_TRUSTED_QUALITY {
        signals.push(SignalValue::Pdq(image.pdq.hash));
    }
    signals.sort_by_key(SignalValue::signal_type);
    signals
}

/// Hashes `item` as `expected` when given, else as what its bytes are.
///
/// An expected kind is how the caller was told what the item is (HMA's
/// `content_type`): a photo is decoded as a photo, a video handed to FFmpeg
/// (whose container is still sniffed and whitelisted), and a document must
/// be the document named (text is plain text or a web page). Without one,
/// the bytes decide; a format Vigil does not read is
/// [`Error::UnknownFormat`]. An item over the byte limit is
/// [`Error::FileTooLarge`].
pub fn hash_item(
    item: Item<'_>,
    expected: Option<MediaKind>,
    options: &HashOptions,
) -> Result<Hashed, Error> {
    let (bytes, exact) = match item {
        Item::Bytes(bytes) => {
            if bytes.len() as u64 > options.limits.max_file_bytes {
                return Err(Error::FileTooLarge {
                    len: bytes.len() as u64,
                    limit: options.limits.max_file_bytes,
                });
            }
            (bytes, ExactDigests::of(bytes))
        }
        Item::File { ingested, .. } => match &ingested.bytes {
            Some(bytes) => (bytes.as_slice(), ingested.digests),
            None => {
                return Err(Error::FileTooLarge {
                    len: ingested.len,
                    limit: options.limits.max_file_bytes,
                });
            }
        },
    };
    let kind = match expected {
        Some(kind) => kind,
        None => match sniff(bytes) {
            Sniffed::Image(_) => MediaKind::Photo,
            Sniffed::Other(kind, _) => kind,
            Sniffed::Unknown if bytes.is_empty() => return Err(Error::Empty),
            Sniffed::Unknown => {
                return Err(Error::UnknownFormat {
                    prefix: crate::error::hex_prefix(bytes),
                });
            }
        },
    };
    match kind {
        MediaKind::Photo => crate::signals::hash_decoded(bytes, exact, options).map(Hashed::Photo),
        MediaKind::Video => {
            let path = match item {
                Item::File { path, .. } => Some(path),
                Item::Bytes(_) => None,
            };
            hash_video(bytes, path, exact, options).map(Hashed::Video)
        }
        MediaKind::Pdf | MediaKind::Text => {
            let document = crate::document::hash_document_bytes(bytes, exact, options)?;
            let is_pdf = document.format == DocumentFormat::Pdf;
            if expected.is_some() && is_pdf != (kind == MediaKind::Pdf) {
                return Err(Error::UnexpectedKind {
                    expected: kind,
                    found: if is_pdf {
                        MediaKind::Pdf
                    } else {
                        MediaKind::Text
                    },
                });
            }
            Ok(Hashed::Document(document))
        }
    }
}

/// A video from `path`, or from `bytes` through a private temporary file.
fn hash_video(
    bytes: &[u8],
    path: Option<&Path>,
    exact: ExactDigests,
    options: &HashOptions,
) -> Result<VideoSignals, Error> {
    let format = match sniff(bytes) {
        Sniffed::Other(MediaKind::Video, format) => format,
        _ => "video",
    };
    let video = if let Some(path) = path {
        hash_video_file(path, &options.video)?
    } else {
        let mut file = tempfile::NamedTempFile::new().map_err(Error::Io)?;
        std::io::Write::write_all(&mut file, bytes).map_err(Error::Io)?;
        hash_video_file(file.path(), &options.video)?
    };
    Ok(VideoSignals {
        exact,
        format,
        video,
    })
}

/// The variants of a photo for the lookup defences, when it is one.
pub fn query_variants_of(hashed: &Hashed) -> &[VariantHash] {
    match hashed {
        Hashed::Photo(photo) => &photo.query_variants,
        _ => &[],
    }
}
