//! The command line: clap types only. Doc comments here are the `--help`
//! text users read.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cli_bench::BenchCommand;
use crate::cli_eval::EvalCommand;
use crate::cli_monitor::{MonitorCommand, ReportCommand};
use crate::cli_serve::ServeArgs;
use crate::env_vars;

/// Vigil finds copies and variants of known terrorist propaganda.
///
/// It fingerprints media with the signals the hash-sharing community uses
/// (PDQ for images, MD5 and SHA-256 for exact copies), bit for bit the same as
/// Meta's reference implementations, so hashes exchanged with GIFCT,
/// ThreatExchange or HMA users match. It keeps banks of known content with
/// their labels (SQLite by default, PostgreSQL for many nodes), matches files
/// against them, and serves HMA's HTTP API.
///
/// Output for scripts is JSON Lines on stdout; progress and logs go to
/// stderr (set RUST_LOG=vigil=debug for more). Exit status: 0 all good,
/// 1 some inputs failed (each reported), 2 the command could not run.
#[derive(Debug, Parser)]
#[command(
    name = "vigil",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) store: StoreArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where banks are kept.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// Folder of the embedded store (SQLite, one file: vigil.db), created
    /// if missing.
    #[arg(long, global = true, value_name = "DIR", default_value = "vigil-data", env = env_vars::VIGIL_DATA_DIR)]
    pub(crate) data_dir: PathBuf,

    /// A PostgreSQL database instead of the embedded store, for several
    /// nodes sharing one store: postgres://user@host:port/database.
    #[arg(long, global = true, value_name = "URL", env = env_vars::VIGIL_DATABASE)]
    pub(crate) database: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Fingerprint files: one JSON line per file with its signals.
    ///
    /// Each line has the path, the media kind, the format, width and height,
    /// the EXIF orientation (reported, not applied), the size in bytes, the
    /// PDQ hash with its quality, and the MD5 and SHA-256 of the file. A file
    /// that cannot be hashed gets a line with `error` and `error_kind`
    /// instead (plus its MD5 and SHA-256 when it could be read), and the run
    /// goes on; the exit status is then 1.
    ///
    /// Directories are walked recursively (symbolic links inside them are
    /// not followed). Formats are recognised from the bytes, never from file
    /// names. Lines come out in input order.
    ///
    /// Examples:
    ///
    ///   vigil hash photo.jpg
    ///
    ///   vigil hash --dihedral uploads/ > signals.jsonl
    ///
    ///   vigil hash --pdq-mode reference-cli suspect.png
    Hash(HashArgs),
    /// Manage banks: named collections of known content.
    #[command(subcommand)]
    Bank(BankCommand),
    /// Import contents (signals with labels) into a bank, all or nothing.
    ///
    /// Formats: JSON Lines (`{"signals": {"pdq": "…"}, "labels": {…},
    /// "metadata": {…}, "note": "…"}` per line; what `vigil export` writes),
    /// CSV (a header naming columns among pdq, md5, sha256, video_md5,
    /// entity, behaviour, tier, source, tags, content_id, content_uri, note)
    /// and HMA's local_file (`<signal_type> <signal>` per line). A bad line
    /// aborts the import, names the line, and leaves the store unchanged.
    ///
    ///   vigil import KNOWN_BANK shared-hashes.jsonl
    ///
    ///   vigil import --format local-file KNOWN_BANK hma-export.txt
    Import(ImportArgs),
    /// Write every content of a bank to stdout (streamed).
    Export(ExportArgs),
    /// Hash files and look them up in the banks: one JSON line per file with
    /// every match (bank, content id, labels, signal type, distance).
    ///
    /// Exit status 1 if any file could not be hashed. Matching follows
    /// HMA's rules: enabled contents only, and each bank takes part in the
    /// share of lookups its enabled ratio says (--bypass-enabled-ratio for
    /// all banks).
    ///
    /// --defend catches photos edited in ways PDQ alone misses: rotated or
    /// mirrored (`dihedral`), framed by borders or letterbox bars (`trim`),
    /// cropped by up to ~20% or with a logo or caption over a corner
    /// (`crops`; needs images banked with `vigil bank add`, which keeps
    /// their crop hashes). docs/evaluation.md has what each catches and
    /// costs.
    ///
    ///   vigil match upload.jpg
    ///
    ///   vigil match --defend all uploads/
    Match(MatchArgs),
    /// Serve HMA's HTTP API (hashing, matching, curation, exchanges) and
    /// Vigil's /v1 API over the store.
    ///
    /// HMA clients work unchanged: `/h/hash`, `/m/lookup`, `/m/raw_lookup`,
    /// `/c/banks`, `/c/bank/NAME/content`, `/c/exchanges`, … with HMA's
    /// JSON; `/openapi.json` describes every route and `/metrics` serves
    /// Prometheus metrics. Changes made by other processes to the same store
    /// show within a second. Stops cleanly on Ctrl-C or SIGTERM.
    ///
    /// On loopback, API tokens are optional (a presented token is still
    /// checked). On any other address every route but /status* and
    /// /openapi.json needs `Authorization: Bearer <token>` from
    /// `vigil token create`.
    ///
    /// URLs sent to the server (`/h/hash?url=`, content by URL) are fetched
    /// over http(s) only, never from loopback, private or link-local
    /// addresses (checked after DNS resolution and on every redirect),
    /// within a size and time limit.
    ///
    ///   vigil serve
    ///
    ///   vigil serve --listen 0.0.0.0:5100 --roles matcher
    ///
    ///   vigil serve --exchange-dir /srv/vigil/exchanges --fetch-allowed-host cdn.example.org
    Serve(ServeArgs),
    /// Create, list and revoke API tokens for `vigil serve`.
    ///
    /// A token grants roles: hasher (/h: hash media), matcher (/m, /v1
    /// reads: look signals up), curator (/c, /v1 writes: banks, contents,
    /// labels, exchanges). The secret is printed once; only its SHA-256 is
    /// stored.
    ///
    ///   vigil token create moderation-bot --role hasher --role matcher
    #[command(subcommand)]
    Token(TokenCommand),
    /// Follow beacons (feeds, pages, channel exports) to where content is
    /// stored, match it, alert webhooks, and track it until it is gone.
    ///
    ///   vigil monitor source add beacon --feed https://beacon.example/feed.xml --interval 30s
    ///
    ///   vigil monitor webhook add ngo https://alerts.example/vigil
    ///
    ///   vigil monitor run
    #[command(subcommand)]
    Monitor(MonitorCommand),
    /// Reports from what the monitor recorded.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Measure Vigil's speed and compare it with the reference tools.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Measure what Vigil's signals catch: recall per edit and false
    /// positives on benign corpora.
    #[command(subcommand)]
    Eval(EvalCommand),
}

