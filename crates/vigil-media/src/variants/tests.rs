#![allow(clippy::unwrap_used, clippy::expect_used)]

use image::{Rgb, RgbImage};
use vigil_signal::{PdqHasher, PdqMode};

use super::*;

/// A textured picture (smooth waves at a few frequencies), different for
/// each `seed`.
fn picture(width: u32, height: u32, seed: u32) -> RgbImage {
    let s = seed as f32;
    RgbImage::from_fn(width, height, |x, y| {
        let (u, v) = (x as f32 / width as f32, y as f32 / height as f32);
        let wave = (u * (5.0 + s) + (v * (3.0 + s * 0.7)).sin() * 2.0).sin()
            + (v * (7.0 + s * 1.3) - u * 2.0).cos()
            + ((u + v) * (11.0 + s * 0.5)).sin() * 0.5;
        let level = (128.0 + wave * 48.0).clamp(0.0, 255.0) as u8;
        Rgb([level, level.wrapping_add(40), 255 - level])
    })
}

fn hasher() -> PdqHasher {
    PdqHasher::new(PdqMode::FullResolution)
}

fn plain(image: &RgbImage) -> PdqHash {
    hash(image, hasher()).hash
}

#[test]
fn pixel_symmetries_follow_the_reference_dihedral_order() {
    // On a square image the one-DCT dihedral hashes are near the hashes of
    // the turned pixels, so each turned copy's nearest DCT variant names
    // the symmetry it is.
    let image = picture(256, 256, 1);
    let rgb = vigil_signal::RgbView::new(256, 256, image.as_raw()).unwrap();
    let (dihedral, _) = hasher().hash_dihedral(&rgb);
    let derived = dihedral.to_array();
    for (k, turned) in symmetries(&image).iter().enumerate() {
        let exact = plain(turned);
        let nearest = (0..8).min_by_key(|&i| derived[i].distance(&exact)).unwrap();
        assert_eq!(nearest, k, "symmetry {k}");
    }
}

#[test]
fn dihedral_defence_finds_a_rotated_non_square_copy_exactly() {
    let image = picture(300, 200, 2);
    let turned = imageops::rotate90(&image);
    let defended = query_variants(&turned, Defences::parse("dihedral").unwrap(), hasher());
    assert_eq!(defended.len(), 8);
    let original = plain(&image);
    let found = nearest_pairing(&defended, Some(&original), &[], 31).unwrap();
    assert_eq!(found.distance, 0, "turning back the pixels is exact");
    assert_eq!(found.query.name(), "rot90");
    assert_eq!(found.banked, Variant::Original);
    let undefended = query_variants(&turned, Defences::NONE, hasher());
    assert!(nearest_pairing(&undefended, Some(&original), &[], 31).is_none());
}

/// `image` centred on a canvas with `side` pixels of `fill` on the left and
/// right and `top` pixels above and below.
fn framed(image: &RgbImage, side: u32, top: u32, fill: [u8; 3]) -> RgbImage {
    let (w, h) = image.dimensions();
    let mut canvas = RgbImage::from_pixel(w + 2 * side, h + 2 * top, Rgb(fill));
    imageops::replace(&mut canvas, image, i64::from(side), i64::from(top));
    canvas
}

#[test]
fn trimming_removes_borders_and_letterbox_bars() {
    let image = picture(200, 150, 3);
    assert_eq!(
        trimmed(&framed(&image, 20, 15, [255, 255, 255])),
        Some(image.clone())
    );
    assert_eq!(
        trimmed(&framed(&image, 0, 40, [0, 0, 0])),
        Some(image.clone())
    );
    // Slightly noisy bars, as a JPEG leaves them, still go.
    let mut noisy = framed(&image, 0, 30, [0, 0, 0]);
    for (x, y, p) in noisy.enumerate_pixels_mut() {
        if y < 30 && (x + y) % 7 == 0 {
            *p = Rgb([12, 9, 15]);
        }
    }
    assert_eq!(trimmed(&noisy), Some(image.clone()));
}

#[test]
fn trimming_leaves_unframed_and_blank_images_alone() {
    assert_eq!(trimmed(&picture(200, 150, 4)), None);
    assert_eq!(
        trimmed(&RgbImage::from_pixel(200, 150, Rgb([30, 30, 30]))),
        None
    );
    assert_eq!(trimmed(&RgbImage::from_pixel(4, 4, Rgb([0, 0, 0]))), None);
    // A thin picture on a vast canvas is not trimmed to a sliver.
    let sliver = framed(&picture(20, 150, 5), 200, 0, [255, 255, 255]);
    assert_eq!(trimmed(&sliver), None);
}

