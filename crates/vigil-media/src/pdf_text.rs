//! A PDF's text under one budget for the whole document.
//!
//! `lopdf` parses a page's content into a tree of `Operation`s before any
//! text is read: about 90 bytes of memory per byte of content, seconds per
//! MiB, once per page even when pages share one stream, and a log warning
//! for every text operator it cannot decode. Here content is scanned
//! instead: one pass over the decompressed bytes, no tree, only the text
//! operators kept (`Tf`, `Tj`, `TJ`, `'`, `"`, `T*`, `ET`, with `lopdf`'s
//! rules for spaces and line breaks), fonts' encodings and the text of
//! pages with the same contents and fonts computed once. Every stream
//! inflated, operator read and byte of text produced is charged to a
//! [`Budget`] shared by the document; an overrun is [`Error::PdfLimit`].

use std::collections::HashMap;

use lopdf::{Dictionary, Document, Encoding, ObjectId};

use crate::{Error, PdfLimits};

/// What is left of a document's [`PdfLimits`] as it is read.
pub(crate) struct Budget {
    limits: PdfLimits,
    inflated: u64,
    operators: u64,
    text: u64,
    page_streams: u64,
}

impl Budget {
    pub(crate) fn new(limits: &PdfLimits) -> Self {
        Self {
            limits: *limits,
            inflated: 0,
            operators: 0,
            text: 0,
            page_streams: 0,
        }
    }

    /// The largest size one stream may decompress to.
    pub(crate) fn max_stream_bytes(&self) -> usize {
        self.limits.max_stream_bytes
    }

    /// How many more bytes may be inflated.
    pub(crate) fn inflated_left(&self) -> usize {
        let left = self.limits.max_inflated_bytes.saturating_sub(self.inflated);
        usize::try_from(left).unwrap_or(usize::MAX)
    }

    /// The bytes of `stream` decoded, charged to the inflated-bytes budget.
    pub(crate) fn inflate(&mut self, stream: &lopdf::Stream) -> Result<Vec<u8>, Error> {
        let cap = self.inflated_left().min(self.limits.max_stream_bytes);
        let bytes = match stream.decompressed_content_with_limit(cap.max(1)) {
            Ok(bytes) => bytes,
            Err(lopdf::Error::Decompress(_)) => {
                return Err(Error::PdfLimit(if cap < self.limits.max_stream_bytes {
                    format!(
                        "its streams decompress to more than {} bytes in all",
                        self.limits.max_inflated_bytes
                    )
                } else {
                    format!(
                        "a stream decompresses to more than {} bytes",
                        self.limits.max_stream_bytes
                    )
                }));
            }
            // Unfiltered or undecodable: the stored bytes, as lopdf reads them.
            Err(_) => stream.content.clone(),
        };
        self.charge_inflated(bytes.len() as u64)?;
        Ok(bytes)
    }

    /// Charges `bytes` decoded elsewhere (image samples).
    pub(crate) fn charge_inflated(&mut self, bytes: u64) -> Result<(), Error> {
        self.inflated += bytes;
        if self.inflated > self.limits.max_inflated_bytes {
            return Err(Error::PdfLimit(format!(
                "its streams decompress to more than {} bytes in all",
                self.limits.max_inflated_bytes
            )));
        }
        Ok(())
    }

    fn operator(&mut self) -> Result<(), Error> {
        self.operators += 1;
        if self.operators > self.limits.max_operators {
            return Err(Error::PdfLimit(format!(
                "its pages draw more than {} content operators",
                self.limits.max_operators
            )));
        }
        Ok(())
    }

    fn text(&mut self, bytes: usize) -> Result<(), Error> {
        self.text += bytes as u64;
        if self.text > self.limits.max_text_bytes {
            return Err(Error::PdfLimit(format!(
                "its text is over {} bytes",
                self.limits.max_text_bytes
            )));
        }
        Ok(())
    }

    fn page_streams(&mut self, streams: usize) -> Result<(), Error> {
        self.page_streams += streams as u64;
        if self.page_streams > self.limits.max_page_streams {
            return Err(Error::PdfLimit(format!(
                "its pages name more than {} content streams in all",
                self.limits.max_page_streams
            )));
        }
        Ok(())
    }
}

/// Reads the text of a document's pages, remembering what pages share.
pub(crate) struct TextReader<'a> {
    document: &'a Document,
    /// Font encodings by the font dictionary's address: one decoding per
    /// font however many pages use it (`None`: lopdf cannot map it).
    encodings: HashMap<usize, Option<Encoding<'a>>>,
    /// Page text by (content streams, fonts): pages drawn from the same
    /// streams with the same fonts are read once.
    pages: HashMap<PageKey, String>,
    /// Text operators whose string could not be decoded, for the one
    /// summary line.
    pub(crate) undecoded: u64,
}

