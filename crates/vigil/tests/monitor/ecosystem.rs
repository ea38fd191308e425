//! The monitor end to end, as an operator runs it, against a simulated
//! ecosystem on loopback: a beacon feed, a board page and a channel export
//! post plain and defanged links, through a shortener and a landing page,
//! to hosts that serve the reference images and later take them down (404,
//! 410, a "removed" page, other content, the whole host gone); one item is
//! re-uploaded elsewhere; one is banked only after it was seen. The monitor
//! is stopped with Ctrl-C halfway and resumed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use vigil_sim::{Ecosystem, Hosted, PostSpec, Removal, Running, Scenario, SourceSpec};

use crate::common::{json_lines, store_args, vigil_on};
use crate::support::{interrupt, item, ms, start_monitor, vector, wait_for};

const ONION: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion";
const HOSTS: [&str; 9] = [
    "beacon.test",
    "board.test",
    "mirror.test",
    "mirror2.test",
    "locker.test",
    "short.test",
    "cdn.test",
    "fragile.test",
    "outside.test",
];

/// The ecosystem: what is posted where and when, and what goes down.
fn scenario(sim: &Ecosystem, export: &Path) -> Scenario {
    let base = |host: &str| sim.base(host);
    let mut s = Scenario {
        items: vec![
            item("bridge-mods/aaa-orig.jpg"),                // 0 A banked
            item("misc-images/c.png"),                       // 1 B banked
            item("reg-test-input/pen-and-coaster.png"),      // 2 C banked
            item("reg-test-input/labelme-subset/q0746.jpg"), // 3 D banked
            item("synthetic/grey-640x480.png"),              // 4 U unbanked
            item("reg-test-input/labelme-subset/q2821.jpg"), // 5 E banked while running
        ],
        webhook_failures: 2,
        ..Scenario::default()
    };
    s.sources = vec![
        SourceSpec::Feed {
            host: "beacon.test".into(),
            path: "/feed.xml".into(),
        },
        SourceSpec::Page {
            host: "board.test".into(),
            path: "/".into(),
        },
        SourceSpec::Telegram {
            file: export.to_path_buf(),
            channel: "beacon".into(),
        },
    ];
    s.files = vec![
        Hosted::direct("mirror.test", "/i/a.jpg", 0).removed(ms(2_000), Removal::NotFound),
        Hosted::direct("locker.test", "/f/b", 1)
            .behind_page()
            .removed(ms(2_500), Removal::RemovedPage),
        Hosted::direct("mirror.test", "/i/c.png", 2).removed(ms(3_000), Removal::Gone),
        Hosted::direct("fragile.test", "/d.jpg", 3),
        Hosted::direct("mirror.test", "/i/u.png", 4),
        Hosted::direct("cdn.test", "/swap.jpg", 0).removed(ms(3_000), Removal::Replaced(4)),
        Hosted::direct("cdn.test", "/e.jpg", 5),
        Hosted::direct("mirror2.test", "/i/a-again.jpg", 0),
        // Copies of A where the monitor must not go.
        Hosted::direct("outside.test", "/i/a.jpg", 0),
        Hosted::direct("mirror.test", "/private/a.jpg", 0),
        Hosted::direct(ONION, "/a.jpg", 0),
    ];
    s.redirects = vec![(
        "short.test".into(),
        "/s/c".into(),
        format!("{}/i/c.png", base("mirror.test")),
    )];
    s.robots = vec![(
        "mirror.test".into(),
        "User-agent: *\nDisallow: /private/\n".into(),
    )];
    s.hosts_down = vec![("fragile.test".into(), ms(2_500))];
    let locker = base("locker.test")
        .replace(".test", "[.]test")
        .replace("http", "hxxp");
    s.posts = vec![
        PostSpec::new(
            0,
            ms(200),
            format!(
                "New release: {}/i/a.jpg and {locker}/f/b",
                base("mirror.test")
            ),
        ),
        PostSpec::new(
            1,
            ms(600),
            format!(
                "mirrors: {}/s/c and {}/d.jpg",
                base("short.test"),
                base("fragile.test")
            ),
        ),
        PostSpec {
            attachment: Some(2),
            ..PostSpec::new(
                2,
                ms(1_000),
                format!(
                    "more: {}/i/u.png {}/swap.jpg {} http://{ONION}/a.jpg {}/i/a.jpg {}/private/a.jpg",
                    base("mirror.test"),
                    base("cdn.test"),
                    base("cdn.test").replace(".test", "(dot)test") + "/e.jpg",
                    base("outside.test"),
                    base("mirror.test"),
                ),
            )
        },
        PostSpec::new(
            0,
            ms(4_500),
            format!("back up: {}/i/a-again.jpg", base("mirror2.test")),
        ),
    ];
    s
}

