//! HMA's JSON answers, one type per shape. HMA clients read them as HMA
//! 1.1.7 writes them, so field names and order, `null` versus absent and
//! strings versus numbers are HMA's, not Vigil's choice. Each type is also
//! its schema in `/openapi.json`. Objects keyed by data (signal types,
//! banks) keep the order HMA gives them: banks by name, signal types as
//! asked or hashed.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ArrayItems, ObjectBuilder, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// `{"message": …}`: every error answer, and HMA's plain acknowledgements
/// (`Done`, `Created successfully`, `Exchange deleted`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Message {
    /// What happened, in words.
    pub(crate) message: String,
}

impl Message {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// A bank.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Bank {
    /// `UPPER_WITH_UNDERSCORE`.
    pub(crate) name: String,
    /// Share of lookups it takes part in, 0–1.
    pub(crate) matching_enabled_ratio: f64,
}

impl From<&vigil_store::Bank> for Bank {
    fn from(bank: &vigil_store::Bank) -> Self {
        Self {
            name: bank.name.to_string(),
            matching_enabled_ratio: bank.enabled_ratio,
        }
    }
}

/// A signal type served.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SignalTypeConfig {
    /// HMA's name of the type.
    pub(crate) name: &'static str,
    /// Always 1: every type is on.
    pub(crate) enabled_ratio: f64,
}

/// A content type accepted.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContentTypeConfig {
    /// `photo`, `video`, `text` or `pdf`.
    pub(crate) name: &'static str,
    /// Always true.
    pub(crate) enabled: bool,
}

/// A signal type's store and index sizes (`/c/signal_type/index`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SignalTypeIndex {
    /// Signals stored.
    pub(crate) db_size: usize,
    /// Signals indexed: the same, the index follows the store.
    pub(crate) index_size: usize,
    /// Always false.
    pub(crate) index_out_of_date: bool,
    /// Unix time: now.
    pub(crate) newest_db_item: i64,
    /// Unix time: now.
    pub(crate) index_built_to: i64,
}

/// Each signal type's store and index sizes.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = BTreeMap<String, SignalTypeIndex>)]
pub(crate) struct SignalTypeIndexes(pub(crate) IndexMap<String, SignalTypeIndex>);

/// A signal type's index (`/m/index/status`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IndexStatus {
    /// Always true.
    pub(crate) present: bool,
    /// Unix time: now (indexes are always current).
    pub(crate) built_to: i64,
    /// Signals indexed.
    pub(crate) size: usize,
}

/// Each signal type's index.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = BTreeMap<String, IndexStatus>)]
pub(crate) struct IndexStatuses(pub(crate) IndexMap<String, IndexStatus>);

/// Signals by type, in the order asked for or hashed; a photo's PDQ too
/// low in quality to use is `""`.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = BTreeMap<String, String>)]
pub(crate) struct Hashes(pub(crate) IndexMap<String, String>);

/// A content just banked: its id and the signals stored.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AddedContent {
    /// Content id.
    pub(crate) id: i64,
    /// Signal type → signal.
    pub(crate) signals: BTreeMap<String, String>,
}

/// A content, with the bank it is in; optional keys are left out when
/// empty.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BankContent {
    /// Content id.
    pub(crate) id: i64,
    /// 0 disabled, 1 enabled, or a Unix time until which it is disabled.
    pub(crate) disable_until_ts: i64,
    /// Always `null`: Vigil keeps no media.
    #[schema(required)]
    pub(crate) original_media_uri: Option<String>,
    /// Its bank.
    pub(crate) bank: Bank,
    /// Signal type → signal, with `include_signals=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) signals: Option<BTreeMap<String, String>>,
    /// Its metadata, unless `include_metadata` is not `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metadata: Option<ContentMetadata>,
    /// Its note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
}

/// HMA's metadata of a content: every field, `null` when unset.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContentMetadata {
    /// The platform's own id for it.
    #[schema(required)]
    pub(crate) content_id: Option<String>,
    /// Where it was seen.
    #[schema(required)]
    pub(crate) content_uri: Option<String>,
    /// Any JSON object.
    #[schema(value_type = Option<Object>, required)]
    pub(crate) json: Option<Map<String, Value>>,
    /// The exchange it came from: `{"EXCH": ["<fetch id>"]}`.
    #[schema(required)]
    pub(crate) collab: Option<BTreeMap<String, Vec<String>>>,
}

