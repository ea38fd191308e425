//! The edits adversaries make to evade matching, as pure functions of an
//! RGB image: re-encoding, resizing, crops, borders, overlays, captions,
//! rotations and flips, colour shifts, blur, noise, screenshots. Each is
//! deterministic (noise is seeded) so an evaluation can be rerun exactly.

use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};

use crate::support::SplitMix;

/// One named edit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Transform {
    /// Re-encoded as JPEG at this quality.
    Jpeg(u8),
    /// Resized by this factor.
    Resize(f32),
    /// This share of each side cut away, centred.
    CropCentre(f32),
    /// This share of the area cut away from the bottom-right (an off-centre
    /// crop keeping the top-left corner).
    CropOffCentre(f32),
    /// A uniform border adding this share to each side.
    Border(f32),
    /// Black bars above and below adding this share to the height.
    Letterbox(f32),
    /// A logo covering this share of the area, in the bottom-right corner.
    Logo(f32),
    /// A caption bar with text along the bottom (15% of the height).
    Caption,
    /// Rotated by 90, 180 or 270 degrees.
    Rotate(u16),
    /// Mirrored left to right.
    Mirror,
    /// Rotated by a few degrees about the centre, corners filled black.
    Tilt(f32),
    /// Brightness shifted by this many levels.
    Brightness(i32),
    /// Contrast changed by this percentage.
    Contrast(f32),
    /// Gamma applied.
    Gamma(f32),
    /// Shades of grey.
    Greyscale,
    /// Gaussian blur of this sigma.
    Blur(f32),
    /// Uniform noise of this amplitude (levels).
    Noise(u8),
    /// Shown at 60% inside a larger screen-like canvas with window bars.
    Screenshot,
}

/// The transforms of the evaluation, in report order.
pub(crate) const ALL: &[Transform] = &[
    Transform::Jpeg(90),
    Transform::Jpeg(70),
    Transform::Jpeg(50),
    Transform::Jpeg(30),
    Transform::Resize(0.5),
    Transform::Resize(0.25),
    Transform::Resize(2.0),
    Transform::CropCentre(0.05),
    Transform::CropCentre(0.10),
    Transform::CropCentre(0.20),
    Transform::CropCentre(0.30),
    Transform::CropCentre(0.50),
    Transform::CropOffCentre(0.05),
    Transform::CropOffCentre(0.10),
    Transform::CropOffCentre(0.20),
    Transform::CropOffCentre(0.30),
    Transform::CropOffCentre(0.50),
    Transform::Border(0.10),
    Transform::Border(0.25),
    Transform::Letterbox(0.10),
    Transform::Letterbox(0.25),
    Transform::Logo(0.05),
    Transform::Logo(0.15),
    Transform::Logo(0.30),
    Transform::Caption,
    Transform::Rotate(90),
    Transform::Rotate(180),
    Transform::Rotate(270),
    Transform::Mirror,
    Transform::Tilt(3.0),
    Transform::Tilt(10.0),
    Transform::Brightness(40),
    Transform::Brightness(-40),
    Transform::Contrast(40.0),
    Transform::Contrast(-40.0),
    Transform::Gamma(0.6),
    Transform::Gamma(1.6),
    Transform::Greyscale,
    Transform::Blur(2.0),
    Transform::Noise(24),
    Transform::Screenshot,
];

impl Transform {
    /// The transform's name in reports: `jpeg_q50`, `crop_centre_20pct`, …
    pub(crate) fn name(self) -> String {
        let pct = |share: f32| (share * 100.0).round() as u32;
        match self {
            Self::Jpeg(q) => format!("jpeg_q{q}"),
            Self::Resize(f) => format!("resize_x{f}"),
            Self::CropCentre(s) => format!("crop_centre_{}pct", pct(s)),
            Self::CropOffCentre(s) => format!("crop_off_centre_{}pct", pct(s)),
            Self::Border(s) => format!("border_{}pct", pct(s)),
            Self::Letterbox(s) => format!("letterbox_{}pct", pct(s)),
            Self::Logo(s) => format!("logo_{}pct", pct(s)),
            Self::Caption => "caption_bar".to_owned(),
            Self::Rotate(d) => format!("rotate_{d}"),
            Self::Mirror => "mirror".to_owned(),
            Self::Tilt(d) => format!("tilt_{d}deg"),
            Self::Brightness(b) => format!("brightness_{b:+}"),
            Self::Contrast(c) => format!("contrast_{c:+}pct"),
            Self::Gamma(g) => format!("gamma_{g}"),
            Self::Greyscale => "greyscale".to_owned(),
            Self::Blur(s) => format!("blur_sigma{s}"),
            Self::Noise(a) => format!("noise_{a}"),
            Self::Screenshot => "screenshot".to_owned(),
        }
    }

