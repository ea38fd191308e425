//! Hostile and broken input: every case is a clear, typed error (or a
//! bounded success), never a panic or an unbounded allocation.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

use std::io::Cursor;

use image::{ImageFormat, RgbImage};
use proptest::prelude::*;
use vigil_media::{Error, Limits, decode_image};

fn sample_image() -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(RgbImage::from_fn(40, 30, |x, y| {
        image::Rgb([(x * 6) as u8, (y * 8) as u8, ((x + y) * 3) as u8])
    }))
}

fn encode(format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    sample_image()
        .write_to(&mut out, format)
        .expect("encoding a small image");
    out.into_inner()
}

#[test]
fn empty_input() {
    assert!(matches!(
        decode_image(&[], &Limits::default()),
        Err(Error::Empty)
    ));
}

#[test]
fn random_bytes_are_unknown_and_text_is_not_an_image() {
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let err = decode_image(&noise, &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::UnknownFormat { .. }), "{err}");
    // Text is a document: not decoded as an image, hashed by hash_document.
    let err = decode_image(b"just a statement, not an image\n", &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "text files (text) are recognised but not hashed by this version"
    );
}

#[test]
fn other_media_kinds_are_named() {
    let err = decode_image(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "pdf files (pdf) are recognised but not hashed by this version"
    );
    let err = decode_image(b"\0\0\0\x20ftypisom\0\0\x02\0", &Limits::default()).unwrap_err();
    assert_eq!(err.code(), "unsupported_kind");
}

#[test]
fn truncated_jpeg_is_an_error() {
    let jpeg = encode(ImageFormat::Jpeg);
    for cut in [jpeg.len() / 2, jpeg.len() - 2, 200] {
        let err = decode_image(&jpeg[..cut], &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "cut at {cut}: {err}");
    }
    // The reference photo, cut mid-scan.
    let photo = std::fs::read(vigil_testkit::pdq_vectors().join("bridge-mods/aaa-orig.jpg"))
        .expect("readable");
    let err = decode_image(&photo[..photo.len() * 2 / 3], &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn truncated_png_is_an_error() {
    let png = encode(ImageFormat::Png);
    for cut in [png.len() / 2, png.len() - 13, 40] {
        let err = decode_image(&png[..cut], &Limits::default()).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "cut at {cut}: {err}");
    }
}

#[test]
fn absurd_declared_size_is_refused_before_allocation() {
    let err = decode_image(
        &vigil_testkit::png_declaring(100_000, 100_000),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ImageTooLarge {
                width: 100_000,
                height: 100_000,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the png image declares 100000x100000 pixels, over the limit of 32768 pixels per side"
    );
    // Within the per-side limit but over the pixel budget.
    let err = decode_image(
        &vigil_testkit::png_declaring(20_000, 20_000),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("50000000 pixels"), "{err}");
    // A GIF whose logical screen is 65535×65535.
    let mut gif = b"GIF89a\xff\xff\xff\xff\x00\x00\x00".to_vec();
    gif.extend(b",\0\0\0\0\xff\xff\xff\xff\x00\x02\x02\x44\x01\x00;");
    let err = decode_image(&gif, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, Error::ImageTooLarge { .. } | Error::Decode { .. }),
        "{err}"
    );
}

#[test]
fn limits_are_configurable() {
    let png = encode(ImageFormat::Png);
    let tight = Limits {
        max_pixels: 100,
        ..Limits::default()
    };
    assert!(matches!(
        decode_image(&png, &tight),
        Err(Error::ImageTooLarge {
            width: 40,
            height: 30,
            ..
        })
    ));
    let tiny_file = Limits {
        max_file_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        decode_image(&png, &tiny_file),
        Err(Error::FileTooLarge { limit: 10, .. })
    ));
}

#[test]
fn gif_with_ten_thousand_frames_decodes_only_the_first() {
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        let frames = (0..10_000u32).map(|i| {
            let buffer =
                image::RgbaImage::from_pixel(16, 16, image::Rgba([(i % 256) as u8, 0, 0, 255]));
            image::Frame::new(buffer)
        });
        encoder.encode_frames(frames).expect("encoding frames");
    }
    let started = std::time::Instant::now();
    let decoded = decode_image(&gif, &Limits::default()).expect("first frame decodes");
    assert_eq!((decoded.width(), decoded.height()), (16, 16));
    assert_eq!(&decoded.pixels()[..3], &[0, 0, 0]);
    // Behavioural bound, not a benchmark: all 10,000 frames would take far longer.
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn every_supported_format_decodes() {
    for format in [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Gif,
        ImageFormat::WebP,
        ImageFormat::Tiff,
        ImageFormat::Bmp,
    ] {
        let decoded = decode_image(&encode(format), &Limits::default())
            .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!((decoded.width(), decoded.height()), (40, 30), "{format:?}");
        assert_eq!(decoded.pixels().len(), 40 * 30 * 3);
    }
}

#[test]
fn sixteen_bit_png_is_reduced_to_eight_bits() {
    let image = image::DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(8, 8, |x, _| {
        image::Rgb([x as u16 * 8000, 65535, 0])
    }));
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .expect("encoding 16-bit PNG");
    let decoded = decode_image(out.get_ref(), &Limits::default()).expect("decodes");
    assert_eq!(&decoded.pixels()[..3], &[0, 255, 0]);
    assert_eq!(decoded.pixels()[3], (8000.0f64 / 257.0).round() as u8);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Mutated images of every format: decoding returns a value or an error,
    /// never panics out, and never returns a buffer of the wrong size.
    #[test]
    fn mutated_images_never_panic(
        format_index in 0usize..6,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
        do_cut: bool,
    ) {
        let format = [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif, ImageFormat::WebP, ImageFormat::Tiff, ImageFormat::Bmp][format_index];
        let mut bytes = encode(format);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if do_cut {
            bytes.truncate(cut.index(bytes.len()) + 1);
        }
        if let Ok(decoded) = decode_image(&bytes, &Limits::default()) {
            prop_assert_eq!(decoded.pixels().len() as u64, u64::from(decoded.width()) * u64::from(decoded.height()) * 3);
        }
    }
}
