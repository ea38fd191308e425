//! Import and export of contents with their signals and labels, in three
//! formats:
//!
//! * **JSON Lines** — one content per line:
//!   `{"signals": {"pdq": "…"}, "labels": {"tier": "crisis"}, "metadata": {"content_id": "…"}, "note": "…"}`.
//!   Export writes the same shape plus the stored `id`, `bank`,
//!   `disable_until_ts` and `created_at`, which import accepts and ignores,
//!   so an export can be imported elsewhere.
//! * **CSV** — a header naming any of the columns `pdq`, `md5`, `sha256`,
//!   `video_md5`, `entity`, `behaviour`, `tier`, `source`, `tags`
//!   (`;`-separated), `content_id`, `content_uri`, `note`; one content per row.
//! * **`local_file`** — HMA's format: `<signal_type> <signal>` per line, one
//!   content per line; blank lines and `#` comments are skipped.
//!
//! [`read`] yields contents one by one so imports stream; every error names
//! its line, and the store writes an import in one transaction, so an import
//! is all or nothing whatever its size.

use std::io::{BufRead, Write};

use serde::Deserialize;
use vigil_store::{BankName, Labels, Metadata, NewContent, Provenance, SignalType, Signals, Store};

use crate::Error;

/// An import or export file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// Comma-separated values with a header.
    Csv,
    /// HMA's `<signal_type> <signal>` lines.
    LocalFile,
}

impl Format {
    /// The format a file name suggests: `.jsonl`/`.ndjson`/`.json` → JSON
    /// Lines, `.csv` → CSV, `.txt` → `local_file`.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match extension.as_str() {
            "jsonl" | "ndjson" | "json" => Some(Self::JsonLines),
            "csv" => Some(Self::Csv),
            "txt" => Some(Self::LocalFile),
            _ => None,
        }
    }
}

impl Format {
    /// The format a file's first non-empty line suggests: `{` starts JSON
    /// Lines, a known signal type and a space start `local_file`, and a
    /// header of known CSV columns starts CSV.
    pub fn sniff(first_line: &str) -> Option<Self> {
        let line = first_line.trim_start_matches('\u{feff}').trim();
        if line.starts_with('{') {
            return Some(Self::JsonLines);
        }
        if line
            .split_once(char::is_whitespace)
            .is_some_and(|(signal_type, _)| signal_type.parse::<SignalType>().is_ok())
        {
            return Some(Self::LocalFile);
        }
        let columns: Vec<&str> = line.split(',').map(str::trim).collect();
        (!columns.is_empty() && columns.iter().all(|c| CSV_COLUMNS.contains(c)))
            .then_some(Self::Csv)
    }
}

/// A JSON Lines record: a content, plus the fields an export adds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRecord {
    signals: Signals,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    provenance: Option<Provenance>,
    // Written by export, ignored on import.
    #[serde(default, rename = "id")]
    _id: Option<i64>,
    #[serde(default, rename = "bank")]
    _bank: Option<String>,
    #[serde(default, rename = "disable_until_ts")]
    _disable_until_ts: Option<i64>,
    #[serde(default, rename = "created_at")]
    _created_at: Option<i64>,
}

/// Reads every content in `input`; the first invalid line fails the whole
/// file with its number and reason.
pub fn parse(input: impl BufRead, format: Format) -> Result<Vec<NewContent>, Error> {
    read(input, format)?.collect()
}

/// Contents read one at a time from an import file, so an import of any size
/// streams into the store; each item names its line when invalid.
pub struct Contents<R: BufRead> {
    source: Source<R>,
}

enum Source<R: BufRead> {
    Lines {
        lines: std::io::Lines<R>,
        number: u64,
        format: Format,
    },
    Csv {
        records: csv::StringRecordsIntoIter<R>,
        headers: csv::StringRecord,
    },
}

