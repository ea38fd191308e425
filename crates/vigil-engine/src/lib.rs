//! Vigil's domain layer: banks of known content over a [`Store`], one
//! in-memory index per signal type kept current from the store's change
//! log, and lookups with HMA's semantics.
//!
//! The engine knows banks, contents and matches; it does not know HTTP,
//! command lines or table layouts. Every write goes to the store first (one
//! transaction), then the engine replays the change log into its indexes, so
//! a change made by this process is visible to its next lookup, and one made
//! by another process sharing the store is visible after the next
//! [`Engine::sync`] (call it periodically; it only reads what is new).
//!
//! # Lookups, as HMA does them
//!
//! A lookup finds every indexed content whose signal is within the distance
//! (PDQ: at most 31 bits by default; exact types: equal), keeps only enabled
//! contents (`disable_until_ts` 1, or a time already past), draws one
//! uniform number in [0, 1) (the "coinflip"; a seed makes it reproducible,
//! drawing what HMA's Python draws for the same seed: see [`coinflip`])
//! and keeps the banks whose `enabled_ratio` is at least that number, then
//! an optional list of banks. [`LookupOptions::bypass_enabled_ratio`] skips
//! the coinflip (every bank, ratio 0 included).

#![deny(missing_docs)]

mod access;
mod banks;
pub mod coinflip;
mod defences;
mod error;
pub mod exchange;
mod indexes;
pub mod monitor;
mod text;
pub mod transfer;
mod video;

use std::sync::{Arc, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use vigil_index::{Code256, SignalIndex};
use vigil_media::{HashOptions, MediaSignals};
use vigil_signal::{Md5, PdqHash, Sha256, VpdqMatch};
use vigil_store::{Bank, BankName, Content, ContentUpdate, NewContent, Signals, Store};

pub use access::secret_digest;
pub use defences::DefendedMatch;
pub use error::{Error, Missing};
use indexes::{EXACT_TYPES, Indexes};
pub use video::{UNTRUSTED_VIDEO_LIMITS, video_bytes_signals};

/// How a lookup filters its hits.
#[derive(Debug, Clone, Default)]
pub struct LookupOptions {
    /// Largest PDQ distance that matches (default 31, the PDQ threshold).
    pub max_distance: Option<u32>,
    /// Skip the enabled-ratio coinflip: every bank takes part.
    pub bypass_enabled_ratio: bool,
    /// Also return disabled contents.
    pub include_disabled: bool,
    /// Seed for the coinflip, for reproducible lookups: any string, drawn
    /// as HMA's `random.Random(seed)` draws it.
    pub seed: Option<String>,
    /// Only these banks (all when `None`).
    pub banks: Option<Vec<BankName>>,
    /// vPDQ: least percent of the query's frames found in a video for it
    /// to match (default 80).
    pub vpdq_query_pct: Option<f64>,
    /// vPDQ: least percent of the video's frames found in the query
    /// (default 0: a clip inside a long video matches).
    pub vpdq_compared_pct: Option<f64>,
    /// Text: least share (0–1) of a banked text found in the query for it
    /// to match (default [`DEFAULT_CONTAINMENT`](vigil_signal::text::DEFAULT_CONTAINMENT)).
    pub text_containment: Option<f64>,
}

/// How much of a banked text a text lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TextMatch {
    /// Estimated share of the banked text's shingles in the query, 0–1.
    pub containment: f64,
    /// Estimated resemblance (Jaccard similarity) of the two texts, 0–1.
    pub similarity: f64,
}

/// What a match adds for the signal types measured by shares, not bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MatchDetail {
    Vpdq(VpdqMatch),
    Text(TextMatch),
}

