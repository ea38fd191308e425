//! `/c/exchanges…`: exchanges (sources of shared signals, each filling the
//! bank of its name) and their fetch status, plus the background fetcher.
//! Needs the curator role.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_engine::exchange::{EXCHANGE_APIS, ExchangeSettings, config_fields};
use vigil_engine::{Engine, Missing};
use vigil_store::{BankName, Exchange};

use super::answers::{self, ApiCredentials, ApiSchema, ConfigSchema, Message};
use super::body::{HandParsed, LaxBool, MaybeString, Sent, Typed, put_field};
use super::{ApiResult, blocking};
use crate::auth::Caller;
use crate::{ApiError, AppState};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_apis))
        .routes(routes!(get_api, set_api_credentials))
        .routes(routes!(api_schema))
        .routes(routes!(list_exchanges, create_exchange))
        .routes(routes!(get_exchange, update_exchange, delete_exchange))
        .routes(routes!(exchange_status))
        .routes(routes!(fetch_now))
}

/// Fetches every enabled exchange every `every`, first right away. Runs
/// until the task is aborted.
pub(crate) async fn fetch_periodically(
    engine: Arc<Engine>,
    settings: ExchangeSettings,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let engine = Arc::clone(&engine);
        let settings = settings.clone();
        match tokio::task::spawn_blocking(move || engine.fetch_exchanges(&settings)).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!(%error, "fetching exchanges failed"),
            Err(error) => tracing::error!(%error, "the exchange fetch task failed"),
        }
    }
}

fn check_api(api: &str) -> ApiResult<()> {
    if EXCHANGE_APIS.contains(&api) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "no such Exchange API '{api}'"
        )))
    }
}

/// Exchange types this server can fetch.
#[utoipa::path(get, path = "/c/exchanges/apis", tag = "exchanges",
    responses((status = 200, description = "Type names", body = Vec<String>, example = json!(["sample", "local_file"]))))]
async fn list_apis() -> Json<&'static [&'static str]> {
    Json(&EXCHANGE_APIS)
}

/// Whether an exchange type takes credentials (neither built-in type does).
#[utoipa::path(get, path = "/c/exchanges/api/{api}", tag = "exchanges",
    params(("api" = String, Path, description = "exchange type")),
    responses((status = 200, description = "HMA's credential flags (sic)", body = ApiCredentials,
        example = json!({"supports_authentification": false, "has_set_authentification": false})),
        (status = 400, description = "no such Exchange API", body = Message)))]
async fn get_api(Path(api): Path<String>) -> ApiResult<Json<ApiCredentials>> {
    check_api(&api)?;
    Ok(Json(ApiCredentials::NONE))
}

/// Sets an exchange type's credentials: `{"credential_json": {…}}`. The
/// built-in types take none, so only `{}` or `null` credentials are
/// accepted.
#[utoipa::path(post, path = "/c/exchanges/api/{api}", tag = "exchanges",
    params(("api" = String, Path, description = "exchange type")),
    request_body(content = Object, description = "`{\"credential_json\": {…}}`"),
    responses((status = 200, description = "HMA's credential flags", body = ApiCredentials),
        (status = 400, description = "no such Exchange API; credentials for a type without any", body = Message)))]
async fn set_api_credentials(
    Path(api): Path<String>,
    HandParsed(body): HandParsed<CredentialsBody>,
) -> ApiResult<Json<ApiCredentials>> {
    check_api(&api)?;
    if !body.credential_json.is_none_or(|c| c.is_empty()) {
        return Err(ApiError::bad_request(format!(
            "exchange type '{api}' takes no credentials"
        )));
    }
    Ok(Json(ApiCredentials::NONE))
}

/// Body of `POST /c/exchanges/api/{api}`: `{"credential_json": {…}}`.
/// The built-in types take no credentials, so only `{}` or `null` (or no
/// key) is accepted; each field is skipped unread, only their presence
/// matters.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CredentialsBody {
    #[serde(default)]
    credential_json: Option<ApiJson>,
}

