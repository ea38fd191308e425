//! The SVG chart of `vigil eval images`: recall per edit under each
//! config, and each config's ROC-style threshold sweep.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::report::CONFIGS;

/// Colours of the configs in the chart.
const COLOURS: [&str; 6] = [
    "#444444", "#b0b0b0", "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728",
];

/// An SVG chart: left, recall per edit under plain PDQ and each defence;
/// right, the ROC-style sweep (recall over all edits against the
/// false-positive rate, log scale) of each config.
pub(crate) fn write_chart(report: &Value, path: &Path) -> std::io::Result<()> {
    std::fs::write(path, chart(report))
}

fn chart(report: &Value) -> String {
    let transforms = report["transforms"].as_array().cloned().unwrap_or_default();
    let row = 14.0;
    let (bars_left, bars_width) = (150.0, 360.0);
    let height = 60.0 + row * transforms.len() as f64 + 40.0;
    let (roc_left, roc_top, roc_size) = (620.0, 60.0, 360.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="1020" height="{height}" font-family="sans-serif" font-size="10">"#
    );
    let _ = write!(
        svg,
        r#"<text x="10" y="20" font-size="14">vigil eval images: recall at d ≤ {} per edit ({} images, {} distinct pairs)</text>"#,
        report["threshold"], report["images"], report["distinct_pairs"]
    );
    for (c, config) in CONFIGS.iter().enumerate() {
        let x = 10.0 + c as f64 * 100.0;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="32" width="10" height="10" fill="{}"/><text x="{}" y="41">{}</text>"#,
            COLOURS[c],
            x + 14.0,
            config.name()
        );
    }
    let band = row / CONFIGS.len() as f64;
    for (t, line) in transforms.iter().enumerate() {
        let y = 60.0 + t as f64 * row;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            bars_left - 4.0,
            y + row * 0.75,
            line["transform"].as_str().unwrap_or_default()
        );
        for (c, config) in CONFIGS.iter().enumerate() {
            let recall = if c == 0 {
                line["recall"].as_f64()
            } else {
                line["defences"][config.name()]["recall"].as_f64()
            }
            .unwrap_or_default();
            let _ = write!(
                svg,
                r#"<rect x="{bars_left}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"/>"#,
                y + c as f64 * band,
                recall * bars_width,
                band * 0.9,
                COLOURS[c]
            );
        }
    }
    for tick in [0.0, 0.5, 0.8, 0.95, 1.0] {
        let x = bars_left + tick * bars_width;
        let _ = write!(
            svg,
            r##"<line x1="{x}" y1="56" x2="{x}" y2="{}" stroke="#999" stroke-dasharray="2,2"/><text x="{x}" y="{}" text-anchor="middle">{tick}</text>"##,
            height - 36.0,
            height - 24.0
        );
    }
    // ROC: x = log10(false-positive rate) from -7 to -2, y = recall.
    let x_of = |rate: f64| roc_left + (rate.max(1e-7).log10() + 7.0) / 5.0 * roc_size;
    let y_of = |recall: f64| roc_top + (1.0 - recall) * roc_size;
    let _ = write!(
        svg,
        r##"<rect x="{roc_left}" y="{roc_top}" width="{roc_size}" height="{roc_size}" fill="none" stroke="#999"/><text x="{}" y="{}" text-anchor="middle">false-positive rate over pairs of independent pictures (log; 1e-7 = none)</text><text x="{}" y="{}" transform="rotate(-90 {} {})" text-anchor="middle">recall over all edits</text>"##,
        roc_left + roc_size / 2.0,
        roc_top + roc_size + 28.0,
        roc_left - 30.0,
        roc_top + roc_size / 2.0,
        roc_left - 30.0,
        roc_top + roc_size / 2.0
    );
    for exponent in -7..=-2 {
        let x = x_of(10f64.powi(exponent));
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{}" text-anchor="middle">1e{exponent}</text>"#,
            roc_top + roc_size + 12.0
        );
    }
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{tick}</text>"#,
            roc_left - 4.0,
            y_of(tick) + 3.0
        );
    }
    for (c, config) in report["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let points: Vec<(f64, f64, u64)> = config["sweep"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    x_of(
                        p["false_positive_rate_independent"]
                            .as_f64()
                            .unwrap_or_default(),
                    ),
                    y_of(p["recall_all_transforms"].as_f64().unwrap_or_default()),
                    p["threshold"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        let path: Vec<String> = points
            .iter()
            .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
            .collect();
        let colour = COLOURS.get(c).copied().unwrap_or("#000");
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#,
            path.join(" ")
        );
        for (x, y, threshold) in points {
            if threshold == report["threshold"].as_u64().unwrap_or_default() {
                let _ = write!(
                    svg,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{colour}"/>"#
                );
            }
        }
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::eval::transforms::ALL;

    #[test]
    fn chart_is_well_formed_svg_with_a_bar_per_edit_and_config() {
        let transforms: Vec<Value> = ALL
            .iter()
            .map(|t| {
                let defences: serde_json::Map<String, Value> = CONFIGS[1..]
                    .iter()
                    .map(|c| (c.name().to_owned(), json!({"recall": 0.5})))
                    .collect();
                json!({"transform": t.name(), "recall": 1.0, "defences": defences})
            })
            .collect();
        let configs: Vec<Value> = CONFIGS
            .iter()
            .map(|c| {
                json!({"config": c.name(), "sweep": [
                    {"threshold": 0, "false_positive_rate_independent": 0.0, "recall_all_transforms": 0.1},
                    {"threshold": 31, "false_positive_rate_independent": 1e-4, "recall_all_transforms": 0.4},
                ]})
            })
            .collect();
        let report = json!({"threshold": 31, "images": 3, "distinct_pairs": 3,
            "transforms": transforms, "configs": configs});
        let svg = chart(&report);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(
            svg.matches("<rect").count(),
            CONFIGS.len() + ALL.len() * CONFIGS.len() + 1,
            "legend, bars and the ROC frame"
        );
        assert_eq!(svg.matches("<polyline").count(), CONFIGS.len());
        assert_eq!(svg.matches("<circle").count(), CONFIGS.len());
        assert!(!svg.contains("NaN"));
    }
}
