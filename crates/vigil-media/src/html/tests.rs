//! The reader's limits, its linear work, and its text against the tree
//! builder's on generated pages.

use super::*;

fn unlimited() -> HtmlLimits {
    HtmlLimits {
        max_bytes: usize::MAX,
        max_depth: usize::MAX,
        max_tokens: u64::MAX,
        max_time: Duration::from_secs(3600),
    }
}

fn nested(depth: usize) -> String {
    format!(
        "<html><body>{}deep{}</body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    )
}

#[test]
fn nesting_past_the_cap_is_flattened() {
    let limits = HtmlLimits {
        max_depth: 100,
        ..HtmlLimits::default()
    };
    let page = read_html(format!("<p>before</p>{}", nested(1000)).as_bytes(), &limits);
    assert_eq!(page.truncated, None);
    assert_eq!(page.flattened, 900);
    assert_eq!(page.text, "before\ndeep");
    let page = read_html(nested(100).as_bytes(), &limits);
    assert_eq!((page.flattened, page.text.as_str()), (0, "deep"));
    // A script past the cap still reads as a script: its text stays
    // hidden and its markup is not parsed.
    let page = format!(
        "{}<script>var x = '<b>code</b>';</script>words",
        "<span>".repeat(200)
    );
    let page = read_html(page.as_bytes(), &limits);
    assert_eq!(page.text, "words");
    assert!(page.all_text.contains("<b>code</b>"), "{}", page.all_text);
}

#[test]
fn too_many_tokens_stop_the_read() {
    let limits = HtmlLimits {
        max_tokens: 50,
        ..HtmlLimits::default()
    };
    let page = read_html("<b>word</b> ".repeat(100).as_bytes(), &limits);
    assert_eq!(page.truncated, Some(HtmlLimit::Tokens(50)));
    assert!(page.text.starts_with("word word"), "{}", page.text);
    assert!(page.text.len() < "word ".len() * 20, "{}", page.text);
    let page = read_html("<b>word</b> ".repeat(10).as_bytes(), &limits);
    assert_eq!(page.truncated, None);
}

#[test]
fn bytes_over_the_cap_are_left_unread() {
    let limits = HtmlLimits {
        max_bytes: 20,
        ..HtmlLimits::default()
    };
    let page = read_html(b"<p>one two</p><p>three four five</p>", &limits);
    assert_eq!(page.truncated, Some(HtmlLimit::Bytes(20)));
    assert_eq!(page.text, "one two\nthr");
    // A cut inside a character of decoded text backs off to its start.
    let page = read_html_str("<p>نصنصنصنصنصنص</p>", &limits);
    assert_eq!(page.truncated, Some(HtmlLimit::Bytes(20)));
    assert_eq!(page.text, "نصنصنصنص");
    assert_eq!(read_html(b"<p>short</p>", &limits).truncated, None);
}

#[test]
fn the_clock_stops_work_the_tokenizer_does_unseen() {
    // html5ever checks each attribute against the tag's earlier ones:
    // one tag with many distinct attributes is quadratic inside the
    // tokenizer, where no token reaches the sink.
    let attributes: String = (0..200_000).map(|i| format!(" a{i}")).collect();
    let page = read_html_str(
        &format!("<p>seen</p><p{attributes}>unseen</p>"),
        &HtmlLimits {
            max_time: Duration::from_millis(50),
            ..HtmlLimits::default()
        },
    );
    assert_eq!(
        page.truncated,
        Some(HtmlLimit::Time(Duration::from_millis(50)))
    );
    assert_eq!(page.text, "seen");
}

#[test]
fn work_is_linear_in_nesting_depth() {
    let work = |depth| read_html(nested(depth).as_bytes(), &unlimited()).work;
    let (n, twice) = (work(20_000), work(40_000));
    assert!(twice <= n * 21 / 10, "{n} then {twice}");
    // End tags of elements that are not open cost one step each, and
    // a cascade of implied pops is paid for by the pushes.
    let stray = |count: usize| {
        let page = format!(
            "{}{}</div>",
            "<div><span>".repeat(count),
            "</b>".repeat(count)
        );
        read_html(page.as_bytes(), &unlimited()).work
    };
    let (n, twice) = (stray(20_000), stray(40_000));
    assert!(twice <= n * 21 / 10, "{n} then {twice}");
}

#[test]
fn links_media_and_base_in_document_order() {
    let page = read_html(
        br#"<html><head><base href="/sub/"><title>t</title></head><body>
        <a href="/a">a</a><img src="i.png"><video src="v.mp4"><source src="s.webm"></video>
        <div hidden><a href="hidden.html">h</a></div><iframe src="f.html"></iframe>
        <embed src="e.swf"><audio src="a.mp3"></audio><a name="x">no href</a></body></html>"#,
        &HtmlLimits::default(),
    );
    let links: Vec<(LinkElement, &str)> = page
        .links
        .iter()
        .map(|l| (l.element, l.url.as_str()))
        .collect();
    assert_eq!(
        links,
        [
            (LinkElement::A, "/a"),
            (LinkElement::Img, "i.png"),
            (LinkElement::Video, "v.mp4"),
            (LinkElement::Source, "s.webm"),
            (LinkElement::A, "hidden.html"),
            (LinkElement::Iframe, "f.html"),
            (LinkElement::Embed, "e.swf"),
            (LinkElement::Audio, "a.mp3"),
        ]
    );
    assert_eq!(page.base.as_deref(), Some("/sub/"));
    assert_eq!(
        page.text.split_whitespace().collect::<Vec<_>>(),
        ["a", "no", "href"]
    );
}

#[test]
fn raw_text_and_implied_head_and_paragraphs() {
    let page = read_html(
        b"<title>not shown</title><script>if (a<p) {}</script><p>one<p>two<div>three</div>\
          <textarea>typed <b>as text</b></textarea><ul><li>x<li>y</ul>",
        &HtmlLimits::default(),
    );
    assert_eq!(
        page.text.lines().collect::<Vec<_>>(),
        ["one", "two", "three", "typed <b>as text</b>", "x", "y"]
    );
    assert!(page.all_text.contains("if (a<p) {}"), "{}", page.all_text);
    // Once the body has started, a title is ordinary content.
    let page = read_html(b"<body><p>a</p><title>b</title>", &HtmlLimits::default());
    assert_eq!(page.text, "a\nb");
    let page = read_html(b"<body hidden><p>a</p>", &HtmlLimits::default());
    assert_eq!(page.text, "");
}

mod oracle {
    use proptest::prelude::*;
    use scraper::{Html, Node};

    use super::super::{BLOCKS, HtmlLimits, INVISIBLE, read_html};

    /// The visible text as the tree builder sees it (the reader this
    /// module replaced), on pages small enough for its N² cost.
    fn tree_text(html: &str) -> String {
        enum Step<'a> {
            Visit(ego_tree::NodeRef<'a, Node>),
            Break,
        }
        let document = Html::parse_document(html);
        let mut out = String::new();
        let mut stack = vec![Step::Visit(document.tree.root())];
        while let Some(step) = stack.pop() {
            let node = match step {
                Step::Break => {
                    if !out.ends_with('\n') && !out.is_empty() {
                        out.push('\n');
                    }
                    continue;
                }
                Step::Visit(node) => node,
            };
            match node.value() {
                Node::Text(text) => out.push_str(text),
                Node::Element(element) => {
                    let name = element.name();
                    if INVISIBLE.contains(&name) || element.attr("hidden").is_some() {
                        continue;
                    }
                    let block = BLOCKS.contains(&name);
                    if block {
                        stack.push(Step::Break);
                    }
                    stack.extend(node.children().rev().map(Step::Visit));
                    if block {
                        stack.push(Step::Break);
                    }
                }
                Node::Document | Node::Fragment => {
                    stack.extend(node.children().rev().map(Step::Visit));
                }
                _ => {}
            }
        }
        out.trim().to_owned()
    }

    /// A well-nested element tree of neutral words.
    fn tree() -> impl Strategy<Value = String> {
        let word = prop::sample::select(vec!["river", "stone", "a&amp;b", "cloud", " ", "\n"])
            .prop_map(str::to_owned);
        word.prop_recursive(4, 24, 4, |inner| {
            (
                prop::sample::select(vec![
                    "div", "span", "b", "ul", "script", "style", "template", "section", "em",
                    "noscript", "label", "article",
                ]),
                any::<bool>(),
                prop::collection::vec(inner, 0..4),
            )
                .prop_map(|(name, hidden, children)| {
                    let hidden = if hidden { " hidden" } else { "" };
                    format!("<{name}{hidden}>{}</{name}>", children.concat())
                })
        })
    }

    proptest! {
        #[test]
        fn visible_text_is_the_tree_builders(body in tree(), title in any::<bool>()) {
            let head = if title { "<head><title>t</title></head>" } else { "" };
            let html = format!("<!doctype html><html>{head}<body>{body}</body></html>");
            let read = read_html(html.as_bytes(), &HtmlLimits::default());
            prop_assert_eq!(read.truncated, None);
            prop_assert_eq!(read.text, tree_text(&html));
        }
    }
}
