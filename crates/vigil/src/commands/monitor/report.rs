//! `vigil report …`: reports from the monitor's records.

use std::io::Write;

use vigil_monitor::HostTakedowns;

use crate::ExitStatus;
use crate::commands::store_access::StoreSettings;

/// `vigil report takedowns`: per host, as a table or JSON Lines.
pub(crate) fn takedowns(
    store: &StoreSettings,
    json: bool,
    mut out: impl Write,
) -> anyhow::Result<ExitStatus> {
    let report = vigil_monitor::takedowns(&*store.open()?)?;
    if json {
        for line in &report {
            writeln!(out, "{}", serde_json::to_string(line)?)?;
        }
    } else {
        write_table(&report, out)?;
    }
    Ok(ExitStatus::Success)
}

fn write_table(report: &[HostTakedowns], mut out: impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<32} {:<12} {:>9} {:>8} {:>10} {:>10} {:>7} {:>7} {:>11}",
        "host", "class", "sightings", "removed", "median", "p90", "≤1h", "≤24h", "resurfaced"
    )?;
    for line in report {
        writeln!(
            out,
            "{:<32} {:<12} {:>9} {:>8} {:>10} {:>10} {:>6.1}% {:>6.1}% {:>11}",
            line.host,
            line.host_class,
            line.sightings,
            line.removed,
            duration(line.median_removal_seconds),
            duration(line.p90_removal_seconds),
            line.removed_within_1h_pct,
            line.removed_within_24h_pct,
            line.resurfacings
        )?;
    }
    Ok(())
}

/// Seconds in the largest unit that keeps them readable.
fn duration(seconds: Option<f64>) -> String {
    match seconds {
        None => "-".to_owned(),
        Some(s) if s < 120.0 => format!("{s:.0}s"),
        Some(s) if s < 7_200.0 => format!("{:.1}m", s / 60.0),
        Some(s) if s < 172_800.0 => format!("{:.1}h", s / 3_600.0),
        Some(s) => format!("{:.1}d", s / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(None), "-");
        assert_eq!(duration(Some(42.0)), "42s");
        assert_eq!(duration(Some(1_800.0)), "30.0m");
        assert_eq!(duration(Some(36_000.0)), "10.0h");
        assert_eq!(duration(Some(864_000.0)), "10.0d");
    }
}
