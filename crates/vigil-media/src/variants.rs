//! Variants of an image hashed to catch edited copies that plain PDQ
//! misses: its eight rotations and mirrors, the image with uniform borders
//! and letterbox bars trimmed, and a few canonical sub-crops.
//!
//! Both sides of a lookup take part. The query side
//! ([`query_variants`]) hashes what an adversary's edit may have added or
//! turned: mirrors and rotations, a frame, a corner overlay. The bank side
//! ([`bank_variants`]) hashes what an adversary may have cut away: central
//! and corner-anchored crops of the original. [`pairs`] says which query
//! variant is compared with which bank variant; comparing every pair would
//! multiply false positives for no gain. The names, the stored form and
//! that rule are `vigil_signal::variants` (the store checks banked variants
//! with them); the pixels are handled here.
//!
//! All of it is pure: pixels in, hashes out. `vigil eval images` measures
//! what each defence gains and costs on the evaluation corpus.

use image::RgbImage;
use image::imageops;
pub use vigil_signal::variants::{
    CORNERS, Corner, OVERLAY_CORNERS_NEEDED, OVERLAY_KEEP, PairedMatch, Pairing, Variant,
    VariantHash, nearest_pairing,
};
use vigil_signal::{Pdq, PdqHash, PdqHasher};

/// A defence name that is not one of `dihedral`, `trim`, `crops`, `all`,
/// `none`.
#[derive(Debug, thiserror::Error)]
#[error("unknown defence {0:?} (known: dihedral, trim, crops, all, none)")]
pub struct UnknownDefence(pub String);

/// The defences a lookup uses; each adds query variants (and, for
/// [`Defences::crops`], needs the bank's crop hashes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Defences {
    /// Hash the seven rotations and mirrors of the query's pixels.
    pub dihedral: bool,
    /// Hash the query with uniform borders and letterbox bars trimmed.
    pub trim: bool,
    /// Compare the query with the bank's crops, and the query's corner
    /// regions with the bank's (overlays).
    pub crops: bool,
}

impl Defences {
    /// No defence: plain PDQ.
    pub const NONE: Self = Self {
        dihedral: false,
        trim: false,
        crops: false,
    };

    /// Every defence.
    pub const ALL: Self = Self {
        dihedral: true,
        trim: true,
        crops: true,
    };

    /// The defences named in a comma-separated list of `dihedral`, `trim`,
    /// `crops`, or `all` / `none`.
    pub fn parse(list: &str) -> Result<Self, UnknownDefence> {
        let mut defences = Self::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "dihedral" => defences.dihedral = true,
                "trim" => defences.trim = true,
                "crops" => defences.crops = true,
                "all" => defences = Self::ALL,
                "none" => {}
                other => return Err(UnknownDefence(other.to_owned())),
            }
        }
        Ok(defences)
    }

    /// Whether any defence is on.
    pub fn any(self) -> bool {
        self.dihedral || self.trim || self.crops
    }
}

/// Share of each side the crops of a copy that lost its edges keep.
const CROP_KEEPS: [u8; 2] = [90, 80];

/// The hashes a query is looked up by under `defences`: always the plain
/// hash (`orig`) first, then each defence's variants of usable quality.
pub fn query_variants(image: &RgbImage, defences: Defences, hasher: PdqHasher) -> Vec<VariantHash> {
    let mut out = vec![VariantHash {
        variant: Variant::Original,
        pdq: hash(image, hasher),
    }];
    let mut push = |variant: Variant, pdq: Pdq| {
        if pdq.quality >= PdqHash::MIN_TRUSTED_QUALITY {
            out.push(VariantHash { variant, pdq });
        }
    };
    if defences.dihedral {
        for (k, turned) in symmetries(image).iter().enumerate().skip(1) {
            push(Variant::Symmetry(k as u8), hash(turned, hasher));
        }
    }
    if defences.trim
        && let Some(trimmed) = trimmed(image)
    {
        push(Variant::Trimmed, hash(&trimmed, hasher));
    }
    if defences.crops {
        for corner in CORNERS {
            let region = corner_crop(image, corner, OVERLAY_KEEP);
            push(Variant::Corner(corner, OVERLAY_KEEP), hash(&region, hasher));
        }
    }
    out
}

