//! Text files, web pages and PDFs in `vigil hash`, `vigil bank add` and
//! `vigil match`: their output line, and the items they bank (the document,
//! and each embedded image of a PDF as an item of its own).

use serde::Serialize;
use vigil_media::{DocumentSignals, Hashed};
use vigil_signal::text::BANK_SAMPLE;
use vigil_signal::{Md5, PdqHash, Sha256};

use super::hash::{FilePart, FileSignals};

/// `vigil hash`'s line for a document.
#[derive(Debug, Serialize)]
pub(crate) struct DocumentHashed {
    media: &'static str,
    format: &'static str,
    bytes: u64,
    md5: Md5,
    sha256: Sha256,
    /// The compact sketch, as banked and shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    words: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pages: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<ImageLine>,
    #[serde(skip_serializing_if = "is_zero")]
    skipped_images: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One embedded image of a PDF.
#[derive(Debug, Serialize)]
struct ImageLine {
    page: u32,
    width: u32,
    height: u32,
    pdq: PdqHash,
    pdq_quality: u8,
    md5: Md5,
    sha256: Sha256,
}

impl DocumentHashed {
    pub(crate) fn new(len: u64, document: &DocumentSignals) -> Self {
        Self {
            media: media(document),
            format: document.format.name(),
            bytes: len,
            md5: document.exact.md5,
            sha256: document.exact.sha256,
            text: document
                .text
                .as_ref()
                .map(|sketch| sketch.truncated(BANK_SAMPLE).to_string()),
            words: document.words,
            pages: document.pages,
            images: document
                .images
                .iter()
                .map(|image| ImageLine {
                    page: image.page,
                    width: image.width,
                    height: image.height,
                    pdq: image.pdq.hash,
                    pdq_quality: image.pdq.quality,
                    md5: image.exact.md5,
                    sha256: image.exact.sha256,
                })
                .collect(),
            skipped_images: document.skipped_images,
        }
    }
}

/// HMA's content type of a document: `pdf` or `text`.
fn media(document: &DocumentSignals) -> &'static str {
    match document.format {
        vigil_media::DocumentFormat::Pdf => "pdf",
        _ => "text",
    }
}

/// The items to bank or look up for a document: the document itself, and
/// each embedded image of a PDF.
pub(crate) fn document_file_signals(document: DocumentSignals) -> Result<FileSignals, String> {
    let parts = document
        .images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            Ok(FilePart {
                label: format!("page {} image {}", image.page, i + 1),
                signals: vigil_store::Signals::from_values(vigil_media::image_signals(image))
                    .map_err(|e| e.to_string())?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(FileSignals {
        media: media(&document),
        signals: vigil_store::Signals::from_values(Hashed::Document(document).signals())
            .map_err(|e| e.to_string())?,
        pdq_quality: None,
        query_variants: Vec::new(),
        parts,
    })
}