/// A role, as the CLI spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RoleArg {
    /// Hash media (/h).
    Hasher,
    /// Look signals up (/m, /v1 reads).
    Matcher,
    /// Change banks, contents, labels and exchanges (/c, /v1 writes).
    Curator,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print its secret (once) as JSON.
    Create {
        /// A unique name for the token, recorded as the actor in the audit log.
        name: String,
        /// A role the token grants (repeatable, or a comma list).
        #[arg(long = "role", value_delimiter = ',', required = true)]
        roles: Vec<RoleArg>,
    },
    /// List tokens (never their secrets), one JSON line each.
    List,
    /// Revoke a token by name; servers refuse it within 5 seconds.
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BankCommand {
    /// Create a bank (name in UPPER_SNAKE, as HMA requires).
    Create {
        /// The bank's name.
        name: String,
        /// Share of lookups the bank takes part in (0 to 1).
        #[arg(long, default_value_t = 1.0)]
        enabled_ratio: f64,
        /// Succeed without change if the bank already exists.
        #[arg(long)]
        exist_ok: bool,
    },
    /// List banks, one JSON line each.
    List,
    /// Show one bank with its number of contents.
    Show {
        /// The bank's name.
        name: String,
    },
    /// Rename a bank.
    Rename {
        /// The current name.
        name: String,
        /// The new name.
        new_name: String,
    },
    /// Delete a bank and all of its contents.
    Delete {
        /// The bank's name.
        name: String,
    },
    /// Hash files and add each to a bank, with labels.
    ///
    ///   vigil bank add KNOWN_BANK poster.jpg --label tier=promotional --label entity="Example Group"
    Add(BankAddArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BankAddArgs {
    /// The bank.
    pub(crate) bank: String,
    /// Files or directories to add.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// A label as key=value (entity, behaviour, tier, source, tag); repeat
    /// for several.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub(crate) labels: Vec<String>,
    /// A note (at most 255 characters) stored with each content.
    #[arg(long)]
    pub(crate) note: Option<String>,
    /// Do not keep photos' crop and trimmed hashes (`pdq_variants`, about
    /// 8 ms and 800 bytes per photo), which `vigil match --defend crops`
    /// and `trim` compare with.
    #[arg(long)]
    pub(crate) no_variants: bool,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

fn parse_defences(list: &str) -> Result<vigil_media::Defences, vigil_media::UnknownDefence> {
    vigil_media::Defences::parse(list)
}

/// File formats for import and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FileFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header.
    Csv,
    /// HMA's `<signal_type> <signal>` lines.
    LocalFile,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The bank to import into (it must exist).
    pub(crate) bank: String,
    /// The file to import.
    pub(crate) file: PathBuf,
    /// The file's format [default: from its extension: .jsonl, .csv, .txt].
    #[arg(long, value_enum)]
    pub(crate) format: Option<FileFormat>,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The bank to export.
    pub(crate) bank: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FileFormat::Jsonl)]
    pub(crate) format: FileFormat,
}

