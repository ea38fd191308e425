//! PDF documents: the text of each page and the images embedded in them.
//!
//! Parsing the file is `lopdf`'s, with its decompression-bomb bound on
//! every stream it inflates and a panic guard around it. Page text is read
//! by Vigil's own single-pass content scanner (`pdf_text`), and all the
//! work of one document (bytes inflated, content operators, content
//! streams named by pages, text, images) is charged to one budget
//! ([`PdfLimits`]), so a small file cannot cost minutes or gigabytes.
//! Text comes in the order of the page's drawing operations; Arabic drawn as shaped glyphs (presentation
//! forms, in visual order) is put back in reading order. Embedded images
//! are decoded from JPEG (`DCTDecode`) or from raw samples (8-bit grey, RGB,
//! CMYK, ICC-based or indexed colour, any lossless filter) and hashed with
//! PDQ; JPEG 2000, fax and JBIG2 images are counted as skipped.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::{Document, LoadOptions, Object};
use vigil_signal::{ExactDigests, Pdq, PdqHasher, PdqMode, RgbView};

use crate::pdf_text::{Budget, TextReader};
use crate::{Error, Limits, decode_image};

/// Bounds on the work and memory one PDF may cost. Each is checked while
/// the document is read; going over one fails with [`Error::PdfLimit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfLimits {
    /// Largest number of pages read.
    pub max_pages: usize,
    /// Largest size any one stream (page content, image, object stream) may
    /// decompress to, in bytes.
    pub max_stream_bytes: usize,
    /// Largest number of embedded images hashed; the rest are skipped.
    pub max_images: usize,
    /// Most bytes decompressed over all the streams Vigil reads (page
    /// contents, image samples), each shared stream counted once; an image
    /// the rest of the budget cannot pay for is skipped, not fatal.
    pub max_inflated_bytes: u64,
    /// Most content operators read over all pages.
    pub max_operators: u64,
    /// Most bytes of text extracted over all pages.
    pub max_text_bytes: u64,
    /// Most content streams named by all pages together (pages × streams:
    /// a page may name one stream a million times).
    pub max_page_streams: u64,
}

impl Default for PdfLimits {
    /// Several times what real documents need, far below what hurts: a
    /// 2,000-page book has ~5 MiB of text, ~20 MiB of content and ~2 million
    /// operators, while 256 MiB inflated and 4 M operators are read
    /// in a second or two and ~300 MiB of memory at worst (one stream at a
    /// time, at most `max_stream_bytes`).
    fn default() -> Self {
        Self {
            max_pages: 2_000,
            max_stream_bytes: 64 << 20,
            max_images: 500,
            max_inflated_bytes: 256 << 20,
            max_operators: 4_000_000,
            max_text_bytes: 32 << 20,
            max_page_streams: 100_000,
        }
    }
}

/// Images smaller than this on either side (icons, rules, spacers) are not
/// hashed: PDQ says nothing useful about them.
pub const MIN_IMAGE_SIDE: u32 = 48;

/// What a PDF holds.
#[derive(Debug, Clone)]
pub struct PdfContent {
    /// The text of each page, in page order (empty for pages with none or
    /// whose text cannot be decoded).
    pub pages: Vec<String>,
    /// Each distinct embedded image that was hashed.
    pub images: Vec<PdfImage>,
    /// Embedded images not hashed: too small, in an unsupported encoding,
    /// undecodable or over the limits.
    pub skipped_images: usize,
}

/// One embedded image and its signals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PdfImage {
    /// The first page (1-based) that shows it.
    pub page: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// PDQ of its pixels.
    pub pdq: Pdq,
    /// Digests of the image's stored bytes — for a JPEG, the file that was
    /// embedded.
    pub exact: ExactDigests,
}

/// Reads the pages and images of the PDF in `bytes`.
pub fn read_pdf(
    bytes: &[u8],
    limits: &PdfLimits,
    image_limits: &Limits,
    pdq_mode: PdqMode,
) -> Result<PdfContent, Error> {
    catch_unwind(AssertUnwindSafe(|| {
        read_pdf_unguarded(bytes, limits, image_limits, pdq_mode)
    }))
    .unwrap_or_else(|_| {
        Err(Error::Pdf(
            "the PDF parser crashed on this input".to_owned(),
        ))
    })
}

