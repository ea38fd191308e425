//! `/m`: matching signals, media by URL and uploads against the banks.
//! Needs the matcher role (and the hasher role to hash media).

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_engine::{Engine, LookupOptions};
use vigil_media::{Defences, HashOptions};
use vigil_signal::SignalValue;
use vigil_store::{Role, Signals};

use super::answers::{
    ByBank, BySignalType, Comparison, Comparisons, IndexStatus, IndexStatuses, Lookup, Message,
    RawLookup, RawMatch,
};
use super::body::{JsonBytes, MaybeString, lax_bool, parse, put_field};
use super::{
    ApiResult, bank_list, by_bank, check_hma_form, check_signal_type, content_match, find,
    inner_message, unix_now,
};
use crate::auth::Caller;
use crate::{ApiError, AppState, media};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(raw_lookup))
        .routes(routes!(lookup, lookup_upload))
        .routes(routes!(compare))
        .routes(routes!(index_status))
}

/// Query of `GET /m/raw_lookup`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RawLookupQuery {
    /// `pdq`, `md5`, `sha256` or `video_md5`.
    signal_type: Option<String>,
    /// The signal (PDQ: 64 hex digits).
    signal: Option<String>,
    /// Comma list of banks to search (default: all).
    banks: Option<String>,
    /// `true`: return `{"bank_content_id", "distance"}` objects (a
    /// boolean as pydantic reads it: `true`/`false`, `1`/`0`, `yes`/`no`,
    /// `on`/`off`, `t`/`f`, `y`/`n`, any case; anything else is a 400).
    include_distance: Option<String>,
}

/// Every content whose signal matches, with no enabled or ratio checks.
#[utoipa::path(get, path = "/m/raw_lookup", tag = "matching", params(RawLookupQuery),
    responses(
        (status = 200, description = "Matching content ids", body = RawLookup,
         example = json!({"matches": [{"bank_content_id": 1, "distance": "0"}]})),
        (status = 400, description = "Unknown signal type or invalid signal", body = Message),
    ))]
async fn raw_lookup(
    State(state): State<AppState>,
    Query(query): Query<RawLookupQuery>,
) -> ApiResult<Json<RawLookup>> {
    let (Some(signal_type), Some(signal)) = (query.signal_type.as_deref(), query.signal.as_deref())
    else {
        return Err(ApiError::bad_request("signal_type and signal are required"));
    };
    let options = LookupOptions {
        include_disabled: true,
        bypass_enabled_ratio: true,
        banks: bank_list(query.banks.as_deref()),
        ..LookupOptions::default()
    };
    let matches = find(&state, check_signal_type(signal_type)?, signal, &options)?;
    for found in &matches {
        state
            .metrics
            .count_match(found.bank.as_str(), found.signal_type.as_str());
    }
    let include_distance = match query.include_distance.as_deref() {
        None => false,
        Some(text) => lax_bool(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "include_distance: Input should be a valid boolean, unable to interpret input {text:?}"
            ))
        })?,
    };
    let matches = matches
        .iter()
        .map(|m| {
            if include_distance {
                RawMatch::WithDistance(content_match(m))
            } else {
                RawMatch::Id(m.content_id)
            }
        })
        .collect();
    Ok(Json(RawLookup { matches }))
}

/// Query of `GET /m/lookup`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LookupQuery {
    /// The signal (with `signal_type`).
    signal: Option<String>,
    /// Its type; with `url`, selects which type's matches are returned.
    signal_type: Option<String>,
    /// Media to fetch, hash and look up (instead of `signal`).
    url: Option<String>,
    /// `photo` or `video` (default: from the answer's Content-Type).
    content_type: Option<String>,
    /// With `url`: comma list of signal types to hash and look up
    /// (default: all that apply).
    types: Option<String>,
    /// Comma list of banks to search (default: all).
    banks: Option<String>,
    /// Seed for the enabled-ratio coinflip, for reproducible answers: any
    /// string; the same seed keeps the same banks as on HMA.
    seed: Option<String>,
    /// `true`: every bank takes part whatever its enabled ratio.
    bypass_coinflip: Option<String>,
    /// Vigil's lookup defences for a photo fetched from `url`,
    /// comma-separated: `dihedral`, `trim`, `crops` or `all`. Matches found
    /// only through them are added under `pdq` with `variant` and
    /// `banked_variant`.
    defend: Option<String>,
}

