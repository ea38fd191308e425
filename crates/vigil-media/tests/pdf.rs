//! PDFs built here with lopdf: text per page, embedded JPEG and raw images
//! hashed as the same pictures are on their own, and hostile PDFs
//! (malformed, encrypted, decompression bombs, too many pages) refused with
//! a clear error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use lopdf::{Document, Object, Stream, dictionary};
use proptest::prelude::*;
use vigil_media::{
    DocumentFormat, Error, HashOptions, Limits, PdfLimits, hash_document, hash_media, read_pdf,
};
use vigil_signal::{ExactDigests, PdqHasher, PdqMode, RgbView};

const PAGE_ONE: &str =
    "The regional office confirmed on Tuesday that the new water plant will open";
const PAGE_TWO: &str = "in the spring after two years of building work and a long dispute";

fn jpeg_vector() -> Vec<u8> {
    std::fs::read(vigil_testkit::pdq_vectors().join("bridge-mods/aaa-orig.jpg")).unwrap()
}

/// A 96×80 RGB gradient.
fn gradient() -> (u32, u32, Vec<u8>) {
    let (w, h) = (96u32, 80u32);
    let pixels = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [(x * 2) as u8, (y * 3) as u8, ((x + y) % 256) as u8]
        })
        .collect();
    (w, h, pixels)
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Pages with one line of Helvetica text each; images on the last page.
fn build_pdf(pages: &[&str], images: &[Stream], extra_content: Option<Stream>) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let image_ids: Vec<_> = images.iter().map(|s| doc.add_object(s.clone())).collect();
    let mut kids = Vec::new();
    for (i, text) in pages.iter().enumerate() {
        let last = i + 1 == pages.len();
        let mut content = format!("BT /F1 12 Tf 40 700 Td ({text}) Tj ET\n");
        let mut xobjects = lopdf::Dictionary::new();
        if last {
            for (n, id) in image_ids.iter().enumerate() {
                content.push_str(&format!(
                    "q 100 0 0 100 40 {} cm /Im{n} Do Q\n",
                    100 + n * 120
                ));
                xobjects.set(format!("Im{n}"), *id);
            }
        }
        let content_id = match (&extra_content, last) {
            (Some(stream), true) => doc.add_object(stream.clone()),
            _ => doc.add_object(Stream::new(dictionary! {}, content.into_bytes())),
        };
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Resources" => dictionary! {
                "Font" => dictionary! { "F1" => font_id },
                "XObject" => xobjects,
            },
        });
        kids.push(Object::from(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

fn jpeg_image(jpeg: &[u8], width: i64, height: i64) -> Stream {
    Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        jpeg.to_vec(),
    )
}

fn raw_image(width: u32, height: u32, pixels: &[u8]) -> Stream {
    Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => i64::from(width),
            "Height" => i64::from(height), "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
            "Filter" => "FlateDecode",
        },
        compress(pixels),
    )
}

fn read(bytes: &[u8]) -> Result<vigil_media::PdfContent, Error> {
    read_pdf(
        bytes,
        &PdfLimits::default(),
        &Limits::default(),
        PdqMode::default(),
    )
}

#[test]
fn text_per_page_and_every_embedded_image() {
    let jpeg = jpeg_vector();
    let decoded = image::load_from_memory(&jpeg).unwrap();
    let (w, h, pixels) = gradient();
    let pdf = build_pdf(
        &[PAGE_ONE, PAGE_TWO],
        &[
            jpeg_image(&jpeg, decoded.width().into(), decoded.height().into()),
            raw_image(w, h, &pixels),
        ],
        None,
    );
    let content = read(&pdf).unwrap();
    assert_eq!(content.pages.len(), 2);
    assert_eq!(
        content.pages[0].split_whitespace().collect::<Vec<_>>(),
        PAGE_ONE.split_whitespace().collect::<Vec<_>>()
    );
    assert_eq!(
        content.pages[1].split_whitespace().collect::<Vec<_>>(),
        PAGE_TWO.split_whitespace().collect::<Vec<_>>()
    );
    assert_eq!((content.images.len(), content.skipped_images), (2, 0));

    // The embedded JPEG is the vector file: same digests, same PDQ.
    let alone = hash_media(&jpeg, &HashOptions::default()).unwrap();
    let first = &content.images[0];
    assert_eq!(
        (first.page, first.width, first.height),
        (2, alone.image.width, alone.image.height)
    );
    assert_eq!(first.pdq, alone.pdq);
    assert_eq!(first.exact, ExactDigests::of(&jpeg));
    // The raw image hashes as its pixels do.
    let raw = &content.images[1];
    let expected = PdqHasher::new(PdqMode::default()).hash(&RgbView::new(w, h, &pixels).unwrap());
    assert_eq!((raw.width, raw.height, raw.pdq), (w, h, expected));
}

#[test]
fn a_pdf_yields_digests_text_and_images() {
    let (w, h, pixels) = gradient();
    let pdf = build_pdf(&[PAGE_ONE, PAGE_TWO], &[raw_image(w, h, &pixels)], None);
    let signals = hash_document(&pdf, &HashOptions::default()).unwrap();
    assert_eq!(signals.format, DocumentFormat::Pdf);
    assert_eq!(signals.exact, ExactDigests::of(&pdf));
    assert_eq!(signals.pages, Some(2));
    assert_eq!(signals.images.len(), 1);
    // The document's text sketch contains both pages' text.
    let statement = format!("{PAGE_ONE} {PAGE_TWO}");
    let sketch = vigil_signal::TextSketch::of_text(&statement, 64);
    let found = sketch
        .containment_in(signals.text.as_ref().unwrap())
        .unwrap();
    assert!(found.containment > 0.9, "{found:?}");
}

