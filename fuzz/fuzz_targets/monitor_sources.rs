//! Everything the monitor reads from strangers: feeds, pages, channel
//! exports, free text with (defanged) links, and fetched bodies. None may
//! panic, and every link found must be canonical and of a fetchable scheme;
//! feeds pass the size and depth check first, as in the monitor.
//!
//! Run with `cargo fuzz run monitor_sources --sanitizer none` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_monitor::{outlinks, posts, scan_bytes};

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("http://beacon.test/feed").expect("constant URL");
    let mut links = Vec::new();
    if posts::check_feed(data, 1 << 20).is_ok()
        && let Ok(feed) = posts::parse_feed(data, &base)
    {
        links.extend(feed.into_iter().flat_map(|post| post.links));
    }
    // The streamed reader keeps at most the posts asked for.
    if let Ok(export) = posts::read_telegram_export(data, 3) {
        assert!(export.len() <= 3);
        links.extend(export.into_iter().flat_map(|post| post.links));
    }
    let text = String::from_utf8_lossy(data);
    links.extend(posts::parse_page(&text, &base).links);
    let small = vigil_media::HtmlLimits {
        max_bytes: 16 * 1024,
        max_depth: 8,
        max_tokens: 500,
        ..vigil_media::HtmlLimits::default()
    };
    links.extend(posts::parse_page_bytes(data, &base, &small).0.links);
    links.extend(outlinks::extract_links(&text));
    for link in links {
        assert!(link.fragment().is_none(), "{link}");
        assert!(
            matches!(link.scheme(), "http" | "https" | "ipfs" | "ipns" | "zero"),
            "{link}"
        );
        assert_eq!(
            outlinks::canonical(link.as_str()).as_ref(),
            Some(&link),
            "{link}"
        );
    }
    // Videos go to FFmpeg, a separate process with its own fuzzing.
    if !matches!(
        vigil_media::sniff(data),
        vigil_media::Sniffed::Other(vigil_media::MediaKind::Video, _)
    ) {
        let _ = scan_bytes(data, Some(&base), &vigil_media::HashOptions::default());
    }
});
