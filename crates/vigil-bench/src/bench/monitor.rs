//! `vigil bench monitor`: the monitor against a simulated ecosystem on
//! loopback, in real time — how long from a link's appearance in a source
//! to its alert, how many links a second it fetches, how much memory.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use vigil_engine::Engine;
use vigil_fetch::UrlPolicy;
use vigil_monitor::report::percentile;
use vigil_monitor::{Monitor, MonitorOptions, scan_bytes};
use vigil_sim::{Ecosystem, Hosted, PostSpec, Scenario, SourceSpec};
use vigil_store::{BankName, NewContent, NewSource, SourceKind, SqliteStore, Store};

use crate::support::{SplitMix, process_memory_bytes};

/// Settings of `vigil bench monitor`.
#[derive(Debug, Clone)]
pub struct BenchMonitorSettings {
    /// Posts in the simulation.
    pub posts: usize,
    /// Links in all, spread over the posts.
    pub links: usize,
    /// Beacon sources (feeds, pages and channel exports in turn).
    pub sources: usize,
    /// How often each source is read.
    pub interval: Duration,
    /// Over how long the posts appear.
    pub duration: Duration,
    /// Share (0–1) of links that point to banked content.
    pub banked_share: f64,
    /// Least time between two requests to one host.
    pub per_host_gap: Duration,
    /// The reference vectors folder (images are served from `pdq/`).
    pub vectors: PathBuf,
}

/// File hosts of the simulation: lockers wrap files in landing pages.
const MIRRORS: [&str; 6] = [
    "mirror-a.test",
    "mirror-b.test",
    "mirror-c.test",
    "cdn.test",
    "locker-a.test",
    "locker-b.test",
];
const SHORTENER: &str = "short.test";
const BANK: &str = "BENCH_KNOWN";
/// Longest wait for stragglers after the last post.
const DRAIN: Duration = Duration::from_secs(300);

/// An image of the simulation: its name, bytes and signals.
type Image = (String, Arc<[u8]>, vigil_store::Signals);

/// One link of the simulation and the URLs its alert may name.
struct Planted {
    appear_at: Duration,
    banked: bool,
    alert_urls: Vec<String>,
}

/// Runs the monitor against the simulation in real time until every banked
/// link is alerted (or a drain timeout), and writes one JSON object to
/// `out` (pretty on stderr too).
pub fn run(settings: &BenchMonitorSettings, mut out: impl Write) -> anyhow::Result<()> {
    if settings.posts == 0 || settings.links == 0 || settings.sources == 0 {
        bail!("--posts, --links and --sources must be at least 1");
    }
    let items = distinct_images(&settings.vectors.join("pdq"))?;
    let banked_items = items.len() / 2;
    eprintln!(
        "vigil: {} distinct images ({banked_items} banked); {} posts, {} links over {:?}, sources read every {:?}",
        items.len(),
        settings.posts,
        settings.links,
        settings.duration,
        settings.interval
    );
    let work = tempfile::tempdir().context("cannot make a temporary folder")?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&work.path().join("vigil.db"))?);
    let engine = Arc::new(Engine::open(Arc::clone(&store))?);
    let bank: BankName = BANK.parse()?;
    engine.create_bank(&bank, 1.0, "bench")?;
    let contents = items[..banked_items]
        .iter()
        .map(|(_, _, signals)| NewContent {
            signals: signals.clone(),
            ..NewContent::default()
        })
        .collect::<Vec<_>>();
    engine.add_contents(&bank, &contents, "bench")?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let sim = Ecosystem::bind(&[]).await?;
        let (scenario, planted) = scenario(settings, &sim, &items, banked_items, work.path());
        let mut hosts: Vec<String> = MIRRORS.iter().map(|h| (*h).to_owned()).collect();
        hosts.extend(["short.test", "beacon.test"].map(str::to_owned));
        for (i, source) in scenario.sources.iter().enumerate() {
            let (kind, location) = match source {
                SourceSpec::Feed { host, path } => {
                    (SourceKind::Feed, format!("{}{path}", sim.base(host)))
                }
                SourceSpec::Page { host, path } => {
                    (SourceKind::Page, format!("{}{path}", sim.base(host)))
                }
                SourceSpec::Telegram { file, .. } => (
                    SourceKind::TelegramExport,
                    file.to_string_lossy().into_owned(),
                ),
            };
            store.add_source(
                &NewSource {
                    name: format!("beacon-{i}"),
                    kind,
                    location,
                    interval_ms: i64::try_from(settings.interval.as_millis()).unwrap_or(i64::MAX),
                    ignore_robots: false,
                },
                "bench",
            )?;
        }
        store.add_webhook("bench", &sim.webhook_url(), "bench")?;
        let options = MonitorOptions {
            policy: UrlPolicy {
                allowed_hosts: hosts.clone(),
                allow_private: true,
                resolve: hosts.iter().map(|h| (h.clone(), sim.address(h))).collect(),
                ..MonitorOptions::default().policy
            },
            per_host_gap: settings.per_host_gap,
            ..MonitorOptions::default()
        };
        let monitor = Monitor::new(Arc::clone(&engine), Arc::clone(&store), options)?;
        let sim = sim.start(scenario);
        let started = Instant::now();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = {
            let monitor = monitor.clone();
            tokio::spawn(async move {
                monitor
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await
            })
        };
        let expected = planted.iter().filter(|p| p.banked).count();
        let mut fetched_samples: Vec<(Duration, u64)> = Vec::new();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let status = monitor.status();
            fetched_samples.push((started.elapsed(), status.fetched + status.failed));
            let alerted = alert_times(&sim.alerts()).len();
            let posts_done = started.elapsed() >= settings.duration;
            if posts_done && alerted >= expected {
                break;
            }
            if started.elapsed() >= settings.duration + DRAIN {
                eprintln!("vigil: gave up waiting after {DRAIN:?} of drain");
                break;
            }
        }
        let _ = stop.send(());
        running
            .await
            .map_err(|e| anyhow::anyhow!("monitor task: {e}"))??;
        let elapsed = started.elapsed();
        anyhow::Ok(measure(
            settings,
            &planted,
            &sim.alerts(),
            &fetched_samples,
            monitor.status(),
            elapsed,
        ))
    })?;
    eprintln!("{}", serde_json::to_string_pretty(&report)?);
    writeln!(out, "{report}")?;
    Ok(())
}