fn lookup_options(banks: Option<&str>, seed: Option<&str>, bypass: Option<&str>) -> LookupOptions {
    LookupOptions {
        banks: bank_list(banks),
        // The raw string, spaces included: HMA seeds `random.Random` with it.
        seed: seed.map(str::to_owned),
        // HMA compares with "true" exactly.
        bypass_enabled_ratio: bypass == Some("true"),
        ..LookupOptions::default()
    }
}

/// Every signal of hashed media looked up: `{"pdq": {"BANK": […]}, …}`.
fn lookup_signals(
    state: &AppState,
    signals: &Signals,
    options: &LookupOptions,
) -> ApiResult<BySignalType> {
    let mut body = BySignalType::default();
    for (signal_type, value) in signals.iter().filter(|(t, _)| t.on_hma_routes()) {
        let matches = find(state, signal_type, value, options)?;
        body.0
            .insert(signal_type.to_string(), by_bank(state, &matches));
    }
    Ok(body)
}

/// Fails unless this server hashes and the caller may hash.
fn check_hashing(state: &AppState, caller: &Caller) -> ApiResult<()> {
    if !state.settings.serves(Role::Hasher) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Hashing is disabled, missing role",
        ));
    }
    caller.require(Role::Hasher)
}

/// Looks up a signal (`signal` + `signal_type`) or the media at `url`,
/// keeping enabled contents of the banks that pass the coinflip.
#[utoipa::path(get, path = "/m/lookup", tag = "matching", params(LookupQuery),
    responses(
        (status = 200, description = "Signal form: matches by bank; URL form: by signal type, then bank",
         body = Lookup, example = json!({"MY_BANK": [{"bank_content_id": 16, "distance": "0"}]})),
        (status = 400, description = "Neither url nor signal and signal_type; invalid signal; unsafe URL", body = Message),
        (status = 403, description = "URL form without the hasher role", body = Message),
    ))]
async fn lookup(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<LookupQuery>,
) -> ApiResult<Json<Lookup>> {
    let options = lookup_options(
        query.banks.as_deref(),
        query.seed.as_deref(),
        query.bypass_coinflip.as_deref(),
    );
    match (&query.signal, &query.signal_type, &query.url) {
        (Some(signal), Some(signal_type), _) => {
            let matches = find(&state, check_signal_type(signal_type)?, signal, &options)?;
            Ok(Json(Lookup::ByBank(by_bank(&state, &matches))))
        }
        (None, _, Some(url)) => {
            check_hashing(&state, &caller)?;
            if let Some(signal_type) = &query.signal_type {
                check_signal_type(signal_type)?;
            }
            let types = media::selected_types(query.types.as_deref())?;
            let defences = defences(query.defend.as_deref())?;
            let fetched = media::fetch(&state, url, query.content_type.as_deref()).await?;
            let mut hashed = media::hash_with(fetched, hash_options(defences)).await?;
            hashed.select(types.as_deref());
            let mut body = lookup_signals(&state, &hashed.signals, &options)?;
            add_defended(&state, &mut body, &hashed.query_variants, &options)?;
            Ok(Json(match &query.signal_type {
                Some(signal_type) => {
                    Lookup::ByBank(body.0.shift_remove(signal_type).unwrap_or_default())
                }
                None => Lookup::BySignalType(body),
            }))
        }
        _ => Err(ApiError::bad_request(
            "Either url or both signal and signal_type are required",
        )),
    }
}

/// Query of `POST /m/lookup`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LookupUploadQuery {
    /// Comma list of signal types to hash and look up (default: all that
    /// apply).
    types: Option<String>,
    /// Comma list of banks to search (default: all).
    banks: Option<String>,
    /// Seed for the enabled-ratio coinflip.
    seed: Option<String>,
    /// `true`: every bank takes part whatever its enabled ratio.
    bypass_coinflip: Option<String>,
    /// Vigil's lookup defences for an uploaded photo (see `GET /m/lookup`).
    defend: Option<String>,
}

/// Hashes an upload (multipart, one file named by its content type) and
/// looks every signal up.
#[utoipa::path(post, path = "/m/lookup", tag = "matching", params(LookupUploadQuery),
    request_body(content_type = "multipart/form-data", description = "one file, field name `photo` or `video`"),
    responses(
        (status = 200, description = "Matches by signal type, then bank", body = BySignalType,
         example = json!({"pdq": {"MY_BANK": [{"bank_content_id": 16, "distance": "3"}]}, "md5": {}, "sha256": {}})),
        (status = 400, description = "No file, several files, undecodable media", body = Message),
        (status = 403, description = "Without the hasher role", body = Message),
    ))]
