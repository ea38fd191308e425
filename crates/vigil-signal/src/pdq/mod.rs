//! PDQ: Meta's 256-bit perceptual image hash, bit-exact with the references.
//!
//! The pipeline is the reference's: float luma → Jarosz box-filter
//! downsample to 64×64 (`jarosz.rs`) → quality metric → 16×16 of the 2-D DCT
//! → one bit per coefficient above the median (`dct.rs`).
//!
//! # Two modes, two references
//!
//! The PDQ *core* is the same everywhere, but the references feed it
//! different luma for the same image, so their hashes differ by a few bits
//! on large images. Hash sharing needs the same bits as the other party, so
//! Vigil offers both, named after who computes them:
//!
//! * [`PdqMode::FullResolution`] (default): the whole image at full size, with
//!   luma computed in double precision and rounded to `f32`. This is what the
//!   PyPI `pdqhash` binding computes (numpy's `R*0.299 + G*0.587 + B*0.114`)
//!   and so what python-threatexchange, HMA and its sample hashes use.
//! * [`PdqMode::ReferenceCli`]: what Meta's C++ `pdq-photo-hasher` prints. An
//!   image with a side over 512 pixels is first squashed to exactly 512×512
//!   by nearest neighbour (source index `⌊k·old/512⌋`, aspect ratio not
//!   kept), luma is computed in `f32`, and an image whose pixels are all grey
//!   uses its grey value directly (ImageMagick hands such images to the tool
//!   as one channel; `0.299f·v + 0.587f·v + 0.114f·v` is not always `v`).
//!
//! Both drop alpha without compositing and both ignore EXIF orientation,
//! as the references do; callers pass pixels as stored in the file.

mod dct;
mod hash;
mod jarosz;
mod luma;

pub use hash::PdqHash;

use crate::Error;
use dct::Symmetry;
use jarosz::{LumaRows, SIDE};
use luma::{FrameLuma, LumaF32, NumpyLuma, ReferenceCliLuma};

/// Which reference's bits to reproduce. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PdqMode {
    /// Full resolution, double-precision luma: the PyPI `pdqhash`,
    /// python-threatexchange and HMA.
    #[default]
    FullResolution,
    /// Meta's C++ `pdq-photo-hasher`: 512×512 nearest-neighbour squash for
    /// large images, `f32` luma, grey images used as is.
    ReferenceCli,
}

impl PdqMode {
    /// The mode's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::FullResolution => "full",
            Self::ReferenceCli => "reference-cli",
        }
    }
}

/// A borrowed view of a tightly packed, row-major RGB8 image (not
/// `image::RgbImage`, which owns its pixels).
#[derive(Debug, Clone, Copy)]
pub struct RgbView<'a> {
    width: u32,
    height: u32,
    pixels: &'a [u8],
}

impl<'a> RgbView<'a> {
    /// Wraps `pixels` (3 bytes per pixel, rows top to bottom, no padding).
    pub fn new(width: u32, height: u32, pixels: &'a [u8]) -> Result<Self, Error> {
        let expected = width as usize * height as usize * 3;
        if pixels.len() != expected {
            return Err(Error::PixelBuffer {
                width,
                height,
                expected,
                actual: pixels.len(),
            });
        }
        Ok(Self {
            width,
            height,
            pixels,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The packed RGB bytes.
    pub fn pixels(&self) -> &'a [u8] {
        self.pixels
    }
}

/// A PDQ hash with its quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pdq {
    /// The hash.
    pub hash: PdqHash,
    /// 0–100: how much significant gradient the image has. Below
    /// [`PdqHash::MIN_TRUSTED_QUALITY`] the hash is not trusted for matching.
    pub quality: u8,
}

/// The hashes of the eight rotations and flips of one image, in the order
/// the reference prints them with `--pdqdih-across`.
///
/// Serialised with the reference's short names: `orig`, `rot90`, `rot180`,
/// `rot270`, `flipx`, `flipy`, `flipp`, `flipm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dihedral {
    /// The image as given.
    #[serde(rename = "orig")]
    pub original: PdqHash,
    /// Rotated 90° counter-clockwise.
    #[serde(rename = "rot90")]
    pub rotate90: PdqHash,
    /// Rotated 180°.
    #[serde(rename = "rot180")]
    pub rotate180: PdqHash,
    /// Rotated 270° counter-clockwise.
    #[serde(rename = "rot270")]
    pub rotate270: PdqHash,
    /// Mirrored top to bottom.
    #[serde(rename = "flipx")]
    pub flip_x: PdqHash,
    /// Mirrored left to right.
    #[serde(rename = "flipy")]
    pub flip_y: PdqHash,
    /// Mirrored about the main diagonal (transposed).
    #[serde(rename = "flipp")]
    pub flip_plus1: PdqHash,
    /// Mirrored about the anti-diagonal.
    #[serde(rename = "flipm")]
    pub flip_minus1: PdqHash,
}

impl Dihedral {
    /// The eight hashes in reference order.
    pub fn to_array(&self) -> [PdqHash; 8] {
        [
            self.original,
            self.rotate90,
            self.rotate180,
            self.rotate270,
            self.flip_x,
            self.flip_y,
            self.flip_plus1,
            self.flip_minus1,
        ]
    }
}