fn read_pdf_unguarded(
    bytes: &[u8],
    limits: &PdfLimits,
    image_limits: &Limits,
    pdq_mode: PdqMode,
) -> Result<PdfContent, Error> {
    let options = LoadOptions {
        max_decompressed_size: Some(limits.max_stream_bytes),
        ..LoadOptions::default()
    };
    let document = Document::load_mem_with_options(bytes, options).map_err(|e| match e {
        lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => Error::PdfEncrypted,
        other => pdf_error(&other),
    })?;
    if document.is_encrypted() {
        return Err(Error::PdfEncrypted);
    }
    let pages = document.get_pages();
    if pages.len() > limits.max_pages {
        return Err(Error::PdfLimit(format!(
            "it has {} pages, over the limit of {}",
            pages.len(),
            limits.max_pages
        )));
    }
    let mut content = PdfContent {
        pages: Vec::with_capacity(pages.len()),
        images: Vec::new(),
        skipped_images: 0,
    };
    let hasher = PdqHasher::new(pdq_mode);
    let mut seen = HashSet::new();
    let mut budget = Budget::new(limits);
    let mut reader = TextReader::new(&document);
    for (&number, &page_id) in &pages {
        let text = reader
            .page_text(page_id, &mut budget)
            .map_err(|e| match e {
                Error::PdfLimit(why) => Error::PdfLimit(format!("at page {number}, {why}")),
                other => other,
            })?;
        content.pages.push(reading_order(&text));
        let Ok(images) = document.get_page_images(page_id) else {
            continue;
        };
        for image in images {
            if !seen.insert(image.id) {
                continue;
            }
            if content.images.len() >= limits.max_images {
                content.skipped_images += 1;
                continue;
            }
            match hash_image(&document, &image, &mut budget, image_limits, &hasher)? {
                Some((width, height, pdq)) => content.images.push(PdfImage {
                    page: number,
                    width,
                    height,
                    pdq,
                    exact: ExactDigests::of(image.content),
                }),
                None => content.skipped_images += 1,
            }
        }
    }
    if reader.undecoded > 0 {
        // One line per document, never one per operator: a hostile file can
        // hold millions of undecodable strings.
        tracing::debug!(
            undecoded = reader.undecoded,
            "PDF text drawn without a usable font was skipped"
        );
    }
    Ok(content)
}

fn pdf_error(error: &lopdf::Error) -> Error {
    match error {
        lopdf::Error::Decompress(_) => Error::PdfLimit(format!("a stream is too large: {error}")),
        other => Error::Pdf(other.to_string()),
    }
}

/// Decodes one embedded image and hashes it, `None` to skip it; only the
/// document's budget running out is an error.
fn hash_image(
    document: &Document,
    image: &lopdf::xobject::PdfImage<'_>,
    budget: &mut Budget,
    image_limits: &Limits,
    hasher: &PdqHasher,
) -> Result<Option<(u32, u32, Pdq)>, Error> {
    let Some((width, height, samples)) = image_samples(document, image, budget, image_limits)?
    else {
        return Ok(None);
    };
    Ok(match samples {
        Samples::Jpeg => decode_image(image.content, image_limits)
            .ok()
            .map(|decoded| {
                (
                    decoded.width(),
                    decoded.height(),
                    hasher.hash(&decoded.rgb()),
                )
            }),
        Samples::Rgb(rgb) => RgbView::new(width, height, &rgb)
            .ok()
            .map(|image| (width, height, hasher.hash(&image))),
    })
}

/// How an image's pixels are had.
enum Samples {
    /// The stored bytes are a JPEG file.
    Jpeg,
    /// Decoded RGB samples.
    Rgb(Vec<u8>),
}

