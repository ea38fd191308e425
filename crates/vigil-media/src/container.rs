//! Which bytes FFmpeg may be asked to demux.
//!
//! FFmpeg left to probe a file picks any of its ~350 demuxers, and some of
//! them are not containers but recipes naming other inputs: an HLS playlist
//! or DASH manifest lists segment URLs and paths (`file:///etc/...`), a
//! concat script lists files, an SDP description opens sockets. Handed an
//! upload, such a demuxer reads the server's own files and answers their
//! hashes (or, by failing or not, whether they exist). So Vigil names the
//! container from the bytes itself, hands FFmpeg that one demuxer with
//! `-f`, and refuses everything else before FFmpeg runs: a recognised
//! playlist or manifest with [`Error::VideoRefused`], anything else with
//! [`Error::UnsupportedVideo`]. None of the whitelisted demuxers opens a
//! second input (the MOV demuxer's external data references stay off, its
//! default), and FFmpeg is also told to allow only this demuxer and the
//! `file` protocol, in case one ever tries.

use crate::Error;

/// A video container Vigil lets FFmpeg demux.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Container {
    /// ISO base media: MP4, MOV, 3GP, M4V (FFmpeg's `mov` demuxer).
    Mp4,
    /// Matroska and WebM.
    Matroska,
    /// AVI (RIFF).
    Avi,
    /// Flash video.
    Flv,
    /// MPEG transport stream (188-byte packets, or 192 as in M2TS).
    MpegTs,
    /// MPEG program stream (VOB, `.mpg`).
    MpegPs,
    /// Ogg (Theora).
    Ogg,
    /// Windows Media (ASF, WMV).
    Asf,
    /// Animated GIF.
    Gif,
}

impl Container {
    /// The FFmpeg demuxer given to `-f` and `-format_whitelist`.
    pub fn demuxer(self) -> &'static str {
        match self {
            Self::Mp4 => "mov",
            Self::Matroska => "matroska",
            Self::Avi => "avi",
            Self::Flv => "flv",
            Self::MpegTs => "mpegts",
            Self::MpegPs => "mpeg",
            Self::Ogg => "ogg",
            Self::Asf => "asf",
            Self::Gif => "gif",
        }
    }
}

/// How many leading bytes [`video_container`] looks at.
pub const CONTAINER_SNIFF_BYTES: usize = 4096;

/// The containers accepted, for error messages.
const ACCEPTED: &str = "mp4/mov, matroska/webm, avi, flv, mpeg-ts, mpeg-ps, ogg, asf/wmv, gif";

/// Names the container of a video from its first bytes (at least
/// [`CONTAINER_SNIFF_BYTES`] when the file is that long), or refuses it.
pub fn video_container(head: &[u8]) -> Result<Container, Error> {
    if let Some(what) = playlist(head) {
        return Err(Error::VideoRefused { what });
    }
    container(head).ok_or_else(|| Error::UnsupportedVideo {
        prefix: crate::error::hex_prefix(head),
        accepted: ACCEPTED,
    })
}

/// The container named by magic numbers, if any.
pub(crate) fn container(head: &[u8]) -> Option<Container> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    // ISO boxes a file may open with: QuickTime files need not start with
    // `ftyp`, and a real MP4 must never be refused.
    const BOXES: [&[u8; 4]; 8] = [
        b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid",
    ];
    let ts_sync = |first: usize, stride: usize| at(first, &[0x47]) && at(first + stride, &[0x47]);
    if head.len() >= 8 && BOXES.iter().any(|b| at(4, *b)) {
        Some(Container::Mp4)
    } else if starts(&[0x1a, 0x45, 0xdf, 0xa3]) {
        Some(Container::Matroska)
    } else if starts(b"RIFF") && at(8, b"AVI ") {
        Some(Container::Avi)
    } else if starts(b"FLV\x01") {
        Some(Container::Flv)
    } else if starts(b"OggS") {
        Some(Container::Ogg)
    } else if starts(&[0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]) {
        Some(Container::Asf)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some(Container::Gif)
    } else if starts(&[0, 0, 1, 0xba]) {
        Some(Container::MpegPs)
    } else if ts_sync(0, 188) || ts_sync(4, 192) {
        Some(Container::MpegTs)
    } else {
        None
    }
}

/// What a playlist, manifest or other recipe naming further inputs is, if
/// `head` is one (text after an optional BOM and blank space).
pub(crate) fn playlist(head: &[u8]) -> Option<&'static str> {
    let head = &head[..head.len().min(CONTAINER_SNIFF_BYTES)];
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[start..];
    let starts = |prefix: &str| {
        text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    let line_starts = |prefix: &str| {
        starts(prefix) && matches!(text.get(prefix.len()), None | Some(b'\r' | b'\n'))
    };
    if starts("#EXTM3U") {
        return Some("HLS or M3U playlist");
    }
    if starts("#EXTINF") || starts("#EXT-X-") {
        return Some("M3U playlist");
    }
    if starts("ffconcat") {
        return Some("FFmpeg concat script");
    }
    if starts("[playlist]") {
        return Some("PLS playlist");
    }
    if line_starts("v=0") {
        return Some("SDP session description");
    }
    if starts("RTSP/") || starts("rtsp://") || starts("rtmp://") || starts("file://") {
        return Some("stream or file address");
    }
    let root = root_element(text)?;
    let local = root.rsplit(|b| *b == b':').next().unwrap_or(root);
    [
        ("mpd", "DASH manifest"),
        ("smoothstreamingmedia", "Smooth Streaming manifest"),
        ("compositionplaylist", "IMF composition playlist"),
        ("assetmap", "IMF asset map"),
        ("playlist", "XSPF playlist"),
        ("smil", "SMIL presentation"),
        ("asx", "ASX playlist"),
    ]
    .into_iter()
    .find(|(tag, _)| local.eq_ignore_ascii_case(tag.as_bytes()))
    .map(|(_, what)| what)
}

