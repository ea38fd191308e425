//! The monitor under sites that try to wedge it (issue #17): a beacon page
//! nested a million `<div>`s deep, a host that takes connections and never
//! answers, and an allowlist that must not silence the operator's own
//! sources.

use std::time::Duration;

use serde_json::Value;
use tokio::runtime::Runtime;
use vigil_sim::{Ecosystem, Hosted, PostSpec, Running, Scenario, SourceSpec};
use vigil_store::unix_now_ms;

use crate::common::{json_lines, store_args, vigil_on};
use crate::support::{item, ms, start_monitor, stop, vector, wait_for};

/// What the issue states: SIGINT/SIGTERM stop the monitor within 2 s.
const STOP_BOUND: Duration = Duration::from_secs(2);

/// A data folder with bank KNOWN holding the first reference image, and
/// a simulation bound (not yet started) on loopback.
struct Setup {
    data: tempfile::TempDir,
    runtime: Runtime,
    ecosystem: Option<Ecosystem>,
}

impl Setup {
    fn new() -> Self {
        let data = tempfile::tempdir().unwrap();
        let runtime = Runtime::new().unwrap();
        let ecosystem = Some(runtime.block_on(Ecosystem::bind(&[])).unwrap());
        let setup = Self {
            data,
            runtime,
            ecosystem,
        };
        assert!(setup.vigil(&["bank", "create", "KNOWN"]).status.success());
        for path in ["bridge-mods/aaa-orig.jpg", "misc-images/c.png"] {
            let added = setup.vigil(&["bank", "add", "KNOWN", vector(path).to_str().unwrap()]);
            assert!(
                added.status.success(),
                "{}",
                String::from_utf8_lossy(&added.stderr)
            );
        }
        setup
    }

    fn store(&self) -> Vec<String> {
        store_args(self.data.path(), None)
    }

    fn vigil(&self, args: &[&str]) -> std::process::Output {
        vigil_on(&self.store(), args)
    }

    fn base(&self, host: &str) -> String {
        self.ecosystem.as_ref().unwrap().base(host)
    }

    /// Adds a source read every 300 ms (`kind`: `--feed` or `--page`).
    fn add_source(&self, name: &str, kind: &str, url: &str) {
        json_lines(&self.vigil(&[
            "monitor",
            "source",
            "add",
            name,
            kind,
            url,
            "--interval",
            "300ms",
        ]));
    }

    /// `vigil monitor run` with every host resolved to the simulation, no
    /// allowlist unless `extra` gives one.
    fn run_args(&self, hosts: &[&str], extra: &[&str]) -> Vec<String> {
        let mut args = self.store();
        args.extend(
            [
                "monitor",
                "run",
                "--allow-private",
                "--per-host-gap",
                "20ms",
                "--no-progress",
            ]
            .map(str::to_owned),
        );
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let ip = self.ecosystem.as_ref().unwrap().address(hosts[0]).ip();
        for host in hosts {
            args.extend(["--resolve".to_owned(), format!("{host}={ip}")]);
        }
        args
    }

    fn start(&mut self, scenario: Scenario) -> Running {
        let ecosystem = self.ecosystem.take().unwrap();
        self.runtime.block_on(async { ecosystem.start(scenario) })
    }

    fn sightings(&self) -> Vec<Value> {
        json_lines(&self.vigil(&["monitor", "sightings"]))
    }
}

fn sighting<'a>(sightings: &'a [Value], url: &str) -> &'a Value {
    sightings
        .iter()
        .find(|s| s["url"] == url)
        .unwrap_or_else(|| panic!("no sighting of {url}: {sightings:?}"))
}

/// A page nested `depth` `<div>`s deep (11 MB for a million): a parser
/// that is quadratic in depth never finishes it.
fn nested_page(depth: usize) -> Vec<u8> {
    let mut page = b"<!doctype html><html><body>".to_vec();
    page.extend(b"<div>".repeat(depth));
    page.extend(b"deep");
    page.extend(b"</div>".repeat(depth));
    page.extend(b"</body></html>");
    page
}