type PageKey = (Vec<ObjectId>, Vec<(Vec<u8>, usize)>);

impl<'a> TextReader<'a> {
    pub(crate) fn new(document: &'a Document) -> Self {
        Self {
            document,
            encodings: HashMap::new(),
            pages: HashMap::new(),
            undecoded: 0,
        }
    }

    /// The text of the page `page_id`, in drawing order.
    pub(crate) fn page_text(
        &mut self,
        page_id: ObjectId,
        budget: &mut Budget,
    ) -> Result<String, Error> {
        let streams = self.document.get_page_contents(page_id);
        budget.page_streams(streams.len())?;
        let fonts = self.document.get_page_fonts(page_id).unwrap_or_default();
        let key: PageKey = (
            streams.clone(),
            fonts
                .iter()
                .map(|(name, font)| (name.clone(), address(font)))
                .collect(),
        );
        if let Some(text) = self.pages.get(&key) {
            budget.text(text.len())?;
            return Ok(text.clone());
        }
        for font in fonts.values() {
            let max = budget.limits.max_stream_bytes;
            self.encodings
                .entry(address(font))
                .or_insert_with(|| font.get_font_encoding_with_limit(self.document, max).ok());
        }
        let fonts: HashMap<&[u8], Option<&Encoding<'a>>> = fonts
            .iter()
            .map(|(name, font)| {
                let encoding = self.encodings.get(&address(font)).and_then(Option::as_ref);
                (name.as_slice(), encoding)
            })
            .collect();
        let mut page = PageText {
            fonts: &fonts,
            current: None,
            text: String::new(),
            undecoded: 0,
        };
        let mut scanner = Scanner::default();
        for id in &streams {
            let Ok(stream) = self
                .document
                .get_object(*id)
                .and_then(lopdf::Object::as_stream)
            else {
                continue;
            };
            let bytes = budget.inflate(stream)?;
            scanner.scan(&bytes, &mut |operator, operands| {
                budget.operator()?;
                let before = page.text.len();
                page.apply(operator, operands);
                budget.text(page.text.len() - before)
            })?;
        }
        self.undecoded += page.undecoded;
        let text = page.text;
        self.pages.insert(key, text.clone());
        Ok(text)
    }
}

fn address(font: &&Dictionary) -> usize {
    std::ptr::from_ref::<Dictionary>(*font) as usize
}

/// One page's text as its operators draw it.
struct PageText<'f, 'a> {
    fonts: &'f HashMap<&'f [u8], Option<&'f Encoding<'a>>>,
    current: Option<&'f Encoding<'a>>,
    text: String,
    undecoded: u64,
}

impl PageText<'_, '_> {
    fn apply(&mut self, operator: &[u8], operands: &[Operand]) {
        match operator {
            b"Tf" => {
                self.current = match operands.first() {
                    Some(Operand::Name(name)) => self.fonts.get(name.as_slice()).copied().flatten(),
                    _ => None,
                };
            }
            b"Tj" | b"TJ" => self.show(operands),
            b"'" => {
                self.new_line();
                self.show(operands);
            }
            b"\"" => {
                self.new_line();
                self.show(operands.get(2..).unwrap_or_default());
            }
            b"T*" | b"ET" => self.new_line(),
            _ => {}
        }
    }

    fn new_line(&mut self) {
        if !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    /// As lopdf: strings decoded with the current font; in an array, a
    /// space for a kern wider than 100 thousandths and after the array.
    fn show(&mut self, operands: &[Operand]) {
        let Some(encoding) = self.current else {
            self.undecoded += 1;
            return;
        };
        for operand in operands {
            match operand {
                Operand::String(bytes) => self.decode(encoding, bytes),
                Operand::Array(items) => {
                    for item in items {
                        match item {
                            Operand::String(bytes) => self.decode(encoding, bytes),
                            Operand::Integer(kern) if *kern < -100 => self.text.push(' '),
                            _ => {}
                        }
                    }
                    self.text.push(' ');
                }
                Operand::Integer(kern) if *kern < -100 => self.text.push(' '),
                _ => {}
            }
        }
    }

    fn decode(&mut self, encoding: &Encoding<'_>, bytes: &[u8]) {
        if encoding.write_to_string(bytes, &mut self.text).is_err() {
            self.undecoded += 1;
        }
    }
}

/// An operand the text operators can use; everything else is `Other`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Name(Vec<u8>),
    String(Vec<u8>),
    Integer(i64),
    /// Strings and integers of an array (nested arrays are flattened).
    Array(Vec<Operand>),
    Other,
}

