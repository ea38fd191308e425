//! Naming media from its first bytes.

use std::fmt;

/// What an item is, in HMA's content-type vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A still image.
    Photo,
    /// A video container.
    Video,
    /// A PDF document.
    Pdf,
    /// Text: a plain text file or a web page.
    Text,
}

impl MediaKind {
    /// The kind's name in APIs and output (`photo`, `video`, `pdf`, `text`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Photo => "photo",
            Self::Video => "video",
            Self::Pdf => "pdf",
            Self::Text => "text",
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An image format Vigil decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JPEG / JFIF / EXIF.
    Jpeg,
    /// PNG.
    Png,
    /// GIF (the first frame is hashed).
    Gif,
    /// WebP, lossy or lossless.
    Webp,
    /// TIFF.
    Tiff,
    /// Windows bitmap.
    Bmp,
}

impl Format {
    /// Lowercase name, as in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Tiff => "tiff",
            Self::Bmp => "bmp",
        }
    }

    pub(crate) fn to_image_format(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::Gif => image::ImageFormat::Gif,
            Self::Webp => image::ImageFormat::WebP,
            Self::Tiff => image::ImageFormat::Tiff,
            Self::Bmp => image::ImageFormat::Bmp,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// An image in a format Vigil decodes.
    Image(Format),
    /// Another kind of media, recognised by its container (`mp4`, `pdf`, …).
    Other(MediaKind, &'static str),
    /// Nothing recognised.
    Unknown,
}

/// Names the media in `bytes` by magic numbers alone; file names lie.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
    if starts(&[0xff, 0xd8, 0xff]) {
        Sniffed::Image(Format::Jpeg)
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Sniffed::Image(Format::Png)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Sniffed::Image(Format::Gif)
    } else if starts(b"RIFF") && at(8, b"WEBP") {
        Sniffed::Image(Format::Webp)
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        Sniffed::Image(Format::Tiff)
    } else if starts(b"BM") && bytes.len() >= 26 {
        Sniffed::Image(Format::Bmp)
    } else if bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        // Readers accept junk before the header, so PDFs in the wild have it.
        Sniffed::Other(MediaKind::Pdf, "pdf")
    } else if at(4, b"ftyp") {
        Sniffed::Other(MediaKind::Video, "mp4")
    } else if starts(&[0x1a, 0x45, 0xdf, 0xa3]) {
        Sniffed::Other(MediaKind::Video, "matroska/webm")
    } else if starts(b"RIFF") && at(8, b"AVI ") {
        Sniffed::Other(MediaKind::Video, "avi")
    } else if starts(b"FLV") {
        Sniffed::Other(MediaKind::Video, "flv")
    } else if crate::container::playlist(bytes).is_some() {
        // A video by intent, and refused as one: never hashed as text, so a
        // playlist given as a file is a clear `video_refused`, not a match
        // on its list of paths.
        Sniffed::Other(MediaKind::Video, "playlist")
    } else if crate::text::looks_like_html(bytes) {
        Sniffed::Other(MediaKind::Text, "html")
    } else if crate::text::looks_like_text(bytes) {
        Sniffed::Other(MediaKind::Text, "text")
    } else {
        Sniffed::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(
            sniff(&[0xff, 0xd8, 0xff, 0xe0]),
            Sniffed::Image(Format::Jpeg)
        );
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Sniffed::Image(Format::Webp));
        assert_eq!(
            sniff(b"RIFF\0\0\0\0AVI LIST"),
            Sniffed::Other(MediaKind::Video, "avi")
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmp42"),
            Sniffed::Other(MediaKind::Video, "mp4")
        );
        assert_eq!(sniff(b"%PDF-1.7"), Sniffed::Other(MediaKind::Pdf, "pdf"));
        assert_eq!(
            sniff(b"BM"),
            Sniffed::Other(MediaKind::Text, "text"),
            "too short to be a bitmap"
        );
        assert_eq!(
            sniff(b"junk\n%PDF-1.4"),
            Sniffed::Other(MediaKind::Pdf, "pdf")
        );
        assert_eq!(sniff(b"hello"), Sniffed::Other(MediaKind::Text, "text"));
        assert_eq!(
            sniff(b"#EXTM3U\n#EXTINF:10,\nfile:///srv/a.mp4\n"),
            Sniffed::Other(MediaKind::Video, "playlist")
        );
        assert_eq!(
            sniff(b"<!doctype html><title>t</title>"),
            Sniffed::Other(MediaKind::Text, "html")
        );
        assert_eq!(sniff(b"\x00\x01\x02garbage"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
    }
}
