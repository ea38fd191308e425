//! The one bounded reader for HTML: visible text, links, embedded media and
//! `<base href>` from a page, in time linear in its size.
//!
//! A tree builder (html5ever's, behind `scraper`) walks its stack of open
//! elements for most tags, so a page of N nested elements costs N² steps: a
//! million nested `<div>` never finishes. This reader drives html5ever's
//! *tokenizer* only, and a small sink keeps its own stack of open elements
//! with a count per tag name, so an end tag with no open element of its
//! name costs one look-up and every pop is paid for by its push. The sink
//! knows just enough of the tree builder's rules for what a reader sees:
//! head content before the body, invisible elements (scripts, styles,
//! templates, `hidden`…), raw-text elements, void elements, block breaks,
//! and the common implied ends (`<p>`, `<li>`, `<dd>`/`<dt>`, `<option>`
//! closing their open sibling). On mis-nested markup it can differ from a
//! browser's tree; on pages as written it gives the tree builder's text.
//!
//! Every read is bounded by [`HtmlLimits`] (bytes, nesting depth, tokens,
//! wall time), checked while reading. Elements nested past the depth cap
//! are read without nesting, as Chromium does ([`HtmlPage::flattened`]
//! counts them). Going over any other limit stops the read there: the [`HtmlPage`] keeps what was read and names the limit in
//! [`HtmlPage::truncated`]. Callers choose what that means: hashing an
//! upload refuses it with [`Error::HtmlLimit`](crate::Error::HtmlLimit)
//! (a partial sketch would match or miss silently), the monitor records
//! what it read and logs the limit.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use html5ever::LocalName;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// Elements whose content a reader never sees.
const INVISIBLE: &[&str] = &[
    "head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas",
    "select", "datalist",
];

/// Elements that start a new block, so their text never runs into the
/// neighbours' words.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
    "caption",
    "option",
    "button",
    "label",
    "title",
];

/// Elements that never have content or an end tag.
const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
    "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
];

/// Elements the tree builder puts in `<head>` when they come before the
/// body; anything else starts the body.
const HEAD_CONTENT: &[&str] = &[
    "base", "basefont", "bgsound", "link", "meta", "noframes", "noscript", "script", "style",
    "template", "title",
];

/// Start tags that close an open `<p>` (the tree builder's "close a p
/// element" list, for the common case of the `<p>` being the current node).
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "dialog",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "ul",
    "dd",
    "dt",
];

/// How large inputs pass through the tokenizer; the sink's stop and the
/// time budget are checked between pieces, which bounds the work the
/// tokenizer can do unseen (e.g. html5ever's duplicate-attribute check is
/// quadratic in one tag's attributes).
const PIECE: usize = 4096;

/// Tokens between two looks at the clock.
const CLOCK_EVERY: u64 = 1024;

/// Bounds on one HTML read by [`read_html`]. Going over any of them stops
/// the read where it is, and the page says which ([`HtmlPage::truncated`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HtmlLimits {
    /// Bytes of HTML read; the rest is left unread.
    pub max_bytes: usize,
    /// Elements kept open at once; deeper ones are read without nesting
    /// (see [`HtmlPage::flattened`]), so depth never stops a read.
    pub max_depth: usize,
    /// Tokens (tags, text runs, comments) read.
    pub max_tokens: u64,
    /// Wall time for one read.
    pub max_time: Duration,
}

impl Default for HtmlLimits {
    /// * `max_bytes` 16 MiB: real pages, even long forum threads, are a few
    ///   MiB of HTML; the monitor's fetch limit (200 MiB) is for media.
    /// * `max_depth` 512: Chromium's parser stops nesting at 512 elements,
    ///   so no page that renders as written needs more; it also bounds the
    ///   stack's memory.
    /// * `max_tokens` 4,000,000: about one token per 4 bytes of a 16 MiB
    ///   page, far above real pages (a 1 MiB page has some 50,000).
    /// * `max_time` 5 s: a 16 MiB page reads in well under a second in a
    ///   release build; the clock is the backstop for work the other limits
    ///   do not see.
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 512,
            max_tokens: 4_000_000,
            max_time: Duration::from_secs(5),
        }
    }
}