/// The hashes banked beside an image's plain PDQ for the defences: the
/// image trimmed, when its own edges are uniform (a trimmed query of a
/// framed copy then trims the same rows); central crops keeping 90% and 80%
/// of each side and corner-anchored crops keeping 90% (copies cut on two
/// sides); and the four corner regions of [`OVERLAY_KEEP`] (copies with an
/// overlay). Variants below PDQ's quality floor are left out.
pub fn bank_variants(image: &RgbImage, hasher: PdqHasher) -> Vec<VariantHash> {
    // Each region is cut, hashed and dropped before the next is cut: a
    // 7000×7000 photo's eleven regions held at once cost over 1 GB.
    let mut variants: Vec<Variant> = Vec::new();
    let trimmed = trimmed(image);
    if trimmed.is_some() {
        variants.push(Variant::Trimmed);
    }
    variants.extend(CROP_KEEPS.iter().map(|&keep| Variant::Centre(keep)));
    variants.extend(CORNERS.iter().map(|&corner| Variant::Corner(corner, 90)));
    variants.extend(
        CORNERS
            .iter()
            .map(|&corner| Variant::Corner(corner, OVERLAY_KEEP)),
    );
    let mut trimmed = trimmed;
    variants
        .into_iter()
        .filter_map(|variant| {
            let region = match variant {
                Variant::Trimmed => trimmed.take()?,
                Variant::Centre(keep) => centre_crop(image, keep),
                Variant::Corner(corner, keep) => corner_crop(image, corner, keep),
                _ => return None,
            };
            Some(VariantHash {
                variant,
                pdq: hash(&region, hasher),
            })
        })
        .filter(|v| v.pdq.quality >= PdqHash::MIN_TRUSTED_QUALITY)
        .collect()
}

fn hash(image: &RgbImage, hasher: PdqHasher) -> Pdq {
    let (w, h) = image.dimensions();
    match vigil_signal::RgbView::new(w, h, image.as_raw()) {
        Ok(rgb) => hasher.hash(&rgb),
        // An image buffer always has 3·w·h bytes; if not, no hash.
        Err(_) => Pdq {
            hash: PdqHash::ZERO,
            quality: 0,
        },
    }
}

/// The eight rotations and mirrors of `image`'s pixels, in
/// `vigil_signal::Dihedral` order: as given, rotated 90°, 180° and 270°
/// counter-clockwise, mirrored top to bottom, left to right, about the
/// main diagonal and about the anti-diagonal.
pub fn symmetries(image: &RgbImage) -> [RgbImage; 8] {
    let transposed = imageops::flip_horizontal(&imageops::rotate90(image));
    [
        image.clone(),
        imageops::rotate270(image),
        imageops::rotate180(image),
        imageops::rotate90(image),
        imageops::flip_vertical(image),
        imageops::flip_horizontal(image),
        transposed.clone(),
        imageops::rotate180(&transposed),
    ]
}