    /// `image` edited. `seed` makes noise reproducible.
    pub(crate) fn apply(self, image: &RgbImage, seed: u64) -> RgbImage {
        let (w, h) = image.dimensions();
        match self {
            Self::Jpeg(quality) => jpeg(image, quality),
            Self::Resize(factor) => imageops::resize(
                image,
                scaled(w, factor),
                scaled(h, factor),
                FilterType::Triangle,
            ),
            Self::CropCentre(share) => {
                let (cw, ch) = (scaled(w, 1.0 - share), scaled(h, 1.0 - share));
                imageops::crop_imm(image, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image()
            }
            Self::CropOffCentre(share) => {
                let keep = (1.0 - share).sqrt();
                imageops::crop_imm(image, 0, 0, scaled(w, keep), scaled(h, keep)).to_image()
            }
            Self::Border(share) => {
                let (bw, bh) = (scaled(w, share), scaled(h, share));
                framed(image, bw, bh, Rgb([255, 255, 255]))
            }
            Self::Letterbox(share) => framed(image, 0, scaled(h, share / 2.0), Rgb([0, 0, 0])),
            Self::Logo(share) => logo(image, share),
            Self::Caption => caption(image),
            Self::Rotate(90) => imageops::rotate90(image),
            Self::Rotate(180) => imageops::rotate180(image),
            Self::Rotate(_) => imageops::rotate270(image),
            Self::Mirror => imageops::flip_horizontal(image),
            Self::Tilt(degrees) => tilt(image, degrees),
            Self::Brightness(levels) => imageops::brighten(image, levels),
            Self::Contrast(percent) => imageops::contrast(image, percent),
            Self::Gamma(gamma) => map_levels(image, |v| {
                (255.0 * (f32::from(v) / 255.0).powf(gamma)).round() as u8
            }),
            Self::Greyscale => {
                let grey = imageops::grayscale(image);
                RgbImage::from_fn(w, h, |x, y| {
                    let v = grey.get_pixel(x, y)[0];
                    Rgb([v, v, v])
                })
            }
            Self::Blur(sigma) => imageops::blur(image, sigma),
            Self::Noise(amplitude) => noise(image, amplitude, seed),
            Self::Screenshot => screenshot(image),
        }
    }
}

fn scaled(side: u32, factor: f32) -> u32 {
    ((side as f32 * factor).round() as u32).max(1)
}

fn jpeg(image: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    let encoded = JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(image);
    match encoded
        .ok()
        .and_then(|()| image::load_from_memory(&bytes).ok())
    {
        Some(decoded) => decoded.to_rgb8(),
        // Encoding an in-memory RGB image cannot fail; if it ever did, the
        // unedited image is the honest stand-in (it only raises recall).
        None => image.clone(),
    }
}

/// `image` centred on a canvas `bw` wider and `bh` taller on each side.
fn framed(image: &RgbImage, bw: u32, bh: u32, fill: Rgb<u8>) -> RgbImage {
    let (w, h) = image.dimensions();
    let mut canvas = RgbImage::from_pixel(w + 2 * bw, h + 2 * bh, fill);
    imageops::replace(&mut canvas, image, i64::from(bw), i64::from(bh));
    canvas
}

/// A synthetic logo: a filled rounded badge with concentric rings and a
/// bar, covering `share` of the area in the bottom-right corner.
fn logo(image: &RgbImage, share: f32) -> RgbImage {
    let (w, h) = image.dimensions();
    let side = ((w as f32 * h as f32 * share).sqrt() as u32).clamp(1, w.min(h));
    let mut out = image.clone();
    let (x0, y0) = (w - side, h - side);
    let centre = side as f32 / 2.0;
    for y in 0..side {
        for x in 0..side {
            let r = ((x as f32 - centre).powi(2) + (y as f32 - centre).powi(2)).sqrt() / centre;
            let ring = ((r * 6.0) as u32).is_multiple_of(2);
            let bar = (y as f32 - centre).abs() < side as f32 * 0.08;
            let colour = if bar {
                Rgb([255, 255, 255])
            } else if ring {
                Rgb([200, 30, 30])
            } else {
                Rgb([20, 20, 20])
            };
            out.put_pixel(x0 + x, y0 + y, colour);
        }
    }
    out
}

/// A bar along the bottom, 15% of the height, with blocky "words".
fn caption(image: &RgbImage) -> RgbImage {
    let (w, h) = image.dimensions();
    let bar = (h as f32 * 0.15).max(1.0) as u32;
    let mut out = image.clone();
    let mut random = SplitMix(0x00ca_9710);
    let glyph = (bar / 3).max(1);
    for y in h - bar..h {
        for x in 0..w {
            out.put_pixel(x, y, Rgb([16, 16, 16]));
        }
    }
    let mut x = glyph;
    while x + glyph < w {
        let word = 2 + (random.next() % 6) as u32;
        for letter in 0..word {
            let tall = glyph / 2 + (random.next() % u64::from(glyph / 2 + 1)) as u32;
            let left = x + letter * (glyph * 2 / 3 + 1);
            for dy in 0..tall {
                for dx in 0..(glyph / 2).max(1) {
                    let (px, py) = (left + dx, h - bar / 2 + glyph / 2 - dy);
                    if px < w && py < h {
                        out.put_pixel(px, py, Rgb([240, 240, 240]));
                    }
                }
            }
        }
        x += word * (glyph * 2 / 3 + 1) + glyph;
    }
    out
}

/// Rotation by `degrees` about the centre, bilinear, same canvas size,
/// corners black.
fn tilt(image: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = image.dimensions();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let sx = cos * dx + sin * dy + cx - 0.5;
        let sy = -sin * dx + cos * dy + cy - 0.5;
        bilinear(image, sx, sy).unwrap_or(Rgb([0, 0, 0]))
    })
}

