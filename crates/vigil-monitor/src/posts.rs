//! Reading sources into posts: RSS/Atom/JSON feeds, HTML pages and
//! Telegram Desktop channel exports, each turned into the same [`Post`]
//! with its outlinks. Pure functions of bytes; fetching is the runner's.

use url::Url;
use vigil_media::{HtmlLimit, HtmlLimits, HtmlPage, LinkElement, read_html, read_html_str};

use crate::MonitorError;
use crate::outlinks::{canonical, extract_links};

mod telegram;

pub use telegram::{parse_telegram_export, read_telegram_export};

/// One post of a source and what it links to.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The post's key within its source: feed entry id, message id, or the
    /// page URL.
    pub key: String,
    /// A link to the post itself, when there is one.
    pub url: Option<String>,
    /// When the post says it was published (Unix ms).
    pub published_at: Option<i64>,
    /// Outlinks, canonical and distinct, in order of appearance.
    pub links: Vec<Url>,
    /// Files attached to the post (exports: paths relative to the export).
    pub attachments: Vec<String>,
}

/// Elements whose URL attribute points at media or other content, in the
/// order their links are listed.
const LINK_ELEMENTS: [LinkElement; 7] = [
    LinkElement::A,
    LinkElement::Img,
    LinkElement::Video,
    LinkElement::Audio,
    LinkElement::Source,
    LinkElement::Iframe,
    LinkElement::Embed,
];

/// Links in an HTML document or fragment, read under the default
/// [`HtmlLimits`] (see [`page_links`]).
pub fn html_links(html: &str, base: Option<&Url>) -> Vec<Url> {
    page_links(&read_html_str(html, &HtmlLimits::default()), base)
}

/// Links of a page read with [`vigil_media::read_html`]: element URLs
/// resolved against its `<base href>` or `base`, then links written in its
/// text (often defanged), in order.
pub fn page_links(page: &HtmlPage, base: Option<&Url>) -> Vec<Url> {
    let base = page_base(page, base);
    let mut links: Vec<Url> = Vec::new();
    for wanted in LINK_ELEMENTS {
        for link in page.links.iter().filter(|link| link.element == wanted) {
            let value = link.url.trim();
            let joined = match &base {
                Some(base) => base.join(value).ok(),
                None => Url::parse(value).ok(),
            };
            if let Some(url) = joined
                .filter(|url| matches!(url.scheme(), "http" | "https" | "ipfs" | "ipns"))
                .and_then(|url| canonical(url.as_str()))
                && !links.contains(&url)
            {
                links.push(url);
            }
        }
    }
    for url in extract_links(&page.all_text) {
        if !links.contains(&url) {
            links.push(url);
        }
    }
    links
}

/// What a page's relative links resolve against: its `<base href>`
/// (itself resolved against the page's URL, as browsers do), else `base`.
pub(crate) fn page_base(page: &HtmlPage, base: Option<&Url>) -> Option<Url> {
    let declared = page.base.as_deref().map(str::trim);
    match (declared, base) {
        (Some(declared), Some(base)) => base.join(declared).ok().or_else(|| Some(base.clone())),
        (Some(declared), None) => Url::parse(declared).ok(),
        (None, base) => base.cloned(),
    }
}

/// Deepest XML element nesting a feed may have: real feeds nest fewer
/// than ten levels (rss, channel, item, media group, content…).
pub const MAX_FEED_DEPTH: usize = 256;

/// Checks a feed before the feed parser sees it: at most `max_bytes`, and
/// XML nested at most [`MAX_FEED_DEPTH`] deep, by one linear pass that
/// never builds anything. The parser resolves only XML's predefined
/// entities (no DOCTYPE entity can expand), and JSON feeds go through
/// serde_json's own nesting limit.
pub fn check_feed(bytes: &[u8], max_bytes: usize) -> Result<(), MonitorError> {
    if bytes.len() > max_bytes {
        return Err(MonitorError::Source(format!(
            "the feed is {} bytes, more than {max_bytes}",
            bytes.len()
        )));
    }
    let deepest = xml_depth(bytes);
    if deepest > MAX_FEED_DEPTH {
        return Err(MonitorError::Source(format!(
            "the feed nests elements deeper than {MAX_FEED_DEPTH}"
        )));
    }
    Ok(())
}

