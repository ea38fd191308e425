//! The command line of the monitor and its reports: clap types only.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum MonitorCommand {
    /// Add, list and remove the sources the monitor watches.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Add, list and remove the webhooks alerts are sent to.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Watch the sources until stopped: read each at its interval, fetch
    /// what new posts link to, match it against the banks, alert the
    /// webhooks, and re-check every match until it is gone.
    ///
    /// Links are refanged (hxxp, [.], (dot), spaces) and followed through
    /// shorteners and redirects, each hop checked against the URL rules:
    /// http(s) only, never loopback or private addresses (unless
    /// --allow-private), only --allow-host hosts when any are given (your
    /// own sources are read whatever their host). Onion
    /// and ZeroNet addresses are recorded, never fetched. robots.txt is
    /// obeyed (a source may opt out with `source add --ignore-robots`);
    /// requests to one host are limited (--per-host, --per-host-gap); no
    /// JavaScript runs and no login is tried. Fetched media is hashed and
    /// forgotten unless --store-media is given.
    ///
    /// A matched sighting is re-checked on the --ladder after it was first
    /// seen until it answers 404/410, its host is gone (connections
    /// refused, or --unresponsive-after checks in a row unanswered), it
    /// shows a "file removed" page, or it no longer matches; then its
    /// removal time is
    /// recorded. Known content at a new URL after an earlier copy went down
    /// is a resurfacing. Each sighting is alerted once (a stable alert id),
    /// with retries and backoff while a webhook is down. Content banked
    /// later is matched against kept sightings.
    ///
    /// A status line shows progress on a terminal; Ctrl-C or SIGTERM stops
    /// within 2 s whatever is being fetched or parsed (work cut off is
    /// redone), and the next run resumes where this one stopped. On exit
    /// it prints the run's counts as one JSON line.
    ///
    ///   vigil monitor run
    ///
    ///   vigil monitor run --allow-host files.example --ladder 5m,15m,1h,6h,24h,7d
    Run(MonitorRunArgs),
    /// Print the recorded sightings as JSON Lines (URL, host, source post,
    /// first seen, signals, matches, liveness, removal).
    Sightings {
        /// Only sightings that matched banked content.
        #[arg(long)]
        matched: bool,
    },
    /// Print every alert's delivery state per webhook as JSON Lines.
    Alerts,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SourceCommand {
    /// Watch a feed, a page or a channel export.
    ///
    ///   vigil monitor source add beacon --feed https://beacon.example/feed.xml --interval 30s
    ///
    ///   vigil monitor source add board --page https://board.example/ --interval 5m
    ///
    ///   vigil monitor source add channel --telegram exports/ChatExport/result.json
    Add(SourceAddArgs),
    /// List the sources as JSON Lines.
    List,
    /// Stop watching a source (its sightings stay, for reports).
    Remove {
        /// The source's name.
        name: String,
    },
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("kind").required(true).args(["feed", "page", "telegram"]))]
pub(crate) struct SourceAddArgs {
    /// A unique name (letters, digits, '-', '_', '.').
    pub(crate) name: String,
    /// An RSS, Atom or JSON feed: each entry is a post.
    #[arg(long, value_name = "URL")]
    pub(crate) feed: Option<String>,
    /// An HTML page: its links and embedded media.
    #[arg(long, value_name = "URL")]
    pub(crate) page: Option<String>,
    /// A Telegram Desktop export (`result.json`, machine-readable JSON):
    /// each message is a post, its attached photos and files are hashed.
    #[arg(long, value_name = "PATH")]
    pub(crate) telegram: Option<PathBuf>,
    /// How often to read it: 500ms, 30s, 5m, 1h…
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub(crate) interval: std::time::Duration,
    /// Ignore robots.txt for this source and the links it posts: for
    /// research with the site owners' consent or where the law allows it.
    #[arg(long)]
    pub(crate) ignore_robots: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Send every alert to URL as a JSON POST (header Idempotency-Key =
    /// alert id; retried with backoff until a 2xx answer).
    ///
    ///   vigil monitor webhook add trust-and-safety https://alerts.example/vigil
    Add {
        /// A unique name.
        name: String,
        /// Where to POST.
        url: String,
    },
    /// List webhooks as JSON Lines.
    List,
    /// Stop sending to a webhook.
    Remove {
        /// The webhook's name.
        name: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct MonitorRunArgs {
    /// Follow links only to these hosts (and their subdomains);
    /// repeatable. By default any public host may be fetched. The sources
    /// added with `monitor source add` are always read, whatever their
    /// host (with its robots.txt; a redirect off that host and its
    /// subdomains must still pass the list): the list limits where the
    /// links they post lead, not what you chose to watch.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub(crate) allow_hosts: Vec<String>,
    /// Allow loopback and private addresses: for closed networks and
    /// simulations only.
    #[arg(long)]
    pub(crate) allow_private: bool,
    /// Resolve HOST to IP instead of asking DNS (as curl --resolve);
    /// repeatable. The URL's port is kept.
    #[arg(long, value_name = "HOST=IP", value_parser = parse_resolve)]
    pub(crate) resolve: Vec<(String, IpAddr)>,
    /// When matches are re-checked, after first being seen; the last step
    /// repeats until the content is gone.
    #[arg(long, default_value = "5m,15m,1h,6h,24h,7d", value_parser = parse_ladder)]
    pub(crate) ladder: vigil_monitor::liveness::Ladder,
    /// Classify HOST (and its subdomains) as CLASS (file_locker, paste,
    /// archive, video_host, ipfs, onion, zeronet, other); repeatable.
    #[arg(long = "host-class", value_name = "HOST=CLASS",
          value_parser = vigil_monitor::hosts::HostRules::parse_entry)]
    pub(crate) host_classes: Vec<(String, vigil_monitor::hosts::HostClass)>,
    /// Fetches in flight at once.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: usize,
    /// Requests in flight at once to one host.
    #[arg(long, default_value_t = 2)]
    pub(crate) per_host: usize,
    /// Least time between two requests to one host (robots.txt's
    /// Crawl-delay wins if longer).
    #[arg(long, default_value = "250ms", value_parser = parse_duration)]
    pub(crate) per_host_gap: std::time::Duration,
    /// Largest download, in MiB.
    #[arg(long, default_value_t = 200)]
    pub(crate) max_mib: u64,
    /// Largest feed parsed, in MiB (checked, with its nesting depth,
    /// before the feed parser sees it).
    #[arg(long, default_value_t = 16, value_name = "MIB")]
    pub(crate) max_feed_mib: u64,
    /// Largest channel export read, in MiB. Exports are read as a stream,
    /// so memory follows the posts kept per read, not this size.
    #[arg(long, default_value_t = 512, value_name = "MIB")]
    pub(crate) max_export_mib: u64,
    /// Deadline for one download, from connecting (itself at most 10 s)
    /// through the headers to the last byte of the body: a host that takes
    /// connections and never answers, or trickles, costs at most this.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub(crate) timeout: std::time::Duration,
    /// Record a tracked URL as gone (`host_unresponsive`) once N checks in
    /// a row (ladder steps) timed out while other hosts answered; its
    /// removal time is the first unanswered check. Counted from the
    /// monitor's start.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) unresponsive_after: u32,
    /// Largest PDQ distance that matches.
    #[arg(long, default_value_t = 31)]
    pub(crate) max_distance: u32,
    /// Match only against these banks (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) banks: Option<Vec<String>>,
    /// Keep fetched media in DIR, named by SHA-256 (by default only
    /// signals are kept).
    #[arg(long, value_name = "DIR")]
    pub(crate) store_media: Option<PathBuf>,
    /// The User-Agent sent.
    #[arg(long)]
    pub(crate) user_agent: Option<String>,
    /// No status line.
    #[arg(long)]
    pub(crate) no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Takedowns per host: sightings of known content, how many were
    /// removed, median and 90th-percentile time from first sighting to
    /// removal, the share removed within 1 h and 24 h, and resurfacings.
    /// A table, or one JSON line per host with --json (the last line, host
    /// "*", is the total).
    ///
    ///   vigil report takedowns
    Takedowns {
        /// JSON Lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct BenchMonitorArgs {
    /// Posts in the simulation.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) posts: usize,
    /// Links in all (spread over the posts).
    #[arg(long, default_value_t = 5_000)]
    pub(crate) links: usize,
    /// Beacon sources (feeds, pages and channel exports in turn).
    #[arg(long, default_value_t = 20)]
    pub(crate) sources: usize,
    /// How often each source is read.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub(crate) interval: std::time::Duration,
    /// Over how long the posts appear.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub(crate) duration: std::time::Duration,
    /// Share of links that point to banked content.
    #[arg(long, default_value_t = 0.3)]
    pub(crate) banked_share: f64,
    /// Least time between two requests to one host (the monitor's
    /// politeness; 0ms measures raw capacity).
    #[arg(long, default_value = "250ms", value_parser = parse_duration)]
    pub(crate) per_host_gap: std::time::Duration,
    /// The reference vectors folder (images are served from pdq/).
    #[arg(long, default_value = "../shared/vectors")]
    pub(crate) vectors: PathBuf,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    vigil_monitor::liveness::parse_duration(text)
}

fn parse_ladder(text: &str) -> Result<vigil_monitor::liveness::Ladder, String> {
    text.parse()
}

fn parse_resolve(text: &str) -> Result<(String, IpAddr), String> {
    let (host, ip) = text
        .split_once('=')
        .ok_or_else(|| format!("expected HOST=IP, got {text:?}"))?;
    let ip = ip
        .parse()
        .map_err(|_| format!("{ip:?} is not an IP address"))?;
    Ok((host.trim().to_ascii_lowercase(), ip))
}
