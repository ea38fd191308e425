//! Outlinks in posts: undoing the "defanging" beacons use to slip past link
//! filters (`hxxp`, `[.]`, `(dot)`, spaces), finding URLs and bare
//! addresses in free text, and a canonical form so that one file posted
//! many times is one sighting.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

/// Bracketed dots and colons, with any spaces around them: `example [.] com`,
/// `example(dot)com`, `hxxp[:]//`.
static BRACKETED: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\s*[\[\(\{<]\s*(\.|dot|:|://|/)\s*[\]\)\}>]\s*"));

/// Defanged schemes: `hxxp`, `hXXps`, `h__p`, `meow` is not one of them.
static SCHEME: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\b(?:hxxp|hxtp|htxp|h__p|h\*\*p)(s?)\s*:\s*/\s*/\s*"));

/// A scheme written with spaces: `https : //`, `http:/ /`.
static SPACED_SCHEME: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?i)\b(https?)\s*:\s*/\s*/\s*"));

/// A URL with a scheme, up to the first character that cannot be in one.
static URL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"(?i)\b(?:https?|ipfs|ipns|zero)://[^\s<>"'`]+"#));

/// A bare address without a scheme: `www.host.tld…`, `host.tld/path…`, or
/// an onion address.
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"(?i)(?:^|[\s(\[{"'])((?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}(?::\d{1,5})?(?:/[^\s<>"'`]*)?)"#,
    )
});

/// Query parameters that only track who clicked: dropped from canonical
/// URLs so that the same file shared from two places is one sighting.
const TRACKING_PARAMETERS: [&str; 6] = ["fbclid", "gclid", "igshid", "mc_cid", "mc_eid", "si"];

/// Compiles one of the constant patterns above.
#[allow(clippy::expect_used)] // constant patterns, each exercised by the tests below
fn pattern(source: &str) -> Regex {
    Regex::new(source).expect("a constant pattern compiles")
}

/// Undoes the common ways of defanging links in `text`: `hxxp://`,
/// `[.]`, `(.)`, `{dot}`, `[:]`, and spaces around those and around `://`.
pub fn refang(text: &str) -> String {
    let text = BRACKETED.replace_all(text, |caps: &regex::Captures<'_>| {
        match caps[1].to_ascii_lowercase().as_str() {
            "dot" => ".".to_owned(),
            other => other.to_owned(),
        }
    });
    let text = SCHEME.replace_all(&text, |caps: &regex::Captures<'_>| {
        format!("http{}://", &caps[1])
    });
    SPACED_SCHEME
        .replace_all(&text, |caps: &regex::Captures<'_>| {
            format!("{}://", caps[1].to_ascii_lowercase())
        })
        .into_owned()
}

/// Every distinct link in `text` (defanged or not), canonical, in order of
/// appearance. URLs with a scheme are always taken; bare addresses only
/// when they start with `www.`, carry a path, or are onion addresses, so
/// that "see page 4.5" or a file name like `report.pdf` is not a link.
pub fn extract_links(text: &str) -> Vec<Url> {
    let text = refang(text);
    let mut links: Vec<Url> = Vec::new();
    let mut push = |url: Url| {
        if !links.contains(&url) {
            links.push(url);
        }
    };
    let mut covered: Vec<std::ops::Range<usize>> = Vec::new();
    for found in URL.find_iter(&text) {
        covered.push(found.range());
        if let Some(url) = canonical(trim_trailing(found.as_str())) {
            push(url);
        }
    }
    for caps in BARE.captures_iter(&text) {
        let Some(found) = caps.get(1) else { continue };
        if covered
            .iter()
            .any(|range| range.contains(&found.start()) || range.contains(&found.end()))
        {
            continue;
        }
        let candidate = trim_trailing(found.as_str());
        let host = candidate.split(['/', ':']).next().unwrap_or_default();
        let is_onion = host.to_ascii_lowercase().ends_with(".onion");
        let has_path = candidate.contains('/');
        let is_www = host.to_ascii_lowercase().starts_with("www.");
        if !(is_onion || has_path || is_www) {
            continue;
        }
        if let Some(url) = canonical(&format!("http://{candidate}")) {
            push(url);
        }
    }
    links
}

/// Trailing punctuation that ends a sentence rather than a URL; a closing
/// bracket stays when the URL opened one.
fn trim_trailing(candidate: &str) -> &str {
    let mut end = candidate.len();
    while let Some(last) = candidate[..end].chars().last() {
        let keep = match last {
            ')' => candidate[..end].matches('(').count() >= candidate[..end].matches(')').count(),
            ']' => candidate[..end].matches('[').count() >= candidate[..end].matches(']').count(),
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '»' | '…' | '}' | '>' => false,
            _ => true,
        };
        if keep {
            break;
        }
        end -= last.len_utf8();
    }
    &candidate[..end]
}

/// Schemes of links worth recording: the web, IPFS and ZeroNet addresses.
/// Anything else a post may carry (`javascript:`, `file:`, `mailto:`, made-up
/// schemes) is not a place content is stored.
pub const LINK_SCHEMES: [&str; 5] = ["http", "https", "ipfs", "ipns", "zero"];