/// The name of the first element of an XML document, past its prolog,
/// comments and doctype; `None` when `text` is not XML or the name is not
/// within it. Only the root counts, so a web page that mentions `<mpd>`
/// stays a web page.
fn root_element(mut text: &[u8]) -> Option<&[u8]> {
    loop {
        let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
        text = &text[start..];
        let skip_past = |text: &[u8], end: &[u8]| {
            text.windows(end.len())
                .position(|w| w == end)
                .map(|at| at + end.len())
        };
        if text.starts_with(b"<?") {
            text = &text[skip_past(text, b"?>")?..];
        } else if text.starts_with(b"<!--") {
            text = &text[skip_past(text, b"-->")?..];
        } else if text.starts_with(b"<!") {
            text = &text[skip_past(text, b">")?..];
        } else if text.starts_with(b"<") {
            let name = &text[1..];
            let end = name
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))?;
            return Some(&name[..end]);
        } else {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_named_from_their_magic() {
        let cases: [(&[u8], Container); 10] = [
            (b"\0\0\0\x20ftypisom\0\0\x02\0", Container::Mp4),
            (b"\0\0\0\x08wide\0\0\0\0mdat", Container::Mp4),
            (b"\0\x01\0\0moov", Container::Mp4),
            (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", Container::Matroska),
            (b"RIFF\0\0\0\0AVI LIST", Container::Avi),
            (b"FLV\x01\x05\0\0\0\x09", Container::Flv),
            (b"OggS\0\x02", Container::Ogg),
            (b"GIF89a\x01\0", Container::Gif),
            (b"\0\0\x01\xba\x44", Container::MpegPs),
            (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9", Container::Asf),
        ];
        for (bytes, expected) in cases {
            assert_eq!(video_container(bytes).ok(), Some(expected), "{bytes:?}");
        }
        let mut ts = vec![0u8; 400];
        ts[0] = 0x47;
        ts[188] = 0x47;
        assert_eq!(video_container(&ts).ok(), Some(Container::MpegTs));
        ts[188] = 0;
        assert!(video_container(&ts).is_err(), "a lone 0x47 is not a stream");
        assert!(video_container(b"Good morning").is_err());
    }

    #[test]
    fn playlists_and_manifests_are_refused_by_name() {
        let cases: [(&[u8], &str); 12] = [
            (b"#EXTM3U\n#EXTINF:10,\n/srv/a.mp4\n", "HLS"),
            (b"\xef\xbb\xbf  #extm3u\r\n", "HLS"),
            (b"#EXTINF:-1,x\nfile:///etc/passwd", "M3U"),
            (b"ffconcat version 1.0\nfile '/srv/a.mp4'\n", "concat"),
            (b"[playlist]\nFile1=/srv/a.mp4\n", "PLS"),
            (b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n", "SDP"),
            (b"file:///srv/a.mp4\n", "address"),
            (
                b"<?xml version=\"1.0\"?>\n<!-- x -->\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\"><BaseURL>file:///srv/</BaseURL></MPD>",
                "DASH",
            ),
            (b"<?xml version=\"1.0\"?><playlist version=\"1\" xmlns=\"http://xspf.org/ns/0/\">", "XSPF"),
            (b"<CompositionPlaylist xmlns=\"http://www.smpte-ra.org/schemas/2067-3/2016\">", "IMF"),
            (b"<SmoothStreamingMedia MajorVersion=\"2\">", "Smooth"),
            (b"<asx version=\"3.0\"><entry><ref href=\"file:///a\"/></entry></asx>", "ASX"),
        ];
        for (bytes, name) in cases {
            match video_container(bytes) {
                Err(Error::VideoRefused { what }) => assert!(what.contains(name), "{what}"),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
            }
        }
    }

    #[test]
    fn anything_else_is_unsupported() {
        for bytes in [
            &b""[..],
            b"hello",
            b"%PDF-1.7",
            b"\x89PNG\r\n\x1a\n",
            b"FLV",
        ] {
            let refused = video_container(bytes);
            assert!(
                matches!(refused, Err(Error::UnsupportedVideo { .. })),
                "{bytes:?}: {refused:?}"
            );
        }
        // Only the root element names a manifest.
        let page = b"<!doctype html><html><body><p>&lt;MPD&gt; files: <mpd></body></html>";
        assert!(matches!(
            video_container(page),
            Err(Error::UnsupportedVideo { .. })
        ));
    }

    #[test]
    fn every_reference_video_is_accepted() {
        let videos = vigil_testkit::vpdq_vectors().join("videos");
        let mut seen = 0;
        for entry in std::fs::read_dir(videos).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "mp4") {
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(
                    video_container(&bytes[..bytes.len().min(CONTAINER_SNIFF_BYTES)]).ok(),
                    Some(Container::Mp4),
                    "{}",
                    path.display()
                );
                seen += 1;
            }
        }
        assert!(seen >= 10, "only {seen} reference videos");
    }
}