/// One match of a lookup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// The matching content.
    pub content_id: i64,
    /// Its bank.
    pub bank: BankName,
    /// The signal type that matched.
    pub signal_type: String,
    /// Hamming distance for PDQ, 0 for exact types; for vPDQ, the share
    /// of the query's frames *not* found, and for text the share of the
    /// banked text not found, in whole percent (see `vpdq` and `text`).
    pub distance: u32,
    /// For vPDQ: how much of the query is in the video and of the video in
    /// the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpdq: Option<VpdqMatch>,
    /// For text: how much of the banked text is in the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<TextMatch>,
}

/// A match with the labels of its content, as `vigil match` and the native
/// API report it: vPDQ matches add `query_pct` and `compared_pct`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledMatch {
    /// The matching content.
    pub content_id: i64,
    /// Its bank.
    pub bank: BankName,
    /// The signal type that matched.
    pub signal_type: String,
    /// As [`Match::distance`].
    pub distance: u32,
    /// The content's labels.
    pub labels: vigil_store::Labels,
    /// vPDQ: percent of the query's frames found in the video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_pct: Option<f64>,
    /// vPDQ: percent of the video's frames found in the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_pct: Option<f64>,
    /// Text: estimated share (0–1) of the banked text found in the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containment: Option<f64>,
    /// Text: estimated resemblance (0–1) of the two texts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
}

/// Stops [`Engine::follow`]'s thread when dropped.
#[derive(Debug)]
pub struct Follower {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// The engine: a store and its indexes.
pub struct Engine {
    store: Arc<dyn Store>,
    indexes: Indexes,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Engine {
    /// Opens the engine over `store`, indexing every content in it.
    pub fn open(store: Arc<dyn Store>) -> Result<Self, Error> {
        let indexes = Indexes::load(&*store)?;
        Ok(Self { store, indexes })
    }

    /// The store underneath; others read and write through the engine.
    // TODO(#18): crate-private once the monitor (the sightings and takedowns
    // `/v1` reads) lives in `vigil-monitor` with its own API.
    #[doc(hidden)]
    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// Applies changes made through the store since the last sync (by this
    /// or another process); returns how many.
    pub fn sync(&self) -> Result<usize, Error> {
        self.indexes.sync(&*self.store)
    }

    /// Keeps this engine current with changes other processes make to a
    /// shared store: a background thread calls [`Engine::sync`] every
    /// `every` (sync failures are logged by the caller-visible return of
    /// the next explicit sync, and retried). Dropping the returned handle
    /// stops the thread.
    pub fn follow(self: &Arc<Self>, every: std::time::Duration) -> Follower {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (engine, flag) = (Arc::clone(self), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("vigil-follower".to_owned())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Acquire) {
                    // A failed sync (e.g. the database restarting) is retried
                    // on the next tick; nothing is lost, the log is replayed.
                    let _ = engine.sync();
                    std::thread::park_timeout(every);
                }
            })
            .ok();
        Follower { stop, thread }
    }

    /// Entries per signal type's index: `pdq`, the exact types, the banked
    /// image variants of the defences, and the number of videos.
    pub fn index_sizes(&self) -> Vec<(&'static str, usize)> {
        let mut sizes = vec![("pdq", self.indexes.pdq.len())];
        sizes.extend(
            EXACT_TYPES
                .iter()
                .zip(&self.indexes.exact)
                .map(|(t, index)| (*t, index.len())),
        );
        sizes.push(("pdq_variants", self.indexes.pdq_variants.len()));
        sizes.push((
            "vpdq",
            self.indexes
                .videos
                .load(std::sync::atomic::Ordering::Relaxed),
        ));
        sizes
    }

