//! The workspace keeps its documented shape: every dependency between
//! Vigil's crates, as `cargo metadata` reports it (normal, dev and build),
//! points down the order of `crates/README.md`'s table, and that table
//! names every workspace crate in the order of the design's layout.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The crates in `crates/README.md`'s table, top to bottom.
#[allow(clippy::unwrap_used)]
fn documented_order(workspace: &Path) -> Vec<String> {
    let readme = std::fs::read_to_string(workspace.join("crates/README.md")).unwrap();
    readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect()
}

/// `(crate, dependency, kind)` for every edge between workspace crates.
#[allow(clippy::unwrap_used)]
fn workspace_edges(workspace: &Path) -> (Vec<String>, Vec<(String, String, String)>) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let names: Vec<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    let mut edges = Vec::new();
    for package in packages {
        let name = package["name"].as_str().unwrap();
        for dependency in package["dependencies"].as_array().unwrap() {
            let target = dependency["name"].as_str().unwrap();
            if names.iter().any(|n| n == target) {
                let kind = dependency["kind"].as_str().unwrap_or("normal").to_owned();
                edges.push((name.to_owned(), target.to_owned(), kind));
            }
        }
    }
    (names, edges)
}

#[test]
fn every_dependency_points_down_the_documented_order() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let order = documented_order(&workspace);
    let (names, edges) = workspace_edges(&workspace);
    let mut undocumented: Vec<&String> = names.iter().filter(|n| !order.contains(n)).collect();
    undocumented.sort();
    assert!(
        undocumented.is_empty(),
        "crates missing from crates/README.md: {undocumented:?}"
    );
    let position = |name: &str| order.iter().position(|n| n == name).unwrap();
    let upward: Vec<String> = edges
        .iter()
        .filter(|(from, to, _)| position(to) >= position(from))
        .map(|(from, to, kind)| format!("{from} -> {to} ({kind})"))
        .collect();
    assert!(
        upward.is_empty(),
        "dependencies pointing up crates/README.md's order: {upward:?}"
    );
}

#[test]
fn the_documented_order_follows_the_design_layout() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let design = workspace.join("../shared/DESIGN.md");
    let Ok(design) = std::fs::read_to_string(&design) else {
        eprintln!(
            "skipped the_documented_order_follows_the_design_layout: {} is not here",
            design.display()
        );
        return;
    };
    // The layout block lists `  vigil-x/   purpose` lines.
    let layout: Vec<String> = design
        .lines()
        .filter_map(|line| line.strip_prefix("  "))
        .filter_map(|line| line.split_once("/ "))
        .map(|(name, _)| name.trim().to_owned())
        .filter(|name| name.starts_with("vigil"))
        .collect();
    assert!(
        layout.len() >= 8,
        "no layout found in DESIGN.md: {layout:?}"
    );
    let order = documented_order(&workspace);
    let in_readme: Vec<&String> = order.iter().filter(|n| layout.contains(n)).collect();
    let in_design: Vec<&String> = layout.iter().filter(|n| order.contains(n)).collect();
    assert_eq!(
        in_readme, in_design,
        "crates/README.md orders the design's crates differently"
    );
}