async fn lookup_upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<LookupUploadQuery>,
    multipart: Multipart,
) -> ApiResult<Json<BySignalType>> {
    check_hashing(&state, &caller)?;
    let options = lookup_options(
        query.banks.as_deref(),
        query.seed.as_deref(),
        query.bypass_coinflip.as_deref(),
    );
    // The upload is read before `defend` is checked: answering while the
    // client still sends would break its pipe instead of showing the error.
    let upload = media::read_upload(multipart).await?;
    let types = media::selected_types(query.types.as_deref())?;
    let defences = defences(query.defend.as_deref())?;
    let mut hashed = media::hash_with(upload.media, hash_options(defences)).await?;
    hashed.select(types.as_deref());
    let mut body = lookup_signals(&state, &hashed.signals, &options)?;
    add_defended(&state, &mut body, &hashed.query_variants, &options)?;
    Ok(Json(body))
}

/// The `defend` parameter.
fn defences(defend: Option<&str>) -> ApiResult<Defences> {
    defend.map_or(Ok(Defences::NONE), |list| {
        Defences::parse(list).map_err(|e| ApiError::bad_request(e.to_string()))
    })
}

fn hash_options(defences: Defences) -> HashOptions {
    HashOptions {
        defences,
        ..HashOptions::default()
    }
}

/// Adds to `body["pdq"]` the contents found only through the defences,
/// each naming the query's and the bank's variant.
fn add_defended(
    state: &AppState,
    body: &mut BySignalType,
    query_variants: &[vigil_media::VariantHash],
    options: &LookupOptions,
) -> ApiResult<()> {
    if query_variants.len() < 2 {
        return Ok(());
    }
    let defended = state.engine.lookup_defended(query_variants, options)?;
    let pdq: &mut ByBank = body.0.entry("pdq".to_owned()).or_default();
    for found in defended {
        let bank = found.found.bank.to_string();
        let list = pdq.0.entry(bank.clone()).or_default();
        if list
            .iter()
            .any(|m| m.bank_content_id == found.found.content_id)
        {
            continue;
        }
        state.metrics.count_match(&bank, "pdq");
        list.push(super::answers::ContentMatch {
            variant: Some(found.query_variant),
            banked_variant: Some(found.banked_variant),
            ..content_match(&found.found)
        });
    }
    Ok(())
}

/// Body of `POST /m/compare`: signal type → what was sent for it, in the
/// body's order (a repeated key keeps its first place and its last value,
/// as a Python dict does).
#[derive(Debug, Default)]
pub(crate) struct CompareBody {
    /// `None` when the body is not a JSON object.
    pairs: Option<Vec<(String, Hashes)>>,
}

/// What was sent for one signal type; only a list of two strings is kept.
#[derive(Debug, PartialEq)]
enum Hashes {
    /// Two strings.
    Pair(String, String),
    /// Two items, not both strings.
    NotStrings,
    /// A list of another length.
    WrongLength,
    /// Not a list.
    NotAList,
}

/// At most this many signal types in one compare body: more can only be
/// unknown types, and each costs memory before the first is answered.
const MAX_COMPARE_TYPES: usize = 64;

