//! Luma sources for the two PDQ modes: how each reference turns RGB into
//! the float plane its PDQ core sees.

use super::RgbView;
use super::jarosz::LumaRows;
use crate::Error;

/// Full-resolution luma as numpy computes it for the PyPI `pdqhash`:
/// `uint8 * 0.299` promotes to `f64`, the sum runs left to right in `f64`,
/// and `.astype('float32')` rounds once at the end.
pub(crate) struct NumpyLuma<'a> {
    image: &'a RgbView<'a>,
}

impl<'a> NumpyLuma<'a> {
    pub(crate) fn new(image: &'a RgbView<'a>) -> Self {
        Self { image }
    }
}

impl LumaRows for NumpyLuma<'_> {
    fn width(&self) -> usize {
        self.image.width as usize
    }

    fn height(&self) -> usize {
        self.image.height as usize
    }

    #[inline(always)]
    fn for_each_in_row(&self, y: usize, mut put: impl FnMut(usize, f32)) {
        let width = self.width();
        let row = &self.image.pixels[y * width * 3..(y + 1) * width * 3];
        for (x, rgb) in row.chunks_exact(3).enumerate() {
            let luma =
                f64::from(rgb[0]) * 0.299 + f64::from(rgb[1]) * 0.587 + f64::from(rgb[2]) * 0.114;
            put(x, luma as f32);
        }
    }
}

/// The C++ `pdq-photo-hasher` pipeline: nearest-neighbour squash to 512×512
/// when a side exceeds 512, grey images as one channel, else `f32` luma.
pub(crate) struct ReferenceCliLuma<'a> {
    image: &'a RgbView<'a>,
    /// Whether every pixel has R = G = B.
    grey: bool,
    /// Source column for each output column.
    source_cols: Vec<usize>,
    /// Source row for each output row.
    source_rows: Vec<usize>,
}

/// The reference's `f32` luma coefficients.
const LUMA_R: f32 = 0.299;
const LUMA_G: f32 = 0.587;
const LUMA_B: f32 = 0.114;

impl<'a> ReferenceCliLuma<'a> {
    pub(crate) fn new(image: &'a RgbView<'a>) -> Self {
        let (width, height) = (image.width as usize, image.height as usize);
        let side = super::REFERENCE_CLI_SIDE as usize;
        let squash = width > side || height > side;
        let map = |old: usize| -> Vec<usize> {
            if squash {
                (0..side).map(|k| k * old / side).collect()
            } else {
                (0..old).collect()
            }
        };
        let grey = image
            .pixels
            .chunks_exact(3)
            .all(|p| p[0] == p[1] && p[1] == p[2]);
        Self {
            image,
            grey,
            source_cols: map(width),
            source_rows: map(height),
        }
    }
}

impl LumaRows for ReferenceCliLuma<'_> {
    fn width(&self) -> usize {
        self.source_cols.len()
    }

    fn height(&self) -> usize {
        self.source_rows.len()
    }

    #[inline(always)]
    fn for_each_in_row(&self, y: usize, mut put: impl FnMut(usize, f32)) {
        let stride = self.image.width as usize * 3;
        let row_start = self.source_rows[y] * stride;
        let row = &self.image.pixels[row_start..row_start + stride];
        for (out_x, &x) in self.source_cols.iter().enumerate() {
            let (r, g, b) = (row[3 * x], row[3 * x + 1], row[3 * x + 2]);
            let value = if self.grey {
                f32::from(r)
            } else {
                LUMA_R * f32::from(r) + LUMA_G * f32::from(g) + LUMA_B * f32::from(b)
            };
            put(out_x, value);
        }
    }
}

/// Video frames as vPDQ hashes them: `f32` luma of every pixel at the
/// frame's own size (no 512×512 step, no grey special case).
pub(crate) struct FrameLuma<'a> {
    image: &'a RgbView<'a>,
}

impl<'a> FrameLuma<'a> {
    pub(crate) fn new(image: &'a RgbView<'a>) -> Self {
        Self { image }
    }
}

impl LumaRows for FrameLuma<'_> {
    fn width(&self) -> usize {
        self.image.width as usize
    }

    fn height(&self) -> usize {
        self.image.height as usize
    }

    #[inline(always)]
    fn for_each_in_row(&self, y: usize, mut put: impl FnMut(usize, f32)) {
        let width = self.width();
        let row = &self.image.pixels[y * width * 3..(y + 1) * width * 3];
        for (x, rgb) in row.chunks_exact(3).enumerate() {
            put(
                x,
                LUMA_R * f32::from(rgb[0])
                    + LUMA_G * f32::from(rgb[1])
                    + LUMA_B * f32::from(rgb[2]),
            );
        }
    }
}

/// A caller-supplied row-major `f32` luma plane.
pub(crate) struct LumaF32<'a> {
    width: usize,
    height: usize,
    values: &'a [f32],
}

impl<'a> LumaF32<'a> {
    pub(crate) fn new(width: u32, height: u32, values: &'a [f32]) -> Result<Self, Error> {
        let (w, h) = (width as usize, height as usize);
        if values.len() != w * h {
            return Err(Error::PixelBuffer {
                width,
                height,
                expected: w * h,
                actual: values.len(),
            });
        }
        Ok(Self {
            width: w,
            height: h,
            values,
        })
    }
}

impl LumaRows for LumaF32<'_> {
    fn width(&self) -> usize {
        self.width
    }

    fn height(&self) -> usize {
        self.height
    }

    #[inline(always)]
    fn for_each_in_row(&self, y: usize, mut put: impl FnMut(usize, f32)) {
        for (x, &value) in self.values[y * self.width..(y + 1) * self.width]
            .iter()
            .enumerate()
        {
            put(x, value);
        }
    }
}