/// A content's user metadata: only the fields set.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Metadata {
    /// The platform's own id for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content_id: Option<String>,
    /// Where it was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content_uri: Option<String>,
    /// Any JSON object.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub(crate) json: Option<Map<String, Value>>,
}

impl From<&vigil_store::Metadata> for Metadata {
    fn from(metadata: &vigil_store::Metadata) -> Self {
        Self {
            content_id: metadata.content_id.clone(),
            content_uri: metadata.content_uri.clone(),
            json: metadata.json.clone(),
        }
    }
}

/// A content as changed by `PUT /c/bank/{name}/content/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UpdatedContent {
    /// Content id.
    pub(crate) id: i64,
    /// 0 disabled, 1 enabled, or a Unix time until which it is disabled.
    pub(crate) disable_until_ts: i64,
    /// The exchange it came from, `{}` for none.
    pub(crate) collab_metadata: BTreeMap<String, Vec<String>>,
    /// Always `null`.
    #[schema(required)]
    pub(crate) original_media_uri: Option<String>,
    /// Its bank.
    pub(crate) bank: Bank,
    /// Its metadata, `null` when it has none.
    #[schema(required)]
    pub(crate) user_metadata: Option<Metadata>,
    /// Its note, `null` when it has none.
    #[schema(required)]
    pub(crate) note: Option<String>,
}

/// How many contents a delete removed: 1 or 0.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Deleted {
    /// 1 or 0.
    pub(crate) deleted: u8,
}

/// One match: the content and HMA's distance, always a string (the
/// Hamming distance for PDQ, `-` for exact types,
/// `"<query>%,<compared>%"` for vPDQ).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContentMatch {
    /// Content id.
    pub(crate) bank_content_id: i64,
    /// HMA's distance text.
    pub(crate) distance: String,
    /// Found through the lookup defences: the query's variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) variant: Option<String>,
    /// Found through the lookup defences: the bank's variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) banked_variant: Option<String>,
}

/// Matches by bank, banks in name order: `{"BANK": [match, …]}`.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(transparent)]
pub(crate) struct ByBank(pub(crate) BTreeMap<String, Vec<ContentMatch>>);

/// Matches by signal type, then bank: `{"pdq": {"BANK": […]}, "md5": {}}`.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = BTreeMap<String, ByBank>)]
pub(crate) struct BySignalType(pub(crate) IndexMap<String, ByBank>);

/// `GET /m/lookup`: by bank for a signal, or for a URL with
/// `signal_type`; by signal type then bank for a URL.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Lookup {
    ByBank(ByBank),
    BySignalType(BySignalType),
}

impl PartialSchema for Lookup {
    fn schema() -> RefOr<Schema> {
        // anyOf, not oneOf: `{}` is both shapes.
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(ByBank::name()))
            .item(Ref::from_schema_name(BySignalType::name()))
            .description(Some(
                "ByBank for a signal (or a URL with signal_type); BySignalType for a URL",
            ))
            .into()
    }
}

impl ToSchema for Lookup {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ByBank::name().into(), ByBank::schema()));
        <ByBank as ToSchema>::schemas(schemas);
        schemas.push((BySignalType::name().into(), BySignalType::schema()));
        <BySignalType as ToSchema>::schemas(schemas);
    }
}

/// `/m/raw_lookup`: content ids, or matches with `include_distance`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RawLookup {
    /// Every match, as an id or, with `include_distance`, an object.
    pub(crate) matches: Vec<RawMatch>,
}

/// One match of `/m/raw_lookup`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum RawMatch {
    /// Its content id.
    Id(i64),
    /// With `include_distance`.
    WithDistance(ContentMatch),
}

/// A compared pair: whether it matches, and its distance (`null` for
/// exact types that differ): `[true, {"distance": 6}]`.
#[derive(Debug)]
pub(crate) struct Comparison {
    pub(crate) matched: bool,
    pub(crate) distance: Option<u32>,
}

impl Serialize for Comparison {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Distance {
            distance: Option<u32>,
        }
        (
            self.matched,
            Distance {
                distance: self.distance,
            },
        )
            .serialize(serializer)
    }
}