/// Which [`HtmlLimits`] bound a read went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HtmlLimit {
    /// The page is over `max_bytes`.
    Bytes(usize),
    /// The page has more than `max_tokens` tokens.
    Tokens(u64),
    /// Reading took longer than `max_time`.
    Time(Duration),
}

impl fmt::Display for HtmlLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(limit) => write!(f, "the page is over {limit} bytes of HTML"),
            Self::Tokens(limit) => write!(f, "the page has over {limit} tags and text runs"),
            Self::Time(limit) => write!(f, "reading the page took over {limit:?}"),
        }
    }
}

/// The elements whose URL attribute [`read_html`] collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkElement {
    /// `<a href>`.
    A,
    /// `<img src>`.
    Img,
    /// `<video src>`.
    Video,
    /// `<audio src>`.
    Audio,
    /// `<source src>`.
    Source,
    /// `<iframe src>`.
    Iframe,
    /// `<embed src>`.
    Embed,
}

impl LinkElement {
    /// The element of a tag name and its URL attribute.
    fn of(name: &str) -> Option<(Self, &'static str)> {
        Some(match name {
            "a" => (Self::A, "href"),
            "img" => (Self::Img, "src"),
            "video" => (Self::Video, "src"),
            "audio" => (Self::Audio, "src"),
            "source" => (Self::Source, "src"),
            "iframe" => (Self::Iframe, "src"),
            "embed" => (Self::Embed, "src"),
            _ => return None,
        })
    }
}

/// One URL attribute as written (not resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlLink {
    /// The element it is on.
    pub element: LinkElement,
    /// The attribute's value.
    pub url: String,
}

/// What [`read_html`] found in a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlPage {
    /// The text a reader sees, blocks separated by new lines, trimmed.
    pub text: String,
    /// Every text run, scripts and head included, runs joined by a space:
    /// where links written as text (often defanged) hide.
    pub all_text: String,
    /// URL attributes in document order, hidden elements included.
    pub links: Vec<HtmlLink>,
    /// The first `<base href>`, as written.
    pub base: Option<String>,
    /// The limit the read went over, when it stopped early.
    pub truncated: Option<HtmlLimit>,
    /// Elements opened past [`HtmlLimits::max_depth`], read as siblings
    /// of the deepest element kept rather than nested.
    pub flattened: u64,
    /// Steps taken (tokens read plus elements pushed and popped): linear in
    /// the input, which the tests check.
    pub work: u64,
}

/// Reads an HTML page's bytes: decoded by byte-order mark, `<meta
/// charset>`, UTF-8 or a guess (see [`decode_text`](crate::decode_text)),
/// then read as [`read_html_str`] does.
pub fn read_html(bytes: &[u8], limits: &HtmlLimits) -> HtmlPage {
    let (bytes, cut) = match bytes.get(..limits.max_bytes) {
        Some(head) if head.len() < bytes.len() => (head, true),
        _ => (bytes, false),
    };
    let declared = crate::text::declared_charset(bytes);
    let html = crate::text::decode(bytes, declared);
    let mut page = read_decoded(&html, limits);
    if cut && page.truncated.is_none() {
        page.truncated = Some(HtmlLimit::Bytes(limits.max_bytes));
    }
    page
}

/// Reads decoded HTML (a document or a fragment, such as a feed entry's
/// body) under `limits`.
pub fn read_html_str(html: &str, limits: &HtmlLimits) -> HtmlPage {
    let mut end = html.len().min(limits.max_bytes);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let mut page = read_decoded(&html[..end], limits);
    if end < html.len() && page.truncated.is_none() {
        page.truncated = Some(HtmlLimit::Bytes(limits.max_bytes));
    }
    page
}

fn read_decoded(html: &str, limits: &HtmlLimits) -> HtmlPage {
    let tokenizer = Tokenizer::new(
        Sink(RefCell::new(Reader::new(*limits))),
        TokenizerOpts::default(),
    );
    let queue = BufferQueue::default();
    let mut rest = html;
    while !rest.is_empty() {
        let mut at = rest.len().min(PIECE);
        while !rest.is_char_boundary(at) {
            at += 1;
        }
        let (piece, tail) = rest.split_at(at);
        rest = tail;
        queue.push_back(StrTendril::from_slice(piece));
        // The sink never blocks the tokenizer (it never answers `Script`),
        // so one feed drains the queue.
        let _ = tokenizer.feed(&queue);
        let mut reader = tokenizer.sink.0.borrow_mut();
        reader.check_clock();
        if reader.out.truncated.is_some() {
            break;
        }
    }
    if tokenizer.sink.0.borrow().out.truncated.is_none() {
        tokenizer.end();
    }
    let mut reader = tokenizer.sink.0.borrow_mut();
    let mut page = std::mem::take(&mut reader.out);
    page.text = page.text.trim().to_owned();
    page
}