#[test]
fn bank_crops_catch_a_centre_crop_and_corner_regions_catch_an_overlay() {
    let image = picture(400, 300, 6);
    let original = plain(&image);
    let banked = bank_variants(&image, hasher());
    assert_eq!(
        banked.len(),
        10,
        "every crop of a textured picture is usable"
    );

    let cropped = centre_crop(&image, 80);
    let query = query_variants(&cropped, Defences::NONE, hasher());
    assert!(nearest_pairing(&query, Some(&original), &[], 31).is_none());
    let found = nearest_pairing(&query, Some(&original), &banked, 31).unwrap();
    assert_eq!(
        (found.distance, found.query, found.banked),
        (0, Variant::Original, Variant::Centre(80))
    );

    let mut logo = image.clone();
    for y in 180..300 {
        for x in 240..400 {
            logo.put_pixel(x, y, Rgb([(x * 7 % 256) as u8, 20, 20]));
        }
    }
    let query = query_variants(&logo, Defences::parse("crops").unwrap(), hasher());
    assert_eq!(query.len(), 5);
    let found = nearest_pairing(&query, Some(&original), &banked, 31).unwrap();
    assert_eq!(found.distance, 0, "two clean corners match exactly");
    assert!(matches!(found.query, Variant::Corner(_, OVERLAY_KEEP)));
    assert_eq!(found.banked, found.query);
}

#[test]
fn one_matching_corner_is_not_enough() {
    let banked = bank_variants(&picture(400, 300, 7), hasher());
    let mut query = query_variants(&picture(400, 300, 8), Defences::ALL, hasher());
    let top_left = banked
        .iter()
        .find(|b| b.variant == Variant::Corner(Corner::TopLeft, OVERLAY_KEEP))
        .unwrap();
    for q in &mut query {
        if q.variant == top_left.variant {
            q.pdq = top_left.pdq;
        }
    }
    let unrelated = plain(&picture(400, 300, 9));
    let found = nearest_pairing(&query, Some(&unrelated), &banked, 31);
    assert!(
        found.is_none_or(|f| f.query.pairing() == Pairing::Whole),
        "{found:?}"
    );
}

#[test]
fn names_round_trip_and_defences_parse() {
    let mut variants = vec![Variant::Original, Variant::Trimmed];
    variants.extend((1..8).map(Variant::Symmetry));
    variants.extend(CROP_KEEPS.map(Variant::Centre));
    variants.extend(CORNERS.map(|c| Variant::Corner(c, 90)));
    for variant in variants {
        assert_eq!(Variant::parse(&variant.name()), Some(variant));
    }
    assert_eq!(Variant::parse("c0"), None);
    assert_eq!(Variant::parse("zz60"), None);
    assert_eq!(Defences::parse("all").unwrap(), Defences::ALL);
    assert_eq!(Defences::parse("").unwrap(), Defences::NONE);
    assert_eq!(
        Defences::parse("trim, crops").unwrap(),
        Defences {
            dihedral: false,
            trim: true,
            crops: true
        }
    );
    let err = Defences::parse("dihedral,blur").unwrap_err();
    assert!(err.to_string().contains("\"blur\""), "{err}");
}

#[test]
fn banked_variants_round_trip_through_their_stored_form() {
    let banked = bank_variants(&picture(320, 240, 10), hasher());
    let stored = VariantHash::format_list(&banked);
    assert_eq!(VariantHash::parse_list(&stored), Some(banked));
    for bad in [
        "",
        "c90",
        "c90:zz:50",
        "nope:0000000000000000000000000000000000000000000000000000000000000000:50",
        "c90:0000000000000000000000000000000000000000000000000000000000000000:101",
        "c90:0000000000000000000000000000000000000000000000000000000000000000:5:x",
    ] {
        assert_eq!(VariantHash::parse_list(bad), None, "{bad:?}");
    }
}

#[test]
fn a_frame_around_a_picture_with_margins_trims_to_what_the_picture_trims_to() {
    // A picture on white margins, then letterboxed in black: the first pass
    // takes the bars, the next the white margins.
    let page = framed(&picture(160, 120, 11), 30, 20, [255, 255, 255]);
    let bars = framed(&page, 0, 50, [0, 0, 0]);
    let alone = trimmed(&page).unwrap();
    assert_eq!(alone, picture(160, 120, 11));
    assert_eq!(trimmed(&bars), Some(alone));
}