impl PartialSchema for Comparison {
    fn schema() -> RefOr<Schema> {
        let distance = ObjectBuilder::new()
            .property(
                "distance",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Integer, Type::Null])),
            )
            .required("distance");
        ArrayBuilder::new()
            .prefix_items([
                Schema::from(ObjectBuilder::new().schema_type(Type::Boolean)),
                Schema::from(distance),
            ])
            .items(ArrayItems::False)
            .min_items(Some(2))
            .max_items(Some(2))
            .description(Some("[matched, {\"distance\": d}]"))
            .into()
    }
}

impl ToSchema for Comparison {}

/// Each compared pair by signal type, in the body's order.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = BTreeMap<String, Comparison>)]
pub(crate) struct Comparisons(pub(crate) IndexMap<String, Comparison>);

/// HMA's credential flags of an exchange type (sic).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiCredentials {
    /// Always false: neither built-in type takes credentials.
    pub(crate) supports_authentification: bool,
    /// Always false.
    pub(crate) has_set_authentification: bool,
}

impl ApiCredentials {
    /// What both built-in types answer.
    pub(crate) const NONE: Self = Self {
        supports_authentification: false,
        has_set_authentification: false,
    };
}

/// The configuration fields of an exchange type.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiSchema {
    /// Its `api_json` fields.
    pub(crate) config_schema: ConfigSchema,
    /// Always `null`: no type takes credentials.
    #[schema(required)]
    pub(crate) credentials_schema: Option<ConfigSchema>,
}

/// Fields of an exchange type's settings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConfigSchema {
    /// One per setting.
    pub(crate) fields: Vec<ConfigField>,
}

/// One setting of an exchange type.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConfigField {
    /// Field name in `api_json`.
    pub(crate) name: &'static str,
    /// `string`, `enum`, …
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// Whether it must be given.
    pub(crate) required: bool,
    /// Its default.
    pub(crate) default: Value,
    /// What it means.
    pub(crate) help: &'static str,
    /// Allowed values of an `enum`.
    #[schema(required)]
    pub(crate) choices: Option<Vec<&'static str>>,
}

impl From<vigil_engine::exchange::ConfigField> for ConfigField {
    fn from(field: vigil_engine::exchange::ConfigField) -> Self {
        Self {
            name: field.name,
            kind: field.kind,
            required: field.required,
            default: field.default,
            help: field.help,
            choices: field.choices,
        }
    }
}

/// An exchange: name, type, whether it is fetched, then its type's
/// settings.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Exchange {
    /// Its name, which is its bank's.
    pub(crate) name: String,
    /// Its type.
    pub(crate) api: String,
    /// Whether it is fetched.
    pub(crate) enabled: bool,
    /// The type's settings (`api_json`), as keys of the exchange.
    #[serde(flatten)]
    #[schema(value_type = BTreeMap<String, Value>)]
    pub(crate) config: Map<String, Value>,
}

impl From<&vigil_store::Exchange> for Exchange {
    fn from(exchange: &vigil_store::Exchange) -> Self {
        Self {
            name: exchange.name.to_string(),
            api: exchange.api.clone(),
            enabled: exchange.enabled,
            config: exchange.config.as_object().cloned().unwrap_or_default(),
        }
    }
}

/// Fetch progress of an exchange.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExchangeStatus {
    /// Progress timestamp of the checkpoint, `null` for types whose
    /// checkpoints carry no time.
    #[schema(required)]
    pub(crate) checkpoint_ts: Option<i64>,
    /// Unix time the running fetch started.
    #[schema(required)]
    pub(crate) running_fetch_start_ts: Option<i64>,
    /// Unix time the last fetch finished.
    #[schema(required)]
    pub(crate) last_fetch_complete_ts: Option<i64>,
    /// Whether the last fetch succeeded.
    #[schema(required)]
    pub(crate) last_fetch_succeeded: Option<bool>,
    /// Whether the last fetch reached the end of the exchange.
    pub(crate) up_to_date: bool,
    /// Records in the last fetch.
    pub(crate) fetched_items: i64,
    /// Why the last fetch failed.
    #[schema(required)]
    pub(crate) last_error: Option<String>,
}
