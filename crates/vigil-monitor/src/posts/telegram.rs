//! Telegram Desktop channel exports (`result.json` from "Export chat
//! history", machine-readable JSON), read as a stream: one message at a
//! time through typed serde shapes, never a tree of the whole file, so
//! memory follows the posts kept, not the file's size.

use std::collections::VecDeque;
use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use url::Url;

use super::Post;
use crate::MonitorError;
use crate::outlinks::{canonical, extract_links};

/// Reads a channel export: one post per message, outlinks from its text
/// and text entities (`link`, `text_link`), attachments from its `photo`
/// and `file` fields. Service messages are skipped.
pub fn parse_telegram_export(bytes: &[u8]) -> Result<Vec<Post>, MonitorError> {
    read_telegram_export(bytes, usize::MAX)
}

/// As [`parse_telegram_export`], from a reader (a file, unbuffered reads
/// are buffered here), keeping only the last `max_posts` messages in the
/// export's order (Telegram writes oldest first, so the newest).
pub fn read_telegram_export(
    reader: impl Read,
    max_posts: usize,
) -> Result<Vec<Post>, MonitorError> {
    let reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let export = ExportSeed { max_posts }
        .deserialize(&mut deserializer)
        .and_then(|export| deserializer.end().map(|()| export))
        .map_err(|e| MonitorError::Source(format!("not a Telegram export: {e}")))?;
    let Some(messages) = export.messages else {
        return Err(MonitorError::Source(
            "not a Telegram export: no \"messages\" list".to_owned(),
        ));
    };
    let channel = export.name.unwrap_or_else(|| "channel".to_owned());
    Ok(messages
        .into_iter()
        .map(|(id, mut post)| {
            post.key = format!("{channel}/{id}");
            post
        })
        .collect())
}

/// The export's top level as read: its name and the kept messages, each
/// with its id (keys are made once the name is known, which may come
/// after the messages).
struct Export {
    name: Option<String>,
    messages: Option<VecDeque<(i64, Post)>>,
}

struct ExportSeed {
    max_posts: usize,
}

impl<'de> DeserializeSeed<'de> for ExportSeed {
    type Value = Export;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Export, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ExportSeed {
    type Value = Export;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with a \"messages\" list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Export, A::Error> {
        let mut export = Export {
            name: None,
            messages: None,
        };
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Name => export.name = map.next_value::<Lenient<String>>()?.0,
                Key::Messages => {
                    export.messages = Some(map.next_value_seed(MessagesSeed {
                        max_posts: self.max_posts,
                    })?);
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(export)
    }
}

/// A top-level key, without keeping the ones not read.
enum Key {
    Name,
    Messages,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "name" => Key::Name,
                    "messages" => Key::Messages,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct MessagesSeed {
    max_posts: usize,
}

impl<'de> DeserializeSeed<'de> for MessagesSeed {
    type Value = VecDeque<(i64, Post)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for MessagesSeed {
    type Value = VecDeque<(i64, Post)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut kept = VecDeque::new();
        while let Some(message) = seq.next_element::<Lenient<Message>>()? {
            let Some((id, post)) = message.0.and_then(Message::into_post) else {
                continue;
            };
            if kept.len() == self.max_posts {
                kept.pop_front();
            }
            if self.max_posts > 0 {
                kept.push_back((id, post));
            }
        }
        Ok(kept)
    }
}

/// One message, only the fields read. Fields of unexpected types are
/// ignored, as a reader of a foreign format must.
#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    id: Lenient<i64>,
    #[serde(rename = "type", default)]
    kind: Lenient<String>,
    #[serde(default)]
    date_unixtime: Lenient<UnixTime>,
    #[serde(default)]
    text: Lenient<Text>,
    #[serde(default)]
    text_entities: Lenient<Text>,
    #[serde(default)]
    photo: Lenient<String>,
    #[serde(default)]
    file: Lenient<String>,
}

impl Message {
    fn into_post(self) -> Option<(i64, Post)> {
        if self.kind.0.as_deref() != Some("message") {
            return None;
        }
        let id = self.id.0?;
        let mut text = String::new();
        let mut hrefs = Vec::new();
        if let Some(parts) = self.text_entities.0.or(self.text.0) {
            parts.collect(&mut text, &mut hrefs);
        }
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
        let attachments = [self.photo.0, self.file.0]
            .into_iter()
            .flatten()
            .filter(|path| !path.starts_with('(')) // "(File not included. …)"
            .collect();
        Some((
            id,
            Post {
                key: String::new(),
                url: None,
                published_at: self.date_unixtime.0.map(|t| t.0.saturating_mul(1000)),
                links,
                attachments,
            },
        ))
    }
}

/// A value of type `T`, or `None` when the field holds something else.
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Buffering one field of one message is bounded by that message.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either<T> {
            Wanted(T),
            Other(IgnoredAny),
        }
        Ok(Self(match Either::<T>::deserialize(deserializer)? {
            Either::Wanted(value) => Some(value),
            Either::Other(_) => None,
        }))
    }
}

