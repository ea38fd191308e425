//! The rules: which URLs may be fetched and which addresses connected to.
//! Pure functions of their input, tested here without a network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

use crate::FetchError;

/// What a [`Fetcher`](crate::Fetcher) may fetch, and how much.
#[derive(Debug, Clone)]
pub struct UrlPolicy {
    /// Hosts that may be fetched, each matching itself and its subdomains
    /// (`example.org` allows `cdn.example.org`). Empty: any host.
    pub allowed_hosts: Vec<String>,
    /// Allow loopback, private, link-local and other non-public addresses.
    /// For tests and closed networks only: it lets anyone who can send a URL
    /// reach services on the host's own network.
    pub allow_private: bool,
    /// Largest body accepted, in bytes.
    pub max_bytes: u64,
    /// Deadline for the whole fetch: connecting, redirects and the body.
    pub timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// The `User-Agent` sent, so site owners can tell who is fetching.
    pub user_agent: String,
    /// Host names resolved to fixed addresses instead of through DNS, as
    /// curl's `--resolve` does (a closed network, a split-horizon name, a
    /// test ecosystem on loopback). The addresses are still checked against
    /// [`UrlPolicy::allow_private`]; the port of the URL is used.
    pub resolve: Vec<(String, SocketAddr)>,
}

impl Default for UrlPolicy {
    /// HMA's limits: 100 MiB and 30 s; five redirects; any public host.
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            allow_private: false,
            max_bytes: 100 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            max_redirects: 5,
            user_agent: concat!(
                "vigil/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/vigil-project/vigil)"
            )
            .to_owned(),
            resolve: Vec::new(),
        }
    }
}

impl UrlPolicy {
    /// Parses `url` and checks it against every rule that can be decided
    /// before resolving its host: scheme, host, credentials, allowlist, and
    /// the address itself when the host is an IP literal.
    pub fn check_url(&self, url: &str) -> Result<Url, FetchError> {
        self.check_url_also_allowing(url, None)
    }