#[test]
fn sigterm_stops_the_monitor_within_2s_while_it_parses_a_hostile_page() {
    let mut setup = Setup::new();
    let hostile = format!("{}/", setup.base("hostile.test"));
    let feed = format!("{}/feed.xml", setup.base("beacon.test"));
    setup.add_source("hostile", "--page", &hostile);
    setup.add_source("beacon", "--feed", &feed);
    let first_url = format!("{}/i/a.jpg", setup.base("mirror.test"));
    let later_url = format!("{}/i/later.png", setup.base("mirror.test"));
    let scenario = Scenario {
        items: vec![item("bridge-mods/aaa-orig.jpg"), item("misc-images/c.png")],
        sources: vec![SourceSpec::Feed {
            host: "beacon.test".into(),
            path: "/feed.xml".into(),
        }],
        files: vec![
            Hosted::direct("mirror.test", "/i/a.jpg", 0),
            Hosted::direct("mirror.test", "/i/later.png", 1),
        ],
        posts: vec![
            PostSpec::new(0, ms(0), format!("new: {first_url}")),
            // Posted while the first run is stopped: the second must find it.
            PostSpec::new(0, ms(6_000), format!("more: {later_url}")),
        ],
        pages: vec![(
            "hostile.test".into(),
            "/".into(),
            nested_page(1_000_000).into(),
        )],
        ..Scenario::default()
    };
    let args = setup.run_args(&["hostile.test", "beacon.test", "mirror.test"], &[]);
    let sim = setup.start(scenario);
    let hostile_reads = |sim: &Running| {
        sim.requests()
            .iter()
            .filter(|r| r.host == "hostile.test" && r.path == "/")
            .count()
    };
    let fetched = |url: &str| {
        setup
            .sightings()
            .iter()
            .any(|s| s["url"] == url && s["state"] == "fetched")
    };

    let monitor = start_monitor(&args);
    wait_for(
        "the hostile page to be read",
        Duration::from_secs(30),
        || hostile_reads(&sim) > 0,
    );
    wait_for("the first link", Duration::from_secs(30), || {
        fetched(&first_url)
    });
    // The page is fetched; now it is being parsed.
    std::thread::sleep(ms(300));
    let (counts, took) = stop(monitor, "TERM");
    eprintln!("first run: SIGTERM to exit {took:?}");
    assert_eq!(counts["stopped"], true);
    assert!(took < STOP_BOUND, "stopped after {took:?}");

    // The next run resumes: it reads the sources again and takes the post
    // that appeared while it was stopped, and stops as quickly.
    let reads_before = hostile_reads(&sim);
    wait_for("the later post", Duration::from_secs(30), || {
        sim.elapsed() >= ms(6_000)
    });
    let monitor = start_monitor(&args);
    wait_for("the later link", Duration::from_secs(30), || {
        fetched(&later_url)
    });
    wait_for("the hostile page again", Duration::from_secs(30), || {
        hostile_reads(&sim) > reads_before
    });
    std::thread::sleep(ms(300));
    let (counts, took) = stop(monitor, "TERM");
    eprintln!("second run: SIGTERM to exit {took:?}");
    assert_eq!(counts["stopped"], true);
    assert!(took < STOP_BOUND, "stopped after {took:?}");
    let sightings = setup.sightings();
    for url in [&first_url, &later_url] {
        let seen = sighting(&sightings, url);
        assert_eq!(seen["state"], "fetched", "{seen}");
        assert_eq!(seen["liveness"], "live", "{seen}");
    }
}

#[test]
fn a_host_that_never_answers_is_recorded_gone_as_unresponsive() {
    let mut setup = Setup::new();
    let feed = format!("{}/feed.xml", setup.base("beacon.test"));
    setup.add_source("beacon", "--feed", &feed);
    let hung_url = format!("{}/a.jpg", setup.base("hung.test"));
    let kept_url = format!("{}/c.png", setup.base("mirror.test"));
    let silent_from = ms(4_000);
    let scenario = Scenario {
        items: vec![item("bridge-mods/aaa-orig.jpg"), item("misc-images/c.png")],
        sources: vec![SourceSpec::Feed {
            host: "beacon.test".into(),
            path: "/feed.xml".into(),
        }],
        files: vec![
            Hosted::direct("hung.test", "/a.jpg", 0),
            Hosted::direct("mirror.test", "/c.png", 1),
        ],
        posts: vec![PostSpec::new(
            0,
            ms(0),
            format!("new: {hung_url} and {kept_url}"),
        )],
        hosts_silent: vec![("hung.test".into(), silent_from)],
        ..Scenario::default()
    };
    let args = setup.run_args(
        &["beacon.test", "hung.test", "mirror.test"],
        &[
            "--ladder",
            "300ms,600ms,900ms,1200ms",
            "--timeout",
            "1s",
            "--unresponsive-after",
            "3",
        ],
    );
    let t0 = unix_now_ms();
    let sim = setup.start(scenario);
    let monitor = start_monitor(&args);
    let mut detected = None;
    wait_for(
        "the hung host to be recorded gone",
        Duration::from_secs(60),
        || {
            let gone = setup
                .sightings()
                .iter()
                .any(|s| s["url"] == hung_url.as_str() && s["liveness"] == "gone");
            if gone {
                detected = Some(sim.elapsed());
            }
            gone
        },
    );
    let detected = detected.unwrap();
    let (counts, _) = stop(monitor, "TERM");
    assert_eq!(counts["stopped"], true);

    let sightings = setup.sightings();
    let hung = sighting(&sightings, &hung_url);
    assert_eq!(hung["removal_reason"], "host_unresponsive", "{hung}");
    assert!(!hung["matches"].as_array().unwrap().is_empty(), "{hung}");
    // Not on the first timeout: three checks in a row went unanswered.
    let unanswered = sim
        .requests()
        .iter()
        .filter(|r| r.host == "hung.test" && r.path == "/a.jpg" && r.at >= silent_from)
        .count();
    assert!(unanswered >= 3, "gone after {unanswered} unanswered checks");
    // The removal time is the first unanswered check: after the host hung,
    // and a ladder step (1.2 s) plus a check's timeout (1 s) at most later
    // (and the loop's turn, 100 ms).
    let removed = hung["removed_at_ms"].as_i64().unwrap() - t0;
    let silent_ms = silent_from.as_millis() as i64;
    assert!(
        removed >= silent_ms && removed <= silent_ms + 1_200 + 1_000 + 300,
        "hung at {silent_ms} ms, recorded removed at {removed} ms"
    );
    eprintln!(
        "hung at {silent_from:?}; removal recorded as {removed} ms; gone recorded by {detected:?}"
    );
    // The host that answers stays live.
    assert_eq!(sighting(&sightings, &kept_url)["liveness"], "live");
}