/// What a scan calls for each operator, with its operands.
pub(crate) type OnOperator<'a> = dyn FnMut(&[u8], &[Operand]) -> Result<(), Error> + 'a;

/// Most operands kept before an operator; older ones are dropped (no text
/// operator takes more than three).
const MAX_OPERANDS: usize = 16;

/// A single-pass scanner of content streams: tokens in, operators with
/// their operands out. It never builds more than the current operator's
/// operands, so memory is bounded by the largest array or string.
#[derive(Default)]
pub(crate) struct Scanner {
    operands: Vec<Operand>,
    /// The array being read, if any, and how deep.
    array: Option<(Vec<Operand>, u32)>,
}

impl Scanner {
    /// Scans `bytes`, calling `operator` for each operator with its
    /// operands; stops at the first error `operator` returns.
    pub(crate) fn scan(
        &mut self,
        bytes: &[u8],
        operator: &mut OnOperator<'_>,
    ) -> Result<(), Error> {
        let mut at = 0;
        while at < bytes.len() {
            let byte = bytes[at];
            match byte {
                b'%' => {
                    at += bytes[at..]
                        .iter()
                        .position(|b| matches!(b, b'\r' | b'\n'))
                        .unwrap_or(bytes.len() - at);
                }
                b'/' => {
                    let end = regular_end(bytes, at + 1);
                    self.push(Operand::Name(unescape_name(&bytes[at + 1..end])));
                    at = end;
                }
                b'(' => {
                    let (string, end) = literal_string(bytes, at + 1);
                    self.push(Operand::String(string));
                    at = end;
                }
                b'<' if bytes.get(at + 1) == Some(&b'<') => {
                    self.push(Operand::Other);
                    at += 2;
                }
                b'>' if bytes.get(at + 1) == Some(&b'>') => at += 2,
                b'<' => {
                    let (string, end) = hex_string(bytes, at + 1);
                    self.push(Operand::String(string));
                    at = end;
                }
                b'[' => {
                    match &mut self.array {
                        Some((_, depth)) => *depth += 1,
                        None => self.array = Some((Vec::new(), 1)),
                    }
                    at += 1;
                }
                b']' => {
                    if let Some((items, depth)) = &mut self.array {
                        *depth -= 1;
                        if *depth == 0 {
                            let items = std::mem::take(items);
                            self.array = None;
                            self.push(Operand::Array(items));
                        }
                    }
                    at += 1;
                }
                b'{' | b'}' | b')' | b'>' => at += 1,
                _ if is_white(byte) => at += 1,
                _ => {
                    let end = regular_end(bytes, at);
                    let token = &bytes[at..end];
                    at = end;
                    if let Some(number) = number(token) {
                        self.push(number);
                    } else if matches!(token, b"true" | b"false" | b"null") {
                        self.push(Operand::Other);
                    } else if self.array.is_some() {
                        // Not valid inside an array; skipped.
                    } else {
                        let result = operator(token, &self.operands);
                        self.operands.clear();
                        result?;
                        if token == b"ID" {
                            at = inline_image_end(bytes, at);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, operand: Operand) {
        if let Some((items, _)) = &mut self.array {
            if matches!(operand, Operand::String(_) | Operand::Integer(_)) {
                items.push(operand);
            }
            return;
        }
        if self.operands.len() >= MAX_OPERANDS {
            self.operands.remove(0);
        }
        self.operands.push(operand);
    }
}

fn is_white(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delimiter(byte: u8) -> bool {
    matches!(
        byte,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// Where the run of regular characters starting at `at` ends.
fn regular_end(bytes: &[u8], at: usize) -> usize {
    at + bytes[at..]
        .iter()
        .position(|b| is_white(*b) || is_delimiter(*b))
        .unwrap_or(bytes.len() - at)
}

fn number(token: &[u8]) -> Option<Operand> {
    let first = *token.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return None;
    }
    let text = std::str::from_utf8(token).ok()?;
    if let Ok(integer) = text.parse::<i64>() {
        return Some(Operand::Integer(integer));
    }
    // Reals (and malformed numbers, which readers take as numbers too).
    Some(Operand::Other)
}

/// A name with its `#xx` escapes decoded.
fn unescape_name(raw: &[u8]) -> Vec<u8> {
    let mut name = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'#'
            && let Some(byte) = raw
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            name.push(byte);
            i += 3;
            continue;
        }
        name.push(raw[i]);
        i += 1;
    }
    name
}

/// A literal string from just after its `(`: its bytes and where it ends.
fn literal_string(bytes: &[u8], mut at: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut depth = 1u32;
    while at < bytes.len() {
        let byte = bytes[at];
        at += 1;
        match byte {
            b'\\' => {
                let Some(&next) = bytes.get(at) else { break };
                at += 1;
                match next {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'0'..=b'7' => {
                        let mut value = u32::from(next - b'0');
                        for _ in 0..2 {
                            match bytes.get(at) {
                                Some(d @ b'0'..=b'7') => {
                                    value = value * 8 + u32::from(d - b'0');
                                    at += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(value as u8);
                    }
                    b'\r' => {
                        if bytes.get(at) == Some(&b'\n') {
                            at += 1;
                        }
                    }
                    b'\n' => {}
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(byte);
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                out.push(byte);
            }
            _ => out.push(byte),
        }
    }
    (out, at)
}

/// A hex string from just after its `<`: its bytes and where it ends.
fn hex_string(bytes: &[u8], at: usize) -> (Vec<u8>, usize) {
    let end = bytes[at..]
        .iter()
        .position(|b| *b == b'>')
        .map_or(bytes.len(), |i| at + i);
    let digits: Vec<u8> = bytes[at..end]
        .iter()
        .filter_map(|b| (*b as char).to_digit(16).map(|d| d as u8))
        .collect();
    let out = digits
        .chunks(2)
        .map(|pair| (pair[0] << 4) | pair.get(1).copied().unwrap_or(0))
        .collect();
    (out, (end + 1).min(bytes.len()))
}

/// Where an inline image's data (after `ID`) ends: past the `EI` that
/// follows white space and precedes white space, a delimiter or the end.
fn inline_image_end(bytes: &[u8], from: usize) -> usize {
    let mut at = from + 1;
    while at + 1 < bytes.len() {
        if bytes[at] == b'E'
            && bytes[at + 1] == b'I'
            && is_white(bytes[at - 1])
            && bytes
                .get(at + 2)
                .is_none_or(|b| is_white(*b) || is_delimiter(*b))
        {
            return at + 2;
        }
        at += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operators(content: &[u8]) -> Vec<(String, Vec<Operand>)> {
        let mut seen = Vec::new();
        Scanner::default()
            .scan(content, &mut |operator, operands| {
                seen.push((
                    String::from_utf8_lossy(operator).into_owned(),
                    operands.to_vec(),
                ));
                Ok(())
            })
            .unwrap();
        seen
    }

    #[test]
    fn tokens_become_operators_with_their_operands() {
        let content = b"BT /F#311 12 Tf 1 0 0 1 72.5 700 Tm (a\\(b\\) \\101\\\n) Tj\n\
            [<48 65> -120 (y) 3.5] TJ % a comment ) Tj\nET q BI /W 2 /H 1 ID \x00EI\xff EI Q";
        let seen = operators(content);
        let names: Vec<&str> = seen.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(
            names,
            ["BT", "Tf", "Tm", "Tj", "TJ", "ET", "q", "BI", "ID", "Q"]
        );
        assert_eq!(
            seen[1].1,
            [Operand::Name(b"F11".to_vec()), Operand::Integer(12)]
        );
        assert_eq!(seen[3].1, [Operand::String(b"a(b) A".to_vec())]);
        assert_eq!(
            seen[4].1,
            [Operand::Array(vec![
                Operand::String(b"He".to_vec()),
                Operand::Integer(-120),
                Operand::String(b"y".to_vec()),
            ])]
        );
    }

    #[test]
    fn hostile_content_is_scanned_in_bounded_memory() {
        // Unclosed strings and arrays, stray delimiters, operands with no
        // operator: no panic, no growth beyond the operand cap.
        for content in [
            &b"(unclosed"[..],
            b"[[[[ (a",
            b"<abc",
            b"]]]] >> ) } {",
            b"\\",
            b"BI ID",
            b"#",
        ] {
            let _ = operators(content);
        }
        let many = b"1 ".repeat(10_000);
        let mut scanner = Scanner::default();
        scanner.scan(&many, &mut |_, _| Ok(())).unwrap();
        assert_eq!(scanner.operands.len(), MAX_OPERANDS);
    }

    #[test]
    fn operators_are_charged_to_the_budget() {
        let limits = PdfLimits {
            max_operators: 3,
            ..PdfLimits::default()
        };
        let mut budget = Budget::new(&limits);
        let refused = Scanner::default().scan(b"q Q q Q", &mut |_, _| budget.operator());
        assert!(matches!(refused, Err(Error::PdfLimit(_))), "{refused:?}");
    }
}