    /// Number of contents indexed.
    pub fn indexed(&self) -> usize {
        self.indexes
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Creates a bank.
    pub fn create_bank(
        &self,
        name: &BankName,
        enabled_ratio: f64,
        actor: &str,
    ) -> Result<Bank, Error> {
        let bank = self.store.create_bank(name, enabled_ratio, actor)?;
        self.sync()?;
        Ok(bank)
    }

    /// Renames a bank and/or changes its ratio.
    pub fn update_bank(
        &self,
        name: &BankName,
        new_name: Option<&BankName>,
        enabled_ratio: Option<f64>,
        actor: &str,
    ) -> Result<Bank, Error> {
        let bank = self
            .store
            .update_bank(name, new_name, enabled_ratio, actor)?;
        self.sync()?;
        Ok(bank)
    }

    /// Deletes a bank and its contents.
    pub fn delete_bank(&self, name: &BankName, actor: &str) -> Result<bool, Error> {
        let deleted = self.store.delete_bank(name, actor)?;
        self.sync()?;
        Ok(deleted)
    }

    /// Adds contents given by their signals (all or none).
    pub fn add_contents(
        &self,
        bank: &BankName,
        contents: &[NewContent],
        actor: &str,
    ) -> Result<Vec<i64>, Error> {
        let ids = self.store.add_contents(bank, contents, actor)?;
        self.sync()?;
        Ok(ids)
    }

    /// Hashes `bytes` (a photo) and adds it with the labels, metadata and
    /// note of `details` (whose signals are replaced by the computed ones);
    /// returns the content id and the signals stored.
    pub fn add_media(
        &self,
        bank: &BankName,
        bytes: &[u8],
        options: &HashOptions,
        mut details: NewContent,
        actor: &str,
    ) -> Result<(i64, Signals), Error> {
        details.signals = signals_of(&vigil_media::hash_media(bytes, options)?)?;
        let ids = self.add_contents(bank, std::slice::from_ref(&details), actor)?;
        Ok((ids[0], details.signals))
    }

    /// Changes a content's enabled state, note or labels; returns it as
    /// changed.
    pub fn update_content(
        &self,
        id: i64,
        update: &ContentUpdate,
        actor: &str,
    ) -> Result<Content, Error> {
        let content = self.store.update_content(id, update, actor)?;
        self.sync()?;
        content.ok_or(Error::NotFound(Missing::Content(id)))
    }

    /// Deletes a content.
    pub fn delete_content(&self, id: i64, actor: &str) -> Result<bool, Error> {
        let deleted = self.store.delete_content(id, actor)?;
        self.sync()?;
        Ok(deleted)
    }

    /// Every content matching `value` of `signal_type`, filtered as HMA does
    /// (see the crate docs), nearest first.
    pub fn lookup(
        &self,
        signal_type: &str,
        value: &str,
        options: &LookupOptions,
    ) -> Result<Vec<Match>, Error> {
        let hits = match signal_type {
            "vpdq" => return self.lookup_video(value, options),
            "text" => return self.lookup_text(value, options),
            "pdq" => {
                let hash: PdqHash = value
                    .parse()
                    .map_err(|e| Error::Invalid(format!("invalid pdq signal: {e}")))?;
                let radius = options
                    .max_distance
                    .unwrap_or(PdqHash::DEFAULT_MATCH_DISTANCE);
                self.indexes.pdq.search(&Code256::from(hash), radius)
            }
            exact => {
                let Some(i) = EXACT_TYPES.iter().position(|t| *t == exact) else {
                    return Err(Error::Invalid(format!("no such signal type {exact:?}")));
                };
                let normalised = normalise_exact(exact, value)?;
                self.indexes.exact[i].search(&normalised, 0)
            }
        };
        let hits: Vec<(i64, u32, Option<MatchDetail>)> = hits
            .into_iter()
            .map(|hit| (hit.id as i64, hit.distance, None))
            .collect();
        Ok(self.filter_hits(signal_type, hits, options))
    }

    /// Keeps the hits HMA's rules allow (enabled content, banks passing the
    /// coinflip, the bank filter) as matches.
    fn filter_hits(
        &self,
        signal_type: &str,
        hits: Vec<(i64, u32, Option<MatchDetail>)>,
        options: &LookupOptions,
    ) -> Vec<Match> {
        let coinflip = if options.bypass_enabled_ratio {
            0.0
        } else {
            options
                .seed
                .as_deref()
                .map_or_else(coinflip::unseeded, coinflip::seeded)
        };
        let time = now();
        let entries = self
            .indexes
            .entries
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let banks = self
            .indexes
            .banks
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut matches = Vec::new();
        for (content_id, distance, detail) in hits {
            let Some(entry) = entries.get(&content_id) else {
                continue;
            };
            let enabled = entry.disable_until_ts == 1
                || (entry.disable_until_ts > 1 && entry.disable_until_ts <= time);
            if !enabled && !options.include_disabled {
                continue;
            }
            let Some(bank) = banks.get(&entry.bank_id) else {
                continue;
            };
            if bank.enabled_ratio < coinflip {
                continue;
            }
            if options
                .banks
                .as_ref()
                .is_some_and(|only| !only.contains(&bank.name))
            {
                continue;
            }
            matches.push(Match {
                content_id,
                bank: bank.name.clone(),
                signal_type: signal_type.to_owned(),
                distance,
                vpdq: match detail {
                    Some(MatchDetail::Vpdq(vpdq)) => Some(vpdq),
                    _ => None,
                },
                text: match detail {
                    Some(MatchDetail::Text(text)) => Some(text),
                    _ => None,
                },
            });
        }
        matches
    }

    /// `matches` with the labels of their contents (read from the store).
    pub fn with_labels(&self, matches: Vec<Match>) -> Result<Vec<LabelledMatch>, Error> {
        matches
            .into_iter()
            .map(|found| {
                let labels = self
                    .store
                    .content(found.content_id)?
                    .map(|c| c.fields.labels)
                    .unwrap_or_default();
                Ok(LabelledMatch {
                    content_id: found.content_id,
                    bank: found.bank,
                    signal_type: found.signal_type,
                    distance: found.distance,
                    labels,
                    query_pct: found.vpdq.map(|v| v.query_pct),
                    compared_pct: found.vpdq.map(|v| v.compared_pct),
                    containment: found.text.map(|t| t.containment),
                    similarity: found.text.map(|t| t.similarity),
                })
            })
            .collect()
    }

    /// Looks up every signal of `signals` and returns all matches, by
    /// signal type then distance.
    pub fn lookup_all(
        &self,
        signals: &Signals,
        options: &LookupOptions,
    ) -> Result<Vec<Match>, Error> {
        let mut all = Vec::new();
        for (signal_type, value) in signals.iter() {
            all.extend(self.lookup(signal_type, value, options)?);
        }
        Ok(all)
    }

    /// The distance between two signals of one type (PDQ: Hamming distance;
    /// text: the percent of `a` not found in `b`; exact types: 0 when equal,
    /// else `None`).
    pub fn compare(signal_type: &str, a: &str, b: &str) -> Result<Option<u32>, Error> {
        match signal_type {
            "pdq" => {
                let parse = |v: &str| {
                    v.parse::<PdqHash>()
                        .map_err(|e| Error::Invalid(format!("invalid pdq signal: {e}")))
                };
                Ok(Some(parse(a)?.distance(&parse(b)?)))
            }
            // The share of `a` not found in `b`, in whole percent.
            "text" => {
                let parse = |v: &str| {
                    v.parse::<vigil_signal::TextSketch>()
                        .map_err(|e| Error::Invalid(format!("invalid text signal: {e}")))
                };
                Ok(parse(a)?
                    .containment_in(&parse(b)?)
                    .map(|found| ((1.0 - found.containment) * 100.0).round() as u32))
            }
            exact if EXACT_TYPES.contains(&exact) => {
                Ok((normalise_exact(exact, a)? == normalise_exact(exact, b)?).then_some(0))
            }
            other => Err(Error::Invalid(format!("no such signal type {other:?}"))),
        }
    }
}

/// The signals of hashed media: MD5 and SHA-256 always, PDQ when its quality
/// is at least [`PdqHash::MIN_TRUSTED_QUALITY`] (below that its bits are
/// noise, and HMA returns no PDQ either), and with it the variants banked
/// for the lookup defences (`pdq_variants`) when they were hashed.
pub fn signals_of(media: &MediaSignals) -> Result<Signals, Error> {
    let mut signals = Signals::default();
    if media.pdq.quality >= PdqHash::MIN_TRUSTED_QUALITY {
        signals.insert("pdq", &media.pdq.hash.to_string())?;
        if !media.bank_variants.is_empty() {
            let variants = vigil_media::VariantHash::format_list(&media.bank_variants);
            signals.insert("pdq_variants", &variants)?;
        }
    }
    signals.insert("md5", &media.exact.md5.to_string())?;
    signals.insert("sha256", &media.exact.sha256.to_string())?;
    Ok(signals)
}

/// The signals of a text file, web page or PDF document: `md5`, `sha256`
/// and, when it has words, `text` with its whole sketch (lookups use all of
/// it; banks index the first [`BANK_SAMPLE`](vigil_signal::text::BANK_SAMPLE)
/// values). A PDF's images are separate items: see [`image_signals`].
pub fn document_signals(document: &vigil_media::DocumentSignals) -> Result<Signals, Error> {
    let mut signals = Signals::default();
    if let Some(sketch) = &document.text {
        signals.insert("text", &sketch.to_string())?;
    }
    signals.insert("md5", &document.exact.md5.to_string())?;
    signals.insert("sha256", &document.exact.sha256.to_string())?;
    Ok(signals)
}

/// `signals` as banked and shown: a `text` sketch cut to
/// [`BANK_SAMPLE`](vigil_signal::text::BANK_SAMPLE) values (lookups use the
/// whole sketch; banks index only the sample).
pub fn compact_signals(signals: &Signals) -> Signals {
    let mut compact = signals.clone();
    if let Some(sketch) = signals
        .get("text")
        .and_then(|v| v.parse::<vigil_signal::TextSketch>().ok())
    {
        let cut = sketch
            .truncated(vigil_signal::text::BANK_SAMPLE)
            .to_string();
        // A valid sketch cut short is still valid.
        let _ = compact.insert("text", &cut);
    }
    compact
}

/// The signals of an image embedded in a PDF, as for a photo: its PDQ when
/// trusted, and the digests of its stored bytes.
pub fn image_signals(image: &vigil_media::PdfImage) -> Result<Signals, Error> {
    let mut signals = Signals::default();
    if image.pdq.quality >= PdqHash::MIN_TRUSTED_QUALITY {
        signals.insert("pdq", &image.pdq.hash.to_string())?;
    }
    signals.insert("md5", &image.exact.md5.to_string())?;
    signals.insert("sha256", &image.exact.sha256.to_string())?;
    Ok(signals)
}

/// The signals stored for a video: `vpdq` (when any frame was hashed),
/// `video_md5` (HMA's exact video signal, the MD5 of the file), `md5` and
/// `sha256`.
pub fn video_signals(
    video: &vigil_media::VideoHash,
    digests: &vigil_signal::ExactDigests,
) -> Result<Signals, Error> {
    let mut signals = Signals::default();
    if !video.frames.is_empty() {
        signals.insert("vpdq", &vigil_signal::vpdq::to_hma_signal(&video.frames))?;
    }
    signals.insert("video_md5", &digests.md5.to_string())?;
    signals.insert("md5", &digests.md5.to_string())?;
    signals.insert("sha256", &digests.sha256.to_string())?;
    Ok(signals)
}

fn normalise_exact(signal_type: &str, value: &str) -> Result<String, Error> {
    let invalid =
        |e: vigil_signal::Error| Error::Invalid(format!("invalid {signal_type} signal: {e}"));
    match signal_type {
        "sha256" => value
            .trim()
            .parse::<Sha256>()
            .map(|v| v.to_string())
            .map_err(invalid),
        _ => value
            .trim()
            .parse::<Md5>()
            .map(|v| v.to_string())
            .map_err(invalid),
    }
}
