//! The takedown report: per host, how much known content was seen, how
//! much of it went down, and how fast.

use std::collections::BTreeMap;

use serde::Serialize;
use vigil_store::{Liveness, MonitorStore, Sighting};

use crate::MonitorError;

/// One host's line of the report (or the total line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostTakedowns {
    /// The host (where the content was stored, after redirects).
    pub host: String,
    /// Its class.
    pub host_class: String,
    /// Sightings of known (matched) content.
    pub sightings: u64,
    /// How many of them are gone.
    pub removed: u64,
    /// Median time from first sighting to removal, seconds.
    pub median_removal_seconds: Option<f64>,
    /// 90th percentile of the same, seconds.
    pub p90_removal_seconds: Option<f64>,
    /// Share of sightings removed within an hour of first sighting, %.
    pub removed_within_1h_pct: f64,
    /// Share removed within 24 hours, %.
    pub removed_within_24h_pct: f64,
    /// Sightings that were resurfacings of content gone elsewhere.
    pub resurfacings: u64,
}

/// Builds the report from sightings (any order): one line per host with
/// matched sightings, busiest first, then a line for all hosts (`*`).
pub fn takedown_report(sightings: &[Sighting]) -> Vec<HostTakedowns> {
    let mut by_host: BTreeMap<(String, String), Vec<&Sighting>> = BTreeMap::new();
    for sighting in sightings.iter().filter(|s| s.matched) {
        by_host
            .entry((sighting.seen.host.clone(), sighting.seen.host_class.clone()))
            .or_default()
            .push(sighting);
    }
    let mut lines: Vec<HostTakedowns> = by_host
        .into_iter()
        .map(|((host, class), group)| line(host, class, &group))
        .collect();
    lines.sort_by(|a, b| b.sightings.cmp(&a.sightings).then(a.host.cmp(&b.host)));
    let all: Vec<&Sighting> = sightings.iter().filter(|s| s.matched).collect();
    lines.push(line("*".to_owned(), "*".to_owned(), &all));
    lines
}

fn line(host: String, host_class: String, sightings: &[&Sighting]) -> HostTakedowns {
    let mut times: Vec<f64> = sightings
        .iter()
        .filter_map(|s| match s.liveness {
            Liveness::Gone { removed_at, .. } => {
                Some((removed_at - s.seen.first_seen_at).max(0) as f64 / 1000.0)
            }
            _ => None,
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let total = sightings.len() as f64;
    let within = |seconds: f64| {
        if total == 0.0 {
            0.0
        } else {
            100.0 * times.iter().filter(|t| **t <= seconds).count() as f64 / total
        }
    };
    HostTakedowns {
        host,
        host_class,
        sightings: sightings.len() as u64,
        removed: times.len() as u64,
        median_removal_seconds: percentile(&times, 0.5),
        p90_removal_seconds: percentile(&times, 0.9),
        removed_within_1h_pct: within(3_600.0),
        removed_within_24h_pct: within(86_400.0),
        resurfacings: sightings
            .iter()
            .filter(|s| s.resurfaced_from.is_some())
            .count() as u64,
    }
}

/// The takedown report over every matched sighting in `store`, as
/// `vigil report takedowns` and `GET /v1/reports/takedowns` give it.
pub fn takedowns(store: &dyn MonitorStore) -> Result<Vec<HostTakedowns>, MonitorError> {
    Ok(takedown_report(&matched_sightings(store)?))
}

/// Every matched sighting in the store, for [`takedown_report`].
fn matched_sightings(store: &dyn MonitorStore) -> Result<Vec<Sighting>, vigil_store::Error> {
    let mut sightings = Vec::new();
    let mut after = 0;
    loop {
        let page = store.sightings_after(after, 5_000)?;
        let Some(last) = page.last() else {
            return Ok(sightings);
        };
        after = last.id;
        sightings.extend(page.into_iter().filter(|s| s.matched));
    }
}

/// The `q` quantile of sorted values by the nearest-rank method.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_store::{FetchState, NewSighting};

    fn sighting(host: &str, first: i64, removed: Option<i64>, resurfaced: bool) -> Sighting {
        Sighting {
            id: 0,
            seen: NewSighting {
                url: format!("http://{host}/{first}"),
                host: host.into(),
                host_class: "file_locker".into(),
                first_seen_at: first,
                ..NewSighting::default()
            },
            state: FetchState::Fetched,
            reason: None,
            final_url: None,
            media_kind: Some("photo".into()),
            signals: None,
            matched: true,
            liveness: match removed {
                Some(removed_at) => Liveness::Gone {
                    removed_at,
                    reason: "not_found".into(),
                },
                None => Liveness::Live {
                    step: 1,
                    next_check_at: 0,
                },
            },
            last_checked_at: None,
            resurfaced_from: resurfaced.then_some(1),
        }
    }

    #[test]
    fn per_host_times_and_shares() {
        let hour = 3_600_000;
        let sightings = vec![
            sighting("a.test", 0, Some(30 * 60_000), false),
            sighting("a.test", 0, Some(2 * hour), false),
            sighting("a.test", 0, Some(48 * hour), true),
            sighting("a.test", 0, None, false),
            sighting("b.test", 0, None, false),
        ];
        let report = takedown_report(&sightings);
        assert_eq!(report.len(), 3);
        let a = &report[0];
        assert_eq!((a.host.as_str(), a.sightings, a.removed), ("a.test", 4, 3));
        assert_eq!(a.median_removal_seconds, Some(7_200.0));
        assert_eq!(a.p90_removal_seconds, Some(172_800.0));
        assert_eq!(a.removed_within_1h_pct, 25.0);
        assert_eq!(a.removed_within_24h_pct, 50.0);
        assert_eq!(a.resurfacings, 1);
        assert_eq!(
            (report[1].removed, report[1].median_removal_seconds),
            (0, None)
        );
        assert_eq!((report[2].host.as_str(), report[2].sightings), ("*", 5));
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[1.0], 0.9), Some(1.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.9), Some(4.0));
    }
}
