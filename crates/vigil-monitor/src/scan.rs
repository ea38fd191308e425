//! What a fetched link points to: its media kind and signals, and for a
//! web page (a locker's landing page, a paste) the media it embeds and
//! whether it reads like a takedown notice.

use url::Url;
use vigil_media::{HashOptions, Hashed, HtmlPage, Item, LinkElement, MediaKind, Sniffed};
use vigil_store::Signals;

use crate::MonitorError;
use crate::liveness::is_removal_notice;
use crate::outlinks::canonical;
use crate::posts::page_base;

/// File endings of media worth following from a page's plain links.
const MEDIA_ENDINGS: [&str; 14] = [
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".mp4", ".webm", ".mkv",
    ".mov", ".avi", ".pdf",
];

/// A fetched body, scanned.
#[derive(Debug, Clone, PartialEq)]
pub struct Scanned {
    /// What it is.
    pub kind: MediaKind,
    /// Its signals (a text's sketch at query size).
    pub signals: Signals,
    /// For a web page: whether it reads like a "file removed" notice.
    pub removal_notice: bool,
    /// For a web page: media it embeds or links to directly, to fetch as
    /// sightings of their own.
    pub embedded: Vec<Url>,
}

/// Scans `bytes` fetched from `url`. Errors for content Vigil cannot read
/// (unknown formats, undecodable images, videos without FFmpeg).
pub fn scan_bytes(
    bytes: &[u8],
    url: Option<&Url>,
    options: &HashOptions,
) -> Result<Scanned, MonitorError> {
    // A web page is read as a page, for its links and a removal notice, and
    // kept as far as it was read; everything else is hashed as what it is.
    if let Sniffed::Other(MediaKind::Text, "html") = vigil_media::sniff(bytes) {
        let page = vigil_media::read_html(bytes, &options.html);
        if let Some(limit) = page.truncated {
            tracing::warn!(
                url = url.map(Url::as_str).unwrap_or_default(),
                %limit,
                "web page read in part"
            );
        }
        let document = vigil_media::hash_html_page(bytes, &page);
        return Ok(Scanned {
            kind: MediaKind::Text,
            signals: Signals::from_values(Hashed::Document(document).signals())?,
            removal_notice: is_removal_notice(&page.text),
            embedded: embedded_media(&page, url),
        });
    }
    let hashed = vigil_media::hash_item(Item::Bytes(bytes), None, options)?;
    Ok(Scanned {
        kind: hashed.kind(),
        signals: Signals::from_values(hashed.signals())?,
        removal_notice: false,
        embedded: Vec::new(),
    })
}

/// Media a page read with [`vigil_media::read_html`] shows (`img`,
/// `video`, `audio`, `source`, `embed`) or links to as a file (`a href`
/// ending in a media extension): what a locker's landing page wraps around
/// the file.
fn embedded_media(page: &HtmlPage, base: Option<&Url>) -> Vec<Url> {
    let resolve_against = page_base(page, base);
    let mut found: Vec<Url> = Vec::new();
    let elements = [
        (LinkElement::Img, false),
        (LinkElement::Video, false),
        (LinkElement::Audio, false),
        (LinkElement::Source, false),
        (LinkElement::Embed, false),
        (LinkElement::A, true),
    ];
    for (wanted, only_media_files) in elements {
        for link in page.links.iter().filter(|link| link.element == wanted) {
            let value = link.url.trim();
            let Some(url) = resolve_against
                .as_ref()
                .map_or_else(|| Url::parse(value), |b| b.join(value))
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .and_then(|u| canonical(u.as_str()))
            else {
                continue;
            };
            let path = url.path().to_ascii_lowercase();
            if only_media_files && !MEDIA_ENDINGS.iter().any(|end| path.ends_with(end)) {
                continue;
            }
            if !found.contains(&url) && Some(&url) != base {
                found.push(url);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landing_pages_yield_their_media_and_removal_notices() {
        let page = br#"<!doctype html><html><body><h1>beach.jpg</h1>
<img src="/raw/beach.jpg"><a href="/about">About</a><a href="dl/beach.JPG?x=1">Download</a>
</body></html>"#;
        let base = Url::parse("http://locker.test/f/1").unwrap();
        let scanned = scan_bytes(page, Some(&base), &HashOptions::default()).unwrap();
        assert_eq!(scanned.kind, MediaKind::Text);
        assert!(!scanned.removal_notice);
        let embedded: Vec<String> = scanned.embedded.iter().map(Url::to_string).collect();
        assert_eq!(
            embedded,
            [
                "http://locker.test/raw/beach.jpg",
                "http://locker.test/f/dl/beach.JPG?x=1"
            ]
        );
        let removed =
            b"<!doctype html><html><body><p>This file has been removed.</p></body></html>";
        let scanned = scan_bytes(removed, Some(&base), &HashOptions::default()).unwrap();
        assert!(scanned.removal_notice);
    }

    #[test]
    fn unknown_bytes_are_refused() {
        assert!(scan_bytes(b"\x00\x01\x02garbage", None, &HashOptions::default()).is_err());
    }
}