impl<'de> serde::Deserialize<'de> for CompareBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct Body;
        impl<'de> Visitor<'de> for Body {
            type Value = CompareBody;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of signal type to [signal, signal]")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CompareBody, A::Error> {
                let mut pairs: Vec<(String, Hashes)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let hashes = map.next_value::<Hashes>()?;
                    put_field::<_, A::Error>(&mut pairs, key, hashes, MAX_COMPARE_TYPES)?;
                }
                Ok(CompareBody { pairs: Some(pairs) })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CompareBody, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(CompareBody::default())
            }
            fn visit_unit<E>(self) -> Result<CompareBody, E> {
                Ok(CompareBody::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<CompareBody, E> {
                Ok(CompareBody::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<CompareBody, E> {
                Ok(CompareBody::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<CompareBody, E> {
                Ok(CompareBody::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<CompareBody, E> {
                Ok(CompareBody::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<CompareBody, E> {
                Ok(CompareBody::default())
            }
        }
        d.deserialize_any(Body)
    }
}

impl<'de> serde::Deserialize<'de> for Hashes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Hashes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of two signals")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Hashes, A::Error> {
                let first = seq.next_element::<MaybeString>()?;
                let second = first
                    .as_ref()
                    .map(|_| seq.next_element::<MaybeString>())
                    .transpose()?
                    .flatten();
                // A third item makes it the wrong length: skip the rest unkept.
                let mut extra = false;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    extra = true;
                }
                Ok(match (first, second, extra) {
                    (Some(MaybeString(Some(a))), Some(MaybeString(Some(b))), false) => {
                        Hashes::Pair(a, b)
                    }
                    (Some(_), Some(_), false) => Hashes::NotStrings,
                    _ => Hashes::WrongLength,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Hashes, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Hashes::NotAList)
            }
            fn visit_unit<E>(self) -> Result<Hashes, E> {
                Ok(Hashes::NotAList)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Hashes, E> {
                Ok(Hashes::NotAList)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Hashes, E> {
                Ok(Hashes::NotAList)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Hashes, E> {
                Ok(Hashes::NotAList)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Hashes, E> {
                Ok(Hashes::NotAList)
            }
            fn visit_str<E>(self, _: &str) -> Result<Hashes, E> {
                Ok(Hashes::NotAList)
            }
        }
        d.deserialize_any(List)
    }
}

/// Compares pairs of signals: `{"pdq": [a, b]}` →
/// `{"pdq": [matches, {"distance": d}]}`, with HMA's 400s in its order
/// (not an object; not a list; not two items; unknown type; invalid hash).
#[utoipa::path(post, path = "/m/compare", tag = "matching",
    request_body(content = Object, description = "signal type → [signal, signal]",
        example = json!({"pdq": ["f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"]})),
    responses(
        (status = 200, description = "Whether each pair matches, and its distance", body = Comparisons,
         example = json!({"pdq": [true, {"distance": 6}]})),
        (status = 400, description = "Not an object, not a pair, unknown type, invalid signal", body = Message),
    ))]
async fn compare(JsonBytes(bytes): JsonBytes) -> ApiResult<Json<Comparisons>> {
    let body: CompareBody = parse(&bytes, StatusCode::BAD_REQUEST)?;
    let Some(pairs) = body.pairs else {
        return Err(ApiError::bad_request("Request input was not a dict"));
    };
    let mut result = Comparisons::default();
    for (signal_type, hashes) in pairs {
        let (a, b) = match hashes {
            Hashes::NotAList => {
                return Err(ApiError::bad_request(format!(
                    "Comparison hashes for {signal_type} was not a list"
                )));
            }
            Hashes::WrongLength => {
                return Err(ApiError::bad_request(
                    "Comparison hash list length must be exactly 2",
                ));
            }
            Hashes::NotStrings => {
                check_signal_type(&signal_type)?;
                return Err(ApiError::bad_request(format!(
                    "Invalid {signal_type} hash: expected string"
                )));
            }
            Hashes::Pair(a, b) => (a, b),
        };
        let parsed_type = check_signal_type(&signal_type)?;
        let invalid = |e: String| ApiError::bad_request(format!("Invalid {signal_type} hash: {e}"));
        let mut values = Vec::with_capacity(2);
        for hash in [&a, &b] {
            check_hma_form(parsed_type, hash).map_err(|e| invalid(e.to_owned()))?;
            let value =
                SignalValue::parse(parsed_type, hash).map_err(|e| invalid(e.to_string()))?;
            values.push(value);
        }
        let closeness =
            Engine::compare(&values[0], &values[1]).map_err(|e| invalid(inner_message(e)))?;
        let rule = parsed_type.default_rule();
        let matched = closeness.is_some_and(|c| rule.accepts(&c));
        let distance = closeness.map(|c| c.distance());
        result
            .0
            .insert(signal_type, Comparison { matched, distance });
    }
    Ok(Json(result))
}

/// Query of the index status routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct IndexStatusQuery {
    /// Only this signal type.
    signal_type: Option<String>,
}

/// The state of each signal type's index. Vigil's indexes are always
/// current (no periodic rebuild), so `built_to` is now.
#[utoipa::path(get, path = "/m/index/status", tag = "matching", params(IndexStatusQuery),
    responses(
        (status = 200, description = "By signal type", body = IndexStatuses,
         example = json!({"pdq": {"present": true, "built_to": 1_764_328_000, "size": 18}})),
        (status = 400, description = "Unknown signal type", body = Message),
    ))]
async fn index_status(
    State(state): State<AppState>,
    Query(query): Query<IndexStatusQuery>,
) -> ApiResult<Json<IndexStatuses>> {
    let now = unix_now();
    let mut body = IndexStatuses::default();
    for (signal_type, size) in super::index_sizes(&state, query.signal_type.as_deref())? {
        let status = IndexStatus {
            present: true,
            built_to: now,
            size,
        };
        body.0.insert(signal_type.to_string(), status);
    }
    Ok(Json(body))
}
