//! What the command-line tests share: running `vigil` on a data folder and
//! reading its JSON Lines.
#![allow(dead_code)] // Each test file uses its own part of this module.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `vigil --data-dir DATA_DIR ARGS…` to completion.
pub fn vigil(data_dir: &Path, args: &[&str]) -> Output {
    vigil_on(&store_args(data_dir, None), args)
}

/// The global arguments naming a store: the SQLite folder, or a PostgreSQL
/// URL.
pub fn store_args(data_dir: &Path, database: Option<&str>) -> Vec<String> {
    let mut args = vec![
        "--data-dir".to_owned(),
        data_dir.to_string_lossy().into_owned(),
    ];
    if let Some(url) = database {
        args.extend(["--database".to_owned(), url.to_owned()]);
    }
    args
}

/// Runs `vigil STORE_ARGS… ARGS…` to completion.
pub fn vigil_on(store: &[String], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(store)
        .args(args)
        .output()
        .expect("vigil runs")
}

/// The JSON lines of a run that must have succeeded (exit 0).
pub fn json_lines(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "status {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout_lines(output)
}

/// The JSON lines of a run that went through, with or without failed
/// inputs (exit 0 or 1).
pub fn json_lines_of_any_run(output: &Output) -> Vec<Value> {
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "status {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout_lines(output)
}

/// Every line of a run's standard output, each parsed as JSON.
pub fn stdout_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}