/// `date_unixtime`: seconds as a string (Telegram's form) or a number.
struct UnixTime(i64);

impl<'de> Deserialize<'de> for UnixTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Number(i64),
            Text(String),
        }
        match Form::deserialize(deserializer)? {
            Form::Number(seconds) => Ok(Self(seconds)),
            Form::Text(text) => text
                .parse()
                .map(Self)
                .map_err(|_| de::Error::custom("not a Unix time")),
        }
    }
}

/// A message's text: a string, or a list of strings and entity objects.
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    Plain(String),
    Parts(Vec<Lenient<Part>>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Part {
    Plain(String),
    Entity {
        #[serde(default)]
        text: Lenient<String>,
        #[serde(default)]
        href: Lenient<String>,
    },
}

impl Text {
    /// Gathers the text and the hidden URLs of its `text_link` entities.
    fn collect(self, text: &mut String, hrefs: &mut Vec<String>) {
        let parts = match self {
            Self::Plain(plain) => {
                text.push_str(&plain);
                return;
            }
            Self::Parts(parts) => parts,
        };
        for part in parts.into_iter().filter_map(|part| part.0) {
            match part {
                Part::Plain(plain) => text.push_str(&plain),
                Part::Entity { text: part, href } => {
                    hrefs.extend(href.0);
                    if let Some(part) = part.0 {
                        // Entities are contiguous pieces of one text; a
                        // space keeps a link from running into the next word.
                        text.push_str(&part);
                        text.push(' ');
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(messages: usize) -> String {
        let body: Vec<String> = (1..=messages)
            .map(|id| {
                format!(
                    r#"{{"id": {id}, "type": "message", "date_unixtime": "{}", "text": ["calm lake {id} ", {{"type": "link", "text": "http://lake.test/{id}"}}], "extra": {{"nested": [1, 2, {{"a": null}}]}}}}"#,
                    1_700_000_000 + id
                )
            })
            .collect();
        format!(
            r#"{{"messages": [{}], "name": "Lake", "type": "public_channel"}}"#,
            body.join(",")
        )
    }

    #[test]
    fn only_the_newest_messages_are_kept_and_the_name_may_come_last() {
        let posts = read_telegram_export(export(50).as_bytes(), 3).unwrap();
        let keys: Vec<&str> = posts.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["Lake/48", "Lake/49", "Lake/50"]);
        assert_eq!(posts[2].links[0].as_str(), "http://lake.test/50");
        assert_eq!(posts[2].published_at, Some(1_700_000_050_000));
        assert!(
            read_telegram_export(export(5).as_bytes(), 0)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn fields_of_unexpected_types_are_ignored_not_fatal() {
        let odd = r#"{"name": 7, "messages": [
            {"id": "x", "type": "message", "text": "no id"},
            {"id": 4, "type": "message", "text": {"odd": true}, "photo": 3,
             "date_unixtime": "soon", "text_entities": [1, {"text": 2, "href": "http://ok.test/"}]},
            "not a message", 12]}"#;
        let posts = parse_telegram_export(odd.as_bytes()).unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].key, "channel/4");
        assert_eq!(posts[0].links[0].as_str(), "http://ok.test/");
        assert_eq!(posts[0].published_at, None);
        assert!(posts[0].attachments.is_empty());
    }

    #[test]
    fn deep_nesting_is_skipped_or_refused_and_trailing_bytes_refused() {
        let deep = |at_top: bool| {
            let value = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
            if at_top {
                format!(r#"{{"messages": [], "x": {value}}}"#)
            } else {
                format!(r#"{{"messages": [{{"id": 1, "type": "message", "x": {value}}}]}}"#)
            }
        };
        // Skipped without recursion where nothing is read; refused by
        // serde_json's nesting limit inside a message.
        assert!(
            parse_telegram_export(deep(true).as_bytes())
                .unwrap()
                .is_empty()
        );
        assert!(parse_telegram_export(deep(false).as_bytes()).is_err());
        assert!(parse_telegram_export(br#"{"messages": []} trailing"#).is_err());
        assert!(parse_telegram_export(br#"{"messages": 3}"#).is_err());
    }
}