/// `vigil monitor run`'s arguments: only the ecosystem's hosts, each
/// resolved to its loopback address.
fn monitor_args(store: &[String], sim: &Ecosystem) -> Vec<String> {
    let mut args: Vec<String> = store.to_vec();
    args.extend(
        [
            "monitor",
            "run",
            "--allow-private",
            "--ladder",
            "400ms,800ms,1600ms,3s",
            "--per-host-gap",
            "20ms",
            "--host-class",
            "locker.test=file_locker",
            "--no-progress",
        ]
        .map(str::to_owned),
    );
    for host in HOSTS.iter().chain([&ONION]) {
        if *host != "outside.test" && *host != ONION {
            args.extend(["--allow-host".to_owned(), (*host).to_owned()]);
        }
        let ip = sim.address(host).ip();
        args.extend(["--resolve".to_owned(), format!("{host}={ip}")]);
    }
    args
}

fn alert_urls(sim: &Running) -> HashMap<String, Vec<Value>> {
    let mut by_url: HashMap<String, Vec<Value>> = HashMap::new();
    for alert in sim.alerts() {
        let url = alert.body["posted_url"].as_str().unwrap().to_owned();
        by_url.entry(url).or_default().push(alert.body);
    }
    by_url
}

#[test]
fn the_monitor_follows_beacons_alerts_once_and_tracks_takedowns() {
    let data = tempfile::tempdir().unwrap();
    run_ecosystem(&store_args(data.path(), None));
}

/// The same on PostgreSQL, in a schema of its own (named in the URL's
/// `options`, as libpq takes them).
#[test]
fn the_monitor_works_the_same_on_postgresql() {
    if !cfg!(feature = "postgres") {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the_monitor_works_the_same_on_postgresql (built without the postgres feature)"
        );
        return;
    }
    let Ok(url) = std::env::var("VIGIL_TEST_POSTGRES") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the_monitor_works_the_same_on_postgresql (VIGIL_TEST_POSTGRES is not set)"
        );
        return;
    };
    let schema = format!("vigil_monitor_e2e_{}", std::process::id());
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let database = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    let data = tempfile::tempdir().unwrap();
    run_ecosystem(&store_args(data.path(), Some(&database)));
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