fn bilinear(image: &RgbImage, x: f32, y: f32) -> Option<Rgb<u8>> {
    let (w, h) = image.dimensions();
    if x < 0.0 || y < 0.0 || x > (w - 1) as f32 || y > (h - 1) as f32 {
        return None;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let mut out = [0u8; 3];
    for (c, value) in out.iter_mut().enumerate() {
        let p = |px: u32, py: u32| f32::from(image.get_pixel(px, py)[c]);
        let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
        let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
        *value = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    Some(Rgb(out))
}

fn map_levels(image: &RgbImage, f: impl Fn(u8) -> u8) -> RgbImage {
    let table: Vec<u8> = (0..=255u8).map(&f).collect();
    let mut out = image.clone();
    for pixel in out.pixels_mut() {
        for value in &mut pixel.0 {
            *value = table[usize::from(*value)];
        }
    }
    out
}

fn noise(image: &RgbImage, amplitude: u8, seed: u64) -> RgbImage {
    let mut random = SplitMix(seed);
    let span = u64::from(amplitude) * 2 + 1;
    let mut out = image.clone();
    for pixel in out.pixels_mut() {
        for value in &mut pixel.0 {
            let delta = (random.next() % span) as i32 - i32::from(amplitude);
            *value = (i32::from(*value) + delta).clamp(0, 255) as u8;
        }
    }
    out
}

/// The image at 60% of its size on a grey "screen" with a title bar, a
/// side panel and a status bar, as a screenshot of a post would show it.
fn screenshot(image: &RgbImage) -> RgbImage {
    let (w, h) = image.dimensions();
    let shown = imageops::resize(image, scaled(w, 0.6), scaled(h, 0.6), FilterType::Triangle);
    let (sw, sh) = shown.dimensions();
    let mut canvas = RgbImage::from_pixel(w, h, Rgb([236, 236, 236]));
    let title = (h / 12).max(1);
    for y in 0..title.min(h) {
        for x in 0..w {
            canvas.put_pixel(x, y, Rgb([40, 44, 52]));
        }
    }
    let panel = (w / 6).max(1);
    for y in title.min(h)..h {
        for x in 0..panel.min(w) {
            canvas.put_pixel(x, y, Rgb([250, 250, 250]));
        }
    }
    let left = i64::from(panel + (w.saturating_sub(panel + sw)) / 2);
    let top = i64::from(title + (h.saturating_sub(title + sh)) / 2);
    imageops::replace(&mut canvas, &shown, left, top);
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient() -> RgbImage {
        RgbImage::from_fn(120, 80, |x, y| Rgb([(x * 2) as u8, (y * 3) as u8, 128]))
    }

    #[test]
    fn every_transform_yields_an_image_of_the_expected_shape() {
        let image = gradient();
        for transform in ALL {
            let out = transform.apply(&image, 7);
            let (w, h) = out.dimensions();
            assert!(w > 0 && h > 0, "{}", transform.name());
            let expected = match transform {
                Transform::Resize(f) => (scaled(120, *f), scaled(80, *f)),
                Transform::CropCentre(s) => (scaled(120, 1.0 - s), scaled(80, 1.0 - s)),
                Transform::Rotate(90 | 270) => (80, 120),
                Transform::Border(s) => (120 + 2 * scaled(120, *s), 80 + 2 * scaled(80, *s)),
                Transform::Letterbox(s) => (120, 80 + 2 * scaled(80, s / 2.0)),
                Transform::CropOffCentre(_) => (w, h),
                _ => (120, 80),
            };
            assert_eq!((w, h), expected, "{}", transform.name());
        }
    }

    #[test]
    fn names_are_distinct_and_edits_change_pixels() {
        let image = gradient();
        let mut names: Vec<String> = ALL.iter().map(|t| t.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for transform in ALL {
            assert_ne!(
                transform.apply(&image, 7),
                image,
                "{} left the image as it was",
                transform.name()
            );
        }
        assert_eq!(
            Transform::Noise(24).apply(&image, 7),
            Transform::Noise(24).apply(&image, 7)
        );
    }

    #[test]
    fn logos_cover_their_share() {
        let image = RgbImage::from_pixel(100, 100, Rgb([0, 0, 255]));
        let covered = Transform::Logo(0.15)
            .apply(&image, 0)
            .pixels()
            .filter(|p| p.0 != [0, 0, 255])
            .count();
        assert!((1_400..=1_600).contains(&covered), "{covered}");
    }
}
