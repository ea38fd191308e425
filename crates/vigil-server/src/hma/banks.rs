//! `/c`: banks, their contents and the server's signal and content types.
//! Needs the curator role.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vigil_store::BankName;

use super::answers::{
    Bank, ContentTypeConfig, Message, SignalTypeConfig, SignalTypeIndex, SignalTypeIndexes,
};
use super::body::{LaxBool, LaxFloat, Sent, Typed};
use super::{ApiResult, blocking, hma_signal_types, path_bank, unix_now};
use crate::auth::Caller;
use crate::{ApiError, AppState, media};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_banks, create_bank))
        .routes(routes!(get_bank, update_bank, delete_bank))
        .routes(routes!(signal_types))
        .routes(routes!(signal_type_index))
        .routes(routes!(content_types))
        .merge(super::contents::routes())
}

fn parse_bank_name(name: &str) -> ApiResult<BankName> {
    name.parse()
        .map_err(|_| ApiError::bad_request("Bank names must be UPPER_WITH_UNDERSCORE"))
}

/// Every bank.
#[utoipa::path(get, path = "/c/banks", tag = "banks",
    responses((status = 200, description = "Banks by name", body = Vec<Bank>,
        example = json!([{"name": "MY_BANK", "matching_enabled_ratio": 1.0}]))))]
async fn list_banks(State(state): State<AppState>) -> ApiResult<Json<Vec<Bank>>> {
    let banks = blocking(&state, |engine| Ok(engine.banks()?)).await?;
    Ok(Json(banks.iter().map(Bank::from).collect()))
}

/// Body of `POST /c/banks`, as HMA's pydantic model reads it: numbers may
/// be numeric strings or booleans, booleans `"yes"`, `1` and the like.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct NewBankBody {
    /// `UPPER_WITH_UNDERSCORE`.
    name: String,
    /// Share of lookups the bank takes part in, 0–1 (default 1.0, which
    /// wins over `enabled` unless sent as `null`, as in HMA).
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    enabled_ratio: Sent<LaxFloat>,
    /// Ratio 1 or 0, used only when `enabled_ratio` is sent as `null`.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    enabled: Option<LaxBool>,
}

impl NewBankBody {
    /// HMA's rule: the ratio sent, else 1.0 when it is absent (pydantic's
    /// default), else (sent as `null`) `enabled` as 1 or 0, else 1.0.
    fn ratio(&self) -> f64 {
        match (&self.enabled_ratio, self.enabled) {
            (Sent::Value(LaxFloat(ratio)), _) => *ratio,
            (Sent::Absent, _) | (Sent::Null, None) => 1.0,
            (Sent::Null, Some(LaxBool(on))) => f64::from(u8::from(on)),
        }
    }
}

/// Creates a bank.
#[utoipa::path(post, path = "/c/banks", tag = "banks", request_body = NewBankBody,
    responses(
        (status = 201, description = "The bank", body = Bank),
        (status = 400, description = "Bank names must be UPPER_WITH_UNDERSCORE; ratio outside 0–1", body = Message),
        (status = 403, description = "Bank already exists", body = Message),
        (status = 422, description = "A field of the wrong type, or no name", body = Message),
    ))]
async fn create_bank(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Typed(body): Typed<NewBankBody>,
) -> ApiResult<(StatusCode, Json<Bank>)> {
    let name = parse_bank_name(&body.name)?;
    let ratio = body.ratio();
    let bank = blocking(&state, move |engine| {
        Ok(engine.create_bank(&name, ratio, &caller.actor())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Bank::from(&bank))))
}

/// One bank.
#[utoipa::path(get, path = "/c/bank/{name}", tag = "banks",
    params(("name" = String, Path, description = "bank name")),
    responses((status = 200, description = "The bank", body = Bank),
        (status = 404, description = "bank 'X' not found", body = Message)))]
async fn get_bank(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Bank>> {
    let name = path_bank(&name)?;
    let bank = blocking(&state, move |engine| Ok(engine.bank(&name)?)).await?;
    Ok(Json(Bank::from(&bank)))
}

/// Body of `PUT /c/bank/{name}`, read as HMA's pydantic model reads it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateBankBody {
    /// New name.
    #[serde(default)]
    name: Option<String>,
    /// `true`/`false`: ratio 1 or 0.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    enabled: Option<LaxBool>,
    /// New ratio, 0–1; a number, numeric string or boolean.
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    enabled_ratio: Option<LaxFloat>,
}

