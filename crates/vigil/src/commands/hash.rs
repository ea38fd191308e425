//! `vigil hash`: signals of files as JSON Lines.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use vigil_media::{
    Error as MediaError, HashOptions, Hashed, Item, PhotoSignals, VideoHash, VideoOptions,
    hash_item, ingest,
};
use vigil_signal::{Dihedral, Md5, PdqHash, Sha256};

use crate::ExitStatus;

/// Resolved settings for `vigil hash`.
#[derive(Debug, Clone)]
pub(crate) struct HashSettings {
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) options: HashOptions,
    pub(crate) video: VideoSettings,
    pub(crate) threads: usize,
    pub(crate) progress: bool,
}

/// How videos are hashed and shown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VideoSettings {
    pub(crate) options: VideoOptions,
    /// List every hashed frame.
    pub(crate) frames: bool,
}

/// One line of `vigil hash` output: the signals of one file, or why it has
/// none.
///
/// A successful line:
///
/// ```json
/// {"path":"a.jpg","media":"photo","format":"jpeg","width":1600,"height":1004,
///  "orientation":1,"bytes":312045,"pdq":"d8f8…9b22","pdq_quality":100,
///  "md5":"…","sha256":"…"}
/// ```
///
/// * `orientation` is the EXIF orientation tag (1–8), reported and never
///   applied to the pixels: PDQ references hash the stored pixels.
/// * `pdq_quality` below 50 means the hash is not trusted for matching.
/// * With `--dihedral`, `pdq_dihedral` holds the eight hashes under the
///   reference's names: `orig` (equals `pdq`), `rot90`, `rot180`, `rot270`,
///   `flipx`, `flipy`, `flipp` (transpose), `flipm` (anti-transpose).
///
/// A video's line has `media: "video"`, `format`, `width`, `height`,
/// `fps`, `frames_decoded`, `bytes`, `md5`, `sha256` and `vpdq`: the hashed
/// frames in HMA's signal form, `"pdq_hex,quality,timestamp"` each; with
/// `--frames`, also `frames`, each with `frame_number`, `quality`, `pdq` and
/// `timestamp` (the reference tool's fields).
///
/// A failed line has `path`, `error` (a sentence) and `error_kind` (one of
/// `io`, `empty`, `unknown_format`, `unsupported_kind`, `file_too_large`,
/// `image_too_large`, `decode`, `decoder_panicked`, `video_tool`,
/// `video_decode`, `video_limit`, `video_refused` for a playlist or
/// manifest, `unsupported_video`, `pdf`, `pdf_encrypted`, `pdf_limit`),
/// and `bytes`, `md5` and
/// `sha256` whenever the file could be read.
#[derive(Debug, Serialize)]
pub(crate) struct HashLine {
    path: String,
    #[serde(flatten)]
    outcome: Outcome,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Outcome {
    Hashed(Box<PhotoHashed>),
    Video(Box<VideoHashed>),
    Document(Box<super::hash_document::DocumentHashed>),
    Failed(Failed),
}

#[derive(Debug, Serialize)]
struct VideoHashed {
    media: &'static str,
    format: &'static str,
    width: u32,
    height: u32,
    fps: f32,
    frames_decoded: u64,
    bytes: u64,
    md5: Md5,
    sha256: Sha256,
    vpdq: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frames: Option<Vec<FrameLine>>,
}

#[derive(Debug, Serialize)]
struct FrameLine {
    frame_number: u64,
    quality: u8,
    pdq: PdqHash,
    timestamp: f32,
}

#[derive(Debug, Serialize)]
struct PhotoHashed {
    media: &'static str,
    format: &'static str,
    width: u32,
    height: u32,
    orientation: u8,
    bytes: u64,
    pdq: PdqHash,
    pdq_quality: u8,
    md5: Md5,
    sha256: Sha256,
    #[serde(skip_serializing_if = "Option::is_none")]
    pdq_dihedral: Option<Dihedral>,
}

#[derive(Debug, Serialize)]
struct Failed {
    error: String,
    error_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    md5: Option<Md5>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<Sha256>,
}

impl HashLine {
    fn failed(
        path: String,
        error: &MediaError,
        read: Option<(u64, vigil_signal::ExactDigests)>,
    ) -> Self {
        Self {
            path,
            outcome: Outcome::Failed(Failed {
                error: error.to_string(),
                error_kind: error.code(),
                bytes: read.map(|(len, _)| len),
                md5: read.map(|(_, d)| d.md5),
                sha256: read.map(|(_, d)| d.sha256),
            }),
        }
    }