fn image_samples(
    document: &Document,
    image: &lopdf::xobject::PdfImage<'_>,
    budget: &mut Budget,
    image_limits: &Limits,
) -> Result<Option<(u32, u32, Samples)>, Error> {
    let Some(checked) = checked_image(document, image, image_limits) else {
        return Ok(None);
    };
    let (width, height, colour) = match checked {
        Checked::Jpeg(width, height) => return Ok(Some((width, height, Samples::Jpeg))),
        Checked::Raw(width, height, colour) => (width, height, colour),
    };
    let pixels = u64::from(width) * u64::from(height);
    let Ok(needed) = usize::try_from(pixels * colour.components()) else {
        return Ok(None);
    };
    let Ok(stream) = document
        .get_object(image.id)
        .and_then(lopdf::Object::as_stream)
    else {
        return Ok(None);
    };
    let Ok(samples) =
        stream.decompressed_content_with_limit(needed.min(budget.max_stream_bytes()).max(1))
    else {
        return Ok(None);
    };
    budget.charge_inflated(samples.len() as u64)?;
    if samples.len() < needed {
        return Ok(None);
    }
    Ok(Some((
        width,
        height,
        Samples::Rgb(colour.to_rgb(&samples[..needed])),
    )))
}

/// An image worth decoding, by how.
enum Checked {
    Jpeg(u32, u32),
    Raw(u32, u32, ColourSpace),
}

/// Whether an image is worth decoding (size, encoding, colour space).
fn checked_image(
    document: &Document,
    image: &lopdf::xobject::PdfImage<'_>,
    image_limits: &Limits,
) -> Option<Checked> {
    let width = u32::try_from(image.width).ok()?;
    let height = u32::try_from(image.height).ok()?;
    if width < MIN_IMAGE_SIDE || height < MIN_IMAGE_SIDE {
        return None;
    }
    if width > image_limits.max_side
        || height > image_limits.max_side
        || u64::from(width) * u64::from(height) > image_limits.max_pixels
    {
        return None;
    }
    let filters = image.filters.clone().unwrap_or_default();
    if filters.iter().any(|f| f == "DCTDecode") {
        // A JPEG file as stored; other filters before it are not expected.
        return (filters.len() == 1).then_some(Checked::Jpeg(width, height));
    }
    if filters
        .iter()
        .any(|f| matches!(f.as_str(), "JPXDecode" | "CCITTFaxDecode" | "JBIG2Decode"))
    {
        return None;
    }
    if image.bits_per_component != Some(8) {
        return None;
    }
    let colour = ColourSpace::of(document, image.origin_dict.get(b"ColorSpace").ok()?)?;
    Some(Checked::Raw(width, height, colour))
}

/// The colour spaces of raw image samples that are decoded.
enum ColourSpace {
    Gray,
    Rgb,
    Cmyk,
    /// A palette of RGB entries.
    Indexed(Vec<[u8; 3]>),
}