/// The deepest element nesting of XML-ish bytes, counting `<name` up and
/// `</` and `/>` down, skipping comments, CDATA, declarations and quoted
/// attribute values. It over-counts only on broken markup, which the
/// parser refuses anyway.
fn xml_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0usize);
    let skip_to = |from: usize, end: &[u8]| {
        bytes[from..]
            .windows(end.len())
            .position(|w| w == end)
            .map_or(bytes.len(), |p| from + p + end.len())
    };
    while let Some(offset) = bytes[at..].iter().position(|&b| b == b'<') {
        at += offset + 1;
        let rest = &bytes[at..];
        if rest.starts_with(b"!--") {
            at = skip_to(at, b"-->");
        } else if rest.starts_with(b"![CDATA[") {
            at = skip_to(at, b"]]>");
        } else if rest.starts_with(b"!") || rest.starts_with(b"?") {
            at = skip_to(at, b">");
        } else if rest.starts_with(b"/") {
            depth = depth.saturating_sub(1);
        } else if rest.first().is_some_and(u8::is_ascii_alphabetic) {
            // Find the tag's end outside quoted values.
            let mut quote = None;
            let mut end = bytes.len();
            for (i, &b) in rest.iter().enumerate() {
                match (quote, b) {
                    (Some(q), b) if b == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => quote = Some(b),
                    (None, b'>') => {
                        end = at + i;
                        break;
                    }
                    _ => {}
                }
            }
            if end == bytes.len() || bytes[end - 1] != b'/' {
                depth += 1;
                deepest = deepest.max(depth);
            }
            at = end.min(bytes.len());
        }
    }
    deepest
}

/// Reads an RSS, Atom or JSON feed: one post per entry, its outlinks from
/// the content, summary, enclosures and media elements (the entry's own
/// link is the post URL, not an outlink).
pub fn parse_feed(bytes: &[u8], feed_url: &Url) -> Result<Vec<Post>, MonitorError> {
    let feed = feed_rs::parser::parse(bytes)
        .map_err(|e| MonitorError::Source(format!("not a feed: {e}")))?;
    let mut posts = Vec::with_capacity(feed.entries.len());
    for entry in feed.entries {
        let post_url = entry
            .links
            .iter()
            .find(|link| link.rel.as_deref().is_none_or(|rel| rel == "alternate"))
            .and_then(|link| feed_url.join(&link.href).ok());
        let base = post_url.as_ref().unwrap_or(feed_url);
        let mut links: Vec<Url> = Vec::new();
        let mut add = |url: Url| {
            if !links.contains(&url) && Some(&url) != post_url.as_ref() {
                links.push(url);
            }
        };
        let bodies = entry
            .content
            .as_ref()
            .and_then(|content| content.body.clone())
            .into_iter()
            .chain(
                entry
                    .summary
                    .as_ref()
                    .map(|summary| summary.content.clone()),
            )
            .chain(entry.title.as_ref().map(|title| title.content.clone()));
        for body in bodies {
            html_links(&body, Some(base)).into_iter().for_each(&mut add);
        }
        for link in &entry.links {
            if link.rel.as_deref() == Some("enclosure")
                && let Some(url) = feed_url
                    .join(&link.href)
                    .ok()
                    .and_then(|u| canonical(u.as_str()))
            {
                add(url);
            }
        }
        for media in &entry.media {
            for content in &media.content {
                if let Some(url) = content.url.as_ref().and_then(|u| canonical(u.as_str())) {
                    add(url);
                }
            }
        }
        let published = entry.published.or(entry.updated);
        let key = if entry.id.is_empty() {
            post_url.as_ref().map(Url::to_string).unwrap_or_default()
        } else {
            entry.id.clone()
        };
        posts.push(Post {
            key,
            url: post_url.map(String::from),
            published_at: published.map(|at| at.timestamp_millis()),
            links,
            attachments: Vec::new(),
        });
    }
    Ok(posts)
}

/// Reads an HTML page as one post: the page's links and media.
pub fn parse_page(html: &str, page_url: &Url) -> Post {
    page_post(&read_html_str(html, &HtmlLimits::default()), page_url)
}

/// Reads a fetched page's bytes (charset as declared) as one post under
/// `limits`; a page over them gives the links read before the limit, and
/// the limit.
pub fn parse_page_bytes(
    bytes: &[u8],
    page_url: &Url,
    limits: &HtmlLimits,
) -> (Post, Option<HtmlLimit>) {
    let page = read_html(bytes, limits);
    (page_post(&page, page_url), page.truncated)
}

