//! Bounded image decoding to packed RGB8.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader};
use vigil_signal::RgbView;

use crate::{Error, Format, Sniffed, sniff};

/// Resource limits for one item. The defaults keep one decode under about
/// 350 MiB for any input (50 MP as RGBA plus its RGB copy); hostile files
/// declaring more are refused from their header, before any allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted for decoding, in bytes (larger inputs are
    /// still digested).
    pub max_file_bytes: u64,
    /// Largest width or height, in pixels.
    pub max_side: u32,
    /// Largest width × height.
    pub max_pixels: u64,
    /// Largest total allocation a decoder may make, in bytes.
    pub max_alloc: u64,
}

impl Limits {
    /// Names the limit a `width`×`height` image breaks, for error messages.
    fn exceeded_by(&self, width: u32, height: u32) -> String {
        if width > self.max_side || height > self.max_side {
            format!("{} pixels per side", self.max_side)
        } else if u64::from(width) * u64::from(height) > self.max_pixels {
            format!("{} pixels", self.max_pixels)
        } else {
            format!("{} bytes of decoder memory", self.max_alloc)
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 256 * 1024 * 1024,
            max_side: 32_768,
            max_pixels: 50_000_000,
            max_alloc: 400 * 1024 * 1024,
        }
    }
}

/// A decoded still image: packed RGB8 pixels whose size always matches the
/// dimensions.
#[derive(Clone)]
pub struct DecodedImage {
    format: Format,
    width: u32,
    height: u32,
    orientation: u8,
    pixels: Vec<u8>,
}

impl DecodedImage {
    /// The format sniffed from the bytes.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Width in pixels, as stored (EXIF orientation not applied).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels, as stored.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// EXIF orientation tag (1–8; 1 when absent): how a viewer would rotate
    /// or flip the stored pixels for display. Reported, never applied.
    pub fn orientation(&self) -> u8 {
        self.orientation
    }

    /// Packed RGB8, row-major. Alpha is dropped without compositing, grey is
    /// expanded to R = G = B, 16-bit samples are rounded to 8 bits and CMYK
    /// is converted to RGB, as the PDQ references' decoders do.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The pixels as input for `vigil-signal`.
    pub fn rgb(&self) -> RgbView<'_> {
        match RgbView::new(self.width, self.height, &self.pixels) {
            Ok(image) => image,
            // `decode_known` checks the length before constructing, and the
            // fields are private, so the sizes always agree.
            Err(_) => unreachable!("decoded pixel buffer matches its dimensions"),
        }
    }
}

impl std::fmt::Debug for DecodedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedImage")
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("orientation", &self.orientation)
            .finish_non_exhaustive()
    }
}

/// Decodes the still image in `bytes` (its first frame, for GIF) within
/// `limits`.
pub fn decode_image(bytes: &[u8], limits: &Limits) -> Result<DecodedImage, Error> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(Error::FileTooLarge {
            len: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    let format = match sniff(bytes) {
        Sniffed::Image(format) => format,
        Sniffed::Other(kind, format) => return Err(Error::UnsupportedKind { kind, format }),
        Sniffed::Unknown => {
            return Err(Error::UnknownFormat {
                prefix: crate::error::hex_prefix(bytes),
            });
        }
    };
    // The image crate warns that some decoders may panic on malicious input;
    // a panic is contained to this item and reported as such. Nothing shared
    // is touched inside, so no broken invariant can leak out.
    catch_unwind(AssertUnwindSafe(|| decode_known(bytes, format, limits)))
        .unwrap_or(Err(Error::DecoderPanicked { format }))
}

fn decode_known(bytes: &[u8], format: Format, limits: &Limits) -> Result<DecodedImage, Error> {
    // The image crate's limit errors do not say which limit or what size;
    // name both, from the header where the decoder gave up before reporting.
    let image_error = |e: ImageError, dimensions: Option<(u32, u32)>| match e {
        ImageError::Limits(_) => {
            let (width, height) = dimensions.unwrap_or((0, 0));
            Error::ImageTooLarge {
                format,
                width,
                height,
                limit: limits.exceeded_by(width, height),
            }
        }
        other => Error::Decode {
            format,
            message: other.to_string(),
        },
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.to_image_format());
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_side);
    image_limits.max_image_height = Some(limits.max_side);
    image_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(image_limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| image_error(e, declared_dimensions(bytes, format)))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(Error::ImageTooLarge {
            format,
            width,
            height,
            limit: limits.exceeded_by(width, height),
        });
    }
    // A damaged EXIF block must not cost the hash: orientation is advisory.
    let orientation = decoder
        .orientation()
        .map_or(1, image::metadata::Orientation::to_exif);
    let libjpeg_pixels = match format {
        Format::Jpeg => crate::jpeg::decode_rgb(bytes)?,
        _ => None,
    };
    let pixels = match libjpeg_pixels {
        Some(pixels) => pixels,
        None => DynamicImage::from_decoder(decoder)
            .map_err(|e| image_error(e, Some((width, height))))?
            .into_rgb8()
            .into_raw(),
    };
    if pixels.len() as u64 != u64::from(width) * u64::from(height) * 3 {
        return Err(Error::Decode {
            format,
            message: format!(
                "decoder returned {} bytes for {width}x{height} pixels",
                pixels.len()
            ),
        });
    }
    Ok(DecodedImage {
        format,
        width,
        height,
        orientation,
        pixels,
    })
}

/// Width and height as declared in a PNG or GIF header, to name them in a
/// limit error raised before the decoder reports them.
fn declared_dimensions(bytes: &[u8], format: Format) -> Option<(u32, u32)> {
    let be32 = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    let le16 = |at: usize| {
        Some(u32::from(u16::from_le_bytes(
            bytes.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    match format {
        Format::Png => Some((be32(16)?, be32(20)?)),
        Format::Gif => Some((le16(6)?, le16(8)?)),
        _ => None,
    }
}