/// The configuration fields of an exchange type.
#[utoipa::path(get, path = "/c/exchanges/api/{api}/schema", tag = "exchanges",
    params(("api" = String, Path, description = "exchange type")),
    responses((status = 200, description = "Config and credential fields", body = ApiSchema,
        example = json!({"config_schema": {"fields": [{"name": "filename", "type": "string", "required": true, "default": null, "help": "…", "choices": null}]}, "credentials_schema": null})),
        (status = 404, description = "Unknown type", body = Message)))]
async fn api_schema(Path(api): Path<String>) -> ApiResult<Json<ApiSchema>> {
    let fields = config_fields(&api)
        .ok_or_else(|| ApiError::not_found(format!("no such Exchange API '{api}'")))?;
    Ok(Json(ApiSchema {
        config_schema: ConfigSchema {
            fields: fields.into_iter().map(Into::into).collect(),
        },
        credentials_schema: None,
    }))
}

/// Names of the exchanges.
#[utoipa::path(get, path = "/c/exchanges", tag = "exchanges",
    responses((status = 200, description = "Exchange names", body = Vec<String>, example = json!(["SEED_SAMPLE"]))))]
async fn list_exchanges(State(state): State<AppState>) -> ApiResult<Json<Vec<String>>> {
    let exchanges = blocking(&state, |engine| Ok(engine.exchanges()?)).await?;
    Ok(Json(exchanges.iter().map(|e| e.name.to_string()).collect()))
}

/// Creates an exchange and the bank of its name, then fetches it in the
/// background.
#[utoipa::path(post, path = "/c/exchanges", tag = "exchanges",
    request_body(content = Object, description = "`{\"bank\", \"api\", \"api_json\"}`",
        example = json!({"bank": "SEED_SAMPLE", "api": "sample", "api_json": {}})),
    responses((status = 201, description = "`{\"message\": \"Created successfully\"}`", body = Message),
        (status = 400, description = "Missing or malformed bank, api or api_json", body = Message),
        (status = 403, description = "A bank of that name already exists", body = Message)))]
async fn create_exchange(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    HandParsed(body): HandParsed<NewExchangeBody>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let bank = match body.bank {
        Some(MaybeString(Some(bank))) if !bank.is_empty() => bank,
        Some(MaybeString(None)) => {
            return Err(ApiError::bad_request(
                "Field `bank` must match /^[A-Z0-9_]+$/",
            ));
        }
        _ => return Err(ApiError::bad_request("bank is required")),
    };
    let name: BankName = bank
        .parse()
        .map_err(|_| ApiError::bad_request("Field `bank` must match /^[A-Z0-9_]+$/"))?;
    let mut config = match body.api_json {
        Sent::Absent => ApiJson::default(),
        Sent::Value(config) => config,
        Sent::Null => return Err(ApiError::bad_request("Field `api_json` must be object")),
    };
    if config.not_an_object {
        return Err(ApiError::bad_request("Field `api_json` must be object"));
    }
    let Some(MaybeString(Some(api))) = body.api.or(body.api_type) else {
        return Err(ApiError::bad_request("Field `api_type` is required"));
    };
    // HMA sets `name` and `api` itself and takes `enabled` (default true).
    config
        .fields
        .retain(|(key, _)| key != "name" && key != "api");
    let enabled = match config.take("enabled") {
        None | Some(Value::Bool(true)) => true,
        Some(Value::Bool(false)) => false,
        Some(_) => {
            return Err(ApiError::bad_request(
                "Failed to parse `api_json` - `enabled` must be a boolean",
            ));
        }
    };
    let config = config.into_value();
    let settings = state.settings.exchanges.clone();
    blocking(&state, move |engine| {
        engine.create_exchange(&name, &api, &config, &caller.actor())?;
        if !enabled {
            engine.set_exchange_enabled(&name, false, &caller.actor())?;
        }
        Ok(())
    })
    .await?;
    // The first fetch of an enabled exchange starts now rather than at the
    // next periodic run.
    let engine = Arc::clone(&state.engine);
    if enabled {
        tokio::task::spawn_blocking(move || {
            if let Ok(name) = bank.parse::<BankName>()
                && let Err(error) = engine.fetch_exchange(&name, &settings)
            {
                tracing::error!(exchange = %bank, %error, "first fetch failed");
            }
        });
    }
    Ok((
        StatusCode::CREATED,
        Json(Message::new("Created successfully")),
    ))
}