/// Renames a bank, then applies `enabled` (ratio 1 or 0), then
/// `enabled_ratio`, as HMA does.
#[utoipa::path(put, path = "/c/bank/{name}", tag = "banks", request_body = UpdateBankBody,
    params(("name" = String, Path, description = "bank name")),
    responses((status = 200, description = "The bank", body = Bank),
        (status = 400, description = "Bad new name or ratio", body = Message),
        (status = 403, description = "Bank name already exists", body = Message),
        (status = 404, description = "Bank not found", body = Message),
        (status = 422, description = "A field of the wrong type", body = Message)))]
async fn update_bank(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Typed(body): Typed<UpdateBankBody>,
) -> ApiResult<Json<Bank>> {
    let not_found = |e: ApiError| e.worded(StatusCode::NOT_FOUND, "Bank not found");
    let current = path_bank(&name).map_err(not_found)?;
    let new_name = body.name.as_deref().map(parse_bank_name).transpose()?;
    let ratio = body
        .enabled_ratio
        .map(|LaxFloat(ratio)| ratio)
        .or(body.enabled.map(|LaxBool(on)| f64::from(u8::from(on))));
    let bank = blocking(&state, move |engine| {
        engine.bank(&current).map_err(|e| not_found(e.into()))?;
        engine
            .update_bank(&current, new_name.as_ref(), ratio, &caller.actor())
            .map_err(|e| {
                ApiError::from(e).worded(StatusCode::FORBIDDEN, "Bank name already exists")
            })
    })
    .await?;
    Ok(Json(Bank::from(&bank)))
}

/// Deletes a bank and its contents; `Done` whether or not it existed.
#[utoipa::path(delete, path = "/c/bank/{name}", tag = "banks",
    params(("name" = String, Path, description = "bank name")),
    responses((status = 200, description = "`{\"message\": \"Done\"}`", body = Message)))]
async fn delete_bank(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<Message>> {
    if let Ok(name) = name.parse::<BankName>() {
        blocking(&state, move |engine| {
            Ok(engine.delete_bank(&name, &caller.actor())?)
        })
        .await?;
    }
    Ok(Json(Message::new("Done")))
}

/// Signal types served.
#[utoipa::path(get, path = "/c/signal_type", tag = "config",
    responses((status = 200, description = "Signal types", body = Vec<SignalTypeConfig>,
        example = json!([{"name": "pdq", "enabled_ratio": 1.0}]))))]
async fn signal_types() -> Json<Vec<SignalTypeConfig>> {
    Json(
        hma_signal_types()
            .map(|signal_type| SignalTypeConfig {
                name: signal_type.as_str(),
                enabled_ratio: 1.0,
            })
            .collect(),
    )
}

/// Query of `GET /c/signal_type/index`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SignalIndexQuery {
    /// Only this signal type.
    signal_type: Option<String>,
}

/// Store and index sizes per signal type. The index follows the store's
/// change log, so it is never out of date.
#[utoipa::path(get, path = "/c/signal_type/index", tag = "config", params(SignalIndexQuery),
    responses((status = 200, description = "By signal type", body = SignalTypeIndexes,
        example = json!({"pdq": {"db_size": 18, "index_size": 18, "index_out_of_date": false, "newest_db_item": 1_764_328_000, "index_built_to": 1_764_328_000}})),
        (status = 400, description = "Unknown signal type", body = Message)))]
async fn signal_type_index(
    State(state): State<AppState>,
    Query(query): Query<SignalIndexQuery>,
) -> ApiResult<Json<SignalTypeIndexes>> {
    let now = unix_now();
    let mut body = SignalTypeIndexes::default();
    for (signal_type, size) in super::index_sizes(&state, query.signal_type.as_deref())? {
        let index = SignalTypeIndex {
            db_size: size,
            index_size: size,
            index_out_of_date: false,
            newest_db_item: now,
            index_built_to: now,
        };
        body.0.insert(signal_type.to_string(), index);
    }
    Ok(Json(body))
}

/// Content types accepted.
#[utoipa::path(get, path = "/c/content_type", tag = "config",
    responses((status = 200, description = "Content types", body = Vec<ContentTypeConfig>,
        example = json!([{"name": "photo", "enabled": true}, {"name": "video", "enabled": true}]))))]
async fn content_types() -> Json<Vec<ContentTypeConfig>> {
    Json(
        media::CONTENT_TYPES
            .iter()
            .map(|kind| ContentTypeConfig {
                name: kind.name(),
                enabled: true,
            })
            .collect(),
    )
}