#[test]
fn tiny_and_unsupported_images_are_skipped_not_fatal() {
    let (w, h, pixels) = gradient();
    let icon: Vec<u8> = vec![128; 16 * 16 * 3];
    let mut jpx = raw_image(w, h, &pixels);
    jpx.dict.set("Filter", "JPXDecode");
    let pdf = build_pdf(
        &[PAGE_ONE],
        &[raw_image(16, 16, &icon), jpx, raw_image(w, h, &pixels)],
        None,
    );
    let content = read(&pdf).unwrap();
    assert_eq!((content.images.len(), content.skipped_images), (1, 2));
}

#[test]
fn malformed_pdfs_are_refused_with_a_reason() {
    let pdf = build_pdf(&[PAGE_ONE], &[], None);
    for bad in [
        b"%PDF-1.7\nnot really a pdf at all".to_vec(),
        pdf[..pdf.len() / 3].to_vec(),
        b"%PDF-".to_vec(),
    ] {
        match read(&bad) {
            Err(Error::Pdf(message)) => assert!(!message.is_empty()),
            // Lenient parsing may recover an empty document from a fragment.
            Ok(content) => {
                assert!(content.pages.iter().all(String::is_empty) && content.images.is_empty());
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }
}

#[test]
fn a_decompression_bomb_is_refused_within_the_limit() {
    // 256 MiB of spaces in a content stream of a few hundred kilobytes.
    let bomb = Stream::new(
        dictionary! { "Filter" => "FlateDecode" },
        compress(&vec![b' '; 256 << 20]),
    );
    let pdf = build_pdf(&[PAGE_ONE], &[], Some(bomb));
    assert!(pdf.len() < 2 << 20);
    let limits = PdfLimits {
        max_stream_bytes: 8 << 20,
        ..PdfLimits::default()
    };
    let error = read_pdf(&pdf, &limits, &Limits::default(), PdqMode::default()).unwrap_err();
    assert!(matches!(error, Error::PdfLimit(_)), "{error}");
    assert!(error.to_string().contains("page 1"), "{error}");
}

#[test]
fn too_many_pages_are_refused() {
    let pages: Vec<&str> = vec!["page"; 12];
    let pdf = build_pdf(&pages, &[], None);
    let limits = PdfLimits {
        max_pages: 10,
        ..PdfLimits::default()
    };
    let error = read_pdf(&pdf, &limits, &Limits::default(), PdqMode::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the PDF is over a limit: it has 12 pages, over the limit of 10"
    );
}

#[test]
fn a_password_protected_pdf_is_refused_as_encrypted() {
    let pdf = build_pdf(&[PAGE_ONE], &[], None);
    let mut doc = Document::load_mem(&pdf).unwrap();
    // The standard security handler, revision 2, with a user password that
    // is not empty: the checksum in /U is not the empty password's.
    let encrypt = doc.add_object(dictionary! {
        "Filter" => "Standard", "V" => 1, "R" => 2, "Length" => 40, "P" => -4,
        "O" => Object::string_literal(vec![7u8; 32]),
        "U" => Object::string_literal(vec![9u8; 32]),
    });
    doc.trailer.set("Encrypt", encrypt);
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal(vec![1u8; 16]),
            Object::string_literal(vec![1u8; 16]),
        ],
    );
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    let error = read(&bytes).unwrap_err();
    assert!(matches!(error, Error::PdfEncrypted), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Damaged PDFs give a value or an error, never a panic or a hang.
    #[test]
    fn damaged_pdfs_never_crash(
        cuts in prop::collection::vec((0usize..4000, any::<u8>()), 1..20),
        truncate in 0usize..4000,
    ) {
        let (w, h, pixels) = gradient();
        let mut pdf = build_pdf(&[PAGE_ONE, PAGE_TWO], &[raw_image(w, h, &pixels)], None);
        for (at, byte) in cuts {
            let at = at % pdf.len();
            pdf[at] = byte;
        }
        pdf.truncate(pdf.len() - truncate % pdf.len());
        let _ = hash_document(&pdf, &HashOptions::default());
    }

    /// Any HTML gives visible text without panicking.
    #[test]
    fn arbitrary_html_never_crashes(body in "(<[a-z]{1,6}( hidden)?>|</[a-z]{1,6}>|[a-zA-Z ]{0,8}|&[a-z]{2,5};){0,60}") {
        let page = format!("<!doctype html><html><body>{body}</body></html>");
        let _ = vigil_media::html_visible_text(page.as_bytes());
    }
}

/// A PDF drawn as many producers draw Arabic — shaped presentation forms in
/// visual order, made by `scripts/make-arabic-pdf-fixture.py` — reads back
/// to text that normalises as the logical sentences do.
#[test]
fn shaped_arabic_reads_back_in_reading_order() {
    let pdf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/arabic-shaped.pdf"
    ))
    .unwrap();
    let content = read(&pdf).unwrap();
    let lines = [
        "أعلنت الإدارة المحلية يوم الثلاثاء أن محطة المياه الجديدة ستفتح في الربيع",
        "وقال المهندس إن Water Plant رقم 12 سيخدم المدينة",
    ];
    let read_back = vigil_signal::text::normalize(&content.pages.join("\n"));
    assert_eq!(read_back, vigil_signal::text::normalize(&lines.join("\n")));
}