/// html5ever hands tokens to a shared reference; the reader's state sits
/// behind a `RefCell` that only the tokenizer's thread touches.
struct Sink(RefCell<Reader>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        self.0.borrow_mut().token(token)
    }
}

/// One element on the reader's stack.
struct Open {
    name: LocalName,
    /// It hides its content (itself invisible, `hidden`, or head content).
    invisible: bool,
    /// It is head content read before the body.
    in_head: bool,
    block: bool,
    /// It is an `<svg>` or `<math>`, whose content is foreign (self-closing
    /// tags count, no raw-text elements).
    foreign: bool,
}

/// The sink's state: the capped stack of open elements and what was found.
struct Reader {
    limits: HtmlLimits,
    started: Instant,
    stack: Vec<Open>,
    /// Open elements per name, so end tags without an open element cost
    /// one look-up instead of a walk of the stack.
    open: HashMap<LocalName, usize>,
    invisible_depth: usize,
    head_depth: usize,
    foreign_depth: usize,
    /// The body has started (explicitly or by content that starts it).
    in_body: bool,
    /// `<body hidden>` or `<html hidden>`: nothing is visible.
    all_hidden: bool,
    /// The last token was text, so the next text continues its run.
    in_run: bool,
    /// The text of an invisible raw-text element past the depth cap.
    raw_hidden: bool,
    tokens: u64,
    out: HtmlPage,
}

impl Reader {
    fn new(limits: HtmlLimits) -> Self {
        Self {
            limits,
            started: Instant::now(),
            stack: Vec::new(),
            open: HashMap::new(),
            invisible_depth: 0,
            head_depth: 0,
            foreign_depth: 0,
            in_body: false,
            all_hidden: false,
            in_run: false,
            raw_hidden: false,
            tokens: 0,
            out: HtmlPage::default(),
        }
    }

    fn visible(&self) -> bool {
        self.invisible_depth == 0 && !self.all_hidden && !self.raw_hidden
    }

    fn stop(&mut self, limit: HtmlLimit) {
        if self.out.truncated.is_none() {
            self.out.truncated = Some(limit);
        }
    }

    fn check_clock(&mut self) {
        if self.started.elapsed() > self.limits.max_time {
            self.stop(HtmlLimit::Time(self.limits.max_time));
        }
    }