/// When the first alert naming each URL arrived.
fn alert_times(alerts: &[vigil_sim::ReceivedAlert]) -> HashMap<String, Duration> {
    let mut first = HashMap::new();
    for alert in alerts {
        if let Some(url) = alert.body.get("posted_url").and_then(|u| u.as_str()) {
            first.entry(url.to_owned()).or_insert(alert.at);
        }
    }
    first
}

fn measure(
    settings: &BenchMonitorSettings,
    planted: &[Planted],
    alerts: &[vigil_sim::ReceivedAlert],
    fetched_samples: &[(Duration, u64)],
    status: vigil_monitor::MonitorStatus,
    elapsed: Duration,
) -> serde_json::Value {
    let times = alert_times(alerts);
    let mut latencies: Vec<f64> = Vec::new();
    let mut missed = 0;
    let mut false_alerts = 0;
    for link in planted {
        let alerted = link
            .alert_urls
            .iter()
            .filter_map(|url| times.get(url))
            .min();
        match (link.banked, alerted) {
            (true, Some(at)) => latencies.push(at.saturating_sub(link.appear_at).as_secs_f64()),
            (true, None) => missed += 1,
            (false, Some(_)) => false_alerts += 1,
            (false, None) => {}
        }
    }
    latencies.sort_by(f64::total_cmp);
    let peak_5s = fetched_samples
        .windows(6)
        .map(|w| (w[5].1 - w[0].1) as f64 / w[5].0.saturating_sub(w[0].0).as_secs_f64())
        .fold(0.0, f64::max);
    let alert_ids: std::collections::HashSet<&str> = alerts
        .iter()
        .filter_map(|a| a.body.get("alert_id").and_then(|v| v.as_str()))
        .collect();
    json!({
        "posts": settings.posts,
        "links": settings.links,
        "sources": settings.sources,
        "interval_s": settings.interval.as_secs_f64(),
        "duration_s": settings.duration.as_secs_f64(),
        "per_host_gap_ms": settings.per_host_gap.as_millis(),
        "banked_links": planted.iter().filter(|p| p.banked).count(),
        "alerted_links": latencies.len(),
        "missed_links": missed,
        "false_alerts": false_alerts,
        "alerts_received": alerts.len(),
        "distinct_alert_ids": alert_ids.len(),
        "time_to_alert_s": {
            "median": percentile(&latencies, 0.5),
            "p95": percentile(&latencies, 0.95),
            "max": latencies.last(),
        },
        "fetched": status.fetched,
        "fetch_failures": status.failed,
        "fetched_per_s_over_run": status.fetched as f64 / elapsed.as_secs_f64(),
        "fetched_per_s_peak_5s": peak_5s,
        "status": status,
        "elapsed_s": elapsed.as_secs_f64(),
        "peak_rss_bytes": process_memory_bytes("VmHWM"),
    })
}