/// Imports `contents` (from [`read`]) into `bank` in one transaction,
/// parsing lines while they are written so memory stays flat however long
/// the file; `added` hears each new id. A bad line leaves the store as it
/// was and names its number. Returns how many were imported.
pub fn import<R: BufRead>(
    store: &dyn Store,
    bank: &BankName,
    mut contents: Contents<R>,
    actor: &str,
    added: &mut dyn FnMut(i64),
) -> Result<u64, Error> {
    let mut next = || {
        contents
            .next()
            .transpose()
            .map_err(|e| vigil_store::Error::Invalid(e.to_string()))
    };
    Ok(store.import(bank, &mut next, added, actor)?)
}

/// Starts reading `input` in `format` (a CSV header is checked here).
pub fn read<R: BufRead>(input: R, format: Format) -> Result<Contents<R>, Error> {
    let source = match format {
        Format::JsonLines | Format::LocalFile => Source::Lines {
            lines: input.lines(),
            number: 0,
            format,
        },
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
            let headers = reader
                .headers()
                .map_err(|e| Error::ImportLine {
                    line: 1,
                    reason: e.to_string(),
                })?
                .clone();
            if let Some(unknown) = headers.iter().find(|h| !CSV_COLUMNS.contains(h)) {
                return Err(Error::ImportLine {
                    line: 1,
                    reason: format!(
                        "unknown column {unknown:?}; known columns: {}",
                        CSV_COLUMNS.join(", ")
                    ),
                });
            }
            Source::Csv {
                records: reader.into_records(),
                headers,
            }
        }
    };
    Ok(Contents { source })
}

impl<R: BufRead> Iterator for Contents<R> {
    type Item = Result<NewContent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Lines {
                lines,
                number,
                format,
            } => loop {
                let line = match lines.next()? {
                    Ok(line) => line,
                    Err(e) => return Some(Err(e.into())),
                };
                *number += 1;
                let parsed = match format {
                    Format::JsonLines => json_line(*number, &line),
                    _ => local_file_line(*number, &line),
                };
                match parsed {
                    Ok(None) => {}
                    Ok(Some(content)) => return Some(checked(*number, content)),
                    Err(e) => return Some(Err(e)),
                }
            },
            Source::Csv { records, headers } => {
                let record = match records.next()? {
                    Ok(record) => record,
                    Err(e) => {
                        return Some(Err(Error::ImportLine {
                            line: e.position().map_or(0, csv::Position::line),
                            reason: e.to_string(),
                        }));
                    }
                };
                let line = record.position().map_or(0, csv::Position::line);
                Some(csv_record(headers, &record, line).and_then(|content| checked(line, content)))
            }
        }
    }
}

fn checked(line: u64, content: NewContent) -> Result<NewContent, Error> {
    content.validate().map_err(|e| Error::ImportLine {
        line,
        reason: e.to_string(),
    })?;
    Ok(content)
}

/// One JSON Lines line; `None` for a blank line.
fn json_line(number: u64, line: &str) -> Result<Option<NewContent>, Error> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let record: JsonRecord = serde_json::from_str(line).map_err(|e| Error::ImportLine {
        line: number,
        reason: e.to_string(),
    })?;
    Ok(Some(NewContent {
        signals: record.signals,
        labels: record.labels,
        metadata: record.metadata,
        note: record.note,
        provenance: record.provenance,
    }))
}

/// CSV columns, in export order.
const CSV_COLUMNS: [&str; 12] = [
    "pdq",
    "md5",
    "sha256",
    "video_md5",
    "entity",
    "behaviour",
    "tier",
    "source",
    "tags",
    "content_id",
    "content_uri",
    "note",
];

fn csv_record(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    line: u64,
) -> Result<NewContent, Error> {
    let invalid = |e: vigil_store::Error| Error::ImportLine {
        line,
        reason: e.to_string(),
    };
    let mut content = NewContent::default();
    for (header, value) in headers.iter().zip(record.iter()) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match header {
            "pdq" | "md5" | "sha256" | "video_md5" => {
                let signal_type = header
                    .parse::<SignalType>()
                    .map_err(|e| invalid(e.into()))?;
                content
                    .signals
                    .insert(signal_type, value)
                    .map_err(invalid)?;
            }
            "entity" | "behaviour" | "tier" | "source" => {
                content.labels.set(header, value).map_err(invalid)?;
            }
            "tags" => {
                for tag in value.split(';') {
                    if !tag.trim().is_empty() {
                        content.labels.set("tag", tag).map_err(invalid)?;
                    }
                }
            }
            "content_id" => content.metadata.content_id = Some(value.to_owned()),
            "content_uri" => content.metadata.content_uri = Some(value.to_owned()),
            _ => content.note = Some(value.to_owned()),
        }
    }
    Ok(content)
}