    fn hashed(path: String, len: u64, signals: &PhotoSignals) -> Self {
        Self {
            path,
            outcome: Outcome::Hashed(Box::new(PhotoHashed {
                media: vigil_media::MediaKind::Photo.name(),
                format: signals.image.format.name(),
                width: signals.image.width,
                height: signals.image.height,
                orientation: signals.image.orientation,
                bytes: len,
                pdq: signals.pdq.hash,
                pdq_quality: signals.pdq.quality,
                md5: signals.exact.md5,
                sha256: signals.exact.sha256,
                pdq_dihedral: signals.dihedral,
            })),
        }
    }

    fn video(
        path: String,
        format: &'static str,
        (len, digests): (u64, vigil_signal::ExactDigests),
        video: &VideoHash,
        with_frames: bool,
    ) -> Self {
        let frames = &video.frames;
        Self {
            path,
            outcome: Outcome::Video(Box::new(VideoHashed {
                media: vigil_media::MediaKind::Video.name(),
                format,
                width: video.info.width,
                height: video.info.height,
                fps: video.info.fps,
                frames_decoded: video.frames_decoded,
                bytes: len,
                md5: digests.md5,
                sha256: digests.sha256,
                vpdq: frames
                    .iter()
                    .map(vigil_signal::VpdqFrame::to_hma_item)
                    .collect(),
                frames: with_frames.then(|| {
                    frames
                        .iter()
                        .map(|f| FrameLine {
                            frame_number: f.frame_number,
                            quality: f.quality,
                            pdq: f.hash,
                            timestamp: f.timestamp,
                        })
                        .collect()
                }),
            })),
        }
    }