    /// As [`UrlPolicy::check_url`], with `also_allowed` (a host and its
    /// subdomains) passing the allowlist as if it were on it: for URLs the
    /// operator named, not ones a stranger posted. Every other rule still
    /// applies.
    pub fn check_url_also_allowing(
        &self,
        url: &str,
        also_allowed: Option<&str>,
    ) -> Result<Url, FetchError> {
        let unsafe_url = |reason: &str| FetchError::Unsafe {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = Url::parse(url).map_err(|e| unsafe_url(&format!("not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(unsafe_url("only http and https URLs are fetched"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(unsafe_url("URLs with credentials are not fetched"));
        }
        let host = parsed.host().ok_or_else(|| unsafe_url("no host"))?;
        let host_name = match &host {
            Host::Domain(domain) => domain.trim_end_matches('.').to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => ip.to_string(),
        };
        let named = also_allowed.is_some_and(|also| host_covered(&host_name, also));
        if !named && !self.host_allowed(&host_name) {
            return Err(unsafe_url("host is not in the allowlist"));
        }
        let literal = match host {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        };
        if let Some(ip) = literal
            && !self.address_allowed(ip)
        {
            return Err(unsafe_url(&format!("{ip} is not a public address")));
        }
        Ok(parsed)
    }

    /// Whether `host` (lowercase, no trailing dot) passes the allowlist.
    fn host_allowed(&self, host: &str) -> bool {
        self.allowed_hosts.is_empty()
            || self
                .allowed_hosts
                .iter()
                .any(|allowed| host_covered(host, allowed))
    }

    /// Whether connecting to `ip` is allowed.
    pub fn address_allowed(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public_address(ip)
    }
}

/// Whether `host` (lowercase, no trailing dot) is `entry` or one of its
/// subdomains.
fn host_covered(host: &str, entry: &str) -> bool {
    let entry = entry.trim_end_matches('.').to_ascii_lowercase();
    host == entry
        || host
            .strip_suffix(entry.as_str())
            .is_some_and(|prefix| prefix.ends_with('.'))
}

/// Whether `ip` is a globally routable unicast address: not loopback,
/// private (RFC 1918, IPv6 unique-local), link-local (which includes cloud
/// metadata services at 169.254.169.254), shared (100.64/10), unspecified,
/// broadcast, multicast, documentation, benchmarking or reserved.
/// IPv4-mapped, IPv4-compatible and NAT64 IPv6 addresses are judged by the
/// IPv4 address inside them, so `::ffff:127.0.0.1` is loopback.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let blocked = a == 0                                  // "this network"
        || a == 10                                        // private
        || a == 127                                       // loopback
        || (a == 100 && (64..128).contains(&b))           // shared address space (CGNAT)
        || (a == 169 && b == 254)                         // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))            // private
        || (a == 192 && b == 0 && c == 0)                 // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)                 // documentation
        || (a == 192 && b == 88 && c == 99)               // 6to4 relay anycast
        || (a == 192 && b == 168)                         // private
        || (a == 198 && (18..20).contains(&b))            // benchmarking
        || (a == 198 && b == 51 && c == 100)              // documentation
        || (a == 203 && b == 0 && c == 113)               // documentation
        || a >= 224; // multicast, reserved, broadcast
    !blocked
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let blocked = ip.is_unspecified()
        || ip.is_loopback()
        || (segments[0] & 0xfe00) == 0xfc00                // unique local
        || (segments[0] & 0xffc0) == 0xfe80                // link-local
        || (segments[0] & 0xffc0) == 0xfec0                // site-local (deprecated)
        || (segments[0] & 0xff00) == 0xff00                // multicast
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x2001 && segments[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHID, …)
        || segments[0] == 0x2002                           // 6to4: an IPv4 address inside
        || segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]; // discard-only
    !blocked
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let mapped = s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff;
    let compatible = s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified();
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0];
    (mapped || compatible || nat64).then(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(ip: &str) -> bool {
        is_public_address(ip.parse().unwrap_or_else(|e| panic!("{ip}: {e}")))
    }

    #[test]
    fn non_public_ranges_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.255.0.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.10",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(!public(ip), "{ip} must not count as public");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
        ] {
            assert!(public(ip), "{ip} is public");
        }
    }

    fn refused(policy: &UrlPolicy, url: &str) -> String {
        match policy.check_url(url) {
            Err(FetchError::Unsafe { reason, .. }) => reason,
            other => panic!("{url} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn urls_are_checked_before_any_connection() {
        let policy = UrlPolicy::default();
        assert!(policy.check_url("https://example.org/a.jpg").is_ok());
        assert!(policy.check_url("http://8.8.8.8:8080/x").is_ok());
        assert!(refused(&policy, "ftp://example.org/a").contains("http"));
        assert!(refused(&policy, "file:///etc/passwd").contains("http"));
        assert!(refused(&policy, "gopher://example.org").contains("http"));
        assert!(refused(&policy, "not a url").contains("not a URL"));
        assert!(refused(&policy, "http://user:pw@example.org/").contains("credentials"));
        assert!(refused(&policy, "http://127.0.0.1:5432/").contains("public"));
        assert!(refused(&policy, "http://[::1]/").contains("public"));
        assert!(refused(&policy, "http://[::ffff:169.254.169.254]/").contains("public"));
        // Numeric forms that some resolvers read as IPv4 are normalised by the URL parser.
        assert!(refused(&policy, "http://2130706433/").contains("public"));
        assert!(refused(&policy, "http://0x7f.1/").contains("public"));
    }

    #[test]
    fn allowlist_matches_hosts_and_their_subdomains_only() {
        let policy = UrlPolicy {
            allowed_hosts: vec!["example.org".into(), "Media.Test.".into()],
            ..UrlPolicy::default()
        };
        assert!(policy.check_url("https://example.org/").is_ok());
        assert!(policy.check_url("https://cdn.EXAMPLE.org./x").is_ok());
        assert!(policy.check_url("https://media.test/").is_ok());
        assert!(refused(&policy, "https://badexample.org/").contains("allowlist"));
        assert!(refused(&policy, "https://example.org.evil.test/").contains("allowlist"));
        assert!(refused(&policy, "https://8.8.8.8/").contains("allowlist"));
        // A host the operator named passes, with its subdomains, and only it.
        let named = |url: &str| policy.check_url_also_allowing(url, Some("Beacon.Test"));
        assert!(named("https://beacon.test/feed").is_ok());
        assert!(named("https://www.beacon.test/feed").is_ok());
        assert!(named("https://media.test/").is_ok());
        assert!(named("https://notbeacon.test/").is_err());
        assert!(named("ftp://beacon.test/").is_err());
    }

    #[test]
    fn allow_private_lets_loopback_through() {
        let policy = UrlPolicy {
            allow_private: true,
            ..UrlPolicy::default()
        };
        assert!(policy.check_url("http://127.0.0.1:8080/").is_ok());
        assert!(
            policy.address_allowed(
                "10.0.0.1"
                    .parse()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
            )
        );
    }
}