/// One `local_file` line; `None` for a blank line or a comment.
fn local_file_line(number: u64, line: &str) -> Result<Option<NewContent>, Error> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let Some((signal_type, value)) = line.split_once(char::is_whitespace) else {
        return Err(Error::ImportLine {
            line: number,
            reason: "expected `<signal_type> <signal>`".to_owned(),
        });
    };
    let invalid = |reason: String| Error::ImportLine {
        line: number,
        reason,
    };
    let signal_type = signal_type
        .parse::<SignalType>()
        .map_err(|e| invalid(e.to_string()))?;
    let mut content = NewContent::default();
    content
        .signals
        .insert(signal_type, value.trim())
        .map_err(|e| invalid(e.to_string()))?;
    Ok(Some(content))
}

/// Writes every content of `bank` to `output`, page by page (memory stays
/// flat however large the bank); returns how many.
pub fn export(
    store: &dyn Store,
    bank: &BankName,
    format: Format,
    output: impl Write,
) -> Result<u64, Error> {
    let mut output = std::io::BufWriter::new(output);
    let mut csv_writer = None;
    if format == Format::Csv {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(CSV_COLUMNS).map_err(csv_error)?;
        output.write_all(
            &writer
                .into_inner()
                .map_err(|e| Error::Invalid(e.to_string()))?,
        )?;
        csv_writer = Some(());
    }
    let mut count = 0;
    let mut after = 0;
    loop {
        let page = store.contents_after(Some(bank), after, 5_000)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for content in &page {
            match format {
                Format::JsonLines => {
                    serde_json::to_writer(&mut output, content)
                        .map_err(|e| Error::Invalid(e.to_string()))?;
                    output.write_all(b"\n")?;
                }
                Format::LocalFile => {
                    for (signal_type, value) in content.fields.signals.iter() {
                        writeln!(output, "{signal_type} {value}")?;
                    }
                }
                Format::Csv => {
                    debug_assert!(csv_writer.is_some());
                    let fields = &content.fields;
                    let labels = &fields.labels;
                    let row = [
                        fields
                            .signals
                            .get(SignalType::Pdq)
                            .unwrap_or_default()
                            .to_owned(),
                        fields
                            .signals
                            .get(SignalType::Md5)
                            .unwrap_or_default()
                            .to_owned(),
                        fields
                            .signals
                            .get(SignalType::Sha256)
                            .unwrap_or_default()
                            .to_owned(),
                        fields
                            .signals
                            .get(SignalType::VideoMd5)
                            .unwrap_or_default()
                            .to_owned(),
                        labels.entity.clone().unwrap_or_default(),
                        labels
                            .behaviour
                            .map(|b| b.as_str().to_owned())
                            .unwrap_or_default(),
                        labels
                            .tier
                            .map(|t| t.as_str().to_owned())
                            .unwrap_or_default(),
                        labels.source.clone().unwrap_or_default(),
                        labels.tags.join(";"),
                        fields.metadata.content_id.clone().unwrap_or_default(),
                        fields.metadata.content_uri.clone().unwrap_or_default(),
                        fields.note.clone().unwrap_or_default(),
                    ];
                    let mut writer = csv::WriterBuilder::new()
                        .has_headers(false)
                        .from_writer(Vec::new());
                    writer.write_record(&row).map_err(csv_error)?;
                    output.write_all(
                        &writer
                            .into_inner()
                            .map_err(|e| Error::Invalid(e.to_string()))?,
                    )?;
                }
            }
            count += 1;
        }
    }
    output.flush()?;
    Ok(count)
}

fn csv_error(e: csv::Error) -> Error {
    Error::Invalid(format!("CSV: {e}"))
}