fn page_post(page: &HtmlPage, page_url: &Url) -> Post {
    Post {
        key: page_url.to_string(),
        url: Some(page_url.to_string()),
        published_at: None,
        links: page_links(page, Some(page_url)),
        attachments: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(urls: &[Url]) -> Vec<String> {
        urls.iter().map(Url::to_string).collect()
    }

    #[test]
    fn rss_entries_with_defanged_links_and_enclosures() {
        let rss = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>beacon</title><link>http://beacon.test/</link>
<item><guid>post-1</guid><link>http://beacon.test/p/1</link>
<pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate>
<description>&lt;p&gt;New release: hxxp://locker[.]test/f/1 and &lt;a href="/p/2"&gt;older&lt;/a&gt;&lt;/p&gt;</description>
<enclosure url="http://cdn.test/poster.jpg" type="image/jpeg" length="1"/>
</item></channel></rss>"#;
        let posts = parse_feed(
            rss.as_bytes(),
            &Url::parse("http://beacon.test/feed").unwrap(),
        )
        .unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].key, "post-1");
        assert_eq!(posts[0].url.as_deref(), Some("http://beacon.test/p/1"));
        assert_eq!(posts[0].published_at, Some(1_749_528_000_000));
        assert_eq!(
            strings(&posts[0].links),
            [
                "http://beacon.test/p/2",
                "http://locker.test/f/1",
                "http://cdn.test/poster.jpg"
            ]
        );
    }

    #[test]
    fn atom_entries() {
        let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:feed</id>
<updated>2025-06-10T04:00:00Z</updated>
<entry><id>urn:entry:9</id><title>mirror</title><updated>2025-06-10T04:00:00Z</updated>
<link href="http://beacon.test/e/9"/>
<content type="html">&lt;img src="http://img.test/a.png"&gt; paste {.} test/raw/5</content></entry></feed>"#;
        let posts = parse_feed(
            atom.as_bytes(),
            &Url::parse("http://beacon.test/atom").unwrap(),
        )
        .unwrap();
        assert_eq!(posts[0].key, "urn:entry:9");
        assert_eq!(
            strings(&posts[0].links),
            ["http://img.test/a.png", "http://paste.test/raw/5"]
        );
    }

    #[test]
    fn pages_yield_links_and_media() {
        let html = r#"<html><body><a href="/next">next</a><img src="pics/1.jpg">
<video><source src="//cdn.test/v.mp4"></video><a href="mailto:x@y.test">mail</a>
<p>also hxxps://mirror[.]test/f/2</p><a href="javascript:alert(1)">x</a></body></html>"#;
        let post = parse_page(html, &Url::parse("http://site.test/dir/page").unwrap());
        assert_eq!(
            strings(&post.links),
            [
                "http://site.test/next",
                "http://site.test/dir/pics/1.jpg",
                "http://cdn.test/v.mp4",
                "https://mirror.test/f/2"
            ]
        );
    }

    #[test]
    fn feeds_over_the_caps_are_refused_before_parsing() {
        let item = "<item><title>calm lake</title></item>";
        let rss = format!("<rss><channel>{}</channel></rss>", item.repeat(100));
        assert!(check_feed(rss.as_bytes(), rss.len()).is_ok());
        assert!(check_feed(rss.as_bytes(), rss.len() - 1).is_err());
        let deep = format!(
            "<rss><channel><item><description>{}x{}</description></item></channel></rss>",
            "<b a='>'>".repeat(300),
            "</b>".repeat(300)
        );
        assert!(check_feed(deep.as_bytes(), usize::MAX).is_err());
        // Self-closing tags, comments, CDATA and declarations do not nest.
        let flat = format!(
            "<?xml version='1.0'?><!DOCTYPE rss><rss>{}<![CDATA[{}]]><!--{}--></rss>",
            "<enclosure url='x'/>".repeat(1000),
            "<a>".repeat(1000),
            "<b>".repeat(1000)
        );
        assert_eq!(xml_depth(flat.as_bytes()), 1);
        assert!(check_feed(flat.as_bytes(), usize::MAX).is_ok());
    }

    #[test]
    fn telegram_export_messages() {
        let export = r#"{"name": "Beacon", "type": "public_channel", "id": 1, "messages": [
 {"id": 1, "type": "service", "action": "create_channel", "date_unixtime": "1700000000"},
 {"id": 2, "type": "message", "date": "2023-11-14T22:13:20", "date_unixtime": "1700000000",
  "text": ["see ", {"type": "link", "text": "hxxp://locker[.]test/f/9"}, " or ",
           {"type": "text_link", "text": "here", "href": "http://mirror.test/v/9"}],
  "text_entities": [{"type": "plain", "text": "see "},
           {"type": "text_link", "text": "x", "href": "javascript://x.test/%0a"},
           {"type": "link", "text": "hxxp://locker[.]test/f/9"}, {"type": "plain", "text": " or "},
           {"type": "text_link", "text": "here", "href": "http://mirror.test/v/9"}],
  "photo": "photos/photo_2@14-11-2023_22-13-20.jpg"},
 {"id": 3, "type": "message", "date_unixtime": "1700000060", "text": "plain text only",
  "file": "(File not included. Change data exporting settings to download.)"}
]}"#;
        let posts = parse_telegram_export(export.as_bytes()).unwrap();
        assert_eq!(posts.len(), 2);
        assert_eq!(posts[0].key, "Beacon/2");
        assert_eq!(posts[0].published_at, Some(1_700_000_000_000));
        assert_eq!(
            strings(&posts[0].links),
            ["http://mirror.test/v/9", "http://locker.test/f/9"]
        );
        assert_eq!(
            posts[0].attachments,
            ["photos/photo_2@14-11-2023_22-13-20.jpg"]
        );
        assert!(posts[1].links.is_empty() && posts[1].attachments.is_empty());
        assert!(parse_telegram_export(b"{}").is_err());
        assert!(parse_telegram_export(b"not json").is_err());
    }
}
