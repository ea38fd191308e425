//! Benign synthetic photographs for benchmarks: smooth shapes, gradients
//! and sensor-like noise, so JPEG decoding does realistic work.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use image::codecs::jpeg::JpegEncoder;

use crate::support::SplitMix;

/// Parses `WIDTHxHEIGHT` (an image size of `vigil bench hash`), up to
/// 100 megapixels.
pub fn parse_size(text: &str) -> anyhow::Result<(u32, u32)> {
    let parsed = text
        .split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((w, h)) if w > 0 && h > 0 && u64::from(w) * u64::from(h) <= 100_000_000 => Ok((w, h)),
        _ => bail!(
            "invalid size {text:?}: expected WIDTHxHEIGHT, e.g. 1024x768, up to 100 megapixels"
        ),
    }
}

/// Writes `count` JPEGs of `width`×`height` into `dir` and returns their
/// paths.
pub(crate) fn generate(
    dir: &Path,
    width: u32,
    height: u32,
    count: usize,
) -> anyhow::Result<Vec<PathBuf>> {
    (0..count)
        .map(|index| {
            let path = dir.join(format!("synthetic-{width}x{height}-{index:03}.jpg"));
            let pixels = picture(width, height, index as u64);
            let mut bytes = Vec::new();
            JpegEncoder::new_with_quality(&mut bytes, 90)
                .encode(&pixels, width, height, image::ExtendedColorType::Rgb8)
                .context("encoding a benchmark JPEG")?;
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// Packed RGB8: a sky-to-ground gradient, a dozen soft discs and fine noise.
fn picture(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x5eed);
    let top = [rng.unit() * 255.0, rng.unit() * 255.0, rng.unit() * 255.0];
    let bottom = [rng.unit() * 255.0, rng.unit() * 255.0, rng.unit() * 255.0];
    let discs: Vec<([f32; 2], f32, [f32; 3])> = (0..12)
        .map(|_| {
            let centre = [rng.unit() * width as f32, rng.unit() * height as f32];
            let radius = (0.05 + 0.25 * rng.unit()) * width.min(height) as f32;
            (
                centre,
                radius,
                [rng.unit() * 255.0, rng.unit() * 255.0, rng.unit() * 255.0],
            )
        })
        .collect();
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        let t = y as f32 / height as f32;
        for x in 0..width {
            let mut rgb = [0f32; 3];
            for c in 0..3 {
                rgb[c] = top[c] * (1.0 - t) + bottom[c] * t;
            }
            for (centre, radius, colour) in &discs {
                let (dx, dy) = (x as f32 - centre[0], y as f32 - centre[1]);
                let d2 = (dx * dx + dy * dy) / (radius * radius);
                if d2 < 1.0 {
                    let alpha = 0.8 * (1.0 - d2);
                    for c in 0..3 {
                        rgb[c] = rgb[c] * (1.0 - alpha) + colour[c] * alpha;
                    }
                }
            }
            let noise = (rng.next() % 25) as f32 - 12.0;
            for value in rgb {
                pixels.push((value + noise).clamp(0.0, 255.0) as u8);
            }
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_are_checked() {
        assert_eq!(parse_size("1024x768").unwrap(), (1024, 768));
        assert_eq!(parse_size("4000X3000").unwrap(), (4000, 3000));
        assert!(parse_size("0x10").is_err());
        assert!(parse_size("1024").is_err());
        assert!(parse_size("20000x20000").is_err());
    }

    #[test]
    fn pictures_are_deterministic_and_textured() {
        let a = picture(64, 48, 3);
        assert_eq!(a, picture(64, 48, 3));
        assert_ne!(a, picture(64, 48, 4));
        assert_eq!(a.len(), 64 * 48 * 3);
    }
}