/// Computes PDQ hashes in one [`PdqMode`]. Cheap to create, `Copy`, and safe
/// to share across threads: it holds no buffers.
#[derive(Debug, Clone, Copy, Default)]
pub struct PdqHasher {
    mode: PdqMode,
}

/// Sides shorter than this give the all-zero hash with quality 0, as in the
/// reference: there is too little image to downsample meaningfully.
pub const MIN_HASHABLE_SIDE: u32 = 5;

/// The side the C++ reference tool squashes large images to.
pub const REFERENCE_CLI_SIDE: u32 = 512;

impl PdqHasher {
    /// A hasher for `mode`.
    pub fn new(mode: PdqMode) -> Self {
        Self { mode }
    }

    /// The mode this hasher reproduces.
    pub fn mode(&self) -> PdqMode {
        self.mode
    }

    /// The hash of `image`.
    pub fn hash(&self, image: &RgbView<'_>) -> Pdq {
        let (coefficients, quality) = self.coefficients(image);
        Pdq {
            hash: coefficients.map_or(PdqHash::ZERO, |c| dct::to_bits(&c)),
            quality,
        }
    }

    /// The hashes of all eight rotations and flips of `image`, from one
    /// downsample and one DCT, and the (shared) quality.
    pub fn hash_dihedral(&self, image: &RgbView<'_>) -> (Dihedral, u8) {
        let (coefficients, quality) = self.coefficients(image);
        let Some(c) = coefficients else {
            let zero = PdqHash::ZERO;
            let all = Dihedral {
                original: zero,
                rotate90: zero,
                rotate180: zero,
                rotate270: zero,
                flip_x: zero,
                flip_y: zero,
                flip_plus1: zero,
                flip_minus1: zero,
            };
            return (all, 0);
        };
        let bits = |symmetry: Symmetry| dct::to_bits(&symmetry.apply(&c));
        let dihedral = Dihedral {
            original: dct::to_bits(&c),
            rotate90: bits(Symmetry::ROTATE_90),
            rotate180: bits(Symmetry::ROTATE_180),
            rotate270: bits(Symmetry::ROTATE_270),
            flip_x: bits(Symmetry::FLIP_X),
            flip_y: bits(Symmetry::FLIP_Y),
            flip_plus1: bits(Symmetry::FLIP_PLUS_1),
            flip_minus1: bits(Symmetry::FLIP_MINUS_1),
        };
        debug_assert_eq!(
            Symmetry::IDENTITY.apply(&c),
            c,
            "identity symmetry must not change coefficients"
        );
        (dihedral, quality)
    }

    /// The hash of a video frame as vPDQ computes it: `f32` luma
    /// (`0.299·R + 0.587·G + 0.114·B`) of the whole frame at its own size.
    /// The mode does not apply.
    pub fn hash_frame(image: &RgbView<'_>) -> Pdq {
        let (coefficients, quality) = coefficients_of(&FrameLuma::new(image));
        Pdq {
            hash: coefficients.map_or(PdqHash::ZERO, |c| dct::to_bits(&c)),
            quality,
        }
    }

    /// The hash of a float luma plane (row-major, `width × height` values),
    /// for callers that already have luma, such as video frame decoders.
    /// The mode does not apply: luma is used as given, at full size.
    pub fn hash_luma(width: u32, height: u32, luma: &[f32]) -> Result<Pdq, Error> {
        let plane = LumaF32::new(width, height, luma)?;
        let (coefficients, quality) = coefficients_of(&plane);
        Ok(Pdq {
            hash: coefficients.map_or(PdqHash::ZERO, |c| dct::to_bits(&c)),
            quality,
        })
    }

    fn coefficients(&self, image: &RgbView<'_>) -> (Option<[[f32; 16]; 16]>, u8) {
        match self.mode {
            PdqMode::FullResolution => coefficients_of(&NumpyLuma::new(image)),
            PdqMode::ReferenceCli => coefficients_of(&ReferenceCliLuma::new(image)),
        }
    }
}

/// The 16×16 DCT coefficients and quality of a luma source, or `None` (with
/// quality 0) when a side is under [`MIN_HASHABLE_SIDE`].
fn coefficients_of(luma: &impl LumaRows) -> (Option<[[f32; 16]; 16]>, u8) {
    let (width, height) = (luma.width(), luma.height());
    if width < MIN_HASHABLE_SIDE as usize || height < MIN_HASHABLE_SIDE as usize {
        return (None, 0);
    }
    let buffer = if width == SIDE && height == SIDE {
        // The reference skips the blur when the input is already 64×64
        // (video frames scaled by the decoder).
        let mut buffer = [[0f32; SIDE]; SIDE];
        for (y, row) in buffer.iter_mut().enumerate() {
            luma.for_each_in_row(y, |x, value| row[x] = value);
        }
        buffer
    } else {
        jarosz::downsample(luma)
    };
    (Some(dct::dct_64_to_16(&buffer)), dct::quality(&buffer))
}

#[cfg(test)]
mod tests;
