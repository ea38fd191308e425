//! Text files and web pages to the text a reader sees.
//!
//! Bytes are decoded by their byte-order mark, a `<meta charset>` (HTML),
//! UTF-8 when valid, and otherwise the encoding `chardetng` guesses (legacy
//! Arabic text is often Windows-1256). HTML keeps only visible text (see
//! [`read_html`]): no `<head>`, scripts, styles, templates or elements
//! marked `hidden`, and block elements separate words.

use encoding_rs::Encoding;

use crate::html::{HtmlLimits, read_html};

/// Decodes the bytes of a text file: by its byte-order mark, as UTF-8 when
/// valid, else in the encoding `chardetng` guesses (legacy Arabic text is
/// often Windows-1256).
pub fn decode_text(bytes: &[u8]) -> String {
    decode(bytes, None)
}

/// Decodes an HTML page and returns its visible text, blocks separated by
/// new lines, read under the default [`HtmlLimits`]: a page over them gives
/// the text read before the limit (use [`read_html`] to know).
pub fn html_visible_text(bytes: &[u8]) -> String {
    read_html(bytes, &HtmlLimits::default()).text
}

pub(crate) fn decode(bytes: &[u8], declared: Option<&'static Encoding>) -> String {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    let encoding = declared.unwrap_or_else(|| {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(bytes, true);
        detector.guess(None, chardetng::Utf8Detection::Allow)
    });
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// The encoding named by a `<meta charset=…>` or `content="…; charset=…"`
/// in the first 4 KiB.
pub(crate) fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower = head.to_ascii_lowercase();
    let at = lower.windows(8).position(|w| w == b"charset=")? + 8;
    let rest = &head[at..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b"-_:.".contains(b)))
        .unwrap_or(rest.len());
    Encoding::for_label(&rest[..end])
}

/// Whether `bytes` look like an HTML page rather than plain text: markup
/// at the start, and an `<html>`, `<body>` or doctype near it.
pub(crate) fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf))
        .map_or(&head[..0], |at| &head[at..]);
    if !start.starts_with(b"<") {
        return false;
    }
    let lower = start.to_ascii_lowercase();
    [&b"<!doctype html"[..], b"<html", b"<body", b"<head"]
        .iter()
        .any(|tag| lower.windows(tag.len()).any(|w| w == *tag))
}

/// Whether `bytes` look like text: a Unicode byte-order mark, or no NUL
/// and almost no control characters in the first 8 KiB.
pub(crate) fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    if Encoding::for_bom(bytes).is_some() {
        return true;
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return false;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
        .count();
    controls * 100 <= head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text_only() {
        let page = br#"<!doctype html><html><head><title>Title</title>
            <style>p { color: red }</style><script>var hidden = "script";</script></head>
            <body><h1>Heading</h1><p>First <b>bold</b>para<i>graph</i>.</p>
            <div hidden>secret</div><noscript>enable js</noscript>
            <template><p>template</p></template>
            <ul><li>one</li><li>two</li></ul>text&nbsp;after &amp; more<br>next</body></html>"#;
        let text = html_visible_text(page);
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            [
                "Heading",
                "First",
                "boldparagraph.",
                "one",
                "two",
                "text",
                "after",
                "&",
                "more",
                "next"
            ]
        );
    }

    #[test]
    fn blocks_separate_words() {
        let text =
            html_visible_text(b"<html><body><div>end</div><div>start</div><p>a</p>b</body></html>");
        assert_eq!(
            text.split_whitespace().collect::<Vec<_>>(),
            ["end", "start", "a", "b"]
        );
    }

    #[test]
    fn arabic_html_in_a_legacy_encoding() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode("<html><head><meta charset=\"windows-1256\"></head><body><p>بيان رقم ١</p></body></html>");
        assert_eq!(html_visible_text(&bytes), "بيان رقم ١");
        // Without a declaration the detector finds it.
        let (plain, _, _) =
            encoding_rs::WINDOWS_1256.encode("هذا نص عربي قديم مكتوب بترميز ويندوز للتجربة فقط");
        assert_eq!(
            decode_text(&plain),
            "هذا نص عربي قديم مكتوب بترميز ويندوز للتجربة فقط"
        );
    }

    #[test]
    fn byte_order_marks_are_honoured() {
        let mut utf16: Vec<u8> = vec![0xff, 0xfe];
        utf16.extend("نص".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode_text(&utf16), "نص");
        assert_eq!(decode_text(b"\xef\xbb\xbfplain"), "plain");
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let page = format!(
            "<html><body>{}deep{}</body></html>",
            "<span>".repeat(100_000),
            "</span>".repeat(100_000)
        );
        assert_eq!(html_visible_text(page.as_bytes()), "deep");
    }

    #[test]
    fn html_and_text_are_told_apart() {
        assert!(looks_like_html(b"  <!DOCTYPE html><p>x"));
        assert!(looks_like_html(b"\xef\xbb\xbf<html lang=ar>"));
        assert!(!looks_like_html(b"a < b and <html> later"));
        assert!(!looks_like_html(b"<p>a fragment</p>"));
        assert!(looks_like_text("plain words\n".as_bytes()));
        assert!(looks_like_text("نص".as_bytes()));
        assert!(!looks_like_text(b"\x00\x01binary"));
        assert!(!looks_like_text(b"\x01\x02\x03\x04\x05 mostly controls"));
        assert!(!looks_like_text(b""));
    }
}