/// Images under `dir` that hash with a trusted PDQ and are not near
/// duplicates of each other (the bridge variants are one picture), with
/// their signals.
fn distinct_images(dir: &Path) -> anyhow::Result<Vec<Image>> {
    let mut found = Vec::new();
    let mut kept_pdq: Vec<vigil_signal::PdqHash> = Vec::new();
    for path in crate::support::files_with_extensions(dir, &["jpg", "png"]) {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let Ok(scanned) = scan_bytes(&bytes, None, &vigil_media::HashOptions::default()) else {
            continue;
        };
        let Some(pdq) = scanned.signals.pdq() else {
            continue;
        };
        if kept_pdq.iter().any(|kept| kept.distance(&pdq) <= 31 * 2) {
            continue;
        }
        kept_pdq.push(pdq);
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("jpg")
            .to_ascii_lowercase();
        found.push((
            format!("{}.{extension}", found.len()),
            Arc::from(bytes),
            scanned.signals,
        ));
    }
    if found.len() < 4 {
        bail!(
            "only {} usable images under {}: point --vectors at the reference vectors",
            found.len(),
            dir.display()
        );
    }
    Ok(found)
}

/// The generated ecosystem: posts spread at random over the duration and
/// round-robin over the sources; each link a distinct URL on a mirror,
/// written plainly, defanged, or through the shortener.
fn scenario(
    settings: &BenchMonitorSettings,
    sim: &Ecosystem,
    items: &[Image],
    banked_items: usize,
    work: &Path,
) -> (Scenario, Vec<Planted>) {
    let mut random = SplitMix(0x5eed_b0a7);
    let mut scenario = Scenario {
        items: items
            .iter()
            .map(|(name, bytes, _)| (name.clone(), Arc::clone(bytes)))
            .collect(),
        ..Scenario::default()
    };
    for i in 0..settings.sources {
        scenario.sources.push(match i % 3 {
            0 => SourceSpec::Feed {
                host: "beacon.test".into(),
                path: format!("/feed/{i}.xml"),
            },
            1 => SourceSpec::Page {
                host: "beacon.test".into(),
                path: format!("/board/{i}"),
            },
            _ => SourceSpec::Telegram {
                file: work.join(format!("export-{i}/result.json")),
                channel: format!("channel{i}"),
            },
        });
    }
    let mut appear: Vec<Duration> = (0..settings.posts)
        .map(|_| settings.duration.mul_f32(random.unit()))
        .collect();
    appear.sort();
    let mut planted = Vec::new();
    let links_per_post = settings.links.div_ceil(settings.posts);
    let mut link = 0;
    for (post, appear_at) in appear.into_iter().enumerate() {
        let mut text = format!("Post {post}. New uploads:");
        for _ in 0..links_per_post {
            if link == settings.links {
                break;
            }
            let banked = f64::from(random.unit()) < settings.banked_share;
            let item = if banked {
                (random.next() as usize) % banked_items
            } else {
                banked_items + (random.next() as usize) % (items.len() - banked_items)
            };
            let host = MIRRORS[link % MIRRORS.len()];
            let extension = if items[item].0.ends_with(".png") {
                "png"
            } else {
                "jpg"
            };
            let path = format!("/f/{link}.{extension}");
            let mut hosted = Hosted::direct(host, &path, item);
            let mut alert_urls = vec![format!("{}{path}", sim.base(host))];
            if host.starts_with("locker") {
                hosted = hosted.behind_page();
                alert_urls.push(format!("{}/raw{path}", sim.base(host)));
            }
            scenario.files.push(hosted);
            let written = match link % 4 {
                0 => format!("{}{path}", sim.base(host)),
                1 => format!("{}{path}", sim.base(host))
                    .replacen("http://", "hxxp://", 1)
                    .replace(".test", "[.]test"),
                2 => {
                    let code = format!("/s/{link}");
                    scenario.redirects.push((
                        SHORTENER.into(),
                        code.clone(),
                        format!("{}{path}", sim.base(host)),
                    ));
                    alert_urls.push(format!("{}{code}", sim.base(SHORTENER)));
                    format!("{}{code}", sim.base(SHORTENER))
                }
                _ => format!("{}{path}", sim.base(host)).replace(".test", "(dot)test"),
            };
            text.push(' ');
            text.push_str(&written);
            planted.push(Planted {
                appear_at,
                banked,
                alert_urls,
            });
            link += 1;
        }
        scenario
            .posts
            .push(PostSpec::new(post % settings.sources, appear_at, text));
    }
    (scenario, planted)
}
