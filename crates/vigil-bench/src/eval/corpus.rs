//! What the evaluations share: the corpus's files, its groups of related
//! items, and the progress bar.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

/// The group of each related image (see `scripts/eval-corpus`): from
/// `related`, or `related.tsv` in the corpus when it exists; no groups
/// otherwise.
pub(crate) fn related_groups(
    corpus: &Path,
    related: Option<&Path>,
) -> anyhow::Result<HashMap<PathBuf, usize>> {
    let default = corpus.join("related.tsv");
    let path = match related {
        Some(path) => path.to_owned(),
        None if default.is_file() => default,
        None => return Ok(HashMap::new()),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the related images from {}", path.display()))?;
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut groups = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((group, member)) = line.split_once('\t') else {
            bail!("{}:{}: expected group<TAB>path", path.display(), n + 1);
        };
        let next = names.len();
        let id = *names.entry(group).or_insert(next);
        groups.insert(PathBuf::from(member), id);
    }
    Ok(groups)
}

/// The files under `dir` whose extension is one of `extensions`
/// (lower-case), sorted: an evaluation corpus.
pub(crate) fn corpus_files(dir: &Path, extensions: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        bail!(
            "no corpus at {}: build it with scripts/eval-corpus DIR",
            dir.display()
        );
    }
    Ok(crate::support::files_with_extensions(dir, extensions))
}

/// An evaluation's progress bar (hidden unless `show`), counting `what`.
pub(crate) fn progress_bar(len: usize, what: &str, show: bool) -> ProgressBar {
    let bar = if show {
        ProgressBar::new(len as u64)
    } else {
        ProgressBar::hidden()
    };
    let template = format!("{{spinner}} {what} {{pos}}/{{len}} [{{bar:30}}] eta {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
