//! Text, web pages and PDFs to their signals: the digests of the bytes, a
//! `text` sketch of what a reader sees, and a PDQ hash per embedded image.

use vigil_signal::ExactDigests;
use vigil_signal::text::{QUERY_SAMPLE, TextSketch};

use crate::pdf::{PdfImage, read_pdf};
use crate::sniff::{MediaKind, Sniffed, sniff};
use crate::{Error, HashOptions, HtmlPage, Ingested};

/// The kinds of document Vigil reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentFormat {
    /// Plain text in any encoding.
    Text,
    /// A web page; only its visible text counts.
    Html,
    /// A PDF: text per page and embedded images.
    Pdf,
}

impl DocumentFormat {
    /// Lowercase name, as in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Html => "html",
            Self::Pdf => "pdf",
        }
    }
}

/// The signals of one document.
#[derive(Debug, Clone)]
pub struct DocumentSignals {
    /// What the bytes were read as.
    pub format: DocumentFormat,
    /// `md5` and `sha256` of the bytes.
    pub exact: ExactDigests,
    /// The sketch of the whole text with every shingle up to
    /// [`QUERY_SAMPLE`] — what lookups use; bank it cut to
    /// [`BANK_SAMPLE`](vigil_signal::text::BANK_SAMPLE). `None` when the
    /// document has no words (a PDF of scans, say).
    pub text: Option<TextSketch>,
    /// Words in the normalised text.
    pub words: usize,
    /// Pages, for PDFs.
    pub pages: Option<usize>,
    /// The hashed embedded images of a PDF.
    pub images: Vec<PdfImage>,
    /// Embedded images not hashed (see [`PdfContent`](crate::PdfContent)).
    pub skipped_images: usize,
}

/// Whether `bytes` are a document Vigil reads, and as what.
pub fn document_format(bytes: &[u8]) -> Option<DocumentFormat> {
    match sniff(bytes) {
        Sniffed::Other(MediaKind::Pdf, _) => Some(DocumentFormat::Pdf),
        Sniffed::Other(MediaKind::Text, "html") => Some(DocumentFormat::Html),
        Sniffed::Other(MediaKind::Text, _) => Some(DocumentFormat::Text),
        _ => None,
    }
}

/// Reads the document in `bytes` and computes its signals.
pub fn hash_document(bytes: &[u8], options: &HashOptions) -> Result<DocumentSignals, Error> {
    if bytes.len() as u64 > options.limits.max_file_bytes {
        return Err(Error::FileTooLarge {
            len: bytes.len() as u64,
            limit: options.limits.max_file_bytes,
        });
    }
    hash_document_bytes(bytes, ExactDigests::of(bytes), options)
}

/// As [`hash_document`], for an item read with [`ingest`](crate::ingest):
/// its digests are reused, and an item over the byte limit fails with
/// [`Error::FileTooLarge`].
pub fn hash_ingested_document(
    ingested: &Ingested,
    options: &HashOptions,
) -> Result<DocumentSignals, Error> {
    match &ingested.bytes {
        Some(bytes) => hash_document_bytes(bytes, ingested.digests, options),
        None => Err(Error::FileTooLarge {
            len: ingested.len,
            limit: options.limits.max_file_bytes,
        }),
    }
}

pub(crate) fn hash_document_bytes(
    bytes: &[u8],
    exact: ExactDigests,
    options: &HashOptions,
) -> Result<DocumentSignals, Error> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    let format = document_format(bytes).ok_or_else(|| Error::UnknownFormat {
        prefix: crate::error::hex_prefix(bytes),
    })?;
    let (text, pages, images, skipped_images) = match format {
        DocumentFormat::Text => (crate::text::decode_text(bytes), None, Vec::new(), 0),
        DocumentFormat::Html => {
            // A partial page would be sketched as if whole and match or miss
            // silently, so a page over a limit is refused.
            let page = crate::read_html(bytes, &options.html);
            if let Some(limit) = page.truncated {
                return Err(Error::HtmlLimit(limit));
            }
            (page.text, None, Vec::new(), 0)
        }
        DocumentFormat::Pdf => {
            let content = read_pdf(bytes, &options.pdf, &options.limits, options.pdq_mode)?;
            let pages = content.pages.len();
            (
                content.pages.join("\n"),
                Some(pages),
                content.images,
                content.skipped_images,
            )
        }
    };
    Ok(sketched(
        format,
        exact,
        &text,
        pages,
        images,
        skipped_images,
    ))
}

/// The signals of a page already read with [`read_html`](crate::read_html),
/// whole or not: for callers that keep what a page over its limits showed
/// (the monitor) rather than refuse it as [`hash_document`] does.
pub fn hash_html_page(bytes: &[u8], page: &HtmlPage) -> DocumentSignals {
    sketched(
        DocumentFormat::Html,
        ExactDigests::of(bytes),
        &page.text,
        None,
        Vec::new(),
        0,
    )
}

fn sketched(
    format: DocumentFormat,
    exact: ExactDigests,
    text: &str,
    pages: Option<usize>,
    images: Vec<PdfImage>,
    skipped_images: usize,
) -> DocumentSignals {
    let normalized = vigil_signal::text::normalize(text);
    let words = normalized.split(' ').filter(|w| !w.is_empty()).count();
    let sketch = TextSketch::of_normalized(&normalized, QUERY_SAMPLE);
    DocumentSignals {
        format,
        exact,
        text: (!sketch.is_empty()).then_some(sketch),
        words,
        pages,
        images,
        skipped_images,
    }
}