#[derive(Debug, Args)]
pub(crate) struct MatchArgs {
    /// Files or directories to match.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Largest PDQ distance that counts as a match.
    #[arg(long, default_value_t = 31, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub(crate) max_distance: u32,
    /// Let every bank take part, whatever its enabled ratio.
    #[arg(long)]
    pub(crate) bypass_enabled_ratio: bool,
    /// Only these banks (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) banks: Vec<String>,
    /// Videos: least percent of the file's frames found in a banked video
    /// for it to match (python-threatexchange's default: 80).
    #[arg(long, default_value_t = 80.0, value_name = "PERCENT")]
    pub(crate) vpdq_query_pct: f64,
    /// Videos: least percent of the banked video's frames found in the file
    /// (default 0: a clip inside a longer banked video matches).
    #[arg(long, default_value_t = 0.0, value_name = "PERCENT")]
    pub(crate) vpdq_compared_pct: f64,
    /// Text and PDFs: least share (0–1) of a banked text found in the file
    /// for it to match. A statement pasted into a longer post is wholly
    /// found; heavy edits lower the share.
    #[arg(long, default_value_t = vigil_signal::text::DEFAULT_CONTAINMENT, value_name = "SHARE")]
    pub(crate) text_containment: f64,
    /// Photos: lookup defences, comma-separated: `dihedral` (the seven
    /// rotations and mirrors of the pixels), `trim` (uniform borders and
    /// letterbox bars cut off), `crops` (the bank's crops and the photo's
    /// corner regions), or `all`. Matches found only this way name the
    /// query's `variant` and the `banked_variant`.
    #[arg(long, value_name = "LIST", value_parser = parse_defences)]
    pub(crate) defend: Option<vigil_media::Defences>,
    /// Same as `--defend dihedral` (with --defend, adds it).
    #[arg(long)]
    pub(crate) dihedral: bool,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

#[derive(Debug, Args)]
pub(crate) struct HashArgs {
    /// Files or directories to hash.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// Which reference's PDQ bits to reproduce.
    #[arg(long, value_enum, default_value_t = PdqModeArg::Full, env = env_vars::VIGIL_PDQ_MODE)]
    pub(crate) pdq_mode: PdqModeArg,

    /// Also output the PDQ hashes of the 8 rotations and flips, for finding
    /// rotated or mirrored copies (`pdq_dihedral`).
    #[arg(long)]
    pub(crate) dihedral: bool,

    #[command(flatten)]
    pub(crate) workers: WorkerArgs,

    #[command(flatten)]
    pub(crate) limits: LimitArgs,

    #[command(flatten)]
    pub(crate) video: VideoArgs,

    /// Never show the progress bar (it only shows on a terminal anyway).
    #[arg(long)]
    pub(crate) no_progress: bool,
}

/// How videos are hashed (vPDQ, as Meta's `vpdq-hash-video`). Videos are
/// decoded by FFmpeg's `ffmpeg` and `ffprobe` programs.
#[derive(Debug, Args)]
pub(crate) struct VideoArgs {
    /// List each hashed video frame (`frames`: number, quality, pdq,
    /// timestamp) besides the `vpdq` signal.
    #[arg(long)]
    pub(crate) frames: bool,
    /// Hash one frame per this many seconds; 0 hashes every frame.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub(crate) seconds_per_hash: f64,
    /// Scale frames to N×N before hashing (the reference's `-s N`).
    #[arg(long, value_name = "N")]
    pub(crate) downscale: Option<u32>,
    /// Give up on a video after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub(crate) video_timeout: u64,
    /// Refuse videos longer than this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 4 * 3600)]
    pub(crate) max_video_seconds: u64,
}

#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// Worker threads [default: one per core].
    #[arg(long, short = 'j', env = env_vars::VIGIL_THREADS, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,
}

#[derive(Debug, Args)]
pub(crate) struct LimitArgs {
    /// Files larger than this many bytes are digested (md5, sha256) but not
    /// decoded.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024 * 1024)]
    pub(crate) max_file_bytes: u64,

    /// Images declaring more pixels (width × height) than this are refused
    /// before decoding, to bound memory.
    #[arg(long, value_name = "PIXELS", default_value_t = 50_000_000)]
    pub(crate) max_pixels: u64,

    /// Images wider or taller than this are refused before decoding.
    #[arg(long, value_name = "PIXELS", default_value_t = 32_768)]
    pub(crate) max_side: u32,
}

/// PDQ modes, named after the reference each reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PdqModeArg {
    /// Full resolution: the same bits as HMA, python-threatexchange and the
    /// PyPI `pdqhash` package.
    Full,
    /// Meta's C++ `pdq-photo-hasher`, which squashes images over 512 px to
    /// 512×512 first.
    ReferenceCli,
}