    fn is_failure(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }
}

/// A file to hash, or a path that could not be listed.
enum Input {
    File(PathBuf),
    Unlistable(String, std::io::Error),
}

/// Hashes every file under `settings.paths`, writing one line per file to
/// `out` in input order.
pub(crate) fn run(settings: &HashSettings, mut out: impl Write) -> anyhow::Result<ExitStatus> {
    let (inputs, walked_a_dir) = collect_inputs(&settings.paths);
    let progress = if settings.progress && walked_a_dir {
        progress_bar(inputs.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .thread_name(|i| format!("vigil-hash-{i}"))
        .build()
        .context("cannot start worker threads")?;

    let (sender, receiver) = mpsc::channel::<(usize, HashLine)>();
    let options = settings.options;
    let video = settings.video;
    // Set when output fails (e.g. a closed pipe): the remaining work is moot.
    let output_failed = AtomicBool::new(false);
    let mut any_failed = false;
    let write_result = std::thread::scope(|scope| -> anyhow::Result<()> {
        let (inputs, output_failed) = (&inputs, &output_failed);
        scope.spawn(move || {
            pool.install(|| {
                // `par_bridge` hands out inputs in order, so results also come
                // back nearly in order and few wait in the reorder buffer.
                inputs.iter().enumerate().par_bridge().for_each_with(
                    sender,
                    |sender, (index, input)| {
                        if !output_failed.load(Ordering::Relaxed) {
                            let _ = sender.send((index, hash_input(input, &options, &video)));
                        }
                    },
                );
            });
        });
        let result = write_in_order(receiver, &mut out, &progress, &mut any_failed);
        if result.is_err() {
            output_failed.store(true, Ordering::Relaxed);
        }
        result
    });
    progress.finish_and_clear();
    write_result?;
    Ok(if any_failed {
        ExitStatus::InputsFailed
    } else {
        ExitStatus::Success
    })
}

/// Writes lines as they arrive (in completion order) in input order.
fn write_in_order(
    receiver: mpsc::Receiver<(usize, HashLine)>,
    out: &mut impl Write,
    progress: &ProgressBar,
    any_failed: &mut bool,
) -> anyhow::Result<()> {
    let mut pending = BTreeMap::new();
    let mut next = 0;
    for (index, line) in receiver {
        pending.insert(index, line);
        while let Some(line) = pending.remove(&next) {
            *any_failed |= line.is_failure();
            serde_json::to_writer(&mut *out, &line).context("cannot write output")?;
            out.write_all(b"\n").context("cannot write output")?;
            progress.inc(1);
            next += 1;
        }
    }
    out.flush().context("cannot write output")
}

fn hash_input(input: &Input, options: &HashOptions, video: &VideoSettings) -> HashLine {
    match input {
        Input::Unlistable(path, error) => HashLine::failed(
            path.clone(),
            &MediaError::Io(std::io::Error::new(error.kind(), error.to_string())),
            None,
        ),
        Input::File(path) => hash_file(path, options, video),
    }
}

fn hash_file(path: &Path, options: &HashOptions, video: &VideoSettings) -> HashLine {
    let shown = path.to_string_lossy().into_owned();
    let options = HashOptions {
        video: video.options,
        ..*options
    };
    match hash_path(path, &options) {
        Ok((len, Hashed::Photo(photo))) => HashLine::hashed(shown, len, &photo),
        Ok((len, Hashed::Video(hashed))) => HashLine::video(
            shown,
            hashed.format,
            (len, hashed.exact),
            &hashed.video,
            video.frames,
        ),
        Ok((len, Hashed::Document(document))) => HashLine {
            path: shown,
            outcome: Outcome::Document(Box::new(super::hash_document::DocumentHashed::new(
                len, &document,
            ))),
        },
        Err(failure) => HashLine::failed(shown, &failure.error, failure.read),
    }
}

/// Why a file has no signals, and what is known of it anyway.
#[derive(Debug)]
pub(crate) struct HashFailure {
    pub(crate) error: MediaError,
    /// Size and exact digests, when the file could be read.
    pub(crate) read: Option<(u64, vigil_signal::ExactDigests)>,
}

/// Reads one file once (digests on the way) and hashes it as what it is:
/// its size and signals, or why not.
pub(crate) fn hash_path(path: &Path, options: &HashOptions) -> Result<(u64, Hashed), HashFailure> {
    let ingested = open_regular(path)
        .and_then(|file| ingest(file, options.limits.max_file_bytes))
        .map_err(|error| HashFailure {
            error: MediaError::Io(error),
            read: None,
        })?;
    let item = Item::File {
        path,
        ingested: &ingested,
    };
    match hash_item(item, None, options) {
        Ok(hashed) => {
            tracing::debug!(path = %path.display(), media = %hashed.kind(), "hashed");
            Ok((ingested.len, hashed))
        }
        Err(error) => {
            tracing::debug!(path = %path.display(), %error, "not hashed");
            Err(HashFailure {
                error,
                read: Some((ingested.len, ingested.digests)),
            })
        }
    }
}

/// The signals to bank or look up for one file.
#[derive(Debug)]
pub(crate) struct FileSignals {
    /// `photo`, `video`, `text` or `pdf`.
    pub(crate) media: &'static str,
    /// What is stored: a photo's PDQ (when trusted), `md5` and `sha256`; a
    /// video's `vpdq` (one frame per second), `video_md5`, `md5`, `sha256`.
    pub(crate) signals: vigil_store::Signals,
    /// A photo's PDQ quality.
    pub(crate) pdq_quality: Option<u8>,
    /// A photo's variants for the lookup defences asked for (its plain hash
    /// first); empty when none were.
    pub(crate) query_variants: Vec<vigil_media::VariantHash>,
    /// Items inside the file banked and looked up on their own: a PDF's
    /// embedded images.
    pub(crate) parts: Vec<FilePart>,
}

/// An item inside a file (see [`FileSignals::parts`]).
#[derive(Debug)]
pub(crate) struct FilePart {
    /// Where it is in the file, e.g. `page 2 image 1`.
    pub(crate) label: String,
    /// Its signals.
    pub(crate) signals: vigil_store::Signals,
}

/// Hashes every file under `paths` on all threads of the current rayon
/// pool; results in the order `vigil hash` uses, each with the path shown to
/// users and the file's signals or why it has none. Videos are hashed at one
/// frame per second, as the reference binding and HMA's extension do.
pub(crate) fn hash_files(
    paths: &[PathBuf],
    options: &HashOptions,
) -> Vec<(String, Result<FileSignals, String>)> {
    list_files(paths)
        .into_par_iter()
        .map(|file| match file {
            Ok(path) => {
                let shown = path.to_string_lossy().into_owned();
                (shown, file_signals(&path, options))
            }
            Err((path, error)) => (path, Err(format!("cannot read the file: {error}"))),
        })
        .collect()
}

fn file_signals(path: &Path, options: &HashOptions) -> Result<FileSignals, String> {
    let signals = |hashed: &Hashed| {
        vigil_store::Signals::from_values(hashed.signals()).map_err(|e| e.to_string())
    };
    match hash_path(path, options) {
        Ok((_, hashed @ Hashed::Photo(_))) => {
            let Hashed::Photo(photo) = &hashed else {
                unreachable!("matched as a photo")
            };
            Ok(FileSignals {
                media: "photo",
                signals: signals(&hashed)?,
                pdq_quality: Some(photo.pdq.quality),
                query_variants: photo.query_variants.clone(),
                parts: Vec::new(),
            })
        }
        Ok((_, hashed @ Hashed::Video(_))) => Ok(FileSignals {
            media: "video",
            signals: signals(&hashed)?,
            pdq_quality: None,
            query_variants: Vec::new(),
            parts: Vec::new(),
        }),
        Ok((_, Hashed::Document(document))) => {
            super::hash_document::document_file_signals(document)
        }
        Err(failure) => Err(failure.error.to_string()),
    }
}

/// Every file under `paths`, in the order `vigil hash` uses, or the error
/// that kept a path from being listed.
fn list_files(paths: &[PathBuf]) -> Vec<Result<PathBuf, (String, std::io::Error)>> {
    collect_inputs(paths)
        .0
        .into_iter()
        .map(|input| match input {
            Input::File(path) => Ok(path),
            Input::Unlistable(path, error) => Err((path, error)),
        })
        .collect()
}

/// Opens `path` if it is a regular file: a FIFO or a device such as
/// `/dev/zero` would block or never end.
fn open_regular(path: &Path) -> std::io::Result<File> {
    let file = File::open(path)?;
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ))
    }
}

/// Expands directories (recursively, sorted by name, not following links
/// inside them) and keeps file arguments as given. Returns whether any
/// argument was a directory.
fn collect_inputs(paths: &[PathBuf]) -> (Vec<Input>, bool) {
    let mut inputs = Vec::new();
    let mut walked_a_dir = false;
    for path in paths {
        if !path.is_dir() {
            inputs.push(Input::File(path.clone()));
            continue;
        }
        walked_a_dir = true;
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    inputs.push(Input::File(entry.into_path()));
                }
                Ok(_) => {}
                Err(error) => {
                    let at = error.path().unwrap_or(path).to_string_lossy().into_owned();
                    let io = error
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("filesystem loop"));
                    inputs.push(Input::Unlistable(at, io));
                }
            }
        }
    }
    (inputs, walked_a_dir)
}

fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} hashing {pos}/{len} files [{bar:30}] {per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
