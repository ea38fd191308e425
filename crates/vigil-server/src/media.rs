//! Media sent to the server, by upload (multipart, as HMA takes it) or by
//! URL (fetched under the server's URL policy), and its hashing: photos in
//! memory, videos through a private temporary file that FFmpeg reads (one
//! frame hash per second, the reference binding's default, within
//! `vigil_engine::UNTRUSTED_VIDEO_LIMITS`).

use axum::extract::Multipart;
use vigil_media::{HashOptions, Item, MediaKind};
use vigil_store::{SignalType, Signals};

use crate::hma::answers::Hashes;
use crate::{ApiError, AppState};

/// Content types HMA's routes take, all hashed, in the order
/// `/c/content_type` lists them.
pub(crate) const CONTENT_TYPES: [MediaKind; 4] = [
    MediaKind::Photo,
    MediaKind::Video,
    MediaKind::Text,
    MediaKind::Pdf,
];

/// Media to hash: its bytes and the content type its sender named.
pub(crate) struct Media {
    pub(crate) bytes: Vec<u8>,
    pub(crate) content_type: MediaKind,
}

/// The parts of an upload form: the one file (its field name is its content
/// type, as HMA requires) and any text fields.
pub(crate) struct Upload {
    pub(crate) media: Media,
    pub(crate) fields: Vec<(String, String)>,
}