fn run_ecosystem(store: &[String]) {
    let vigil = |args: &[&str]| vigil_on(store, args);
    let export_dir = tempfile::tempdir().unwrap();
    let export = export_dir.path().join("result.json");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ecosystem = runtime
        .block_on(Ecosystem::bind(&["fragile.test"]))
        .unwrap();

    // Bank A–D; E stays unbanked until the monitor has seen it.
    assert!(vigil(&["bank", "create", "KNOWN"]).status.success());
    for path in [
        "bridge-mods/aaa-orig.jpg",
        "misc-images/c.png",
        "reg-test-input/pen-and-coaster.png",
        "reg-test-input/labelme-subset/q0746.jpg",
    ] {
        let added = vigil(&[
            "bank",
            "add",
            "KNOWN",
            vector(path).to_str().unwrap(),
            "--label",
            "tier=promotional",
        ]);
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
    }
    let feed = format!("{}/feed.xml", ecosystem.base("beacon.test"));
    let board = format!("{}/", ecosystem.base("board.test"));
    for args in [
        vec![
            "monitor",
            "source",
            "add",
            "beacon",
            "--feed",
            &feed,
            "--interval",
            "300ms",
        ],
        vec![
            "monitor",
            "source",
            "add",
            "board",
            "--page",
            &board,
            "--interval",
            "300ms",
        ],
        vec![
            "monitor",
            "source",
            "add",
            "channel",
            "--telegram",
            export.to_str().unwrap(),
            "--interval",
            "300ms",
        ],
    ] {
        json_lines(&vigil(&args));
    }
    let hook = ecosystem.webhook_url();
    json_lines(&vigil(&["monitor", "webhook", "add", "ngo", &hook]));
    assert_eq!(
        vigil(&["monitor", "source", "add", "x", "--feed", "ftp://x"])
            .status
            .code(),
        Some(2)
    );

    let scenario = scenario(&ecosystem, &export);
    let args = monitor_args(store, &ecosystem);
    let mut monitor = start_monitor(&args);
    let t0 = vigil_store::unix_now_ms();
    let sim = runtime.block_on(async { ecosystem.start(scenario) });

    // Stop with Ctrl-C once the first alert is out, then resume.
    wait_for("a first alert", Duration::from_secs(60), || {
        !sim.alerts().is_empty()
    });
    let first = interrupt(monitor);
    assert_eq!(first["stopped"], true);
    monitor = start_monitor(&args);

    // E is banked while the monitor runs: the sighting it kept matches now.
    wait_for("the channel post", Duration::from_secs(60), || {
        sim.requests().iter().any(|r| r.path == "/e.jpg")
    });
    let banked = vigil(&[
        "bank",
        "add",
        "KNOWN",
        vector("reg-test-input/labelme-subset/q2821.jpg")
            .to_str()
            .unwrap(),
    ]);
    assert!(
        banked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&banked.stdout),
        String::from_utf8_lossy(&banked.stderr)
    );

    let expected: HashSet<String> = [
        format!("{}/i/a.jpg", sim.base("mirror.test")),
        format!("{}/raw/f/b", sim.base("locker.test")),
        format!("{}/s/c", sim.base("short.test")),
        format!("{}/d.jpg", sim.base("fragile.test")),
        format!("{}/swap.jpg", sim.base("cdn.test")),
        format!("{}/e.jpg", sim.base("cdn.test")),
        format!("{}/i/a-again.jpg", sim.base("mirror2.test")),
    ]
    .into_iter()
    .collect();
    wait_for(
        "every alert and every removal",
        Duration::from_secs(120),
        || {
            let urls = alert_urls(&sim);
            let gone = json_lines(&vigil(&["monitor", "sightings", "--matched"]))
                .iter()
                .filter(|s| s["liveness"] == "gone")
                .count();
            expected.iter().all(|u| urls.contains_key(u))
                && urls.len() == expected.len() + 1
                && gone >= 5
        },
    );
    let last = interrupt(monitor);
    assert_eq!(last["stopped"], true);

    // Every banked item found and alerted exactly once (the attachment too),
    // nothing else alerted, retries absorbed the failing webhook.
    let urls = alert_urls(&sim);
    let attachment: Vec<&String> = urls.keys().filter(|u| u.starts_with("file://")).collect();
    assert_eq!(
        attachment.len(),
        1,
        "the channel's attached photo: {urls:?}"
    );
    for (url, alerts) in &urls {
        assert_eq!(alerts.len(), 1, "{url} alerted {} times", alerts.len());
        let body = &alerts[0];
        assert_eq!(body["bank"], "KNOWN");
        // Served byte for byte: the exact digest is the best evidence.
        assert_eq!(
            (body["signal_type"].as_str(), body["distance"].as_u64()),
            (Some("md5"), Some(0))
        );
        assert!(body["alert_id"].as_str().unwrap().len() == 32);
        assert!(body["first_seen"].as_str().unwrap().ends_with('Z'));
        assert!(body["source"]["name"].is_string());
    }
    let resurfaced = &urls[&format!("{}/i/a-again.jpg", sim.base("mirror2.test"))][0];
    assert_eq!(resurfaced["kind"], "resurfacing");
    assert!(
        resurfaced["resurfaced_from"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/i/a.jpg")
    );
    let b = &urls[&format!("{}/raw/f/b", sim.base("locker.test"))][0];
    assert_eq!(
        (b["host"].as_str(), b["host_class"].as_str()),
        (Some("locker.test"), Some("file_locker"))
    );
    assert_eq!(b["labels"]["tier"], "promotional");
    let deliveries = json_lines(&vigil(&["monitor", "alerts"]));
    assert_eq!(deliveries.len(), urls.len());
    assert!(deliveries.iter().all(|d| d["delivered_at"].is_string()));
    assert!(
        deliveries
            .iter()
            .any(|d| d["attempts"].as_i64().unwrap() > 1),
        "retried"
    );

    // Never fetched: the onion address, the host outside the allowlist, the
    // path robots.txt disallows.
    for request in sim.requests() {
        assert!(!request.host.ends_with(".onion"), "fetched {request:?}");
        assert_ne!(request.host, "outside.test", "fetched {request:?}");
        assert!(
            !request.path.starts_with("/private/"),
            "fetched {request:?}"
        );
    }
    let sightings = json_lines(&vigil(&["monitor", "sightings"]));
    let by_url = |host: &str, path: &str| -> &Value {
        let url = format!("{}{path}", sim.base(host));
        sightings
            .iter()
            .find(|s| s["url"] == url.as_str())
            .unwrap_or_else(|| panic!("no sighting of {url}"))
    };
    let onion = sightings
        .iter()
        .find(|s| s["url"] == format!("http://{ONION}/a.jpg").as_str())
        .expect("the onion link is recorded");
    assert_eq!(
        (onion["state"].as_str(), onion["host_class"].as_str()),
        (Some("not_fetched"), Some("onion"))
    );
    assert!(
        by_url("outside.test", "/i/a.jpg")["reason"]
            .as_str()
            .unwrap()
            .contains("allowlist")
    );
    assert_eq!(by_url("outside.test", "/i/a.jpg")["state"], "not_fetched");
    assert!(
        by_url("mirror.test", "/private/a.jpg")["reason"]
            .as_str()
            .unwrap()
            .contains("robots.txt")
    );

    // Removal times: the first check after each takedown, within a ladder
    // step of it, for the right reason.
    for (suffix, removed_ms, reason) in [
        ("/i/a.jpg", 2_000, "not_found"),
        ("/raw/f/b", 2_500, "removed_page"),
        ("/s/c", 3_000, "not_found"),
        ("/d.jpg", 2_500, "host_gone"),
        ("/swap.jpg", 3_000, "no_longer_matches"),
    ] {
        let sighting = sightings
            .iter()
            .find(|s| {
                s["url"].as_str().unwrap().ends_with(suffix)
                    && !s["matches"].as_array().unwrap().is_empty()
            })
            .unwrap_or_else(|| panic!("no matched sighting of {suffix}"));
        assert_eq!(sighting["liveness"], "gone", "{suffix}: {sighting}");
        assert_eq!(sighting["removal_reason"], reason, "{suffix}");
        let at = sighting["removed_at_ms"].as_i64().unwrap() - t0;
        assert!(
            at >= removed_ms && at <= removed_ms + 6_000,
            "{suffix} taken down at {removed_ms} ms, recorded at {at} ms"
        );
    }
    assert_eq!(by_url("mirror2.test", "/i/a-again.jpg")["liveness"], "live");
    assert_eq!(by_url("cdn.test", "/e.jpg")["liveness"], "live");

    // The report: per host and in total.
    let report = json_lines(&vigil(&["report", "takedowns", "--json"]));
    let total = report.last().unwrap();
    assert_eq!(total["host"], "*");
    assert_eq!(total["sightings"], 8);
    assert_eq!(total["removed"], 5);
    assert_eq!(total["resurfacings"], 1);
    assert_eq!(total["removed_within_1h_pct"], 62.5);
    let mirror = report.iter().find(|l| l["host"] == "mirror.test").unwrap();
    assert_eq!(
        (mirror["sightings"].as_u64(), mirror["removed"].as_u64()),
        (Some(2), Some(2))
    );
    let table = vigil(&["report", "takedowns"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("fragile.test"));
}
