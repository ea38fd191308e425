//! Liveness: when to re-check a matched sighting, and whether what a
//! re-check found means the content is gone.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// When a live sighting is re-checked: at each step's time after its first
/// sighting (5 min, 15 min, 1 h, … after), then every last step until it
/// is gone. A removal is thus known to within the gap between two steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder(Vec<Duration>);

impl Default for Ladder {
    /// 5 min, 15 min, 1 h, 6 h, 24 h, 7 d: fine steps while removal is
    /// likely and the one-hour mark matters, coarse ones after.
    fn default() -> Self {
        Self(
            [300, 900, 3_600, 21_600, 86_400, 604_800]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }
}

impl Ladder {
    /// A ladder of the given steps (at least one, none zero).
    pub fn new(steps: Vec<Duration>) -> Result<Self, String> {
        if steps.is_empty() || steps.iter().any(Duration::is_zero) {
            return Err("a ladder needs at least one step, none of them zero".to_owned());
        }
        Ok(Self(steps))
    }

    /// How long after the first sighting check number `step` (0-based)
    /// falls: the step itself, or past the last step, one more last step
    /// for each check beyond it.
    pub fn offset(&self, step: usize) -> Duration {
        let last_index = self.0.len().saturating_sub(1);
        let last = self.0.last().copied().unwrap_or(Duration::from_secs(3_600));
        match self.0.get(step) {
            Some(offset) => *offset,
            None => last.saturating_mul(u32::try_from(step - last_index + 1).unwrap_or(u32::MAX)),
        }
    }

    /// The next check of a sighting first seen at `first_seen_ms`, after
    /// check `done` (`None`: none done yet), that is later than `now_ms`:
    /// steps whose time has passed (the monitor was stopped) are skipped.
    /// Returns the step and its time (Unix ms).
    pub fn next_check(&self, first_seen_ms: i64, done: Option<usize>, now_ms: i64) -> (usize, i64) {
        let at = |step: usize| {
            first_seen_ms
                .saturating_add(i64::try_from(self.offset(step).as_millis()).unwrap_or(i64::MAX))
        };
        let mut step = done.map_or(0, |done| done + 1);
        if at(step) <= now_ms && step + 1 >= self.0.len() {
            // Past the ladder: jump straight to the first repeat after now.
            let last = i64::try_from(self.offset(self.0.len().saturating_sub(1)).as_millis())
                .unwrap_or(i64::MAX)
                .max(1);
            let behind = (now_ms - at(step)) / last + 1;
            step += usize::try_from(behind).unwrap_or(usize::MAX / 2);
        }
        while at(step) <= now_ms {
            step += 1;
        }
        (step, at(step))
    }

    /// The steps.
    pub fn steps(&self) -> &[Duration] {
        &self.0
    }
}

impl std::str::FromStr for Ladder {
    type Err = String;

    /// Reads `5m,15m,1h,6h,24h,7d`.
    fn from_str(s: &str) -> Result<Self, String> {
        Self::new(
            s.split(',')
                .map(|step| parse_duration(step.trim()))
                .collect::<Result<_, _>>()?,
        )
    }
}

/// Reads a duration: a number and a unit (`ms`, `s`, `m`, `h`, `d`), e.g.
/// `250ms`, `30s`, `5m`, `7d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30s, 5m, 1h or 7d"))?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{text:?} has no unit: write ms, s, m, h or d")),
    };
    number
        .checked_mul(millis)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// Why a sighting counts as gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoneReason {
    /// The URL answers 404 or 410.
    NotFound,
    /// The host no longer resolves or refuses connections.
    HostGone,
    /// The host still takes connections but has not answered several
    /// checks in a row (each timed out) while other hosts answered.
    HostUnresponsive,
    /// The host answers with a "this file was removed" page.
    RemovedPage,
    /// The URL serves something that no longer matches the banked content.
    NoLongerMatches,
}

impl GoneReason {
    /// The reason's name in records and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::HostGone => "host_gone",
            Self::HostUnresponsive => "host_unresponsive",
            Self::RemovedPage => "removed_page",
            Self::NoLongerMatches => "no_longer_matches",
        }
    }
}

/// What a run of `in_a_row` timed-out checks of one URL says: its host is
/// unresponsive once the run is `needed` long (at least 1), but only while
/// other hosts answer (`others_answer`): when the monitor's own network is
/// down, every host times out.
pub fn unresponsive(in_a_row: u32, needed: u32, others_answer: bool) -> Option<GoneReason> {
    (in_a_row >= needed.max(1) && others_answer).then_some(GoneReason::HostUnresponsive)
}

/// Checks that timed out in a row, per sighting, and when the first of
/// them ended: how a host that takes connections but never answers is
/// told from one that was slow once. Kept in memory, so a restarted
/// monitor counts afresh (it waits a few more steps, never fewer).
#[derive(Debug, Default)]
pub(crate) struct Silences(Mutex<HashMap<i64, (u32, i64)>>);