    fn token(&mut self, token: Token) -> TokenSinkResult<()> {
        if self.out.truncated.is_some() {
            return TokenSinkResult::Continue;
        }
        self.tokens += 1;
        self.out.work += 1;
        if self.tokens > self.limits.max_tokens {
            self.stop(HtmlLimit::Tokens(self.limits.max_tokens));
            return TokenSinkResult::Continue;
        }
        if self.tokens.is_multiple_of(CLOCK_EVERY) {
            self.check_clock();
        }
        match token {
            Token::CharacterTokens(text) => {
                self.text(&text);
                TokenSinkResult::Continue
            }
            Token::TagToken(tag) => {
                self.in_run = false;
                self.raw_hidden = false;
                match tag.kind {
                    TagKind::StartTag => self.start_tag(tag),
                    TagKind::EndTag => {
                        self.end_tag(&tag.name);
                        TokenSinkResult::Continue
                    }
                }
            }
            Token::CommentToken(_) => {
                self.in_run = false;
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }

    fn text(&mut self, text: &str) {
        if !self.in_run && !self.out.all_text.is_empty() {
            self.out.all_text.push(' ');
        }
        self.in_run = true;
        self.out.all_text.push_str(text);
        if !self.in_body && self.head_depth == 0 && !text.trim().is_empty() {
            self.in_body = true;
        }
        if self.visible() {
            self.out.text.push_str(text);
        }
    }

    fn block_break(&mut self) {
        if self.visible() && !self.out.text.is_empty() && !self.out.text.ends_with('\n') {
            self.out.text.push('\n');
        }
    }

    fn start_tag(&mut self, tag: Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let attr = |wanted: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == wanted)
                .map(|a| &*a.value)
        };
        let hidden = attr("hidden").is_some();
        if let Some((element, attribute)) = LinkElement::of(name)
            && let Some(url) = attr(attribute)
        {
            self.out.links.push(HtmlLink {
                element,
                url: url.to_owned(),
            });
        }
        if name == "base"
            && self.out.base.is_none()
            && let Some(href) = attr("href")
        {
            self.out.base = Some(href.to_owned());
        }
        match name {
            "html" | "body" => {
                self.all_hidden |= hidden;
                self.in_body |= name == "body";
                return TokenSinkResult::Continue;
            }
            "head" => return TokenSinkResult::Continue,
            _ => {}
        }
        let in_head = !self.in_body && HEAD_CONTENT.contains(&name);
        if !self.in_body && !in_head && self.head_depth == 0 {
            self.in_body = true;
        }
        if self.foreign_depth == 0
            && let Some(top) = self.stack.last()
        {
            let top: &str = &top.name;
            let implied_end = (top == "p" && CLOSES_P.contains(&name))
                || (top == "li" && name == "li")
                || (matches!(top, "dd" | "dt") && matches!(name, "dd" | "dt"))
                || (top == "option" && matches!(name, "option" | "optgroup"));
            if implied_end {
                self.pop();
            }
        }
        let block = BLOCKS.contains(&name);
        let invisible = in_head || hidden || INVISIBLE.contains(&name);
        if VOID.contains(&name) || (self.foreign_depth > 0 && tag.self_closing) {
            if block && !invisible {
                self.block_break();
                self.block_break();
            }
            return TokenSinkResult::Continue;
        }
        if block && !invisible {
            self.block_break();
        }
        let foreign = matches!(name, "svg" | "math");
        let raw = if self.foreign_depth > 0 {
            TokenSinkResult::Continue
        } else {
            match name {
                "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                    TokenSinkResult::RawData(RawKind::Rawtext)
                }
                "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                "plaintext" => TokenSinkResult::Plaintext,
                _ => TokenSinkResult::Continue,
            }
        };
        if self.stack.len() >= self.limits.max_depth {
            // Past the cap elements are not nested (as Chromium's parser
            // does past 512): the stack stays bounded, their content takes
            // the visibility of the deepest element kept, and a raw-text
            // element's text stays hidden until the next tag ends it.
            self.out.flattened += 1;
            self.raw_hidden = invisible && !matches!(raw, TokenSinkResult::Continue);
            return raw;
        }
        self.invisible_depth += usize::from(invisible);
        self.head_depth += usize::from(in_head);
        self.foreign_depth += usize::from(foreign);
        *self.open.entry(tag.name.clone()).or_default() += 1;
        self.out.work += 1;
        self.stack.push(Open {
            name: tag.name,
            invisible,
            in_head,
            block,
            foreign,
        });
        raw
    }

    fn end_tag(&mut self, name: &LocalName) {
        match &**name {
            "br" => {
                self.block_break();
                return;
            }
            "p" if !self.open.contains_key(name) => {
                // `</p>` with no open `<p>` is an empty paragraph.
                self.block_break();
                return;
            }
            _ => {}
        }
        if !self.open.contains_key(name) {
            return;
        }
        while let Some(popped) = self.pop() {
            if popped == *name {
                break;
            }
        }
    }

    /// Pops the current element, returning its name.
    fn pop(&mut self) -> Option<LocalName> {
        let open = self.stack.pop()?;
        self.out.work += 1;
        if let Some(count) = self.open.get_mut(&open.name) {
            *count -= 1;
            if *count == 0 {
                self.open.remove(&open.name);
            }
        }
        self.invisible_depth -= usize::from(open.invisible);
        self.head_depth -= usize::from(open.in_head);
        self.foreign_depth -= usize::from(open.foreign);
        if open.block && !open.invisible {
            self.block_break();
        }
        Some(open.name)
    }
}

#[cfg(test)]
mod tests;
