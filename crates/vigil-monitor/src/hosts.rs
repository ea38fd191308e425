//! What kind of place a link points to: the classes takedown work is
//! organised by (a file locker answers abuse reports differently from an
//! archive, an onion service not at all).

use url::Url;

/// The kind of host a link points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostClass {
    /// File lockers and cloud drives (mega, mediafire, Google Drive, …).
    FileLocker,
    /// Paste sites and anonymous publishing (pastebin, justpaste.it, …).
    Paste,
    /// Web archives (archive.org, archive.today, …).
    Archive,
    /// Video platforms.
    VideoHost,
    /// IPFS: an `ipfs://` address, a gateway, or a CID in a URL.
    Ipfs,
    /// A Tor onion service: recorded, never fetched.
    Onion,
    /// A ZeroNet site: recorded, never fetched.
    ZeroNet,
    /// Anything else.
    Other,
}

impl HostClass {
    /// Every class.
    pub const ALL: [HostClass; 8] = [
        Self::FileLocker,
        Self::Paste,
        Self::Archive,
        Self::VideoHost,
        Self::Ipfs,
        Self::Onion,
        Self::ZeroNet,
        Self::Other,
    ];

    /// The class's name in records, reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FileLocker => "file_locker",
            Self::Paste => "paste",
            Self::Archive => "archive",
            Self::VideoHost => "video_host",
            Self::Ipfs => "ipfs",
            Self::Onion => "onion",
            Self::ZeroNet => "zeronet",
            Self::Other => "other",
        }
    }

    /// Whether links of this class may be fetched at all: onion and
    /// ZeroNet addresses need their own networks, and reaching them is not
    /// the monitor's business.
    pub fn fetchable(self) -> bool {
        !matches!(self, Self::Onion | Self::ZeroNet)
    }
}

impl std::fmt::Display for HostClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for HostClass {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|class| class.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                format!("unknown host class {s:?} (one of {})", names.join(", "))
            })
    }
}

/// Well-known hosts of each class. A host matches an entry if it is the
/// entry or a subdomain of it.
const KNOWN_HOSTS: &[(&str, HostClass)] = &[
    ("mega.nz", HostClass::FileLocker),
    ("mega.io", HostClass::FileLocker),
    ("mediafire.com", HostClass::FileLocker),
    ("drive.google.com", HostClass::FileLocker),
    ("docs.google.com", HostClass::FileLocker),
    ("dropbox.com", HostClass::FileLocker),
    ("onedrive.live.com", HostClass::FileLocker),
    ("1drv.ms", HostClass::FileLocker),
    ("files.fm", HostClass::FileLocker),
    ("file.io", HostClass::FileLocker),
    ("gofile.io", HostClass::FileLocker),
    ("pixeldrain.com", HostClass::FileLocker),
    ("krakenfiles.com", HostClass::FileLocker),
    ("workupload.com", HostClass::FileLocker),
    ("catbox.moe", HostClass::FileLocker),
    ("sendspace.com", HostClass::FileLocker),
    ("4shared.com", HostClass::FileLocker),
    ("uptobox.com", HostClass::FileLocker),
    ("top4top.io", HostClass::FileLocker),
    ("wetransfer.com", HostClass::FileLocker),
    ("we.tl", HostClass::FileLocker),
    ("pastebin.com", HostClass::Paste),
    ("justpaste.it", HostClass::Paste),
    ("paste.ee", HostClass::Paste),
    ("controlc.com", HostClass::Paste),
    ("rentry.co", HostClass::Paste),
    ("rentry.org", HostClass::Paste),
    ("privatebin.net", HostClass::Paste),
    ("dpaste.org", HostClass::Paste),
    ("telegra.ph", HostClass::Paste),
    ("write.as", HostClass::Paste),
    ("notes.io", HostClass::Paste),
    ("archive.org", HostClass::Archive),
    ("archive.ph", HostClass::Archive),
    ("archive.today", HostClass::Archive),
    ("archive.is", HostClass::Archive),
    ("archive.li", HostClass::Archive),
    ("ghostarchive.org", HostClass::Archive),
    ("perma.cc", HostClass::Archive),
    ("youtube.com", HostClass::VideoHost),
    ("youtu.be", HostClass::VideoHost),
    ("vimeo.com", HostClass::VideoHost),
    ("dailymotion.com", HostClass::VideoHost),
    ("rumble.com", HostClass::VideoHost),
    ("bitchute.com", HostClass::VideoHost),
    ("odysee.com", HostClass::VideoHost),
    ("streamable.com", HostClass::VideoHost),
    ("ok.ru", HostClass::VideoHost),
    ("ipfs.io", HostClass::Ipfs),
    ("dweb.link", HostClass::Ipfs),
    ("cloudflare-ipfs.com", HostClass::Ipfs),
    ("gateway.pinata.cloud", HostClass::Ipfs),
    ("w3s.link", HostClass::Ipfs),
    ("nftstorage.link", HostClass::Ipfs),
];

/// ZeroNet's local proxy port: `http://127.0.0.1:43110/<site address>`.
const ZERONET_PORT: u16 = 43110;

/// Host classification: the built-in table plus the operator's own
/// entries, which take precedence (a platform knows its region's lockers).
#[derive(Debug, Clone, Default)]
pub struct HostRules {
    custom: Vec<(String, HostClass)>,
}