#[test]
fn allow_host_limits_where_links_lead_never_the_operators_own_sources() {
    let mut setup = Setup::new();
    let feed = format!("{}/feed.xml", setup.base("beacon.test"));
    let board = format!("{}/", setup.base("board.test"));
    let closed = format!("{}/", setup.base("closed.test"));
    setup.add_source("beacon", "--feed", &feed);
    setup.add_source("board", "--page", &board);
    setup.add_source("closed", "--page", &closed);
    let mirror_a = format!("{}/i/a.jpg", setup.base("mirror.test"));
    let mirror_c = format!("{}/i/c.png", setup.base("mirror.test"));
    let outside = format!("{}/i/a.jpg", setup.base("outside.test"));
    let scenario = Scenario {
        items: vec![item("bridge-mods/aaa-orig.jpg"), item("misc-images/c.png")],
        sources: vec![
            SourceSpec::Feed {
                host: "beacon.test".into(),
                path: "/feed.xml".into(),
            },
            SourceSpec::Page {
                host: "board.test".into(),
                path: "/".into(),
            },
            SourceSpec::Page {
                host: "closed.test".into(),
                path: "/".into(),
            },
        ],
        files: vec![
            Hosted::direct("mirror.test", "/i/a.jpg", 0),
            Hosted::direct("mirror.test", "/i/c.png", 1),
            Hosted::direct("outside.test", "/i/a.jpg", 0),
        ],
        posts: vec![
            PostSpec::new(0, ms(0), format!("new: {mirror_a} and {outside}")),
            PostSpec::new(1, ms(0), format!("mirror: {mirror_c}")),
            PostSpec::new(2, ms(0), format!("never read: {mirror_c}")),
        ],
        // A source outside the allowlist still has its robots.txt obeyed.
        robots: vec![("closed.test".into(), "User-agent: *\nDisallow: /\n".into())],
        ..Scenario::default()
    };
    // As the README's example: the allowlist names only where files are.
    let args = setup.run_args(
        &[
            "beacon.test",
            "board.test",
            "closed.test",
            "mirror.test",
            "outside.test",
        ],
        &["--allow-host", "mirror.test"],
    );
    let sim = setup.start(scenario);
    let monitor = start_monitor(&args);
    wait_for("both sources' links", Duration::from_secs(30), || {
        let sightings = setup.sightings();
        [&mirror_a, &mirror_c, &outside].iter().all(|url| {
            sightings
                .iter()
                .any(|s| s["url"] == url.as_str() && s["state"] != "pending")
        })
    });
    let (counts, _) = stop(monitor, "TERM");
    assert_eq!(counts["stopped"], true);

    let sightings = setup.sightings();
    for url in [&mirror_a, &mirror_c] {
        let seen = sighting(&sightings, url);
        assert_eq!(seen["state"], "fetched", "{seen}");
        assert!(!seen["matches"].as_array().unwrap().is_empty(), "{seen}");
    }
    // A link that leads off the allowlist is recorded, never fetched.
    let off = sighting(&sightings, &outside);
    assert_eq!(off["state"], "not_fetched", "{off}");
    assert!(
        off["reason"].as_str().unwrap().contains("allowlist"),
        "{off}"
    );
    let requests = sim.requests();
    assert!(requests.iter().all(|r| r.host != "outside.test"));
    for host in ["beacon.test", "board.test", "closed.test"] {
        assert!(
            requests
                .iter()
                .any(|r| r.host == host && r.path == "/robots.txt"),
            "robots.txt of {host} read"
        );
    }
    assert!(
        !requests
            .iter()
            .any(|r| r.host == "closed.test" && r.path == "/"),
        "a source its robots.txt closes is not read"
    );
    let sources = json_lines(&setup.vigil(&["monitor", "source", "list"]));
    let error_of =
        |name: &str| sources.iter().find(|s| s["name"] == name).unwrap()["last_error"].clone();
    assert_eq!(error_of("beacon"), Value::Null);
    assert_eq!(error_of("board"), Value::Null);
    assert!(
        error_of("closed")
            .as_str()
            .is_some_and(|e| e.contains("robots.txt")),
        "{sources:?}"
    );
    let help = setup.vigil(&["monitor", "run", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--unresponsive-after"), "{help}");
    assert!(help.contains("always read"), "{help}");
}