fn centre_crop(image: &RgbImage, keep: u8) -> RgbImage {
    let (w, h) = image.dimensions();
    let (cw, ch) = (kept(w, keep), kept(h, keep));
    imageops::crop_imm(image, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image()
}

fn corner_crop(image: &RgbImage, corner: Corner, keep: u8) -> RgbImage {
    let (w, h) = image.dimensions();
    let (cw, ch) = (kept(w, keep), kept(h, keep));
    let x = match corner {
        Corner::TopLeft | Corner::BottomLeft => 0,
        Corner::TopRight | Corner::BottomRight => w - cw,
    };
    let y = match corner {
        Corner::TopLeft | Corner::TopRight => 0,
        Corner::BottomLeft | Corner::BottomRight => h - ch,
    };
    imageops::crop_imm(image, x, y, cw, ch).to_image()
}

fn kept(side: u32, keep: u8) -> u32 {
    ((u64::from(side) * u64::from(keep)).div_ceil(100) as u32).clamp(1, side.max(1))
}

/// How far a pixel may stray from an edge's colour and still count as
/// border: JPEG rings and blocks next to the picture's edge.
const BORDER_FUZZ: i32 = 24;

/// Share of a line's pixels that must be within the fuzz for the line to
/// count as border.
const BORDER_SHARE: f32 = 0.98;

/// Trimming must leave at least this share of each side of the image as
/// given (over all passes): a picture that is mostly uniform is not a
/// picture in a frame. Low, because a framed copy is larger than the
/// picture the bank trimmed: a night sky trimmed to its galaxy keeps less
/// of the framed copy's side than of its own.
const MIN_KEPT_SHARE: f32 = 0.1;

/// And at least this many pixels on each side.
const MIN_KEPT_PIXELS: u32 = 16;

/// Trimming passes at most: each pass can uncover another frame (a
/// letterboxed picture that has white margins of its own).
const MAX_TRIM_PASSES: usize = 4;

/// `image` with uniform borders and letterbox bars trimmed off each side,
/// or `None` when no side has any (or trimming would leave too little).
/// A line is border when nearly all its pixels are within a small fuzz of
/// the colour of its side's outermost line. Trimming repeats until nothing more comes off, so a
/// frame added around a picture that has uniform margins of its own trims
/// to what the picture alone trims to.
pub fn trimmed(image: &RgbImage) -> Option<RgbImage> {
    let mut current = trim_once(image)?;
    for _ in 1..MAX_TRIM_PASSES {
        match trim_once(&current) {
            Some(next) => current = next,
            None => break,
        }
    }
    let (w, h) = image.dimensions();
    let (kw, kh) = current.dimensions();
    let too_small = (kw as f32) < w as f32 * MIN_KEPT_SHARE
        || (kh as f32) < h as f32 * MIN_KEPT_SHARE
        || kw.min(kh) < MIN_KEPT_PIXELS;
    (!too_small).then_some(current)
}

/// One trimming pass (see [`trimmed`]).
fn trim_once(image: &RgbImage) -> Option<RgbImage> {
    let (w, h) = image.dimensions();
    if w < 8 || h < 8 {
        return None;
    }
    let pixel = |x: u32, y: u32| image.get_pixel(x, y).0;
    let row = |y: u32| (0..w).map(move |x| pixel(x, y));
    let (mut top, mut bottom) = (0u32, h);
    let colour = median_colour(row(0));
    while top < h && border_line(row(top), colour) {
        top += 1;
    }
    let colour = median_colour(row(h - 1));
    while bottom > top && border_line(row(bottom - 1), colour) {
        bottom -= 1;
    }
    if bottom <= top {
        return None;
    }
    let column = |x: u32| (top..bottom).map(move |y| pixel(x, y));
    let (mut left, mut right) = (0u32, w);
    let colour = median_colour(column(0));
    while left < w && border_line(column(left), colour) {
        left += 1;
    }
    let colour = median_colour(column(w - 1));
    while right > left && border_line(column(right - 1), colour) {
        right -= 1;
    }
    let (kw, kh) = (right - left, bottom - top);
    if kw == 0 || (kw == w && kh == h) {
        return None;
    }
    Some(imageops::crop_imm(image, left, top, kw, kh).to_image())
}

/// Whether a line is border: nearly all its pixels within the fuzz of the
/// colour of its side's outermost line. Judging by the outermost colour,
/// a pass stops where an added frame meets the picture, so the next pass
/// sees the picture exactly as the bank's trimming of it did.
fn border_line(line: impl Iterator<Item = [u8; 3]>, colour: [u8; 3]) -> bool {
    let (mut total, mut close) = (0usize, 0usize);
    for p in line {
        total += 1;
        let near = p
            .iter()
            .zip(colour)
            .all(|(a, b)| (i32::from(*a) - i32::from(b)).abs() <= BORDER_FUZZ);
        close += usize::from(near);
    }
    total > 0 && close as f32 >= total as f32 * BORDER_SHARE
}

/// The per-channel median of some pixels.
fn median_colour(pixels: impl Iterator<Item = [u8; 3]>) -> [u8; 3] {
    let mut counts = [[0u32; 256]; 3];
    let mut total = 0u32;
    for p in pixels {
        total += 1;
        for (c, v) in p.iter().enumerate() {
            counts[c][usize::from(*v)] += 1;
        }
    }
    let mut out = [0u8; 3];
    for (c, value) in out.iter_mut().enumerate() {
        let mut seen = 0u32;
        for (v, n) in counts[c].iter().enumerate() {
            seen += n;
            if seen * 2 >= total {
                *value = v as u8;
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