impl ColourSpace {
    fn of(document: &Document, object: &Object) -> Option<Self> {
        let object = resolve(document, object)?;
        match object {
            Object::Name(name) => match name.as_slice() {
                b"DeviceGray" | b"CalGray" | b"G" => Some(Self::Gray),
                b"DeviceRGB" | b"CalRGB" | b"RGB" => Some(Self::Rgb),
                b"DeviceCMYK" | b"CMYK" => Some(Self::Cmyk),
                _ => None,
            },
            Object::Array(array) => match array.first()?.as_name().ok()? {
                b"ICCBased" => {
                    let profile = resolve(document, array.get(1)?)?.as_stream().ok()?;
                    match profile.dict.get(b"N").ok()?.as_i64().ok()? {
                        1 => Some(Self::Gray),
                        3 => Some(Self::Rgb),
                        4 => Some(Self::Cmyk),
                        _ => None,
                    }
                }
                b"CalRGB" => Some(Self::Rgb),
                b"CalGray" => Some(Self::Gray),
                b"Indexed" | b"I" => {
                    let base = Self::of(document, array.get(1)?)?;
                    let table = match resolve(document, array.get(3)?)? {
                        Object::String(bytes, _) => bytes.clone(),
                        Object::Stream(stream) => {
                            stream.decompressed_content_with_limit(256 * 4).ok()?
                        }
                        _ => return None,
                    };
                    let per = base.components() as usize;
                    let palette = table
                        .chunks_exact(per)
                        .map(|entry| base.pixel(entry))
                        .collect();
                    Some(Self::Indexed(palette))
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn components(&self) -> u64 {
        match self {
            Self::Gray | Self::Indexed(_) => 1,
            Self::Rgb => 3,
            Self::Cmyk => 4,
        }
    }

    fn pixel(&self, sample: &[u8]) -> [u8; 3] {
        match (self, sample) {
            (Self::Gray, [g, ..]) => [*g, *g, *g],
            (Self::Rgb, [r, g, b, ..]) => [*r, *g, *b],
            (Self::Cmyk, [c, m, y, k, ..]) => {
                let channel = |v: u8| ((255 - u16::from(v)) * (255 - u16::from(*k)) / 255) as u8;
                [channel(*c), channel(*m), channel(*y)]
            }
            (Self::Indexed(palette), [i, ..]) => {
                palette.get(usize::from(*i)).copied().unwrap_or([0; 3])
            }
            _ => [0; 3],
        }
    }

    fn to_rgb(&self, samples: &[u8]) -> Vec<u8> {
        samples
            .chunks_exact(self.components() as usize)
            .flat_map(|sample| self.pixel(sample))
            .collect()
    }
}

fn resolve<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => document.get_object(*id).ok(),
        other => Some(other),
    }
}

/// Puts lines drawn as shaped Arabic glyphs back in reading order.
///
/// A PDF made from shaped text stores Arabic as presentation forms
/// (U+FB50–U+FDFF, U+FE70–U+FEFF) left to right as drawn, so a line reads
/// backwards. Such a line is reversed, then each run of left-to-right text
/// inside it (Latin words, numbers, with the spaces between them) is
/// reversed back. Lines without presentation forms are kept as they are.
pub fn reading_order(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.chars().any(is_presentation_form) {
            out.push_str(&visual_to_logical(line));
        } else {
            out.push_str(line);
        }
    }
    out
}

fn is_presentation_form(c: char) -> bool {
    matches!(c, '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

fn is_left_to_right(c: char) -> bool {
    c.is_alphanumeric()
        && !matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

fn visual_to_logical(line: &str) -> String {
    let mut chars: Vec<char> = line.chars().rev().collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_left_to_right(chars[i]) {
            i += 1;
            continue;
        }
        // Extend the run over spaces and punctuation that lead to more
        // left-to-right text.
        let mut end = i + 1;
        let mut j = i + 1;
        while j < chars.len() {
            if is_left_to_right(chars[j]) {
                end = j + 1;
            } else if !(chars[j].is_whitespace() || chars[j].is_ascii_punctuation()) {
                break;
            }
            j += 1;
        }
        chars[i..end].reverse();
        i = end;
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::reading_order;

    #[test]
    fn shaped_arabic_lines_are_put_in_reading_order() {
        // "بيان رقم" drawn as presentation forms, stored left to right.
        let logical = "\u{FE91}\u{FEF4}\u{FE8E}\u{FEE5} \u{FEAD}\u{FECB}\u{FEE2}";
        let visual: String = logical.chars().rev().collect();
        assert_eq!(reading_order(&visual), logical);
        // Latin words and numbers inside stay left to right, in order.
        let (first, last) = ("\u{FE91}\u{FEF4}", "\u{FEAD}\u{FECB}");
        let reversed = |s: &str| s.chars().rev().collect::<String>();
        let visual = format!("{} Example Group 12 {}", reversed(last), reversed(first));
        assert_eq!(
            reading_order(&visual),
            format!("{first} Example Group 12 {last}")
        );
        // Lines of base letters (already logical) and Latin lines are kept.
        assert_eq!(
            reading_order("بيان رقم\nplain line"),
            "بيان رقم\nplain line"
        );
    }
}
