//! The bounded HTML reader on arbitrary bytes under small limits: it must
//! never panic, never keep more than it read, and stop at its limits.
//!
//! Run with `cargo fuzz run html_reader --sanitizer none` on stable; seed
//! the corpus with a few web pages.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use vigil_media::{HtmlLimit, HtmlLimits, read_html};

fuzz_target!(|data: &[u8]| {
    let limits = HtmlLimits {
        max_bytes: 64 * 1024,
        max_depth: 16,
        max_tokens: 2_000,
        max_time: Duration::from_secs(1),
    };
    let page = read_html(data, &limits);
    match page.truncated {
        Some(HtmlLimit::Bytes(_)) => assert!(data.len() > limits.max_bytes),
        None => assert!(data.len() <= limits.max_bytes),
        _ => {}
    }
    assert!(page.links.len() as u64 <= limits.max_tokens);
    // Each token is read once and each element pushed and popped at most
    // once: the work is linear by construction.
    assert!(page.work <= 3 * (limits.max_tokens + 1), "{}", page.work);
    assert_eq!(page.text.trim(), page.text);
});
