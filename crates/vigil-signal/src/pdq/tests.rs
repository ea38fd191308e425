use super::*;

/// A deterministic, textured test picture (smooth shapes plus stripes).
fn picture(width: u32, height: u32) -> Vec<u8> {
    picture_with(width, height, true)
}

fn picture_with(width: u32, height: u32, stripes: bool) -> Vec<u8> {
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
            let r = 128.0 + 100.0 * (fx * 9.0).sin() * (fy * 4.0).cos();
            let g = 255.0 * fx * fy;
            let b = if stripes && (x / 7 + y / 5) % 3 == 0 {
                220.0
            } else {
                40.0 + 150.0 * fy
            };
            pixels.extend([r as u8, g as u8, b as u8]);
        }
    }
    pixels
}

/// Rotates packed RGB pixels 90° counter-clockwise.
fn rotate_90_ccw(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let mut out = vec![0u8; pixels.len()];
    for y in 0..h {
        for x in 0..w {
            // Source (x, y) lands at column y, row w - 1 - x in an h×w image.
            let (nx, ny) = (y, w - 1 - x);
            let dst = (ny * h + nx) * 3;
            out[dst..dst + 3].copy_from_slice(&pixels[(y * w + x) * 3..(y * w + x) * 3 + 3]);
        }
    }
    out
}

#[test]
fn sides_under_five_give_zero_hash_and_quality() {
    let pixels = picture(4, 100);
    let image = RgbView::new(4, 100, &pixels).unwrap();
    for mode in [PdqMode::FullResolution, PdqMode::ReferenceCli] {
        let pdq = PdqHasher::new(mode).hash(&image);
        assert_eq!(
            pdq,
            Pdq {
                hash: PdqHash::ZERO,
                quality: 0
            }
        );
        let (dihedral, quality) = PdqHasher::new(mode).hash_dihedral(&image);
        assert_eq!(quality, 0);
        assert!(dihedral.to_array().iter().all(|h| *h == PdqHash::ZERO));
    }
}

#[test]
fn buffer_size_is_checked() {
    let err = RgbView::new(10, 10, &[0; 299]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "buffer of 299 elements does not fit a 10x10 image (300 expected)"
    );
    assert!(PdqHasher::hash_luma(8, 8, &[0.0; 63]).is_err());
}

#[test]
fn dihedral_original_equals_plain_hash() {
    let pixels = picture(300, 200);
    let image = RgbView::new(300, 200, &pixels).unwrap();
    for mode in [PdqMode::FullResolution, PdqMode::ReferenceCli] {
        let hasher = PdqHasher::new(mode);
        let (dihedral, quality) = hasher.hash_dihedral(&image);
        let plain = hasher.hash(&image);
        assert_eq!(dihedral.original, plain.hash);
        assert_eq!(quality, plain.quality);
        assert!(quality >= 50, "textured picture has quality {quality}");
    }
}

#[test]
fn dihedral_rotation_predicts_hash_of_rotated_pixels() {
    // Square, so the box filter windows are the same on both axes, and
    // smooth, so the off-centre sampling grid barely matters.
    let pixels = picture_with(256, 256, false);
    let rotated = rotate_90_ccw(256, 256, &pixels);
    let hasher = PdqHasher::default();
    let (dihedral, _) = hasher.hash_dihedral(&RgbView::new(256, 256, &pixels).unwrap());
    let direct = hasher.hash(&RgbView::new(256, 256, &rotated).unwrap()).hash;
    let nearest = dihedral
        .to_array()
        .iter()
        .map(|h| h.distance(&direct))
        .min()
        .unwrap();
    // Within the match threshold, and far closer than the unrotated hash.
    let unrotated = dihedral.original.distance(&direct);
    assert!(
        nearest <= PdqHash::DEFAULT_MATCH_DISTANCE,
        "closest dihedral hash is {nearest} bits away"
    );
    assert!(
        unrotated > nearest + 32,
        "unrotated {unrotated}, nearest {nearest}"
    );
    assert_eq!(dihedral.rotate90.distance(&direct), nearest);
}

#[test]
fn luma_entry_point_matches_grey_rgb() {
    // numpy's f64 luma of a grey pixel is exactly its value, so a grey RGB
    // image and its luma plane hash the same, including the 64×64 shortcut.
    for side in [64u32, 100] {
        let luma: Vec<f32> = (0..side * side)
            .map(|i| ((i * 37 + i / side * 11) % 256) as f32)
            .collect();
        let rgb: Vec<u8> = luma.iter().flat_map(|&v| [v as u8; 3]).collect();
        let from_rgb = PdqHasher::default().hash(&RgbView::new(side, side, &rgb).unwrap());
        let from_luma = PdqHasher::hash_luma(side, side, &luma).unwrap();
        assert_eq!(from_rgb, from_luma);
    }
}

#[test]
fn modes_agree_on_small_colour_images_up_to_luma_rounding() {
    // At or under 512 px no squash happens; only the luma precision differs.
    let pixels = picture(320, 240);
    let image = RgbView::new(320, 240, &pixels).unwrap();
    let full = PdqHasher::new(PdqMode::FullResolution).hash(&image);
    let cli = PdqHasher::new(PdqMode::ReferenceCli).hash(&image);
    assert!(full.hash.distance(&cli.hash) <= 4);
}