/// Body of `POST /c/exchanges`: `{"bank", "api", "api_json"?}` (`api_type`
/// is taken for `api`, as HMA's message names it).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct NewExchangeBody {
    #[serde(default)]
    bank: Option<MaybeString>,
    #[serde(default)]
    api: Option<MaybeString>,
    #[serde(default)]
    api_type: Option<MaybeString>,
    #[serde(default)]
    api_json: Sent<ApiJson>,
}

/// An exchange type's settings as sent (`api_json`): field name → a
/// scalar. A list or object value is skipped unread (no built-in type
/// takes one) and refused by the type's checks.
#[derive(Debug, Default)]
pub(crate) struct ApiJson {
    fields: Vec<(String, Value)>,
    /// The value was not a JSON object.
    not_an_object: bool,
}

/// At most this many settings: the built-in types have two.
const MAX_API_FIELDS: usize = 64;

impl ApiJson {
    fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        let at = self.fields.iter().position(|(k, _)| k == key)?;
        Some(self.fields.remove(at).1)
    }

    fn into_value(self) -> Value {
        Value::Object(self.fields.into_iter().collect())
    }
}

impl<'de> serde::Deserialize<'de> for ApiJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = ApiJson;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ApiJson, A::Error> {
                let mut config = ApiJson::default();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<Scalar>()?.0;
                    put_field::<_, A::Error>(&mut config.fields, key, value, MAX_API_FIELDS)?;
                }
                Ok(config)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ApiJson, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ApiJson {
                    fields: Vec::new(),
                    not_an_object: true,
                })
            }
            fn visit_bool<E>(self, _: bool) -> Result<ApiJson, E> {
                Ok(ApiJson {
                    fields: Vec::new(),
                    not_an_object: true,
                })
            }
            fn visit_i64<E>(self, _: i64) -> Result<ApiJson, E> {
                Ok(ApiJson {
                    fields: Vec::new(),
                    not_an_object: true,
                })
            }
            fn visit_u64<E>(self, _: u64) -> Result<ApiJson, E> {
                Ok(ApiJson {
                    fields: Vec::new(),
                    not_an_object: true,
                })
            }
            fn visit_f64<E>(self, _: f64) -> Result<ApiJson, E> {
                Ok(ApiJson {
                    fields: Vec::new(),
                    not_an_object: true,
                })
            }
            fn visit_str<E>(self, _: &str) -> Result<ApiJson, E> {
                Ok(ApiJson {
                    fields: Vec::new(),
                    not_an_object: true,
                })
            }
        }
        d.deserialize_any(Fields)
    }
}

/// One setting's value: a JSON scalar, or an empty list standing for a
/// list or object skipped unread.
struct Scalar(Value);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct One;
        impl<'de> Visitor<'de> for One {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a setting")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Value::String(v.to_owned())))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(json!(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(json!(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(json!(v)))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(json!([])))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(json!([])))
            }
        }
        d.deserialize_any(One)
    }
}

/// Exchange types whose checkpoints carry no time: python-threatexchange's
/// `sample` (`NoCheckpointing`) and `local_file` (the base checkpoint) give
/// no progress timestamp, so HMA shows `checkpoint_ts` as `null` for them.
const UNTIMED_CHECKPOINTS: [&str; 2] = ["sample", "local_file"];

fn status_answer(api: &str, status: vigil_store::ExchangeStatus) -> answers::ExchangeStatus {
    answers::ExchangeStatus {
        checkpoint_ts: status
            .checkpoint_ts
            .filter(|_| !UNTIMED_CHECKPOINTS.contains(&api)),
        running_fetch_start_ts: status.running_fetch_start_ts,
        last_fetch_complete_ts: status.last_fetch_complete_ts,
        last_fetch_succeeded: status.last_fetch_succeeded,
        up_to_date: status.up_to_date,
        fetched_items: status.fetched_items,
        last_error: status.last_error,
    }
}

/// The exchange named in a path: a malformed name cannot exist.
async fn find_exchange(state: &AppState, name: String) -> ApiResult<Exchange> {
    let Ok(bank) = name.parse::<BankName>() else {
        return Err(vigil_engine::Error::from(Missing::Exchange(name)).into());
    };
    blocking(state, move |engine| Ok(engine.exchange(&bank)?)).await
}