impl HostRules {
    /// The built-in table only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `host` (and its subdomains) as `class`.
    pub fn with(mut self, host: &str, class: HostClass) -> Self {
        self.custom
            .push((host.trim_end_matches('.').to_ascii_lowercase(), class));
        self
    }

    /// Reads `HOST=CLASS`, as given on the command line.
    pub fn parse_entry(entry: &str) -> Result<(String, HostClass), String> {
        let (host, class) = entry
            .split_once('=')
            .ok_or_else(|| format!("expected HOST=CLASS, got {entry:?}"))?;
        Ok((host.trim().to_owned(), class.trim().parse()?))
    }

    /// The class of the host `url` points to.
    pub fn classify(&self, url: &Url) -> HostClass {
        match url.scheme() {
            "ipfs" | "ipns" => return HostClass::Ipfs,
            "zero" => return HostClass::ZeroNet,
            _ => {}
        }
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if host.ends_with(".onion") {
            return HostClass::Onion;
        }
        if host.ends_with(".bit") || url.port() == Some(ZERONET_PORT) {
            return HostClass::ZeroNet;
        }
        let covers = |entry: &str| {
            host == entry
                || host
                    .strip_suffix(entry)
                    .is_some_and(|rest| rest.ends_with('.'))
        };
        if let Some((_, class)) = self.custom.iter().find(|(entry, _)| covers(entry)) {
            return *class;
        }
        if let Some((_, class)) = KNOWN_HOSTS.iter().find(|(entry, _)| covers(entry)) {
            return *class;
        }
        if host.contains(".ipfs.") || host.contains(".ipns.") || has_cid_path(url) {
            return HostClass::Ipfs;
        }
        HostClass::Other
    }
}

/// Whether the path is a gateway's `/ipfs/<CID>` or `/ipns/<name>`.
fn has_cid_path(url: &Url) -> bool {
    let mut segments = url.path_segments().into_iter().flatten();
    matches!(
        (segments.next(), segments.next()),
        (Some("ipfs" | "ipns"), Some(cid)) if looks_like_cid(cid)
    )
}

/// CIDv0 (`Qm` + 44 base58 characters) or CIDv1 in base32 (`b` + at
/// least 58 characters of `a-z2-7`).
fn looks_like_cid(text: &str) -> bool {
    let base58 = |c: char| c.is_ascii_alphanumeric() && !matches!(c, '0' | 'O' | 'I' | 'l');
    (text.len() == 46 && text.starts_with("Qm") && text.chars().all(base58))
        || (text.len() >= 59
            && text.starts_with('b')
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(url: &str) -> HostClass {
        HostRules::new().classify(&Url::parse(url).unwrap())
    }

    #[test]
    fn known_hosts_and_subdomains() {
        assert_eq!(class("https://mega.nz/file/abc"), HostClass::FileLocker);
        assert_eq!(
            class("https://www.mediafire.com/file/x"),
            HostClass::FileLocker
        );
        assert_eq!(class("https://justpaste.it/abc"), HostClass::Paste);
        assert_eq!(
            class("https://web.archive.org/web/2020/x"),
            HostClass::Archive
        );
        assert_eq!(class("https://youtu.be/abc"), HostClass::VideoHost);
        assert_eq!(class("https://notmega.nz/x"), HostClass::Other);
        assert_eq!(class("https://example.org/x"), HostClass::Other);
    }

    #[test]
    fn ipfs_in_every_form() {
        let cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        assert_eq!(class(&format!("ipfs://{cid}")), HostClass::Ipfs);
        assert_eq!(
            class(&format!("https://{cid}.ipfs.example.net/")),
            HostClass::Ipfs
        );
        assert_eq!(
            class(&format!("https://gw.example.net/ipfs/{cid}/a.mp4")),
            HostClass::Ipfs
        );
        assert_eq!(
            class("https://gw.example.net/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"),
            HostClass::Ipfs
        );
        assert_eq!(
            class("https://example.net/ipfs/not-a-cid"),
            HostClass::Other
        );
    }

    #[test]
    fn onion_and_zeronet_are_never_fetchable() {
        let onion = class(&format!("http://{}.onion/x", "a".repeat(56)));
        assert_eq!(onion, HostClass::Onion);
        let zero = class("http://127.0.0.1:43110/1HeLLo4uzjaLetFx6NH3PMwFP3qbRbTf3D");
        assert_eq!(zero, HostClass::ZeroNet);
        assert_eq!(class("http://talk.zeroid.bit/"), HostClass::ZeroNet);
        assert!(!onion.fetchable() && !zero.fetchable());
        assert!(HostClass::FileLocker.fetchable());
    }

    #[test]
    fn operator_entries_take_precedence() {
        let rules = HostRules::new()
            .with("Locker.Test.", HostClass::FileLocker)
            .with("youtube.com", HostClass::Other);
        let url = |u: &str| Url::parse(u).unwrap();
        assert_eq!(
            rules.classify(&url("http://cdn.locker.test/f")),
            HostClass::FileLocker
        );
        assert_eq!(
            rules.classify(&url("https://youtube.com/x")),
            HostClass::Other
        );
        assert_eq!(
            HostRules::parse_entry("paste.test=paste"),
            Ok(("paste.test".to_owned(), HostClass::Paste))
        );
        assert!(HostRules::parse_entry("paste.test").is_err());
        assert!(HostRules::parse_entry("x=nope").is_err());
    }
}