/// Reads a multipart upload with exactly one file.
pub(crate) async fn read_upload(mut multipart: Multipart) -> Result<Upload, ApiError> {
    let mut file: Option<Media> = None;
    let mut fields = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(ApiError::new(e.status(), e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = field.file_name().is_some() || CONTENT_TYPES.iter().any(|t| t.name() == name);
        let data = field
            .bytes()
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if !is_file {
            fields.push((name, String::from_utf8_lossy(&data).into_owned()));
            continue;
        }
        let content_type = check_content_type(&name)?;
        if file.is_some() {
            return Err(ApiError::bad_request("Only one file allowed per request"));
        }
        file = Some(Media {
            bytes: data.to_vec(),
            content_type,
        });
    }
    let media =
        file.ok_or_else(|| ApiError::bad_request("Missing multipart/form-data file upload"))?;
    Ok(Upload { media, fields })
}

/// The content type named `name`, or HMA's 400.
fn check_content_type(name: &str) -> Result<MediaKind, ApiError> {
    CONTENT_TYPES
        .into_iter()
        .find(|t| t.name() == name)
        .ok_or_else(|| ApiError::bad_request(format!("no such content_type: '{name}'")))
}

/// Fetches `url`; its content type is the `content_type` parameter if
/// given, else the answer's `Content-Type` (`image/*` photo, `video/*`
/// video, as HMA decides; also `application/pdf` pdf and `text/*` text).
pub(crate) async fn fetch(
    state: &AppState,
    url: &str,
    content_type: Option<&str>,
) -> Result<Media, ApiError> {
    let given = content_type.map(check_content_type).transpose()?;
    let fetched = state.settings.fetcher.get(url).await?;
    let content_type = if let Some(content_type) = given {
        content_type
    } else {
        let header = fetched.content_type.as_deref().unwrap_or_default();
        if header.starts_with("image") {
            MediaKind::Photo
        } else if header.starts_with("video") {
            MediaKind::Video
        } else if header.starts_with("application/pdf") {
            MediaKind::Pdf
        } else if header.starts_with("text/") {
            MediaKind::Text
        } else {
            return Err(ApiError::bad_request(format!(
                "unsupported url ContentType: {header:?}; pass content_type=photo, video, text or pdf"
            )));
        }
    };
    Ok(Media {
        bytes: fetched.bytes,
        content_type,
    })
}

/// Hashes media off the async threads: the signals to store (a photo's PDQ
/// only when its quality reaches 50; a video's vPDQ, `video_md5`, `md5` and
/// `sha256`).
pub(crate) async fn hash(media: Media) -> Result<Signals, ApiError> {
    Ok(hash_with(media, HashOptions::default()).await?.signals)
}

/// What [`hash_with`] computed.
pub(crate) struct Hashed {
    /// The signals to store or look up (with `pdq_variants` when
    /// `options.bank_variants` asked for them and the media is a photo).
    pub(crate) signals: Signals,
    /// A photo's variants for the lookup defences `options` asked for.
    pub(crate) query_variants: Vec<vigil_media::VariantHash>,
}

impl Hashed {
    /// Keeps only the signal types a `types=` parameter selected (all when
    /// `None`), as HMA hashes only those; a photo's banked and query
    /// variants stay only with `pdq`.
    pub(crate) fn select(&mut self, types: Option<&[SignalType]>) {
        let Some(types) = types else {
            return;
        };
        let keeps = |signal_type: SignalType| {
            let of = if signal_type == SignalType::PdqVariants {
                SignalType::Pdq
            } else {
                signal_type
            };
            types.contains(&of)
        };
        let mut kept = Signals::default();
        for (signal_type, value) in self.signals.iter().filter(|(t, _)| keeps(*t)) {
            // Re-inserting a value the store already normalised cannot fail.
            let _ = kept.insert(signal_type, value);
        }
        self.signals = kept;
        if !keeps(SignalType::Pdq) {
            self.query_variants.clear();
        }
    }
}

/// As [`hash`], with the photo options given: lookup defences or the
/// variants a bank keeps. The media is hashed as the content type its
/// sender named, under the limits for strangers' media.
pub(crate) async fn hash_with(media: Media, options: HashOptions) -> Result<Hashed, ApiError> {
    let kind = media.content_type;
    tokio::task::spawn_blocking(move || {
        let options = options.untrusted();
        let hashed = vigil_media::hash_item(Item::Bytes(&media.bytes), Some(kind), &options)
            .map_err(|error| hash_error(kind, error))?;
        Ok(Hashed {
            signals: Signals::from_values(hashed.signals())?,
            query_variants: vigil_media::query_variants_of(&hashed).to_vec(),
        })
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// Why media of `kind` has no signals, as HMA's clients are told: a bad
/// item is the sender's 400, a missing FFmpeg or an unwritable temporary
/// file the server's 500.
fn hash_error(kind: MediaKind, error: vigil_media::Error) -> ApiError {
    use vigil_media::Error as E;
    match error {
        error @ E::UnexpectedKind { .. } => ApiError::bad_request(error.to_string()),
        error @ E::VideoTool { .. } => vigil_engine::Error::Media(error).into(),
        E::Io(error) => {
            tracing::error!(%error, "cannot write media to a temporary file");
            ApiError::internal()
        }
        error => {
            let what = if kind == MediaKind::Photo {
                "media"
            } else {
                kind.name()
            };
            ApiError::bad_request(format!("cannot hash the {what}: {error}"))
        }
    }
}

/// The signal types a `types=pdq,md5` parameter selects (`None`: every
/// type that applies).
pub(crate) fn selected_types(types: Option<&str>) -> Result<Option<Vec<SignalType>>, ApiError> {
    let Some(types) = types else {
        return Ok(None);
    };
    let mut selected = Vec::new();
    for name in types.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let known = name
            .parse::<SignalType>()
            .ok()
            .filter(|t| t.on_hma_routes())
            .ok_or_else(|| {
                ApiError::bad_request(format!("signal type '{name}' doesn't exist or is disabled"))
            })?;
        selected.push(known);
    }
    if selected.is_empty() {
        return Err(ApiError::bad_request("empty signal type selection"));
    }
    Ok(Some(selected))
}

/// HMA's hash answer: `{"pdq": "<hex>", …}` for the selected types (all
/// that apply by default); a photo's PDQ too low in quality to use is `""`,
/// as HMA writes it.
pub(crate) fn hashes(
    signals: &Signals,
    content_type: MediaKind,
    types: Option<&[SignalType]>,
) -> Hashes {
    use SignalType::{Md5, Pdq, Sha256, Text, VideoMd5, Vpdq};
    // In HMA's order for each kind.
    let applicable: &[SignalType] = match content_type {
        MediaKind::Video => &[Vpdq, VideoMd5, Md5, Sha256],
        MediaKind::Text | MediaKind::Pdf => &[Text, Md5, Sha256],
        MediaKind::Photo => &[Pdq, Md5, Sha256],
    };
    let signals = &signals.compacted();
    let mut hashes = Hashes::default();
    for signal_type in types.unwrap_or(applicable) {
        match signals.get(*signal_type) {
            Some(value) => hashes.0.insert(signal_type.to_string(), value.to_owned()),
            None if *signal_type == Pdq && content_type == MediaKind::Photo => {
                hashes.0.insert("pdq".to_owned(), String::new())
            }
            None => None,
        };
    }
    hashes
}