/// One exchange: name, type, enabled and its type's settings.
#[utoipa::path(get, path = "/c/exchange/{name}", tag = "exchanges",
    params(("name" = String, Path, description = "exchange name")),
    responses((status = 200, description = "The exchange", body = answers::Exchange,
        example = json!({"name": "PARTNER", "api": "local_file", "enabled": true, "filename": "partner.txt"})),
        (status = 404, description = "Exchange 'X' not found", body = Message)))]
async fn get_exchange(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<answers::Exchange>> {
    Ok(Json((&find_exchange(&state, name).await?).into()))
}

/// Fetch progress of an exchange.
#[utoipa::path(get, path = "/c/exchange/{name}/status", tag = "exchanges",
    params(("name" = String, Path, description = "exchange name")),
    responses((status = 200, description = "Fetch status", body = answers::ExchangeStatus,
        example = json!({"checkpoint_ts": null, "running_fetch_start_ts": null, "last_fetch_complete_ts": 1_764_328_000, "last_fetch_succeeded": true, "up_to_date": true, "fetched_items": 18, "last_error": null})),
        (status = 404, description = "Exchange 'X' not found", body = Message)))]
async fn exchange_status(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<answers::ExchangeStatus>> {
    let exchange = find_exchange(&state, name).await?;
    Ok(Json(status_answer(&exchange.api, exchange.status)))
}

/// Fetches an exchange now and returns its status (Vigil's; HMA only has
/// a development route for this).
#[utoipa::path(post, path = "/c/exchange/{name}/fetch", tag = "exchanges",
    params(("name" = String, Path, description = "exchange name")),
    responses((status = 200, description = "Fetch status after the fetch", body = answers::ExchangeStatus),
        (status = 404, description = "Exchange 'X' not found", body = Message)))]
async fn fetch_now(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<answers::ExchangeStatus>> {
    let exchange = find_exchange(&state, name).await?;
    let api = exchange.api.clone();
    let settings = state.settings.exchanges.clone();
    let status = blocking(&state, move |engine| {
        Ok(engine.fetch_exchange(&exchange.name, &settings)?)
    })
    .await?;
    Ok(Json(status_answer(&api, status)))
}

/// Turns an exchange's fetching on or off: `{"enabled": bool}`.
#[utoipa::path(put, path = "/c/exchange/{name}", tag = "exchanges",
    params(("name" = String, Path, description = "exchange name")),
    request_body(content = UpdateExchangeBody, example = json!({"enabled": false})),
    responses((status = 200, description = "The exchange", body = answers::Exchange),
        (status = 422, description = "`enabled` is not a boolean", body = Message),
        (status = 404, description = "Exchange 'X' not found", body = Message)))]
async fn update_exchange(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Typed(body): Typed<UpdateExchangeBody>,
) -> ApiResult<Json<answers::Exchange>> {
    let exchange = find_exchange(&state, name).await?;
    let Some(LaxBool(enabled)) = body.enabled else {
        return Ok(Json((&exchange).into()));
    };
    let updated = blocking(&state, move |engine| {
        Ok(engine.set_exchange_enabled(&exchange.name, enabled, &caller.actor())?)
    })
    .await?;
    Ok(Json((&updated).into()))
}

/// Body of `PUT /c/exchange/{name}`, read as HMA's pydantic model reads
/// it.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateExchangeBody {
    /// Whether it is fetched: a boolean, `1`/`0` or a boolean string.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    enabled: Option<LaxBool>,
}

/// Deletes an exchange with its bank and contents; succeeds whether or not
/// it existed.
#[utoipa::path(delete, path = "/c/exchange/{name}", tag = "exchanges",
    params(("name" = String, Path, description = "exchange name")),
    responses((status = 200, description = "`{\"message\": \"Exchange deleted\"}`", body = Message)))]
async fn delete_exchange(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<Message>> {
    if let Ok(bank) = name.parse::<BankName>() {
        blocking(&state, move |engine| {
            Ok(engine.delete_exchange(&bank, &caller.actor())?)
        })
        .await?;
    }
    Ok(Json(Message::new("Exchange deleted")))
}
