//! What the ecosystem's sources look like on the wire.

use serde_json::{Value, json};

use crate::PostSpec;

/// Escapes text for HTML and XML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An RSS 2.0 feed of `posts` (newest first), each with a permalink on the
/// feed's host and its text as an HTML description.
pub(crate) fn rss(base: &str, posts: &[(usize, &PostSpec)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>beacon</title><link>",
    );
    out.push_str(&escape(base));
    out.push_str("/</link><description>simulated beacon</description>\n");
    for (id, post) in posts.iter().rev() {
        let html = format!("<p>{}</p>", escape(&post.text));
        out.push_str(&format!(
            "<item><guid isPermaLink=\"false\">post-{id}</guid><link>{}/p/{id}</link>\
             <description>{}</description></item>\n",
            escape(base),
            escape(&html)
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

/// An HTML page listing `posts`.
pub(crate) fn page(posts: &[(usize, &PostSpec)]) -> String {
    let mut out = String::from("<!doctype html><html><head><title>board</title></head><body>\n");
    for (id, post) in posts.iter().rev() {
        out.push_str(&format!(
            "<article id=\"post-{id}\"><p>{}</p></article>\n",
            escape(&post.text)
        ));
    }
    out.push_str("</body></html>\n");
    out
}

/// A Telegram Desktop export of `posts`; attachments as `photos/<name>`.
pub(crate) fn telegram(channel: &str, posts: &[(usize, &PostSpec, Option<String>)]) -> Value {
    let messages: Vec<Value> = posts
        .iter()
        .map(|(id, post, photo)| {
            let mut message = json!({
                "id": id,
                "type": "message",
                "date_unixtime": "1700000000",
                "from": channel,
                "text": post.text,
                "text_entities": [{ "type": "plain", "text": post.text }],
            });
            if let (Some(photo), Some(object)) = (photo, message.as_object_mut()) {
                object.insert("photo".to_owned(), json!(photo));
            }
            message
        })
        .collect();
    json!({ "name": channel, "type": "public_channel", "id": 1, "messages": messages })
}

/// A file locker's landing page around `/raw<path>`.
pub(crate) fn landing(path: &str, name: &str) -> String {
    format!(
        "<!doctype html><html><head><title>{name}</title></head><body><h1>{name}</h1>\
         <img src=\"/raw{}\" alt=\"preview\"><a href=\"/about\">About us</a></body></html>",
        escape(path),
        name = escape(name)
    )
}

/// What a host serves in place of a removed file.
pub(crate) const REMOVED_PAGE: &str = "<!doctype html><html><head><title>Removed</title></head>\
    <body><h1>Sorry</h1><p>This file has been removed for violating our terms of service.</p>\
    </body></html>";
