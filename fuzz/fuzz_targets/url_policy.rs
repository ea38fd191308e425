//! Untrusted URLs through the fetch policy: any string is accepted or
//! refused without a panic, and an accepted URL is http(s) with a host that
//! is not a non-public IP literal.
//!
//! Run with `cargo fuzz run url_policy --sanitizer none` on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_fetch::{UrlPolicy, is_public_address};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = UrlPolicy {
        allowed_hosts: vec!["example.org".into()],
        ..UrlPolicy::default()
    };
    for policy in [UrlPolicy::default(), policy] {
        if let Ok(url) = policy.check_url(text) {
            assert!(matches!(url.scheme(), "http" | "https"));
            let host = url.host_str().expect("accepted URLs have a host");
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = literal.parse() {
                assert!(is_public_address(ip), "{text} → {ip}");
            }
            if !policy.allowed_hosts.is_empty() {
                let host = host.trim_end_matches('.');
                assert!(
                    host == "example.org" || host.ends_with(".example.org"),
                    "{text}"
                );
            }
        }
    }
});
