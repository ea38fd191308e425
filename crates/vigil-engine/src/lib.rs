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
mod text;
pub mod transfer;
mod video;

use std::sync::{Arc, PoisonError};

use serde::Serialize;
use vigil_index::Code256;
use vigil_media::{HashOptions, Item, MediaKind};
use vigil_signal::{Closeness, PdqHash, SignalType, SignalValue};
use vigil_store::{Bank, BankName, Content, ContentUpdate, NewContent, Signals, Store};

pub use access::secret_digest;
pub use defences::DefendedMatch;
pub use error::{Error, Missing};
use indexes::Indexes;

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

/// One match of a lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The matching content.
    pub content_id: i64,
    /// Its bank.
    pub bank: BankName,
    /// The signal type that matched.
    pub signal_type: SignalType,
    /// How close the content is, in its type's measure.
    pub closeness: Closeness,
}

impl Match {
    /// The closeness as one number, smaller is closer (see
    /// [`Closeness::distance`]).
    pub fn distance(&self) -> u32 {
        self.closeness.distance()
    }

    /// For vPDQ: how much of each video is in the other.
    pub fn frames(&self) -> Option<vigil_signal::VpdqMatch> {
        match self.closeness {
            Closeness::Frames(found) => Some(found),
            _ => None,
        }
    }
}

/// A match in JSON: `distance` always, and the shares behind it under
/// `vpdq` (`query_pct`, `compared_pct`) or `text` (`containment`,
/// `similarity`).
impl Serialize for Match {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        #[derive(Serialize)]
        struct Shares {
            containment: f64,
            similarity: f64,
        }
        let mut fields = serializer.serialize_struct("Match", 5)?;
        fields.serialize_field("content_id", &self.content_id)?;
        fields.serialize_field("bank", &self.bank)?;
        fields.serialize_field("signal_type", &self.signal_type)?;
        fields.serialize_field("distance", &self.distance())?;
        match self.closeness {
            Closeness::Frames(found) => fields.serialize_field("vpdq", &found)?,
            Closeness::Text {
                containment,
                similarity,
            } => fields.serialize_field(
                "text",
                &Shares {
                    containment,
                    similarity,
                },
            )?,
            Closeness::Exact | Closeness::Bits(_) => {}
        }
        fields.end()
    }
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
    pub signal_type: SignalType,
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

impl Engine {
    /// Opens the engine over `store`, indexing every content in it.
    pub fn open(store: Arc<dyn Store>) -> Result<Self, Error> {
        let indexes = Indexes::load(&*store)?;
        Ok(Self { store, indexes })
    }

