use crate::{Format, MediaKind};

/// Why an item could not be read or decoded. Each message names the input's
/// problem in terms a moderator or operator can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// The bytes match no format Vigil decodes.
    #[error("not a recognised media format (starts with {prefix})")]
    UnknownFormat {
        /// The first bytes in hex, for diagnosis.
        prefix: String,
    },
    /// A recognised kind of media that this build does not hash yet.
    #[error("{kind} files ({format}) are recognised but not hashed by this version")]
    UnsupportedKind {
        /// The kind sniffed.
        kind: MediaKind,
        /// The container or format sniffed.
        format: &'static str,
    },
    /// The item is not the kind its sender said it is.
    #[error("the content is {}, not {expected}", article(*found))]
    UnexpectedKind {
        /// The kind the caller expected.
        expected: MediaKind,
        /// The kind the bytes are.
        found: MediaKind,
    },
    /// The input is larger than the configured byte limit.
    #[error("the file is {len} bytes, over the limit of {limit} bytes")]
    FileTooLarge {
        /// Actual size in bytes.
        len: u64,
        /// Configured limit.
        limit: u64,
    },
    /// The image declares more pixels than allowed.
    #[error("the {format} image declares {width}x{height} pixels, over the limit of {limit}")]
    ImageTooLarge {
        /// Sniffed format.
        format: Format,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit that was exceeded, e.g. `50000000 pixels` or `width 32768`.
        limit: String,
    },
    /// The decoder rejected the data: truncated, corrupt or unsupported.
    #[error("cannot decode {format}: {message}")]
    Decode {
        /// Sniffed format.
        format: Format,
        /// The decoder's explanation.
        message: String,
    },
    /// The decoder crashed on this input (caught; the input is hostile or
    /// triggers a decoder bug).
    #[error("the {format} decoder crashed on this input")]
    DecoderPanicked {
        /// Sniffed format.
        format: Format,
    },
    /// Reading the input failed.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// FFmpeg (the `ffmpeg`/`ffprobe` programs) is not installed or failed
    /// to start.
    #[error("cannot run {program}: {message} (install FFmpeg: apt-get install ffmpeg)")]
    VideoTool {
        /// `ffmpeg` or `ffprobe`.
        program: &'static str,
        /// Why it could not run.
        message: String,
    },
    /// The video cannot be decoded: no video stream, corrupt or truncated.
    #[error("cannot decode the video: {0}")]
    VideoDecode(String),
    /// A playlist, manifest or stream description given as a video: it
    /// names other files or addresses, which Vigil never lets FFmpeg open.
    #[error(
        "a {what} is not a video: playlists and manifests name other files, which Vigil never opens"
    )]
    VideoRefused {
        /// What the bytes are, e.g. `HLS or M3U playlist`.
        what: &'static str,
    },
    /// Bytes given as a video that are in none of the containers Vigil lets
    /// FFmpeg demux.
    #[error("not a video container Vigil reads (starts with {prefix}); accepted: {accepted}")]
    UnsupportedVideo {
        /// The first bytes in hex, for diagnosis.
        prefix: String,
        /// The containers accepted.
        accepted: &'static str,
    },
    /// The PDF cannot be parsed: malformed, truncated or unsupported.
    #[error("cannot read the PDF: {0}")]
    Pdf(String),
    /// The PDF needs a password to be read.
    #[error("the PDF is encrypted with a password; Vigil cannot read its text or images")]
    PdfEncrypted,
    /// The PDF breaks a configured limit (pages, stream size).
    #[error("the PDF is over a limit: {0}")]
    PdfLimit(String),
    /// The video breaks a configured limit (size, duration, frames, time).
    #[error("the video is over a limit: {0}")]
    VideoLimit(String),
    /// The web page breaks a configured [`HtmlLimits`](crate::HtmlLimits)
    /// bound (bytes, nesting depth, tokens, time).
    #[error("the web page is over a limit: {0}")]
    HtmlLimit(crate::HtmlLimit),
}

impl Error {
    /// A stable, machine-readable name for the error's kind, for JSON output
    /// and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::UnknownFormat { .. } => "unknown_format",
            Self::UnsupportedKind { .. } => "unsupported_kind",
            Self::UnexpectedKind { .. } => "unexpected_kind",
            Self::FileTooLarge { .. } => "file_too_large",
            Self::ImageTooLarge { .. } => "image_too_large",
            Self::Decode { .. } => "decode",
            Self::DecoderPanicked { .. } => "decoder_panicked",
            Self::Io(_) => "io",
            Self::VideoTool { .. } => "video_tool",
            Self::VideoDecode(_) => "video_decode",
            Self::VideoLimit(_) => "video_limit",
            Self::VideoRefused { .. } => "video_refused",
            Self::UnsupportedVideo { .. } => "unsupported_video",
            Self::Pdf(_) => "pdf",
            Self::PdfEncrypted => "pdf_encrypted",
            Self::PdfLimit(_) => "pdf_limit",
            Self::HtmlLimit(_) => "html_limit",
        }
    }
}

/// The first bytes of an unrecognised input in hex, for diagnosis.
pub(crate) fn hex_prefix(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A kind named in a sentence: "a pdf", "text".
fn article(kind: MediaKind) -> String {
    match kind {
        MediaKind::Text => "text".to_owned(),
        other => format!("a {other}"),
    }
}
