//! JPEG pixels exactly as libjpeg-turbo produces them.
//!
//! The PDQ references decode JPEG with libjpeg-turbo's defaults (the
//! accurate integer IDCT and "fancy" triangular chroma upsampling): Meta's
//! C++ tool through ImageMagick, the PyPI `pdqhash` through Pillow. Pure-Rust
//! decoders round differently (zune-jpeg differs by up to 4 levels on most
//! pixels of the reference photos, which moves up to 6 hash bits), so
//! YCbCr and greyscale JPEGs go through libjpeg-turbo's own code (vendored
//! by the `mozjpeg` crate, whose decoder is libjpeg-turbo's). CMYK/YCCK
//! JPEGs need a CMYK → RGB conversion libjpeg does not offer; the `image`
//! crate's conversion already matches ImageMagick's and Pillow's output on the
//! reference vectors, so those stay with it.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mozjpeg::{ColorSpace, DctMethod, Decompress};

use crate::{Error, Format};

/// Decodes a non-CMYK JPEG to packed RGB8, or returns `Ok(None)` when the
/// image is CMYK/YCCK and must be decoded elsewhere.
///
/// The caller has already checked the declared dimensions against its
/// limits, so libjpeg's allocations are bounded by them.
pub(crate) fn decode_rgb(bytes: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    check_complete(bytes)?;
    // libjpeg reports fatal errors by unwinding with a message (the
    // `mozjpeg` crate's error manager); turn that back into an error value.
    let decoded = catch_unwind(AssertUnwindSafe(|| -> std::io::Result<Option<Vec<u8>>> {
        let mut decompress = Decompress::new_mem(bytes)?;
        if matches!(
            decompress.color_space(),
            ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK
        ) {
            return Ok(None);
        }
        decompress.dct_method(DctMethod::IntegerSlow);
        decompress.do_fancy_upsampling(true);
        let mut started = decompress.rgb()?;
        let pixels = started.read_scanlines::<u8>()?;
        started.finish()?;
        Ok(Some(pixels))
    }));
    match decoded {
        Ok(Ok(pixels)) => Ok(pixels),
        Ok(Err(e)) => Err(decode_error(e.to_string())),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map(|m| m.trim_start_matches("libjpeg fatal error: ").to_owned())
                .or_else(|| payload.downcast_ref::<&str>().map(|m| (*m).to_owned()))
                .unwrap_or_else(|| "libjpeg failed".to_owned());
            Err(decode_error(message))
        }
    }
}

fn decode_error(message: String) -> Error {
    Error::Decode {
        format: Format::Jpeg,
        message,
    }
}

/// Refuses a JPEG whose last scan has no end-of-image marker after it.
///
/// libjpeg only *warns* about a truncated file and pads the missing part
/// with grey, which would yield a confident hash of a half-grey picture.
/// Pillow refuses such files; so does Vigil. Marker bytes cannot occur
/// inside entropy-coded data (0xFF is stuffed), and an EXIF thumbnail's
/// markers all precede the main image's scans, so "an EOI after the last
/// SOS" is a sound completeness test.
fn check_complete(bytes: &[u8]) -> Result<(), Error> {
    let last_marker = |marker: u8| bytes.windows(2).rposition(|w| w == [0xff, marker]);
    match (last_marker(0xda), last_marker(0xd9)) {
        (Some(sos), Some(eoi)) if eoi > sos => Ok(()),
        (None, _) => Err(decode_error(
            "no image data (no start-of-scan marker)".to_owned(),
        )),
        _ => Err(decode_error(
            "truncated: the data ends before the end-of-image marker".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness_check() {
        assert!(check_complete(&[0xff, 0xd8, 0xff, 0xda, 1, 2, 0xff, 0xd9]).is_ok());
        assert!(check_complete(&[0xff, 0xd8, 0xff, 0xda, 1, 2, 0xff, 0xd9, 0, 0]).is_ok());
        let truncated = check_complete(&[0xff, 0xd8, 0xff, 0xda, 1, 2]).unwrap_err();
        assert!(truncated.to_string().contains("truncated"), "{truncated}");
        // A thumbnail's EOI before the main scan does not count.
        assert!(check_complete(&[0xff, 0xd8, 0xff, 0xd9, 0xff, 0xda, 1]).is_err());
        assert!(check_complete(&[0xff, 0xd8, 0xff, 0xd9]).is_err());
    }
}