    /// The monitor's records (sources, sightings, alerts) in the engine's
    /// store. The engine neither reads nor writes them: this is how the
    /// monitor's readers (`vigil_monitor::list_sightings`, the takedown
    /// report) reach them where only the engine is at hand, as in the
    /// server. Banks and contents stay behind the engine's methods.
    pub fn monitor_records(&self) -> &dyn vigil_store::MonitorStore {
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
    pub fn index_sizes(&self) -> Vec<(SignalType, usize)> {
        let mut sizes = vec![(SignalType::Pdq, self.indexes.pdq.len())];
        sizes.extend(self.indexes.exact_sizes());
        sizes.push((SignalType::PdqVariants, self.indexes.pdq_variants.len()));
        sizes.push((
            SignalType::Vpdq,
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
        let hashed = vigil_media::hash_item(Item::Bytes(bytes), Some(MediaKind::Photo), options)?;
        details.signals = Signals::from_values(hashed.signals())?;
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

    /// Every content matching `query`, filtered as HMA does (see the crate
    /// docs), nearest first. `pdq_variants` is only banked, never looked
    /// up: a query's regions are PDQ hashes ([`Engine::lookup_defended`]).
    pub fn lookup(
        &self,
        query: &SignalValue,
        options: &LookupOptions,
    ) -> Result<Vec<Match>, Error> {
        let exact = |digest: String| {
            self.indexes
                .exact_search(query.signal_type(), &digest)
                .into_iter()
                .map(|id| (id, Closeness::Exact))
                .collect()
        };
        let hits: Vec<(i64, Closeness)> = match query {
            SignalValue::Vpdq(frames) => return Ok(self.lookup_video(frames, options)),
            SignalValue::Text(sketch) => return self.lookup_text(sketch, options),
            SignalValue::Pdq(hash) => {
                let radius = options
                    .max_distance
                    .unwrap_or(PdqHash::DEFAULT_MATCH_DISTANCE);
                self.indexes
                    .pdq
                    .search(&Code256::from(*hash), radius)
                    .into_iter()
                    .map(|hit| (hit.id as i64, Closeness::Bits(hit.distance)))
                    .collect()
            }
            SignalValue::Md5(digest) | SignalValue::VideoMd5(digest) => exact(digest.to_string()),
            SignalValue::Sha256(digest) => exact(digest.to_string()),
            SignalValue::PdqVariants(_) => {
                return Err(Error::Invalid(
                    "pdq_variants signals are banked, not looked up".to_owned(),
                ));
            }
        };
        Ok(self.filter_hits(query.signal_type(), hits, options))
    }

    /// Keeps the hits HMA's rules allow (enabled content, banks passing the
    /// coinflip, the bank filter) as matches.
    fn filter_hits(
        &self,
        signal_type: SignalType,
        hits: Vec<(i64, Closeness)>,
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
        let time = vigil_store::unix_now();
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
        for (content_id, closeness) in hits {
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
                signal_type,
                closeness,
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
                let (frames, text) = match found.closeness {
                    Closeness::Frames(frames) => (Some(frames), None),
                    Closeness::Text {
                        containment,
                        similarity,
                    } => (None, Some((containment, similarity))),
                    Closeness::Exact | Closeness::Bits(_) => (None, None),
                };
                Ok(LabelledMatch {
                    distance: found.distance(),
                    content_id: found.content_id,
                    bank: found.bank,
                    signal_type: found.signal_type,
                    labels,
                    query_pct: frames.map(|v| v.query_pct),
                    compared_pct: frames.map(|v| v.compared_pct),
                    containment: text.map(|(c, _)| c),
                    similarity: text.map(|(_, s)| s),
                })
            })
            .collect()
    }

    /// Looks up every signal of `signals` that can be looked up (all but
    /// `pdq_variants`) and returns all matches, by signal type then
    /// distance.
    pub fn lookup_all(
        &self,
        signals: &Signals,
        options: &LookupOptions,
    ) -> Result<Vec<Match>, Error> {
        let mut all = Vec::new();
        for (signal_type, value) in signals.iter().filter(|(t, _)| t.is_queryable()) {
            all.extend(self.lookup(&SignalValue::parse(signal_type, value)?, options)?);
        }
        Ok(all)
    }

    /// How close two signals of one type are (PDQ: the differing bits;
    /// text: how much of `a` is found in `b`, `None` when too little of it
    /// was sampled to say; vPDQ: how much of each video is in the other;
    /// exact types: [`Closeness::Exact`] when equal, else `None`). Whether
    /// that is a match is the type's [`MatchRule`](vigil_signal::MatchRule)'s call.
    pub fn compare(a: &SignalValue, b: &SignalValue) -> Result<Option<Closeness>, Error> {
        let closeness = match (a, b) {
            (SignalValue::Pdq(a), SignalValue::Pdq(b)) => Some(Closeness::Bits(a.distance(b))),
            (SignalValue::Text(a), SignalValue::Text(b)) => {
                a.containment_in(b).map(|found| Closeness::Text {
                    containment: found.containment,
                    similarity: found.similarity,
                })
            }
            (SignalValue::Vpdq(a), SignalValue::Vpdq(b)) => {
                Some(Closeness::Frames(vigil_signal::vpdq::match_frames(
                    a,
                    b,
                    vigil_signal::vpdq::DEFAULT_FRAME_DISTANCE,
                    vigil_signal::vpdq::DEFAULT_QUALITY_THRESHOLD,
                )))
            }
            (SignalValue::Md5(a), SignalValue::Md5(b))
            | (SignalValue::VideoMd5(a), SignalValue::VideoMd5(b)) => {
                (a == b).then_some(Closeness::Exact)
            }
            (SignalValue::Sha256(a), SignalValue::Sha256(b)) => {
                (a == b).then_some(Closeness::Exact)
            }
            (SignalValue::PdqVariants(_), SignalValue::PdqVariants(_)) => {
                return Err(Error::Invalid(
                    "pdq_variants signals are banked, not compared".to_owned(),
                ));
            }
            _ => {
                return Err(Error::Invalid(format!(
                    "cannot compare a {} signal with a {} signal",
                    a.signal_type(),
                    b.signal_type()
                )));
            }
        };
        Ok(closeness)
    }
}

impl From<vigil_signal::Error> for Error {
    fn from(error: vigil_signal::Error) -> Self {
        Error::Invalid(error.to_string())
    }
}