impl Silences {
    /// Notes that a check of sighting `id` timed out at `at` (Unix ms);
    /// returns how many checks of it in a row have.
    pub(crate) fn timed_out(&self, id: i64, at: i64) -> u32 {
        let mut runs = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let run = runs.entry(id).or_insert((0, at));
        run.0 = run.0.saturating_add(1);
        run.0
    }

    /// Ends sighting `id`'s run of timeouts (it answered, or it is gone);
    /// returns when its first timed-out check ended, if it had a run.
    pub(crate) fn end(&self, id: i64) -> Option<i64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id)
            .map(|(_, since)| since)
    }
}

/// What lockers and hosts write when a file was taken down, lowercase.
/// Matched against the visible text of small HTML answers only.
const REMOVAL_PHRASES: &[&str] = &[
    "file has been removed",
    "file was removed",
    "file has been deleted",
    "file was deleted",
    "has been removed",
    "has been deleted",
    "no longer available",
    "file not found",
    "file does not exist",
    "removed for violating",
    "removed due to",
    "violation of our terms",
    "terms of service violation",
    "content is not available",
    "content has been removed",
    "this video is unavailable",
    "this video has been removed",
    "account has been terminated",
    "account has been suspended",
    "link has expired",
    "page not found",
];

/// Whether the visible text of an answer reads like a takedown notice.
pub fn is_removal_notice(visible_text: &str) -> bool {
    let text = visible_text.to_lowercase();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    REMOVAL_PHRASES.iter().any(|phrase| text.contains(phrase))
}

/// What an HTTP status alone says about liveness: 404 and 410 mean gone.
pub fn gone_by_status(status: u16) -> Option<GoneReason> {
    matches!(status, 404 | 410).then_some(GoneReason::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_ladders_parse() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5 weeks").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        let ladder: Ladder = "5m,15m,1h,6h,24h,7d".parse().unwrap();
        assert_eq!(ladder, Ladder::default());
        assert_eq!(ladder.offset(0), Duration::from_secs(300));
        assert_eq!(ladder.offset(5), Duration::from_secs(604_800));
        assert_eq!(ladder.offset(6), Duration::from_secs(2 * 604_800));
        assert!("".parse::<Ladder>().is_err());
        assert!("0s".parse::<Ladder>().is_err());
    }

    #[test]
    fn checks_follow_the_ladder_and_skip_missed_steps() {
        let ladder: Ladder = "1s,5s,10s".parse().unwrap();
        assert_eq!(ladder.next_check(1_000, None, 1_000), (0, 2_000));
        assert_eq!(ladder.next_check(1_000, Some(0), 2_000), (1, 6_000));
        assert_eq!(ladder.next_check(1_000, Some(1), 6_100), (2, 11_000));
        assert_eq!(ladder.next_check(1_000, Some(2), 11_000), (3, 21_000));
        // Stopped for a while: the missed steps are skipped.
        assert_eq!(ladder.next_check(1_000, Some(0), 7_000), (2, 11_000));
        assert_eq!(ladder.next_check(1_000, Some(2), 100_000), (11, 101_000));
    }

    #[test]
    fn timeouts_are_counted_in_a_row_from_the_first() {
        let silences = Silences::default();
        assert_eq!(silences.timed_out(7, 1_000), 1);
        assert_eq!(silences.timed_out(8, 1_500), 1);
        assert_eq!(silences.timed_out(7, 2_000), 2);
        assert_eq!(silences.timed_out(7, 3_000), 3);
        assert_eq!(silences.end(7), Some(1_000));
        assert_eq!(silences.end(7), None);
        // After an answer, a new run starts from one.
        assert_eq!(silences.timed_out(7, 9_000), 1);
        assert_eq!(silences.end(7), Some(9_000));
        assert_eq!(silences.end(8), Some(1_500));
        assert_eq!(GoneReason::HostUnresponsive.as_str(), "host_unresponsive");
        assert_eq!(unresponsive(2, 3, true), None);
        assert_eq!(unresponsive(3, 3, true), Some(GoneReason::HostUnresponsive));
        assert_eq!(unresponsive(9, 3, false), None, "our own network is down");
        assert_eq!(unresponsive(1, 0, true), Some(GoneReason::HostUnresponsive));
    }

    #[test]
    fn removal_notices_are_recognised() {
        assert!(is_removal_notice(
            "Sorry!\n  This FILE has been   removed for violating our terms."
        ));
        assert!(is_removal_notice("Error: file not found"));
        assert!(!is_removal_notice("Download beach.jpg (2 MB)"));
        assert_eq!(gone_by_status(410), Some(GoneReason::NotFound));
        assert_eq!(gone_by_status(503), None);
    }
}