/// The canonical form of a URL: parsed (host lowercased, default port and
/// dot segments removed by the parser), without fragment and without
/// tracking parameters (`utm_*`, `fbclid`, …). `None` if it does not parse,
/// has no host, or its scheme is not one of [`LINK_SCHEMES`].
pub fn canonical(url: &str) -> Option<Url> {
    let mut url = Url::parse(url).ok()?;
    if !LINK_SCHEMES.contains(&url.scheme()) {
        return None;
    }
    url.host_str()?;
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| {
            let key = key.to_ascii_lowercase();
            !key.starts_with("utm_") && !TRACKING_PARAMETERS.contains(&key.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if url.query().is_some() {
        if kept.is_empty() {
            url.set_query(None);
        } else if kept.len() != url.query_pairs().count() {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(text: &str) -> Vec<String> {
        extract_links(text).iter().map(Url::to_string).collect()
    }

    #[test]
    fn defanged_links_are_restored() {
        assert_eq!(
            links("new upload hxxps://files[.]example[.]org/f/abc123 now"),
            ["https://files.example.org/f/abc123"]
        );
        assert_eq!(
            links("mirror: hXXp://mirror(dot)example(dot)net/v.mp4"),
            ["http://mirror.example.net/v.mp4"]
        );
        assert_eq!(
            links("archive at example [.] com / x"),
            Vec::<String>::new(),
            "a space inside the path ends the link; the host alone has no path"
        );
        assert_eq!(
            links("archive at example [.] com/item/9"),
            ["http://example.com/item/9"]
        );
        assert_eq!(
            links("https : // paste {.} example.org/raw/77"),
            ["https://paste.example.org/raw/77"]
        );
        assert_eq!(
            links("hxxp[:]//host[.]example/a"),
            ["http://host.example/a"]
        );
    }

    #[test]
    fn sentences_and_file_names_are_not_links() {
        assert!(links("Version 4.5 is out. See report.pdf or chapter 3.2.").is_empty());
        assert!(links("end of sentence.Next one").is_empty());
    }

    #[test]
    fn punctuation_after_a_link_is_not_part_of_it() {
        assert_eq!(
            links("(see https://example.org/a_(b).) and https://example.org/c, then"),
            ["https://example.org/a_(b)", "https://example.org/c"]
        );
    }

    #[test]
    fn onion_and_ipfs_addresses_are_found() {
        let onion = format!("{}.onion", "a".repeat(56));
        assert_eq!(
            links(&format!("mirror {onion} up")),
            [format!("http://{onion}/")]
        );
        assert_eq!(
            links("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"),
            ["ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"]
        );
    }

    #[test]
    fn canonical_drops_fragments_and_tracking() {
        assert_eq!(
            canonical("HTTPS://Example.ORG:443/a/../b?utm_source=x&id=3&fbclid=y#top")
                .map(|u| u.to_string()),
            Some("https://example.org/b?id=3".to_owned())
        );
        assert_eq!(
            canonical("https://example.org/b?utm_medium=x").map(|u| u.to_string()),
            Some("https://example.org/b".to_owned())
        );
        assert!(canonical("not a url").is_none());
        assert!(canonical("javascript://example.org/%0aalert(1)").is_none());
        assert!(canonical("file:///etc/passwd").is_none());
        assert!(canonical("htuuuutp://m.test/v/9").is_none());
    }

    /// A URL of random labels and path segments, and one way of writing it
    /// (plain or defanged) among random words.
    fn written_link() -> impl proptest::strategy::Strategy<Value = (String, String)> {
        use proptest::prelude::*;
        let label = "[a-z][a-z0-9]{0,8}";
        (
            proptest::collection::vec(label, 1..3),
            "(com|org|net|example)",
            proptest::collection::vec("[A-Za-z0-9_-]{1,8}", 1..4),
            prop::bool::ANY,
            0..5usize,
            "[A-Za-z ]{0,20}",
            "[A-Za-z ]{0,20}",
        )
            .prop_map(|(labels, tld, segments, https, style, before, after)| {
                let host = format!("{}.{tld}", labels.join("."));
                let path = segments.join("/");
                let scheme = if https { "https" } else { "http" };
                let canonical = format!("{scheme}://{host}/{path}");
                let shown_host = match style {
                    1 => host.replace('.', "[.]"),
                    2 => host.replace('.', "(dot)"),
                    3 => host.replace('.', " [.] "),
                    _ => host.clone(),
                };
                let shown_scheme = match style {
                    1 | 4 => scheme.replace("tt", "xx"),
                    _ => scheme.to_owned(),
                };
                let sep = if style == 4 { " : // " } else { "://" };
                let written = format!("{before} {shown_scheme}{sep}{shown_host}/{path}. {after}");
                (written, canonical)
            })
    }

    proptest::proptest! {
        #[test]
        fn every_way_of_writing_a_link_finds_exactly_it((written, canonical) in written_link()) {
            proptest::prop_assert_eq!(links(&written), vec![canonical]);
        }

        #[test]
        fn found_links_are_canonical(text in "\\PC{0,200}") {
            for link in extract_links(&text) {
                proptest::prop_assert_eq!(canonical(link.as_str()), Some(link.clone()));
                proptest::prop_assert!(link.fragment().is_none());
            }
        }
    }

    #[test]
    fn each_link_is_listed_once() {
        assert_eq!(
            links("https://example.org/x https://example.org/x#again www.example.org"),
            ["https://example.org/x", "http://www.example.org/"]
        );
    }
}
