//! Reading sources into posts: RSS/Atom/JSON feeds, HTML pages and
//! Telegram Desktop channel exports, each turned into the same [`Post`]
//! with its outlinks. Pure functions of bytes; fetching is the runner's.

use scraper::{Html, Selector};
use serde_json::Value;
use url::Url;

use super::MonitorError;
use super::outlinks::{canonical, extract_links};

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

/// Elements whose URL attribute points at media or other content.
const LINK_ATTRIBUTES: [(&str, &str); 7] = [
    ("a[href]", "href"),
    ("img[src]", "src"),
    ("video[src]", "src"),
    ("audio[src]", "src"),
    ("source[src]", "src"),
    ("iframe[src]", "src"),
    ("embed[src]", "src"),
];

/// Links in an HTML document or fragment: element URLs resolved against
/// `base`, then links written in its text (often defanged), in order.
pub fn html_links(html: &str, base: Option<&Url>) -> Vec<Url> {
    let document = Html::parse_document(html);
    let mut links: Vec<Url> = Vec::new();
    for (selector, attribute) in LINK_ATTRIBUTES {
        let Ok(selector) = Selector::parse(selector) else {
            continue;
        };
        for element in document.select(&selector) {
            let Some(value) = element.value().attr(attribute) else {
                continue;
            };
            let joined = match base {
                Some(base) => base.join(value.trim()).ok(),
                None => Url::parse(value.trim()).ok(),
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
    let text: String = document.root_element().text().collect::<Vec<_>>().join(" ");
    for url in extract_links(&text) {
        if !links.contains(&url) {
            links.push(url);
        }
    }
    links
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
    Post {
        key: page_url.to_string(),
        url: Some(page_url.to_string()),
        published_at: None,
        links: html_links(html, Some(page_url)),
        attachments: Vec::new(),
    }
}

/// Reads a channel export in Telegram Desktop's JSON format (`result.json`
/// from "Export chat history", machine-readable JSON): one post per
/// message, outlinks from its text and text entities (`link`, `text_link`),
/// attachments from its `photo` and `file` fields. Service messages are
/// skipped.
pub fn parse_telegram_export(bytes: &[u8]) -> Result<Vec<Post>, MonitorError> {
    let export: Value = serde_json::from_slice(bytes)
        .map_err(|e| MonitorError::Source(format!("not a Telegram export: {e}")))?;
    let messages = export
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            MonitorError::Source("not a Telegram export: no \"messages\" list".to_owned())
        })?;
    let channel = export
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("channel");
    let mut posts = Vec::new();
    for message in messages {
        if message.get("type").and_then(Value::as_str) != Some("message") {
            continue;
        }
        let Some(id) = message.get("id").and_then(Value::as_i64) else {
            continue;
        };
        let mut text = String::new();
        let mut hrefs = Vec::new();
        let entities = message.get("text_entities").or_else(|| message.get("text"));
        collect_text(entities.unwrap_or(&Value::Null), &mut text, &mut hrefs);
        let mut links: Vec<Url> = Vec::new();
        for url in hrefs
            .iter()
            .filter_map(|href| canonical(href))
            .chain(extract_links(&text))
        {
            if !links.contains(&url) {
                links.push(url);
            }
        }
        let attachments = ["photo", "file"]
            .iter()
            .filter_map(|field| message.get(*field).and_then(Value::as_str))
            .filter(|path| !path.starts_with('(')) // "(File not included. …)"
            .map(str::to_owned)
            .collect();
        let published_at = message
            .get("date_unixtime")
            .and_then(|v| {
                v.as_str()
                    .and_then(|s| s.parse::<i64>().ok())
                    .or(v.as_i64())
            })
            .map(|seconds| seconds.saturating_mul(1000));
        posts.push(Post {
            key: format!("{channel}/{id}"),
            url: None,
            published_at,
            links,
            attachments,
        });
    }
    Ok(posts)
}

/// Gathers a message's text (a string, or a list of strings and entity
/// objects) and the hidden URLs of its `text_link` entities.
fn collect_text(value: &Value, text: &mut String, hrefs: &mut Vec<String>) {
    match value {
        Value::String(part) => {
            text.push_str(part);
        }
        Value::Array(parts) => {
            for part in parts {
                collect_text(part, text, hrefs);
            }
        }
        Value::Object(entity) => {
            if let Some(href) = entity.get("href").and_then(Value::as_str) {
                hrefs.push(href.to_owned());
            }
            if let Some(part) = entity.get("text").and_then(Value::as_str) {
                // Entities are contiguous pieces of one text; a space keeps
                // a link from running into the next word.
                text.push_str(part);
                text.push(' ');
            }
        }
        _ => {}
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
